"""The CLI on Spark: `--engine spark` over logs and over the Parquet store that
`splhunt ingest --format parquet` writes, with the rows DuckDB gives."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from splhunt.cli.main import app

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data" / "samples"
CONTENT = REPO / "tests" / "runner" / "fixtures" / "content"
DETECTION = SAMPLES / "windows_devtunnels_image_loaded.yml"


def _json(args: list[str]) -> object:
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_cli_engine_spark_same_as_duckdb(spark, tmp_path: Path) -> None:  # noqa: ANN001 - shared session
    out = tmp_path / "pq"
    res = CliRunner().invoke(app, ["ingest", str(SAMPLES / "logs"), "--format", "parquet", "--out", str(out)])
    assert res.exit_code == 0, res.output
    spl = "`sysmon` EventID=7 | stats count by loaded_file process_name"
    duck = _json(["search", spl, str(SAMPLES / "logs"), "-f", "json"])
    assert duck
    # logs ingested on the driver, then searched on Spark; and the Parquet store read by Spark
    assert _json(["search", spl, str(SAMPLES / "logs"), "-f", "json", "--engine", "spark"]) == duck
    assert _json(["search", spl, "--parquet", str(out), "-f", "json", "--engine", "spark"]) == duck

    run = _json(["run", str(DETECTION), "--parquet", str(out), "-f", "json", "--engine", "spark"])
    want = _json(["run", str(DETECTION), "--logs", str(SAMPLES / "logs"), "-f", "json"])
    assert run == want and len(run[0]["results"]) == 1

    hunt = ["hunt", "--parquet", str(out), "--content", str(CONTENT), "--detection", "Fixture Devtunnels Image Loaded", "-f", "json"]
    h_spark, h_duck = _json([*hunt, "--engine", "spark"]), _json(hunt)
    assert h_spark["summary"]["findings"] == h_duck["summary"]["findings"] == 1
    assert h_spark["entities"] == h_duck["entities"]
    assert [f["result"] for f in h_spark["findings"]] == [f["result"] for f in h_duck["findings"]]
