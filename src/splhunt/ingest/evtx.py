"""EVTX files, through pyevtx-rs (``evtx`` package, ``PyEvtxParser``).

Each record is rendered by pyevtx-rs as compact XML (``indent=False``: it keeps the
``\\r\\n`` inside values such as ``PrivilegeList``, unlike its JSON output's lossy
handling of unnamed ``<Data>``, ``<Binary>`` and ``UserData``) and then brought to the
Windows rendering, which is what Splunk indexes and what `winxml` extracts from:

* the ``<?xml ...?>`` declaration is dropped, attributes become single-quoted;
* empty System elements become self-closing (``<Correlation/>``, ``<Security
  UserID='S-1-5-18'/>``, ``<Execution ProcessID='4' ThreadID='8'/>``);
* GUID-typed values, which pyevtx-rs writes bare (``5770385F-C22A-...``), get braces
  (``{5770385F-C22A-...}``) as Windows writes them; values stored as strings keep
  their case (Windows renders them as stored, e.g. a lowercase provider Guid);
* ``SystemTime`` gets the record's full 100 ns precision padded to nine digits, as
  the Universal Forwarder writes it (``2022-03-25T17:46:37.653084200Z``).

Damaged files never stop the run. pyevtx-rs is run with ``skip_errors=True``; before
parsing, the chunk headers are read to learn which record ids each 64 KiB chunk
holds, and afterwards every id that did not come out is accounted for: as ``corrupt
EVTX record`` (with pyevtx-rs's message, which names the record) or as ``truncated
EVTX`` (a file cut inside a chunk; the good records of the cut chunk are still read by
padding the file to the chunk boundary). Messages name the file, the chunk and the
record ids.
"""

from __future__ import annotations

import io
import os
import re
import struct
import warnings
from bisect import bisect_right
from collections.abc import Iterator
from typing import Any, BinaryIO

from evtx import PyEvtxParser

from .common import FMT_EVTX, Context, xml_event
from .winxml import ATTR_RE, DATA_FAST_RE, EID2_RE, KV_RE, _add_pairs, derive, extract_fields

HEADER_SIZE = 4096
CHUNK_SIZE = 65536
MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"

REASON_CORRUPT = "corrupt EVTX record"
REASON_TRUNCATED = "truncated EVTX"
REASON_BAD_CHUNK = "corrupt EVTX chunk"

_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'
_SYS_EL = re.compile(r"<(\w+)((?:\s[^<>]*?)?)>([^<]*)</\1>")
_ATTR = re.compile(r'([^\s=]+)="([^"]*)"')
_BARE_GUID_TEXT = re.compile(
    r">([0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})<"
)
_BARE_GUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
_TAG_DQ = re.compile(r"<[A-Za-z][^<>]*=\"[^<>]*>")
_SELF_CLOSING = ("></Provider>", "></TimeCreated>", "></Correlation>", "></Execution>", "></Security>")
_EMPTY_EL = re.compile(r"<(\w+)((?: [^<>]*)?)></\1>")
_ATTR_BARE_GUID = re.compile(r"='([0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})'")
_SYSTIME = re.compile(r"SystemTime='([^']*)'")
_REC_NO = re.compile(r"record number (\d+)")


def _quote(m: re.Match[str]) -> str:
    return _ATTR.sub(
        lambda a: a.group(1) + "='" + a.group(2).replace("&quot;", '"').replace("'", "&apos;") + "'",
        m.group(0),
    )


def _frac(s: str) -> str:
    i = 20
    while i < len(s) and s[i].isdigit():
        i += 1
    return s[20:i]


