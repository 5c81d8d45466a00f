"""`search <expression>`: keep events that match (Splunk's search-term semantics)."""

from __future__ import annotations

from dataclasses import dataclass

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.search import compile_search
from splhunt.compile.stage import Stage
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


@command("search")
@dataclass(frozen=True)
class Search(A.Command):
    expr: A.SearchNode

    @classmethod
    def parse(cls, p: CommandParser) -> Search:
        return cls("search", p.pos, p.search_expr())

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        if isinstance(self.expr, A.SAll):
            return ctx.stage
        cond = compile_search(self.expr, ctx)
        cc = ctx.compiler
        sel = cc.select_from(ctx.stage).select(*cc.passthrough(ctx.stage)).where(cond)
        return cc.push(sel, ctx.stage.fields)
