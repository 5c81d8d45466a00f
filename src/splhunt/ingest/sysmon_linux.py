"""Sysmon for Linux events: one ``<Event>...</Event>`` per line, with or without a syslog prefix.

Sysmon for Linux logs to syslog/journald; a line of ``/var/log/syslog`` looks like
``Aug  9 10:42:47 host sysmon: <Event><System><Provider Name="Linux-Sysmon" .../>...``,
a journald export (what Splunk's ``journald://`` input and attack_data hold) is the bare
``<Event>...</Event>``. Its XML differs from the Windows rendering: no ``xmlns``, attributes
in double quotes (``<Data Name="Image">``), ``<Security UserId="0"/>``.

Decisions (the Splunk Add-on for Sysmon for Linux, Splunkbase 6652, was not available; see
``knowledge/data/sysmon_linux.yml``):

* ``_raw`` is the XML as found, the syslog prefix removed (Splunk's journald input gives the
  bare message; ESCU's ``data_sources/sysmon_for_linux_eventid_*.yml`` example logs are bare).
  The double quotes are kept: the event is not brought to the Windows form.
* Fields: the Windows add-on's generic XML extraction (`winxml`: ``System_Props_Xml``,
  ``EventData_Xml``, System ``<tag>value</tag>`` and attributes, ``EventCode`` =
  ``EventID``), with the EventData regex taking ``Name="..."`` as well as ``Name='...'``
  (ESCU's field lists for these events name ``System_Props_Xml``, ``EventData_Xml``,
  ``Guid``, ``Name``, ``SystemTime``, ``ProcessID``, ``ThreadID``, ``UserId``). Attribute
  values keep their quotes, as that regex captures them (``ProcessID`` = ``"1465"``).
  ``RecordNumber`` (a Windows add-on alias, absent from ESCU's lists) is not produced.
* ``_time`` = EventData ``UtcTime`` as UTC (as for Windows Sysmon), else ``SystemTime``.
* ``source`` = ``Syslog:Linux-Sysmon/Operational``, ``sourcetype`` = ``sysmon:linux`` (ESCU's
  data sources), ``host`` = ``Computer``; ``--source``/``--sourcetype``/``--host`` override.

Only events whose ``Channel`` is ``Linux-Sysmon/Operational`` are read here; the XML reader
(`xmlwineventlog`) hands them over (`is_linux_sysmon`, `strip_syslog`).
"""

from __future__ import annotations

import re
from typing import Any

from .common import Context
from .winxml import _add_pairs, _block, first, parse_time, system_fields

CHANNEL = "Linux-Sysmon/Operational"
SOURCE = "Syslog:Linux-Sysmon/Operational"
SOURCETYPE = "sysmon:linux"
#: by_format key of these events.
FMT_LINUX = "sysmon_linux"

_CHANNEL_TAG = f"<Channel>{CHANNEL}</Channel>"
#: ``<Data Name="x">v`` or ``<Data Name='x'>v`` (the Windows add-on's eventdata_xml_data,
#: taking either quote).
DATA_ANY_RE = re.compile(r"""<\w+\sName=["']([^"'>]*)["']/?>([^<]*)""", re.ASCII)
#: A syslog header before an event: RFC 3164 (``Aug  9 10:42:47``) or RFC 3339
#: (``2022-08-09T10:42:47.123+00:00``) time, optional ``<PRI>``, host, then
#: ``tag[pid]:`` (journalctl's short format is the same shape).
SYSLOG_PREFIX = re.compile(
    r"(?:<\d{1,3}>\d?\s*)?"
    r"(?:[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)"
    r"\s+\S+\s+[^\s:\[]+(?:\[\d+\])?:\s*(?=<Event[\s>])",
    re.ASCII,
)


def is_linux_sysmon(text: str) -> bool:
    """True when the XML event's System Channel is ``Linux-Sysmon/Operational``."""
    return _CHANNEL_TAG in text


def strip_syslog(line: str) -> str | None:
    """The text after a syslog header that is followed by ``<Event``; None otherwise."""
    m = SYSLOG_PREFIX.match(line)
    return line[m.end() :] if m else None


def extract_linux_fields(raw: str) -> dict[str, Any]:
    """Fields of one Sysmon for Linux XML event (see the module docstring)."""
    fields = system_fields(raw)
    got = _block(raw, "EventData")
    if got is not None:
        fields["EventData_Xml"] = got[0]
        _add_pairs(fields, DATA_ANY_RE.findall(got[0]))
    eid = fields.get("EventID")
    if eid is not None and "EventCode" not in fields:
        fields["EventCode"] = first(eid)
    return fields


def linux_event(raw: str, ctx: Context, where: str) -> dict[str, Any]:
    """The event dict of one Sysmon for Linux XML event."""
    ev = extract_linux_fields(raw)
    t = None
    ut = ev.get("UtcTime")
    if ut is not None:
        t = parse_time(first(ut))
    if t is None and ev.get("SystemTime") is not None:
        t = parse_time(first(ev["SystemTime"]))
    if t is None:
        ctx.warn(where, "no parseable UtcTime/SystemTime; _time is null", "no timestamp")
    ev["_raw"] = raw
    ev["_time"] = t
    ev["host"] = ctx.host if ctx.host is not None else first(ev.get("Computer"))
    ev["source"] = ctx.source if ctx.source is not None else SOURCE
    ev["sourcetype"] = ctx.sourcetype if ctx.sourcetype is not None else SOURCETYPE
    ev["index"] = ctx.index
    return ev


__all__ = ["is_linux_sysmon", "strip_syslog", "extract_linux_fields", "linux_event", "FMT_LINUX"]