def _system_time(val: str, timestamp: str | None) -> str:
    """SystemTime with nine fraction digits, the 100 ns ones taken from the record
    timestamp when it is the same instant (pyevtx-rs writes microseconds in the XML)."""
    if len(val) < 19 or val[19:20] not in (".", "Z"):
        return val
    frac = _frac(val) if val[19:20] == "." else ""
    if timestamp and timestamp[:19] == val[:19] and timestamp[19:20] == ".":
        tfrac = _frac(timestamp)
        if tfrac.startswith(frac):
            frac = tfrac
    return f"{val[:19]}.{(frac + '000000000')[:9]}Z"


def to_windows_xml(x: str, timestamp: str | None = None) -> str:
    """pyevtx-rs compact XML of one record -> the Windows single-line rendering."""
    return convert_record(x, timestamp)[0]


def convert_record(x: str, timestamp: str | None = None) -> tuple[str, dict[str, Any]]:
    """pyevtx-rs compact XML -> (Windows rendering, its fields).

    The fields equal ``extract_fields(raw)`` (tested on every real record): the System
    block's values are collected while it is rewritten, so it is not scanned twice.
    """
    if x.startswith(_DECL):
        x = x[len(_DECL) :]
    elif x.startswith("<?xml"):
        x = x[x.index("?>") + 2 :].lstrip()
    i = x.find("<System>")
    j = x.find("</System>")
    if i < 0 or j < 0:
        return x, extract_fields(x)
    head = x[:i].replace('"', "'")
    sysx = x[i + 8 : j]
    if sysx.count('"') == 2 * sysx.count('="') and "'" not in sysx:
        # Fast path (every real record): all double quotes delimit attribute values.
        sysx = sysx.replace('="', "='").replace('"', "'")
        for tag in _SELF_CLOSING:
            sysx = sysx.replace(tag, "/>")
        if "></" in sysx:
            sysx = _EMPTY_EL.sub(r"<\1\2/>", sysx)
        if "='" in sysx and "-" in sysx:
            sysx = _ATTR_BARE_GUID.sub(r"='{\1}'", sysx)
        m = _SYSTIME.search(sysx)
        if m is not None:
            sysx = f"{sysx[: m.start(1)]}{_system_time(m.group(1), timestamp)}{sysx[m.end(1):]}"
        return _finish(head, sysx, x[j + 9 :], None)
    out = []
    kv: list[tuple[str, str]] = []
    attrs: list[tuple[str, str]] = []
    eid_text = None
    for tag, attr_text, text in _SYS_EL.findall(x, i + 8, j):
        a = ""
        if attr_text:
            for name, val in _ATTR.findall(attr_text):
                if name == "SystemTime":
                    val = _system_time(val, timestamp)
                elif len(val) == 36 and _BARE_GUID.fullmatch(val):
                    val = "{" + val + "}"
                elif "&quot;" in val or "'" in val:
                    val = val.replace("&quot;", '"').replace("'", "&apos;")
                a += f" {name}='{val}'"
                attrs.append((name, f"'{val}'"))
        if text:
            out.append(f"<{tag}{a}>{text}</{tag}>")
            if a:
                if tag == "EventID":
                    eid_text = text
            else:
                kv.append((tag, text))
        else:
            out.append(f"<{tag}{a}/>")
    sysx = "".join(out)
    return _finish(head, sysx, x[j + 9 :], (kv, attrs, eid_text))


