"""Windows event XML: the one extraction path every Windows event goes through.

Whatever the input format (EVTX, XmlWinEventLog lines, JSON lines), a Windows event is
brought to its Windows XML rendering - one line, single-quoted attributes, as the
Windows event API and Splunk's Universal Forwarder (``renderXml=1``) write it - and the
fields are extracted from that text with the regexes of the Splunk Add-on for Microsoft
Windows 8.8.0 (``[XmlWinEventLog]``, see ``/work/shared/reference/TA_FIELDS.md`` §2.2).
The regexes are the specification:

``system_xml_block`` / ``eventdata_xml_block`` / ``userdata_xml_block`` /
``debugdata_xml_block`` / ``renderinginfo_xml_block``
    The inner text of ``<System>``, ``<EventData>``, ``<UserData>``, ``<DebugData>``,
    ``<RenderingInfo>`` as fields ``System_Props_Xml``, ``EventData_Xml``,
    ``UserData_Xml``, ``DebugData_Xml``, ``RenderingInfo_Xml`` (ESCU searches read
    ``EventData_Xml`` / ``UserData_Xml``).
``system_props_xml_kv``
    ``<(\\w*)>([^<]*)</\\1>`` in System: ``EventID``, ``Version``, ``Level``, ``Task``,
    ``Opcode``, ``Keywords``, ``EventRecordID``, ``Correlation`` (only when it has
    text), ``Channel``, ``Computer``. An element with attributes (``<EventID
    Qualifiers='16384'>``) does not match, exactly as in Splunk.
``system_props_xml_attributes``
    ``\\s([^\\s=]+)\\s*=\\s*('[^<']*'|"[^<"]*")`` in System: ``Name`` and ``Guid``
    (Provider), ``SystemTime``, ``ProcessID``, ``ThreadID``, ``UserID``, ``ActivityID``,
    ``Qualifiers``, ``EventSourceName``... **The values keep their surrounding single
    quotes** (``UserID`` = ``'S-1-5-18'``, ``ProcessID`` = ``'3000'``): the add-on's
    regex captures them and the Sysmon add-on's own ``replace(ProcessID, "^[']|[']$...")``
    shows Splunk keeps them. This is deliberate; do not strip them here.
``eventdata_xml_data``
    ``<(?:\\w+)\\sName='([^>]*)'/?>([^<]*)`` in EventData: ``<Data Name='X'>v</Data>``
    gives field ``X`` = ``v`` **without XML entity decoding** (``&amp;`` stays
    ``&amp;``). Empty and self-closing Data give no field (Splunk drops empty values).
    Unnamed ``<Data>v</Data>`` and ``<Binary>`` give no field.
``rendering_info_xml_data``
    ``<(\\w*)>([^<]*)</\\1>`` in RenderingInfo.
``EventID_as_EventCode`` / ``EventID2_as_EventCode``, ``EventRecordID_as_RecordNumber``,
``SubStatus_as_Sub_Status``
    ``EventCode`` = EventID (also found when EventID has a ``Qualifiers`` attribute),
    ``RecordNumber`` = EventRecordID, ``Sub_Status`` = SubStatus.

All of the kv transforms are ``MV_ADD = 1``: a name met twice becomes a multivalue
field (a list), values in extraction order - System elements, then System attributes,
then Data. So Sysmon EventID 19/20/21 (which carry a Data ``Name``) get ``Name`` =
[provider name, data Name]. Field names get Splunk's key cleaning (``CLEAN_KEYS``
default: characters other than ``[A-Za-z0-9_]`` become ``_``, leading ``_`` and digits
are dropped); a name that would shadow one of the default fields (``_raw``, ``_time``,
``host``, ``source``, ``sourcetype``, ``index``) is not extracted.

Addition to the add-on (documented, deliberate): the add-on only extracts the
``UserData`` block. splhunt also extracts its leaf elements ``<Tag>v</Tag>`` (same
regex as ``system_props_xml_kv``) as field ``Tag``, but only for names not already
extracted (first wins, like a transform without ``MV_ADD``), so a UserData ``Channel``
(EventID 104) never turns the System ``Channel`` into a multivalue field.

``_time`` (epoch seconds, UTC): for the Sysmon channel
(``Microsoft-Windows-Sysmon/Operational``) the EventData ``UtcTime`` (Sysmon add-on
``TIME_PREFIX = <Data Name='UtcTime'>``, ``TIME_FORMAT = %Y-%m-%d %H:%M:%S.%3N``,
``TZ = UTC``); otherwise System ``TimeCreated SystemTime``. When neither parses the
event is kept with ``_time`` = None and a warning is counted.

``source`` = ``XmlWinEventLog:<Channel>``, ``sourcetype`` = ``XmlWinEventLog``,
``host`` = ``Computer`` (full value) - whatever the file format the event came in.
"""

