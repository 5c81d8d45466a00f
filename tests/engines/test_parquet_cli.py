"""`splhunt ingest --format parquet --out URI` and `--parquet URI` on search, run and hunt
(DuckDB here; tests/spark/test_cli_spark.py runs the same store on Spark)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from splhunt.cli.main import app
from splhunt.engines.parquet import read_sidecar

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "data" / "samples"
CONTENT = REPO / "tests" / "runner" / "fixtures" / "content"
DETECTION = SAMPLES / "windows_devtunnels_image_loaded.yml"


def _ingest(out: Path, *extra: str) -> None:
    res = CliRunner().invoke(app, ["ingest", str(SAMPLES / "logs"), "--format", "parquet", "--out", str(out), *extra])
    assert res.exit_code == 0, res.output


def test_ingest_writes_the_layout_and_search_reads_it(tmp_path: Path) -> None:
    out = tmp_path / "pq"
    _ingest(out)
    meta = read_sidecar(out)
    assert meta["events"] == 28
    days = sorted(p.parent.name for p in (out / "events").rglob("*.parquet"))
    assert days and all(d.startswith("date=") for d in days)
    runner = CliRunner()
    spl = "`sysmon` EventID=7 | stats count by loaded_file"
    got = runner.invoke(app, ["search", spl, "--parquet", str(out), "-f", "json"])
    want = runner.invoke(app, ["search", spl, str(SAMPLES / "logs"), "-f", "json"])
    assert got.exit_code == 0 and want.exit_code == 0, got.output + want.output
    assert json.loads(got.stdout) == json.loads(want.stdout)
    assert {"loaded_file": "devtunnel.dll", "count": 2} in json.loads(got.stdout)


def test_ingest_rewrites_the_layout_whole(tmp_path: Path) -> None:
    """A second write replaces the first: no day of an earlier write is left behind."""
    out = tmp_path / "pq"
    _ingest(out)
    stale = out / "events" / "sourcetype=Old" / "date=1999-01-01"
    stale.mkdir(parents=True)
    (stale / "data_0.parquet").write_bytes(b"")
    _ingest(out)
    assert not stale.exists()
    assert read_sidecar(out)["events"] == 28


def test_ingest_with_db_exports_the_whole_store(tmp_path: Path) -> None:
    db, out = tmp_path / "s.duckdb", tmp_path / "pq"
    _ingest(out, "--db", str(db))
    assert db.exists() and read_sidecar(out)["events"] == 28


def test_run_and_hunt_over_parquet(tmp_path: Path) -> None:
    out = tmp_path / "pq"
    _ingest(out)
    runner = CliRunner()
    res = runner.invoke(app, ["run", str(DETECTION), "--parquet", str(out), "-f", "json"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)[0]["results"]) == 1
    res = runner.invoke(app, ["hunt", "--parquet", str(out), "--content", str(CONTENT),
                              "--detection", "Fixture Devtunnels Image Loaded", "-f", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["summary"]["events"] == 28
    assert doc["summary"]["detections_run"] == 1 and doc["summary"]["findings"] == 1


def test_option_errors() -> None:
    runner = CliRunner()
    for args in (
        ["ingest", str(SAMPLES / "logs"), "--format", "parquet"],          # no --out
        ["ingest", str(SAMPLES / "logs")],                                # duckdb needs --db
        ["search", "x", str(SAMPLES / "logs"), "--parquet", "/nowhere"],  # --parquet is read-only
        ["search", "x", "--parquet", "/a", "--db", "/b"],
        ["search", "x", str(SAMPLES / "logs"), "--engine", "nosuch"],
        ["search", "x", str(SAMPLES / "logs"), "--spark-master", "local[1]"],  # needs --engine spark
    ):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
    res = runner.invoke(app, ["search", "x", "--parquet", "/nowhere/at/all"])
    assert res.exit_code == 2 and "not a splhunt Parquet layout" in res.output
