"""Core eval functions: conditionals, strings, regexes, numbers, multivalue, time."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from splhunt.compile.expr import (
    Typed,
    compare,
    compile_expr,
    dbl,
    lit,
    num_to_str,
    to_bool,
    to_mv,
    to_num,
    to_str,
)
from splhunt.compile.regex import engine_pattern, python_pattern
from splhunt.compile.stage import BOOL, MV, NULL, NUM, STR
from splhunt.compile.timefmt import format_time, parse_time
from splhunt.errors import CompileError, SplUnsupportedError
from splhunt.functions import function, like_expr
from splhunt.spl import ast as A

if TYPE_CHECKING:
    from splhunt.compile.compiler import Ctx


def _kind_of(values: list[Typed]) -> str:
    kinds = {v.kind for v in values if v.kind != NULL}
    if not kinds:
        return NULL
    if len(kinds) == 1:
        return kinds.pop()
    if MV in kinds:
        return MV
    return STR


def _unify(values: list[Typed]) -> tuple[list[exp.Expression], str]:
    kind = _kind_of(values)
    if kind == BOOL:
        raise CompileError("a comparison cannot be a result value; wrap it in if()")
    if kind == MV:
        return [to_mv(v) for v in values], MV
    if kind == NUM:
        return [v.sql for v in values], NUM
    if kind == NULL:
        return [v.sql for v in values], NULL
    return [to_str(v) for v in values], STR


# ---------------------------------------------------------------- conditionals


@function("if", 3)
def _if(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """if(cond, then, else): null conditions choose `else`."""
    vals, kind = _unify([a[1], a[2]])
    return Typed(exp.Case(ifs=[exp.If(this=to_bool(a[0], "if()"), true=vals[0])], default=vals[1]), kind)


@function("case", 2, None)
def _case(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """case(c1, v1, c2, v2, ...): the first true condition's value, else null."""
    if len(a) % 2:
        raise CompileError("case() takes condition/value pairs")
    vals, kind = _unify(a[1::2])
    ifs = [exp.If(this=to_bool(c, "case()"), true=v) for c, v in zip(a[0::2], vals, strict=True)]
    return Typed(exp.Case(ifs=ifs), kind)


