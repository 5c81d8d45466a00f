"""EVTX through pyevtx-rs: Windows-faithful rendering, truncated and corrupt files.

The fixture is the file header and first chunk of an attack_data (Apache-2.0) Sysmon
log: 54 records, ids 40892314-40892367. Damaged variants are made at runtime.
"""

from __future__ import annotations

import re
import struct

import pytest

from splhunt.ingest import IngestReport, read_events
from splhunt.ingest.evtx import to_windows_xml
from splhunt.ingest.winxml import extract_fields

EVTX = "evtx_files/ad_T1003.001_sysmon_chunk0.evtx"
FIRST_ID, N = 40892314, 54


def read(path):
    rep = IngestReport()
    return list(read_events(path, report=rep)), rep


def record_spans(data: bytes, chunk: int = 0) -> list[tuple[int, int, int]]:
    """(record id, start, end) of every record of `chunk`, read from the EVTX layout."""
    base = 4096 + chunk * 65536
    free = struct.unpack_from("<I", data, base + 48)[0]
    pos, out = base + 512, []
    while pos < base + free:
        assert data[pos : pos + 4] == b"\x2a\x2a\x00\x00"
        size = struct.unpack_from("<I", data, pos + 4)[0]
        out.append((struct.unpack_from("<Q", data, pos + 8)[0], pos, pos + size))
        pos += size
    return out


def test_records_render_as_windows_xml(fx):
    evs, rep = read(fx / EVTX)
    assert len(evs) == N and rep.skipped == 0 and rep.by_format == {"evtx": N}
    assert [int(e["EventRecordID"]) for e in evs] == list(range(FIRST_ID, FIRST_ID + N))
    first = evs[0]
    assert first["_raw"].startswith(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        "<Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385F-C22A-43E0-BF4C-06F5698FFBD9}'/>"
        "<EventID>16</EventID><Version>3</Version><Level>4</Level><Task>16</Task><Opcode>0</Opcode>"
        "<Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='2022-08-31T19:18:42.164939400Z'/>"
        "<EventRecordID>40892314</EventRecordID><Correlation/><Execution ProcessID='5912' ThreadID='4504'/>"
    )
    for e in evs:
        raw = e["_raw"]
        assert '"' not in re.sub(r">[^<]*<", "><", raw)  # no double-quoted attribute
        assert "<?xml" not in raw and "\n" not in raw
        assert re.search(r"SystemTime='\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z'", raw)
        assert {k: v for k, v in e.items() if k not in ("_raw", "_time", "host", "source", "sourcetype", "index")} == (
            extract_fields(raw)
        )
        assert e["source"] == "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
        assert e["host"] == "win-host-mhaag-attack-range-117"
    reg = next(e for e in evs if e["EventCode"] == "13")
    assert reg["ProcessGuid"].startswith("{C2494F38-") and reg["ProcessGuid"].endswith("}")
    assert reg["_time"] == pytest.approx(1661973522.164)


def test_truncated_evtx_keeps_every_complete_record(fx, tmp_path):
    data = (fx / EVTX).read_bytes()
    spans = record_spans(data)
    assert len(spans) == N
    rid, start, end = spans[30]
    cut = start + (end - start) // 2  # inside record 31
    p = tmp_path / "cut.evtx"
    p.write_bytes(data[:cut])
    evs, rep = read(p)
    complete = sum(1 for _, _, e in spans if e <= cut)
    assert complete == 30
    assert len(evs) == complete
    assert rep.skipped == N - complete and rep.skipped_by_reason == {"truncated EVTX": N - complete}
    assert rep.errors == [
        f"{p} chunk 0 (records {FIRST_ID}-{FIRST_ID + N - 1}): "
        f"{N - complete} record(s) lost: file truncated inside this chunk"
    ]


def test_evtx_cut_inside_the_file_header(fx, tmp_path):
    p = tmp_path / "header.evtx"
    p.write_bytes((fx / EVTX).read_bytes()[:3000])
    evs, rep = read(p)
    assert evs == [] and rep.skipped == 1 and rep.skipped_by_reason == {"truncated EVTX": 1}
    assert rep.errors == [f"{p} file header: truncated EVTX: only 3000 bytes, no complete header"]


def test_corrupt_record_is_reported_and_the_others_kept(fx, tmp_path):
    data = bytearray((fx / EVTX).read_bytes())
    rid, start, end = record_spans(bytes(data))[20]
    for i in range(start + 40, min(end - 8, start + 240)):
        data[i] = 0xAB
    p = tmp_path / "corrupt.evtx"
    p.write_bytes(bytes(data))
    evs, rep = read(p)
    assert rep.skipped >= 1 and len(evs) + rep.skipped == N
    assert rid not in {int(e["EventRecordID"]) for e in evs}
    assert any(m.startswith(f"{p} chunk 0 record {rid}: ") for m in rep.errors)
    assert set(rep.skipped_by_reason) <= {"corrupt EVTX record", "corrupt EVTX chunk"}
    assert len(evs) >= 20  # every record before the damage


def test_to_windows_xml_unit():
    x = (
        '<?xml version="1.0" encoding="utf-8"?>\n<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">'
        '<System><Provider Name="Service Control Manager" Guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}" '
        'EventSourceName="Service Control Manager"></Provider><EventID Qualifiers="16384">7036</EventID>'
        '<TimeCreated SystemTime="2020-09-09T05:34:22.744655Z"></TimeCreated><Correlation></Correlation>'
        '<Security></Security></System><EventData><Data Name="param1">A &amp; B\'s</Data>'
        '<Data Name="Id">C2494F38-B411-630F-636B-000000006A02</Data><Binary>0100</Binary></EventData></Event>'
    )
    raw = to_windows_xml(x, "2020-09-09T05:34:22.7446551Z UTC")
    assert raw == (
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        "<Provider Name='Service Control Manager' Guid='{555908d1-a6d7-4695-8e1e-26931d2012f4}' "
        "EventSourceName='Service Control Manager'/><EventID Qualifiers='16384'>7036</EventID>"
        "<TimeCreated SystemTime='2020-09-09T05:34:22.744655100Z'/><Correlation/><Security/></System>"
        "<EventData><Data Name='param1'>A &amp; B's</Data>"
        "<Data Name='Id'>{C2494F38-B411-630F-636B-000000006A02}</Data><Binary>0100</Binary></EventData></Event>"
    )
