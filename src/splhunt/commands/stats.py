"""`stats agg[(field)] [as name] ... [by field ...]`: aggregate results into groups.

Splunk semantics kept here:
- a row whose group-by field is null is dropped (no null group);
- a multivalue group-by field puts the row in one group per value;
- with no `by`, there is always exactly one result row (count=0 on no input);
- results are sorted by the group-by fields, ascending;
- `values()` gives the distinct values sorted lexicographically, `list()` keeps them all
  (at most 100, as Splunk caps it), `dc()` counts distinct values;
- `min()`/`max()` compare numerically when every value is a number and
  lexicographically otherwise, and return the value as it was written;
- `first()`/`last()` take the value of the newest/oldest event (Splunk's default
  result order is newest first);
- `count(f)` counts the values of f (each value of a multivalue field counts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, compile_expr, dbl, to_str
from splhunt.compile.stage import (
    MV,
    NULL,
    NUM,
    ORDER,
    STR,
    FieldInfo,
    Stage,
    allocate,
    colref,
    ident,
    rename_wildcard,
)
from splhunt.errors import CompileError, SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.lexer import OP, WORD
from splhunt.spl.parser import CommandParser


@dataclass(frozen=True)
class Agg:
    func: str  # lower-case
    field: str | None  # None for bare count
    alias: str
    expr: A.Expr | None = None  # func(eval(...))


STATS_OPTIONS = {"allnum": "", "delim": "", "partitions": "", "dedup_splitvals": ""}


def parse_aggs(p: CommandParser, *, stop: tuple[str, ...] = ("by",)) -> list[Agg]:
    """Aggregations such as `count min(_time) as firstTime values(x)` up to `by`."""
    aggs: list[Agg] = []
    while not p.at_end():
        t = p.peek()
        if t.type == OP and t.value == ",":
            p.next()
            continue
        if t.type != WORD or t.value.lower() in stop:
            break
        p.next()
        func = t.value.lower()
        fieldname: str | None = None
        expr: A.Expr | None = None
        nxt = p.peek()
        if nxt.type == OP and nxt.value == "(" and nxt.pos == t.end:
            p.next()
            inner = p.peek()
            if inner.is_word("eval") and p.peek(1).type == OP and p.peek(1).value == "(":
                p.next()
                open_ = p.next()
                from splhunt.spl.lexer import matching_bracket

                close = matching_bracket(p.text, open_.pos, "(", ")")
                expr, _ = p.eval_expr(open_.pos + 1, close)
                p.seek(close + 1)
                fieldname = p.text[inner.pos : close + 1]
            else:
                fieldname = p.word("a field name in " + func + "()")
            p.expect_op(")")
        label = f"{func}({fieldname})" if fieldname is not None else func
        alias = label
        if p.accept_word("as"):
            at = p.peek()
            alias = p.word("a name after AS")
            nxt = p.peek()
            if nxt.type == OP and nxt.value == "(" and nxt.pos == at.end:
                # `as aceFlags(inheritance)`: Splunk keeps the parenthesised part in the name
                from splhunt.spl.lexer import matching_bracket

                close = matching_bracket(p.text, nxt.pos, "(", ")")
                alias = p.text[at.pos : close + 1].strip('"')
                p.seek(close + 1)
        aggs.append(Agg(func, fieldname, alias, expr))
    return aggs


def parse_by(p: CommandParser) -> list[str]:
    if p.accept_word("by"):
        fields = p.field_list()
        if not fields:
            raise p.error("BY needs at least one field")
        return fields
    return []


@command("stats")
@dataclass(frozen=True)
class Stats(A.Command):
    aggs: tuple[Agg, ...]
    by: tuple[str, ...]

    @classmethod
    def parse(cls, p: CommandParser) -> Stats:
        p.options(STATS_OPTIONS)
        aggs = parse_aggs(p)
        by = parse_by(p)
        p.expect_end()
        if not aggs:
            raise p.error("needs at least one aggregation")
        return cls(p.name, p.pos, tuple(aggs), tuple(by))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        return compile_stats(ctx, self.aggs, self.by)


def explode_mv_by(ctx: Ctx, stage: Stage, by: tuple[str, ...]) -> Stage:
    """One row per value of each multivalue group-by field (Splunk groups by each value).

    One field per CTE: with several multivalue fields a row counts in every combination
    of their values (DuckDB would zip two UNNESTs of one SELECT; Spark allows one
    generator per SELECT).
    """
    mv = [f for f in by if stage.has(f) and stage.kind(f) == MV]
    cc = ctx.compiler
    for name in dict.fromkeys(mv):
        projections: list[exp.Expression] = []
        fields = dict(stage.fields)
        for f, fi in stage.fields.items():
            if f == name:
                projections.append(exp.alias_(exp.Explode(this=colref(fi.col)), ident(fi.col)))
                fields[f] = FieldInfo(fi.col, STR)
            else:
                projections.append(colref(fi.col))
        stage = cc.push(cc.select_from(stage).select(*projections), fields)
    return stage


def expand_wildcards(aggs: tuple[Agg, ...], stage: Stage, by: tuple[str, ...]) -> tuple[Agg, ...]:
    """`values(*) as *`, `avg(*_ms) as avg_*`: Splunk runs a function whose field holds
    `*` once for each matching field of its input.

    Decisions (Splunk documents wildcard fields, not these corners):
    * `*` matches field names case-sensitively, in input order, and not internal fields
      (names starting with `_`, as `fields` treats them) unless the pattern starts with
      `_`; the by fields are not aggregated;
    * each `*` of the AS name takes the text its `*` matched (`rename`'s rule); without
      AS each result is named `func(field)`;
    * a pattern that matches no field adds no result field.
    Fields are those the input can hold, so a field empty in every event gives a null.
    """
    if not any(a.expr is None and a.field is not None and "*" in a.field for a in aggs):
        return aggs
    out: list[Agg] = []
    for agg in aggs:
        if agg.expr is not None or agg.field is None or "*" not in agg.field:
            out.append(agg)
            continue
        default = agg.alias == f"{agg.func}({agg.field})"
        for name in stage.match(agg.field):
            if name in by or (name.startswith("_") and not agg.field.startswith("_")):
                continue
            alias = f"{agg.func}({name})" if default else rename_wildcard(agg.field, agg.alias, name)
            out.append(Agg(agg.func, name, alias or name))
    return tuple(out)


def compile_stats(ctx: Ctx, aggs: tuple[Agg, ...], by: tuple[str, ...], *, extra_where: exp.Expression | None = None) -> Stage:
    cc = ctx.compiler
    stage = explode_mv_by(ctx, ctx.stage, by)
    aggs = expand_wildcards(aggs, stage, by)
    if not aggs and not by:
        raise CompileError("stats: no field matches the wildcard of any aggregation, and there is no BY")
    sctx = Ctx(cc, stage)
    # `sel` is new and grows one projection at a time: each builder call below works in
    # place (sqlglot's default copies the whole select on every call, quadratic here);
    # what is handed over is new or copied (alias_ copies its value)
    sel = cc.select_from(stage)
    fields: dict[str, FieldInfo] = {}
    taken: set[str] = set()
    group_cols: list[exp.Expression] = []
    conds: list[exp.Expression] = []
    for f in by:
        if f in fields:
            continue
        if not stage.has(f):
            # every row has a null group value: Splunk returns no rows
            conds.append(exp.false())
            col = allocate(f, taken)
            taken.add(col.lower())
            sel = sel.select(exp.alias_(exp.Cast(this=exp.Null(), to=exp.DataType.build("VARCHAR")), ident(col)), copy=False)
            fields[f] = FieldInfo(col, STR)
            group_cols.append(exp.Null())
            continue
        fi = stage.fields[f]
        conds.append(exp.Not(this=exp.Is(this=colref(fi.col), expression=exp.Null())))
        col = allocate(f, taken)
        taken.add(col.lower())
        sel = sel.select(exp.alias_(colref(fi.col), ident(col), copy=False), copy=False)
        group_cols.append(colref(fi.col))
        fields[f] = FieldInfo(col, fi.kind)
    for agg in aggs:
        t = aggregate(agg, sctx)
        if agg.alias in fields:
            # a later aggregation with the same name replaces the earlier one
            fields.pop(agg.alias)
        col = allocate(agg.alias, taken)
        taken.add(col.lower())
        sel = sel.select(exp.alias_(t.sql, ident(col)), copy=False)
        fields[agg.alias] = FieldInfo(col, t.kind if t.kind != NULL else STR)
    if extra_where is not None:
        conds.append(extra_where)
    if conds:
        sel = sel.where(exp.and_(*conds), copy=False)
    if group_cols:
        sel = sel.group_by(*[g.copy() for g in group_cols], copy=False)
        order = [exp.Ordered(this=g) for g in group_cols]
        ocol = allocate(ORDER, taken)
        sel = sel.select(
            exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order)), ident(ocol)), copy=False
        )
        fields[ORDER] = FieldInfo(ocol, NUM)
    return cc.push(sel, fields)


def _nn(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=e, expression=exp.Null()))


def _filtered(agg: exp.Expression, cond: exp.Expression) -> exp.Expression:
    return exp.Filter(this=agg, expression=exp.Where(this=cond))


def _values_list(t: Typed) -> exp.Expression:
    """All values of a field across the group as one list (multivalue flattened)."""
    if t.kind == MV:
        return exp.Flatten(this=_filtered(exp.ArrayAgg(this=t.sql), _nn(t.sql)))
    s = to_str(t)
    return _filtered(exp.ArrayAgg(this=s), _nn(s))


def _minmax(t: Typed, is_min: bool) -> Typed:
    if t.kind == NUM:
        return Typed(exp.Min(this=t.sql) if is_min else exp.Max(this=t.sql), NUM)
    if t.kind == MV:
        raise SplUnsupportedError("min()/max() of a multivalue field", "use mvexpand first")
    num = dbl(t.sql)
    all_num = exp.and_(
        exp.EQ(this=exp.Count(this=num), expression=exp.Count(this=t.sql)),
        exp.GT(this=exp.Count(this=t.sql), expression=exp.Literal.number(0)),
    )
    by_num = exp.ArgMin(this=t.sql, expression=num) if is_min else exp.ArgMax(this=t.sql, expression=num)
    lex = exp.Min(this=t.sql) if is_min else exp.Max(this=t.sql)
    return Typed(exp.Case(ifs=[exp.If(this=all_num, true=by_num)], default=lex), STR)


def _numeric(t: Typed) -> exp.Expression:
    return t.sql if t.kind == NUM else dbl(t.sql)


def aggregate(agg: Agg, ctx: Ctx) -> Typed:
    """One stats aggregation as a SQL aggregate expression."""
    f = agg.func
    if agg.field is None:
        if f in ("count", "c"):
            return Typed(exp.Count(this=exp.Star()), NUM)
        raise CompileError(f"stats: {f} needs a field, as in {f}(field)")
    if agg.expr is None and "*" in agg.field:
        # callers expand wildcards first (`expand_wildcards`); read as one field literally
        # named `*`, it would give nulls without a word
        raise CompileError(f"stats: {f}({agg.field}) reached compilation unexpanded")
    t = compile_expr(agg.expr, ctx) if agg.expr is not None else ctx.field(agg.field)
    if agg.expr is not None and t.kind == "bool":
        t = Typed(exp.Case(ifs=[exp.If(this=t.sql, true=exp.Literal.number(1))], default=exp.Null()), NUM)
    if t.kind == NULL:
        if f in ("count", "c", "dc", "distinct_count", "sum"):
            return Typed(exp.Literal.number(0), NUM)
        return Typed(exp.Null(), STR)
    fn = AGGREGATES.get(f)
    if fn is None:
        pct = _percentile(f)
        if pct is not None:
            q = exp.Literal.number(pct)
            if ctx.caps.percentile == "percentile":
                # Spark: exact percentile(); sqlglot writes PercentileCont as a call Spark rejects
                return Typed(exp.Quantile(this=_numeric(t), quantile=q), NUM)
            return Typed(exp.PercentileCont(this=_numeric(t), expression=q), NUM)
        raise SplUnsupportedError(f"stats function {f}()", "not implemented")
    return fn(t, ctx)


def _percentile(f: str) -> float | None:
    """`perc95`, `p95`, `exactperc95` -> 0.95."""
    for prefix in ("exactperc", "upperperc", "perc", "p"):
        if f.startswith(prefix) and f[len(prefix):].replace(".", "", 1).isdigit():
            return float(f[len(prefix):]) / 100
    return None


def _time(ctx: Ctx) -> exp.Expression:
    if not ctx.stage.has("_time"):
        raise CompileError("earliest()/latest()/first()/last() need _time in the results")
    return ctx.field("_time").sql


AGGREGATES: dict[str, Callable[[Typed, Ctx], Typed]] = {
    "count": lambda t, c: Typed(
        exp.func("COALESCE", exp.Sum(this=exp.ArraySize(this=t.sql)), exp.Literal.number(0))
        if t.kind == MV else exp.Count(this=t.sql), NUM),
    "c": lambda t, c: AGGREGATES["count"](t, c),
    "dc": lambda t, c: Typed(exp.ArraySize(this=exp.ArrayDistinct(this=_values_list(t))), NUM)
    if t.kind == MV else Typed(exp.Count(this=exp.Distinct(expressions=[t.sql])), NUM),
    "distinct_count": lambda t, c: AGGREGATES["dc"](t, c),
    "values": lambda t, c: Typed(exp.ArraySort(this=exp.ArrayDistinct(this=_values_list(t))), MV),
    "list": lambda t, c: Typed(_values_list(t), MV),
    "min": lambda t, c: _minmax(t, True),
    "max": lambda t, c: _minmax(t, False),
    "sum": lambda t, c: Typed(exp.Sum(this=_numeric(t)), NUM),
    "avg": lambda t, c: Typed(exp.Avg(this=_numeric(t)), NUM),
    "mean": lambda t, c: Typed(exp.Avg(this=_numeric(t)), NUM),
    "median": lambda t, c: Typed(exp.Median(this=_numeric(t)), NUM),
    "stdev": lambda t, c: Typed(exp.StddevSamp(this=_numeric(t)), NUM),
    "stdevp": lambda t, c: Typed(exp.StddevPop(this=_numeric(t)), NUM),
    "var": lambda t, c: Typed(exp.VarianceSamp(this=_numeric(t)) if hasattr(exp, "VarianceSamp") else exp.Variance(this=_numeric(t)), NUM),
    "varp": lambda t, c: Typed(exp.VariancePop(this=_numeric(t)), NUM),
    "range": lambda t, c: Typed(exp.Sub(this=exp.Max(this=_numeric(t)), expression=exp.Min(this=_numeric(t))), NUM),
    "earliest": lambda t, c: Typed(_filtered(exp.ArgMin(this=t.sql, expression=_time(c)), _nn(t.sql)), t.kind),
    "latest": lambda t, c: Typed(_filtered(exp.ArgMax(this=t.sql, expression=_time(c)), _nn(t.sql)), t.kind),
    "first": lambda t, c: Typed(_filtered(exp.ArgMax(this=t.sql, expression=_time(c)), _nn(t.sql)), t.kind),
    "last": lambda t, c: Typed(_filtered(exp.ArgMin(this=t.sql, expression=_time(c)), _nn(t.sql)), t.kind),
    "earliest_time": lambda t, c: Typed(_filtered(exp.Min(this=_time(c)), _nn(t.sql)), NUM),
    "latest_time": lambda t, c: Typed(_filtered(exp.Max(this=_time(c)), _nn(t.sql)), NUM),
    "mode": lambda t, c: Typed(exp.Anonymous(this="mode", expressions=[t.sql]), t.kind),
}
