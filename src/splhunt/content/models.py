"""pydantic models of ESCU content: detections, macros, lookups, stories, data sources.

Every model keeps unknown keys (``extra="allow"``) so newer or older ESCU files load
without losing data; the known keys are typed and normalised.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# --------------------------------------------------------------------------- helpers


def _as_list(v: Any) -> list[Any]:
    """`None` -> [], a scalar -> [scalar], a list stays a list."""
    if v is None:
        return []
    if isinstance(v, (list, tuple, set)):
        return list(v)
    return [v]


def _as_str_list(v: Any) -> list[str]:
    return [str(x) for x in _as_list(v) if x is not None]


def _date_str(v: Any) -> Any:
    """YAML turns an unquoted `2024-10-24` into a date; keep every date as ISO text."""
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()
    return v


def _num(v: Any) -> Any:
    """`25.0` -> 25 (ESCU writes some risk scores as floats); other values unchanged."""
    if isinstance(v, bool):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        s = v.strip()
        if re.fullmatch(r"-?\d+", s):
            return int(s)
        if re.fullmatch(r"-?\d+\.\d*", s):
            f = float(s)
            return int(f) if f.is_integer() else f
    return v


def _bool(v: Any) -> Any:
    """ESCU writes booleans as the strings 'true'/'false'."""
    if isinstance(v, str):
        s = v.strip().lower()
        if s in ("true", "1", "yes", "t"):
            return True
        if s in ("false", "0", "no", "f"):
            return False
    return v


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


class _Open(BaseModel):
    """Base for content models: unknown keys are allowed and kept in `model_extra`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, arbitrary_types_allowed=True)


# --------------------------------------------------------------------------- risk (normalised)


class RiskObject(BaseModel):
    """A result field whose value receives risk: `type` is system, user or other."""

    model_config = ConfigDict(extra="allow")

    field: str
    type: str
    score: int | float = 0
    message: str | None = None
    """Per-entity message (only the `intermediate_findings` form carries one)."""

    _n = field_validator("score", mode="before")(lambda v: 0 if v is None else _num(v))


class ThreatObject(BaseModel):
    """A result field that names the threat (process, file_name, ip_address, url, ...)."""

    model_config = ConfigDict(extra="allow")

    field: str
    type: str


RiskForm = Literal["rba", "intermediate_findings", "tags", "none"]


class RiskSpec(BaseModel):
    """The risk a detection declares, whatever YAML form it used.

    `form` says where it came from: `rba` (top-level `rba:`, contentctl v5),
    `intermediate_findings` (the seed's form, read as an alias of `rba`),
    `tags` (ESCU 4.x `tags.risk_score` + `tags.observable` + `tags.message`) or
    `none` (the detection declares no risk).
    """

    message: str | None = None
    risk_objects: list[RiskObject] = Field(default_factory=list)
    threat_objects: list[ThreatObject] = Field(default_factory=list)
    form: RiskForm = "none"

    @property
    def risk_score(self) -> int | float:
        """contentctl's detection-level score: the largest risk-object score (0 if none)."""
        return max((o.score for o in self.risk_objects), default=0)

    @property
    def severity(self) -> str:
        """contentctl's severity bands of `risk_score`."""
        return severity_of(self.risk_score)

    @property
    def fields(self) -> list[str]:
        """Every result field the risk spec reads (risk objects first)."""
        return _dedupe(
            [o.field for o in self.risk_objects] + [t.field for t in self.threat_objects]
        )


def severity_of(score: float) -> str:
    if score <= 20:
        return "informational"
    if score <= 40:
        return "low"
    if score <= 60:
        return "medium"
    if score <= 80:
        return "high"
    return "critical"


# --------------------------------------------------------------------------- detection parts


class Observable(_Open):
    """ESCU 4.x `tags.observable` entry: `{name, type, role: [Victim|Attacker]}`."""

    name: str
    type: str = "Other"
    role: list[str] = Field(default_factory=list)

    _r = field_validator("role", mode="before")(_as_str_list)
    _t = field_validator("type", mode="before")(lambda v: "Other" if v is None else str(v))


class RbaRiskObject(_Open):
    field: str
    type: str
    score: int | float = 0

    _n = field_validator("score", mode="before")(lambda v: 0 if v is None else _num(v))


class RbaThreatObject(_Open):
    field: str
    type: str


class Rba(_Open):
    """contentctl v5 top-level `rba:` block."""

    message: str | None = None
    risk_objects: list[RbaRiskObject] = Field(default_factory=list)
    threat_objects: list[RbaThreatObject] = Field(default_factory=list)

    _l = field_validator("risk_objects", "threat_objects", mode="before")(_as_list)


class FindingEntity(_Open):
    """One `intermediate_findings.entities` entry: `{field, type, score, message}`."""

    field: str
    type: str
    score: int | float | None = None
    message: str | None = None

    _n = field_validator("score", mode="before")(_num)


class IntermediateFindings(_Open):
    entities: list[FindingEntity] = Field(default_factory=list)

    _l = field_validator("entities", mode="before")(_as_list)


