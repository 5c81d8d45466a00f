"""Findings from real ESCU detections in ../shared/escu (skipped when it is absent)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from splhunt.content import load_content, load_detection
from splhunt.findings import build_findings, risk_events

pytestmark = pytest.mark.shared


def test_real_tags_detection_finding(escu_root: Path) -> None:
    det = load_detection(escu_root / "detections/endpoint/account_discovery_with_net_app.yml")
    row = {
        "user": "ATTACKRANGE\\Administrator",
        "dest": "win-dc-6764986.attackrange.local",
        "process_name": "net.exe",
        "firstTime": "2020-10-08T11:03:46",
        "lastTime": "2020-10-08T11:03:47",
        "count": 4,
    }
    (f,) = build_findings(det, [row])
    assert f.risk_form == "tags"
    assert [(o.type, o.value, o.score) for o in f.risk_objects] == [
        ("user", "ATTACKRANGE\\Administrator", 5),
        ("system", "win-dc-6764986.attackrange.local", 5),
    ]
    assert [(t.type, t.value) for t in f.threat_objects] == [("process", "net.exe")]
    assert f.risk_score == 10
    assert f.message == (
        "Suspicious net.exe usage detected on endpoint win-dc-6764986.attackrange.local "
        "by user ATTACKRANGE\\Administrator."
    )
    assert f.time == "2020-10-08T11:03:46"
    assert f.mitre_attack_ids == det.tags.mitre_attack_id
    evs = risk_events([f])
    assert [e["normalized_risk_object"] for e in evs] == [
        "attackrange\\administrator",
        "win-dc-6764986.attackrange.local",
    ]
    assert all(e["threat_object"] == ["net.exe"] for e in evs)
    # drilldowns: original search spliced in, tokens filled
    assert any(det.search in d.search for d in f.drilldowns)
    assert all("$user$" not in d.search and "$dest$" not in d.search for d in f.drilldowns)


def test_real_multivalue_email_recipients(escu_root: Path) -> None:
    det = load_detection(escu_root / "detections/cloud/gsuite_email_suspicious_attachment.yml")
    row = {"source.address": "evil@x.test", "destination{}.address": ["a@corp.test", "b@corp.test"]}
    (f,) = build_findings(det, [row])
    assert [(o.type, o.value) for o in f.risk_objects] == [
        ("user", "a@corp.test"),
        ("user", "b@corp.test"),
    ]
    assert f.message == "Suspicious email from evil@x.test to a@corp.test b@corp.test"
    assert len(risk_events([f])) == 2


def test_every_production_detection_builds_a_full_finding(escu_root: Path) -> None:
    """A row holding every token field renders every message with no token left."""
    lib = load_content(escu_root)
    token = re.compile(r"\$([^\s$](?:[^$\r\n]*[^\s$])?)\$")
    for det in lib.production():
        spec = det.risk()
        names = set(spec.fields) | set(token.findall(spec.message or ""))
        row = {n: f"v_{n}" for n in names}
        (f,) = build_findings(det, [row])
        assert len(f.risk_objects) == len(spec.risk_objects), det.name
        assert len(f.threat_objects) == len(spec.threat_objects), det.name
        assert token.search(f.message) is None, (det.name, f.message)
        assert len(f.drilldowns) == len(det.drilldown_searches)
        assert all("%original_detection_search%" not in d.search for d in f.drilldowns)
