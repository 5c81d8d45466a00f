"""`fillnull [value=V] [field ...]`: replace null values with V (default `0`).

With no field list Splunk fills every field that appears in the result set, meaning
every field with a value in at least one result; a field no result has stays absent.
Internal fields (names starting with `_`) are left alone. With a field list, the named
fields are filled (and created when missing).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed
from splhunt.compile.stage import MV, NUM, ORDER, STR, Stage
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


@command("fillnull")
@dataclass(frozen=True)
class FillNull(A.Command):
    value: str
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, p: CommandParser) -> FillNull:
        opts = p.options({"value": "replacement value"})
        fields = p.field_list()
        p.expect_end()
        return cls(p.name, p.pos, opts.get("value", "0"), tuple(fields))

    def _fill(self, col: exp.Expression, kind: str) -> Typed:
        v = self.value
        if kind == NUM:
            try:
                return Typed(exp.func("COALESCE", col, exp.Literal.number(float(v))), NUM)
            except ValueError:
                from splhunt.compile.expr import num_to_str

                return Typed(exp.func("COALESCE", num_to_str(col), exp.Literal.string(v)), STR)
        if kind == MV:
            return Typed(exp.func("COALESCE", col, exp.Array(expressions=[exp.Literal.string(v)])), MV)
        return Typed(exp.func("COALESCE", col, exp.Literal.string(v)), STR)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        new: list[tuple[str, Typed]] = []
        if self.fields:
            for f in self.fields:
                for name in stage.match(f) if "*" in f else [f]:
                    if stage.has(name):
                        new.append((name, self._fill(stage.col(name), stage.kind(name))))
                    else:
                        new.append((name, Typed(exp.Literal.string(self.value), STR)))
        else:
            for name, fi in stage.fields.items():
                if name.startswith("_") or name == ORDER:
                    continue
                col = stage.col(name)
                filled = self._fill(col, fi.kind)
                present = exp.GT(
                    this=exp.Window(this=exp.Count(this=col), over="OVER"),
                    expression=exp.Literal.number(0),
                )
                keep = col
                if filled.kind != fi.kind:  # a number filled with text becomes text throughout
                    from splhunt.compile.expr import num_to_str

                    keep = num_to_str(col)
                new.append(
                    (name, Typed(exp.Case(ifs=[exp.If(this=present, true=filled.sql)], default=keep), filled.kind))
                )
        if not new:
            return stage
        return ctx.compiler.with_columns(stage, new)
