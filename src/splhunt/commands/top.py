"""`top`/`rare [N] [options] field... [by f...]`: the most (least) common value combinations.

Splunk Search Reference, top and rare:
- results with a value in every listed field are counted per combination of values
  (a multivalue field counts each value, as in stats); results missing one are left
  out of the counts and of the total;
- `count` (countfield=) is the number of results with the combination, `percent`
  (percentfield=) its share of the counted results of the by-group, rounded to six
  decimals; showcount=f / showperc=f drop them;
- `limit=N` or a leading N (default 10, 0 for all) keeps the N most (rare: least)
  common per by-group; ties keep the values in ascending order;
- results come by-group by by-group (by-fields ascending), most common first (rare:
  least common first). `useother=t` is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import fields_before_options, truthy
from splhunt.commands.stats import Agg, compile_stats
from splhunt.compile.compiler import Ctx
from splhunt.compile.stage import NUM, ORDER, FieldInfo, Stage, allocate, colref, ident
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

OPTIONS = {
    "countfield": "", "limit": "", "otherstr": "", "percentfield": "",
    "showcount": "", "showperc": "", "useother": "",
}


@command("top", "rare")
@dataclass(frozen=True)
class Top(A.Command):
    limit: int
    fields: tuple[str, ...]
    by: tuple[str, ...]
    countfield: str
    percentfield: str
    showcount: bool
    showperc: bool

    @classmethod
    def parse(cls, p: CommandParser) -> Top:
        limit = 10
        t = p.peek()
        if t.type == "WORD" and t.value.isdigit():
            limit = int(p.next().value)
        opts = p.options(OPTIONS)
        fields = fields_before_options(p, ("by",))
        opts.update(p.options(OPTIONS))
        by: list[str] = []
        if p.accept_word("by"):
            by = fields_before_options(p)
            if not by:
                raise p.error("BY needs at least one field")
        opts.update(p.options(OPTIONS))
        p.expect_end()
        if not fields:
            raise p.error("needs at least one field")
        if truthy(opts.get("useother")):
            raise p.unsupported("useother=true", "the OTHER row is not implemented")
        if "limit" in opts:
            try:
                limit = int(opts["limit"])
            except ValueError:
                raise p.error(f"limit must be a number, not {opts['limit']!r}") from None
        return cls(
            p.name, p.pos, limit, tuple(fields), tuple(by),
            opts.get("countfield", "count"), opts.get("percentfield", "percent"),
            truthy(opts.get("showcount"), True), truthy(opts.get("showperc"), True),
        )

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cc = ctx.compiler
        rare = self.name == "rare"
        groups = tuple(dict.fromkeys(self.by + self.fields))
        counted = compile_stats(ctx, (Agg("count", None, self.countfield),), groups)
        cnt = colref(counted.fields[self.countfield].col)
        part = [colref(counted.fields[f].col) for f in self.by]
        vals = [colref(counted.fields[f].col) for f in self.fields]
        total = exp.Window(this=exp.Sum(this=cnt), partition_by=part or None)
        pct = exp.Round(
            this=exp.Div(this=exp.Mul(this=cnt, expression=exp.Literal.number(100.0)), expression=total),
            decimals=exp.Literal.number(6),
        )
        rank_order = [exp.Ordered(this=cnt, desc=not rare)] + [exp.Ordered(this=v) for v in vals]
        rank = exp.Window(this=exp.RowNumber(), partition_by=part or None, order=exp.Order(expressions=rank_order))
        fields = {f: fi for f, fi in counted.fields.items() if f != ORDER}
        taken = {fi.col.lower() for fi in fields.values()}
        pcol = allocate(self.percentfield, taken)
        taken.add(pcol.lower())
        rcol = allocate("__rank", taken)
        taken.add(rcol.lower())
        sel = cc.select_from(counted).select(
            *[colref(fi.col) for fi in fields.values()],
            exp.alias_(pct, ident(pcol)),
            exp.alias_(rank, ident(rcol)),
        )
        mid_fields = {**fields, self.percentfield: FieldInfo(pcol, NUM), "__rank": FieldInfo(rcol, NUM)}
        mid = cc.push(sel, mid_fields)
        keep: list[str] = list(self.by) + [f for f in self.fields if f not in self.by]
        if self.showcount:
            keep.append(self.countfield)
        if self.showperc:
            keep.append(self.percentfield)
        out_fields = {f: mid_fields[f] for f in dict.fromkeys(keep)}
        ocol = allocate(ORDER, {fi.col.lower() for fi in mid_fields.values()})
        order = exp.Window(
            this=exp.RowNumber(),
            order=exp.Order(expressions=[exp.Ordered(this=colref(mid_fields[f].col)) for f in self.by]
                            + [exp.Ordered(this=colref(rcol))]),
        )
        final = cc.select_from(mid).select(*[colref(fi.col) for fi in out_fields.values()], exp.alias_(order, ident(ocol)))
        if self.limit > 0:
            final = final.where(exp.LTE(this=colref(rcol), expression=exp.Literal.number(self.limit)))
        return cc.push(final, {**out_fields, ORDER: FieldInfo(ocol, NUM)})
