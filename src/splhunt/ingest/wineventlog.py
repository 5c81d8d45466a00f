"""Classic multi-line ``WinEventLog`` text (a forwarder with ``renderXml = false``).

An event is a ``MM/DD/YYYY HH:MM:SS AM`` header line, then ``Key=Value`` lines
(``LogName=``, ``EventCode=``, ``ComputerName=`` ...), then ``Message=`` and the
multi-line message text, up to the next header line (or an XML ``<Event``: mixed files
exist). ``_raw`` is the original text.

Fields, as Splunk's ``[source::WinEventLog...]`` ``REPORT-MESSAGE = wel-message,
wel-eq-kv, wel-col-kv`` gives them:

* ``wel-eq-kv``: every ``Key=Value`` line before ``Message=`` as field ``Key``;
* ``wel-message``: ``Message`` = the text after ``Message=`` (all its lines);
* ``wel-col-kv``: every ``Label:<spaces/tabs>value`` line of the message as a field
  whose name is the label with Splunk's key cleaning (``New Process Name`` ->
  ``New_Process_Name``, the leading tab dropped). Section lines such as ``Subject:``
  carry no value and give no field, so section prefixes are ignored; a label that
  repeats (``Security ID`` under Subject and under New Logon) becomes a multivalue
  field, in message order (``MV_ADD = true``).

Defaults, and why they differ from the XML formats: ``source`` =
``WinEventLog:<LogName>`` and ``sourcetype`` = ``WinEventLog``. That is how Splunk
labels this rendering and how ESCU's tests replay these files (the XML field names
``NewProcessName`` etc. do not exist here - the message labels do - so labelling them
``XmlWinEventLog`` would make XML-keyed searches silently miss). ``host`` =
``ComputerName``. ``_time`` comes from the header line, read as UTC: the text carries no
zone (Splunk would use the forwarder's zone, unknown here).
"""

from __future__ import annotations

import calendar
import re
from typing import Any, BinaryIO

from .common import Context
from .winxml import CORE, _add, clean_key, first

CLASSIC_HEADER = re.compile(
    r"\s*(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?: ?([AaPp])[Mm])?\s*$"
)
_KV_LINE = re.compile(r"[A-Za-z][\w ]*=")
COL_KV = re.compile(r"\n([^:\n\r]+):[ \t]++([^\r\n]*)")


def is_classic_start(line: str, nxt: tuple[int, str, str] | None) -> bool:
    """A header line followed by a ``Key=`` line (``LogName=`` in practice)."""
    return (
        nxt is not None
        and CLASSIC_HEADER.match(line) is not None
        and _KV_LINE.match(nxt[1]) is not None
    )


def header_time(line: str) -> float | None:
    m = CLASSIC_HEADER.match(line)
    if not m:
        return None
    mo, d, y, h, mi, s, ap = m.groups()
    mo, d, y, h, mi, s = int(mo), int(d), int(y), int(h), int(mi), int(s)
    if ap:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if ap in "Pp" else 0)
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 60):
        return None
    try:
        if d > calendar.monthrange(y, mo)[1]:
            return None
    except (ValueError, calendar.IllegalMonthError):
        return None
    return float(calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)))


def classic_fields(raw: str) -> dict[str, Any]:
    """wel-eq-kv + wel-message + wel-col-kv fields of one classic event text."""
    fields: dict[str, Any] = {}
    pos = raw.find("\nMessage=")
    if raw.startswith("Message="):
        pos = -1
    pre = raw if pos < 0 else raw[:pos]
    for line in pre.split("\n")[1:]:
        k, sep, v = line.partition("=")
        if sep and k:
            v = v.rstrip("\r")
            k = clean_key(k.strip())
            if v and k and k not in CORE:
                _add(fields, k, v)
    if pos >= 0:
        message = raw[pos + 9 :].rstrip()
        if message:
            _add(fields, "Message", message)
        for k, v in COL_KV.findall(message):
            v = v.rstrip()
            if v:
                k = clean_key(k.strip())
                if k and k not in CORE:
                    _add(fields, k, v)
    return fields


def classic_event(lines: list[str], ctx: Context, where: str) -> dict[str, Any]:
    """The event dict of one classic event (its lines, each with its end-of-line)."""
    raw = "".join(lines).rstrip()
    ev = classic_fields(raw)
    t = header_time(lines[0])
    if t is None:
        ctx.warn(where, "unparseable header time; _time is null", "no timestamp")
    ev["_raw"] = raw
    ev["_time"] = t
    logname = first(ev.get("LogName"))
    ev["host"] = ctx.host if ctx.host is not None else first(ev.get("ComputerName"))
    if ctx.source is not None:
        ev["source"] = ctx.source
    else:
        ev["source"] = f"WinEventLog:{logname}" if logname else ctx.name
    ev["sourcetype"] = ctx.sourcetype if ctx.sourcetype is not None else "WinEventLog"
    ev["index"] = ctx.index
    return ev


def read(stream: BinaryIO, ctx: Context):
    """Events of a classic text file (XML events in it are read too)."""
    from .xmlwineventlog import read as read_text

    return read_text(stream, ctx)
