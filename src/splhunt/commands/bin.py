"""`bin`/`bucket [span=S] field [AS new]`: put values into equal-width bins.

Splunk Search Reference, bin:
- a time span (`30s`, `5m`, `1h`, `1d`, `1mon`, ...) sets the field (an epoch time,
  `_time` by default use) to the start of its bin; bins are aligned to the Unix epoch
  in UTC (Splunk aligns day bins to the local midnight: splhunt's zone is UTC), and
  month bins to the first of the month;
- a plain number as the span bins `_time` in seconds; any other field is binned into
  the range text `lo-hi` (e.g. `10-20`), as Splunk shows numeric bins;
- values that are not numbers leave the field null; the field keeps its name unless
  `AS` renames the result (the original is then kept);
- `bins=`, `minspan=`, `start=`/`end=`, `aligntime=` and spans that depend on the data
  (no span at all) or on the calendar week are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, num_to_str, to_num
from splhunt.compile.stage import NUM, STR, Stage
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

BIN_OPTIONS = {"span": "", "bins": "", "minspan": "", "start": "", "end": "", "aligntime": ""}

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "ms": 0.001, "cs": 0.01, "ds": 0.1, "us": 0.000001,
}
_MONTHS = {"mon": 1, "month": 1, "months": 1, "q": 3, "qtr": 3, "qtrs": 3, "quarter": 3, "quarters": 3,
           "y": 12, "yr": 12, "yrs": 12, "year": 12, "years": 12}


@dataclass(frozen=True)
class Span:
    size: float  # seconds, a plain number, or months
    unit: str  # "sec" | "num" | "month"


def parse_span(text: str) -> Span:
    """`5m` -> Span(300, "sec"); `10` -> Span(10, "num"); `1mon` -> Span(1, "month")."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([A-Za-z]*)", text.strip())
    if not m:
        raise ValueError(f"bad span {text!r}")
    n, unit = float(m.group(1)), m.group(2).lower()
    if n <= 0:
        raise ValueError("the span must be positive")
    if not unit:
        return Span(n, "num")
    if unit in _UNITS:
        return Span(n * _UNITS[unit], "sec")
    if unit in _MONTHS:
        return Span(n * _MONTHS[unit], "month")
    if unit in ("w", "week", "weeks"):
        raise ValueError("week spans are not supported (calendar-aligned)")
    raise ValueError(f"unknown time unit {m.group(2)!r}")


def P(e: exp.Expression) -> exp.Expression:
    """`e` in parentheses (sqlglot prints built trees as they are: no implied precedence)."""
    return e if isinstance(e, exp.Paren | exp.Column | exp.Literal) else exp.Paren(this=e)


def floor_to(x: exp.Expression, size: float) -> exp.Expression:
    n = exp.Literal.number(size)
    return exp.Mul(this=exp.Floor(this=exp.Div(this=P(x), expression=n)), expression=n)


def floor_months(t: exp.Expression, months: int) -> exp.Expression:
    """Epoch `t` floored to the start of its `months`-wide bin (aligned to 1970-01)."""
    ts = exp.UnixToTime(this=t)
    if months == 1:
        return exp.TimeToUnix(this=exp.TimestampTrunc(this=ts, unit=exp.var("MONTH")))
    years = P(exp.Sub(this=exp.Extract(this=exp.var("YEAR"), expression=ts), expression=exp.Literal.number(1970)))
    month0 = P(exp.Sub(this=exp.Extract(this=exp.var("MONTH"), expression=ts), expression=exp.Literal.number(1)))
    idx = P(exp.Add(this=exp.Mul(this=years, expression=exp.Literal.number(12)), expression=month0))
    start = exp.Mul(
        this=exp.Floor(this=exp.Div(this=idx, expression=exp.Literal.number(months))),
        expression=exp.Literal.number(months),
    )
    epoch0 = exp.TimeStrToTime(this=exp.Literal.string("1970-01-01 00:00:00"))
    shifted = exp.AddMonths(this=epoch0, expression=exp.Cast(this=start, to=exp.DataType.build("INT")))
    return exp.TimeToUnix(this=shifted)


def bin_expr(t: Typed, span: Span, is_time: bool) -> Typed:
    x = to_num(t)
    if span.unit == "month":
        if span.size != int(span.size):
            raise ValueError("month spans must be whole months")
        return Typed(exp.Cast(this=floor_months(x, int(span.size)), to=exp.DataType.build("DOUBLE")), NUM)
    if span.unit == "sec" or is_time:
        return Typed(floor_to(x, span.size), NUM)
    lo = floor_to(x, span.size)
    hi = exp.Add(this=P(lo), expression=exp.Literal.number(span.size))
    text = exp.DPipe(
        this=exp.DPipe(this=num_to_str(lo), expression=exp.Literal.string("-"), safe=False),
        expression=num_to_str(hi),
        safe=False,
    )
    return Typed(text, STR)


@command("bin", "bucket", "discretize")
@dataclass(frozen=True)
class Bin(A.Command):
    field: str
    span: Span
    as_name: str | None

    @classmethod
    def parse(cls, p: CommandParser) -> Bin:
        opts = p.options(BIN_OPTIONS)
        field = p.word("the field to bin")
        opts.update(p.options(BIN_OPTIONS))
        as_name = None
        if p.accept_word("as"):
            as_name = p.word("a name after AS")
        opts.update(p.options(BIN_OPTIONS))
        p.expect_end()
        for o in ("bins", "minspan", "start", "end", "aligntime"):
            if o in opts:
                raise p.unsupported(f"{o}=", "bins that depend on the data range are not supported; use span=")
        if "span" not in opts:
            raise p.unsupported("without span=", "the automatic span depends on the data; give span=")
        sp = opts["span"]
        if "log" in sp.lower():
            raise p.unsupported(f"span={sp}", "logarithmic spans are not supported")
        try:
            span = parse_span(sp)
        except ValueError as e:
            raise p.unsupported(f"span={sp}", str(e)) from None
        return cls(p.name, p.pos, field, span, as_name)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        if not stage.has(self.field):
            return stage
        out = bin_expr(ctx.field(self.field), self.span, self.field == "_time")
        return ctx.compiler.with_columns(stage, [(self.as_name or self.field, out)])