def _finish(
    head: str, sysx: str, body: str, sysfields: tuple[list, list, str | None] | None
) -> tuple[str, dict[str, Any]]:
    """Convert the part after ``</System>`` and assemble the raw text and fields."""
    end = body.find("</EventData>")
    if (
        end < 0
        or not body.startswith("<EventData>")
        or body.count('="') != body.count('<Data Name="')
        or body.count("<EventData") != 1
        or "<UserData" in body
        or "<RenderingInfo" in body
        or "<DebugData" in body
    ):
        # Rare shapes (UserData, several blocks...): generic rewrite, regex extraction.
        if '="' in body:
            body = _TAG_DQ.sub(_quote, body)
        if "-" in body:
            body = _BARE_GUID_TEXT.sub(r">{\1}<", body)
        raw = f"{head}<System>{sysx}</System>{body}"
        return raw, extract_fields(raw)
    edx = body[11:end].replace('<Data Name="', "<Data Name='").replace('">', "'>")
    pairs = DATA_FAST_RE.findall(edx)
    guids = [v for _, v in pairs if len(v) == 36 and v[8] == "-" and _BARE_GUID.fullmatch(v)]
    if guids:
        for v in set(guids):
            edx = edx.replace(f">{v}<", f">{{{v}}}<")
        pairs = DATA_FAST_RE.findall(edx)
    if "<Data>" in edx and "-" in edx:
        edx = _BARE_GUID_TEXT.sub(r">{\1}<", edx)
    raw = f"{head}<System>{sysx}</System><EventData>{edx}{body[end:]}"
    fields: dict[str, Any] = {"System_Props_Xml": sysx}
    if sysfields is None:
        _add_pairs(fields, KV_RE.findall(sysx))
        _add_pairs(fields, ATTR_RE.findall(sysx))
        eid_text = None
        if "EventID" not in fields:
            m = EID2_RE.search(sysx)
            eid_text = m.group(1) if m else None
    else:
        kv, attrs, eid_text = sysfields
        _add_pairs(fields, kv)
        _add_pairs(fields, attrs)
    fields["EventData_Xml"] = edx
    _add_pairs(fields, pairs)
    derive(fields, eid_text)
    return raw, fields


def _chunk_map(
    data_or_path: bytes | str, size: int
) -> tuple[list[tuple[int, int, int]], list[tuple[int, str, str]]]:
    """(first id, last id, chunk index) for every chunk with a valid header, and notes.

    Notes, (chunk index, message, reason), describe chunks whose header is cut or invalid.
    """
    chunks: list[tuple[int, int, int]] = []
    notes: list[tuple[int, str, str]] = []
    n_chunks = (size - HEADER_SIZE + CHUNK_SIZE - 1) // CHUNK_SIZE if size > HEADER_SIZE else 0
    f: BinaryIO
    f = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else open(data_or_path, "rb")  # noqa: SIM115
    try:
        for k in range(n_chunks):
            off = HEADER_SIZE + k * CHUNK_SIZE
            f.seek(off)
            h = f.read(40)
            if len(h) < 40:
                notes.append((k, "file truncated inside the chunk header", REASON_TRUNCATED))
                continue
            if h[:8] != CHUNK_MAGIC:
                if h.strip(b"\x00"):
                    notes.append((k, "invalid chunk header; its records are lost", REASON_BAD_CHUNK))
                continue  # an all-zero chunk is preallocated, unused space
            _fern, _lern, first_id, last_id = struct.unpack_from("<QQQQ", h, 8)
            if last_id >= first_id and last_id - first_id < 100_000:
                chunks.append((first_id, last_id, k))
            else:
                notes.append((k, f"invalid record range {first_id}-{last_id}", REASON_BAD_CHUNK))
    finally:
        f.close()
    return chunks, notes


def _cut_records(data: bytes, chunk_start: int) -> set[int]:
    """Ids of the records of the chunk at `chunk_start` that run past the end of `data`."""
    out: set[int] = set()
    if len(data) < chunk_start + 512 or data[chunk_start : chunk_start + 8] != CHUNK_MAGIC:
        return out
    pos = chunk_start + 512
    while pos + 16 <= len(data) and data[pos : pos + 4] == b"\x2a\x2a\x00\x00":
        rec_size = struct.unpack_from("<I", data, pos + 4)[0]
        if rec_size < 24:
            break
        if pos + rec_size > len(data):
            out.add(struct.unpack_from("<Q", data, pos + 8)[0])
            break
        pos += rec_size
    return out


