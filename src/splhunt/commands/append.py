"""`append [subsearch]` and `appendpipe [subpipeline]`: add results after the current ones.

Splunk Search Reference:
- `append` runs the subsearch (from the same events, not over the current results)
  and adds its results after the current ones;
- `appendpipe` runs the subpipeline over the current results and adds its output after
  them (the current results stay as they were).
Fields are the union of both sides; a field one side lacks is null there. The current
results keep their order, the added ones follow in theirs. append's `maxout`,
`maxtime`, `timeout` and `extendtimerange` limits are accepted and not applied.
"""

from __future__ import annotations

from dataclasses import dataclass

from splhunt.commands import command
from splhunt.commands._shared import (
    compile_subpipeline,
    compile_subsearch,
    parse_subsearch,
    subsearch_token,
    union_stages,
)
from splhunt.compile.compiler import Ctx
from splhunt.compile.stage import Stage
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

APPEND_OPTIONS = {"extendtimerange": "", "maxtime": "", "maxout": "", "timeout": ""}


@command("append")
@dataclass(frozen=True)
class Append(A.Command):
    sub: A.Pipeline

    @classmethod
    def parse(cls, p: CommandParser) -> Append:
        p.options(APPEND_OPTIONS)
        tok = subsearch_token(p)
        p.expect_end()
        return cls(p.name, p.pos, parse_subsearch(p.text, tok))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        main = ctx.stage
        sub = compile_subsearch(ctx, self.sub)
        return union_stages(ctx, [main, sub])


@command("appendpipe")
@dataclass(frozen=True)
class AppendPipe(A.Command):
    sub: A.Pipeline

    @classmethod
    def parse(cls, p: CommandParser) -> AppendPipe:
        p.options({"run_in_preview": ""})
        tok = subsearch_token(p)
        p.expect_end()
        return cls(p.name, p.pos, parse_subsearch(p.text, tok))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        main = ctx.stage
        sub = compile_subpipeline(ctx, self.sub, main)
        return union_stages(ctx, [main, sub])
