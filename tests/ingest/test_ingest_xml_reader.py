"""XmlWinEventLog files: tolerated variations and bad input (committed fixtures only)."""

from __future__ import annotations

import re
from pathlib import Path

from splhunt.ingest import IngestReport, read_events

BASE = "xml_lines/ad_T1202_sysmon.log"  # 3 Sysmon lines from attack_data (EventCode 10, 1, 10)


def lines(fx: Path) -> list[bytes]:
    return (fx / BASE).read_bytes().splitlines()


def read(path: Path) -> tuple[list[dict], IngestReport]:
    rep = IngestReport()
    return list(read_events(path, report=rep)), rep


def test_plain_file(fx):
    evs, rep = read(fx / BASE)
    assert [e["EventCode"] for e in evs] == ["10", "1", "10"]
    assert [e["_raw"].encode() for e in evs] == lines(fx)
    e = evs[0]
    assert e["source"] == "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
    assert e["sourcetype"] == "XmlWinEventLog" and e["index"] == "main"
    assert e["host"] == "win-dc-emcginnis-47905-664.attackrange.local"
    assert e["SourceImage"] == r"C:\Windows\system32\pcalua.exe"
    # Sysmon: _time = UtcTime 2022-03-25 17:46:37.638 (not SystemTime ...653084200Z)
    assert e["_time"] == 1648230397.638
    assert rep.read == 3 and rep.skipped == 0 and rep.by_format == {"xmlwineventlog": 3}


def test_crlf_blank_comment_bom_no_final_newline(fx, tmp_path):
    ls = lines(fx)
    data = b"\xef\xbb\xbf# exported events\r\n" + ls[0] + b"\r\n\r\n   \r\n#note\r\n" + ls[1] + b"\r\n" + ls[2]
    p = tmp_path / "crlf.log"
    p.write_bytes(data)
    evs, rep = read(p)
    plain, _ = read(fx / BASE)
    assert evs == plain
    assert rep.read == 3 and rep.skipped == 0 and rep.warning_count == 0


