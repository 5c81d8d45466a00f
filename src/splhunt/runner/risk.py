"""Risk as Enterprise Security's risk-based alerting keeps it.

`risk_rows(findings)` turns findings into ES risk events (one per finding and risk
object, `splhunt.findings.risk_events`) enriched with ATT&CK tactics
(`annotations.mitre_attack.mitre_tactic`), `annotations._all` and an epoch `_time`.

`aggregate(rows)` is the per-entity view RBA's risk incident rules read: per
(risk_object, risk_object_type) the total score (sum of risk_score over the entity's
risk events, as `| stats sum(risk_score)` in ES's "Risk Threshold Exceeded" rule),
the distinct detections (ES's `dc(source)`), the ATT&CK techniques and tactics, and
first / last seen. Entities are ordered by total score, highest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from splhunt.engines.persist import finding_times
from splhunt.findings import risk_events
from splhunt.runner.attack import tactics_for


def risk_rows(findings: Iterable[Any]) -> list[dict[str, Any]]:
    findings = list(findings)
    by_id = {f.id: f for f in findings}
    out: list[dict[str, Any]] = []
    for ev in risk_events(findings):
        f = by_id[ev["finding_id"]]
        first, last = finding_times(f)
        techniques = list(ev["annotations.mitre_attack"])
        tactics = tactics_for(techniques)
        ev = dict(ev)
        ev["_time"] = last
        ev["first_seen"] = first
        ev["last_seen"] = last
        ev["annotations.mitre_attack.mitre_tactic"] = tactics
        ev["annotations._all"] = techniques + tactics + list(ev["analyticstories"])
        out.append(ev)
    return out


@dataclass
class EntityRisk:
    risk_object: str
    risk_object_type: str
    total_score: float = 0.0
    risk_events: int = 0
    detections: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)
    tactics: list[str] = field(default_factory=list)
    first_seen: float | None = None
    last_seen: float | None = None

    @property
    def detection_count(self) -> int:
        return len(self.detections)

    def as_dict(self) -> dict[str, Any]:
        return {
            "risk_object": self.risk_object,
            "risk_object_type": self.risk_object_type,
            "total_score": _num(self.total_score),
            "risk_events": self.risk_events,
            "detection_count": self.detection_count,
            "detections": list(self.detections),
            "mitre_techniques": list(self.techniques),
            "mitre_tactics": list(self.tactics),
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
        }


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    import datetime as _dt

    return _dt.datetime.fromtimestamp(t, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(xs: list[str], items: Iterable[str]) -> None:
    for x in items:
        if x not in xs:
            xs.append(x)


def aggregate(rows: Iterable[Mapping[str, Any]]) -> list[EntityRisk]:
    """Per-entity risk (see module doc). Entities are keyed by the normalised (lower-case)
    risk object and its type, as ES's `normalized_risk_object`."""
    ents: dict[tuple[str, str], EntityRisk] = {}
    for r in rows:
        key = (str(r.get("normalized_risk_object") or str(r["risk_object"]).lower()),
               str(r.get("risk_object_type") or "other"))
        e = ents.get(key)
        if e is None:
            e = ents[key] = EntityRisk(str(r["risk_object"]), key[1])
        e.total_score += float(r.get("risk_score") or 0)
        e.risk_events += 1
        _add(e.detections, [str(r.get("detection_name") or r.get("search_name"))])
        _add(e.techniques, r.get("annotations.mitre_attack") or r.get("mitre_techniques") or [])
        _add(e.tactics, r.get("annotations.mitre_attack.mitre_tactic") or r.get("mitre_tactics") or [])
        for t in (r.get("first_seen"), r.get("_time"), r.get("time")):
            if t is not None:
                e.first_seen = t if e.first_seen is None else min(e.first_seen, t)
                break
        for t in (r.get("last_seen"), r.get("_time"), r.get("time")):
            if t is not None:
                e.last_seen = t if e.last_seen is None else max(e.last_seen, t)
                break
    return sorted(ents.values(), key=lambda e: (-e.total_score, -e.detection_count, e.risk_object))


def stored_risk_rows(store: Any) -> list[dict[str, Any]]:
    """The `risk` table's rows, with the key names `aggregate` reads."""
    from splhunt.engines.persist import ensure_schema

    ensure_schema(store)
    cur = store.con.execute("SELECT * FROM risk")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
