"""`streamstats [current=t] [window=N] [global=t] agg... [by f...]`: running statistics.

Splunk Search Reference, streamstats: results are processed in their current order
(newest first for events) and each result gets the aggregates over the results seen
so far, itself included unless `current=f`. With `by`, each group keeps its own
running values; a result whose by-field is null gets none. `window=N` limits the
aggregation to the last N results: with `global=t` (the default) the last N results of
the whole stream, counting only those of the result's own group; with `global=f` the
last N results of the group. The aggregation functions are those of `stats` (`mode`
excepted). `time_window`, `reset_on_change`, `reset_before`, `reset_after` are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import ensure_order, truthy
from splhunt.commands.stats import Agg, aggregate, expand_wildcards, parse_aggs, parse_by
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed
from splhunt.compile.stage import MV, NULL, ORDER, STR, Stage
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

OPTIONS = {
    "current": "", "window": "", "global": "", "allnum": "",
    "time_window": "", "reset_on_change": "", "reset_before": "", "reset_after": "",
}


def windowed(e: exp.Expression, over: dict) -> exp.Expression:
    """Every aggregate inside `e` turned into a window function with `over`."""
    if isinstance(e, exp.Filter) and isinstance(e.this, exp.AggFunc) or isinstance(e, exp.AggFunc):
        return exp.Window(this=e, **over)
    if isinstance(e, exp.Anonymous):
        raise SplUnsupportedError(f"streamstats {e.name}()", "no running form")
    for k, v in list(e.args.items()):
        if isinstance(v, exp.Expression):
            e.set(k, windowed(v, over))
        elif isinstance(v, list):
            e.set(k, [windowed(x, over) if isinstance(x, exp.Expression) else x for x in v])
    return e


@command("streamstats")
@dataclass(frozen=True)
class StreamStats(A.Command):
    aggs: tuple[Agg, ...]
    by: tuple[str, ...]
    current: bool
    window: int
    global_: bool

    @classmethod
    def parse(cls, p: CommandParser) -> StreamStats:
        opts = p.options(OPTIONS)
        aggs = parse_aggs(p)
        by = parse_by(p)
        p.expect_end()
        if not aggs:
            raise p.error("needs at least one aggregation")
        for o in ("time_window", "reset_on_change", "reset_before", "reset_after"):
            if o in opts and (o == "time_window" or truthy(opts[o]) or o != "reset_on_change"):
                raise p.unsupported(f"{o}=", "not implemented")
        try:
            window = int(opts.get("window", "0"))
        except ValueError:
            raise p.error(f"window must be a number, not {opts['window']!r}") from None
        return cls(
            p.name, p.pos, tuple(aggs), tuple(by), truthy(opts.get("current"), True), window,
            truthy(opts.get("global"), True),
        )

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cc = ctx.compiler
        stage = ensure_order(ctx)
        for f in self.by:
            if stage.has(f) and stage.kind(f) == MV:
                raise SplUnsupportedError(f"streamstats by the multivalue field {f}", "mvexpand it first")
        sctx = Ctx(cc, stage)
        order = exp.Order(expressions=[exp.Ordered(this=stage.col(ORDER))])
        part = [stage.col(f) for f in self.by if stage.has(f)]
        if self.window > 0:
            n = self.window - (1 if self.current else 0)
            start: object = exp.Literal.number(n)
            kind = "RANGE" if (self.global_ and part) else "ROWS"
        else:
            start, kind = "UNBOUNDED", "ROWS"
        if self.current:
            spec = exp.WindowSpec(kind=kind, start=start, start_side="PRECEDING", end="CURRENT ROW")
        else:
            spec = exp.WindowSpec(
                kind=kind, start=start, start_side="PRECEDING", end=exp.Literal.number(1), end_side="PRECEDING"
            )
        over = {"partition_by": part or None, "order": order, "spec": spec}
        null_group = [f for f in self.by if not stage.has(f)]
        new: list[tuple[str, Typed]] = []
        for agg in expand_wildcards(self.aggs, stage, self.by):
            t = aggregate(agg, sctx)
            if null_group:
                new.append((agg.alias, Typed(exp.Null(), t.kind if t.kind != NULL else STR)))
                continue
            e = windowed(t.sql.copy(), over)
            if part:
                ok = exp.and_(*[exp.Not(this=exp.Is(this=c, expression=exp.Null())) for c in part])
                e = exp.Case(ifs=[exp.If(this=ok, true=e)], default=exp.Null())
            new.append((agg.alias, Typed(e, t.kind)))
        return cc.with_columns(stage, new)

