"""`tstats` and `from datamodel`: statistics over CIM data model datasets.

`| tstats [options] agg(Dataset.field) ... from datamodel=Model[.Dataset]
[where <search>] [by Dataset.field ... [span=1h]]`

splhunt has no acceleration summaries: it computes the dataset from the events, so
`summariesonly`, `allow_old_summaries`, `chunk_size` and `local` change nothing (all
data is "summarised"). As in Splunk, a row whose group-by value is null is dropped
unless `fillnull_value` is given, which fills null group-by values instead.
`prestats=true` is refused: its output is an internal format for a later command.
The `where` clause has `search` semantics over the dotted field names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands.stats import Agg, compile_stats, parse_aggs
from splhunt.compile.compiler import Ctx
from splhunt.compile.datamodel import dataset_events_stage, dataset_stage
from splhunt.compile.expr import Typed, to_str
from splhunt.compile.search import compile_search
from splhunt.compile.stage import MV, NUM, STR, Stage
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

OPTIONS = {
    "summariesonly": "", "allow_old_summaries": "", "fillnull_value": "", "prestats": "",
    "local": "", "chunk_size": "", "append": "", "include_reduced_buckets": "",
}
_TRUE = ("1", "t", "true", "y", "yes")
_SPAN = re.compile(r"^(\d+)\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$", re.I)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def span_seconds(span: str) -> int:
    """`1h` -> 3600. Months and years are refused (they are not fixed lengths)."""
    m = _SPAN.match(span.strip())
    if not m:
        from splhunt.errors import SplUnsupportedError

        raise SplUnsupportedError(f"span={span}", "use s, m, h, d or w units")
    unit = m.group(2).lower()
    key = "m" if unit.startswith("mi") or unit == "m" else unit[0]
    return int(m.group(1)) * _UNIT[key]


def bin_time(stage: Stage, ctx: Ctx, span: int) -> Stage:
    """Replace `_time` by the start of its `span`-second bucket (UTC, epoch-aligned)."""
    t = stage.col("_time")
    floored = exp.Mul(this=exp.Floor(this=exp.Div(this=t, expression=exp.Literal.number(span))), expression=exp.Literal.number(span))
    return ctx.compiler.with_columns(stage, [("_time", Typed(floored, NUM))])


@command("tstats")
@dataclass(frozen=True)
class TStats(A.Command):
    aggs: tuple[Agg, ...]
    datamodel: str
    where: A.SearchNode | None
    by: tuple[str, ...]
    span: str | None
    fillnull_value: str | None
    generating = True

    @classmethod
    def parse(cls, p: CommandParser) -> TStats:
        opts = p.options(OPTIONS)
        if opts.get("prestats", "false").lower() in _TRUE:
            raise p.unsupported("prestats=true", "its output only feeds chart/timechart internals")
        aggs = parse_aggs(p, stop=("from", "where", "by"))
        if not p.accept_word("from"):
            raise p.error("expected FROM datamodel=<Model.Dataset>")
        t = p.next()
        if t.is_word("datamodel") or t.value.lower().startswith("datamodel"):
            if p.accept_op("="):
                spec = p.word("a data model name")
            elif ":" in t.value:
                spec = t.value.split(":", 1)[1]
            else:
                spec = p.word("a data model name")
        else:
            raise p.unsupported(f"FROM {t.value}", "only FROM datamodel=... is supported", t)
        where: A.SearchNode | None = None
        by: list[str] = []
        span = None
        while not p.at_end():
            if p.accept_word("where"):
                # the where clause runs up to BY (or the end)
                start = p.i
                depth = 0
                while not p.at_end():
                    tk = p.peek()
                    if tk.type == "OP" and tk.value == "(":
                        depth += 1
                    elif tk.type == "OP" and tk.value == ")":
                        depth -= 1
                    elif depth == 0 and tk.is_word("by"):
                        break
                    p.next()
                from splhunt.spl.parser import SearchParser

                toks = p.toks[start : p.i] + [p.toks[-1]]
                where = SearchParser(p.text, toks).parse_all()
                continue
            if p.accept_word("by"):
                while not p.at_end():
                    if p.accept_op(","):
                        continue
                    tk = p.peek()
                    if tk.is_word("span") and p.peek(1).type == "OP" and p.peek(1).value == "=":
                        p.next()
                        p.next()
                        span = p.next().value
                        continue
                    if tk.is_word("where"):
                        break
                    by.append(p.word())
                continue
            tk = p.peek()
            if tk.is_word("span") and p.peek(1).type == "OP":
                p.next()
                p.next()
                span = p.next().value
                continue
            raise p.error(f"unexpected {tk.value!r}")
        if not aggs:
            raise p.error("needs at least one aggregation such as count")
        return cls(p.name, p.pos, tuple(aggs), spec, where, tuple(by), span, opts.get("fillnull_value"))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cc = ctx.compiler
        stage = dataset_stage(cc, self.datamodel)
        if self.where is not None:
            cond = compile_search(self.where, Ctx(cc, stage))
            stage = cc.push(cc.select_from(stage).select(*cc.passthrough(stage)).where(cond), stage.fields)
        if self.span and "_time" in self.by:
            stage = bin_time(stage, ctx, span_seconds(self.span))
        if self.fillnull_value is not None:
            fills = []
            for f in self.by:
                if f == "_time":
                    continue  # every event has a time
                if stage.has(f):
                    cur = Typed(stage.col(f), stage.kind(f))
                    fill: exp.Expression = exp.Literal.string(self.fillnull_value)
                    if cur.kind == MV:  # a multivalue field is filled with a one-value list
                        fill = exp.Array(expressions=[fill])
                    filled = exp.func("COALESCE", to_str(cur) if cur.kind == NUM else cur.sql, fill)
                    fills.append((f, Typed(filled, STR if cur.kind == NUM else cur.kind)))
                else:
                    fills.append((f, Typed(exp.Literal.string(self.fillnull_value), STR)))
            stage = cc.with_columns(stage, fills)
        return compile_stats(Ctx(cc, stage), self.aggs, self.by)


@command("from")
@dataclass(frozen=True)
class From(A.Command):
    """`| from datamodel[:=]Model.Dataset`: the dataset's events, every field under its own
    (unprefixed) name, as ESCU's searches and drilldowns read them."""

    datamodel: str
    generating = True

    @classmethod
    def parse(cls, p: CommandParser) -> From:
        t = p.next()
        v = t.value
        if v.lower() == "datamodel":
            if p.accept_op("="):
                spec = p.word("a data model name")
            else:
                spec = p.word("a data model name")
        elif v.lower().startswith("datamodel:"):
            spec = v.split(":", 1)[1]
        else:
            raise p.unsupported(f"from {v}", "only `from datamodel` is supported", t)
        p.expect_end()
        return cls(p.name, p.pos, spec)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        return dataset_events_stage(ctx.compiler, self.datamodel)
