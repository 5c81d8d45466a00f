"""Eval/where expressions to sqlglot, with Splunk's typing rules.

Splunk values are strings that act as numbers when they look like numbers: ``"7"==7``
is true and ``x+1`` works on an extracted field. Each compiled expression carries a
kind (str, num, bool, mv, null) and the helpers below coerce between kinds the way
eval does. Comparisons with null are null, and `where`/`if` treat null as false.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from splhunt.compile.stage import BOOL, MV, NULL, NUM, STR
from splhunt.errors import CompileError, SplUnsupportedError
from splhunt.spl import ast as A

if TYPE_CHECKING:
    from splhunt.compile.compiler import Ctx


@dataclass(frozen=True)
class Typed:
    sql: exp.Expression
    kind: str
    literal: bool = False  # a constant written in the query


def lit(v: str | int | float | bool | None) -> Typed:
    if v is None:
        return Typed(exp.Null(), NULL, True)
    if isinstance(v, bool):
        return Typed(exp.Boolean(this=v), BOOL, True)
    if isinstance(v, int | float):
        return Typed(exp.Literal.number(v), NUM, True)
    return Typed(exp.Literal.string(v), STR, True)


def dbl(e: exp.Expression) -> exp.Expression:
    # safe=True: sqlglot writes TRY_CAST for Spark too (a bare TryCast becomes CAST there,
    # which fails on 'abc' under ANSI mode instead of giving null)
    return exp.TryCast(this=e, to=exp.DataType.build("DOUBLE"), safe=True)


def to_num(t: Typed) -> exp.Expression:
    if t.kind == NUM or t.kind == NULL:
        return t.sql
    if t.kind == STR:
        if t.literal:
            try:
                return exp.Literal.number(float(t.sql.this))
            except ValueError:
                return exp.Null()
        return dbl(exp.Trim(this=t.sql))
    if t.kind == MV:
        return dbl(first_value(t.sql))
    if t.kind == BOOL:
        raise CompileError("a boolean used as a number")
    return dbl(t.sql)


def first_value(e: exp.Expression) -> exp.Expression:
    return exp.Bracket(this=e, expressions=[exp.Literal.number(1)], offset=1, safe=True)


def num_to_str(e: exp.Expression) -> exp.Expression:
    """Render a number as Splunk prints it: integers without a decimal point."""
    as_int = exp.Cast(this=exp.Cast(this=e, to=exp.DataType.build("BIGINT")), to=exp.DataType.build("VARCHAR"))
    is_int = exp.and_(
        exp.EQ(this=e, expression=exp.Floor(this=e)),
        exp.LT(this=exp.Abs(this=e), expression=exp.Literal.number(1e15)),
    )
    return exp.Case(
        ifs=[exp.If(this=is_int, true=as_int)],
        default=exp.Cast(this=e, to=exp.DataType.build("VARCHAR")),
    )


def to_str(t: Typed) -> exp.Expression:
    if t.kind in (STR, NULL):
        return t.sql
    if t.kind == NUM:
        if t.literal:
            # a negative number literal is Neg(Literal) in sqlglot
            v = float(t.sql.to_py())
            if v.is_integer():
                return exp.Literal.string(str(int(v)))
            return exp.Literal.string(t.sql.this if isinstance(t.sql, exp.Literal) else "-" + t.sql.this.this)
        return num_to_str(t.sql)
    if t.kind == MV:
        return first_value(t.sql)
    if t.kind == BOOL:
        return exp.Case(
            ifs=[exp.If(this=t.sql, true=exp.Literal.string("true"))],
            default=exp.Literal.string("false"),
        )
    return t.sql


def null_bool() -> exp.Expression:
    """A boolean null: Spark rejects an untyped NULL as a CASE/WHERE condition."""
    return exp.Cast(this=exp.Null(), to=exp.DataType.build("BOOLEAN"))


def to_bool(t: Typed, what: str = "condition") -> exp.Expression:
    if t.kind == BOOL:
        return t.sql
    if t.kind == NULL:
        return null_bool()
    raise CompileError(f"{what} must be a boolean expression, not a {t.kind} value")


def to_mv(t: Typed) -> exp.Expression:
    """Any value as a list (null stays null: a typed null list, which list functions
    take on every engine; Spark refuses an untyped NULL in element_at/size)."""
    if t.kind == MV:
        return t.sql
    if t.kind == NULL:
        return exp.Cast(this=exp.Null(), to=exp.DataType.build("ARRAY<TEXT>"))
    s = to_str(t)
    return exp.Case(
        ifs=[exp.If(this=exp.Is(this=s, expression=exp.Null()), true=exp.Null())],
        default=exp.Array(expressions=[s]),
    )


def mv_any(listexpr: exp.Expression, pred: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """True when some value of a multivalue field satisfies `pred` (null if the list is null)."""
    x = exp.to_identifier("_v")
    lam = exp.Lambda(this=pred(exp.Column(this=x)), expressions=[x])
    filtered = exp.ArrayFilter(this=listexpr, expression=lam)
    return exp.GT(this=exp.ArraySize(this=filtered), expression=exp.Literal.number(0))


# ---------------------------------------------------------------- comparisons


def _is_numeric_literal(t: Typed) -> bool:
    if not t.literal:
        return False
    if t.kind == NUM:
        return True
    return False


def compare(op: str, a: Typed, b: Typed) -> Typed:
    """Splunk eval comparison. Numbers compare numerically, strings lexicographically,
    a numeric-looking string against a number numerically; `=` on strings is
    case-sensitive. A multivalue field matches when any of its values does."""
    if a.kind == MV or b.kind == MV:
        lst, other, flip = (a, b, False) if a.kind == MV else (b, a, True)
        def pred(v: exp.Expression) -> exp.Expression:
            vt = Typed(v, STR)
            return compare(op, other, vt).sql if flip else compare(op, vt, other).sql
        return Typed(mv_any(lst.sql, pred), BOOL)
    if a.kind == NULL or b.kind == NULL:
        return Typed(null_bool(), BOOL)
    cls = _OPS[op]
    if a.kind == BOOL or b.kind == BOOL:
        if a.kind == BOOL and b.kind == BOOL and op in ("=", "!="):
            return Typed(cls(this=a.sql, expression=b.sql), BOOL)
        raise CompileError(f"cannot compare a boolean with {op}")
    if a.kind == NUM or b.kind == NUM:
        return Typed(cls(this=to_num(a), expression=to_num(b)), BOOL)
    # both strings: when both look numeric, compare as numbers
    if a.literal and b.literal:
        return Typed(cls(this=a.sql, expression=b.sql), BOOL)
    na, nb = to_num(a), to_num(b)
    if (a.literal and isinstance(na, exp.Null)) or (b.literal and isinstance(nb, exp.Null)):
        return Typed(cls(this=a.sql, expression=b.sql), BOOL)
    checks = [exp.Not(this=exp.Is(this=n, expression=exp.Null())) for t, n in ((a, na), (b, nb)) if not t.literal]
    both_num = exp.and_(*checks)
    return Typed(
        exp.Case(
            ifs=[exp.If(this=both_num, true=cls(this=na, expression=nb))],
            default=cls(this=a.sql, expression=b.sql),
        ),
        BOOL,
    )


_OPS: dict[str, type[exp.Expression]] = {
    "=": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}


def in_literals(left: Typed, vals: list[Typed]) -> Typed:
    """`x IN (literals)` for a string field: equal as text, or as numbers when both the
    value and the literal are numbers (the same truth table as `compare`, as two IN
    lists the engine can hash)."""
    texts = [exp.Literal.string(to_str(v).this) for v in vals]
    nums = [n for n in (to_num(v) for v in vals) if not isinstance(n, exp.Null)]
    parts: list[exp.Expression] = [exp.In(this=left.sql, expressions=texts)]
    if nums:
        parts.append(exp.In(this=dbl(exp.Trim(this=left.sql)), expressions=nums))
    return Typed(exp.Paren(this=exp.or_(*parts)), BOOL)


# ---------------------------------------------------------------- expression compiler


def compile_expr(e: A.Expr, ctx: Ctx) -> Typed:
    """Compile an eval expression against the fields of `ctx.stage`."""
    if isinstance(e, A.Lit):
        return lit(e.value)
    if isinstance(e, A.Field):
        return ctx.field(e.name)
    if isinstance(e, A.Call):
        from splhunt.functions import call_function

        return call_function(e, ctx)
    if isinstance(e, A.UnOp):
        inner = compile_expr(e.operand, ctx)
        if e.op == "NOT":
            return Typed(exp.Not(this=exp.Paren(this=to_bool(inner, "NOT operand"))), BOOL)
        return Typed(exp.Neg(this=to_num(inner)), NUM)
    if isinstance(e, A.InList):
        left = compile_expr(e.expr, ctx)
        vals = [compile_expr(v, ctx) for v in e.values]
        if not vals:
            return Typed(exp.false(), BOOL)
        if left.kind == STR and all(v.literal and v.kind in (STR, NUM) for v in vals):
            return in_literals(left, vals)
        parts = [compare("=", left, v).sql for v in vals]
        return Typed(exp.Paren(this=exp.or_(*parts)), BOOL)
    if isinstance(e, A.BinOp):
        op = e.op
        if op in ("AND", "OR", "XOR"):
            a = to_bool(compile_expr(e.left, ctx), op)
            b = to_bool(compile_expr(e.right, ctx), op)
            if op == "AND":
                return Typed(exp.Paren(this=exp.And(this=a, expression=b)), BOOL)
            if op == "OR":
                return Typed(exp.Paren(this=exp.Or(this=a, expression=b)), BOOL)
            return Typed(exp.Paren(this=exp.NEQ(this=a, expression=b)), BOOL)
        a = compile_expr(e.left, ctx)
        b = compile_expr(e.right, ctx)
        if op in _OPS:
            return compare(op, a, b)
        if op == "LIKE":
            from splhunt.functions import like_expr

            return like_expr(a, b)
        if op == ".":
            return Typed(exp.DPipe(this=to_str(a), expression=to_str(b), safe=False), STR)
        if op == "+" and (
            (a.kind == STR and a.literal) or (b.kind == STR and b.literal)
        ):
            return Typed(exp.DPipe(this=to_str(a), expression=to_str(b), safe=False), STR)
        cls = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div, "%": exp.Mod}[op]
        if op == "/":
            return Typed(exp.Div(this=to_num(a), expression=to_num(b), typed=False, safe=True), NUM)
        return Typed(exp.Paren(this=cls(this=to_num(a), expression=to_num(b))), NUM)
    raise SplUnsupportedError(f"expression {type(e).__name__}")
