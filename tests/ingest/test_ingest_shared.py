"""Every file of ``<repo>/../shared/data`` against its MANIFEST.csv (skipped when absent).

MANIFEST rows name each file with its ``events`` count. Rows without a count are not
logs (dataset YAML, licences, capattack ``metadata.json``, ``INDEX.json``); ingest must
skip each of them once as ``not a log file``. The mixed file of attack_data T1552.004
is listed as ``other`` with 59 events: 40 XmlWinEventLog + 19 classic text, read as such.
"""

from __future__ import annotations

import collections
import re
import time
from pathlib import Path

import pytest

from splhunt.ingest import IngestReport, ingest_paths, read_events
from splhunt.ingest.winxml import ATTR_RE, KV_RE, extract_fields, extract_fields_reference

pytestmark = pytest.mark.shared

CORE = ("_raw", "_time", "host", "source", "sourcetype", "index")
SYSMON = "Microsoft-Windows-Sysmon/Operational"


@pytest.fixture(scope="module")
def full_run(shared_data: Path, counting_store_class):
    store = counting_store_class()
    t0 = time.perf_counter()
    rep = ingest_paths([shared_data], store)
    return rep, store, time.perf_counter() - t0


def test_every_file_matches_manifest(full_run, manifest, shared_data):
    rep, store, seconds = full_run
    print(f"\n{rep.summary()}\nwall {seconds:.1f}s")
    assert store.rows == rep.read
    expected_total = macosx = 0
    for row in manifest:
        path = str(shared_data / row["local_path"])
        st = rep.per_file.get(path)
        assert st is not None, f"{path} not seen"
        if row["events"]:
            n = int(row["events"])
            expected_total += n
            assert st.read == n, f"{row['local_path']}: read {st.read}, MANIFEST {n}"
            # the only records skipped inside logs: macOS resource forks zipped along
            # (__MACOSX/._name.json, not in MANIFEST's member list), one count each
            skipped = [m for m, s in rep.per_member.items() if m.startswith(f"{path}!") and s.skipped]
            assert st.skipped == len(skipped), row["local_path"]
            assert all("!__MACOSX/._" in m for m in skipped), skipped
            macosx += len(skipped)
        else:
            assert (st.read, st.skipped) == (0, 1), f"{row['local_path']} is not a log"
    assert rep.read == expected_total == 469_151
    assert macosx == 14
    # nothing lost silently: every record read, every non-log file skipped with a reason
    non_logs = sum(1 for r in manifest if not r["events"]) + 1 + macosx  # + MANIFEST.csv
    assert rep.skipped == non_logs and rep.skipped_by_reason == {"not a log file": non_logs}
    assert rep.errors == [] and rep.error_count == 0
    assert rep.warning_count == 0
    assert sum(st.read + st.skipped for st in rep.per_file.values()) == rep.read + rep.skipped


def test_format_counts(full_run, manifest):
    rep, _, _ = full_run
    by_manifest = collections.Counter()
    for r in manifest:
        if r["events"]:
            by_manifest[r["format"]] += int(r["events"])
    assert rep.by_format["evtx"] == by_manifest["evtx"]
    assert rep.by_format["jsonl"] == by_manifest["json-lines"]
    # classic text is "other" in MANIFEST; the mixed file adds 40 XML events to the 374
    mixed_xml = 40
    assert rep.by_format["xmlwineventlog"] == by_manifest["xmlwineventlog"] + mixed_xml
    assert rep.by_format["wineventlog"] == by_manifest["other"] - mixed_xml


def test_direct_field_building_equals_regex_extraction(shared_data, manifest):
    """EVTX and JSON build fields while rendering; they must equal the add-on regexes."""
    picks = [r["local_path"] for r in manifest if r["format"] == "evtx"]
    seen = set()
    for r in manifest:  # one JSON file of every shape
        if r["format"] == "json-lines" and r["subformat"] not in seen:
            seen.add(r["subformat"])
            picks.append(r["local_path"])
    checked = 0
    for rel in picks:
        for e in read_events(shared_data / rel):
            assert {k: v for k, v in e.items() if k not in CORE} == extract_fields(e["_raw"]), rel
            checked += 1
    assert checked > 30_000


def test_xml_lines_fast_extraction_equals_reference(shared_data, manifest):
    n = 0
    for r in manifest:
        if r["format"] in ("xmlwineventlog", "other") and r["events"]:
            for e in read_events(shared_data / r["local_path"]):
                if e["sourcetype"] == "XmlWinEventLog":
                    assert extract_fields(e["_raw"]) == extract_fields_reference(e["_raw"])
                    n += 1
    assert n == 414


#: JSON files read by the Sysmon comparison (all formats of the others are read whole).
SYSMON_JSON = (
    "attack_data/datasets/attack_techniques/T1027/atomic_red_team/attack_data.tar.gz",
    "Security-Datasets/datasets/atomic/windows/collection/host/msf_record_mic.zip",
    "Security-Datasets/datasets/atomic/windows/defense_evasion/host/empire_enable_rdp.tar.gz",
    "Security-Datasets/datasets/atomic/windows/credential_access/host/empire_mimikatz_logonpasswords.zip",
    "Security-Datasets/datasets/atomic/windows/defense_evasion/host/psh_mavinject_dll_notepad.zip",
    "Security-Datasets/datasets/atomic/windows/discovery/host/cmd_seatbelt_group_user.zip",
)


def test_sysmon_field_names_agree_across_formats(shared_data, manifest):
    """Per Sysmon (EventID, Version): the System fields are the same in every format,
    and JSON never yields an EventData name that EVTX/XML files do not have."""
    system = collections.defaultdict(lambda: collections.defaultdict(set))
    data = collections.defaultdict(lambda: collections.defaultdict(set))
    fmt_of = {"evtx": "evtx", "xmlwineventlog": "xml", "json-lines": "json"}
    for r in manifest:
        fmt = fmt_of.get(r["format"])
        if fmt is None or "Sysmon" not in r["eventid_counts"]:
            continue
        if fmt == "json" and r["local_path"] not in SYSMON_JSON:
            continue
        for e in read_events(shared_data / r["local_path"]):
            if e.get("Channel") != SYSMON:
                continue
            ver = e.get("Version")
            key = (e["EventCode"], ver[0] if isinstance(ver, list) else ver)
            sysx = e["System_Props_Xml"]
            system[key][fmt].add(frozenset(k for k, _ in KV_RE.findall(sysx) + ATTR_RE.findall(sysx)))
            data[key][fmt] |= set(re.findall(r"<Data Name='([^']*)'>[^<]", e.get("EventData_Xml", "")))
    compared = 0
    for key, per_fmt in system.items():
        if len(per_fmt) < 2:
            continue
        compared += 1
        shapes = set().union(*per_fmt.values())
        assert len(shapes) == 1, (key, {f: [sorted(s) for s in v] for f, v in per_fmt.items()})
        ref = data[key].get("evtx", set()) | data[key].get("xml", set())
        assert data[key].get("json", set()) <= ref, (key, data[key]["json"] - ref)
    assert compared >= 12


def test_pipeline_stays_bounded(full_run):
    _, store, _ = full_run
    assert max(store.batches) <= 20_000


def test_report_summary_is_one_paragraph(full_run):
    rep, _, _ = full_run
    s = rep.summary()
    assert "\n" not in s and s.startswith("Ingested 469,151 events from ")


def test_ingest_report_type(full_run):
    rep, _, _ = full_run
    assert isinstance(rep, IngestReport)
