"""`makemv [delim=" "|tokenizer=regex] [allowempty=f] field`: split a field into values.

Splunk Search Reference, makemv: the value is split on every occurrence of `delim`
(default a single space), or each match of the `tokenizer` regex gives a value (its
first capturing group, or the whole match when it has none). Empty values are dropped
unless `allowempty=t`. A field that already has several values is left alone, and so
are internal fields (names starting with `_`). `setsv` is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import regex_groups, truthy
from splhunt.commands.rex import extract_all, list_nonempty
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, to_str
from splhunt.compile.stage import MV, Stage
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

OPTIONS = {"delim": "", "tokenizer": "", "allowempty": "", "setsv": ""}


def empty_to_null(lst: exp.Expression) -> exp.Expression:
    return exp.Case(
        ifs=[exp.If(this=exp.EQ(this=exp.ArraySize(this=lst), expression=exp.Literal.number(0)), true=exp.Null())],
        default=lst,
    )


@command("makemv")
@dataclass(frozen=True)
class MakeMv(A.Command):
    field: str
    delim: str | None
    tokenizer: str | None
    allowempty: bool

    @classmethod
    def parse(cls, p: CommandParser) -> MakeMv:
        opts = p.options(OPTIONS)
        field = p.word()
        opts.update(p.options(OPTIONS))
        p.expect_end()
        if truthy(opts.get("setsv")):
            raise p.unsupported("setsv=true", "not implemented")
        if "delim" in opts and "tokenizer" in opts:
            raise p.error("give delim= or tokenizer=, not both")
        delim = opts.get("delim", " " if "tokenizer" not in opts else None)
        if delim == "":
            raise p.error("delim must not be empty")
        return cls(p.name, p.pos, field, delim, opts.get("tokenizer"), truthy(opts.get("allowempty")))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        if not stage.has(self.field) or self.field.startswith("_") or stage.kind(self.field) == MV:
            return stage
        s = to_str(ctx.field(self.field))
        if self.tokenizer is not None:
            _, ngroups = regex_groups(self.tokenizer)
            lst = extract_all(ctx, s, self.tokenizer, 1 if ngroups else 0)
        else:
            lst = exp.Split(this=s, expression=exp.Literal.string(self.delim or " "))
        out = empty_to_null(lst) if self.allowempty else list_nonempty(lst, None)
        return ctx.compiler.with_columns(stage, [(self.field, Typed(out, MV))])
