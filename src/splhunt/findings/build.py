"""Turn detection result rows into findings and ES-style risk events.

Rules (documented decisions, see tests/findings):

* One finding per result row, as Splunk makes one notable / one risk action per result.
* Risk objects: for each risk-object field of the detection's `RiskSpec`, the row's value
  gives one risk object. A multivalue value (a Python list) gives one risk object per
  distinct value, as ES does. A value that is None, "" or the string "null" (the marker
  tstats writes with `fillnull_value=null`) gives none. Threat objects: the same.
* `risk_score` is the sum of the scores of the finding's risk objects.
* Tokens: `$field$` in the message and drilldowns is replaced by the row's value.
  - multivalue: the values joined with a single space (`mv_separator`), e.g.
    `$user$` with ["alice", "bob"] renders "alice bob";
  - a field the row lacks (or holds as None, or as an empty list): the token is left as
    written (`$field$`), so the gap shows; "" and "null" render as themselves;
  - `$result.field$` reads `field` when the row has no key `result.field`;
  - a token name cannot hold `$` or a line break, nor start or end with whitespace, so a
    stray `$` ("by user user$ on $dest$") does not swallow the next token;
  - an integral float renders without ".0"; bools render as "true"/"false".
* Drilldowns: tokens are filled first, then `%original_detection_search%` is replaced by
  the detection's search (so `$` inside the search text is never read as a token).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from splhunt.content.models import Detection, severity_of
from splhunt.findings.models import (
    Finding,
    FindingDrilldown,
    FindingRiskObject,
    FindingThreatObject,
)

ORIGINAL_SEARCH_PLACEHOLDER = "%original_detection_search%"
MV_SEPARATOR = " "
NULL_VALUES = ("", "null")

# a token name has no `$` or line break and does not start or end with whitespace
_TOKEN = re.compile(r"\$([^\s$](?:[^$\r\n]*[^\s$])?)\$")


# --------------------------------------------------------------------------- values


def _is_null(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v in NULL_VALUES)


def _scalar_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def field_values(row: Mapping[str, Any], field: str) -> list[str]:
    """The non-null values of `field` in `row`, as text, de-duplicated, in order."""
    v = row.get(field)
    items = list(v) if isinstance(v, (list, tuple)) else [v]
    out: list[str] = []
    for x in items:
        if _is_null(x):
            continue
        s = _scalar_text(x)
        if s not in out:
            out.append(s)
    return out


def _lookup(row: Mapping[str, Any], name: str) -> Any:
    if name in row:
        return row[name]
    if name.startswith("result.") and name[7:] in row:
        return row[name[7:]]
    return None


def render_tokens(
    template: str, row: Mapping[str, Any], *, mv_separator: str = MV_SEPARATOR
) -> str:
    """Replace every `$field$` in `template` with the row's value (see module rules)."""
    parts = _split_template(template)
    if len(parts) == 1:
        return template
    out = [parts[0]]
    for i in range(1, len(parts), 2):
        name = parts[i]
        v = _lookup(row, name)
        if v.__class__ is str:
            out.append(v)
        elif isinstance(v, (list, tuple)):
            vals = [_scalar_text(x) for x in v if x is not None]
            out.append(mv_separator.join(vals) if vals else f"${name}$")
        elif v is None:
            out.append(f"${name}$")
        else:
            out.append(_scalar_text(v))
        out.append(parts[i + 1])
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _split_template(template: str) -> tuple[str, ...]:
    """`template` cut at its tokens: literal, token name, literal, ... (a hunt renders
    the same few templates for every finding)."""
    return tuple(_TOKEN.split(template))


def _json_default(v: Any) -> Any:
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (set, frozenset)):
        return sorted(map(str, v))
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


