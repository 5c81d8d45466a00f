"""`addtotals [row=t] [fieldname=Total] [field ...]`: a field holding each result's sum.

Splunk Search Reference, addtotals: for every result, the numeric values of the named
fields (wildcards allowed; all fields when none are named, internal `_` fields
excepted) are added up into `fieldname` (default `Total`). Values that are not
numbers are skipped; a result with no numeric value gets no total. A multivalue field
adds its first value. `col=t` (a totals row) and `row=f` are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import fields_before_options, truthy
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, to_num
from splhunt.compile.stage import NUM, ORDER, Stage
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

OPTIONS = {"row": "", "col": "", "labelfield": "", "label": "", "fieldname": "", "fieldformat": ""}


@command("addtotals")
@dataclass(frozen=True)
class AddTotals(A.Command):
    fieldname: str
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, p: CommandParser) -> AddTotals:
        opts = p.options(OPTIONS)
        fields = fields_before_options(p)
        opts.update(p.options(OPTIONS))
        p.expect_end()
        if truthy(opts.get("col")):
            raise p.unsupported("col=true", "the column totals row is not implemented")
        if not truthy(opts.get("row"), True):
            raise p.unsupported("row=false", "only row totals are implemented")
        if "fieldformat" in opts:
            raise p.unsupported("fieldformat=", "not supported")
        return cls(p.name, p.pos, opts.get("fieldname", "Total"), tuple(fields))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        if self.fields:
            names: list[str] = []
            for pat in self.fields:
                for n in stage.match(pat):
                    if n not in names and n != ORDER:
                        names.append(n)
        else:
            names = [f for f in stage.fields if not f.startswith("_") and f != self.fieldname]
        nums = [to_num(ctx.field(n)) for n in names]
        if not nums:
            total: exp.Expression = exp.Null()
        else:
            summed: exp.Expression = exp.func("COALESCE", nums[0], exp.Literal.number(0))
            for e in nums[1:]:
                summed = exp.Add(this=summed, expression=exp.func("COALESCE", e, exp.Literal.number(0)))
            any_num = exp.or_(*[exp.Not(this=exp.Is(this=e, expression=exp.Null())) for e in nums])
            total = exp.Case(ifs=[exp.If(this=any_num, true=summed)], default=exp.Null())
        return ctx.compiler.with_columns(stage, [(self.fieldname, Typed(total, NUM))])
