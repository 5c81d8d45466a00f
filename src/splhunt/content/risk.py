"""Normalise the three ways an ESCU detection declares risk into one `RiskSpec`.

1. `rba:` (contentctl v5, 2025+): `message`, `risk_objects[{field, type, score}]`,
   `threat_objects[{field, type}]`, taken as written.
2. `intermediate_findings.entities[{field, type, score, message}]` (the seed's form, not
   known to contentctl; read as an alias of `rba`): an entity whose type is a risk-object
   type (`system`, `user`, `other`) is a risk object; any other type (`process`,
   `file_name`, ...) is a threat object. The message is the first entity message.
3. ESCU 4.x `tags`: `tags.message`, `tags.risk_score` and `tags.observable[{name, type,
   role}]`. Observables map the way contentctl 4.x (`Detection_Abstract.risk`) built the
   risk action, checked in this order:

   | role     | observable type                         | becomes                        |
   |----------|-----------------------------------------|--------------------------------|
   | Victim   | User, Username, User Name, Email Address | risk object `user`            |
   | Victim   | Device, Endpoint, Hostname, IP Address  | risk object `system`           |
   | Attacker | Process, Process Name                   | threat object `process`        |
   | Attacker | File, File Name, File Hash              | threat object `file_name`      |
   | Attacker | IP Address                              | threat object `ip_address`     |
   | Attacker | URL, URL String                         | threat object `url`            |
   | Attacker | anything else                           | threat object `<type>` (1)     |
   | other    | (e.g. Victim + Process, no role)        | risk object `other`            |

   (1) the observable type lower-cased with spaces as underscores, so "Email Address"
   gives `email_address` as in contentctl v5's threat-object types.

   Every risk object scores `tags.risk_score` (or confidence x impact / 100 when the
   score is absent). One deliberate difference from contentctl: "User Name" maps to
   `user` (contentctl's TODO #246 says it should; the 2024 snapshot has none).

When a file carries more than one form, `rba` wins over `intermediate_findings`, which
wins over `tags`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from splhunt.content.models import RiskObject, RiskSpec, ThreatObject

if TYPE_CHECKING:
    from splhunt.content.models import Detection

RISK_OBJECT_TYPES = frozenset({"system", "user", "other"})

_USER_TYPES = frozenset({"user", "username", "user name", "email address"})
_SYSTEM_TYPES = frozenset({"device", "endpoint", "hostname", "ip address"})
_THREAT_TYPES: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"process name", "process"}), "process"),
    (frozenset({"file name", "file", "file hash"}), "file_name"),
    (frozenset({"ip address"}), "ip_address"),
    (frozenset({"url string", "url"}), "url"),
)


def risk_spec(det: Detection) -> RiskSpec:
    if det.rba is not None and (det.rba.risk_objects or det.rba.threat_objects or det.rba.message):
        return _from_rba(det)
    if det.intermediate_findings is not None and det.intermediate_findings.entities:
        return _from_intermediate(det)
    if det.tags.observable or det.tags.message:
        return _from_tags(det)
    return RiskSpec(form="none")


def _from_rba(det: Detection) -> RiskSpec:
    rba = det.rba
    assert rba is not None
    return RiskSpec(
        form="rba",
        message=rba.message,
        risk_objects=[
            RiskObject(field=o.field, type=o.type.lower(), score=o.score) for o in rba.risk_objects
        ],
        threat_objects=[
            ThreatObject(field=t.field, type=t.type.lower()) for t in rba.threat_objects
        ],
    )


def _from_intermediate(det: Detection) -> RiskSpec:
    inter = det.intermediate_findings
    assert inter is not None
    risk: list[RiskObject] = []
    threat: list[ThreatObject] = []
    message: str | None = None
    for e in inter.entities:
        t = e.type.lower()
        if message is None and e.message:
            message = e.message
        if t in RISK_OBJECT_TYPES:
            risk.append(RiskObject(field=e.field, type=t, score=e.score or 0, message=e.message))
        else:
            threat.append(ThreatObject(field=e.field, type=t))
    return RiskSpec(
        form="intermediate_findings", message=message, risk_objects=risk, threat_objects=threat
    )


def _tags_score(det: Detection) -> int | float:
    tags = det.tags
    if tags.risk_score is not None:
        return tags.risk_score
    if tags.confidence is not None and tags.impact is not None:
        s = tags.confidence * tags.impact / 100
        return int(s) if float(s).is_integer() else s
    return 0


def _from_tags(det: Detection) -> RiskSpec:
    score = _tags_score(det)
    risk: list[RiskObject] = []
    threat: list[ThreatObject] = []
    for ob in det.tags.observable:
        roles = {r.strip().lower() for r in ob.role}
        t = ob.type.strip().lower()
        victim = "victim" in roles
        attacker = "attacker" in roles
        if victim and t in _USER_TYPES:
            risk.append(RiskObject(field=ob.name, type="user", score=score))
        elif victim and t in _SYSTEM_TYPES:
            risk.append(RiskObject(field=ob.name, type="system", score=score))
        elif attacker:
            ttype = next((name for types, name in _THREAT_TYPES if t in types), t.replace(" ", "_"))
            threat.append(ThreatObject(field=ob.name, type=ttype))
        else:
            risk.append(RiskObject(field=ob.name, type="other", score=score))
    return RiskSpec(form="tags", message=det.tags.message, risk_objects=risk, threat_objects=threat)
