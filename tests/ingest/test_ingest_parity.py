"""Format parity: one Sysmon event gives the same fields as EVTX, XML line or JSON line.

The events are the 54 real Sysmon records of the committed EVTX fixture. The same
records are then presented as (a) XmlWinEventLog lines (their Windows rendering),
(b) evtx_dump-style JSON (pyevtx-rs ``records_json``), (c) NXLog JSON lines built the
way NXLog ``im_msvistalog`` writes them (metadata next to flattened EventData, NXLog's
``EventType`` overwriting Sysmon's, ``EventTime`` with one-second precision).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from evtx import PyEvtxParser

from splhunt.ingest import IngestReport, read_events

EVTX = "evtx_files/ad_T1003.001_sysmon_chunk0.evtx"
#: What a JSON source cannot carry at the same precision as EVTX (SystemTime digits).
TIME_TEXT = ("SystemTime", "System_Props_Xml", "_raw")
_ST = re.compile(r"SystemTime='[^']*'")


def read(path) -> tuple[list[dict[str, Any]], IngestReport]:
    rep = IngestReport()
    return list(read_events(path, report=rep)), rep


@pytest.fixture(scope="module")
def evtx_events(fx) -> list[dict[str, Any]]:
    evs, rep = read(fx / EVTX)
    assert len(evs) == 54 and rep.skipped == 0
    return evs


def without(e: dict[str, Any], keys=TIME_TEXT) -> dict[str, Any]:
    return {k: v for k, v in e.items() if k not in keys}


def test_evtx_vs_xml_lines_identical(evtx_events, tmp_path):
    p = tmp_path / "sysmon.log"
    p.write_text("\n".join(e["_raw"] for e in evtx_events) + "\n")
    xml, rep = read(p)
    assert rep.skipped == 0
    assert xml == evtx_events  # every field, _raw and _time included


def test_evtx_vs_evtx_dump_json(fx, evtx_events, tmp_path):
    p = tmp_path / "dump.jsonl"
    with open(p, "w") as f:
        for rec in PyEvtxParser(str(fx / EVTX)).records_json():
            f.write(json.dumps(json.loads(rec["data"])) + "\n")
    js, rep = read(p)
    assert rep.skipped == 0 and rep.by_format == {"jsonl": 54}
    assert [without(e) for e in js] == [without(e) for e in evtx_events]
    for a, b in zip(js, evtx_events, strict=True):
        assert a["_time"] == b["_time"]
        # pyevtx-rs JSON has microseconds where the record has 100 ns
        assert a["SystemTime"][:27] == b["SystemTime"][:27]
        assert _ST.sub("", a["_raw"]) == _ST.sub("", b["_raw"])


def _unescape(v: str) -> str:
    return v.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def nxlog_record(e: dict[str, Any]) -> dict[str, Any]:
    """The event as NXLog im_msvistalog would have written it (see module docstring)."""
    data = re.findall(r"<Data Name='([^']*)'>([^<]*)</Data>", e["EventData_Xml"])
    st = e["SystemTime"].strip("'")
    rec: dict[str, Any] = {
        "EventTime": f"{st[:10]} {st[11:19]}",
        "Hostname": e["Computer"],
        "Keywords": int(e["Keywords"], 16) - (1 << 64 if int(e["Keywords"], 16) >= 1 << 63 else 0),
        "EventType": "INFO",
        "SeverityValue": 2,
        "Severity": "INFO",
        "EventID": int(e["EventID"]),
        "SourceName": (e["Name"][0] if isinstance(e["Name"], list) else e["Name"]).strip("'"),
        "ProviderGuid": e["Guid"].strip("'"),
        "Version": int(e["Version"]),
        "Task": int(e["Task"]),
        "OpcodeValue": int(e["Opcode"]),
        "RecordNumber": int(e["EventRecordID"]),
        "ProcessID": int(e["ProcessID"].strip("'")),
        "ThreadID": int(e["ThreadID"].strip("'")),
        "Channel": e["Channel"],
        "Domain": "NT AUTHORITY",
        "AccountName": "SYSTEM",
        "UserID": e["UserID"].strip("'"),
        "AccountType": "User",
        "Message": "Sysmon event:\r\n" + "\r\n".join(f"{k}: {_unescape(v)}" for k, v in data),
        "Category": "some task (rule: X)",
        "Opcode": "Info",
    }
    for k, v in data:
        if v and k not in rec:  # NXLog's metadata wins over a Data field of the same name
            rec[k] = _unescape(v)
    rec.update({"EventReceivedTime": rec["EventTime"], "SourceModuleName": "eventlog", "SourceModuleType": "im_msvistalog"})
    return rec


def test_evtx_vs_nxlog_json_lines(evtx_events, tmp_path):
    p = tmp_path / "nxlog.jsonl"
    recs = [nxlog_record(e) for e in evtx_events]
    assert any(r["EventID"] == 13 and r["EventType"] == "INFO" for r in recs)  # clobbered
    p.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    js, rep = read(p)
    assert rep.skipped == 0 and len(js) == 54
    for a, b in zip(js, evtx_events, strict=True):
        assert without(a) == without(b)
        assert a["_time"] == b["_time"]  # Sysmon: UtcTime
        assert a["SystemTime"][:20] == b["SystemTime"][:20]  # NXLog keeps whole seconds
        assert _ST.sub("", a["_raw"]) == _ST.sub("", b["_raw"])


def test_field_names_of_one_event_in_three_formats(evtx_events, tmp_path):
    e = next(e for e in evtx_events if e["EventCode"] == "13")
    xml_p = tmp_path / "one.log"
    xml_p.write_text(e["_raw"] + "\n")
    nx_p = tmp_path / "one.jsonl"
    nx_p.write_text(json.dumps(nxlog_record(e)) + "\n")
    (x,), _ = read(xml_p)
    (j,), _ = read(nx_p)
    assert set(e) == set(x) == set(j)
    assert e["EventType"] == x["EventType"] == j["EventType"] == "SetValue"
    assert e["_time"] == x["_time"] == j["_time"]
