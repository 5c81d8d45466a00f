"""Findings: detection result rows turned into notable-like findings and ES risk events."""

from splhunt.findings.build import (
    MV_SEPARATOR,
    NULL_VALUES,
    ORIGINAL_SEARCH_PLACEHOLDER,
    build_findings,
    canonical_json,
    field_values,
    finding_id,
    render_tokens,
    risk_events,
)
from splhunt.findings.models import (
    Finding,
    FindingDrilldown,
    FindingRiskObject,
    FindingThreatObject,
)

__all__ = [
    "MV_SEPARATOR",
    "NULL_VALUES",
    "ORIGINAL_SEARCH_PLACEHOLDER",
    "Finding",
    "FindingDrilldown",
    "FindingRiskObject",
    "FindingThreatObject",
    "build_findings",
    "canonical_json",
    "field_values",
    "finding_id",
    "render_tokens",
    "risk_events",
]