from __future__ import annotations

import calendar
import re
import time
from typing import Any

XMLNS = "http://schemas.microsoft.com/win/2004/08/events/event"
EVENT_OPEN = f"<Event xmlns='{XMLNS}'>"
SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
CORE = frozenset({"_raw", "_time", "host", "source", "sourcetype", "index"})

_A = re.ASCII
SYS_RE = re.compile(r"<System(?:\s+[^>]+)?>(.*?)</System>", re.S | _A)
ED_RE = re.compile(r"<EventData(?:\s+[^>]+)?>(.*?)</EventData>", re.S | _A)
UD_RE = re.compile(r"<UserData(?:\s+[^>]+)?>(.*?)</UserData>", re.S | _A)
DD_RE = re.compile(r"<DebugData(?:\s+[^>]+)?>(.*?)</DebugData>", re.S | _A)
RI_RE = re.compile(r"<RenderingInfo(?:\s+[^>]+)?>(.*?)</RenderingInfo>", re.S | _A)
KV_RE = re.compile(r"<(\w*)>([^<]*)</\1>", _A)
ATTR_RE = re.compile(r"""\s([^\s=]+)\s*=\s*('[^<']*'|"[^<"]*")""", _A)
DATA_RE = re.compile(r"<(?:\w+)\sName='([^>]*)'/?>([^<]*)(?:</\1>)?", _A)
#: DATA_RE without its optional trailing ``(?:</\1>)?``: same captures, faster.
DATA_FAST_RE = re.compile(r"<\w+\sName='([^>]*)'/?>([^<]*)", _A)
EID2_RE = re.compile(r"<EventID.*?>(.+?)</EventID>", _A)

_SIMPLE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*", _A)
_BAD_KEY_CHARS = re.compile(r"[^A-Za-z0-9_]", _A)
_KEY_CACHE: dict[str, str] = {}
#: Names known to need no cleaning and not to be a default field (grows as met).
_OK_KEYS: set[str] = set()


def clean_key(key: str) -> str:
    """Splunk's search-time key cleaning (transforms.conf ``CLEAN_KEYS = true``)."""
    got = _KEY_CACHE.get(key)
    if got is not None:
        return got
    if _SIMPLE_KEY.fullmatch(key):
        out = key
    else:
        out = _BAD_KEY_CHARS.sub("_", key).lstrip("_0123456789")
    if len(_KEY_CACHE) < 100_000:
        _KEY_CACHE[key] = out
        if out == key and key not in CORE:
            _OK_KEYS.add(key)
    return out


def _add(fields: dict[str, Any], key: str, value: str) -> None:
    """MV_ADD semantics: a second value turns the field into a list."""
    old = fields.get(key)
    if old is None:
        fields[key] = value
    elif old.__class__ is list:
        old.append(value)
    else:
        fields[key] = [old, value]


def _add_pairs(fields: dict[str, Any], pairs: list[tuple[str, str]], skip_empty: bool = True) -> None:
    """Add extracted (name, value) pairs with MV_ADD, key cleaning and empty-value drop.

    The common case (clean, new, distinct names) is done with C-level dict operations.
    """
    d = dict(pairs)
    if len(d) == len(pairs) and _OK_KEYS.issuperset(d) and fields.keys().isdisjoint(d):
        if skip_empty and "" in d.values():
            d = {k: v for k, v in pairs if v}
        fields.update(d)
        return
    for k, v in pairs:
        if v or not skip_empty:
            k = clean_key(k)
            if k and k not in CORE:
                _add(fields, k, v)


