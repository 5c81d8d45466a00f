"""`where <eval-expression>`: keep results where the expression is true (null is false)."""

from __future__ import annotations

from dataclasses import dataclass

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import compile_expr, to_bool
from splhunt.compile.stage import Stage
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


@command("where")
@dataclass(frozen=True)
class Where(A.Command):
    expr: A.Expr

    @classmethod
    def parse(cls, p: CommandParser) -> Where:
        if p.at_end():
            raise p.error("needs an expression")
        expr, stop = p.eval_expr()
        if stop < p.end and p.text[stop:p.end].strip():
            raise p.error("unexpected text after the expression", None) from None
        return cls("where", p.pos, expr)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cond = to_bool(compile_expr(self.expr, ctx), "where")
        cc = ctx.compiler
        sel = cc.select_from(ctx.stage).select(*cc.passthrough(ctx.stage)).where(cond)
        return cc.push(sel, ctx.stage.fields)
