"""Sysmon for Linux: ingest labels, the reconstructed add-on's CIM fields, data model rows and
an ESCU Linux detection, over the two `example_log` events of ESCU's
`data_sources/sysmon_for_linux_eventid_1.yml` and `_11.yml` (fixtures in
`tests/fixtures/linux_sysmon/`, see NOTICE.md): `sysmon_linux.log` holds them as bare `<Event>`
lines (journald / attack_data form), `syslog_sysmon_linux.log` behind a syslog header.

The add-on (Splunkbase 6652) was not available, so the expected values follow
`knowledge/data/sysmon_linux.yml` (every rule reconstructed) and the field names are checked
against the `fields:` lists of the ESCU data sources (read from ../shared when present).
"""

from __future__ import annotations

import calendar
from pathlib import Path

import pytest
import yaml

from splhunt.api import Session
from splhunt.ingest import read_events
from splhunt.knowledge import load_knowledge

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linux_sysmon"
PLAIN = FIXTURES / "sysmon_linux.log"
SYSLOG = FIXTURES / "syslog_sysmon_linux.log"
SOURCE = "Syslog:Linux-Sysmon/Operational"
SOURCETYPE = "sysmon:linux"

# The CIM (lower-case) fields ESCU's data_sources list for each EventID, as Splunk shows them
# with the add-on (copied from the two YAML files so the test runs without ../shared; the
# `shared` test below checks the copy). eventtype/tag are checked separately.
CIM_FIELDS = {
    "1": {
        "action", "dest", "original_file_name", "os", "parent_process", "parent_process_exec",
        "parent_process_guid", "parent_process_id", "parent_process_name", "parent_process_path",
        "process", "process_current_directory", "process_exec", "process_guid", "process_hash",
        "process_id", "process_integrity_level", "process_name", "process_path", "signature",
        "signature_id", "user", "vendor_product",
    },
    "11": {
        "action", "dest", "file_create_time", "file_name", "file_path", "object_category",
        "process_exec", "process_guid", "process_id", "process_name", "process_path", "signature",
        "signature_id", "user", "vendor_product",
    },
}
NOT_KNOWLEDGE = {
    "date_hour", "date_mday", "date_minute", "date_month", "date_second", "date_wday",
    "date_year", "date_zone", "linecount", "punct", "splunk_server", "timeendpos",
    "timestartpos", "index", "eventtype", "tag", "host", "source", "sourcetype",
}
DATA_SOURCES = {"1": "sysmon_for_linux_eventid_1.yml", "11": "sysmon_for_linux_eventid_11.yml"}


def utc(y: int, mo: int, d: int, h: int, mi: int, s: float) -> float:
    return calendar.timegm((y, mo, d, h, mi, 0, 0, 0, 0)) + s


# ---------------------------------------------------------------------------- ingest


@pytest.mark.parametrize("path", [PLAIN, SYSLOG], ids=["bare", "syslog"])
def test_ingest_labels_time_host_and_raw(path):
    events = list(read_events(path))
    assert [e["EventCode"] for e in events] == ["1", "11"]
    for ev in events:
        assert (ev["source"], ev["sourcetype"], ev["index"]) == (SOURCE, SOURCETYPE, "main")
        assert ev["host"] == ev["Computer"]
        # _raw is the XML as Sysmon for Linux wrote it: no syslog header, double quotes kept
        assert ev["_raw"].startswith('<Event><System><Provider Name="Linux-Sysmon" ')
        assert ev["_raw"].endswith("</Event>")
    lines = [ln for ln in PLAIN.read_text(encoding="utf-8").splitlines() if ln]
    assert [e["_raw"] for e in events] == lines
    # _time from EventData UtcTime (UTC), not System SystemTime (…47.749450000Z)
    assert events[0]["_time"] == pytest.approx(utc(2022, 8, 9, 10, 42, 47.757))
    assert events[1]["_time"] == pytest.approx(utc(2021, 12, 20, 16, 7, 17.929))
    assert events[0]["host"] == "ar-linux"


def test_ingest_extracts_system_and_double_quoted_data_fields():
    ev = next(iter(read_events(PLAIN)))
    assert ev["Image"] == "/usr/bin/sudo"
    assert ev["CommandLine"] == "sudo gdb -nx -ex !sh -ex quit"
    assert ev["ParentImage"] == "/bin/bash"
    assert ev["UtcTime"] == "2022-08-09 10:42:47.757"
    assert (ev["EventID"], ev["Channel"], ev["EventRecordID"]) == ("1", "Linux-Sysmon/Operational", "1926574")
    # System attributes keep the quotes the add-on's attribute regex captures
    assert (ev["ProcessID"], ev["UserId"], ev["Name"]) == ('"1465"', '"0"', '"Linux-Sysmon"')
    assert "System_Props_Xml" in ev and "EventData_Xml" in ev
    assert "RecordNumber" not in ev  # a Windows add-on alias; ESCU lists RecordID instead