def _block(raw: str, tag: str, start: int = 0) -> tuple[str, int] | None:
    """Inner text of the first ``<tag(\\s+[^>]+)?>...</tag>`` at or after `start`, and
    the offset after it (the add-on's ``(?ms)<Tag(?:\\s+[^>]+)?>(.*?)</Tag>``)."""
    open_ = "<" + tag
    n = len(open_)
    i = raw.find(open_, start)
    while i >= 0:
        j = i + n
        c = raw[j : j + 1]
        if c == ">":
            body = j + 1
            break
        if c.isspace():
            k = raw.find(">", j)
            if k > j + 1 and raw[j:k].strip():
                body = k + 1
                break
        i = raw.find(open_, j)
    else:
        return None
    close = "</" + tag + ">"
    end = raw.find(close, body)
    if end < 0:
        return None
    return raw[body:end], end + len(close)


def system_fields(raw: str) -> dict[str, Any]:
    """`System_Props_Xml` and the add-on's element and attribute pairs of the System block."""
    fields: dict[str, Any] = {}
    got = _block(raw, "System")
    if got is not None:
        sysx = got[0]
        fields["System_Props_Xml"] = sysx
        _add_pairs(fields, KV_RE.findall(sysx))
        _add_pairs(fields, ATTR_RE.findall(sysx))
    return fields


def extract_fields(raw: str) -> dict[str, Any]:
    """Fields of one Windows XML event, exactly as the Windows add-on's regexes give them.

    Values are ``str`` or, for names extracted more than once, ``list[str]``.
    """
    fields = system_fields(raw)
    got = _block(raw, "EventData")
    if got is not None:
        block, pos = got
        more = _block(raw, "EventData", pos)
        if more is None:
            fields["EventData_Xml"] = block
            _add_pairs(fields, DATA_FAST_RE.findall(block))
        else:
            blocks = [block]
            while more is not None:
                blocks.append(more[0])
                more = _block(raw, "EventData", more[1])
            fields["EventData_Xml"] = blocks
            for block in blocks:
                _add_pairs(fields, DATA_FAST_RE.findall(block))
    if "<UserData" in raw:
        got = _block(raw, "UserData")
        if got is not None:
            udx = got[0]
            fields["UserData_Xml"] = udx
            leaves: dict[str, Any] = {}
            for k, v in KV_RE.findall(udx):
                if v:
                    k = clean_key(k)
                    if k and k not in CORE and k not in fields:
                        _add(leaves, k, v)
            fields.update(leaves)
    if "<DebugData" in raw:
        got = _block(raw, "DebugData")
        if got is not None:
            fields["DebugData_Xml"] = got[0]
    if "<RenderingInfo" in raw:
        got = _block(raw, "RenderingInfo")
        if got is not None:
            rix = got[0]
            fields["RenderingInfo_Xml"] = rix
            _add_pairs(fields, KV_RE.findall(rix))
    if "EventCode" not in fields:
        eid = fields.get("EventID")
        if eid is not None:
            fields["EventCode"] = eid[0] if eid.__class__ is list else eid
        else:
            m = EID2_RE.search(raw)
            if m:
                fields["EventCode"] = m.group(1)
    if "RecordNumber" not in fields:
        rid = fields.get("EventRecordID")
        if rid is not None:
            fields["RecordNumber"] = rid[0] if rid.__class__ is list else rid
    if "SubStatus" in fields and "Sub_Status" not in fields:
        sub = fields["SubStatus"]
        fields["Sub_Status"] = sub[0] if sub.__class__ is list else sub
    return fields


