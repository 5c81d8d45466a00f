"""`makeresults [count=N]`: generate N results, each with `_time` set to now.

Splunk Search Reference, makeresults: a generating command (it must come first, in a
search or a subsearch); each result has only `_time`, the search's start time in whole
seconds. `annotate=t` and the server options are refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import truthy
from splhunt.compile.compiler import Ctx
from splhunt.compile.stage import NUM, FieldInfo, Stage, colref, ident
from splhunt.errors import CompileError
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

OPTIONS = {"count": "", "annotate": "", "splunk_server": "", "splunk_server_group": "", "format": "", "data": ""}


@command("makeresults")
@dataclass(frozen=True)
class MakeResults(A.Command):
    count: int
    generating: ClassVar[bool] = True

    @classmethod
    def parse(cls, p: CommandParser) -> MakeResults:
        opts = p.options(OPTIONS)
        p.expect_end()
        for o in ("splunk_server", "splunk_server_group", "format", "data"):
            if o in opts:
                raise p.unsupported(f"{o}=", "not supported")
        if truthy(opts.get("annotate")):
            raise p.unsupported("annotate=true", "not supported")
        try:
            n = int(opts.get("count", "1"))
        except ValueError:
            raise p.error(f"count must be a number, not {opts['count']!r}") from None
        if n < 0:
            raise p.error("count must not be negative")
        return cls(p.name, p.pos, n)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        if not first:
            raise CompileError("makeresults must be the first command of a search")
        cc = ctx.compiler
        gen = exp.select(
            exp.alias_(exp.Explode(this=exp.GenerateSeries(start=exp.Literal.number(1), end=exp.Literal.number(self.count))), ident("__i"))
        )
        if self.count == 0:
            gen = gen.where(exp.false())
        rows = cc.push(gen, {"__i": FieldInfo("__i", NUM)})
        now = exp.Cast(this=exp.Literal.number(math.floor(cc.now)), to=exp.DataType.build("DOUBLE"))
        sel = cc.select_from(rows).select(exp.alias_(now, ident("_time")))
        _ = colref
        return cc.push(sel, {"_time": FieldInfo("_time", NUM)})
