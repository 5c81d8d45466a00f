"""Multivalue eval functions: mvfilter, mvmap, mvfind, mvsort, mvzip, mvrange.

Splunk Search Reference, "Multivalue eval functions":
- mvfilter(expr): the values of the one field `expr` names for which `expr` is true
  (null when none is left); `expr` is compiled as a lambda over the field's values;
- mvmap(field, expr): `expr` evaluated for each value of `field` (which `expr` names);
- mvfind(mv, regex): 0-based index of the first value matching the regex, else null
  (a regex read from a field is handed to the engine as it is: RE2 syntax on DuckDB);
- mvsort(mv): values sorted lexicographically;
- mvzip(a, b[, delim=","]): the i-th values of a and b joined by delim, as many as
  the shorter field has;
- mvrange(start, end[, step=1]): numbers from start up to, not including, end
  (time-span steps such as "7d" are refused).
A single value counts as a one-value field; null stays null.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from sqlglot import exp

from splhunt.compile.expr import Typed, compile_expr, num_to_str, to_bool, to_mv, to_num, to_str
from splhunt.compile.stage import BOOL, MV, NULL, NUM, STR, FieldInfo, Stage
from splhunt.errors import CompileError, SplUnsupportedError
from splhunt.functions import function
from splhunt.spl import ast as A

if TYPE_CHECKING:
    from splhunt.compile.compiler import Ctx

_VAR = itertools.count(1)


def field_names(e: A.Expr) -> list[str]:
    """Field names an eval expression refers to, in order, without repeats."""
    out: list[str] = []

    def walk(x: A.Expr) -> None:
        if isinstance(x, A.Field):
            if x.name not in out:
                out.append(x.name)
        elif isinstance(x, A.Call):
            for a in x.args:
                walk(a)
        elif isinstance(x, A.BinOp):
            walk(x.left)
            walk(x.right)
        elif isinstance(x, A.UnOp):
            walk(x.operand)
        elif isinstance(x, A.InList):
            walk(x.expr)
            for v in x.values:
                walk(v)

    walk(e)
    return out


def empty_to_null(lst: exp.Expression) -> exp.Expression:
    return exp.Case(
        ifs=[exp.If(this=exp.EQ(this=exp.ArraySize(this=lst), expression=exp.Literal.number(0)), true=exp.Null())],
        default=lst,
    )


def over_values(ctx: Ctx, field: str, body: A.Expr) -> tuple[exp.Identifier, Typed]:
    """Compile `body` with `field` bound to a lambda variable holding one value."""
    var = f"__mv{next(_VAR)}"
    fields = dict(ctx.stage.fields)
    fields[field] = FieldInfo(var, STR)
    from splhunt.compile.compiler import Ctx as _Ctx

    inner = _Ctx(ctx.compiler, Stage(ctx.stage.name, fields))
    return exp.to_identifier(var), compile_expr(body, inner)


@function("mvfilter", 1, raw=True)
def _mvfilter(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """mvfilter(expr): the values of the field named in expr for which expr is true."""
    expr = call.args[0]
    names = field_names(expr)
    if len(names) != 1:
        raise CompileError(
            "mvfilter() must refer to exactly one field" + (f", not {', '.join(names)}" if names else "")
        )
    t = ctx.field(names[0])
    if t.kind == NULL:
        return Typed(exp.Null(), NULL, False)
    var, pred = over_values(ctx, names[0], expr)
    cond = exp.func("COALESCE", to_bool(pred, "mvfilter()"), exp.false())
    kept = exp.ArrayFilter(this=to_mv(t), expression=exp.Lambda(this=cond, expressions=[var]))
    return Typed(empty_to_null(kept), MV)


@function("mvmap", 2, raw=True)
def _mvmap(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """mvmap(field, expr): expr for each value of field (expr names the field)."""
    src = call.args[0]
    if not isinstance(src, A.Field):
        raise SplUnsupportedError("mvmap() over an expression", "the first argument must be a field")
    t = ctx.field(src.name)
    if t.kind == NULL:
        return Typed(exp.Null(), NULL, False)
    var, body = over_values(ctx, src.name, call.args[1])
    if body.kind == BOOL:
        raise CompileError("mvmap(): a comparison cannot be a value; wrap it in if()")
    val = to_str(body) if body.kind != MV else exp.Bracket(this=body.sql, expressions=[exp.Literal.number(1)], offset=1, safe=True)
    mapped = exp.Transform(this=to_mv(t), expression=exp.Lambda(this=val, expressions=[var]))
    return Typed(mapped, MV)


@function("mvfind", 2)
def _mvfind(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """mvfind(mv, regex): the 0-based index of the first value the regex matches, or null."""
    from splhunt.functions.core import regex_match

    if a[0].kind == NULL or a[1].kind == NULL:
        return Typed(exp.Null(), NULL, False)
    var = exp.to_identifier(f"__mv{next(_VAR)}")
    if a[1].literal and a[1].kind == STR:
        test = regex_match(ctx, exp.Column(this=var), str(a[1].sql.this))
    else:
        # a regex taken from a field: handed to the engine as it is (RE2 on DuckDB)
        test = exp.RegexpLike(this=exp.Column(this=var), expression=to_str(a[1]))
    hits = exp.Transform(
        this=to_mv(a[0]),
        expression=exp.Lambda(this=exp.func("COALESCE", test, exp.false()), expressions=[var]),
    )
    pos = exp.ArrayPosition(this=hits, expression=exp.true())
    return Typed(
        exp.Case(
            ifs=[exp.If(this=exp.GT(this=pos, expression=exp.Literal.number(0)), true=exp.Sub(this=pos, expression=exp.Literal.number(1)))],
            default=exp.Null(),
        ),
        NUM,
    )


@function("mvsort", 1)
def _mvsort(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """mvsort(mv): values in lexicographic order."""
    if a[0].kind == NULL:
        return a[0]
    return Typed(exp.ArraySort(this=to_mv(a[0])), MV)


@function("mvzip", 2, 3)
def _mvzip(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """mvzip(a, b[, delim]): pairwise joined values, as many as the shorter field has."""
    if a[0].kind == NULL or a[1].kind == NULL:
        return Typed(exp.Null(), NULL, False)
    x, y = to_mv(a[0]), to_mv(a[1])
    delim = to_str(a[2]) if len(a) == 3 else exp.Literal.string(",")
    i = exp.to_identifier(f"__mv{next(_VAR)}")
    n = exp.Least(this=exp.ArraySize(this=x), expressions=[exp.ArraySize(this=y)])

    def at(lst: exp.Expression) -> exp.Expression:
        return exp.Bracket(this=lst.copy(), expressions=[exp.Column(this=i)], offset=1, safe=True)

    body = exp.DPipe(this=exp.DPipe(this=at(x), expression=delim, safe=False), expression=at(y), safe=False)
    zipped = exp.Transform(
        this=exp.GenerateSeries(start=exp.Literal.number(1), end=n),
        expression=exp.Lambda(this=body, expressions=[i]),
    )
    return Typed(empty_to_null(zipped), MV)


@function("mvrange", 2, 3)
def _mvrange(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """mvrange(start, end[, step]): start, start+step, ... while below end."""
    if len(a) == 3 and a[2].kind == STR and a[2].literal:
        try:
            float(str(a[2].sql.this))
        except ValueError:
            raise SplUnsupportedError("mvrange() with a time-span step", "give the step in seconds") from None
    start, end = to_num(a[0]), to_num(a[1])
    step = to_num(a[2]) if len(a) == 3 else exp.Literal.number(1)
    series = exp.GenerateSeries(start=start, end=end, step=step, is_end_exclusive=True)
    v = exp.to_identifier(f"__mv{next(_VAR)}")
    as_text = exp.Transform(this=series, expression=exp.Lambda(this=num_to_str(exp.Column(this=v)), expressions=[v]))
    return Typed(empty_to_null(as_text), MV)
