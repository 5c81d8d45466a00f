"""JSON lines: NXLog, OTRF Security-Datasets, winlogbeat and evtx_dump records.

Every record is mapped to the Windows System values plus ordered EventData pairs,
rendered as the Windows XML line (``<Event xmlns='...'><System>...</System>
<EventData><Data Name='X'>v</Data>...</EventData></Event>``, single-quoted attributes,
``&``/``<``/``>`` escaped) and extracted by `winxml` exactly like an XmlWinEventLog
line - so ``_raw``-based searches and every field are the same whatever the format.

Record shapes (found in the real files under ``../shared/data``):

*NXLog* ``im_msvistalog`` (flat; attack_data ``attack_data.tar.gz``) and the OTRF/Mordor
NXLog -> Logstash variant (adds ``@timestamp``, ``@version``, ``host``, ``port``,
``tags``, ``type``; renames NXLog's ``ProcessID`` to ``ExecutionProcessID`` and, when
the event has its own ``EventType``, NXLog's one to ``EventTypeOrignal``). EventData
fields are flattened at top level next to NXLog's metadata. Metadata is mapped to the
System names and never becomes an EventData field:

=====================================  ============================================
``SourceName`` / ``ProviderGuid``      Provider ``Name`` / ``Guid``
``EventID``, ``Version`` (a number),   ``EventID``, ``Version``, ``Task``
``Task``
``OpcodeValue``                        ``Opcode`` (NXLog's ``Opcode`` is the display
                                       name and is dropped)
``Keywords`` (signed 64-bit integer)   ``Keywords`` as Windows writes it (``0x8020...``)
``EventType`` / ``EventTypeOrignal``   ``Level`` (INFO 4, WARNING 3, ERROR 2,
                                       CRITICAL 1, VERBOSE/DEBUG 5, AUDIT_* 0); only
                                       these NXLog values are metadata, any other
                                       ``EventType`` (Sysmon ``SetValue``...) is data
``RecordNumber``                       ``EventRecordID``
``ExecutionProcessID`` or ``ProcessID``  Execution ``ProcessID`` (``ProcessID`` only
(a number), ``ThreadID`` (a number)    when numeric: EventData values are strings)
``ActivityID``, ``RelatedActivityID``  Correlation attributes
``UserID``                             Security ``UserID`` (NXLog records only)
``Channel``, ``Hostname``              ``Channel``, ``Computer``
``EventTime``                          ``SystemTime`` (NXLog writes local time without
                                       a zone; the zone is recovered from
                                       ``@timestamp`` - ``EventReceivedTime`` when both
                                       exist, otherwise UTC is assumed)
=====================================  ============================================

Dropped NXLog/Logstash metadata: ``Message``, ``Severity``, ``SeverityValue``,
``Category``, ``Domain``/``AccountName``/``AccountType`` (NXLog's resolved user),
``EventReceivedTime``, ``SourceModuleName``, ``SourceModuleType``,
``ERROR_EVT_UNRESOLVED``, ``@timestamp``, ``@version``, ``host``, ``port``, ``tags``,
``type``. For Sysmon the ``Message`` is still used: its ``Key: value`` lines give the
EventData order (JSON objects from Logstash are unordered) and the values of Data
fields NXLog's metadata overwrote (Sysmon ``EventType`` = ``SetValue`` under NXLog's
``EventType`` = ``INFO``; ``Version`` of EventID 4).

*OTRF flat* (newer Security-Datasets: ``Hostname``, ``TimeCreated``, ``Level``,
``Keywords`` as hex text, ``Task`` as text, ``@timestamp``) - same table.

*winlogbeat* 6.x (``event_data``, ``user_data``, ``log_name``, ``computer_name``,
``event_id``, ``record_number``, ``source_name``, ``provider_guid``, ``process_id``,
``thread_id``, ``level`` text, ``keywords`` names, ``@timestamp``) and 7+/ECS
(``winlog.*``). Numeric Level/Opcode are recovered from their names; Task and
Keywords only where they are fixed (Sysmon: ``Task`` = EventID, ``Keywords`` =
``0x8000000000000000``; Security: audit success/failure keywords).

*evtx_dump / pyevtx-rs JSON* (``{"Event": {"System": ..., "EventData": ...}}``).

GUIDs are written as Windows writes GUID-typed values, ``{UPPERCASE}``: braced ones are
uppercased, bare ones without lowercase letters get braces; bare lowercase ones are
strings Windows itself writes that way (PowerShell ``ScriptBlockId``) and are kept.

A line holding a JSON *string* is XML text (attack_data has a whole XmlWinEventLog file
stored as one JSON-escaped string); so is the ``event`` of a Splunk HEC record and the
``_raw`` of a Splunk search export (XML or classic text); a file that is one JSON document (not lines) is
read whole. A line that is not valid JSON is skipped as ``invalid JSON`` with its line
number; a valid record that is not a Windows event as ``not a Windows event``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from .common import FMT_JSON, Context, xml_event
from .textio import iter_lines
from .wineventlog import CLASSIC_HEADER
from .winxml import (
    SYSMON_CHANNEL,
    build_event,
    format_system_time,
    norm_guid,
    parse_time,
    time_to_system_time,
)

REASON_BAD_JSON = "invalid JSON"
REASON_NOT_EVENT = "not a Windows event"
REASON_NOT_LOG = "not a log file"
#: A file that is one JSON document is read whole up to this size.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024

_NX_EVENT_TYPES = {
    "INFO": "4",
    "INFORMATION": "4",
    "WARNING": "3",
    "ERROR": "2",
    "CRITICAL": "1",
    "VERBOSE": "5",
    "DEBUG": "5",
    "AUDIT_SUCCESS": "0",
    "AUDIT_FAILURE": "0",
}
_LEVEL_NAMES = {
    "information": "4",
    "informational": "4",
    "info": "4",
    "warning": "3",
    "error": "2",
    "critical": "1",
    "verbose": "5",
    "logalways": "0",
}
_OPCODE_NAMES = {
    "info": "0",
    "start": "1",
    "stop": "2",
    "dcstart": "3",
    "dcstop": "4",
    "extension": "5",
    "reply": "6",
    "resume": "7",
    "suspend": "8",
    "send": "9",
    "receive": "240",
}
#: Keys never EventData in flat records.
_FLAT_DROP = frozenset(
    {
        "Message",
        "Severity",
        "SeverityValue",
        "EventTypeOrignal",
        "EventTypeOriginal",
        "Category",
        "SourceModuleName",
        "SourceModuleType",
        "EventReceivedTime",
        "ERROR_EVT_UNRESOLVED",
        "@timestamp",
        "@version",
        "@metadata",
        "TimeCreated",
        "EventTime",
        "Hostname",
        "SourceName",
        "ProviderGuid",
        "Channel",
        "EventID",
        "Keywords",
        "RecordNumber",
        "EventRecordID",
        "ExecutionProcessID",
        "ExecutionThreadID",
        "ActivityID",
        "RelatedActivityID",
        "OpcodeValue",
    }
)

#: Sysmon EventData names (schema 4.x-15.x): Message lines with these keys are data.
SYSMON_FIELDS = frozenset(
    "Archived CallTrace ClientInfo CommandLine Company Configuration ConfigurationFileHash "
    "Consumer Contents CreationUtcTime CurrentDirectory Description Destination "
    "DestinationHostname DestinationIp DestinationIsIpv6 DestinationPort DestinationPortName "
    "Details Device EventNamespace EventType FileVersion Filter GrantedAccess Hash Hashes ID "
    "Image ImageLoaded Initiated IntegrityLevel IsExecutable LogonGuid LogonId Name NewName "
    "NewThreadId Operation OriginalFileName ParentCommandLine ParentImage ParentProcessGuid "
    "ParentProcessId ParentUser PipeName PreviousCreationUtcTime ProcessGuid ProcessId Product "
    "Protocol Query QueryName QueryResults QueryStatus RuleName SchemaVersion Session Signature "
    "SignatureStatus Signed SourceHostname SourceImage SourceIp SourceIsIpv6 SourcePort "
    "SourcePortName SourceProcessGUID SourceProcessGuid SourceProcessId SourceThreadId "
    "SourceUser StartAddress StartFunction StartModule State TargetFilename TargetImage "
    "TargetObject TargetProcessGUID TargetProcessGuid TargetProcessId TargetUser "
    "TerminalSessionId Type User UtcTime Version".split()
)


def _s(v: Any) -> str | None:
    """A JSON scalar as event text (None for null; JSON text for objects)."""
    if v is None:
        return None
    if v.__class__ is str:
        return v
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int | float):
        return str(v)
    return orjson.dumps(v).decode()


def _is_num(v: Any) -> bool:
    return v.__class__ is int or (v.__class__ is str and v.isdigit())


def keywords_text(v: Any) -> str | None:
    """Keywords as Windows writes them: ``0x`` + lowercase hex of the unsigned value."""
    if v is None:
        return None
    if v.__class__ is int:
        return f"0x{v & 0xFFFFFFFFFFFFFFFF:x}"
    s = str(v).strip()
    if s.lower().startswith("0x"):
        return "0x" + s[2:].lower()
    if s.lstrip("-").isdigit():
        return f"0x{int(s) & 0xFFFFFFFFFFFFFFFF:x}"
    return None


_MSG_KEY = re.compile(r"\n(\w+):")


def _sysmon_reorder(data: list[tuple[str, str]], message: str | None) -> list[tuple[str, str]]:
    """Sysmon: EventData in Message order; Data values NXLog metadata hid, recovered.

    Sysmon's message lists every EventData field as ``Key: value``. A JSON field
    missing from a complete message (one with ``UtcTime``) was added by the collection
    pipeline (Mordor's Logstash copies ``SourceProcessId`` to ``ProcessId``) and is
    dropped; without a usable message the data is kept as it is.
    """
    if not message:
        return data
    keys = [k for k in _MSG_KEY.findall(message) if k in SYSMON_FIELDS]
    if keys == [k for k, _ in data]:
        return data
    complete = "UtcTime" in keys
    have = dict(data)
    out: list[tuple[str, str]] = []
    for line in message.split("\n")[1:]:
        k, sep, v = line.partition(":")
        if not sep or k not in SYSMON_FIELDS:
            continue
        if k in have:
            out.append((k, have.pop(k)))
        elif not any(k == name for name, _ in out):
            v = v.rstrip("\r")
            out.append((k, v[1:] if v.startswith(" ") else v))
    if not out:
        return data
    if not complete:
        out.extend((k, v) for k, v in data if k in have)
    return out


def _nx_offset(d: dict[str, Any], cache: dict[Any, float] | None) -> float:
    """Seconds to add to NXLog's local EventTime: @timestamp (UTC) - EventReceivedTime,
    rounded to 15 minutes (a zone offset). Cached per host: it is the host's zone."""
    ts, rcv = d.get("@timestamp"), d.get("EventReceivedTime")
    if ts.__class__ is not str or rcv.__class__ is not str:
        return 0.0
    key = d.get("Hostname")
    if cache is not None and key in cache:
        return cache[key]
    a, b = parse_time(ts), parse_time(rcv)
    off = 0.0
    if a is not None and b is not None:
        off = round((a - b) / 900.0) * 900.0
        if abs(off) > 14 * 3600:
            off = 0.0
    if cache is not None and key.__class__ is str:
        cache[key] = off
    return off


# How flat_parts treats each key (anything not listed is EventData).
_K_DROP, _K_NAME, _K_GUID, _K_EID, _K_CHAN, _K_HOST, _K_KW, _K_REC = range(8)
_K_PID, _K_TID, _K_ACT, _K_LOGSTASH, _K_NXONLY, _K_ETYPE, _K_LEVEL = range(8, 15)
_K_INTMETA, _K_TASK, _K_OPCODE, _K_OPVAL, _K_EVENTCODE, _K_COMPUTER = range(15, 21)
_FLAT_KIND = {k: _K_DROP for k in _FLAT_DROP}
_FLAT_KIND.update(
    {
        "SourceName": _K_NAME,
        "ProviderGuid": _K_GUID,
        "EventID": _K_EID,
        "Channel": _K_CHAN,
        "Hostname": _K_HOST,
        "Keywords": _K_KW,
        "RecordNumber": _K_REC,
        "EventRecordID": _K_REC,
        "ExecutionProcessID": _K_PID,
        "ProcessID": _K_PID,
        "ExecutionThreadID": _K_TID,
        "ThreadID": _K_TID,
        "ActivityID": _K_ACT,
        "RelatedActivityID": _K_ACT,
        "host": _K_LOGSTASH,
        "port": _K_LOGSTASH,
        "tags": _K_LOGSTASH,
        "type": _K_LOGSTASH,
        "Domain": _K_NXONLY,
        "AccountName": _K_NXONLY,
        "AccountType": _K_NXONLY,
        "UserID": _K_NXONLY,
        "EventType": _K_ETYPE,
        "Level": _K_LEVEL,
        "Version": _K_INTMETA,
        "Task": _K_TASK,
        "Opcode": _K_OPCODE,
        "OpcodeValue": _K_OPVAL,
        "EventCode": _K_EVENTCODE,
        "Computer": _K_COMPUTER,
    }
)


_FLAT_KEYS = frozenset(_FLAT_KIND)
_ALWAYS_META = frozenset({_K_NAME, _K_GUID, _K_EID, _K_CHAN, _K_HOST, _K_KW, _K_REC, _K_ACT, _K_OPVAL})
#: Order in which metadata keys are looked at (earlier wins where two map to one slot).
_FLAT_RANK = {k: i for i, k in enumerate(sorted(_FLAT_KIND, key=lambda k: (k != "RecordNumber", k != "ExecutionProcessID", k)))}


def _conv(v: Any) -> str:
    s = _s(v)
    return norm_guid(s) if len(s) in (36, 38) else s


def _guid_s(v: Any) -> str | None:
    return norm_guid(_s(v))


def _int_s(v: Any) -> str:
    return str(v)


class _Plan:
    """How the metadata keys of one record shape map to System values.

    Built once per shape (which metadata keys, their value types, and the few
    value-dependent choices) and replayed for every record of that shape.
    """

    __slots__ = ("steps", "excl", "level_key", "opcode_key")

    def __init__(self, d: dict[str, Any], meta: list[str]) -> None:
        steps: list[tuple[str, str, Any, bool]] = []  # (key, slot, converter, setdefault)
        excl: set[str] = set()
        level_key = opcode_key = None
        nx = "SourceModuleType" in d or "EventReceivedTime" in d or "SeverityValue" in d or "SourceModuleName" in d
        logstash = "@version" in d or "@timestamp" in d
        has_opval = "OpcodeValue" in d
        for k in meta:
            v = d[k]
            kind = _FLAT_KIND[k]
            if kind == _K_DROP:
                excl.add(k)
                if (k == "EventTypeOrignal" or k == "EventTypeOriginal") and level_key is None:
                    level_key = k
                continue
            if kind in _ALWAYS_META:
                excl.add(k)
            if v is None:
                continue
            if kind == _K_NAME:
                steps.append((k, "Name", _s, False))
            elif kind == _K_GUID:
                steps.append((k, "Guid", _guid_s, False))
            elif kind == _K_EID:
                steps.append((k, "EventID", _s, False))
            elif kind == _K_CHAN:
                steps.append((k, "Channel", _s, False))
            elif kind == _K_HOST:
                steps.append((k, "Computer", _s, False))
            elif kind == _K_KW:
                steps.append((k, "Keywords", keywords_text, False))
            elif kind == _K_REC:
                steps.append((k, "EventRecordID", _s, True))
            elif kind == _K_PID:
                if k == "ExecutionProcessID":
                    steps.append((k, "ProcessID", _s, False))
                    excl.add(k)
                elif v.__class__ is int:
                    steps.append((k, "ProcessID", _s, True))
                    excl.add(k)
            elif kind == _K_TID:
                if k == "ExecutionThreadID" or v.__class__ is int:
                    steps.append((k, "ThreadID", _s, False))
                    excl.add(k)
            elif kind == _K_ACT:
                steps.append((k, k, _guid_s, False))
            elif kind == _K_LOGSTASH:
                if logstash:
                    excl.add(k)
            elif kind == _K_NXONLY:
                if nx:
                    excl.add(k)
                    if k == "UserID":
                        steps.append((k, "UserID", _s, False))
            elif kind == _K_ETYPE:
                if v.__class__ is str and v.upper() in _NX_EVENT_TYPES:
                    excl.add(k)
                    level_key = k
            elif kind == _K_LEVEL:
                if _is_num(v):
                    steps.append((k, "Level", _s, False))
                    excl.add(k)
            elif kind == _K_INTMETA:
                if v.__class__ is int:
                    steps.append((k, k, _int_s, False))
                    excl.add(k)
            elif kind == _K_TASK:
                if _is_num(v):
                    steps.append((k, "Task", _s, False))
                    excl.add(k)
            elif kind == _K_OPVAL:
                steps.append((k, "Opcode", _s, False))
            elif kind == _K_OPCODE:
                if _is_num(v):
                    opcode_key = k
                    excl.add(k)
                elif nx or has_opval:
                    excl.add(k)
            elif kind == _K_EVENTCODE:
                if "EventID" not in d:
                    steps.append((k, "EventID", _s, False))
                    excl.add(k)
            elif kind == _K_COMPUTER:
                if "Hostname" not in d:
                    steps.append((k, "Computer", _s, False))
                    excl.add(k)
        self.steps = steps
        self.excl = frozenset(excl)
        self.level_key = level_key
        self.opcode_key = opcode_key


_PLANS: dict[tuple, _Plan] = {}


def _plan_for(d: dict[str, Any]) -> _Plan:
    meta = sorted(d.keys() & _FLAT_KEYS, key=_FLAT_RANK.__getitem__)
    flags = []
    for k in ("EventType", "Level", "Task", "Opcode"):
        v = d.get(k)
        if v is not None:
            flags.append(v.__class__ is str and (v.upper() in _NX_EVENT_TYPES if k == "EventType" else v.isdigit()))
    sig = (tuple(meta), tuple([d[k].__class__ for k in meta]), tuple(flags))
    plan = _PLANS.get(sig)
    if plan is None:
        if len(_PLANS) > 10_000:
            _PLANS.clear()
        plan = _PLANS[sig] = _Plan(d, meta)
    return plan


def flat_parts(
    d: dict[str, Any], nx_cache: dict[Any, float] | None = None
) -> tuple[dict[str, str], list[tuple[str, str]], str | None]:
    """System values and EventData pairs of a flat (NXLog / OTRF) record."""
    plan = _plan_for(d)
    sv: dict[str, str] = {}
    for k, slot, conv, default in plan.steps:
        v = conv(d[k])
        if v is not None:
            if default:
                sv.setdefault(slot, v)
            else:
                sv[slot] = v
    excl = plan.excl
    level_name = d[plan.level_key] if plan.level_key is not None else None
    opcode = _s(d[plan.opcode_key]) if plan.opcode_key is not None else None
    logstash = "@version" in d or "@timestamp" in d
    data = [
        (k, v if v.__class__ is str and len(v) != 36 and len(v) != 38 else _conv(v))
        for k, v in d.items()
        if v is not None and k not in excl
    ]
    if opcode is not None and "Opcode" not in sv:
        sv["Opcode"] = opcode
    if "Level" not in sv and level_name.__class__ is str:
        lv = _NX_EVENT_TYPES.get(level_name.upper())
        if lv is not None:
            sv["Level"] = lv
    # Time: NXLog's EventTime (zone recovered), else TimeCreated / @timestamp.
    st = None
    et = d.get("EventTime")
    if et.__class__ is str:
        off = _nx_offset(d, nx_cache) if logstash else 0.0
        if off:
            t = parse_time(et)
            st = format_system_time(t + off) if t is not None else None
        else:
            st = time_to_system_time(et)
    if st is None:
        for k in ("TimeCreated", "SystemTime", "@timestamp"):
            v = d.get(k)
            if v.__class__ is str:
                st = time_to_system_time(v)
                if st is not None:
                    break
    if st is not None:
        sv["SystemTime"] = st
    if sv.get("Channel") == SYSMON_CHANNEL:
        message = d.get("Message")
        if message.__class__ is str:
            data = _sysmon_reorder(data, message)
    return sv, data, None


def _fill_known(sv: dict[str, str], keywords: list[str] | None) -> None:
    """Task/Keywords Windows always writes the same for a channel (Sysmon, Security)."""
    chan = sv.get("Channel")
    if chan == SYSMON_CHANNEL:
        if "Task" not in sv and "EventID" in sv:
            sv["Task"] = sv["EventID"]
        sv.setdefault("Keywords", "0x8000000000000000")
    elif chan == "Security" and keywords and "Keywords" not in sv:
        names = {k.lower() for k in keywords}
        if "audit success" in names:
            sv["Keywords"] = "0x8020000000000000"
        elif "audit failure" in names:
            sv["Keywords"] = "0x8010000000000000"
    if "Level" not in sv and keywords:
        names = {k.lower() for k in keywords}
        if "audit success" in names or "audit failure" in names:
            sv["Level"] = "0"


def _userdata_xml(ud: Any) -> str | None:
    """winlogbeat ``user_data`` -> ``<Root><Leaf>v</Leaf>...</Root>``."""
    if not isinstance(ud, dict):
        return None
    from .winxml import xml_escape

    root = str(ud.get("xml_name") or "EventXML")
    inner = []
    for k, v in ud.items():
        if k == "xml_name":
            continue
        s = _s(v)
        if s is None:
            continue
        inner.append(f"<{k}>{xml_escape(norm_guid(s))}</{k}>")
    return f"<{root}>{''.join(inner)}</{root}>"


def beat_parts(d: dict[str, Any]) -> tuple[dict[str, str], list[tuple[str, str]], str | None]:
    """System values and EventData of a winlogbeat record (6.x flat or 7+ ``winlog``)."""
    w = d.get("winlog")
    if isinstance(w, dict):
        proc = w.get("process") or {}
        user = w.get("user") or {}
        log = d.get("log") or {}
        level = log.get("level") if isinstance(log, dict) else None
        src = {
            "source_name": w.get("provider_name"),
            "provider_guid": w.get("provider_guid"),
            "event_id": w.get("event_id") or (d.get("event") or {}).get("code"),
            "version": w.get("version"),
            "level": level,
            "task": w.get("task"),
            "opcode": w.get("opcode"),
            "keywords": w.get("keywords"),
            "record_number": w.get("record_id"),
            "activity_id": w.get("activity_id"),
            "related_activity_id": w.get("related_activity_id"),
            "process_id": proc.get("pid") if isinstance(proc, dict) else None,
            "thread_id": ((proc.get("thread") or {}).get("id")) if isinstance(proc, dict) else None,
            "log_name": w.get("channel"),
            "computer_name": w.get("computer_name"),
            "user": user,
            "event_data": w.get("event_data"),
            "user_data": w.get("user_data"),
            "message": d.get("message"),
        }
    else:
        src = d
    sv: dict[str, str] = {}
    for key, name in (
        ("source_name", "Name"),
        ("event_id", "EventID"),
        ("record_number", "EventRecordID"),
        ("process_id", "ProcessID"),
        ("thread_id", "ThreadID"),
        ("log_name", "Channel"),
        ("computer_name", "Computer"),
    ):
        v = src.get(key)
        if v is not None:
            sv[name] = _s(v)
    for key, name in (
        ("provider_guid", "Guid"),
        ("activity_id", "ActivityID"),
        ("related_activity_id", "RelatedActivityID"),
    ):
        v = src.get(key)
        if v is not None:
            sv[name] = norm_guid(_s(v))
    v = src.get("version")
    if v is not None:
        sv["Version"] = _s(v)
    lv = src.get("level")
    if lv.__class__ is str:
        got = _LEVEL_NAMES.get(lv.strip().lower())
        if got is not None:
            sv["Level"] = got
    elif lv.__class__ is int:
        sv["Level"] = str(lv)
    op = src.get("opcode")
    if op.__class__ is int or (op.__class__ is str and op.isdigit()):
        sv["Opcode"] = str(op)
    elif op.__class__ is str and op.strip().lower() in _OPCODE_NAMES:
        sv["Opcode"] = _OPCODE_NAMES[op.strip().lower()]
    task = src.get("task")
    if task.__class__ is int or (task.__class__ is str and task.isdigit()):
        sv["Task"] = str(task)
    user = src.get("user")
    if isinstance(user, dict) and user.get("identifier"):
        sv["UserID"] = str(user["identifier"])
    ts = d.get("@timestamp")
    if ts.__class__ is str:
        st = time_to_system_time(ts)
        if st is not None:
            sv["SystemTime"] = st
    kws = src.get("keywords")
    if kws.__class__ is str:
        kws = [kws]
    if sv.get("Level") == "4" and kws and {k.lower() for k in kws} & {"audit success", "audit failure"}:
        sv["Level"] = "0"
    _fill_known(sv, kws if isinstance(kws, list) else None)
    data: list[tuple[str, str]] | None = None
    ed = src.get("event_data")
    if isinstance(ed, dict):
        data = []
        for k, v in ed.items():
            s = _s(v)
            if s is not None:
                data.append((k, norm_guid(s)))
        msg = src.get("message")
        if sv.get("Channel") == SYSMON_CHANNEL and msg.__class__ is str:
            data = _sysmon_reorder(data, msg)
    return sv, data, _userdata_xml(src.get("user_data"))


def _attrs(node: Any, name: str) -> dict[str, Any]:
    """pyevtx-rs JSON attributes of `name` (``#attributes`` or ``<name>_attributes``)."""
    if isinstance(node, dict):
        a = node.get(f"{name}_attributes")
        if isinstance(a, dict):
            return a
        el = node.get(name)
        if isinstance(el, dict) and isinstance(el.get("#attributes"), dict):
            return el["#attributes"]
    return {}


def _dict_to_xml(node: Any) -> str:
    from .winxml import xml_escape

    if not isinstance(node, dict):
        s = _s(node)
        return "" if s is None else xml_escape(norm_guid(s))
    out = []
    for k, v in node.items():
        if k == "#attributes" or k.endswith("_attributes"):
            continue
        if k == "#text":
            out.append(_dict_to_xml(v))
            continue
        items = v if isinstance(v, list) else [v]
        for item in items:
            attrs = item.get("#attributes", {}) if isinstance(item, dict) else {}
            attrs = {**attrs, **(node.get(f"{k}_attributes") or {})}
            a = "".join(f" {an}='{_s(av)}'" for an, av in attrs.items())
            out.append(f"<{k}{a}>{_dict_to_xml(item)}</{k}>")
    return "".join(out)


def evtxjson_parts(d: dict[str, Any]) -> tuple[dict[str, str], list[tuple[str | None, str]] | None, str | None]:
    """System values and EventData of an evtx_dump / pyevtx-rs JSON record."""
    ev = d["Event"]
    sysn = ev.get("System") or {}
    sv: dict[str, str] = {}
    for k in ("Version", "Level", "Task", "Opcode", "Keywords", "EventRecordID", "Channel", "Computer"):
        v = sysn.get(k)
        if isinstance(v, dict):
            v = v.get("#text")
        if v is not None:
            sv[k] = _s(v)
    eid = sysn.get("EventID")
    if isinstance(eid, dict):
        q = (eid.get("#attributes") or {}).get("Qualifiers")
        if q is not None:
            sv["Qualifiers"] = _s(q)
        eid = eid.get("#text")
    if eid is not None:
        sv["EventID"] = _s(eid)
    q = _attrs(sysn, "EventID").get("Qualifiers")
    if q is not None:
        sv["Qualifiers"] = _s(q)
    for el, names in (
        ("Provider", ("Name", "Guid", "EventSourceName")),
        ("TimeCreated", ("SystemTime",)),
        ("Correlation", ("ActivityID", "RelatedActivityID")),
        ("Execution", ("ProcessID", "ThreadID")),
        ("Security", ("UserID",)),
    ):
        a = _attrs(sysn, el)
        for n in names:
            if a.get(n) is not None:
                sv[n] = norm_guid(_s(a[n]))
    if "SystemTime" in sv:
        st = time_to_system_time(sv["SystemTime"])
        if st is not None:
            sv["SystemTime"] = st
    data: list[tuple[str | None, str]] | None = None
    ed = ev.get("EventData")
    if isinstance(ed, dict):
        data = []
        for k, v in ed.items():
            if k.endswith("_attributes") or k == "#attributes" or k == "Binary":
                continue
            if k == "Data":
                vals = v.get("#text") if isinstance(v, dict) else v
                for item in vals if isinstance(vals, list) else [vals]:
                    s = _s(item)
                    data.append((None, norm_guid(s) if s else ""))
                continue
            s = _s(v)
            data.append((k, norm_guid(s) if s else ""))
    elif ed is not None:
        data = []
    ud = ev.get("UserData")
    return sv, data, _dict_to_xml(ud) if isinstance(ud, dict) else None


def _is_event(d: dict[str, Any]) -> bool:
    return (
        "EventID" in d
        or "event_id" in d
        or isinstance(d.get("winlog"), dict)
        or isinstance(d.get("Event"), dict)
        or "EventCode" in d
    )


def record_to_event(
    d: dict[str, Any], ctx: Context, where: str, nx_cache: dict[Any, float] | None = None
) -> dict[str, Any]:
    """The event dict of one JSON record (raises KeyError/TypeError on broken shapes)."""
    if "event_data" in d or "log_name" in d or isinstance(d.get("winlog"), dict):
        sv, data, ud = beat_parts(d)
    elif isinstance(d.get("Event"), dict):
        sv, data, ud = evtxjson_parts(d)
    else:
        sv, data, ud = flat_parts(d, nx_cache)
        _fill_known(sv, None)
    raw, fields = build_event(sv, data, ud)
    return xml_event(raw, ctx, where, fields)


def read(stream: BinaryIO, ctx: Context) -> Iterator[dict[str, Any]]:
    """Events of a JSON-lines file (or one JSON document)."""
    counts = ctx.pending_formats
    loads = orjson.loads
    first = True
    nx_cache: dict[Any, float] = {}
    lines = iter_lines(stream, ctx)
    for n, line, _eol in lines:
        s = line.strip()
        if not s:
            continue
        if s[-1] == "," and s[0] == "{":
            s = s[:-1]
        try:
            d = loads(s)
        except orjson.JSONDecodeError as exc:
            if first and s in ("{", "["):
                yield from _read_document(s, lines, ctx)
                return
            if s in ("[", "]"):
                continue
            ctx.error(f"line {n}", f"invalid JSON: {exc}", REASON_BAD_JSON)
            first = False
            continue
        first = False
        if d.__class__ is dict:
            text = _embedded_text(d)
            if text is not None:
                yield from _read_xml_string(text, n, ctx)
                continue
            if not _is_event(d):
                ctx.error(f"line {n}", "JSON record without EventID: not a Windows event", REASON_NOT_EVENT)
                continue
            try:
                ev = record_to_event(d, ctx, f"line {n}", nx_cache)
            except Exception as exc:  # a malformed record must not stop the file
                ctx.error(f"line {n}", f"unreadable record ({type(exc).__name__}: {exc})", REASON_NOT_EVENT)
                continue
            counts[FMT_JSON] = counts.get(FMT_JSON, 0) + 1
            yield ev
        elif d.__class__ is str:
            yield from _read_xml_string(d, n, ctx)
        elif d.__class__ is list:
            yield from _read_items(d, ctx, f"line {n}")
        else:
            ctx.error(f"line {n}", "JSON value is not an object: not a Windows event", REASON_NOT_EVENT)


def _embedded_text(d: dict[str, Any]) -> str | None:
    """The event text of a Splunk HEC (``event``) or search-export (``_raw``,
    ``result._raw``) record holding an XML or classic Windows event, else None."""
    if "EventID" in d or "winlog" in d or "event_id" in d:
        return None
    for v in (d.get("_raw"), d.get("event"), (d.get("result") or {}).get("_raw") if isinstance(d.get("result"), dict) else None):
        if v.__class__ is str and ("<Event" in v[:200] or CLASSIC_HEADER.match(v[:40].split("\n", 1)[0])):
            return v
    return None


def _read_xml_string(text: str, n: int, ctx: Context) -> Iterator[dict[str, Any]]:
    """XML events held in one JSON string value (``"<Event ...>...\\n<Event ..."``)."""
    from .xmlwineventlog import read_lines

    parts = text.split("\n")
    triples = [(i, p, "\n" if i < len(parts) else "") for i, p in enumerate(parts, 1)]
    yield from read_lines(triples, ctx, lambda i: f"line {n} (JSON string, line {i})")


def _read_items(items: list[Any], ctx: Context, where: str) -> Iterator[dict[str, Any]]:
    counts = ctx.pending_formats
    for i, d in enumerate(items, 1):
        loc = f"{where} item {i}"
        if isinstance(d, dict) and _is_event(d):
            try:
                ev = record_to_event(d, ctx, loc)
            except Exception as exc:
                ctx.error(loc, f"unreadable record ({type(exc).__name__}: {exc})", REASON_NOT_EVENT)
                continue
            counts[FMT_JSON] = counts.get(FMT_JSON, 0) + 1
            yield ev
        elif isinstance(d, str):
            yield from _read_xml_string(d, i, ctx)
        else:
            ctx.error(loc, "not a Windows event record", REASON_NOT_EVENT)


def _read_document(first_line: str, lines: Iterator[tuple[int, str, str]], ctx: Context) -> Iterator[dict[str, Any]]:
    """A file that is one (pretty-printed) JSON document."""
    parts = [first_line]
    size = len(first_line)
    for _n, line, eol in lines:
        parts.append(line + eol)
        size += len(line)
        if size > MAX_DOCUMENT_BYTES:
            ctx.error("line 1", "JSON document larger than 256 MiB; not read", REASON_BAD_JSON)
            return
    try:
        doc = orjson.loads("\n".join(parts) if len(parts) == 1 else first_line + "\n" + "".join(parts[1:]))
    except orjson.JSONDecodeError as exc:
        ctx.error("line 1", f"invalid JSON document: {exc}", REASON_BAD_JSON)
        return
    if isinstance(doc, list):
        yield from _read_items(doc, ctx, "document")
    elif isinstance(doc, dict) and _is_event(doc):
        yield from _read_items([doc], ctx, "document")
    else:
        ctx.skip(REASON_NOT_LOG)
