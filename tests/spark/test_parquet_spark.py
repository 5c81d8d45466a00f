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
