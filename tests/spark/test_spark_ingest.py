"""Ingest on Spark (`splhunt ingest --engine spark`) gives the store `splhunt ingest` gives:
same events, same fields, same report, same rows on both engines."""

from __future__ import annotations

from pathlib import Path

from sparkdiff import norm_rows

from splhunt.api import Session
from splhunt.engines.parquet import parquet_session, read_sidecar
from splhunt.engines.spark_ingest import ingest_on_spark

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"

SEARCHES = [
    "`sysmon` | stats count by EventID Image process_name",
    "source=\"XmlWinEventLog:Security\" | stats count by EventCode user dest",
    "* | stats count by sourcetype source",
    "* | table _time host source sourcetype EventCode EventID ProcessId ProcessID | sort 0 _time EventCode | head 200",
    "index=* CommandLine=* | stats values(CommandLine) as cmd dc(host) as hosts by EventCode",
]


def test_spark_ingest_matches_local_ingest(spark, tmp_path: Path) -> None:  # noqa: ANN001
    local = Session()
    want = local.ingest([FIXTURES])
    meta, got = ingest_on_spark(spark, [str(FIXTURES)], str(tmp_path / "lake"))

    assert got.read == want.read > 100
    assert got.skipped == want.skipped
    assert got.skipped_by_reason == want.skipped_by_reason
    assert meta["events"] == want.read
    # the same fields with the same kinds (column names may differ: see spark_ingest)
    kinds = {f["field"]: f["kind"] for f in meta["fields"]}
    assert kinds == {f: fc.kind for f, fc in local.store.fields.items()}
    assert read_sidecar(tmp_path / "lake")["sources"] == sorted(meta["sources"])

    duck = parquet_session(tmp_path / "lake")
    spk = parquet_session(tmp_path / "lake", engine="spark", engine_options={"spark": spark})
    for spl in SEARCHES:
        base = local.search(spl)
        assert base.rows, spl
        for other in (duck, spk):
            res = other.search(spl)
            assert res.columns == base.columns, spl
            assert norm_rows(res.rows) == norm_rows(base.rows), spl


def test_spark_ingest_reports_bad_records_and_keeps_good_ones(spark, tmp_path: Path) -> None:  # noqa: ANN001
    good = (FIXTURES / "json_lines" / "sd_cmd_netsh_minimal.jsonl").read_text(encoding="utf-8").splitlines()
    src = tmp_path / "in"
    src.mkdir()
    lines = [good[0], '{"EventID": 1, "broken', *good[1:]]
    (src / "mixed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    meta, report = ingest_on_spark(spark, [str(src)], str(tmp_path / "lake"))
    assert report.read == meta["events"] == len(good)
    assert report.skipped == 1
    assert any("mixed.jsonl" in e and "line 2" in e for e in report.errors), report.errors
    assert sum(report.skipped_by_reason.values()) == 1
