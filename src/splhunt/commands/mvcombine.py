"""`mvcombine [delim=" "] field`: merge results that differ only in `field`.

Splunk Search Reference, mvcombine: results whose other fields are all identical
become one result whose `field` holds every value, in result order (a multivalue
field contributes each of its values). The merged result takes the place of the first
result of its group. Results without the field are grouped the same way and add no
value. `delim` only matters to the single-value rendering (see nomv); splhunt keeps
the values as a multivalue field and ignores it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import ensure_order
from splhunt.commands.makemv import empty_to_null
from splhunt.compile.compiler import Ctx
from splhunt.compile.stage import MV, ORDER, FieldInfo, Stage, colref, ident
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


@command("mvcombine")
@dataclass(frozen=True)
class MvCombine(A.Command):
    field: str

    @classmethod
    def parse(cls, p: CommandParser) -> MvCombine:
        p.options({"delim": ""})
        field = p.word()
        p.expect_end()
        return cls(p.name, p.pos, field)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cc = ctx.compiler
        stage = ctx.stage
        if not stage.has(self.field):
            return stage
        stage = ensure_order(ctx)
        fi = stage.fields[self.field]
        ocol = stage.fields[ORDER].col
        val = colref(fi.col)
        ordered = exp.Order(this=val, expressions=[exp.Ordered(this=colref(ocol))])
        agg: exp.Expression = exp.Filter(
            this=exp.ArrayAgg(this=ordered),
            expression=exp.Where(this=exp.Not(this=exp.Is(this=val, expression=exp.Null()))),
        )
        if fi.kind == MV:
            agg = exp.Flatten(this=agg)
        groups = [colref(i.col) for f, i in stage.fields.items() if f not in (self.field, ORDER)]
        proj: list[exp.Expression] = []
        for f, i in stage.fields.items():
            if f == self.field:
                proj.append(exp.alias_(empty_to_null(agg), ident(i.col)))
            elif f == ORDER:
                proj.append(exp.alias_(exp.Min(this=colref(i.col)), ident(i.col)))
            else:
                proj.append(colref(i.col))
        sel = cc.select_from(stage).select(*proj)
        if groups:
            sel = sel.group_by(*groups)
        fields = {**stage.fields, self.field: FieldInfo(fi.col, MV)}
        return cc.push(sel, fields)
