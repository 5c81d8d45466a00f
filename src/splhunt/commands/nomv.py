"""`nomv field`: a multivalue field as one value, its values joined by newlines.

Splunk Search Reference, nomv: "Separates the values using a new line delimiter".
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed
from splhunt.compile.stage import MV, STR, Stage
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


@command("nomv")
@dataclass(frozen=True)
class NoMv(A.Command):
    field: str

    @classmethod
    def parse(cls, p: CommandParser) -> NoMv:
        field = p.word()
        p.expect_end()
        return cls(p.name, p.pos, field)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        if not stage.has(self.field) or stage.kind(self.field) != MV:
            return stage
        joined = exp.ArrayToString(this=stage.col(self.field), expression=exp.Literal.string("\n"))
        return ctx.compiler.with_columns(stage, [(self.field, Typed(joined, STR))])