def extract_fields_reference(raw: str) -> dict[str, Any]:
    """The same extraction written as the add-on's regexes, one field at a time.

    Slow; kept as the executable specification `extract_fields` is tested against.
    """
    fields: dict[str, Any] = {}

    def put(k: str, v: str) -> None:
        if v:
            k = clean_key(k)
            if k and k not in CORE:
                _add(fields, k, v)

    m = SYS_RE.search(raw)
    if m:
        fields["System_Props_Xml"] = m.group(1)
        for k, v in KV_RE.findall(m.group(1)):
            put(k, v)
        for k, v in ATTR_RE.findall(m.group(1)):
            put(k, v)
    blocks = ED_RE.findall(raw)
    if blocks:
        fields["EventData_Xml"] = blocks[0] if len(blocks) == 1 else list(blocks)
        for b in blocks:
            for k, v in DATA_RE.findall(b):
                put(k, v)
    m = UD_RE.search(raw)
    if m:
        fields["UserData_Xml"] = m.group(1)
        leaves: dict[str, Any] = {}
        for k, v in KV_RE.findall(m.group(1)):
            if v:
                k = clean_key(k)
                if k and k not in CORE and k not in fields:
                    _add(leaves, k, v)
        fields.update(leaves)
    m = DD_RE.search(raw)
    if m:
        fields["DebugData_Xml"] = m.group(1)
    m = RI_RE.search(raw)
    if m:
        fields["RenderingInfo_Xml"] = m.group(1)
        for k, v in KV_RE.findall(m.group(1)):
            put(k, v)
    for src, dst in (("EventID", "EventCode"), ("EventRecordID", "RecordNumber"), ("SubStatus", "Sub_Status")):
        if dst not in fields and src in fields:
            fields[dst] = first(fields[src])
    if "EventCode" not in fields:
        m = EID2_RE.search(raw)
        if m:
            fields["EventCode"] = m.group(1)
    return fields


