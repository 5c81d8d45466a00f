"""`xmlkv [field] [maxinputs=N]`: fields from `<key>value</key>` pairs of XML text.

Splunk Search Reference, xmlkv: each element holding plain text gives a field named
like the element (first occurrence). The input is `_raw` unless a field is named.
The field names come from the data; splhunt, which must know them at compile time,
extracts the fields the rest of the query refers to by name (see spath). An element
with attributes (`<Data Name="x">v</Data>`) counts too; nested elements do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from splhunt.commands import command
from splhunt.commands._shared import later_field_names
from splhunt.commands.rex import extract_one, keep_old, nonempty
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, to_str
from splhunt.compile.stage import STR, Stage
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

_NAME = re.compile(r"[A-Za-z_][\w.-]*")


@command("xmlkv")
@dataclass(frozen=True)
class XmlKv(A.Command):
    field: str
    candidates: tuple[str, ...]

    @classmethod
    def parse(cls, p: CommandParser) -> XmlKv:
        p.options({"maxinputs": ""})
        field = "_raw"
        if not p.at_end():
            field = p.word()
        p.options({"maxinputs": ""})
        p.expect_end()
        cands = tuple(
            n for n in later_field_names(p.text, p.end)
            if _NAME.fullmatch(n) and not n.startswith("_") and n != field
        )
        return cls(p.name, p.pos, field, cands)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        if not stage.has(self.field) or not self.candidates:
            return stage
        s = to_str(ctx.field(self.field))
        new: list[tuple[str, Typed]] = []
        for name in self.candidates:
            pat = f"<{re.escape(name)}(?:\\s[^>]*)?>([^<]*)</{re.escape(name)}>"
            v = nonempty(extract_one(ctx, s, pat, 1))
            new.append((name, keep_old(v, STR, ctx.field(name))))
        return ctx.compiler.with_columns(stage, new)
