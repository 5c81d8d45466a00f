"""build_findings / risk_events on committed fixtures (no ../shared needed)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from splhunt.content import Detection, load_detection
from splhunt.findings import (
    Finding,
    FindingRiskObject,
    FindingThreatObject,
    build_findings,
    canonical_json,
    finding_id,
    render_tokens,
    risk_events,
)


@pytest.fixture(scope="module")
def seed(fixtures_dir: Path) -> Detection:
    return load_detection(fixtures_dir / "windows_devtunnels_image_loaded.yml")


@pytest.fixture(scope="module")
def tags_det(fixtures_dir: Path) -> Detection:
    return load_detection(fixtures_dir / "tags_form_detection.yml")


@pytest.fixture(scope="module")
def rba_det(fixtures_dir: Path) -> Detection:
    return load_detection(fixtures_dir / "rba_form_detection.yml")


SEED_ROW = {
    "dest": "ar-win-dc.attackrange.local",
    "ImageLoaded": r"C:\Users\Administrator\AppData\Local\Temp\.net\devtunnel\abc=\devtunnel.dll",
    "EventID": "7",
    "count": 1,
    "firstTime": "2023-09-12T08:06:31",
    "lastTime": "2023-09-12T08:06:31",
}


# ---------------------------------------------------------------- seed


def test_seed_finding(seed: Detection) -> None:
    (f,) = build_findings(seed, [SEED_ROW])
    assert isinstance(f, Finding)
    assert f.detection_name == "Windows Devtunnels Image Loaded"
    assert f.detection_id == "15bb8eb7-8e68-490b-9032-18f7adce53c7"
    assert (f.detection_type, f.status) == ("Anomaly", "production")
    assert f.description.startswith(
        "Detects image load events associated with Microsoft Devtunnels"
    )
    assert f.description_summary == (
        "Detects image load events associated with Microsoft Devtunnels usage."
    )
    assert f.search_name == "ESCU - Windows Devtunnels Image Loaded - Rule"
    assert f.mitre_attack_ids == ["T1090"] and f.analytic_stories == ["Reverse Network Proxy"]
    assert f.risk_form == "intermediate_findings"
    assert f.risk_objects == [
        FindingRiskObject(
            field="dest", type="system", value="ar-win-dc.attackrange.local", score=20
        )
    ]
    assert f.threat_objects == []
    assert f.risk_score == 20 and f.severity == "informational"
    assert f.message == (
        "Potential Devtunnels image load observed on ar-win-dc.attackrange.local via "
        r"C:\Users\Administrator\AppData\Local\Temp\.net\devtunnel\abc=\devtunnel.dll."
    )
    assert f.time == "2023-09-12T08:06:31" and f.first_time == f.last_time == f.time
    assert f.result == SEED_ROW


def test_seed_drilldowns(seed: Detection) -> None:
    (f,) = build_findings(seed, [SEED_ROW])
    d0, d1 = f.drilldowns
    # `user` is not in the row: its token stays as written
    assert d0.name == 'View the detection results for - "$user$" and "ar-win-dc.attackrange.local"'
    assert d0.search == (
        seed.search + ' | search  user = "$user$" dest = "ar-win-dc.attackrange.local"'
    )
    assert (d0.earliest_offset, d0.latest_offset) == ("$info_min_time$", "$info_max_time$")
    assert d1.search.startswith(
        '| from datamodel Risk.All_Risk | search normalized_risk_object IN ("$user$", '
        '"ar-win-dc.attackrange.local")'
    )
    assert (d1.earliest_offset, d1.latest_offset) == ("7d", "0")


def test_original_search_dollars_are_not_tokens() -> None:
    det = Detection.model_validate(
        {
            "name": "d",
            "id": "1",
            "search": 'search x | rex "(?<dest>\\w+)$" | eval y="$dest$"',
            "drilldown_searches": [
                {"name": "n $dest$", "search": "%original_detection_search% | search dest=$dest$"}
            ],
        }
    )
    (f,) = build_findings(det, [{"dest": "h1"}])
    assert f.drilldowns[0].search == det.search + " | search dest=h1"
    assert f.drilldowns[0].name == "n h1"


# ---------------------------------------------------------------- id


def test_finding_id_is_sha1_of_id_plus_canonical_json(seed: Detection) -> None:
    row = {"b": 2, "a": [1, "x"], "t": dt.datetime(2024, 1, 2, 3, 4, 5)}
    canon = canonical_json(row)
    assert canon == '{"a":[1,"x"],"b":2,"t":"2024-01-02T03:04:05"}'
    expect = hashlib.sha1((seed.id + canon).encode()).hexdigest()[:16]
    assert finding_id(seed.id, row) == expect
    (f,) = build_findings(seed, [row])
    assert f.id == expect and len(f.id) == 16
    # stable across key order and runs; different for another detection or row
    assert finding_id(seed.id, dict(reversed(list(row.items())))) == expect
    assert finding_id("other", row) != expect
    assert finding_id(seed.id, {**row, "b": 3}) != expect


def test_one_finding_per_row_even_duplicates(seed: Detection) -> None:
    fs = build_findings(seed, [SEED_ROW, SEED_ROW, {**SEED_ROW, "dest": "h2"}])
    assert len(fs) == 3
    assert fs[0].id == fs[1].id != fs[2].id
    assert build_findings(seed, []) == []


# ---------------------------------------------------------------- tags form


def test_tags_form_finding(tags_det: Detection) -> None:
    row = {
        "user": "alice",
        "dest": "WS1",
        "process_name": "net.exe",
        "src_ip": ["10.0.0.1", "10.0.0.2"],
        "registry_path": None,
        "_time": 1700000000.0,
        "firstTime": "2023-11-14T22:13:20",
    }
    (f,) = build_findings(tags_det, [row])
    assert f.risk_form == "tags"
    assert f.risk_objects == [
        FindingRiskObject(field="user", type="user", value="alice", score=56),
        FindingRiskObject(field="dest", type="system", value="WS1", score=56),
    ]
    assert f.threat_objects == [
        FindingThreatObject(field="process_name", type="process", value="net.exe"),
        FindingThreatObject(field="src_ip", type="ip_address", value="10.0.0.1"),
        FindingThreatObject(field="src_ip", type="ip_address", value="10.0.0.2"),
    ]
    assert f.risk_score == 112 and f.severity == "medium"
    # multivalue joined with one space
    assert f.message == "net.exe ran on WS1 by alice from 10.0.0.1 10.0.0.2"
    assert f.time == 1700000000.0  # _time wins over firstTime
    assert f.mitre_attack_ids == ["T1059.001", "T1087"]
    assert f.drilldowns[0].name == 'View the detection results for - "alice" and "WS1"'


def test_multivalue_risk_object_gives_one_per_value(tags_det: Detection) -> None:
    row = {"user": ["alice", "bob", "alice", None, "", "null"], "dest": "WS1"}
    (f,) = build_findings(tags_det, [row])
    assert [(o.field, o.value) for o in f.risk_objects] == [
        ("user", "alice"),
        ("user", "bob"),
        ("dest", "WS1"),
    ]
    assert f.risk_score == 3 * 56
    assert f.severity == "medium"  # band of the largest single score, not of the sum


def test_null_risk_fields_give_no_risk_object(tags_det: Detection) -> None:
    (f,) = build_findings(tags_det, [{"user": None, "dest": "", "registry_path": "null"}])
    assert f.risk_objects == [] and f.risk_score == 0 and f.severity == "informational"
    assert risk_events([f]) == []


# ---------------------------------------------------------------- rba form


def test_rba_form_finding(rba_det: Detection) -> None:
    row = {
        "dest": "h1",
        "user": "CORP\\Bob",
        "process_name": "evil.dll",
        "parent_process_name": "rundll32.exe",
        "count": 3,
    }
    (f,) = build_findings(rba_det, [row], columns=["dest", "user", "count", "missing"])
    assert f.risk_form == "rba"
    assert [(o.field, o.type, o.value, o.score) for o in f.risk_objects] == [
        ("dest", "system", "h1", 64),
        ("user", "user", "CORP\\Bob", 40),
    ]
    assert [(t.type, t.value) for t in f.threat_objects] == [
        ("process_name", "evil.dll"),
        ("parent_process_name", "rundll32.exe"),
    ]
    assert f.risk_score == 104 and f.severity == "high"
    assert f.message == "CORP\\Bob loaded evil.dll on h1 (parent rundll32.exe)"
    # columns fix the result's columns and order; risk still reads the full row
    assert list(f.result) == ["dest", "user", "count", "missing"]
    assert f.result["missing"] is None
    assert f.time is None
    assert f.status == "experimental"


def test_risk_events_shape(rba_det: Detection) -> None:
    rows = [
        {
            "dest": "H1",
            "user": ["Alice", "bob"],
            "process_name": "evil.dll",
            "parent_process_name": None,
            "_time": "2025-03-01T00:00:00",
        },
        {"dest": "h2", "user": None, "process_name": None},
    ]
    fs = build_findings(rba_det, rows)
    evs = risk_events(fs)
    assert len(evs) == 4
    assert [(e["risk_object"], e["risk_object_type"], e["risk_score"]) for e in evs] == [
        ("H1", "system", 64),
        ("Alice", "user", 40),
        ("bob", "user", 40),
        ("h2", "system", 64),
    ]
    e = evs[1]
    assert e["normalized_risk_object"] == "alice"
    assert e["risk_object_field"] == "user"
    assert e["risk_message"] == "Alice bob loaded evil.dll on H1 (parent $parent_process_name$)"
    assert e["search_name"] == "ESCU - Splhunt Test RBA Form - Rule"
    assert e["annotations.mitre_attack.mitre_technique_id"] == ["T1574.002"]
    assert e["analyticstories"] == ["Splhunt Test Story"]
    assert e["threat_object"] == ["evil.dll"] and e["threat_object_type"] == ["process_name"]
    assert e["_time"] == "2025-03-01T00:00:00"
    assert e["finding_id"] == fs[0].id and e["detection_id"] == rba_det.id
    assert evs[3]["threat_object"] == [] and evs[3]["_time"] is None
    json.dumps(evs)  # plain JSON-able


# ---------------------------------------------------------------- token rendering


@pytest.mark.parametrize(
    ("template", "row", "expected"),
    [
        ("on $dest$", {"dest": "h"}, "on h"),
        ("on $dest$", {}, "on $dest$"),  # missing: token left as written
        ("on $dest$", {"dest": None}, "on $dest$"),
        ("on $dest$", {"dest": []}, "on $dest$"),
        ("on $dest$", {"dest": ""}, "on "),
        ("on $dest$", {"dest": "null"}, "on null"),
        ("$u$", {"u": ["a", None, "b"]}, "a b"),
        ("$n$/$f$/$b$", {"n": 20.0, "f": 1.5, "b": True}, "20/1.5/true"),
        ("$result.dest$", {"dest": "h"}, "h"),
        ("$PSWA Host$", {"PSWA Host": "w"}, "w"),
        ("$destination{}.address$", {"destination{}.address": "x@y"}, "x@y"),
        ("cost $5 and $dest$", {"dest": "h"}, "cost $5 and h"),
        ("by user user$ on $dest$", {"dest": "h"}, "by user user$ on h"),
        ("$$", {}, "$$"),
    ],
)
def test_render_tokens(template: str, row: dict, expected: str) -> None:
    assert render_tokens(template, row) == expected


def test_render_tokens_custom_separator() -> None:
    assert render_tokens("$u$", {"u": ["a", "b"]}, mv_separator=", ") == "a, b"


def test_no_message_falls_back_to_name() -> None:
    det = Detection.model_validate({"name": "Plain", "id": "1", "search": "search *"})
    (f,) = build_findings(det, [{"x": 1}])
    assert f.message == "Plain" and f.risk_objects == [] and f.risk_form == "none"
