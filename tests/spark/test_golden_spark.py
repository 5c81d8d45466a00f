"""Every golden row table case, on DuckDB and on Spark: the same rows (or the same refusal)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from sparkdiff import norm_rows, outcome

from splhunt.api import Session

ROWS = Path(__file__).resolve().parents[1] / "golden" / "rows"
CASES = [
    pytest.param(case, id=f"{path.stem}:{case['name']}")
    for path in sorted(ROWS.glob("*.yaml"))
    for case in yaml.safe_load(path.read_text())
]

#: Golden cases Spark refuses by name while DuckDB runs them: case id -> why.
SPARK_REFUSED: dict[str, str] = {}


def _session(case: dict, engine: str, spark) -> Session:  # noqa: ANN001
    opts = {"spark": spark} if engine == "spark" else None
    s = Session(knowledge=False, now=case.get("now", 1_700_000_000), engine=engine, engine_options=opts)
    events = copy.deepcopy(case.get("events", []))
    for i, e in enumerate(events):
        e.setdefault("_time", 1_600_000_000.0 + i)
        e.setdefault("_raw", " ".join(f"{k}={v}" for k, v in e.items() if not k.startswith("_")))
    if events:
        s.store.append(events)
    return s


@pytest.mark.parametrize("case", CASES)
def test_golden_case_same_on_spark(case: dict, spark, request: pytest.FixtureRequest) -> None:  # noqa: ANN001
    duck = outcome(_session(case, "duckdb", None), case["spl"])
    spk = outcome(_session(case, "spark", spark), case["spl"])
    cid = request.node.callspec.id
    if duck[0] != "rows":
        assert spk[0] != "rows", f"DuckDB said {duck[1]!r} but Spark returned rows"
        return
    if spk[0] == "refused" and cid in SPARK_REFUSED:
        return
    assert spk[0] == "rows", spk[1]
    ordered = case.get("order") == "exact"
    assert spk[1][0] == duck[1][0], "columns differ"
    assert norm_rows(spk[1][1], ordered) == norm_rows(duck[1][1], ordered)