def test_syslog_prefix_forms_and_report():
    from splhunt.ingest.sysmon_linux import strip_syslog

    ev = '<Event><System></System></Event>'
    for prefix in (
        "Aug  9 10:42:47 ar-linux sysmon: ",
        "Dec 20 16:07:17 host-1 sysmon[4372]: ",
        "2022-08-09T10:42:47.123456+00:00 ar-linux sysmon: ",
        "<14>Aug  9 10:42:47 ar-linux sysmon: ",
    ):
        assert strip_syslog(prefix + ev) == ev, prefix
    assert strip_syslog("Aug  9 10:42:47 ar-linux kernel: no event here") is None
    assert strip_syslog("random text <Event>") is None


def test_syslog_file_mixed_with_other_syslog_lines(tmp_path):
    """Other syslog lines (not events) are reported as unrecognized text, the events kept."""
    from splhunt.ingest import IngestReport

    lines = SYSLOG.read_text(encoding="utf-8").splitlines()
    p = tmp_path / "syslog"
    p.write_text(
        f"{lines[0]}\nAug  9 10:42:48 ar-linux systemd[1]: Started Session 3.\n{lines[1]}\n",
        encoding="utf-8",
    )
    rep = IngestReport()
    events = list(read_events(p, report=rep))
    assert [e["EventCode"] for e in events] == ["1", "11"]
    assert all(e["sourcetype"] == SOURCETYPE for e in events)
    assert rep.skipped == 1


def test_overrides_apply():
    (ev, _) = list(read_events(PLAIN, source="s", sourcetype="st", host="h"))
    assert (ev["source"], ev["sourcetype"], ev["host"]) == ("s", "st", "h")


# ---------------------------------------------------------------------------- knowledge


def test_every_rule_is_reconstructed_with_a_reason():
    k = load_knowledge()
    stanza = k.stanza("sysmon:linux")
    assert stanza.package == "Splunk_TA_sysmon-for-linux"
    rules = stanza.rules
    assert len(rules) > 20
    for rule in rules:
        assert rule.provenance == "reconstructed", rule.key
        assert rule.note, rule.key
        for t in getattr(rule, "transforms", ()):
            assert t.provenance == "reconstructed" and t.note, t.name
    for name in ("sysmon-linux-process", "sysmon-linux-filemod"):
        et = k.eventtype(name)
        assert et.provenance == "reconstructed" and et.note
    # the Windows Sysmon stanza is not applied to these events, nor this one to Windows Sysmon
    names = {s.name for s in k.stanzas_for(SOURCE, SOURCETYPE)}
    assert names == {"sysmon:linux"}
    assert "sysmon:linux" not in {
        s.name
        for s in k.stanzas_for("XmlWinEventLog:Microsoft-Windows-Sysmon/Operational", "XmlWinEventLog")
    }


@pytest.fixture(scope="module", params=[PLAIN, SYSLOG], ids=["bare", "syslog"])
def session(request) -> Session:
    s = Session()
    report = s.ingest([request.param])
    assert (report.read, report.skipped) == (2, 0)
    return s


@pytest.fixture(scope="module")
def rows(session: Session) -> dict[str, dict]:
    return {r["EventCode"]: r for r in session.search("search * | table *").rows}


def present(row: dict) -> set[str]:
    return {k for k, v in row.items() if v not in (None, "", [])}


@pytest.mark.parametrize("code", ["1", "11"])
def test_cim_fields_are_the_data_source_lists(rows, code):
    got = {f for f in present(rows[code]) if f[:1].islower()} - NOT_KNOWLEDGE
    assert got == CIM_FIELDS[code]


def test_process_create_values(rows):
    r = rows["1"]
    assert {k: r[k] for k in sorted(CIM_FIELDS["1"])} == {
        "action": "allowed",
        "dest": "ar-linux",
        "original_file_name": "-",
        "os": "Linux",
        "parent_process": "-bash",
        "parent_process_exec": "bash",
        "parent_process_guid": "{ec23eae3-315b-62f2-4884-4ea587550000}",
        "parent_process_id": "15369",
        "parent_process_name": "bash",
        "parent_process_path": "/bin/bash",
        "process": "sudo gdb -nx -ex !sh -ex quit",
        "process_current_directory": "/home/ubuntu",
        "process_exec": "sudo",
        "process_guid": "{ec23eae3-3a27-62f2-085e-16549b550000}",
        "process_hash": "-",
        "process_id": "10268",
        "process_integrity_level": "no level",
        "process_name": "sudo",
        "process_path": "/usr/bin/sudo",
        "signature": "Process Create",
        "signature_id": "1",
        "user": "ubuntu",
        "vendor_product": "Microsoft Sysmon",
    }
    assert (r["EventChannel"], r["RecordID"], r["EventDescription"]) == (
        "Linux-Sysmon/Operational", "1926574", "Process Create",
    )
    assert r["eventtype"] == "sysmon-linux-process" or r["eventtype"] == ["sysmon-linux-process"]
    assert set(r["tag"]) == {"process", "report"}


