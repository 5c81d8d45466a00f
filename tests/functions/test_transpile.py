"""The added commands and functions compile to SQL that sqlglot also renders for Spark.

Running on Spark is out of scope here; these tests pin that the plans stay sqlglot
expressions (no SQL strings) that transpile without errors.
"""

from __future__ import annotations

import pytest

from splhunt.api import Session

QUERIES = [
    'rex field=x "(?<a>\\d+)-(?<b>\\w+)" | table a b',
    'rex field=x max_match=0 "(?<n>\\d+)" | table n',
    "bin span=5m _time | stats count by _time",
    "eventstats count by h | table h count",
    "sort _time | streamstats window=2 count as c by h",
    "mvexpand m | table m",
    "top limit=3 h",
    "table h | append [| makeresults count=2 | eval h=\"x\"]",
    "join type=left h [search h=* | table h m]",
    "spath output=u path=a.b{}.c | table u",
    'eval f=mvfilter(match(m, "^a")), r=relative_time(_time, "-1d@d"), c=if(cidrmatch("10.0.0.0/8", ip), 1, 0)',
]


@pytest.mark.parametrize("spl", QUERIES)
def test_plan_transpiles_to_spark(spl: str) -> None:
    s = Session(knowledge=False, now=1_700_000_000)
    s.store.append([{"x": "12-ab", "h": "a", "m": ["a", "b"], "ip": "10.1.1.1", "_raw": "{}", "_time": 1.0}])
    plan = s.plan(spl)
    assert plan.sql("duckdb")
    assert plan.sql("spark")
    s.search(spl)  # and runs on DuckDB
