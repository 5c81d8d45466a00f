"""Type and comparison eval functions: typeof, isnum, isint, isstr, isbool, validate,
min, max, exact, sigfig.

Splunk Search Reference, "Informational functions", "Comparison and Conditional
functions", "Statistical eval functions":
- a value is a number when it is one or is text that reads as one (event fields are
  text: `isnum(EventCode)` is true for "4688"); typeof() gives "Number", "String",
  "Boolean", "Multivalue" or "Invalid" (null); isstr() is true for text that is not
  a number, so isnum and isstr never agree;
- validate(c1, msg1, ...): the message of the first condition that is false (a null
  condition counts as false), else null;
- min(...)/max(...): numbers compare numerically, text lexicographically, and text
  sorts after numbers ("Z" > 99); nulls are skipped; a multivalue argument takes part
  with its first value. The result is a number when every argument is one;
- exact(X) is X (splhunt computes in double precision throughout);
- sigfig(X) is refused (it tracks the precision of each operand).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from splhunt.compile.expr import Typed, dbl, num_to_str, to_bool, to_str
from splhunt.compile.stage import BOOL, MV, NULL, NUM, STR
from splhunt.errors import CompileError, SplUnsupportedError
from splhunt.functions import function
from splhunt.spl import ast as A

if TYPE_CHECKING:
    from splhunt.compile.compiler import Ctx


def _isnull(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.Null())


def _notnull(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=_isnull(e))


def as_number(t: Typed) -> exp.Expression:
    """The value as a number, null when it is not one (text is trimmed first)."""
    if t.kind == NUM:
        return t.sql
    if t.kind == NULL:
        return exp.Null()
    return dbl(exp.Trim(this=to_str(t)))


@function("typeof", 1)
def _typeof(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """typeof(X): "Number", "String", "Boolean", "Multivalue" or "Invalid"."""
    t = a[0]
    L = exp.Literal.string
    if t.kind == BOOL:
        return Typed(L("Boolean"), STR, True)
    if t.kind == NULL:
        return Typed(L("Invalid"), STR, True)
    if t.kind == NUM:
        return Typed(exp.Case(ifs=[exp.If(this=_isnull(t.sql), true=L("Invalid"))], default=L("Number")), STR)
    if t.kind == MV:
        return Typed(exp.Case(ifs=[exp.If(this=_isnull(t.sql), true=L("Invalid"))], default=L("Multivalue")), STR)
    return Typed(
        exp.Case(
            ifs=[
                exp.If(this=_isnull(t.sql), true=L("Invalid")),
                exp.If(this=_notnull(as_number(t)), true=L("Number")),
            ],
            default=L("String"),
        ),
        STR,
    )


@function("isnum", 1)
def _isnum(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    if a[0].kind in (BOOL, NULL, MV):
        return Typed(exp.false(), BOOL)
    return Typed(_notnull(as_number(a[0])), BOOL)


@function("isint", 1)
def _isint(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    if a[0].kind in (BOOL, NULL, MV):
        return Typed(exp.false(), BOOL)
    n = as_number(a[0])
    return Typed(exp.func("COALESCE", exp.EQ(this=n, expression=exp.Floor(this=n)), exp.false()), BOOL)


@function("isstr", 1)
def _isstr(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    t = a[0]
    if t.kind != STR:
        return Typed(exp.false(), BOOL)
    return Typed(exp.and_(_notnull(t.sql), _isnull(as_number(t))), BOOL)


@function("isbool", 1)
def _isbool(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.true() if a[0].kind == BOOL else exp.false(), BOOL)


@function("validate", 2, None)
def _validate(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """validate(c1, msg1, ...): the message of the first false condition, else null."""
    if len(a) % 2:
        raise CompileError("validate() takes condition/message pairs")
    ifs = [
        exp.If(this=exp.Not(this=exp.func("COALESCE", to_bool(c, "validate()"), exp.false())), true=to_str(m))
        for c, m in zip(a[0::2], a[1::2], strict=True)
    ]
    return Typed(exp.Case(ifs=ifs, default=exp.Null()), STR)


def _extreme(a: list[Typed], is_max: bool) -> Typed:
    vals = [t for t in a if t.kind != NULL]
    if any(t.kind == BOOL for t in vals):
        raise CompileError("min()/max() take values, not comparisons")
    if not vals:
        return Typed(exp.Null(), NULL, True)
    pick = exp.Greatest if is_max else exp.Least
    if all(t.kind == NUM for t in vals):
        return Typed(pick(this=vals[0].sql, expressions=[t.sql for t in vals[1:]], ignore_nulls=True), NUM)
    nums = [as_number(t) for t in vals]
    texts = [
        exp.Case(ifs=[exp.If(this=_isnull(n), true=to_str(t))], default=exp.Null()) if t.kind != NUM else exp.Null()
        for t, n in zip(vals, nums, strict=True)
    ]
    best_num = pick(this=nums[0], expressions=nums[1:], ignore_nulls=True)
    best_txt = pick(this=texts[0], expressions=texts[1:], ignore_nulls=True)
    first, second = (best_txt, num_to_str(best_num)) if is_max else (num_to_str(best_num), best_txt)
    return Typed(exp.func("COALESCE", first, second), STR)


@function("max", 1, None)
def _max(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """max(X, ...): the largest value (text after numbers)."""
    return _extreme(a, True)


@function("min", 1, None)
def _min(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """min(X, ...): the smallest value (numbers before text)."""
    return _extreme(a, False)


@function("exact", 1)
def _exact(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return a[0]


@function("sigfig", 1)
def _sigfig(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    raise SplUnsupportedError("eval function sigfig()", "it tracks the precision of each operand")


# ---------------------------------------------------------------- tostring/tonumber forms
# core.py registers tostring()/tonumber() and refuses their second argument; these
# builders implement it and are meant to be called from there (see the module report).


def tostring_format(t: Typed, fmt: str, dialect: str = "duckdb") -> Typed:
    """tostring(X, "hex"|"commas"|"duration") (Splunk Search Reference, tostring):

    - hex: the integer part in hexadecimal, upper case, with `0x` (15 -> "0xF");
    - commas: thousands separators; a number with decimals is rounded to two
      (12345.6789 -> "12,345.68", 1234567 -> "1,234,567");
    - duration: seconds as `HH:MM:SS`, with `D+` in front past a day (615 -> "00:10:15",
      90061 -> "1+01:01:01").
    A value that is not a number gives null.
    """
    n = as_number(t)
    f = fmt.lower()
    big = exp.DataType.build("BIGINT")
    if f == "hex":
        h = exp.Hex(this=exp.Cast(this=exp.Floor(this=n), to=big))
        return Typed(exp.DPipe(this=exp.Literal.string("0x"), expression=h, safe=False), STR)
    if f == "commas":
        is_int = exp.EQ(this=n, expression=exp.Floor(this=n))
        if dialect == "duckdb":
            as_int = exp.Anonymous(this="format", expressions=[exp.Literal.string("{:,}"), exp.Cast(this=n, to=big)])
            as_dec = exp.Anonymous(this="format", expressions=[exp.Literal.string("{:,.2f}"), n.copy()])
        else:
            as_int = exp.Anonymous(this="format_number", expressions=[exp.Cast(this=n, to=big), exp.Literal.number(0)])
            as_dec = exp.Anonymous(this="format_number", expressions=[n.copy(), exp.Literal.number(2)])
        return Typed(exp.Case(ifs=[exp.If(this=is_int, true=as_int)], default=as_dec), STR)
    if f == "duration":
        secs = exp.Cast(this=exp.Floor(this=n), to=big)

        def part(div: int, mod: int | None) -> exp.Expression:
            q: exp.Expression = exp.IntDiv(this=secs.copy(), expression=exp.Literal.number(div))
            if mod:
                q = exp.Mod(this=exp.Paren(this=q), expression=exp.Literal.number(mod))
            return exp.Pad(
                this=exp.Cast(this=q, to=exp.DataType.build("VARCHAR")),
                expression=exp.Literal.number(2),
                fill_pattern=exp.Literal.string("0"),
                is_left=True,
            )

        hms = exp.DPipe(
            this=exp.DPipe(
                this=exp.DPipe(this=exp.DPipe(this=part(3600, 24), expression=exp.Literal.string(":"), safe=False),
                               expression=part(60, 60), safe=False),
                expression=exp.Literal.string(":"), safe=False,
            ),
            expression=part(1, 60),
            safe=False,
        )
        days = exp.IntDiv(this=secs.copy(), expression=exp.Literal.number(86400))
        with_days = exp.DPipe(
            this=exp.DPipe(this=exp.Cast(this=days, to=exp.DataType.build("VARCHAR")), expression=exp.Literal.string("+"), safe=False),
            expression=hms.copy(),
            safe=False,
        )
        return Typed(
            exp.Case(ifs=[exp.If(this=exp.GTE(this=secs.copy(), expression=exp.Literal.number(86400)), true=with_days)], default=hms),
            STR,
        )
    raise SplUnsupportedError(f'tostring() format "{fmt}"', 'use "hex", "commas" or "duration"')


def tonumber_base(t: Typed, base: int) -> Typed:
    """tonumber(X, base) for bases 2, 10 and 16 (DuckDB reads 0b/0x prefixed text).

    Text that is not a number in that base gives null; a 0x/0b prefix already present
    is accepted.
    """
    s = exp.Lower(this=exp.Trim(this=to_str(t)))
    if base == 10:
        return Typed(as_number(t), NUM)
    prefix = {16: "0x", 2: "0b"}.get(base)
    if prefix is None:
        raise SplUnsupportedError(f"tonumber() base {base}", "bases 2, 10 and 16 are supported")
    bare = exp.Case(
        ifs=[exp.If(this=exp.Like(this=s, expression=exp.Literal.string(prefix + "%")),
                    true=exp.Substring(this=s.copy(), start=exp.Literal.number(3)))],
        default=s.copy(),
    )
    text = exp.DPipe(this=exp.Literal.string(prefix), expression=bare, safe=False)
    return Typed(exp.Cast(this=exp.TryCast(this=text, to=exp.DataType.build("BIGINT")), to=exp.DataType.build("DOUBLE")), NUM)
