"""JSON lines: NXLog, Mordor/Logstash, OTRF flat, winlogbeat, evtx_dump; bad lines."""

from __future__ import annotations

import calendar
import json

import orjson

from splhunt.ingest import IngestReport, read_events
from splhunt.ingest.jsonl import keywords_text
from splhunt.ingest.winxml import extract_fields

CORE = ("_raw", "_time", "host", "source", "sourcetype", "index")
NXLOG_META = (
    "Severity",
    "SeverityValue",
    "EventReceivedTime",
    "SourceModuleName",
    "SourceModuleType",
    "Message",
    "AccountName",
    "AccountType",
    "Domain",
    "Category",
    "EventTime",
    "Hostname",
    "SourceName",
    "ProviderGuid",
    "OpcodeValue",
    "port",
    "tags",
    "@version",
    "@timestamp",
    "EventTypeOrignal",
    "ExecutionProcessID",
)


def read(path):
    rep = IngestReport()
    return list(read_events(path, report=rep)), rep


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def by_code(evs, code):
    return next(e for e in evs if e["EventCode"] == code)


def test_nxlog_metadata_mapped_not_data(fx):
    path = fx / "json_lines/ad_T1027_nxlog.jsonl"
    evs, rep = read(path)
    assert [e["EventCode"] for e in evs] == ["1", "10", "13", "22", "4624", "7036"]
    assert rep.read == 6 and rep.skipped == 0 and rep.by_format == {"jsonl": 6}
    for e in evs:
        assert not set(NXLOG_META) & set(e), set(NXLOG_META) & set(e)
        assert e["sourcetype"] == "XmlWinEventLog"
        assert e["source"] == f"XmlWinEventLog:{e['Channel']}"
        assert e["host"] == "win-dc-881393.attackrange.local" == e["Computer"]
    reg = by_code(evs, "13")
    src = next(r for r in records(path) if r["EventID"] == 13)
    # NXLog overwrote Sysmon's EventType with its own "INFO"; the Message holds the real one
    assert src["EventType"] == "INFO" and "\r\nEventType: SetValue\r\n" in src["Message"]
    assert reg["EventType"] == "SetValue"
    assert reg["Level"] == "4" and reg["Task"] == "13" and reg["Opcode"] == "0" and reg["Version"] == "2"
    assert reg["Keywords"] == "0x8000000000000000"  # from -9223372036854775808
    assert reg["ProcessID"] == "'2740'" and reg["ThreadID"] == "'3440'" and reg["UserID"] == "'S-1-5-18'"
    assert reg["SystemTime"] == "'2020-08-01T05:47:10.000000000Z'"
    assert reg["_time"] == calendar.timegm((2020, 8, 1, 5, 47, 10)) + 0.422  # UtcTime
    raw = reg["_raw"]
    # EventData in Sysmon's own order (the Message's), RuleName present though empty
    order = [raw.index(f"<Data Name='{k}'>") for k in ("RuleName", "EventType", "UtcTime", "ProcessGuid", "Image")]
    assert order == sorted(order)
    logon = by_code(evs, "4624")
    assert logon["Level"] == "0" and logon["Keywords"] == "0x8020000000000000"
    assert logon["LogonType"] == "5" and logon["LogonProcessName"] == "Advapi  "
    assert "UserID" not in logon
    scm = by_code(evs, "7036")
    assert scm["Keywords"] == "0x8080000000000000" and scm["Guid"] == "'{555908D1-A6D7-4695-8E1E-26931D2012F4}'"


def test_mordor_logstash_shape(fx):
    evs, rep = read(fx / "json_lines/sd_msf_record_mic_mordor_nxlog.jsonl")
    assert len(evs) == 5 and rep.skipped == 0
    reg = by_code(evs, "13")
    assert reg["EventType"] == "SetValue"  # the event's own; NXLog's went to EventTypeOrignal
    assert reg["host"] == "WORKSTATION6.mordor.local"  # Hostname, not Logstash's host
    assert reg["ProcessGuid"] == "{6A910B9D-498A-5EE0-C903-000000000400}"  # uppercased
    assert reg["ProcessID"] == "'3500'"  # ExecutionProcessID
    # EventTime is the host's local time (UTC-4 here): @timestamp - EventReceivedTime = +4h
    assert reg["SystemTime"] == "'2020-06-10T02:50:54.000000000Z'"
    assert reg["_time"] == calendar.timegm((2020, 6, 10, 2, 50, 54)) + 0.631
    for e in evs:
        assert not set(NXLOG_META) & set(e)
        assert "type" not in e


