"""`search ... [subsearch]`: the subsearch's results become a search condition.

Splunk runs the subsearch first and formats its results as
`( (f1="v1" AND f2="v2") OR (f1="v3") )`: each result row is an AND of its non-null
fields (internal `_` fields left out), rows are ORed, and values match with `search`
semantics (case-insensitive, `*` wildcards). splhunt compiles that as a correlated
EXISTS over the subsearch's CTE, so no values are spliced into SQL text. A subsearch
returning a `search` or `query` field (raw search text) is refused. Splunk caps a
subsearch at 10,000 results; so does splhunt.
"""

from __future__ import annotations

from sqlglot import exp

from splhunt.compile.compiler import Compiler, Ctx
from splhunt.compile.expr import Typed, first_value, mv_any, to_str
from splhunt.compile.search import runtime_like_pattern
from splhunt.compile.stage import MV, NULL, ORDER, Stage, colref, ident
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A

MAX_RESULTS = 10_000


def _wild_like(value: exp.Expression) -> exp.Expression:
    return runtime_like_pattern(exp.Lower(this=value))


def compile_subsearch(node: A.SSubsearch, ctx: Ctx) -> exp.Expression:
    cc = ctx.compiler
    first = node.pipeline.commands[0]
    start = Stage("_none", {}) if getattr(first, "generating", False) else None
    sub = cc.compile_commands(node.pipeline.commands, start)
    fields = [f for f in sub.names() if not f.startswith("_") and f != ORDER]
    if "search" in fields or "query" in fields:
        raise SplUnsupportedError("subsearch returning a search/query field", "raw search text from data")
    if not fields:
        return exp.false()
    order = Compiler.ordering(sub)
    win = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order) if order else None)
    capped = cc.push(
        cc.select_from(sub).select(exp.Star(), exp.alias_(win, ident("__subrow"))), {**sub.fields}
    )
    alias = cc.new_name("q")
    conds: list[exp.Expression] = []
    any_field: list[exp.Expression] = []
    for f in fields:
        fi = sub.fields[f]
        subval = exp.Column(this=ident(fi.col), table=ident(alias))
        if fi.kind == MV:
            subval = first_value(subval)
        subtxt = to_str(Typed(subval, fi.kind if fi.kind != MV else "str"))
        main = ctx.field(f)
        if main.kind != NULL:
            # qualify with the outer relation: the subquery has columns of the same names
            main = Typed(exp.Column(this=ident(ctx.stage.fields[f].col), table=ident(ctx.stage.name)), main.kind)
        if main.kind == NULL:
            cond: exp.Expression = exp.false()
        elif main.kind == MV:
            pat = _wild_like(subtxt)
            cond = mv_any(main.sql, lambda v, pat=pat: exp.Escape(this=exp.Like(this=exp.Lower(this=v), expression=pat), expression=exp.Literal.string("\\")))
        else:
            cond = exp.Escape(
                this=exp.Like(this=exp.Lower(this=to_str(main)), expression=_wild_like(subtxt)),
                expression=exp.Literal.string("\\"),
            )
        conds.append(exp.Paren(this=exp.or_(exp.Is(this=subtxt, expression=exp.Null()), exp.Paren(this=cond))))
        any_field.append(exp.Not(this=exp.Is(this=subtxt, expression=exp.Null())))
    where = exp.and_(
        exp.LTE(this=exp.Column(this=ident("__subrow"), table=ident(alias)), expression=exp.Literal.number(MAX_RESULTS)),
        exp.Paren(this=exp.or_(*any_field)),
        *conds,
    )
    q = exp.select(exp.Literal.number(1)).from_(exp.Table(this=ident(capped.name), alias=exp.TableAlias(this=ident(alias)))).where(where)
    return exp.Exists(this=q)


__all__ = ["compile_subsearch", "colref"]
