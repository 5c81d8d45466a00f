"""`mvexpand field [limit=N]`: one result per value of a multivalue field.

Splunk Search Reference, mvexpand: each result is copied once per value of the field
(at most `limit` values, in their order), the copy holding that single value; the
copies keep the result's place in the order. A single-valued field gives the result
unchanged. A result without the field is dropped (splhunt follows the behaviour
Splunk users rely on: fill the field first to keep such results).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import ensure_order
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import to_mv
from splhunt.compile.stage import NUM, ORDER, STR, FieldInfo, Stage, allocate, colref, ident
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


@command("mvexpand")
@dataclass(frozen=True)
class MvExpand(A.Command):
    field: str
    limit: int | None

    @classmethod
    def parse(cls, p: CommandParser) -> MvExpand:
        opts = p.options({"limit": ""})
        field = p.word()
        opts.update(p.options({"limit": ""}))
        p.expect_end()
        limit = None
        if "limit" in opts:
            try:
                limit = int(opts["limit"]) or None
            except ValueError:
                raise p.error(f"limit must be a number, not {opts['limit']!r}") from None
        return cls(p.name, p.pos, field, limit)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cc = ctx.compiler
        stage = ctx.stage
        if not stage.has(self.field):
            return cc.push(cc.select_from(stage).select(*cc.passthrough(stage)).where(exp.false()), stage.fields)
        stage = ensure_order(ctx)
        t = Ctx(cc, stage).field(self.field)
        lst = to_mv(t)
        n: exp.Expression = exp.ArraySize(this=lst)
        if self.limit:
            n = exp.Least(this=n, expressions=[exp.Literal.number(self.limit)])
        taken = {fi.col.lower() for fi in stage.fields.values()}
        icol = allocate("__mvi", taken)
        idx = exp.Explode(this=exp.GenerateSeries(start=exp.Literal.number(1), end=n))
        sel = cc.select_from(stage).select(*cc.passthrough(stage), exp.alias_(idx, ident(icol)))
        mid = cc.push(sel, {**stage.fields, "__mvi": FieldInfo(icol, NUM)})
        # `lst` names columns of `stage`, which `mid` carries under the same names
        val = exp.Bracket(this=lst.copy(), expressions=[colref(icol)], offset=1, safe=True)
        order = exp.Window(
            this=exp.RowNumber(),
            order=exp.Order(expressions=[exp.Ordered(this=colref(stage.fields[ORDER].col)), exp.Ordered(this=colref(icol))]),
        )
        proj: list[exp.Expression] = []
        fields: dict[str, FieldInfo] = {}
        for f, info in stage.fields.items():
            if f == self.field:
                proj.append(exp.alias_(val, ident(info.col)))
                fields[f] = FieldInfo(info.col, STR)
            elif f == ORDER:
                proj.append(exp.alias_(order, ident(info.col)))
                fields[f] = info
            else:
                proj.append(colref(info.col))
                fields[f] = info
        return cc.push(cc.select_from(mid).select(*proj), fields)