def test_file_create_values(rows):
    r = rows["11"]
    path = "/opt/splunkforwarder/var/lib/splunk/modinputs/journald/sysmon.checkpoint.tmp.dbed9d351dcc1806"
    assert {k: r[k] for k in sorted(CIM_FIELDS["11"])} == {
        "action": "created",  # UtcTime == CreationUtcTime
        "dest": "sysmonlinux-tcontreras-attack-range-4134",
        "file_create_time": "2021-12-20 16:07:17.929",
        "file_name": "sysmon.checkpoint.tmp.dbed9d351dcc1806",
        "file_path": path,
        "object_category": "file",
        "process_exec": "splunkd",
        "process_guid": "{ec2c97d1-6aa9-61c0-3038-618238560000}",
        "process_id": "5256",
        "process_name": "splunkd",
        "process_path": "/opt/splunkforwarder/bin/splunkd",
        "signature": "File created",
        "signature_id": "11",
        "user": "root",
        "vendor_product": "Microsoft Sysmon",
    }
    assert set(r["tag"]) == {"endpoint", "filesystem"}


def test_basename_is_after_the_last_slash(tmp_path):
    """Names without an extension and with `-` (which the Windows TA's regex keeps whole)."""
    line = PLAIN.read_text(encoding="utf-8").splitlines()[0]
    line = line.replace("/usr/bin/sudo", "/usr/bin/apt-get").replace("/bin/bash", "/usr/bin/python3.10")
    p = tmp_path / "one.log"
    p.write_text(line + "\n", encoding="utf-8")
    s = Session()
    s.ingest([p])
    (r,) = s.search("search * | table process_name process_exec parent_process_name").rows
    assert r == {"process_name": "apt-get", "process_exec": "apt-get", "parent_process_name": "python3.10"}


def test_tstats_endpoint_processes(session):
    rows = session.search(
        "| tstats count from datamodel=Endpoint.Processes where Processes.process_name=sudo"
        " by Processes.dest Processes.parent_process_name"
    ).rows
    assert rows == [{"Processes.dest": "ar-linux", "Processes.parent_process_name": "bash", "count": 1}]


def test_tstats_endpoint_filesystem(session):
    rows = session.search(
        "| tstats count from datamodel=Endpoint.Filesystem"
        " by Filesystem.dest Filesystem.file_name Filesystem.action"
    ).rows
    assert rows == [
        {
            "Filesystem.dest": "sysmonlinux-tcontreras-attack-range-4134",
            "Filesystem.file_name": "sysmon.checkpoint.tmp.dbed9d351dcc1806",
            "Filesystem.action": "created",
            "count": 1,
        }
    ]
    # the file event is not a process event, and vice versa
    n = session.search("| tstats count from datamodel=Endpoint.Processes").rows
    assert n == [{"count": 1}]


# ---------------------------------------------------------------------------- ../shared


@pytest.mark.parametrize("code", ["1", "11"])
def test_field_lists_match_escu_data_sources(shared, code):
    ds = yaml.safe_load((shared / "escu" / "data_sources" / DATA_SOURCES[code]).read_text(encoding="utf-8"))
    assert (ds["source"], ds["sourcetype"]) == (SOURCE, SOURCETYPE)
    listed = {f for f in ds["fields"] if f[:1].islower() and "::" not in f} - NOT_KNOWLEDGE
    assert listed == CIM_FIELDS[code]
    # the fixture line is the example_log, YAML folding undone
    lines = PLAIN.read_text(encoding="utf-8").splitlines()
    assert lines[0 if code == "1" else 1] == ds["example_log"]


def test_escu_linux_gdb_privilege_escalation(shared, session):
    from splhunt.content import load_detection

    escu = shared / "escu"
    session.load_content(escu)
    det = load_detection(escu / "detections" / "endpoint" / "linux_gdb_privilege_escalation.yml")
    run = session.run_detection(det)
    rows = run.result.rows
    assert len(rows) == 1
    (r,) = rows
    assert {k: r[k] for k in ("dest", "user", "parent_process_name", "process_name", "process", "process_id")} == {
        "dest": "ar-linux",
        "user": "ubuntu",
        "parent_process_name": "bash",
        "process_name": "sudo",
        "process": "sudo gdb -nx -ex !sh -ex quit",
        "process_id": "10268",
    }