@function("coalesce", 1, None)
def _coalesce(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """coalesce(x, y, ...): the first non-null argument."""
    vals, kind = _unify(a)
    return Typed(exp.func("COALESCE", *vals), kind)


@function("nullif", 2)
def _nullif(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """nullif(x, y): null when x equals y (eval's `=`: numbers as numbers), else x."""
    eq = compare("=", a[0], a[1]).sql
    return Typed(exp.Case(ifs=[exp.If(this=eq, true=exp.Null())], default=a[0].sql), a[0].kind)


@function("isnull", 1)
def _isnull(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.Is(this=a[0].sql, expression=exp.Null()), BOOL)


@function("isnotnull", 1)
def _isnotnull(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.Not(this=exp.Is(this=a[0].sql, expression=exp.Null())), BOOL)


@function("null", 0)
def _null(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return lit(None)


@function("true", 0)
def _true(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.true(), BOOL)


@function("false", 0)
def _false(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.false(), BOOL)


@function("in", 1, None, raw=True)
def _in(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """in(field, "a", "b", ...): true when the value equals one of the list."""
    return compile_expr(A.InList(call.args[0], call.args[1:]), ctx)


@function("like", 2)
def _like(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return like_expr(a[0], a[1])


# ---------------------------------------------------------------- strings


@function("lower", 1)
def _lower(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return _map_str(a[0], exp.Lower)


@function("upper", 1)
def _upper(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return _map_str(a[0], exp.Upper)


def _map_str(t: Typed, cls: type[exp.Func]) -> Typed:
    if t.kind == MV:
        x = exp.to_identifier("_v")
        return Typed(exp.Transform(this=t.sql, expression=exp.Lambda(this=cls(this=exp.Column(this=x)), expressions=[x])), MV)
    return Typed(cls(this=to_str(t)), STR)


@function("len", 1)
def _len(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.Length(this=to_str(a[0])), NUM)


@function("tostring", 1, 2)
def _tostring(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """tostring(x[, "hex"|"commas"|"duration"]): text form of a value."""
    if len(a) == 2:
        from splhunt.functions.conversion import tostring_format

        return tostring_format(a[0], _literal_str(a[1], "tostring"), ctx.caps.dialect)
    if a[0].kind == BOOL:
        return Typed(to_str(a[0]), STR)
    return Typed(to_str(a[0]), STR)


@function("tonumber", 1, 2)
def _tonumber(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """tonumber(x[, base]): a number, or null when x does not parse."""
    if len(a) == 2:
        from splhunt.functions.conversion import tonumber_base

        base = a[1].sql.this if a[1].literal else None
        if base is None:
            raise SplUnsupportedError("tonumber() with a non-literal base")
        return tonumber_base(a[0], int(float(base)))
    return Typed(to_num(a[0]), NUM)


@function("substr", 2, 3)
def _substr(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """substr(s, start[, length]): 1-based; a negative start counts from the end."""
    args = [to_str(a[0]), exp.Cast(this=to_num(a[1]), to=exp.DataType.build("BIGINT"))]
    if len(a) == 3:
        args.append(exp.Cast(this=to_num(a[2]), to=exp.DataType.build("BIGINT")))
    return Typed(exp.Substring(this=args[0], start=args[1], length=args[2] if len(args) > 2 else None), STR)


def _trim(a: list[Typed], kind: str) -> Typed:
    chars = to_str(a[1]) if len(a) > 1 else exp.Literal.string(" \t")
    return Typed(exp.Trim(this=to_str(a[0]), expression=chars, position=kind or None), STR)


@function("trim", 1, 2)
def _trim_both(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return _trim(a, "BOTH")


@function("ltrim", 1, 2)
def _ltrim(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return _trim(a, "LEADING")


@function("rtrim", 1, 2)
def _rtrim(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return _trim(a, "TRAILING")


# ---------------------------------------------------------------- regexes


def _literal_str(t: Typed, fn: str) -> str:
    if not (t.literal and t.kind == STR):
        raise SplUnsupportedError(f"{fn}() with a non-literal regex", "the pattern must be a string literal")
    return str(t.sql.this)


def _no_regex(ctx: Ctx, pattern: str) -> SplUnsupportedError:
    kind = "RE2" if ctx.caps.re2_only else "Java"
    return SplUnsupportedError(f"regex {pattern!r} on this engine", f"{kind} regexes cannot run it")


def regex_replace(ctx: Ctx, s: exp.Expression, pattern: str, repl: str) -> exp.Expression:
    """Replace every match of a PCRE `pattern` (Splunk replace() semantics)."""
    pat = engine_pattern(pattern, ctx.caps)
    if pat is None:
        if not ctx.caps.pcre_udf:
            raise _no_regex(ctx, pattern)
        return exp.Anonymous(
            this="splhunt_re_replace",
            expressions=[s, exp.Literal.string(python_pattern(pattern)), exp.Literal.string(repl)],
        )
    if ctx.caps.replace_backref == "$":
        repl = re.sub(r"\$", r"\\$", repl)
        repl = re.sub(r"\\(\d)", r"$\1", repl)
    return exp.RegexpReplace(this=s, expression=exp.Literal.string(pat), replacement=exp.Literal.string(repl), modifiers=exp.Literal.string("g"))


def regex_match(ctx: Ctx, s: exp.Expression, pattern: str) -> exp.Expression:
    """True when a PCRE `pattern` matches somewhere in `s` (Splunk match())."""
    pat = engine_pattern(pattern, ctx.caps)
    if pat is None:
        if not ctx.caps.pcre_udf:
            raise _no_regex(ctx, pattern)
        return exp.Anonymous(this="splhunt_re_match", expressions=[s, exp.Literal.string(python_pattern(pattern))])
    return exp.RegexpLike(this=s, expression=exp.Literal.string(pat))


@function("replace", 3)
def _replace(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """replace(s, regex, replacement): every match replaced; `\\1` refers to groups."""
    pattern = _literal_str(a[1], "replace")
    repl = _literal_str(a[2], "replace")
    if a[0].kind == MV:
        x = exp.to_identifier("_v")
        body = regex_replace(ctx, exp.Column(this=x), pattern, repl)
        return Typed(exp.Transform(this=a[0].sql, expression=exp.Lambda(this=body, expressions=[x])), MV)
    return Typed(regex_replace(ctx, to_str(a[0]), pattern, repl), STR)


@function("match", 2)
def _match(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """match(s, regex): true when the regex matches part of s.

    A literal regex is PCRE (translated per engine); a regex read from a field is handed
    to the engine as it is (RE2 on DuckDB, Java on Spark)."""
    if not (a[1].literal and a[1].kind == STR):
        # a pattern from a field: the engine's own regex dialect runs it as written
        return Typed(exp.RegexpLike(this=to_str(a[0]), expression=to_str(a[1])), BOOL)
    pattern = _literal_str(a[1], "match")
    if a[0].kind == MV:
        from splhunt.compile.expr import mv_any

        return Typed(mv_any(a[0].sql, lambda v: regex_match(ctx, v, pattern)), BOOL)
    return Typed(regex_match(ctx, to_str(a[0]), pattern), BOOL)


# ---------------------------------------------------------------- numbers


@function("abs", 1)
def _abs(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.Abs(this=to_num(a[0])), NUM)


@function("round", 1, 2)
def _round(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    digits = to_num(a[1]) if len(a) > 1 else exp.Literal.number(0)
    return Typed(exp.Round(this=to_num(a[0]), decimals=exp.Cast(this=digits, to=exp.DataType.build("INT"))), NUM)


@function("floor", 1)
def _floor(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.Floor(this=to_num(a[0])), NUM)


@function("ceiling", 1)
def _ceiling(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.Ceil(this=to_num(a[0])), NUM)


@function("pow", 2)
def _pow(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.Pow(this=to_num(a[0]), expression=to_num(a[1])), NUM)


@function("sqrt", 1)
def _sqrt(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.Sqrt(this=to_num(a[0])), NUM)


# ---------------------------------------------------------------- multivalue


@function("mvcount", 1)
def _mvcount(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """mvcount(f): number of values; 1 for a single value; null for null."""
    t = a[0]
    if t.kind == MV:
        return Typed(exp.ArraySize(this=t.sql), NUM)
    if t.kind == NULL:
        return lit(None)
    return Typed(exp.Case(ifs=[exp.If(this=exp.Is(this=t.sql, expression=exp.Null()), true=exp.Null())], default=exp.Literal.number(1)), NUM)


@function("mvindex", 2, 3)
def _mvindex(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """mvindex(f, start[, end]): 0-based, negative from the end, `end` inclusive."""
    lst = to_mv(a[0])
    # INT: Spark's element_at/slice take INT positions, not BIGINT
    start = exp.Cast(this=to_num(a[1]), to=exp.DataType.build("INT"))
    n = exp.ArraySize(this=lst)
    def norm(i: exp.Expression) -> exp.Expression:
        # to a 1-based index
        return exp.Case(
            ifs=[exp.If(this=exp.LT(this=i, expression=exp.Literal.number(0)), true=exp.Add(this=exp.Add(this=n, expression=i), expression=exp.Literal.number(1)))],
            default=exp.Add(this=i, expression=exp.Literal.number(1)),
        )
    if len(a) == 2:
        # an index past either end is null (Spark raises on position 0; both engines
        # would read a position below 0 from the end again)
        pos = norm(start)
        inside = exp.Between(this=pos, low=exp.Literal.number(1), high=n.copy())
        item = exp.Bracket(this=lst, expressions=[pos.copy()], offset=1, safe=True)
        return Typed(exp.Case(ifs=[exp.If(this=inside, true=item)], default=exp.Null()), STR)
    end = exp.Cast(this=to_num(a[2]), to=exp.DataType.build("INT"))
    # is_length=False: sqlglot turns the inclusive end into Spark's slice length
    sliced = exp.ArraySlice(this=lst, start=norm(start), end=norm(end), is_length=False)
    empty_to_null = exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.ArraySize(this=sliced), expression=exp.Literal.number(0)), true=exp.Null())], default=sliced)
    return Typed(empty_to_null, MV)


@function("mvjoin", 2)
def _mvjoin(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.ArrayToString(this=to_mv(a[0]), expression=to_str(a[1])), STR)


@function("split", 2)
def _split(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """split(s, delim): a multivalue field (an empty delimiter splits characters)."""
    return Typed(exp.Split(this=to_str(a[0]), expression=to_str(a[1])), MV)


@function("mvappend", 1, None)
def _mvappend(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """mvappend(a, b, ...): all values of all arguments, nulls skipped."""
    parts = [exp.func("COALESCE", to_mv(t), exp.Array(expressions=[])) for t in a if t.kind != NULL]
    if not parts:
        return lit(None)
    out = parts[0]
    for p in parts[1:]:
        out = exp.ArrayConcat(this=out, expressions=[p])
    return Typed(exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.ArraySize(this=out), expression=exp.Literal.number(0)), true=exp.Null())], default=out), MV)


@function("mvdedup", 1)
def _mvdedup(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.ArrayDistinct(this=to_mv(a[0])), MV)


# ---------------------------------------------------------------- time


@function("now", 0)
def _now(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """now(): the search's start time, epoch seconds."""
    return Typed(exp.Literal.number(ctx.compiler.now), NUM)


@function("time", 0)
def _time(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.Literal.number(ctx.compiler.now), NUM)


@function("strftime", 2)
def _strftime(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """strftime(epoch, format): UTC text."""
    return Typed(format_time(to_num(a[0]), _literal_str(a[1], "strftime"), ctx.caps), STR)


@function("strptime", 2)
def _strptime(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """strptime(text, format): epoch seconds (UTC), null when it does not parse."""
    return Typed(parse_time(to_str(a[0]), _literal_str(a[1], "strptime"), ctx.caps), NUM)


_ = (dbl, num_to_str)
