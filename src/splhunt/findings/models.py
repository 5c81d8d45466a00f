"""Finding models: what one detection result row becomes (Splunk: a notable / risk event)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FindingRiskObject(BaseModel):
    """One risk object of a finding: a value of a risk-object field of the result row."""

    model_config = ConfigDict(frozen=True)

    field: str
    type: str
    value: str
    score: int | float


class FindingThreatObject(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    type: str
    value: str


class FindingDrilldown(BaseModel):
    """A detection drilldown with `$field$` tokens filled from the row."""

    name: str
    search: str
    earliest_offset: str | None = None
    latest_offset: str | None = None


class Finding(BaseModel):
    """One detection result row, with its risk and context.

    `id` is stable: the first 16 hex digits of sha1(detection id + the row's canonical
    JSON), so the same row of the same detection always gets the same id (and two
    identical rows share one id).
    """

    id: str
    detection_name: str
    detection_id: str
    detection_type: str | None = None
    status: str | None = None
    description: str = ""
    search_name: str = ""
    """The saved-search name ES would record: `ESCU - <name> - Rule`."""
    mitre_attack_ids: list[str] = Field(default_factory=list)
    analytic_stories: list[str] = Field(default_factory=list)
    risk_form: str = "none"
    risk_objects: list[FindingRiskObject] = Field(default_factory=list)
    threat_objects: list[FindingThreatObject] = Field(default_factory=list)
    risk_score: int | float = 0
    """Sum of the scores of this finding's risk objects (the risk it adds in ES)."""
    severity: str = "informational"
    """contentctl's band of the largest risk-object score."""
    message: str = ""
    time: Any = None
    """Row `_time`, else `firstTime`, else `lastTime` (as the row holds it), else None."""
    first_time: Any = None
    last_time: Any = None
    result: dict[str, Any] = Field(default_factory=dict)
    drilldowns: list[FindingDrilldown] = Field(default_factory=list)

    @property
    def description_summary(self) -> str:
        """First line of the description."""
        return self.description.strip().splitlines()[0] if self.description.strip() else ""