def read(stream: BinaryIO | None, ctx: Context, path: str | None = None) -> Iterator[dict[str, Any]]:
    """Events of one EVTX file, given as an open stream or (faster) a filesystem path."""
    if path is not None:
        size = os.path.getsize(path)
        source: Any = path
    else:
        data = stream.read() if stream is not None else b""
        size = len(data)
        source = data
    if size < HEADER_SIZE:
        ctx.error("file header", f"truncated EVTX: only {size} bytes, no complete header", REASON_TRUNCATED)
        return
    chunks, notes = _chunk_map(source, size)
    spill = (size - HEADER_SIZE) % CHUNK_SIZE
    truncated = spill != 0
    incomplete: set[int] = set()
    if truncated:
        # Pad the last, cut chunk so pyevtx-rs reads the records that are complete;
        # the records the cut runs through are dropped (their tail would be zeros).
        if isinstance(source, str):
            with open(source, "rb") as f:
                source = f.read()
        incomplete = _cut_records(source, size - spill)
        source = source + b"\x00" * (CHUNK_SIZE - spill)
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    expected = sum(last - first + 1 for first, last, _ in chunks)
    starts = sorted((first, last, k) for first, last, k in chunks)
    firsts = [c[0] for c in starts]
    got_by_chunk: dict[int, int] = {}
    corrupt: dict[int, str] = {}
    other: list[str] = []
    counts = ctx.pending_formats
    n_read = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parser = PyEvtxParser(source, number_of_threads=1, indent=False, skip_errors=True)
            for rec in parser.records():
                if caught:
                    for w in caught:
                        msg = str(w.message)
                        m = _REC_NO.search(msg)
                        if m:
                            corrupt[int(m.group(1))] = msg
                        else:
                            other.append(msg)
                    caught.clear()
                rid = rec["event_record_id"]
                if rid in incomplete:
                    continue
                i = bisect_right(firsts, rid) - 1
                if i >= 0 and rid <= starts[i][1]:
                    k = starts[i][2]
                    got_by_chunk[k] = got_by_chunk.get(k, 0) + 1
                raw, fields = convert_record(rec["data"], rec.get("timestamp"))
                n_read += 1
                counts[FMT_EVTX] = counts.get(FMT_EVTX, 0) + 1
                if expected:
                    ctx.fraction = min(1.0, n_read / expected)
                yield xml_event(raw, ctx, f"record {rid}", fields)
        except Exception as exc:  # pyevtx-rs must never stop the run
            other.append(f"parser stopped after {n_read} records: {exc}")
        for w in caught:
            msg = str(w.message)
            m = _REC_NO.search(msg)
            if m:
                corrupt[int(m.group(1))] = msg
            else:
                other.append(msg)
    for k, message, reason in notes:
        ctx.error(f"chunk {k}", message, reason)
    accounted = set()
    for first_id, last_id, k in starts:
        missing = (last_id - first_id + 1) - got_by_chunk.get(k, 0)
        if missing <= 0:
            continue
        bad = sorted(r for r in corrupt if first_id <= r <= last_id)
        for r in bad:
            accounted.add(r)
            ctx.error(f"chunk {k} record {r}", corrupt[r].replace("Skipping EVTX data: ", ""), REASON_CORRUPT)
        rest = missing - len(bad)
        if rest > 0:
            cut = truncated and k == max(c[2] for c in starts)
            why = "file truncated inside this chunk" if cut else "records unreadable (damaged chunk)"
            ctx.error(
                f"chunk {k} (records {first_id}-{last_id})",
                f"{rest} record(s) lost: {why}",
                REASON_TRUNCATED if cut else REASON_BAD_CHUNK,
                rest,
            )
    for r, msg in sorted(corrupt.items()):
        if r not in accounted and not any(f <= r <= la for f, la, _ in starts):
            ctx.error(f"record {r}", msg.replace("Skipping EVTX data: ", ""), REASON_CORRUPT)
    for msg in other:
        ctx.error("parser", msg.replace("Skipping EVTX data: ", ""), REASON_BAD_CHUNK)
