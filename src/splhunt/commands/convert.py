"""`convert [timeformat=F] func(field) [AS new] ...`: convert field values in place.

Functions: `ctime` (epoch -> text in `timeformat`, default `%m/%d/%Y %H:%M:%S`),
`mktime` (text in `timeformat` -> epoch), `num`/`auto` (numbers where they parse,
other values kept), `rmcomma`, `rmunit`, `dur2sec`, `none`. A value that does not
convert is left as it was (Splunk's behaviour); a null stays null. Times are UTC. A
multivalue field has each of its values converted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.compile.compiler import Capabilities, Ctx
from splhunt.compile.expr import Typed, dbl, num_to_str, to_str
from splhunt.compile.stage import MV, NUM, STR, Stage
from splhunt.compile.timefmt import format_time, parse_time
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

DEFAULT_TIMEFORMAT = "%m/%d/%Y %H:%M:%S"
FUNCS = {"ctime", "mktime", "num", "auto", "rmcomma", "rmunit", "none", "dur2sec", "memk", "mstime"}


@command("convert")
@dataclass(frozen=True)
class Convert(A.Command):
    timeformat: str
    items: tuple[tuple[str, str, str], ...]  # (func, field, alias)

    @classmethod
    def parse(cls, p: CommandParser) -> Convert:
        opts = p.options({"timeformat": "time format"})
        items: list[tuple[str, str, str]] = []
        while not p.at_end():
            if p.accept_op(","):
                continue
            t = p.next()
            func = t.value.lower()
            if func not in FUNCS:
                raise p.unsupported(f"function {t.value}()", "not a convert function", t)
            p.expect_op("(")
            fieldname = p.word("a field name")
            p.expect_op(")")
            alias = fieldname
            if p.accept_word("as"):
                alias = p.word("a name after AS")
            items.append((func, fieldname, alias))
        if not items:
            raise p.error("needs a conversion such as ctime(field)")
        return cls(p.name, p.pos, opts.get("timeformat", DEFAULT_TIMEFORMAT), tuple(items))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        new: list[tuple[str, Typed]] = []
        for func, fieldname, alias in self.items:
            names = stage.match(fieldname) if "*" in fieldname else [fieldname]
            for name in names:
                if not stage.has(name):
                    continue
                t = Typed(stage.col(name), stage.kind(name))
                if t.kind == MV:
                    # each value is converted (`stats values(_time) as t | convert ctime(t)`)
                    x = exp.to_identifier("__cv")
                    one = self._convert(func, Typed(exp.Column(this=x.copy()), STR), ctx.caps)
                    each = exp.Lambda(this=to_str(one), expressions=[x])
                    got = Typed(exp.Transform(this=t.sql, expression=each), MV)
                else:
                    got = self._convert(func, t, ctx.caps)
                new.append((alias if alias != fieldname else name, got))
        if not new:
            return stage
        return ctx.compiler.with_columns(stage, new)

    def _convert(self, func: str, t: Typed, caps: Capabilities) -> Typed:
        if func == "ctime":
            num = t.sql if t.kind == NUM else dbl(t.sql)
            text = format_time(num, self.timeformat, caps)
            keep = t.sql if t.kind != NUM else num_to_str(t.sql)
            return Typed(exp.func("COALESCE", text, keep), STR)
        if func == "mktime":
            parsed = parse_time(to_str(t), self.timeformat, caps)
            return Typed(exp.func("COALESCE", num_to_str(parsed), to_str(t)), STR)
        if func in ("num", "auto"):
            if t.kind == NUM:
                return t
            n = dbl(exp.Replace(this=t.sql, expression=exp.Literal.string(","), replacement=exp.Literal.string("")) if func == "auto" else t.sql)
            return Typed(exp.func("COALESCE", num_to_str(n), t.sql), STR)
        if func == "rmcomma":
            return Typed(exp.Replace(this=to_str(t), expression=exp.Literal.string(","), replacement=exp.Literal.string("")), STR)
        if func == "none":
            return t
        raise SplUnsupportedError(f"convert {func}()", "not implemented yet")