def test_otrf_flat_shape(fx):
    evs, rep = read(fx / "json_lines/sd_auditpol_otrf_flat.jsonl")
    assert [e["EventCode"] for e in evs] == ["1", "10", "4688", "4703"]
    proc = by_code(evs, "4688")
    assert proc["Guid"] == "'{54849625-5478-4994-A5BA-3E3B0328C30D}'"
    assert proc["Level"] == "0" and proc["Task"] == "13312" and proc["Keywords"] == "0x8020000000000000"
    assert proc["NewProcessName"] == r"C:\Windows\System32\smartscreen.exe"
    assert proc["SystemTime"] == "'2022-08-18T06:56:13.608000000Z'"
    assert proc["_time"] == calendar.timegm((2022, 8, 18, 6, 56, 13)) + 0.608
    sysmon = by_code(evs, "1")
    assert sysmon["ProcessGuid"] == "{564FF025-44FD-62FE-9F04-000000000600}"
    assert "Level" in sysmon and "Message" not in sysmon and "Hostname" not in sysmon


def test_minimal_shape(fx):
    evs, rep = read(fx / "json_lines/sd_cmd_netsh_minimal.jsonl")
    assert [e["EventCode"] for e in evs] == ["1", "1102", "4688"]
    assert all(e["host"] == "WORKSTATION5" for e in evs)
    assert evs[0]["Task"] == "1" and evs[0]["Keywords"] == "0x8000000000000000"  # Sysmon constants


def test_winlogbeat6_shape(fx):
    evs, rep = read(fx / "json_lines/sd_empire_enable_rdp_winlogbeat6.jsonl")
    assert [e["EventCode"] for e in evs] == ["3", "13", "4624", "20523"]
    reg = by_code(evs, "13")
    assert reg["EventType"] == "SetValue" and reg["Task"] == "13" and reg["Level"] == "4"
    assert reg["Opcode"] == "0" and reg["RecordNumber"] == "5402088"
    assert reg["UserID"] == "'S-1-5-18'" and reg["host"] == "HFDC01.shire.com"
    assert "<Data Name='RuleName'></Data>" in reg["_raw"]
    logon = by_code(evs, "4624")
    assert logon["Level"] == "0" and logon["Keywords"] == "0x8020000000000000"
    assert logon["LogonGuid"] == "{4925F3AF-5C7D-5820-132B-7C9C02DED4B0}"
    rdp = by_code(evs, "20523")
    assert rdp["ListenerName"] == "RDP-Tcp"
    assert rdp["Class"] == "{5828227C-20CF-4408-B73F-73AB70B8849F}"
    assert rdp["UserData_Xml"].startswith("<EventXML><ListenerName>RDP-Tcp</ListenerName>")
    assert rdp["ActivityID"] == "'{F462B993-95C0-4C04-BD6F-009477900000}'"


def test_synthesized_raw_reads_back_to_the_same_fields(fx, tmp_path):
    for name in (
        "ad_T1027_nxlog.jsonl",
        "sd_msf_record_mic_mordor_nxlog.jsonl",
        "sd_auditpol_otrf_flat.jsonl",
        "sd_cmd_netsh_minimal.jsonl",
        "sd_empire_enable_rdp_winlogbeat6.jsonl",
    ):
        evs, _ = read(fx / "json_lines" / name)
        p = tmp_path / f"{name}.xml.log"
        p.write_text("\n".join(e["_raw"] for e in evs) + "\n")
        again, rep = read(p)
        assert rep.skipped == 0
        assert again == evs, name
        for e in evs:
            assert {k: v for k, v in e.items() if k not in CORE} == extract_fields(e["_raw"])


def test_broken_json_line_is_reported_and_the_rest_kept(fx, tmp_path):
    lines = (fx / "json_lines/ad_T1027_nxlog.jsonl").read_text().splitlines()
    lines[2] = lines[2][:300]  # cut mid-record
    p = tmp_path / "broken.jsonl"
    p.write_text("\n".join(lines) + "\n")
    evs, rep = read(p)
    assert [e["EventCode"] for e in evs] == ["1", "10", "22", "4624", "7036"]
    assert rep.read == 5 and rep.skipped == 1 and rep.skipped_by_reason == {"invalid JSON": 1}
    assert len(rep.errors) == 1 and rep.errors[0].startswith(f"{p} line 3: invalid JSON")


def test_records_that_are_not_events(tmp_path):
    p = tmp_path / "other.jsonl"
    p.write_text('{"hello": "world"}\n[1, 2]\n42\n')
    evs, rep = read(p)
    # an array line counts each of its items as a record
    assert evs == [] and rep.skipped == 4
    assert rep.skipped_by_reason == {"not a Windows event": 4}
    assert rep.errors[0] == f"{p} line 1: JSON record without EventID: not a Windows event"


