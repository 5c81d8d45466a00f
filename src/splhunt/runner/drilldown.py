"""`splhunt drilldown`: run a stored finding's drilldown searches.

The finding's drilldowns were rendered when it was found (`$field$` tokens filled from
its result row, `%original_detection_search%` replaced by the detection's search; see
`splhunt.findings`). They run over the store the finding came from:

* "View the detection results" drilldowns re-run the detection search, filtered to
  the finding's entities;
* `| from datamodel Risk.All_Risk` drilldowns read the risk events the hunts stored:
  each risk event is also an event with `index=risk` and `sourcetype=stash` (as ES
  writes them), which is the Risk data model's constraint (`knowledge/data/datamodels/
  Risk.yml`), with the Risk fields (`risk_object`, `normalized_risk_object`,
  `risk_score`, `risk_message`, `search_name`, `analyticstories`,
  `annotations.mitre_attack`, `annotations.mitre_attack.mitre_tactic`, ...).

Search-time modifiers (`earliest=`, `latest=`, `starthoursago=`, ...) are not
supported by the engine yet: they are removed from the search text (and reported), so
a drilldown runs over all time, like the detection itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from splhunt.errors import SplhuntError
from splhunt.runner.common import Content, error_text

_TIME_MODIFIER = re.compile(
    r"(?<![\w.])(?:earliest|latest|starthoursago|endhoursago|startdaysago|enddaysago|"
    r"startminutesago|endminutesago|startmonthsago|endmonthsago|starttime|endtime)"
    r"\s*=\s*(?:\"[^\"]*\"|[^\s|\]]+)",
    re.I,
)
_UNFILLED = re.compile(r"\$[A-Za-z_][\w.]*\$")


def strip_time_modifiers(spl: str) -> tuple[str, list[str]]:
    """(search without its time modifiers, the modifiers removed)."""
    removed = [m.group(0) for m in _TIME_MODIFIER.finditer(spl)]
    return re.sub(r"[ \t]{2,}", " ", _TIME_MODIFIER.sub("", spl)), removed


@dataclass
class DrilldownRun:
    name: str
    search: str
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "search": self.search,
            "columns": self.columns,
            "results": [{c: r.get(c) for c in self.columns} for r in self.rows],
            "error": self.error,
            "notes": self.notes,
        }


def run_drilldowns(store: Any, content: Content, finding: dict[str, Any]) -> list[DrilldownRun]:
    session = content.session(store)
    out: list[DrilldownRun] = []
    for dd in finding.get("drilldowns") or []:
        spl, removed = strip_time_modifiers(dd["search"])
        run = DrilldownRun(dd.get("name") or "", spl)
        if removed:
            run.notes.append("time modifiers ignored (run over all time): " + " ".join(removed))
        unfilled = sorted(set(_UNFILLED.findall(spl)))
        if unfilled:
            run.notes.append("tokens the finding has no value for: " + " ".join(unfilled))
        try:
            res = session.search(spl)
            run.columns, run.rows = res.columns, res.rows
        except SplhuntError as e:
            run.error = error_text(e)
        except Exception as e:  # noqa: BLE001 - reported per drilldown
            run.error = f"internal error: {type(e).__name__}: {error_text(e)}"
        out.append(run)
    return out
