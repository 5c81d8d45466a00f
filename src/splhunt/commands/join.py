"""`join [type=inner|left|outer] [max=1] [overwrite=t] [field, ...] [subsearch]`.

Splunk Search Reference, join:
- each current result is combined with the subsearch results that have the same
  values in the join fields (all fields the two sides share when none are named);
  a result whose join field is null matches nothing;
- `type=inner` (default) drops results without a match; `left` and `outer` (the same
  thing in Splunk) keep them unchanged;
- `max=N` (default 1) combines a result with at most its first N matches (in the
  subsearch's result order); `max=0` means no limit;
- with `overwrite=t` (default) a field both sides have takes the subsearch's value
  where the subsearch has one; with `overwrite=f` the current value stays where there
  is one (a field without a value takes the subsearch's either way);
- with no join fields named, the fields both sides' field lists share are used (exact
  after `table`/`fields`; over raw events every known field is shared, so name them);
- the current results keep their order; several matches of one result follow each
  other in the subsearch's order.
A join field that holds several values matches as a whole: a result matches the
subsearch results whose field has the same values in the same order (a single value
equals a one-value field). Splunk's documentation does not say more; matching the whole
value is how join compares field values, and `mvexpand` first joins value by value.
`usetime`/`earlier` and `left=`/`right=` aliases are refused. Join values of different
kinds (number and text) compare as text.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import (
    aliased,
    compile_subsearch,
    ensure_order,
    fields_before_options,
    parse_subsearch,
    subsearch_token,
    truthy,
    unify_kind,
)
from splhunt.compile.compiler import Compiler, Ctx
from splhunt.compile.expr import Typed, num_to_str, to_mv
from splhunt.compile.stage import MV, NUM, ORDER, STR, FieldInfo, Stage, allocate, colref, ident
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

OPTIONS = {"type": "", "max": "", "overwrite": "", "usetime": "", "earlier": "", "left": "", "right": "", "where": ""}


def _as_text(e: exp.Expression, kind: str) -> exp.Expression:
    return num_to_str(e) if kind == NUM else e


@command("join")
@dataclass(frozen=True)
class Join(A.Command):
    type: str
    max: int
    overwrite: bool
    fields: tuple[str, ...]
    sub: A.Pipeline

    @classmethod
    def parse(cls, p: CommandParser) -> Join:
        opts = p.options(OPTIONS)
        fields = fields_before_options(p)
        opts.update(p.options(OPTIONS))
        tok = subsearch_token(p)
        p.expect_end()
        jtype = opts.get("type", "inner").lower()
        if jtype not in ("inner", "left", "outer"):
            raise p.error(f"type must be inner, left or outer, not {opts['type']!r}")
        for o in ("usetime", "earlier"):
            if truthy(opts.get(o)):
                raise p.unsupported(f"{o}=true", "time-ordered joins are not supported")
        for o in ("left", "right", "where"):
            if o in opts:
                raise p.unsupported(f"{o}=", "join aliases are not supported")
        try:
            mx = int(opts.get("max", "1"))
        except ValueError:
            raise p.error(f"max must be a number, not {opts['max']!r}") from None
        return cls(p.name, p.pos, jtype, mx, truthy(opts.get("overwrite"), True), tuple(fields), parse_subsearch(p.text, tok))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cc = ctx.compiler
        main = ensure_order(ctx, ctx.stage)
        sub = compile_subsearch(ctx, self.sub)
        keys = list(dict.fromkeys(self.fields)) or [f for f in main.fields if f in sub.fields and f != ORDER]
        # rank the subsearch rows within each key so max= keeps the first ones
        sub_order = Compiler.ordering(sub)
        taken = {fi.col.lower() for fi in sub.fields.values()}
        rcol = allocate("__jrank", taken)
        sub_keys = [sub.col(f) for f in keys if sub.has(f)]
        win = exp.Window(
            this=exp.RowNumber(),
            partition_by=sub_keys or None,
            order=exp.Order(expressions=sub_order) if sub_order else None,
        )
        sub_fields = {f: fi for f, fi in sub.fields.items() if f != ORDER}
        ranked = cc.push(
            cc.select_from(sub).select(*[colref(fi.col) for fi in sub_fields.values()], exp.alias_(win, ident(rcol))),
            {**sub_fields, "__jrank": FieldInfo(rcol, NUM)},
        )
        L, R = "l", "r"
        conds: list[exp.Expression] = []
        for f in keys:
            if not (main.has(f) and ranked.has(f)):
                conds.append(exp.false())
                continue
            mk, sk = main.kind(f), ranked.kind(f)
            a, b = colref(main.fields[f].col, L), colref(ranked.fields[f].col, R)
            if MV in (mk, sk):
                # a multivalue join field matches as a whole (one value = a one-value list)
                a, b = to_mv(Typed(a, mk)), to_mv(Typed(b, sk))
            elif mk != sk:
                a, b = _as_text(a, mk), _as_text(b, sk)
            conds.append(exp.EQ(this=a, expression=b))
        if self.max > 0:
            conds.append(exp.LTE(this=colref(rcol, R), expression=exp.Literal.number(self.max)))
        on = exp.and_(*conds) if conds else exp.true()
        taken = {fi.col.lower() for fi in main.fields.values()}
        proj: list[exp.Expression] = []
        fields: dict[str, FieldInfo] = {}
        for f, fi in main.fields.items():
            if f == ORDER:
                continue
            if f in sub_fields and f not in keys:
                sk, mk = sub_fields[f].kind, fi.kind
                kind = unify_kind([mk, sk])
                s_e = _to(Typed(colref(sub_fields[f].col, R), sk), kind)
                m_e = _to(Typed(colref(fi.col, L), mk), kind)
                pair = (s_e, m_e) if self.overwrite else (m_e, s_e)
                proj.append(exp.alias_(exp.func("COALESCE", *pair), ident(fi.col)))
                fields[f] = FieldInfo(fi.col, kind)
            else:
                proj.append(colref(fi.col, L))
                fields[f] = fi
        for f, fi in sub_fields.items():
            if f in main.fields:
                continue
            col = allocate(f, taken)
            taken.add(col.lower())
            proj.append(exp.alias_(colref(fi.col, R), ident(col)))
            fields[f] = FieldInfo(col, fi.kind)
        ocol = allocate(ORDER, taken)
        order = exp.Window(
            this=exp.RowNumber(),
            order=exp.Order(expressions=[
                exp.Ordered(this=colref(main.fields[ORDER].col, L)),
                exp.Ordered(this=colref(rcol, R)),
            ]),
        )
        proj.append(exp.alias_(order, ident(ocol)))
        fields[ORDER] = FieldInfo(ocol, NUM)
        sel = exp.select(*proj).from_(aliased(main, L)).join(
            aliased(ranked, R), on=on, join_type="inner" if self.type == "inner" else "left"
        )
        return cc.push(sel, fields)


def _to(t: Typed, kind: str) -> exp.Expression:
    if kind == t.kind:
        return t.sql
    if kind == MV:
        return to_mv(t)
    if kind == STR:
        return _as_text(t.sql, t.kind)
    return t.sql