def first(value: Any) -> Any:
    """The first value of a possibly multivalue field."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


# -- time ------------------------------------------------------------------------------
_DAY_CACHE: dict[str, int] = {}
_MIN_CACHE: dict[str, int] = {}


def _day_epoch(day: str) -> int | None:
    got = _DAY_CACHE.get(day)
    if got is None:
        if len(day) != 10 or day[4] != "-" or day[7] != "-":
            return None
        try:
            y, mo, d = int(day[0:4]), int(day[5:7]), int(day[8:10])
        except ValueError:
            return None
        if y < 1 or not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(y, mo)[1]:
            return None
        got = calendar.timegm((y, mo, d, 0, 0, 0, 0, 0, 0))
        if len(_DAY_CACHE) < 50_000:
            _DAY_CACHE[day] = got
    return got


def _minute_epoch(s: str) -> int | None:
    """Epoch of ``YYYY-MM-DD[T ]HH:MM`` (the first 16 characters of `s`), cached."""
    key = s[:16]
    got = _MIN_CACHE.get(key)
    if got is None:
        if len(key) != 16 or key[10] not in "T " or key[13] != ":":
            return None
        base = _day_epoch(key[:10])
        if base is None:
            return None
        hh, mm = key[11:13], key[14:16]
        if not (hh.isdigit() and mm.isdigit()) or int(hh) > 23 or int(mm) > 59:
            return None
        got = base + int(hh) * 3600 + int(mm) * 60
        if len(_MIN_CACHE) >= 200_000:
            _MIN_CACHE.clear()
        _MIN_CACHE[key] = got
    return got


def parse_time(s: str | None) -> float | None:
    """Epoch seconds of ``YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM| UTC]``; None if bad.

    A value without a zone is taken as UTC. The result depends only on the digits, so
    ``.6530842`` and ``.653084200`` give the same float.
    """
    if s.__class__ is not str or len(s) < 19:
        return None
    if s[0] in " '\"" or s[-1] in " '\"":
        s = s.strip().strip("'\"")
        if len(s) < 19:
            return None
    base = _minute_epoch(s)
    sec = s[17:19]
    if base is None or s[16] != ":" or not sec.isdigit() or sec > "60":
        return None
    rest = s[19:]
    if not rest:
        return float(base + int(sec))
    if rest[-1] in "Zz":
        rest = rest[:-1]
    if not rest:
        return float(base + int(sec))
    if rest[0] == "." and rest[1:].isdigit():
        return base + int(sec) + float("0" + rest)
    # Slow path: a comma, a zone name or a UTC offset.
    frac = 0.0
    if rest[0] in ".,":
        i = 1
        while i < len(rest) and rest[i].isdigit():
            i += 1
        if i > 1:
            frac = float("0." + rest[1:i])
        rest = rest[i:]
    rest = rest.strip()
    t = base + int(sec) + frac
    if rest in ("", "Z", "z", "UTC"):
        return t
    if len(rest) in (5, 6) and rest[0] in "+-" and rest[1:3].isdigit() and rest[-2:].isdigit():
        off = int(rest[1:3]) * 3600 + int(rest[-2:]) * 60
        return t - off if rest[0] == "+" else t + off
    return None


def event_time(fields: dict[str, Any]) -> float | None:
    """``_time`` of an XML event: Sysmon UtcTime, else TimeCreated SystemTime."""
    chan = fields.get("Channel")
    if chan.__class__ is list:
        chan = chan[0]
    if chan == SYSMON_CHANNEL:
        ut = fields.get("UtcTime")
        if ut is not None:
            t = parse_time(ut[0] if ut.__class__ is list else ut)
            if t is not None:
                return t
    st = fields.get("SystemTime")
    if st is not None:
        return parse_time(st[0] if st.__class__ is list else st)
    return None


# -- rendering -------------------------------------------------------------------------
def xml_escape(v: str) -> str:
    """Escape text the way the Windows XML rendering does (``&``, ``<``, ``>``)."""
    if "&" in v:
        v = v.replace("&", "&amp;")
    if "<" in v:
        v = v.replace("<", "&lt;")
    if ">" in v:
        v = v.replace(">", "&gt;")
    return v


def attr_escape(v: str) -> str:
    """Escape a single-quoted attribute value."""
    v = xml_escape(v)
    if "'" in v:
        v = v.replace("'", "&apos;")
    return v


_GUID_BRACED = re.compile(
    r"\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}", _A
)
_GUID_BARE_UPPER = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}", _A)


def norm_guid(v: str, braced_upper: bool = True) -> str:
    """Render a GUID value as Windows renders a GUID-typed value: ``{UPPER-HEX}``.

    Only whole values that are GUIDs are touched. A bare GUID without lowercase letters
    (how pyevtx-rs and tools built on it render GUID-typed values) gets braces. A bare
    lowercase GUID is left alone: that is how Windows renders *string* values holding a
    GUID (PowerShell ``ScriptBlockId``, ``RunspaceId``). A braced GUID is uppercased
    when `braced_upper` (JSON sources, whose pipelines lowercase GUIDs); EVTX passes
    False because there a braced value is a string Windows renders as stored (e.g. the
    lowercase Service Control Manager provider Guid, also lowercase in real Splunk XML).
    """
    n = len(v)
    if n == 38:
        if braced_upper and v[0] == "{" and v[37] == "}" and _GUID_BRACED.fullmatch(v):
            return v.upper()
    elif n == 36 and v[8] == "-" and _GUID_BARE_UPPER.fullmatch(v):
        return "{" + v + "}"
    return v


#: System children in Windows rendering order: (tag, attribute names).
SYSTEM_LAYOUT = (
    ("Provider", ("Name", "Guid", "EventSourceName")),
    ("EventID", ("Qualifiers",)),
    ("Version", ()),
    ("Level", ()),
    ("Task", ()),
    ("Opcode", ()),
    ("Keywords", ()),
    ("TimeCreated", ("SystemTime",)),
    ("EventRecordID", ()),
    ("Correlation", ("ActivityID", "RelatedActivityID")),
    ("Execution", ("ProcessID", "ThreadID")),
    ("Channel", ()),
    ("Computer", ()),
    ("Security", ("UserID",)),
)
#: Elements whose value is element text (all other System values are attributes).
_TEXT_TAGS = frozenset(
    {"EventID", "Version", "Level", "Task", "Opcode", "Keywords", "EventRecordID", "Channel", "Computer"}
)
_SYS_TEMPLATES: dict[frozenset[str], tuple[str, list[str], list[str]]] = {}


def _system_template(keys: frozenset[str]) -> tuple[str, list[str], list[str]]:
    """A ``str.format_map`` template of the System block for this set of present values,
    with the element-text names and attribute names in document order (the order the
    add-on's regexes find them)."""
    out: list[str] = []
    kv: list[str] = []
    attrs: list[str] = []

    def attr(name: str) -> str:
        if name not in keys:
            return ""
        attrs.append(name)
        return f" {name}='{{{name}}}'"

    def text(tag: str, a: str = "") -> None:
        if tag in keys:
            out.append(f"<{tag}{a}>{{{tag}}}</{tag}>")
            if not a:
                kv.append(tag)
        elif a:
            out.append(f"<{tag}{a}/>")

    a = attr("Name") + attr("Guid") + attr("EventSourceName")
    if a:
        out.append(f"<Provider{a}/>")
    text("EventID", attr("Qualifiers"))
    for tag in ("Version", "Level", "Task", "Opcode", "Keywords"):
        text(tag)
    a = attr("SystemTime")
    if a:
        out.append(f"<TimeCreated{a}/>")
    text("EventRecordID")
    out.append(f"<Correlation{attr('ActivityID')}{attr('RelatedActivityID')}/>")
    a = attr("ProcessID") + attr("ThreadID")
    if a:
        out.append(f"<Execution{a}/>")
    text("Channel")
    text("Computer")
    out.append(f"<Security{attr('UserID')}/>")
    return "".join(out), kv, attrs


#: Characters whose presence means a value needs escaping (attribute values: also ').
_ESC_CHARS = re.compile(r"[&<>']")
#: Data names met that need no escaping.
_SAFE_NAMES: set[str] = set()


def build_event(
    sysvals: dict[str, str],
    data: list[tuple[str | None, str]] | None,
    userdata_xml: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """Render an event Windows-style from raw values and extract its fields directly.

    Returns ``(raw, fields)`` with ``fields == extract_fields(raw)`` (the tests check
    this on every real event): the rendering and the add-on's regexes are mirrored
    here so JSON records need no second pass over their text.

    `sysvals` keys: element names for element text (``EventID``, ``Level``...) and
    attribute names for attributes (``Name``, ``Guid``, ``SystemTime``,
    ``ProcessID``...); values are unescaped. Elements with neither text nor attributes
    are written only when Windows always writes them (``Correlation``, ``Security``).
    """
    if None in sysvals.values() or "" in sysvals.values():
        sysvals = {k: v for k, v in sysvals.items() if v}
    if _ESC_CHARS.search("\x00".join(sysvals.values())) is not None:
        vals = {k: (xml_escape(v) if k in _TEXT_TAGS else attr_escape(v)) for k, v in sysvals.items()}
    else:
        vals = sysvals
    keys = frozenset(vals)
    tmpl = _SYS_TEMPLATES.get(keys)
    if tmpl is None:
        if len(_SYS_TEMPLATES) > 10_000:
            _SYS_TEMPLATES.clear()
        tmpl = _SYS_TEMPLATES[keys] = _system_template(keys)
    fmt, kv_names, attr_names = tmpl
    sysx = fmt.format_map(vals)
    fields: dict[str, Any] = {"System_Props_Xml": sysx}
    for k in kv_names:
        fields[k] = vals[k]
    for k in attr_names:
        fields[k] = f"'{vals[k]}'"
    g = sysvals.get
    parts = [EVENT_OPEN, "<System>", sysx, "</System>"]
    if data is not None:
        names = [n for n, _ in data]
        if None in names or not _SAFE_NAMES.issuperset(names) or _ESC_CHARS.search(
            "\x00".join([v for _, v in data])
        ):
            pairs = []
            body = []
            for name, value in data:
                v = xml_escape(value) if value else ""
                if name is None:
                    body.append(f"<Data>{v}</Data>")
                else:
                    n = attr_escape(name)
                    body.append(f"<Data Name='{n}'>{v}</Data>")
                    pairs.append((n, v))
                    if n == name and len(_SAFE_NAMES) < 100_000:
                        _SAFE_NAMES.add(n)
            edx = "".join(body)
        else:
            pairs = data  # type: ignore[assignment]
            edx = "".join([f"<Data Name='{n}'>{v}</Data>" for n, v in data])
        fields["EventData_Xml"] = edx
        _add_pairs(fields, pairs)  # type: ignore[arg-type]
        parts += ("<EventData>", edx, "</EventData>")
    if userdata_xml is not None:
        parts += ("<UserData>", userdata_xml, "</UserData>")
    parts.append("</Event>")
    raw = "".join(parts)
    if userdata_xml is not None:
        return raw, extract_fields(raw)
    eid = g("EventID")
    derive(fields, xml_escape(eid) if eid else None)
    return raw, fields


def derive(fields: dict[str, Any], event_id_text: str | None) -> None:
    """``EventCode``, ``RecordNumber``, ``Sub_Status`` (the add-on's REPORTs without
    MV_ADD: an existing field wins). `event_id_text` is the ``<EventID>`` text, for an
    EventID element with attributes that ``system_props_xml_kv`` does not extract."""
    if "EventCode" not in fields:
        eid = fields.get("EventID")
        if eid is not None:
            fields["EventCode"] = eid[0] if eid.__class__ is list else eid
        elif event_id_text:
            fields["EventCode"] = event_id_text
    if "RecordNumber" not in fields:
        rid = fields.get("EventRecordID")
        if rid is not None:
            fields["RecordNumber"] = rid[0] if rid.__class__ is list else rid
    if "SubStatus" in fields and "Sub_Status" not in fields:
        sub = fields["SubStatus"]
        fields["Sub_Status"] = sub[0] if sub.__class__ is list else sub


def render_event(
    sysvals: dict[str, str],
    data: list[tuple[str | None, str]] | None,
    userdata_xml: str | None = None,
) -> str:
    """A whole event, one line, from raw values (escaped here)."""
    return build_event(sysvals, data, userdata_xml)[0]


_ST_CACHE: dict[int, str] = {}


def format_system_time(epoch: float) -> str:
    """``YYYY-MM-DDTHH:MM:SS.fffffff00Z`` (the nine digits the Universal Forwarder writes)."""
    whole = int(epoch // 1)
    ticks = round((epoch - whole) * 1e7)
    if ticks >= 10_000_000:
        whole, ticks = whole + 1, 0
    head = _ST_CACHE.get(whole)
    if head is None:
        head = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        if len(_ST_CACHE) >= 100_000:
            _ST_CACHE.clear()
        _ST_CACHE[whole] = head
    return f"{head}.{ticks:07d}00Z"


def time_to_system_time(s: str) -> str | None:
    """Re-render a ``YYYY-MM-DD[T ]HH:MM:SS[.f]`` (UTC) time as a Windows SystemTime.

    Keeps the given digits (no float round trip) when the value has no zone offset.
    """
    s = s.strip()
    if len(s) < 19 or s[10] not in "T " or s[13] != ":" or s[16] != ":":
        return None
    rest = s[19:]
    digits = ""
    if rest.startswith((".", ",")):
        i = 1
        while i < len(rest) and rest[i].isdigit():
            i += 1
        digits = rest[1:i]
        rest = rest[i:]
    rest = rest.strip()
    if rest not in ("", "Z", "z", "UTC"):
        t = parse_time(s)
        return None if t is None else format_system_time(t)
    if parse_time(s[:19]) is None:
        return None
    return f"{s[:10]}T{s[11:19]}.{(digits + '000000000')[:9]}Z"