class Drilldown(_Open):
    name: str = ""
    search: str = ""
    earliest_offset: str | None = None
    latest_offset: str | None = None

    _s = field_validator("earliest_offset", "latest_offset", mode="before")(
        lambda v: None if v is None else str(v)
    )


class AttackData(_Open):
    data: str = ""
    source: str | None = None
    sourcetype: str | None = None


class DetectionTest(_Open):
    name: str = ""
    test_type: str = "unit"
    attack_data: list[AttackData] = Field(default_factory=list)

    _l = field_validator("attack_data", mode="before")(_as_list)
    _t = field_validator("test_type", mode="before")(lambda v: "unit" if v is None else str(v))


class DetectionTags(_Open):
    """ESCU `tags:`. Typed keys below; any other tag is kept. Also readable like a dict."""

    analytic_story: list[str] = Field(default_factory=list)
    asset_type: str | None = None
    mitre_attack_id: list[str] = Field(default_factory=list)
    observable: list[Observable] = Field(default_factory=list)
    risk_score: int | float | None = None
    message: str | None = None
    confidence: int | float | None = None
    impact: int | float | None = None
    product: list[str] = Field(default_factory=list)
    security_domain: str | None = None
    required_fields: list[str] = Field(default_factory=list)

    _sl = field_validator(
        "analytic_story", "mitre_attack_id", "product", "required_fields", mode="before"
    )(_as_str_list)
    _ol = field_validator("observable", mode="before")(_as_list)
    _n = field_validator("risk_score", "confidence", "impact", mode="before")(_num)

    # dict-style access, for callers that treat tags as the YAML mapping
    def get(self, key: str, default: Any = None) -> Any:
        if key in type(self).model_fields:
            return getattr(self, key)
        return (self.model_extra or {}).get(key, default)

    def __getitem__(self, key: str) -> Any:
        if key in type(self).model_fields:
            return getattr(self, key)
        extra = self.model_extra or {}
        if key in extra:
            return extra[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if key in type(self).model_fields:
            return key in self.model_fields_set
        return key in (self.model_extra or {})

    def keys(self) -> list[str]:
        return list(self.model_fields_set) + list(self.model_extra or {})


# --------------------------------------------------------------------------- detection


class Detection(_Open):
    """An ESCU detection YAML.

    Both placements of story/ATT&CK/domain occur (under `tags:` in ESCU 4.x, top-level in
    the seed); use `stories()` and `mitre_ids()` to read either.
    """

    name: str
    id: str
    search: str
    version: int | str | None = None
    date: str | None = None
    creation_date: str | None = None
    modification_date: str | None = None
    author: str | None = None
    status: str = "production"
    type: str | None = None
    description: str = ""
    data_source: list[str] = Field(default_factory=list)
    how_to_implement: str | None = None
    known_false_positives: str | None = None
    references: list[str] = Field(default_factory=list)
    drilldown_searches: list[Drilldown] = Field(default_factory=list)
    tags: DetectionTags = Field(default_factory=DetectionTags)
    rba: Rba | None = None
    intermediate_findings: IntermediateFindings | None = None
    analytic_story: list[str] = Field(default_factory=list)
    mitre_attack_id: list[str] = Field(default_factory=list)
    security_domain: str | None = None
    asset_type: str | None = None
    product: list[str] = Field(default_factory=list)
    tests: list[DetectionTest] = Field(default_factory=list)
    path: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        if isinstance(data, dict):
            # 2 ESCU 4.x files spell it `data_sources`
            if "data_source" not in data and "data_sources" in data:
                data = dict(data)
                data["data_source"] = data.get("data_sources")
            if data.get("tags") is None and "tags" in data:
                data = dict(data)
                data["tags"] = {}
        return data

    _id = field_validator("id", "name", "search", mode="before")(
        lambda v: v if v is None else (str(v) if not isinstance(v, (dict, list)) else v)
    )
    _d = field_validator("date", "creation_date", "modification_date", mode="before")(_date_str)
    _sl = field_validator(
        "data_source", "references", "analytic_story", "mitre_attack_id", "product", mode="before"
    )(_as_str_list)
    _ll = field_validator("drilldown_searches", "tests", mode="before")(_as_list)
    _st = field_validator("status", mode="before")(
        lambda v: "production" if v is None else str(v).strip().lower()
    )

    # ---- convenience

    @property
    def file_date(self) -> str | None:
        """`date` (ESCU 4.x) or `creation_date` (2026 form)."""
        return self.date or self.creation_date

    def mitre_ids(self) -> list[str]:
        """ATT&CK technique ids from the top level and from `tags`, de-duplicated, in order."""
        return _dedupe(self.mitre_attack_id + self.tags.mitre_attack_id)

    def stories(self) -> list[str]:
        """Analytic stories from the top level and from `tags`, de-duplicated, in order."""
        return _dedupe(self.analytic_story + self.tags.analytic_story)

    @property
    def domain(self) -> str | None:
        return self.security_domain or self.tags.security_domain

    @property
    def filter_macro_name(self) -> str:
        """contentctl's name for the per-detection filter macro (`<name>_filter`)."""
        n = self.name
        for ch in (" ", "-", ".", "/"):
            n = n.replace(ch, "_")
        return n.lower() + "_filter"

    @property
    def saved_search_name(self) -> str:
        """The saved-search stanza ESCU ships: `ESCU - <name> - Rule`."""
        return f"ESCU - {self.name} - Rule"

    def risk(self) -> RiskSpec:
        """The detection's risk, normalised from whichever of the three forms it uses."""
        from splhunt.content.risk import risk_spec

        return risk_spec(self)

    @property
    def risk_form(self) -> RiskForm:
        return self.risk().form


# --------------------------------------------------------------------------- other content


class Macro(_Open):
    """A `macros/*.yml` definition. `key` is how Splunk names it: `name` or `name(N)`."""

    name: str
    definition: str = ""
    arguments: list[str] = Field(default_factory=list)
    description: str | None = None
    path: Path | None = None

    _a = field_validator("arguments", mode="before")(_as_str_list)
    _d = field_validator("definition", mode="before")(lambda v: "" if v is None else str(v))

    @property
    def base_name(self) -> str:
        m = re.fullmatch(r"(.*)\((\d+)\)", self.name)
        return m.group(1) if m else self.name

    @property
    def arity(self) -> int:
        m = re.fullmatch(r".*\((\d+)\)", self.name)
        return int(m.group(1)) if m else len(self.arguments)

    @property
    def key(self) -> str:
        if re.fullmatch(r".*\(\d+\)", self.name):
            return self.name
        return f"{self.name}({len(self.arguments)})" if self.arguments else self.name


class Lookup(_Open):
    """A `lookups/*.yml` definition: a CSV file (`filename`) or a KV-store `collection`.

    `csv_path` is the resolved CSV (always inside the lookups folder; see the loader).
    `default_match` is kept as text: in transforms.conf it is the *value* returned when
    nothing matches (ESCU writes `'false'`, so a miss yields the string "false").
    """

    name: str
    filename: str | None = None
    description: str | None = None
    match_type: str | None = None
    min_matches: int | None = None
    max_matches: int | None = None
    case_sensitive_match: bool | None = None
    default_match: str | None = None
    fields_list: list[str] | None = None
    collection: str | None = None
    path: Path | None = None
    csv_path: Path | None = None

    _n = field_validator("min_matches", "max_matches", mode="before")(_num)
    _b = field_validator("case_sensitive_match", mode="before")(_bool)
    _dm = field_validator("default_match", mode="before")(
        lambda v: None if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
    )
    _fl = field_validator("fields_list", mode="before")(
        lambda v: (
            None
            if v is None
            else [
                s.strip()
                for s in (v.split(",") if isinstance(v, str) else _as_str_list(v))
                if s.strip()
            ]
        )
    )
    _mt = field_validator("match_type", mode="before")(
        lambda v: None if v is None else (", ".join(map(str, v)) if isinstance(v, list) else str(v))
    )

    @property
    def kind(self) -> Literal["csv", "kvstore", "other"]:
        if self.collection:
            return "kvstore"
        if self.filename:
            return "csv"
        return "other"

    def match_fields(self, kind: str) -> list[str]:
        """Fields named in `match_type` for `kind` (e.g. "WILDCARD" or "CIDR")."""
        if not self.match_type:
            return []
        out: list[str] = []
        for m in re.finditer(r"(\w+)\s*\(([^)]*)\)", self.match_type):
            if m.group(1).upper() == kind.upper():
                out.extend(s.strip() for s in m.group(2).split(",") if s.strip())
        return out


class Story(_Open):
    name: str
    id: str | None = None
    version: int | str | None = None
    date: str | None = None
    author: str | None = None
    description: str | None = None
    narrative: str | None = None
    references: list[str] = Field(default_factory=list)
    tags: dict[str, Any] = Field(default_factory=dict)
    path: Path | None = None

    _d = field_validator("date", mode="before")(_date_str)
    _r = field_validator("references", mode="before")(_as_str_list)
    _t = field_validator("tags", mode="before")(lambda v: v or {})
    _i = field_validator("id", mode="before")(lambda v: None if v is None else str(v))


class DataSource(_Open):
    name: str
    id: str | None = None
    version: int | str | None = None
    date: str | None = None
    author: str | None = None
    description: str | None = None
    source: str | None = None
    sourcetype: str | None = None
    separator: str | None = None
    configuration: str | None = None
    supported_TA: list[dict[str, Any]] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list)
    field_mappings: list[Any] = Field(default_factory=list)
    output_fields: list[str] = Field(default_factory=list)
    example_log: str | None = None
    path: Path | None = None

    _d = field_validator("date", mode="before")(_date_str)
    _sl = field_validator("fields", "output_fields", mode="before")(_as_str_list)
    _l = field_validator("supported_TA", "field_mappings", mode="before")(_as_list)
    _i = field_validator("id", mode="before")(lambda v: None if v is None else str(v))
