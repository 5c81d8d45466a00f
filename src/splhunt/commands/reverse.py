"""`reverse` and `tail [N]`: results in reverse order; the last N results, last first.

Splunk Search Reference: `reverse` reverses the order of the results; `tail` returns
the last N results (default 10) "in reverse order", so the last result comes first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import ensure_order
from splhunt.compile.compiler import Ctx
from splhunt.compile.stage import NUM, ORDER, FieldInfo, Stage, allocate, colref, ident
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


def reversed_order(ctx: Ctx, stage: Stage, keep_last: int | None = None) -> Stage:
    cc = ctx.compiler
    stage = ensure_order(ctx, stage)
    ocol = stage.fields[ORDER].col
    proj: list[exp.Expression] = []
    for f, fi in stage.fields.items():
        if f == ORDER:
            win = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[exp.Ordered(this=colref(ocol), desc=True)]))
            proj.append(exp.alias_(win, ident(fi.col)))
        else:
            proj.append(colref(fi.col))
    sel = cc.select_from(stage).select(*proj)
    out = cc.push(sel, stage.fields)
    if keep_last is not None:
        cond = exp.LTE(this=colref(out.fields[ORDER].col), expression=exp.Literal.number(keep_last))
        out = cc.push(cc.select_from(out).select(*cc.passthrough(out)).where(cond), out.fields)
    return out


@command("reverse")
@dataclass(frozen=True)
class Reverse(A.Command):
    @classmethod
    def parse(cls, p: CommandParser) -> Reverse:
        p.expect_end()
        return cls(p.name, p.pos)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        return reversed_order(ctx, ctx.stage)


@command("tail")
@dataclass(frozen=True)
class Tail(A.Command):
    limit: int

    @classmethod
    def parse(cls, p: CommandParser) -> Tail:
        n = "10"
        if not p.at_end():
            n = p.next().value
        p.expect_end()
        try:
            limit = int(n)
        except ValueError:
            raise p.error(f"tail needs a number, not {n!r}") from None
        return cls(p.name, p.pos, limit)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        return reversed_order(ctx, ctx.stage, self.limit)


__all__ = ["NUM", "FieldInfo", "Reverse", "Tail", "allocate"]
