"""What every reader shares: the per-file context and the final event assembly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .report import IngestReport
from .winxml import event_time, extract_fields, first

#: by_format keys, one per event format.
FMT_EVTX = "evtx"
FMT_XML = "xmlwineventlog"
FMT_JSON = "jsonl"
FMT_CLASSIC = "wineventlog"


@dataclass
class Context:
    """One input file (or archive member) being read.

    `name` is how messages name the file (``path`` or ``archive.zip!member``); `top`
    is the input file it belongs to (the archive for a member), under which the
    report counts. `source`, `sourcetype`, `host` override the per-event defaults.
    """

    name: str
    report: IngestReport
    source: str | None = None
    sourcetype: str | None = None
    index: str = "main"
    host: str | None = None
    #: Events read per format in this file (the pipeline moves them to the report).
    pending_formats: dict[str, int] = field(default_factory=dict)
    #: Reader's own estimate of how far it is (0..1), for progress of opaque readers.
    fraction: float = 0.0
    top: str = ""

    def __post_init__(self) -> None:
        if not self.top:
            self.top = self.name

    @property
    def member(self) -> str | None:
        """The archive member name, or None for a plain file."""
        return self.name if self.name != self.top else None

    def error(self, where: str, message: str, reason: str, count: int = 1) -> None:
        """Skip `count` records, with a message naming the file and the record/line."""
        self.report.skip(self.top, reason, f"{self.name} {where}: {message}", count, self.member)

    def skip(self, reason: str, count: int = 1) -> None:
        """Skip records without a message (e.g. a non-log file)."""
        self.report.skip(self.top, reason, None, count, self.member)

    def warn(self, where: str, message: str, reason: str) -> None:
        self.report.warn(reason, f"{self.name} {where}: {message}")


def xml_event(
    raw: str, ctx: Context, where: str, fields: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The event dict of one Windows XML rendering (see `winxml`).

    `fields`, when given, are ``extract_fields(raw)`` already computed.
    """
    ev = extract_fields(raw) if fields is None else fields
    t = event_time(ev)
    if t is None:
        ctx.warn(where, "no parseable UtcTime/SystemTime; _time is null", "no timestamp")
    ev["_raw"] = raw
    ev["_time"] = t
    chan = ev.get("Channel")
    if chan is not None and chan.__class__ is list:
        chan = chan[0]
    ev["host"] = ctx.host if ctx.host is not None else first(ev.get("Computer"))
    if ctx.source is not None:
        ev["source"] = ctx.source
    else:
        ev["source"] = f"XmlWinEventLog:{chan}" if chan else ctx.name
    ev["sourcetype"] = ctx.sourcetype if ctx.sourcetype is not None else "XmlWinEventLog"
    ev["index"] = ctx.index
    return ev
