"""`fromjson field [prefix=p]`: the top-level keys of a JSON object as fields.

Splunk Search Reference, fromjson: each top-level key becomes a field (with `prefix`
in front of its name); nested objects and arrays stay JSON text here (Splunk turns
arrays into multivalue fields: splhunt gives their JSON text). Text that is not a
JSON object gives nothing. The field names come from the data; splhunt extracts the
fields the rest of the query refers to by name (see spath).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import later_field_names
from splhunt.commands.rex import keep_old
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, to_str
from splhunt.compile.stage import STR, Stage
from splhunt.functions.jsonfuncs import json_guard
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


@command("fromjson")
@dataclass(frozen=True)
class FromJson(A.Command):
    field: str
    prefix: str
    candidates: tuple[str, ...]

    @classmethod
    def parse(cls, p: CommandParser) -> FromJson:
        opts = p.options({"prefix": ""})
        field = p.word()
        opts.update(p.options({"prefix": ""}))
        p.expect_end()
        prefix = opts.get("prefix", "")
        cands = tuple(
            n for n in later_field_names(p.text, p.end)
            if n.startswith(prefix) and len(n) > len(prefix) and not n.startswith("_") and n != field
        )
        return cls(p.name, p.pos, field, prefix, cands)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        if not stage.has(self.field) or not self.candidates:
            return stage
        s = to_str(ctx.field(self.field))
        new: list[tuple[str, Typed]] = []
        for name in self.candidates:
            key = name[len(self.prefix):]
            jp = exp.JSONPath(expressions=[exp.JSONPathRoot(), exp.JSONPathKey(this=key)])
            v = json_guard(ctx, s, exp.JSONExtractScalar(this=s, expression=jp))
            new.append((name, keep_old(v, STR, ctx.field(name))))
        return ctx.compiler.with_columns(stage, new)
