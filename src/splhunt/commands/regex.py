"""`regex [field=|field!=]"regex"`: keep results whose field matches (or does not match).

Splunk Search Reference, regex: the PCRE is matched unanchored against the field
(default `_raw`). With `=`, a result without the field is removed. With `!=`, results
whose value does not match are kept, and splhunt keeps results without the field too
(they do not match). A multivalue field matches when any of its values does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import mv_any, to_str
from splhunt.compile.stage import MV, Stage
from splhunt.spl import ast as A
from splhunt.spl.lexer import OP, STRING, WORD
from splhunt.spl.parser import CommandParser


@command("regex")
@dataclass(frozen=True)
class Regex(A.Command):
    field: str
    negate: bool
    pattern: str

    @classmethod
    def parse(cls, p: CommandParser) -> Regex:
        field, negate = "_raw", False
        t, op = p.peek(), p.peek(1)
        if t.type in (WORD, STRING) and op.type == OP and op.value in ("=", "!="):
            field, negate = t.value, op.value == "!="
            p.next()
            p.next()
        v = p.peek()
        if v.type == STRING:
            p.next()
            pattern = v.value
            p.expect_end()
        elif v.type == "EOF":
            raise p.error("expected a regular expression")
        else:
            pattern = p.text[v.pos : p.end].strip()  # an unquoted regex runs to the end
            while not p.at_end():
                p.next()
        return cls(p.name, p.pos, field, negate, pattern)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        from splhunt.functions.core import regex_match

        stage = ctx.stage
        cc = ctx.compiler
        t = ctx.field(self.field)
        if t.kind == "null":
            cond: exp.Expression = exp.true() if self.negate else exp.false()
        else:
            if t.kind == MV:
                m = mv_any(t.sql, lambda v: regex_match(ctx, v, self.pattern))
            else:
                m = regex_match(ctx, to_str(t), self.pattern)
            if self.negate:
                cond = exp.Not(this=exp.Paren(this=exp.func("COALESCE", m, exp.false())))
            else:
                cond = exp.func("COALESCE", m, exp.false())
        return cc.push(cc.select_from(stage).select(*cc.passthrough(stage)).where(cond), stage.fields)
