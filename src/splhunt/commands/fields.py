"""`fields [+|-] f ...` and `table f ...`: choose and order the fields kept.

`fields - f` removes fields; `fields f` keeps the named fields (plus internal fields
such as `_time`, as Splunk does) ; `table f` keeps exactly the named fields, in that
order. Names may use `*` wildcards.
"""

from __future__ import annotations

from dataclasses import dataclass

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.stage import Stage
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


def _expand(stage: Stage, patterns: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for p in patterns:
        for name in stage.match(p):
            if name not in out:
                out.append(name)
    return out


@command("fields")
@dataclass(frozen=True)
class Fields(A.Command):
    remove: bool
    names: tuple[str, ...]

    @classmethod
    def parse(cls, p: CommandParser) -> Fields:
        remove = False
        t = p.peek()
        if t.type == "WORD" and t.value in ("-", "+"):
            remove = t.value == "-"
            p.next()
        elif t.type == "WORD" and t.value.startswith(("-", "+")) and len(t.value) > 1:
            # `fields -x`
            pass
        names = p.field_list()
        p.expect_end()
        if not names:
            raise p.error("needs at least one field")
        return cls(p.name, p.pos, remove, tuple(names))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        if self.remove:
            drop = set(_expand(stage, self.names))
            keep = [f for f in stage.names() if f not in drop]
        else:
            named = _expand(stage, self.names)
            internal = [f for f in ("_time", "_raw") if f in stage.fields and f not in named]
            keep = named + internal
        return ctx.compiler.project(stage, keep)


@command("table")
@dataclass(frozen=True)
class Table(A.Command):
    names: tuple[str, ...]

    @classmethod
    def parse(cls, p: CommandParser) -> Table:
        names = p.field_list()
        p.expect_end()
        if not names:
            raise p.error("needs at least one field")
        return cls(p.name, p.pos, tuple(names))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        return ctx.compiler.project(ctx.stage, _expand(ctx.stage, self.names))
