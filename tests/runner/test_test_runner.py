"""`splhunt test` over the fixture content and an attack_data tree built from the sample."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from splhunt.cli.main import app
from splhunt.runner.common import Content
from splhunt.runner.testing import StoreCache, load_detections, run_tests

EXPECTED = {
    "Fixture Devtunnels Image Loaded": ("pass", 1),
    "Fixture Devtunnels User Risk": ("fail", 1),
    "Fixture Devtunnels Missing Data": ("skipped", 0),
    "Fixture Unsupported Command": ("error", 0),
    "Fixture No Results": ("fail", 0),
    "Fixture Hunting": ("skipped", 0),  # no tests
}


@pytest.fixture(scope="module")
def run(content_dir: Path, attack_root: Path) -> tuple[dict[str, Any], StoreCache]:
    dets, errors = load_detections([content_dir / "detections"])
    assert not errors
    content = Content.load(content_dir)
    cache = StoreCache(content)
    outs = run_tests(dets, attack_root, content, cache=cache)
    return {o.detection: o for o in outs}, cache


def test_statuses_and_reasons(run: tuple[dict[str, Any], StoreCache]) -> None:
    outs, _ = run
    for name, (status, results) in EXPECTED.items():
        o = outs[name]
        assert (o.status, o.results) == (status, results), (name, o)
    assert "user" in outs["Fixture Devtunnels User Risk"].reason
    assert outs["Fixture Devtunnels Missing Data"].reason.startswith("data missing: https://")
    assert "frobnicate" in outs["Fixture Unsupported Command"].reason
    assert outs["Fixture No Results"].reason == "no results"
    assert outs["Fixture Hunting"].reason == "no tests"


def test_a_shared_dataset_is_read_once(run: tuple[dict[str, Any], StoreCache]) -> None:
    outs, cache = run
    ran = [o for o in outs.values() if o.status in ("pass", "fail", "error")]
    assert len(ran) == 4  # four tests read the same file with the same source/sourcetype
    assert cache.reads == 1


def test_datasets_root_is_accepted(content_dir: Path, attack_root: Path) -> None:
    dets, _ = load_detections([content_dir / "detections" / "devtunnel_missing_data.yml",
                               content_dir / "detections" / "unsupported_command.yml"])
    outs = run_tests(dets, attack_root / "datasets", Content.load(content_dir))
    # found under the datasets root: the unsupported search runs (error), not skipped
    assert [o.status for o in outs] == ["skipped", "error"]


def test_cli_json_junit_and_exit_code(content_dir: Path, attack_root: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    det = content_dir / "detections" / "devtunnel_image_loaded.yml"
    res = runner.invoke(app, ["test", str(det), "--attack-data", str(attack_root), "-f", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data == [{"detection": "Fixture Devtunnels Image Loaded", "test": "True Positive Test",
                     "status": "pass", "results": 1, "reason": ""}]

    res = runner.invoke(app, ["test", str(content_dir / "detections"), "--attack-data", str(attack_root),
                              "-f", "junit", "-o", str(tmp_path / "r.xml")])
    assert res.exit_code == 1  # a failing test fails the run
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("9", "2", "1", "5")
    cases = {c.get("classname"): c for c in suite.findall("testcase")}
    assert cases["Fixture No Results"].find("failure").get("message") == "no results"  # type: ignore[union-attr]
    assert cases["Fixture Devtunnels Missing Data"].find("skipped") is not None

    # table output, skips only: exit code 0
    det = content_dir / "detections" / "devtunnel_missing_data.yml"
    res = runner.invoke(app, ["test", str(det), "--attack-data", str(attack_root)])
    assert res.exit_code == 0, res.output
    assert "data missing" in res.output
