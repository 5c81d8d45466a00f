"""`replace "old" WITH "new" [, "old2" WITH "new2" ...] [IN field, ...]`: replace values.

Splunk Search Reference, replace: a value equal to `old` becomes `new`; `old` may hold
`*` wildcards, each matching any run of characters, and the `*`s of `new` take what
they matched, in order (`replace "* localhost" WITH "localhost *" IN host`). The
whole value must match, case-sensitively. The first pair that matches applies.
Without `IN`, every field except the internal `_` ones is edited. A multivalue field
is edited value by value; a number becomes text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, to_str
from splhunt.compile.stage import MV, ORDER, STR, Stage
from splhunt.spl import ast as A
from splhunt.spl.lexer import OP, STRING, WORD
from splhunt.spl.parser import CommandParser


def wildcard_rx(old: str) -> str:
    return "^" + "".join("(.*)" if c == "*" else re.escape(c) for c in old) + "$"


def wildcard_repl(new: str, groups: int, backref: str) -> str:
    out: list[str] = []
    n = 0
    for c in new:
        if c == "*":
            n += 1
            if n <= groups:
                out.append(f"${n}" if backref == "$" else f"\\{n}")
            continue
        if c == "\\":
            out.append("\\\\")
        elif c == "$" and backref == "$":
            out.append("\\$")
        else:
            out.append(c)
    return "".join(out)


@command("replace")
@dataclass(frozen=True)
class Replace(A.Command):
    pairs: tuple[tuple[str, str], ...]
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, p: CommandParser) -> Replace:
        pairs: list[tuple[str, str]] = []
        while True:
            t = p.peek()
            if t.type not in (WORD, STRING) or t.is_word("IN"):
                break
            old = p.next().value
            if not p.accept_word("WITH"):
                raise p.error("expected WITH after the value to replace")
            w = p.peek()
            if w.type not in (WORD, STRING):
                raise p.error("expected the replacement after WITH")
            pairs.append((old, p.next().value))
            if not (p.peek().type == OP and p.peek().value == ","):
                break
            p.next()
        fields: list[str] = []
        if p.accept_word("IN"):
            fields = p.field_list()
            if not fields:
                raise p.error("IN needs at least one field")
        p.expect_end()
        if not pairs:
            raise p.error('expected "value" WITH "replacement"')
        return cls(p.name, p.pos, tuple(pairs), tuple(fields))

    def _edit(self, ctx: Ctx, v: exp.Expression) -> exp.Expression:
        ifs = []
        for old, new in self.pairs:
            rx = wildcard_rx(old)
            repl = wildcard_repl(new, old.count("*"), ctx.caps.replace_backref)
            pat = exp.Literal.string("(?s)" + rx)
            ifs.append(exp.If(
                this=exp.RegexpLike(this=v, expression=pat),
                true=exp.RegexpReplace(this=v, expression=pat, replacement=exp.Literal.string(repl), single_replace=True),
            ))
        return exp.Case(ifs=ifs, default=v)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        if self.fields:
            names: list[str] = []
            for pat in self.fields:
                for n in stage.match(pat):
                    if n not in names and n != ORDER:
                        names.append(n)
        else:
            names = [f for f in stage.fields if not f.startswith("_")]
        new: list[tuple[str, Typed]] = []
        for n in names:
            t = ctx.field(n)
            if t.kind == MV:
                x = exp.to_identifier("__rp")
                body = self._edit(ctx, exp.Column(this=x))
                new.append((n, Typed(exp.Transform(this=t.sql, expression=exp.Lambda(this=body, expressions=[x])), MV)))
            else:
                new.append((n, Typed(self._edit(ctx, to_str(t)), STR)))
        if not new:
            return stage
        return ctx.compiler.with_columns(stage, new)
