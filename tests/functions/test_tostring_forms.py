"""tostring(X, fmt) and tonumber(X, base) builders (wired into core.py by its owner).

Expected values from Splunk Search Reference, tostring/tonumber examples.
"""

from __future__ import annotations

import duckdb
import pytest
from sqlglot import exp

from splhunt.compile.expr import Typed
from splhunt.compile.stage import NUM, STR
from splhunt.functions.conversion import tonumber_base, tostring_format


def _eval(e: exp.Expression) -> object:
    return duckdb.connect().execute(exp.select(e).sql("duckdb")).fetchone()[0]


@pytest.mark.parametrize(
    ("value", "fmt", "want"),
    [
        (15, "hex", "0xF"),
        (255, "hex", "0xFF"),
        (1234567, "commas", "1,234,567"),
        (12345.6789, "commas", "12,345.68"),
        (615, "duration", "00:10:15"),
        (90061, "duration", "1+01:01:01"),
    ],
)
def test_tostring_forms(value: float, fmt: str, want: str) -> None:
    t = Typed(exp.Literal.number(value), NUM, True)
    assert _eval(tostring_format(t, fmt).sql) == want


def test_tostring_of_text_number() -> None:
    t = Typed(exp.Literal.string("4096"), STR, True)
    assert _eval(tostring_format(t, "hex").sql) == "0x1000"


@pytest.mark.parametrize(("text", "base", "want"), [("FF", 16, 255), ("0x1f", 16, 31), ("101", 2, 5), ("12", 10, 12), ("zz", 16, None)])
def test_tonumber_base(text: str, base: int, want: float | None) -> None:
    assert _eval(tonumber_base(Typed(exp.Literal.string(text), STR, True), base).sql) == want
