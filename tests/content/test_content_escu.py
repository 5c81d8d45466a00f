"""The real ESCU snapshot in ../shared/escu (skipped, with the reason, when it is absent).

The snapshot (security_content b13b314a, 2024-10-24) uses only the `tags` risk form; the
`rba` and `intermediate_findings` forms are covered by the fixtures and the seed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from splhunt.content import ContentLibrary, RiskObject, ThreatObject, load_content, load_detection

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def escu(escu_root: Path) -> ContentLibrary:
    return load_content(escu_root)


def test_whole_snapshot_loads_fast_and_clean(escu_root: Path) -> None:
    t0 = time.perf_counter()
    lib = load_content(escu_root)
    elapsed = time.perf_counter() - t0
    assert lib.errors == []
    assert len(lib.detections) == 1711
    assert len(lib.macros) == 189
    assert len(lib.lookups) == 79
    assert len(lib.stories) == 261
    assert len(lib.data_sources) == 205
    # only the 5 .mlmodel files the snapshot left out are missing
    assert len(lib.warnings) == 5 and all(".mlmodel" in w for w in lib.warnings)
    assert elapsed < 30, f"loading ESCU took {elapsed:.1f}s"


def test_status_counts_match_the_catalog(escu: ContentLibrary) -> None:
    assert len(escu.by_status("production")) == 1472
    assert len(escu.by_status("experimental")) == 141
    assert len(escu.by_status("deprecated")) == 98


def test_every_detection_uses_the_tags_form(escu: ContentLibrary) -> None:
    assert escu.risk_form_counts() == {"tags": 1711}
    for d in escu.production():
        r = d.risk()
        assert r.message, d.name
        assert r.risk_objects or r.threat_objects, d.name


def test_macro_keys(escu: ContentLibrary) -> None:
    ctime = escu.macros["security_content_ctime(1)"]
    assert ctime.definition == 'convert timeformat="%Y-%m-%dT%H:%M:%S" ctime($field$)'
    assert escu.macros["sysmon"].definition.startswith("sourcetype=XmlWinEventLog:")
    assert escu.macros["security_content_summariesonly"].arguments == []


def test_lookups_resolve_inside_folder(escu: ContentLibrary, escu_root: Path) -> None:
    base = (escu_root / "lookups").resolve()
    csv = [lk for lk in escu.lookups.values() if lk.kind == "csv"]
    kv = [lk for lk in escu.lookups.values() if lk.kind == "kvstore"]
    assert len(csv) == 55 and len(kv) == 24
    for lk in csv:
        assert lk.csv_path is not None and lk.csv_path.parent == base


def _risk(escu_root: Path, rel: str) -> tuple[list[RiskObject], list[ThreatObject], str | None]:
    r = load_detection(escu_root / "detections" / rel).risk()
    assert r.form == "tags"
    return r.risk_objects, r.threat_objects, r.message


def test_real_user_endpoint_process_name(escu_root: Path) -> None:
    ro, to, msg = _risk(escu_root, "endpoint/account_discovery_with_net_app.yml")
    assert ro == [
        RiskObject(field="user", type="user", score=5),
        RiskObject(field="dest", type="system", score=5),
    ]
    assert to == [ThreatObject(field="process_name", type="process")]
    assert msg == "Suspicious $process_name$ usage detected on endpoint $dest$ by user $user$."


def test_real_url_threat_object(escu_root: Path) -> None:
    ro, to, _ = _risk(escu_root, "endpoint/3cx_supply_chain_attack_network_indicators.yml")
    assert ro == [RiskObject(field="src", type="system", score=100)]
    assert to == [ThreatObject(field="query", type="url")]


def test_real_attacker_user_is_a_threat_object(escu_root: Path) -> None:
    ro, to, _ = _risk(escu_root, "endpoint/detect_password_spray_attack_behavior_from_source.yml")
    assert [(o.field, o.type) for o in ro] == [("src", "system"), ("user", "user")]
    assert to == [ThreatObject(field="failed_user", type="user")]


def test_real_victim_process_is_other(escu_root: Path) -> None:
    ro, to, _ = _risk(escu_root, "endpoint/windows_soaphound_binary_execution.yml")
    assert ro == [
        RiskObject(field="process_name", type="other", score=80),
        RiskObject(field="dest", type="system", score=80),
    ]
    assert to == []


def test_real_email_and_float_score(escu_root: Path) -> None:
    ro, to, _ = _risk(escu_root, "cloud/gsuite_email_suspicious_attachment.yml")
    assert to == [ThreatObject(field="source.address", type="email_address")]
    assert [(o.field, o.type) for o in ro] == [("destination{}.address", "user")]
    d = load_detection(
        escu_root
        / "detections/deprecated/abnormally_high_aws_instances_launched_by_user___mltk.yml"
    )
    assert d.tags.risk_score == 25 and isinstance(d.tags.risk_score, int)


def test_real_data_sources_key_alias(escu_root: Path) -> None:
    d = load_detection(escu_root / "detections/web/windows_iis_server_pswa_console_access.yml")
    assert d.data_source == ["Windows IIS"]
