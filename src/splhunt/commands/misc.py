"""Small commands: `head`, `tail`, `sort`, `dedup`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.compile.compiler import Compiler, Ctx
from splhunt.compile.expr import dbl
from splhunt.compile.stage import NUM, ORDER, FieldInfo, Stage, allocate, colref, ident
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser


def with_order(ctx: Ctx, stage: Stage, order: list[exp.Ordered]) -> tuple[exp.Select, dict[str, FieldInfo]]:
    """Select all fields of `stage` plus a fresh hidden order column from `order`."""
    cc = ctx.compiler
    fields = {f: fi for f, fi in stage.fields.items() if f != ORDER}
    taken = {fi.col.lower() for fi in fields.values()}
    ocol = allocate(ORDER, taken)
    win = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order)) if order else exp.Window(this=exp.RowNumber())
    sel = cc.select_from(stage).select(*[colref(fi.col) for fi in fields.values()], exp.alias_(win, ident(ocol)))
    fields[ORDER] = FieldInfo(ocol, NUM)
    return sel, fields


@command("head")
@dataclass(frozen=True)
class Head(A.Command):
    limit: int

    @classmethod
    def parse(cls, p: CommandParser) -> Head:
        opts = p.options({"limit": "number of results", "null": "", "keeplast": ""})
        n = opts.get("limit")
        if n is None and not p.at_end():
            n = p.next().value
        p.expect_end()
        try:
            limit = int(n) if n is not None else 10
        except ValueError:
            raise p.error(f"head needs a number, not {n!r}") from None
        return cls(p.name, p.pos, limit)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        order = Compiler.ordering(ctx.stage)
        sel, fields = with_order(ctx, ctx.stage, order)
        stage = ctx.compiler.push(sel, fields)
        cc = ctx.compiler
        sel2 = cc.select_from(stage).select(*cc.passthrough(stage)).where(
            exp.LTE(this=stage.col(ORDER), expression=exp.Literal.number(self.limit))
        )
        return cc.push(sel2, stage.fields)


@command("sort")
@dataclass(frozen=True)
class Sort(A.Command):
    limit: int | None
    keys: tuple[tuple[str, bool, str], ...]  # (field, descending, mode: auto|num|str|ip)

    @classmethod
    def parse(cls, p: CommandParser) -> Sort:
        limit = None
        t = p.peek()
        if t.type == "WORD" and t.value.isdigit():
            limit = int(p.next().value)
        opts = p.options({"limit": ""})
        if "limit" in opts:
            limit = int(opts["limit"])
        keys: list[tuple[str, bool, str]] = []
        while not p.at_end():
            if p.accept_op(","):
                continue
            t = p.next()
            v = t.value
            desc = False
            if v in ("-", "+"):
                desc = v == "-"
                v = p.next().value
            elif v.startswith(("-", "+")) and len(v) > 1:
                desc, v = v[0] == "-", v[1:]
            mode = "auto"
            nxt = p.peek()
            if v.lower() in ("num", "str", "ip", "auto") and nxt.type == "OP" and nxt.value == "(":
                mode = v.lower()
                p.next()
                v = p.word()
                p.expect_op(")")
            keys.append((v, desc, mode))
        if keys and keys[-1][0] in ("d", "desc") and len(keys) > 1:
            keys = [(f, not d, m) for f, d, m in keys[:-1]]
        return cls(p.name, p.pos, limit, tuple(keys))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        order: list[exp.Ordered] = []
        for f, desc, mode in self.keys:
            if not stage.has(f):
                continue
            col = stage.col(f)
            kind = stage.kind(f)
            if kind == NUM or mode == "str":
                order.append(exp.Ordered(this=col, desc=desc, nulls_first=False))
            else:
                # Splunk sorts numbers numerically before strings lexicographically
                num = dbl(col)
                order.append(exp.Ordered(this=exp.Is(this=num, expression=exp.Null()), desc=desc))
                order.append(exp.Ordered(this=num, desc=desc, nulls_first=False))
                order.append(exp.Ordered(this=col, desc=desc, nulls_first=False))
        order.extend(Compiler.ordering(stage))
        sel, fields = with_order(ctx, stage, order)
        out = ctx.compiler.push(sel, fields)
        limit = self.limit if self.limit is not None else 10000
        cc = ctx.compiler
        if limit:
            sel2 = cc.select_from(out).select(*cc.passthrough(out)).where(
                exp.LTE(this=out.col(ORDER), expression=exp.Literal.number(limit))
            )
            out = cc.push(sel2, out.fields)
        return out


@command("dedup")
@dataclass(frozen=True)
class Dedup(A.Command):
    count: int
    fields: tuple[str, ...]
    keepempty: bool

    @classmethod
    def parse(cls, p: CommandParser) -> Dedup:
        n = 1
        t = p.peek()
        if t.type == "WORD" and t.value.isdigit():
            n = int(p.next().value)
        opts = p.options({"keepempty": "", "consecutive": "", "keepevents": "", "sortby": ""})
        fields = p.field_list(stop=("sortby",))
        if p.peek().is_word("sortby"):
            raise p.unsupported("sortby", "not implemented yet")
        p.expect_end()
        if not fields:
            raise p.error("needs at least one field")
        for o in ("consecutive", "keepevents"):
            if opts.get(o, "false").lower() in ("true", "t", "1"):
                raise p.unsupported(f"{o}=true", "not implemented yet")
        return cls(p.name, p.pos, n, tuple(fields), opts.get("keepempty", "false").lower() in ("true", "t", "1"))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        stage = ctx.stage
        if any(not stage.has(f) for f in self.fields):
            if self.keepempty:
                return stage
            cc = ctx.compiler
            return cc.push(cc.select_from(stage).select(*cc.passthrough(stage)).where(exp.false()), stage.fields)
        order = Compiler.ordering(stage)
        cc = ctx.compiler
        parts = [stage.col(f) for f in self.fields]
        rn = exp.Window(this=exp.RowNumber(), partition_by=parts, order=exp.Order(expressions=order) if order else None)
        taken = {fi.col.lower() for fi in stage.fields.values()}
        rcol = allocate("__dedup", taken)
        inner = cc.select_from(stage).select(*cc.passthrough(stage), exp.alias_(rn, ident(rcol)))
        tmp = cc.push(inner, {**stage.fields, "__dedup": FieldInfo(rcol, NUM)})
        keep = exp.LTE(this=colref(rcol), expression=exp.Literal.number(self.count))
        notnull = exp.and_(*[exp.Not(this=exp.Is(this=p_, expression=exp.Null())) for p_ in [tmp.col(f) for f in self.fields]])
        cond = exp.or_(keep, exp.Not(this=notnull)) if self.keepempty else exp.and_(keep, notnull)
        return cc.push(cc.select_from(tmp).select(*cc.passthrough(tmp, {"__dedup"})).where(cond), stage.fields)
