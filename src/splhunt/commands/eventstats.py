"""`eventstats agg... [by f...]`: stats per group, added to every result of the group.

Splunk Search Reference, eventstats: the aggregations are those of `stats` (same
functions, same `as` names); every input result is kept, in its order, with the
aggregates of its group added. A result whose by-field is null belongs to no group and
gets no aggregate values. An aggregate named like an existing field replaces it.
A multivalue by-field is refused (Splunk would count the result in several groups,
which cannot be added back to one row).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import aliased, ensure_order
from splhunt.commands.stats import STATS_OPTIONS, Agg, compile_stats, parse_aggs, parse_by
from splhunt.compile.compiler import Ctx
from splhunt.compile.stage import MV, ORDER, FieldInfo, Stage, allocate, colref, ident
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


def add_group_aggregates(ctx: Ctx, stage: Stage, aggs: tuple[Agg, ...], by: tuple[str, ...], what: str) -> Stage:
    """Every row of `stage` with the stats of its by-group joined on (left join)."""
    for f in by:
        if stage.has(f) and stage.kind(f) == MV:
            raise SplUnsupportedError(f"{what} by the multivalue field {f}", "mvexpand it first")
    cc = ctx.compiler
    stage = ensure_order(ctx, stage)
    groups = compile_stats(Ctx(cc, stage), aggs, by)
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
