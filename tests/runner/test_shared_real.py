"""`splhunt test` and `splhunt hunt` over the real ESCU snapshot and logs in ../shared
(skipped, with the reason, when ../shared is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from splhunt.engines.persist import ingest_incremental, open_store
from splhunt.runner.common import Content
from splhunt.runner.hunt import filter_detections, hunt
from splhunt.runner.testing import load_detections, run_tests

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def escu(shared: Path) -> Content:
    return Content.load(shared / "escu")


def test_escu_unit_tests_with_local_attack_data(shared: Path, escu: Content) -> None:
    det_dir = shared / "escu" / "detections" / "endpoint"
    names = [
        "windows_indirect_command_execution_via_pcalua.yml",  # tags-form risk, tstats
        "detect_certify_command_line_arguments.yml",  # multi-file test data
        "access_lsass_memory_for_dump_creation.yml",  # data absent from ../shared
    ]
    dets, errors = load_detections([det_dir / n for n in names])
    assert not errors
    outs = {o.detection: o for o in run_tests(dets, shared / "data" / "attack_data", escu)}
    assert outs["Windows Indirect Command Execution Via pcalua"].status == "pass"
    assert outs["Windows Indirect Command Execution Via pcalua"].results >= 1
    assert outs["Detect Certify Command Line Arguments"].status == "pass"
    assert outs["Access LSASS Memory for Dump Creation"].status == "skipped"
    assert outs["Access LSASS Memory for Dump Creation"].reason.startswith("data missing")


def test_hunt_certify_abuse(shared: Path, escu: Content) -> None:
    logs = shared / "data" / "attack_data" / "datasets" / "attack_techniques" / "T1649" / "certify_abuse"
    st = open_store(None)
    rep = ingest_incremental([logs], st)
    assert rep.report.read > 0
    dets = filter_detections(escu.lib.detections.values(), mitre=["T1649"])
    res = hunt(st, escu, dets, timeout=300)
    run = {s.detection.name: s for s in res.statuses if s.status == "run"}
    assert run["Detect Certify Command Line Arguments"].findings >= 1
    # PowerShell 4104 events are in the logs, Sysmon 1 and Security 4688 too
    assert "Detect Certify With PowerShell Script Block Logging" in run
    ents = {e.risk_object_type for e in res.entities}
    assert "system" in ents
    top = res.entities[0]
    assert "Credential Access" in top.tactics and top.total_score > 0
    assert top.first_seen is not None and top.last_seen is not None