def test_json_document_and_array(fx, tmp_path):
    recs = records(fx / "json_lines/sd_cmd_netsh_minimal.jsonl")
    arr = tmp_path / "array.json"
    arr.write_text(json.dumps(recs, indent=2))
    evs, rep = read(arr)
    assert [e["EventCode"] for e in evs] == ["1", "1102", "4688"] and rep.skipped == 0
    meta = tmp_path / "metadata.json"
    meta.write_text(json.dumps({"session_id": "x", "hosts": {"a": 1}}, indent=4))
    evs, rep = read(meta)
    assert evs == [] and rep.skipped_by_reason == {"not a log file": 1}


def test_evtx_dump_json_shape():
    rec = {
        "Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": "Service Control Manager", "Guid": "{555908d1-a6d7-4695-8e1e-26931d2012f4}"}},
                "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7036},
                "Version": 0,
                "Level": 4,
                "Keywords": "0x8080000000000000",
                "TimeCreated": {"#attributes": {"SystemTime": "2020-09-09T05:34:22.744655Z"}},
                "EventRecordID": 79280,
                "Execution": {"#attributes": {"ProcessID": 800, "ThreadID": 864}},
                "Channel": "System",
                "Computer": "EC2AMAZ-V5DC57V",
                "Security": None,
            },
            "EventData": {"param1": "Distributed Transaction Coordinator", "param2": "stopped", "Binary": "4D00"},
        }
    }
    from splhunt.ingest.common import Context
    from splhunt.ingest.jsonl import record_to_event

    e = record_to_event(rec, Context("x", IngestReport()), "line 1")
    assert e["EventCode"] == "7036" and "EventID" not in e and e["Qualifiers"] == "'16384'"
    assert e["param2"] == "stopped" and e["ProcessID"] == "'800'"
    assert e["SystemTime"] == "'2020-09-09T05:34:22.744655000Z'"
    assert e["_time"] == calendar.timegm((2020, 9, 9, 5, 34, 22)) + 0.744655
    assert "<Binary>" not in e["_raw"]


def test_keywords_text():
    assert keywords_text(-9223372036854775808) == "0x8000000000000000"
    assert keywords_text(-9214364837600034816) == "0x8020000000000000"
    assert keywords_text(36028797018963968) == "0x80000000000000"
    assert keywords_text("0x8010000000000000") == "0x8010000000000000"
    assert keywords_text(None) is None


def test_orjson_and_json_agree_on_fixture_values(fx):
    # the reader uses orjson; the assertions above were written against json.loads
    for p in (fx / "json_lines").iterdir():
        for line in p.read_text().splitlines():
            assert orjson.loads(line) == json.loads(line)


def test_non_utf8_byte_in_a_json_line(fx, tmp_path):
    data = (fx / "json_lines/sd_cmd_netsh_minimal.jsonl").read_bytes().splitlines()
    data[1] = data[1].replace(b"WORKSTATION5", b"WORKSTATI\xd6N5", 1)
    p = tmp_path / "latin1.jsonl"
    p.write_bytes(b"\n".join(data) + b"\n")
    evs, rep = read(p)
    assert len(evs) == 3 and rep.skipped == 0
    assert evs[1]["host"] == "WORKSTATI\ufffdN5"
    assert rep.warnings_by_reason == {"non-UTF-8 bytes replaced": 1}
    assert rep.warnings[0].startswith(f"{p} line 2: non-UTF-8 byte 0xd6")


def test_splunk_hec_and_export_records_holding_raw_events(fx, tmp_path):
    xml = (fx / "xml_lines/ad_T1202_sysmon.log").read_text().splitlines()
    classic = (fx / "classic_text/ad_T1550_4624.raw").read_text()
    p = tmp_path / "hec.json"
    p.write_text(
        json.dumps({"time": 1, "sourcetype": "XmlWinEventLog", "event": xml[0]})
        + "\n"
        + json.dumps({"preview": False, "result": {"_raw": xml[1], "_time": "x"}})
        + "\n"
        + json.dumps({"_raw": classic})
        + "\n"
    )
    evs, rep = read(p)
    assert [e["EventCode"] for e in evs] == ["10", "1", "4624"]
    assert rep.by_format == {"xmlwineventlog": 2, "wineventlog": 1} and rep.skipped == 0
    assert evs[0]["_raw"] == xml[0] and evs[2]["source"] == "WinEventLog:Security"
