"""`spath [input=f] [output=f] [path=p | p]`: extract values from JSON text.

Splunk Search Reference, spath:
- `input` defaults to `_raw`; with a path, the value goes to `output` (default: a field
  named like the path); a `{}` step gives a multivalue field; objects and arrays come
  back as JSON text; a path the JSON lacks leaves the output field as it was;
- a multivalue input is read from its first value;
- without a path, spath extracts every field of the JSON ("auto-extract"), named by
  its path (`a.b`, `list{}`). splhunt must know its fields when it compiles, so it
  extracts the fields the rest of the query refers to by name: every field a later
  command uses is there, but `table *` style output does not list the others. In
  this mode a JSON object or array of objects gives no field (Splunk names their
  members instead), and an extracted value replaces an existing field's value.
See `splhunt.functions.jsonfuncs` for the path syntax.

XML input (text that is not JSON): a path `A.B.C` names nested elements, the root
element first (`RuleAndFileData.PolicyName`); the text of the first such element is
the value. Attributes (`{@attr}`) and repeated elements (`{}` on XML) are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import later_field_names
from splhunt.commands.rex import extract_one, keep_old, nonempty
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, to_str
from splhunt.compile.stage import STR, Stage
from splhunt.functions.jsonfuncs import json_path_value, spath_steps
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

OPTIONS = {"input": "", "output": "", "path": ""}


def auto_candidates(names: list[str], exclude: set[str]) -> tuple[str, ...]:
    out = []
    for n in names:
        if n in exclude or n.startswith("_"):
            continue
        try:
            spath_steps(n)
        except ValueError:
            continue
        out.append(n)
    return tuple(out)


_XML_NAME = re.compile(r"[A-Za-z_][\w-]*")


def xml_path_value(ctx: Ctx, s: exp.Expression, path: str) -> exp.Expression | None:
    """The text of the first element at `A.B.C` in XML text, or None for paths XML lacks."""
    steps = path.split(".")
    if not all(_XML_NAME.fullmatch(x) for x in steps):
        return None
    opens = ".*?".join(f"<{x}(?:\\s[^>]*)?>" for x in steps)
    pat = f"(?s){opens}([^<]*)</{steps[-1]}>"
    return nonempty(extract_one(ctx, s, pat, 1))


def with_xml(ctx: Ctx, s: exp.Expression, path: str, v: Typed) -> Typed:
    """The JSON value, or for text that starts like XML the XML element's text."""
    if v.kind != STR:
        return v
    x = xml_path_value(ctx, s, path)
    if x is None:
        return v
    looks_xml = exp.Like(this=exp.Trim(this=s.copy()), expression=exp.Literal.string("<%"))
    return Typed(exp.Case(ifs=[exp.If(this=looks_xml, true=x)], default=v.sql), STR)


@command("spath")
@dataclass(frozen=True)
class Spath(A.Command):
    input: str
    output: str | None
    path: str | None
    candidates: tuple[str, ...] = ()

    @classmethod
    def parse(cls, p: CommandParser) -> Spath:
        opts = p.options(OPTIONS)
        path = opts.get("path")
        if path is None and not p.at_end():
            path = p.word("a path")
        opts.update(p.options(OPTIONS))
        path = opts.get("path", path)
        p.expect_end()
        inp = opts.get("input", "_raw")
        if path is not None:
            try:
                spath_steps(path)
            except ValueError as e:
                raise p.unsupported(f"path {path!r}", str(e)) from None
            return cls(p.name, p.pos, inp, opts.get("output"), path)
        cands = auto_candidates(later_field_names(p.text, p.end), {inp})
        return cls(p.name, p.pos, inp, None, None, cands)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        if not stage.has(self.input):
            return stage
        s = to_str(ctx.field(self.input))
        new: list[tuple[str, Typed]] = []
        if self.path is not None:
            out = self.output or self.path
            v = with_xml(ctx, s, self.path, json_path_value(ctx, s, self.path))
            new.append((out, keep_old(v.sql, v.kind, ctx.field(out))))
        else:
            for name in self.candidates:
                v = with_xml(ctx, s, name, json_path_value(ctx, s, name, scalars_only=True))
                new.append((name, keep_old(v.sql, v.kind, ctx.field(name))))
        if not new:
            return stage
        return ctx.compiler.with_columns(stage, new)
