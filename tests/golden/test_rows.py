"""Golden tables: SPL + input events -> expected rows, one YAML file per command.

Each case names the Splunk documentation point it follows (`doc:`). Expected rows are
written by hand from Splunk's documented behaviour, never generated from our output.
Cases run without the add-on knowledge layer, over exactly the events given.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from splhunt.api import Session
from splhunt.errors import SplhuntError

HERE = Path(__file__).parent / "rows"
CASES = [
    pytest.param(case, id=f"{path.stem}:{case['name']}")
    for path in sorted(HERE.glob("*.yaml"))
    for case in yaml.safe_load(path.read_text())
]


def _norm(rows: list[dict], order: str) -> list:
    items = [sorted(((k, str(v) if not isinstance(v, list) else v) for k, v in r.items())) for r in rows]
    return items if order == "exact" else sorted(items, key=repr)


@pytest.mark.parametrize("case", CASES)
def test_golden(case: dict) -> None:
    s = Session(knowledge=False, now=case.get("now", 1_700_000_000))
    events = case.get("events", [])
    for i, e in enumerate(events):
        e.setdefault("_time", 1_600_000_000.0 + i)
        e.setdefault("_raw", " ".join(f"{k}={v}" for k, v in e.items() if not k.startswith("_")))
    if events:
        s.store.append(events)
    if "error" in case:
        with pytest.raises(SplhuntError, match=case["error"]):
            s.search(case["spl"])
        return
    res = s.search(case["spl"])
    rows = [{k: v for k, v in r.items() if v is not None and k not in ("_raw",)} for r in res.rows]
    if case.get("fields_only"):
        rows = [{k: v for k, v in r.items() if k in case["fields_only"]} for r in rows]
    expected = case["rows"]
    assert _norm(rows, case.get("order", "any")) == _norm(expected, case.get("order", "any")), res.sql
    if "columns" in case:
        assert res.columns == case["columns"]
