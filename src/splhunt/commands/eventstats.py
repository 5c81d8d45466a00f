"""`eventstats agg... [by f...]`: stats per group, added to every result of the group.

Splunk Search Reference, eventstats: the aggregations are those of `stats` (same
functions, same `as` names); every input result is kept, in its order, with the
aggregates of its group added. A result whose by-field is null belongs to no group and
gets no aggregate values. An aggregate named like an existing field replaces it.

A multivalue by-field puts the result in the group of each of its values, as `stats`
does (so those groups' aggregates count it). The result then gets, for each aggregate,
the values of its groups' aggregates as a multivalue field, in the order of its
by-field values (with several multivalue by-fields, every combination, the first
field's values outermost); Splunk's documentation does not say what such a result
gets back, and a multivalue of its groups' values is what joining stats results back
on a multivalue key gives. With a multivalue by-field every aggregate is a multivalue
field (one value for a result with one by-value); a result with no by-value gets none.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import aliased, ensure_order
from splhunt.commands.stats import (
    STATS_OPTIONS,
    Agg,
    compile_stats,
    expand_wildcards,
    parse_aggs,
    parse_by,
)
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, to_str
from splhunt.compile.stage import MV, NUM, ORDER, STR, FieldInfo, Stage, allocate, colref, ident
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


def add_group_aggregates(ctx: Ctx, stage: Stage, aggs: tuple[Agg, ...], by: tuple[str, ...], what: str) -> Stage:
    """Every row of `stage` with the stats of its by-group joined on (left join)."""
    cc = ctx.compiler
    stage = ensure_order(ctx, stage)
    aggs = expand_wildcards(aggs, stage, by)
    groups = compile_stats(Ctx(cc, stage), aggs, by)
    if any(stage.has(f) and stage.kind(f) == MV for f in by):
        return _join_back_mv(ctx, stage, groups, aggs, by)
    left, right = "l", "r"
    fields = dict(stage.fields)
    taken = {fi.col.lower() for fi in fields.values()}
    replaced: dict[str, exp.Expression] = {}
    appended: list[tuple[str, str, exp.Expression]] = []
    for agg in aggs:
        gi = groups.fields[agg.alias]
        ref = colref(gi.col, right)
        if agg.alias in stage.fields and agg.alias not in by:
            replaced[agg.alias] = ref
            fields[agg.alias] = FieldInfo(stage.fields[agg.alias].col, gi.kind)
        elif agg.alias not in by:
            col = allocate(agg.alias, taken)
            taken.add(col.lower())
            appended = [a for a in appended if a[0] != agg.alias]
            appended.append((agg.alias, col, ref))
            fields[agg.alias] = FieldInfo(col, gi.kind)
    proj: list[exp.Expression] = []
    for f, fi in stage.fields.items():
        if f in replaced:
            proj.append(exp.alias_(replaced[f], ident(fi.col)))
        else:
            proj.append(colref(fi.col, left))
    for _, col, ref in appended:
        proj.append(exp.alias_(ref, ident(col)))
    on: exp.Expression = exp.true()
    conds = [
        exp.EQ(this=colref(stage.fields[f].col, left), expression=colref(groups.fields[f].col, right))
        for f in dict.fromkeys(by)
        if stage.has(f)
    ]
    if conds:
        on = exp.and_(*conds)
    elif by:
        on = exp.false()
    sel = (
        exp.select(*proj)
        .from_(aliased(stage, left))
        .join(aliased(groups, right), on=on, join_type="left")
    )
    # reorder the map so the hidden order stays last
    out = {f: fi for f, fi in fields.items() if f != ORDER}
    out[ORDER] = fields[ORDER]
    return cc.push(sel, out)


def _join_back_mv(ctx: Ctx, stage: Stage, groups: Stage, aggs: tuple[Agg, ...], by: tuple[str, ...]) -> Stage:
    """Every row of `stage` with, per aggregate, the list of its by-value groups' values."""
    cc = ctx.compiler
    by = tuple(dict.fromkeys(f for f in by if stage.has(f)))
    ordc = stage.fields[ORDER].col
    # 1. one narrow row per (result, combination of by values), with value positions
    fields: dict[str, FieldInfo] = {"__eo": FieldInfo("__eo", NUM)}
    proj: list[exp.Expression] = [exp.alias_(colref(ordc), ident("__eo"))]
    for i, f in enumerate(by):
        fields[f] = FieldInfo(f"__eb{i}", stage.kind(f))
        proj.append(exp.alias_(colref(stage.fields[f].col), ident(f"__eb{i}")))
    cur = cc.push(cc.select_from(stage).select(*proj), fields)
    positions: list[str] = []
    for i, f in enumerate(by):
        if stage.kind(f) != MV:
            continue
        x, n = exp.to_identifier("__ex"), exp.to_identifier("__ei")
        pair = exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.to_identifier("p"), expression=exp.Column(this=n.copy())),
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=exp.Column(this=x.copy())),
        ])
        z = exp.Explode(this=exp.Transform(this=colref(f"__eb{i}"), expression=exp.Lambda(this=pair, expressions=[x, n])))
        mid = cc.push(cc.select_from(cur).select(exp.Star(), exp.alias_(z, ident("__ez"))), {**cur.fields, "__ez": FieldInfo("__ez", STR)})
        pcol = f"__ep{i}"
        positions.append(pcol)
        nf = {k: (FieldInfo(v.col, STR) if k == f else v) for k, v in cur.fields.items()}
        nf[pcol] = FieldInfo(pcol, NUM)
        sel = cc.select_from(mid).select(
            *[exp.alias_(exp.Dot(this=colref("__ez"), expression=exp.to_identifier("v")), ident(fi.col)) if k == f
              else colref(fi.col) for k, fi in cur.fields.items()],
            exp.alias_(exp.Dot(this=colref("__ez"), expression=exp.to_identifier("p")), ident(pcol)),
        )
        cur = cc.push(sel, nf)
    # 2. each combination's group aggregates
    L, R = "l", "r"
    on = exp.and_(*[exp.EQ(this=colref(cur.fields[f].col, L), expression=colref(groups.fields[f].col, R)) for f in by])
    jproj: list[exp.Expression] = [colref("__eo", L)] + [colref(p, L) for p in positions]
    for k, agg in enumerate(aggs):
        jproj.append(exp.alias_(colref(groups.fields[agg.alias].col, R), ident(f"__ea{k}")))
    joined = cc.push(
        exp.select(*jproj).from_(aliased(cur, L)).join(aliased(groups, R), on=on, join_type="inner"),
        {"__eo": FieldInfo("__eo", NUM)},
    )
    # 3. per result: the aggregates as lists in by-value order
    per: list[exp.Expression] = [colref("__eo")]
    kinds: dict[str, str] = {}
    for k, agg in enumerate(aggs):
        kind = groups.fields[agg.alias].kind
        v = colref(f"__ea{k}")
        val = v if kind in (MV, STR) else to_str(Typed(v, kind))
        pair = exp.Struct(expressions=[
            *[exp.PropertyEQ(this=exp.to_identifier(f"p{j}"), expression=colref(p)) for j, p in enumerate(positions)],
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=val),
        ])
        agg_list = exp.Filter(this=exp.ArrayAgg(this=pair), expression=exp.Where(this=exp.Not(this=exp.Is(this=v.copy(), expression=exp.Null()))))
        x = exp.to_identifier("__ex")
        lst: exp.Expression = exp.Transform(
            this=exp.ArraySort(this=agg_list),
            expression=exp.Lambda(this=exp.Dot(this=x.copy(), expression=exp.to_identifier("v")), expressions=[x]),
        )
        if kind == MV:
            lst = exp.Flatten(this=lst)
        size = exp.ArraySize(this=lst.copy())
        lst = exp.Case(ifs=[exp.If(this=exp.EQ(this=size, expression=exp.Literal.number(0)), true=exp.Null())], default=lst)
        per.append(exp.alias_(lst, ident(f"__ea{k}")))
        kinds[agg.alias] = MV
    per_row = cc.push(
        cc.select_from(joined).select(*per).group_by(colref("__eo")),
        {"__eo": FieldInfo("__eo", NUM), **{agg.alias: FieldInfo(f"__ea{k}", MV) for k, agg in enumerate(aggs)}},
    )
    # 4. back onto every result (left join: results without a by-value get nothing)
    out = dict(stage.fields)
    taken = {fi.col.lower() for fi in out.values()}
    replaced: dict[str, exp.Expression] = {}
    appended: list[tuple[str, exp.Expression]] = []
    for agg in aggs:
        ref = colref(per_row.fields[agg.alias].col, R)
        if agg.alias in by:
            continue
        if agg.alias in stage.fields:
            replaced[agg.alias] = ref
            out[agg.alias] = FieldInfo(stage.fields[agg.alias].col, MV)
        else:
            col = out[agg.alias].col if agg.alias in out else allocate(agg.alias, taken)
            taken.add(col.lower())
            appended = [a for a in appended if a[0] != col]
            appended.append((col, ref))
            out[agg.alias] = FieldInfo(col, MV)
    proj2 = [exp.alias_(replaced[f], ident(fi.col)) if f in replaced else colref(fi.col, L) for f, fi in stage.fields.items()]
    proj2 += [exp.alias_(ref, ident(col)) for col, ref in appended]
    sel = exp.select(*proj2).from_(aliased(stage, L)).join(
        aliased(per_row, R), on=exp.EQ(this=colref(ordc, L), expression=colref("__eo", R)), join_type="left"
    )
    final = {f: fi for f, fi in out.items() if f != ORDER}
    final[ORDER] = out[ORDER]
    return cc.push(sel, final)


@command("eventstats")
@dataclass(frozen=True)
class EventStats(A.Command):
    aggs: tuple[Agg, ...]
    by: tuple[str, ...]

    @classmethod
    def parse(cls, p: CommandParser) -> EventStats:
        p.options(STATS_OPTIONS)
        aggs = parse_aggs(p)
        by = parse_by(p)
        p.expect_end()
        if not aggs:
            raise p.error("needs at least one aggregation")
        return cls(p.name, p.pos, tuple(aggs), tuple(by))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        return add_group_aggregates(ctx, ctx.stage, self.aggs, self.by, "eventstats")
