"""Detection model and the three risk forms, on committed fixtures (no ../shared needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from splhunt.content import (
    Detection,
    RiskObject,
    ThreatObject,
    load_detection,
)
from splhunt.errors import ContentError

# ---------------------------------------------------------------- seed (intermediate_findings)


def test_seed_loads_with_top_level_story_and_mitre(fixtures_dir: Path) -> None:
    d = load_detection(fixtures_dir / "windows_devtunnels_image_loaded.yml")
    assert d.name == "Windows Devtunnels Image Loaded"
    assert d.id == "15bb8eb7-8e68-490b-9032-18f7adce53c7"
    assert d.version == 2
    assert d.creation_date == "2026-05-05"
    assert d.date is None and d.file_date == "2026-05-05"
    assert d.status == "production" and d.type == "Anomaly"
    assert d.data_source == ["Sysmon EventID 7"]
    assert d.stories() == ["Reverse Network Proxy"]
    assert d.mitre_ids() == ["T1090"]
    assert d.domain == "endpoint"
    assert d.asset_type == "Endpoint"
    assert d.search.startswith("`sysmon`\nEventID=7")
    assert d.path == fixtures_dir / "windows_devtunnels_image_loaded.yml"
    # unknown top-level keys are kept
    assert d.model_extra is not None and d.model_extra["category"] == "endpoint"
    assert d.modification_date == "2026-05-13"
    # drilldowns and tests
    assert len(d.drilldown_searches) == 2
    assert d.drilldown_searches[0].earliest_offset == "$info_min_time$"
    assert d.drilldown_searches[1].latest_offset == "0"
    assert "%original_detection_search%" in d.drilldown_searches[0].search
    (t,) = d.tests
    assert t.name == "True Positive Test" and t.test_type == "unit"
    assert t.attack_data[0].sourcetype == "XmlWinEventLog"
    assert t.attack_data[0].source == "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
    assert d.filter_macro_name == "windows_devtunnels_image_loaded_filter"
    assert d.saved_search_name == "ESCU - Windows Devtunnels Image Loaded - Rule"


def test_seed_risk_is_dest_system_20(fixtures_dir: Path) -> None:
    r = load_detection(fixtures_dir / "windows_devtunnels_image_loaded.yml").risk()
    assert r.form == "intermediate_findings"
    assert r.message == "Potential Devtunnels image load observed on $dest$ via $ImageLoaded$."
    assert [(o.field, o.type, o.score) for o in r.risk_objects] == [("dest", "system", 20)]
    assert r.threat_objects == []
    assert r.risk_score == 20
    assert r.severity == "informational"


def test_bundled_sample_is_the_seed(fixtures_dir: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    sample = repo / "data" / "samples" / "windows_devtunnels_image_loaded.yml"
    assert (
        sample.read_bytes() == (fixtures_dir / "windows_devtunnels_image_loaded.yml").read_bytes()
    )


# ---------------------------------------------------------------- tags form (ESCU 4.x)


def test_tags_form_maps_observables_like_contentctl(fixtures_dir: Path) -> None:
    d = load_detection(fixtures_dir / "tags_form_detection.yml")
    r = d.risk()
    assert r.form == "tags"
    assert r.message == "$process_name$ ran on $dest$ by $user$ from $src_ip$"
    assert r.risk_objects == [
        RiskObject(field="user", type="user", score=56),
        RiskObject(field="dest", type="system", score=56),
        RiskObject(field="registry_path", type="other", score=56),
    ]
    assert r.threat_objects == [
        ThreatObject(field="process_name", type="process"),
        ThreatObject(field="src_ip", type="ip_address"),
        ThreatObject(field="url", type="url"),
        ThreatObject(field="file_name", type="file_name"),
        ThreatObject(field="sender", type="email_address"),
    ]
    assert r.risk_score == 56 and r.severity == "medium"
    assert r.fields[:3] == ["user", "dest", "registry_path"]


def test_tags_are_typed_and_dict_like(fixtures_dir: Path) -> None:
    d = load_detection(fixtures_dir / "tags_form_detection.yml")
    assert d.tags.risk_score == 56 and d.tags.confidence == 80 and d.tags.impact == 70
    assert d.tags.mitre_attack_id == ["T1059.001", "T1087"]
    assert d.mitre_ids() == ["T1059.001", "T1087"]
    assert d.stories() == ["Splhunt Test Story"]
    assert d.domain == "endpoint"
    assert d.tags.get("custom_tag_kept") == "kept"
    assert d.tags["risk_score"] == 56
    assert "observable" in d.tags and "cve" not in d.tags
    with pytest.raises(KeyError):
        d.tags["cve"]
    # legacy attack_data key is kept, not rejected
    assert d.tests[0].attack_data[0].model_extra == {"update_timestamp": True}
    assert d.description.splitlines()[0] == "First line of a hand-written tags-form detection."


def test_tags_score_falls_back_to_confidence_times_impact() -> None:
    d = Detection.model_validate(
        {
            "name": "x",
            "id": "1",
            "search": "search *",
            "tags": {
                "confidence": 80,
                "impact": 70,
                "message": "m",
                "observable": [{"name": "dest", "type": "Endpoint", "role": ["Victim"]}],
            },
        }
    )
    assert d.risk().risk_objects == [RiskObject(field="dest", type="system", score=56)]


def test_tags_role_precedence_and_user_name_type() -> None:
    d = Detection.model_validate(
        {
            "name": "x",
            "id": "1",
            "search": "search *",
            "tags": {
                "risk_score": 25.0,
                "message": "m",
                "observable": [
                    # Victim wins over Attacker, as in contentctl
                    {"name": "user", "type": "User", "role": ["Victim", "Attacker"]},
                    {"name": "actor", "type": "User", "role": ["Attacker"]},
                    {"name": "acct", "type": "User Name", "role": ["Victim"]},
                    {"name": "ip", "type": "IP Address", "role": ["Victim"]},
                    {"name": "proc", "type": "Process", "role": ["Victim"]},
                    {"name": "thing", "type": "Other", "role": []},
                ],
            },
        }
    )
    r = d.risk()
    assert [(o.field, o.type, o.score) for o in r.risk_objects] == [
        ("user", "user", 25),
        ("acct", "user", 25),
        ("ip", "system", 25),
        ("proc", "other", 25),
        ("thing", "other", 25),
    ]
    assert isinstance(r.risk_objects[0].score, int)
    assert r.threat_objects == [ThreatObject(field="actor", type="user")]


# ---------------------------------------------------------------- rba form (contentctl v5)


def test_rba_form(fixtures_dir: Path) -> None:
    d = load_detection(fixtures_dir / "rba_form_detection.yml")
    assert d.date == "2025-03-01"  # unquoted YAML date kept as ISO text
    assert d.data_source == ["Sysmon EventID 7"]  # `data_sources` alias
    assert d.status == "experimental"
    assert d.model_extra is not None and d.model_extra["future_key"] == {"kept": True}
    r = d.risk()
    assert r.form == "rba"
    assert r.message == "$user$ loaded $process_name$ on $dest$ (parent $parent_process_name$)"
    assert r.risk_objects == [
        RiskObject(field="dest", type="system", score=64),
        RiskObject(field="user", type="user", score=40),
    ]
    assert r.threat_objects == [
        ThreatObject(field="process_name", type="process_name"),
        ThreatObject(field="parent_process_name", type="parent_process_name"),
    ]
    assert r.risk_score == 64 and r.severity == "high"


def test_rba_wins_over_other_forms() -> None:
    data = {
        "name": "x",
        "id": "1",
        "search": "search *",
        "rba": {"message": "rba", "risk_objects": [{"field": "a", "type": "user", "score": 5}]},
        "intermediate_findings": {
            "entities": [{"field": "b", "type": "system", "score": 9, "message": "if"}]
        },
        "tags": {
            "message": "tags",
            "risk_score": 1,
            "observable": [{"name": "c", "type": "User", "role": ["Victim"]}],
        },
    }
    r = Detection.model_validate(data).risk()
    assert (r.form, r.message, r.risk_objects[0].field) == ("rba", "rba", "a")
    data.pop("rba")
    r = Detection.model_validate(data).risk()
    assert (r.form, r.message, r.risk_objects[0].field) == ("intermediate_findings", "if", "b")
    data.pop("intermediate_findings")
    r = Detection.model_validate(data).risk()
    assert (r.form, r.message, r.risk_objects[0].field) == ("tags", "tags", "c")


def test_intermediate_findings_threat_entities() -> None:
    d = Detection.model_validate(
        {
            "name": "x",
            "id": "1",
            "search": "search *",
            "intermediate_findings": {
                "entities": [
                    {"field": "dest", "type": "system", "score": 30, "message": "on $dest$"},
                    {"field": "user", "type": "User", "score": 10, "message": "by $user$"},
                    {"field": "process", "type": "process"},
                ]
            },
        }
    )
    r = d.risk()
    assert r.message == "on $dest$"
    assert [(o.field, o.type, o.score, o.message) for o in r.risk_objects] == [
        ("dest", "system", 30, "on $dest$"),
        ("user", "user", 10, "by $user$"),
    ]
    assert r.threat_objects == [ThreatObject(field="process", type="process")]


def test_no_risk_declared() -> None:
    d = Detection.model_validate({"name": "x", "id": "1", "search": "search *"})
    r = d.risk()
    assert r.form == "none" and r.risk_objects == [] and r.message is None and r.risk_score == 0


# ---------------------------------------------------------------- bad input


def test_load_detection_missing_search_names_file(tmp_path: Path) -> None:
    p = tmp_path / "no_search.yml"
    p.write_text("name: x\nid: '1'\n")
    with pytest.raises(ContentError) as ei:
        load_detection(p)
    assert str(p) in str(ei.value) and "search" in str(ei.value)


def test_load_detection_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yml"
    p.write_text("name: x\nid: '1'\nsearch: [unclosed\ntags: {}\n")
    with pytest.raises(ContentError) as ei:
        load_detection(p)
    msg = str(ei.value)
    assert msg.startswith(f"{p}:") and "invalid YAML" in msg
    line = int(msg[len(str(p)) + 1 :].split(":")[0])
    assert 3 <= line <= 5


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n"])
def test_load_detection_not_a_mapping(tmp_path: Path, text: str) -> None:
    p = tmp_path / "odd.yml"
    p.write_text(text)
    with pytest.raises(ContentError, match="expected a YAML mapping"):
        load_detection(p)


def test_load_detection_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="cannot read"):
        load_detection(tmp_path / "nope.yml")
