"""`rename old AS new [, old2 AS new2 ...]`: rename fields; `*` wildcards map parts.

A rename onto a field that exists replaces that field (its old values are gone). A
rename whose source field does not exist changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.stage import ORDER, FieldInfo, Stage, allocate, colref, ident, rename_wildcard
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


@command("rename")
@dataclass(frozen=True)
class Rename(A.Command):
    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, p: CommandParser) -> Rename:
        pairs: list[tuple[str, str]] = []
        while not p.at_end():
            if p.accept_op(","):
                continue
            old = p.word("a field to rename")
            if not p.accept_word("as"):
                raise p.error(f"expected AS after {old!r}")
            new = p.word("a new field name after AS")
            if old.count("*") != new.count("*") and new.count("*"):
                raise p.error(f"wildcards in {old!r} and {new!r} do not pair up")
            pairs.append((old, new))
        if not pairs:
            raise p.error("needs `field AS newname`")
        return cls(p.name, p.pos, tuple(pairs))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        # field name -> (source column, kind); applied pair by pair as Splunk does
        current: dict[str, FieldInfo] = dict(ctx.stage.fields)
        for old, new in self.pairs:
            updated: dict[str, FieldInfo] = {}
            moved: dict[str, FieldInfo] = {}
            for name, fi in current.items():
                target = rename_wildcard(old, new, name) if name != ORDER else None
                if target is None:
                    updated[name] = fi
                else:
                    moved[name] = FieldInfo(fi.col, fi.kind)
                    updated[name] = FieldInfo(fi.col, fi.kind)
            if not moved:
                continue
            result: dict[str, FieldInfo] = {}
            targets = {rename_wildcard(old, new, n): n for n in moved}
            for name, fi in updated.items():
                if name in moved:
                    tgt = rename_wildcard(old, new, name)
                    assert tgt is not None
                    result[tgt] = fi
                elif name in targets:
                    continue  # overwritten by the renamed field
                else:
                    result[name] = fi
            current = result
        # project with fresh column names
        taken: set[str] = set()
        fields: dict[str, FieldInfo] = {}
        projections = []
        for name, fi in current.items():
            col = allocate(name, taken)
            taken.add(col.lower())
            projections.append(exp.alias_(colref(fi.col), ident(col), copy=False))  # a new column: no copy
            fields[name] = FieldInfo(col, fi.kind)
        cc = ctx.compiler
        return cc.push(cc.select_from(ctx.stage).select(*projections), fields)
