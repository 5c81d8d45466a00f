"""Splunk ``XmlWinEventLog`` text: one ``<Event>`` per line (and what real files add).

Tolerated: CRLF, blank lines and ``#`` comment lines between events, a missing final
newline, a UTF-8 BOM (or a UTF-16 file), ``<?xml ...?>`` / ``<Events>`` wrappers,
several events on one line, a syslog header before an event (``Aug  9 10:42:47 host
sysmon: <Event>...``, see `sysmon_linux`), events spread over several lines (Windows writes
``PrivilegeList`` values with line breaks; tools pretty-print), and classic multi-line
``WinEventLog`` text events interleaved with the XML ones (attack_data has such a
file; those events go to `wineventlog`). A file stored as one JSON-escaped string is
read by `jsonl` (a JSON string value holding XML events).

``_raw`` is the event text as found. Two rewrites bring foreign renderings to the
Windows one (which is what the add-on's regexes expect): pretty-printing whitespace
between tags is removed (``>\\n   <`` becomes ``><``), and double-quoted attributes
(evtx_dump and similar tools) become single-quoted. A Windows-rendered line is never
changed. Sysmon for Linux events (Channel ``Linux-Sysmon/Operational``) are handed to
`sysmon_linux` as found, without either rewrite.

Bad input: an ``<Event`` without ``</Event>`` before the next event or the end of the
file is skipped as ``truncated XML`` with a message giving its line; lines that are not
part of any event are skipped as ``unrecognized text`` (one count per run of lines).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

from .common import FMT_CLASSIC, FMT_XML, Context, xml_event
from .sysmon_linux import FMT_LINUX, is_linux_sysmon, linux_event, strip_syslog
from .textio import iter_lines
from .wineventlog import CLASSIC_HEADER, classic_event, is_classic_start

EV_START = re.compile(r"<Event[\s>/]")
_WRAPPERS = re.compile(r"(?:\s|<\?xml[^>]*\?>|<Events(?:\s[^>]*)?>|</Events>|<!--.*?-->)*", re.S)
_PRETTY = re.compile(r">[ \t]*\r?\n\s*<")
_TAG_DQ = re.compile(r"<[A-Za-z][^<>]*=\"[^<>]*>")
_ATTR_DQ = re.compile(r"(\s[^\s=<>]+)\s*=\s*\"([^\"]*)\"")
#: An unclosed event larger than this is given up as truncated (bounds memory).
MAX_EVENT_CHARS = 16 * 1024 * 1024

REASON_TRUNCATED = "truncated XML"
REASON_JUNK = "unrecognized text"


def _requote_attrs(m: re.Match[str]) -> str:
    return _ATTR_DQ.sub(
        lambda a: a.group(1) + "='" + a.group(2).replace("'", "&apos;").replace("&quot;", '"') + "'",
        m.group(0),
    )


def windows_form(text: str) -> str:
    """Bring a foreign (pretty-printed / double-quoted) XML event to the Windows form."""
    if "\n" in text:
        text = _PRETTY.sub("><", text).strip()
    if '="' in text:
        text = _TAG_DQ.sub(_requote_attrs, text)
    return text


def read(stream: BinaryIO, ctx: Context) -> Iterator[dict[str, Any]]:
    """Events of an XmlWinEventLog (or mixed XML + classic text) file."""
    return read_lines(iter_lines(stream, ctx), ctx)


def _line_where(n: int) -> str:
    return f"line {n}"


def read_lines(
    lines: Iterable[tuple[int, str, str]],
    ctx: Context,
    where: Callable[[int], str] = _line_where,
) -> Iterator[dict[str, Any]]:
    """Assemble events from (line number, text, end-of-line) triples."""
    counts = ctx.pending_formats
    buf = ""  # pending XML text (an event started, not yet closed)
    buf_line = 0  # line number of buf[0]
    classic: list[str] | None = None
    classic_line = 0
    junk_from = junk_to = 0

    def flush_junk() -> None:
        nonlocal junk_from
        if junk_from:
            loc = where(junk_from)
            if junk_to != junk_from:
                loc = f"{loc}-{junk_to}"
            ctx.error(loc, "not a Windows event (unrecognized text)", REASON_JUNK)
            junk_from = 0

    def emit_xml(text: str, line: int) -> dict[str, Any] | None:
        if is_linux_sysmon(text):  # Sysmon for Linux: kept as found (`sysmon_linux`)
            counts[FMT_LINUX] = counts.get(FMT_LINUX, 0) + 1
            return linux_event(text, ctx, where(line))
        if "\n" in text or '="' in text:
            text = windows_form(text)
        counts[FMT_XML] = counts.get(FMT_XML, 0) + 1
        return xml_event(text, ctx, where(line))

    def drain(final: bool) -> Iterator[dict[str, Any]]:
        """Emit the complete events in buf; keep an unfinished one."""
        nonlocal buf, buf_line
        while buf:
            s = EV_START.search(buf)
            if s is None:
                rest = buf
                if _WRAPPERS.fullmatch(rest) is None:
                    ctx.error(where(buf_line), "not a Windows event (unrecognized text)", REASON_JUNK)
                buf = ""
                return
            start = s.start()
            if start and _WRAPPERS.fullmatch(buf, 0, start) is None:
                ctx.error(where(buf_line), "not a Windows event (unrecognized text)", REASON_JUNK)
            if start:
                buf_line += buf.count("\n", 0, start)
                buf = buf[start:]
            end = buf.find("</Event>")
            nxt = EV_START.search(buf, 1)
            if end >= 0 and (nxt is None or nxt.start() > end):
                ev = emit_xml(buf[: end + 8], buf_line)
                if ev is not None:
                    yield ev
                buf_line += buf.count("\n", 0, end + 8)
                buf = buf[end + 8 :]
                continue
            if nxt is not None:
                ctx.error(where(buf_line), "truncated XML: no </Event> before the next <Event", REASON_TRUNCATED)
                buf_line += buf.count("\n", 0, nxt.start())
                buf = buf[nxt.start() :]
                continue
            if final or len(buf) > MAX_EVENT_CHARS:
                ctx.error(where(buf_line), "truncated XML: no </Event>", REASON_TRUNCATED)
                buf = ""
            return

    def finish_classic() -> dict[str, Any] | None:
        nonlocal classic
        lines_ = classic
        classic = None
        if not lines_:
            return None
        counts[FMT_CLASSIC] = counts.get(FMT_CLASSIC, 0) + 1
        return classic_event(lines_, ctx, where(classic_line))

    it = iter(lines)
    cur = next(it, None)
    while cur is not None:
        nxt = next(it, None)
        n, line, eol = cur
        cur = nxt
        if buf:
            # Inside an unfinished XML event. A classic header ends it (truncated).
            if line[:1].isdigit() and is_classic_start(line, nxt):
                yield from drain(True)
            else:
                buf += line + eol
                if "</Event>" in line or EV_START.search(line):
                    yield from drain(False)
                continue
        if classic is not None:
            if line[:1].isdigit() and is_classic_start(line, nxt):
                ev = finish_classic()
                if ev is not None:
                    yield ev
            elif line.startswith("<Event") and EV_START.match(line):
                ev = finish_classic()
                if ev is not None:
                    yield ev
            else:
                classic.append(line + eol)
                continue
        # Between events.
        if line.startswith("<Event ") and line.endswith("</Event>") and line.count("</Event>") == 1:
            if line.count("<Event ") == 1 and "<Event>" not in line:
                flush_junk()
                counts[FMT_XML] = counts.get(FMT_XML, 0) + 1
                if '="' in line:
                    yield xml_event(windows_form(line), ctx, where(n))
                else:
                    yield xml_event(line, ctx, where(n))
                continue
        s = line.lstrip()
        if not s or s[0] == "#":
            continue
        if s[0] != "<" and "<Event" in s:
            xml = strip_syslog(s)  # syslog-prefixed event (Sysmon for Linux in /var/log/syslog)
            if xml is not None:
                line = s = xml
        if s[0] == "<":
            flush_junk()
            buf, buf_line = line + eol, n
            yield from drain(False)
        elif s[0].isdigit() and is_classic_start(s, nxt):
            flush_junk()
            classic, classic_line = [line + eol], n
        else:
            if not junk_from:
                junk_from = n
            junk_to = n
    if buf:
        yield from drain(True)
    if classic is not None:
        ev = finish_classic()
        if ev is not None:
            yield ev
    flush_junk()


__all__ = ["read", "read_lines", "windows_form", "CLASSIC_HEADER"]
