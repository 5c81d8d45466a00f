"""Archives, compressed files, directory walks and content sniffing."""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
import zipfile

from splhunt.ingest import IngestReport, read_events
from splhunt.ingest.detect import (
    CLASSIC,
    EVTX,
    GZIP,
    JSON,
    TAR,
    UNKNOWN,
    XML,
    ZIP,
    skip_by_name,
    sniff,
)

NX = "json_lines/ad_T1027_nxlog.jsonl"  # 6 events
SYS = "xml_lines/ad_T1202_sysmon.log"  # 3 events
CLS = "classic_text/ad_T1202_security_4688.log"  # 2 events
EVTX_FX = "evtx_files/ad_T1003.001_sysmon_chunk0.evtx"  # 54 events


def read(path):
    rep = IngestReport()
    return list(read_events(path, report=rep)), rep


def test_sniff_by_content(fx):
    assert sniff((fx / EVTX_FX).read_bytes()[:64]) == EVTX
    assert sniff((fx / SYS).read_bytes()[:64]) == XML
    assert sniff((fx / NX).read_bytes()[:64]) == JSON
    assert sniff((fx / CLS).read_bytes()[:64]) == CLASSIC
    assert sniff(b"#Bulk events\n\n<Event xmlns=") == XML
    assert sniff(b'"<Event xmlns=\'x\'>') == JSON
    assert sniff(b"\xef\xbb\xbf<Event ") == XML
    assert sniff("<Event ".encode("utf-16")) == XML
    assert sniff(b"PK\x03\x04....") == ZIP and sniff(b"\x1f\x8b\x08") == GZIP
    assert sniff(b"\x00" * 257 + b"ustar\x00") == TAR
    assert sniff(b"hello world") == UNKNOWN and sniff(b"\x00\x01binary") == UNKNOWN


def test_skip_by_name():
    for n in ("MANIFEST.csv", "README", "readme.md", "LICENSE.GPL", "x.pcap", "a/b/c.yml", "cap.pcapng", "notes.md"):
        assert skip_by_name(n), n
    for n in ("sysmon.log", "attack_data.txt", "a.json", "Security.evtx", "x.raw", "x.out", "x.zip"):
        assert not skip_by_name(n), n


def test_wrong_extension_is_sniffed(fx, tmp_path):
    p = tmp_path / "events.json"  # XML content
    shutil.copy(fx / SYS, p)
    evs, rep = read(p)
    assert len(evs) == 3 and rep.by_format == {"xmlwineventlog": 3}


def test_zip_with_members_nested_zip_and_non_logs(fx, tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.write(fx / SYS, "deep/sysmon.log")
    p = tmp_path / "bundle.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(fx / NX, "logs/nxlog.json")
        z.write(fx / EVTX_FX, "logs/Microsoft-Windows-Sysmon%4Operational.evtx")
        z.writestr("README.md", "# about")
        z.writestr("capture.pcapng", b"\x0a\x0d\x0d\x0a")
        z.writestr("inner.zip", inner.getvalue())
        z.writestr("logs/", "")
    evs, rep = read(p)
    assert len(evs) == 6 + 54 + 3
    assert rep.by_format == {"jsonl": 6, "evtx": 54, "xmlwineventlog": 3}
    assert rep.skipped_by_reason == {"not a log file": 2}
    assert rep.files == 3
    assert rep.per_file[str(p)].read == 63 and rep.per_file[str(p)].skipped == 2
    assert rep.per_member[f"{p}!inner.zip!deep/sysmon.log"].read == 3
    assert rep.per_member[f"{p}!logs/nxlog.json"].format == "jsonl"


def test_gzip_tar_gz_tgz(fx, tmp_path):
    gz = tmp_path / "security.log.gz"
    gz.write_bytes(gzip.compress((fx / CLS).read_bytes()))
    evs, rep = read(gz)
    assert len(evs) == 2 and rep.by_format == {"wineventlog": 2}
    assert f"{gz}!security.log" in rep.per_member
    for name in ("bundle.tar.gz", "bundle.tgz"):
        tp = tmp_path / name
        with tarfile.open(tp, "w:gz") as t:
            t.add(fx / NX, "a/nxlog.txt")
            t.add(fx / SYS, "a/sysmon.log")
            t.add(fx / "NOTICE.md", "a/NOTICE.md")
        evs, rep = read(tp)
        assert len(evs) == 9, name
        assert rep.skipped_by_reason == {"not a log file": 1}
        assert f"{tp}!a/nxlog.txt" in rep.per_member


def test_gzip_trailing_garbage_tolerated_and_truncation_reported(fx, tmp_path):
    blob = gzip.compress((fx / NX).read_bytes())
    ok = tmp_path / "trailing.jsonl.gz"
    ok.write_bytes(blob + b"\n")  # as in the Security-Datasets .tar.gz files
    evs, rep = read(ok)
    assert len(evs) == 6 and rep.skipped == 0
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(blob[: len(blob) * 2 // 3])
    evs, rep = read(cut)
    assert 0 < len(evs) < 6
    assert rep.skipped_by_reason.get("unreadable file") == 1
    assert any("compressed stream ends before the end" in m for m in rep.errors)


def test_directory_walk_sorted_and_non_log_files_counted(fx, tmp_path):
    d = tmp_path / "data"
    (d / "b").mkdir(parents=True)
    (d / "a").mkdir()
    shutil.copy(fx / SYS, d / "b" / "sysmon.log")
    shutil.copy(fx / CLS, d / "a" / "security.log")
    shutil.copy(fx / NX, d / "nx.txt")
    for name in ("MANIFEST.csv", "README.md", "LICENSE", "c.pcap", "info.yml"):
        (d / name).write_text("not a log")
    (d / "odd.dat").write_bytes(b"\x00\x01\x02 binary")
    evs, rep = read(d)
    # a directory's own files (sorted), then its subdirectories (sorted): nx.txt, a/, b/
    assert [e["sourcetype"] for e in evs] == ["XmlWinEventLog"] * 6 + ["WinEventLog"] * 2 + ["XmlWinEventLog"] * 3
    assert rep.skipped_by_reason == {"not a log file": 6}
    assert rep.errors == []  # skipping non-logs in a walk is not an error
    assert rep.per_file[str(d / "README.md")].skipped == 1


def test_explicit_unrecognised_file_gets_a_message(tmp_path):
    p = tmp_path / "mystery.bin"
    p.write_bytes(b"\x00\x01\x02 binary")
    evs, rep = read(p)
    assert evs == [] and rep.skipped_by_reason == {"not a log file": 1}
    assert rep.errors == [f"{p}: not a recognised log format (EVTX, XML, JSON lines, WinEventLog text)"]


def test_damaged_zip(tmp_path, fx):
    p = tmp_path / "broken.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.write(fx / SYS, "sysmon.log")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 30])  # central directory cut
    evs, rep = read(p)
    assert evs == [] and rep.skipped_by_reason == {"unreadable file": 1}
    assert rep.errors[0].startswith(f"{p}: damaged archive (BadZipFile")