def test_truncated_xml_keeps_the_good_events(fx, tmp_path):
    ls = lines(fx)
    cut = ls[1][: len(ls[1]) // 2]  # no </Event>
    p = tmp_path / "trunc.log"
    p.write_bytes(ls[0] + b"\n" + cut + b"\n" + ls[2] + b"\n")
    evs, rep = read(p)
    assert [e["EventRecordID"] for e in evs] == ["361824", "361819"]
    assert rep.read == 2 and rep.skipped == 1
    assert rep.skipped_by_reason == {"truncated XML": 1}
    assert rep.errors == [f"{p} line 2: truncated XML: no </Event> before the next <Event"]


def test_truncated_last_event(fx, tmp_path):
    ls = lines(fx)
    p = tmp_path / "trunc_end.log"
    p.write_bytes(ls[0] + b"\n" + ls[1] + b"\n" + ls[2][:500])
    evs, rep = read(p)
    assert len(evs) == 2 and rep.skipped == 1
    assert rep.errors == [f"{p} line 3: truncated XML: no </Event>"]


def test_non_utf8_byte_replaced_event_kept_with_warning(fx, tmp_path):
    ls = lines(fx)
    bad = ls[1].replace(b"C:\\Windows\\System32\\calc.exe", b"C:\\Windows\\System32\\c\xe4lc.exe", 1)
    assert bad != ls[1]
    p = tmp_path / "latin1.log"
    p.write_bytes(ls[0] + b"\n" + bad + b"\n" + ls[2] + b"\n")
    evs, rep = read(p)
    assert len(evs) == 3 and rep.skipped == 0
    assert "c\ufffdlc.exe" in evs[1]["Image"]
    assert rep.warnings_by_reason == {"non-UTF-8 bytes replaced": 1}
    assert rep.warnings[0].startswith(f"{p} line 2: non-UTF-8 byte 0xe4")


def test_junk_between_events_is_counted_with_its_lines(fx, tmp_path):
    ls = lines(fx)
    p = tmp_path / "junk.log"
    p.write_bytes(ls[0] + b"\nthis is not an event\nnor this\n" + ls[1] + b"\n")
    evs, rep = read(p)
    assert len(evs) == 2
    assert rep.skipped_by_reason == {"unrecognized text": 1}
    assert rep.errors == [f"{p} line 2-3: not a Windows event (unrecognized text)"]


def test_several_events_per_line_with_wrappers(fx, tmp_path):
    ls = lines(fx)
    p = tmp_path / "events.xml"
    p.write_bytes(b"<?xml version='1.0'?><Events>" + ls[0] + ls[1] + b"\n" + ls[2] + b"</Events>")
    evs, rep = read(p)
    assert [e["EventCode"] for e in evs] == ["10", "1", "10"]
    assert [e["_raw"].encode() for e in evs] == ls
    assert rep.skipped == 0


def test_pretty_printed_double_quoted_event_is_brought_to_windows_form(fx, tmp_path):
    line = lines(fx)[1].decode()
    pretty = re.sub(r"><", ">\n    <", line)
    pretty = re.sub(r"(\s\w+)='([^']*)'", r'\1="\2"', pretty)
    assert "\n" in pretty and "Name=\"" in pretty
    p = tmp_path / "pretty.xml"
    p.write_text(pretty + "\n" + pretty + "\n")
    evs, rep = read(p)
    plain, _ = read(fx / BASE)
    assert len(evs) == 2 and rep.skipped == 0
    assert evs[0]["_raw"] == line
    assert evs[0] == plain[1]


def test_json_escaped_single_string_file(fx):
    evs, rep = read(fx / "xml_lines/ad_T1003_sysmon_json_escaped.log")
    assert len(evs) == 5 and rep.skipped == 0  # MANIFEST: 5 events
    assert [e["EventCode"] for e in evs].count("1") == 3
    e = next(e for e in evs if e["EventCode"] == "1")
    assert "\\\\" not in e["Image"] and e["Image"].startswith("C:\\")
    assert e["_raw"].startswith("<Event xmlns=") and e["_raw"].endswith("</Event>")
    assert e["source"] == "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"


def test_mixed_xml_and_classic_text(fx):
    evs, rep = read(fx / "xml_lines/ad_T1552.004_mixed.raw")
    assert [e["sourcetype"] for e in evs] == [
        "XmlWinEventLog",
        "WinEventLog",
        "XmlWinEventLog",
        "XmlWinEventLog",
        "WinEventLog",
        "XmlWinEventLog",
    ]
    assert rep.by_format == {"xmlwineventlog": 4, "wineventlog": 2}
    classic = evs[1]
    assert classic["source"] == "WinEventLog:Microsoft-Windows-PowerShell/Operational"
    assert classic["EventCode"] == "4104"
    assert classic["_raw"].startswith("01/14/2021 11:41:39 PM\nLogName=")
    assert "<Event" not in classic["_raw"]


def test_security_content_examples(fx):
    evs, rep = read(fx / "xml_lines/sc_XmlWinEventLog_Microsoft-Windows-Sysmon_Operational.log")
    assert len(evs) == 18 and rep.skipped == 0
    wmi = next(e for e in evs if e["EventCode"] == "20")
    assert wmi["Name"] == ["'Microsoft-Windows-Sysmon'", ' "AtomicRedTeam-WMIPersistence-Example"']
    assert wmi["Destination"] == ' "C:\\\\Windows\\\\System32\\\\notepad.exe"'
    sched, _ = read(fx / "xml_lines/sc_WinEventLog_Microsoft-Windows-TaskScheduler_Operational.log")
    assert sched[0]["TaskName"] == "\\OneLinerTestTask3"  # <EventData Name='ActionStart'>
    assert sched[0]["ActivityID"] == "'{2EE32989-FAF3-4BA3-9FB9-DB0080598F68}'"
    capi, _ = read(fx / "xml_lines/sc_XmlWinEventLog_Microsoft-Windows-CAPI2_Operational.log")
    assert all("UserData_Xml" in e for e in capi)
    system, _ = read(fx / "xml_lines/sc_XmlWinEventLog_System.log")
    assert [e["EventCode"] for e in system] == ["7036", "7040"]
    assert all("EventID" not in e for e in system)  # <EventID Qualifiers='16384'>


def test_overrides(fx):
    evs = list(read_events(fx / BASE, source="my:src", sourcetype="xmlwineventlog", host="h1", index="idx"))
    assert {(e["source"], e["sourcetype"], e["host"], e["index"]) for e in evs} == {
        ("my:src", "xmlwineventlog", "h1", "idx")
    }


def test_no_timestamp_keeps_event_and_warns(fx, tmp_path):
    line = lines(fx)[2].decode()
    line = re.sub(r"<Data Name='UtcTime'>[^<]*</Data>", "", line)
    line = re.sub(r"SystemTime='[^']*'", "SystemTime='yesterday'", line)
    p = tmp_path / "notime.log"
    p.write_text(line + "\n")
    evs, rep = read(p)
    assert len(evs) == 1 and evs[0]["_time"] is None
    assert rep.warnings_by_reason == {"no timestamp": 1}
    assert rep.warnings[0].startswith(f"{p} line 1:")


def test_event_with_line_breaks_inside_a_value(fx, tmp_path):
    """Windows writes some values (PrivilegeList) with CRLF + tabs: one event, value kept."""
    lines = (fx / "xml_lines/sc_XmlWinEventLog_Security.log").read_bytes().splitlines()
    line = next(x for x in lines if b"<EventID>4688</EventID>" in x)
    split = line.replace(b"splunk-powershell.exe\" --ps2", b"splunk-powershell.exe\"\r\n\t\t\t--ps2", 1)
    assert split != line
    p = tmp_path / "multiline.log"
    p.write_bytes(lines[0] + b"\r\n" + split + b"\r\n" + lines[1] + b"\r\n")
    evs, rep = read(p)
    assert len(evs) == 3 and rep.skipped == 0
    assert evs[1]["CommandLine"].endswith('splunk-powershell.exe"\r\n\t\t\t--ps2')
    assert evs[1]["_raw"] == split.decode()


def test_utf16_file(fx, tmp_path):
    text = (fx / BASE).read_text()
    p = tmp_path / "utf16.xml"
    p.write_bytes(text.replace("\n", "\r\n").encode("utf-16"))  # BOM + UTF-16-LE, as PowerShell writes
    evs, rep = read(p)
    plain, _ = read(fx / BASE)
    assert evs == plain and rep.warning_count == 0