def canonical_json(row: Mapping[str, Any]) -> str:
    """Key-sorted, compact JSON of a row (dates as ISO text); the basis of finding ids."""
    return json.dumps(
        dict(row), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def finding_id(detection_id: str, row: Mapping[str, Any]) -> str:
    """First 16 hex digits of sha1(detection id + canonical JSON of the row)."""
    return hashlib.sha1((detection_id + canonical_json(row)).encode("utf-8")).hexdigest()[:16]


def _first_present(row: Mapping[str, Any], *names: str) -> Any:
    for n in names:
        v = row.get(n)
        if not _is_null(v):
            return v
    return None


# --------------------------------------------------------------------------- findings


def build_findings(
    detection: Detection,
    rows: Iterable[Mapping[str, Any]],
    *,
    columns: list[str] | None = None,
    mv_separator: str = MV_SEPARATOR,
) -> list[Finding]:
    """One `Finding` per result row of `detection`.

    `columns`, when given, is the result's column order: `Finding.result` then holds exactly
    those columns, in that order (None for a column the row lacks). Risk and tokens always
    read the full row.
    """
    spec = detection.risk()
    stories = detection.stories()
    mitre = detection.mitre_ids()
    template = spec.message if spec.message else detection.name
    out: list[Finding] = []
    for raw in rows:
        row = dict(raw)
        risk_objs = [
            FindingRiskObject(field=ro.field, type=ro.type, value=val, score=ro.score)
            for ro in spec.risk_objects
            for val in field_values(row, ro.field)
        ]
        threat_objs = [
            FindingThreatObject(field=to.field, type=to.type, value=val)
            for to in spec.threat_objects
            for val in field_values(row, to.field)
        ]
        scores = [ro.score for ro in risk_objs]
        total = sum(scores)
        drilldowns = [
            FindingDrilldown(
                name=render_tokens(dd.name, row, mv_separator=mv_separator),
                search=render_tokens(dd.search, row, mv_separator=mv_separator).replace(
                    ORIGINAL_SEARCH_PLACEHOLDER, detection.search
                ),
                earliest_offset=None
                if dd.earliest_offset is None
                else render_tokens(dd.earliest_offset, row, mv_separator=mv_separator),
                latest_offset=None
                if dd.latest_offset is None
                else render_tokens(dd.latest_offset, row, mv_separator=mv_separator),
            )
            for dd in detection.drilldown_searches
        ]
        result = {c: row.get(c) for c in columns} if columns is not None else row
        out.append(
            Finding(
                id=finding_id(detection.id, row),
                detection_name=detection.name,
                detection_id=detection.id,
                detection_type=detection.type,
                status=detection.status,
                description=detection.description,
                search_name=detection.saved_search_name,
                mitre_attack_ids=list(mitre),
                analytic_stories=list(stories),
                risk_form=spec.form,
                risk_objects=risk_objs,
                threat_objects=threat_objs,
                risk_score=total,
                severity=severity_of(max(scores, default=0)),
                message=render_tokens(template, row, mv_separator=mv_separator),
                time=_first_present(row, "_time", "firstTime", "lastTime"),
                first_time=_first_present(row, "firstTime"),
                last_time=_first_present(row, "lastTime"),
                result=result,
                drilldowns=drilldowns,
            )
        )
    return out


def risk_events(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Flatten findings to one risk event per (finding, risk object), shaped like ES's
    Risk data model (`Risk.All_Risk`). Threat objects ride along on every risk event of
    the finding as parallel multivalue fields `threat_object` / `threat_object_type`.
    A finding with no risk object yields no risk event (ES writes none either).
    """
    events: list[dict[str, Any]] = []
    for f in findings:
        threat_values = [t.value for t in f.threat_objects]
        threat_types = [t.type for t in f.threat_objects]
        for ro in f.risk_objects:
            events.append(
                {
                    "_time": f.time,
                    "risk_object": ro.value,
                    "risk_object_type": ro.type,
                    "risk_object_field": ro.field,
                    "normalized_risk_object": ro.value.lower(),
                    "risk_score": ro.score,
                    "risk_message": f.message,
                    "search_name": f.search_name,
                    "source": f.search_name,
                    "detection_name": f.detection_name,
                    "detection_id": f.detection_id,
                    "finding_id": f.id,
                    "analyticstories": list(f.analytic_stories),
                    "annotations.mitre_attack": list(f.mitre_attack_ids),
                    "annotations.mitre_attack.mitre_technique_id": list(f.mitre_attack_ids),
                    "threat_object": list(threat_values),
                    "threat_object_type": list(threat_types),
                }
            )
    return events
