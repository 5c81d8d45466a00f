"""The Parquet layout read by Spark itself gives the rows DuckDB gives from the store."""

from __future__ import annotations

from pathlib import Path

from sparkdiff import norm_rows

from splhunt.api import Session
from splhunt.engines.parquet import parquet_session, write_parquet

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def test_spark_reads_the_parquet_layout(spark, tmp_path: Path) -> None:  # noqa: ANN001
    duck = Session()
    duck.ingest([SAMPLES / "logs"])
    write_parquet(duck.store, tmp_path)
    spk = parquet_session(tmp_path, engine="spark", engine_options={"spark": spark})
    for spl in [
        "`sysmon` EventID=7 | stats count by loaded_file process_name",
        "`sysmon` | table _time sourcetype EventID ProcessId ProcessID Image | head 20",
    ]:
        want, got = duck.search(spl), spk.search(spl)
        assert got.columns == want.columns
        assert norm_rows(got.rows) == norm_rows(want.rows)


def test_cluster_path_reads_sidecars_through_spark(spark, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """A URI the driver cannot read (object storage): Spark reads the sidecars, the driver
    keeps a catalog store built from them, and `hunt` selects by the inventory sidecar."""
    import json

    from typer.testing import CliRunner

    import splhunt.engines.parquet as pq
    from splhunt.cli.main import app

    duck = Session()
    duck.ingest([SAMPLES / "logs"])
    write_parquet(duck.store, tmp_path)
    monkeypatch.setattr(pq, "_is_local", lambda uri: False)
    meta = pq.read_sidecar_spark(spark, str(tmp_path))
    assert meta == pq.read_sidecar(tmp_path)
    spk = parquet_session(tmp_path, engine="spark", engine_options={"spark": spark})
    assert spk.store.count() == len(meta["inventory"]) < meta["events"]  # the driver holds no events
    spl = "`sysmon` EventID=7 | stats count by loaded_file process_name"
    assert norm_rows(spk.search(spl).rows) == norm_rows(duck.search(spl).rows)

    content = SAMPLES.parents[1] / "tests" / "runner" / "fixtures" / "content"
    args = ["hunt", "--parquet", str(tmp_path), "--content", str(content), "-f", "json",
            "--detection", "Fixture Devtunnels Image Loaded"]
    res = CliRunner().invoke(app, [*args, "--engine", "spark"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["summary"]["events"] == meta["events"] == 28
    assert doc["summary"]["findings"] == 1
