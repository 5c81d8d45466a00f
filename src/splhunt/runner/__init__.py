"""Runners over the engine: ESCU unit tests (`testing`), hunts with findings and RBA-style
risk (`hunt`, `risk`), and finding drilldowns (`drilldown`)."""

from splhunt.runner.common import Content, find_content_root
from splhunt.runner.drilldown import DrilldownRun, run_drilldowns, strip_time_modifiers
from splhunt.runner.hunt import HuntResult, Inventory, Resolver, filter_detections, hunt, select
from splhunt.runner.risk import EntityRisk, aggregate, risk_rows
from splhunt.runner.testing import TestOutcome, judge, junit_xml, resolve_data, run_tests

__all__ = [
    "Content",
    "DrilldownRun",
    "EntityRisk",
    "HuntResult",
    "Inventory",
    "Resolver",
    "TestOutcome",
    "aggregate",
    "filter_detections",
    "find_content_root",
    "hunt",
    "judge",
    "junit_xml",
    "resolve_data",
    "risk_rows",
    "run_drilldowns",
    "run_tests",
    "select",
    "strip_time_modifiers",
]
