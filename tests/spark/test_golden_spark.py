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

_JSON = "JSON functions and spath/fromjson are refused on Spark (engines/spark.py SPARK_REFUSED)"
#: Golden cases Spark refuses by name while DuckDB runs them: case id -> why. A case
#: listed here that Spark runs fails the suite (take it off the list).
SPARK_REFUSED: dict[str, str] = {
    "eval_functions_ext:json functions": _JSON,
    "rex:sed without g replaces the first match": "Spark's regexp_replace replaces every match",
    **{f"spath_xml_json:{name}": _JSON for name in (
        "spath output and positional path",
        "spath path field name defaults to the path",
        "spath array wildcard gives a multivalue field",
        "spath objects as JSON text then nested spath",
        "spath auto-extract on an input field",
        "spath auto-extract names arrays with {}",
        "fromjson top-level keys",
        "fromjson prefix",
        "spath on XML names fields by element path",
        "spath XML with a path",
    )},
}


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
    if cid in SPARK_REFUSED:
        assert spk[0] == "refused", f"Spark runs this now; remove it from SPARK_REFUSED: {spk[1]}"
        assert "on this engine" in spk[1] or "spark" in spk[1].lower(), spk[1]
        return
    assert spk[0] == "rows", spk[1]
    ordered = case.get("order") == "exact"
    assert spk[1][0] == duck[1][0], "columns differ"
    assert norm_rows(spk[1][1], ordered) == norm_rows(duck[1][1], ordered)


def test_transaction_merge_in_chunks_same_on_spark(spark, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """`transaction` splits a merge of many aggregates into groupings joined on the
    transaction (commands/transaction.py `_aggregate`); forced here with a tiny chunk."""
    import splhunt.commands.transaction as T

    monkeypatch.setattr(T, "AGG_CHUNK", 3)
    duck = Session(knowledge=False, now=1_700_000_000)
    duck.store.append([
        {"_time": float(t), "_raw": f"e{t}", "k": k, "a": a, "b": b, "c": c}
        for t, k, a, b, c in [
            (10, "x", "1", "p", None), (70, "x", "2", None, "q"), (500, "x", "3", "p", "r"),
            (20, "y", None, "s", "t"), (30, "y", "4", "s", None), (40, None, "5", "u", "v"),
        ]
    ])
    spl = "transaction k maxspan=300s keepevicted=t mvlist=a | table k _time duration eventcount a b c closed_txn"
    assert '"__tp1"' in duck.plan(spl).sql("duckdb")
    spk = Session(store=duck.store, engine="spark", engine_options={"spark": spark}, knowledge=False,
                  now=1_700_000_000)
    got, want = outcome(spk, spl), outcome(duck, spl)
    assert want[0] == "rows" and len(want[1][1]) == 3
    assert got[0] == "rows", got
    assert norm_rows(got[1][1]) == norm_rows(want[1][1])
