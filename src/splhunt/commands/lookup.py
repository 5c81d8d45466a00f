"""`lookup` and `inputlookup`: CSV lookups from the content folder and the add-ons.

`lookup <name> <col> [AS <field>] ... [OUTPUT|OUTPUTNEW <col> [AS <field>] ...]`

- Without OUTPUT/OUTPUTNEW every lookup column that is not an input is output.
- `OUTPUT` overwrites the event's fields; an event with no match gets the fields
  removed (null), as Splunk's lookup does. `OUTPUTNEW` only fills fields that are null.
- Matching follows the lookup definition: exact by default; `WILDCARD(col)` treats `*`
  in that column as a wildcard; `CIDR(col)` matches IPv4 addresses in the column's
  subnets; `case_sensitive_match` (default true) applies to every input.
- `max_matches` (default 100 for file lookups): when the definition allows several
  matches and the table's keys repeat, outputs are multivalue (values in table order);
  a lookup whose keys are unique gives single values. `min_matches` with
  `default_match` fills outputs of events with fewer matches.
- KV-store lookups (`collection:`) have no data offline and are refused by name.

A WILDCARD lookup without an exact input would test every pattern against every event
(ESCU's dynamic DNS list has 92k patterns). Where the engine can (`ngram_join`), each
pattern is indexed by the first `ANCHOR` characters of its first literal run of at
least that length: a value can only match the pattern if it contains that piece, so
events are joined on their own `ANCHOR`-character pieces first and the pattern is then
tested as before. Patterns without such a run are tested against every event, as are
multivalue inputs. Matches are the same either way; only fewer pairs are tested.

`| inputlookup [append=t] <name> [where <search>]` returns the table's rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, to_str
from splhunt.compile.search import compile_search, runtime_like_pattern
from splhunt.compile.stage import MV, NULL, NUM, STR, FieldInfo, Stage, allocate, colref, ident
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser, SearchParser

_MT = re.compile(r"(WILDCARD|CIDR|EXACT)\s*\(\s*([^)]+?)\s*\)", re.I)
#: characters of a pattern's literal run that index it for the n-gram join
ANCHOR = 5


def match_types(spec: str | None) -> dict[str, str]:
    """`WILDCARD(process), CIDR(ip)` -> {"process": "WILDCARD", "ip": "CIDR"}."""
    return {m.group(2): m.group(1).upper() for m in _MT.finditer(spec or "")}


def _pairs(p: CommandParser, stop: tuple[str, ...]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    while not p.at_end():
        if p.accept_op(","):
            continue
        t = p.peek()
        if t.type == "WORD" and t.value.upper() in stop:
            break
        col = p.word("a lookup field")
        field = col
        if p.accept_word("as"):
            field = p.word("an event field after AS")
        out.append((col, field))
    return out


@command("lookup")
@dataclass(frozen=True)
class Lookup(A.Command):
    table: str
    inputs: tuple[tuple[str, str], ...]
    mode: str  # OUTPUT | OUTPUTNEW
    outputs: tuple[tuple[str, str], ...]  # empty: every non-input column

    @classmethod
    def parse(cls, p: CommandParser) -> Lookup:
        opts = p.options({"local": "", "update": "", "event_time_field": ""})
        _ = opts
        table = p.word("a lookup name")
        inputs = _pairs(p, ("OUTPUT", "OUTPUTNEW"))
        mode = "OUTPUT"
        outputs: list[tuple[str, str]] = []
        if p.peek().is_word("OUTPUT", "OUTPUTNEW"):
            mode = p.next().value.upper()
            outputs = _pairs(p, ())
            if not outputs:
                raise p.error(f"{mode} needs at least one field")
        p.expect_end()
        if not inputs:
            raise p.error("needs at least one input field")
        return cls(p.name, p.pos, table, tuple(inputs), mode, tuple(outputs))

    @staticmethod
    def _match(col: str, lk, ev_t: Typed, lc: exp.Expression) -> exp.Expression:
        """One event value against one lookup column, by the column's match type."""
        ev = to_str(ev_t)
        kind = lk.match_types.get(col, "EXACT")
        if kind == "CIDR":
            from splhunt.functions.network import in_subnet_dynamic

            return in_subnet_dynamic(ev, lc)
        if not lk.case_sensitive:
            ev, lc = exp.Lower(this=ev), exp.Lower(this=lc)
        if kind == "WILDCARD":
            pat = runtime_like_pattern(lc)
            return exp.Escape(this=exp.Like(this=ev, expression=pat), expression=exp.Literal.string("\\"))
        return exp.EQ(this=ev, expression=lc)

    def _anchor_input(self, cc, lk, stage: Stage) -> tuple[str, str] | None:
        """The (column, field) whose WILDCARD patterns index the n-gram join, or None:
        an exact input already gives the engine an equi-join, and a multivalue input
        is matched value by value inside the join condition."""
        if not cc.caps.ngram_join:
            return None
        kinds = [lk.match_types.get(col, "EXACT") for col, _ in self.inputs]
        if "EXACT" in kinds:
            return None
        for (col, field), kind in zip(self.inputs, kinds, strict=True):
            if kind == "WILDCARD" and stage.has(field) and stage.kind(field) != MV:
                return col, field
        return None

    @staticmethod
    def _candidates(lk, col: str, ev: exp.Expression, a_rel: exp.Expression, a: str, lt: str,
                    rid: str, conds: list[exp.Expression]) -> exp.Expression:
        """(input row, lookup row) pairs that match: patterns with an anchor joined on the
        event value's pieces of the same length, the others tested against every row."""
        low = (lambda e: e) if lk.case_sensitive else (lambda e: exp.Lower(this=e))  # noqa: E731
        k = exp.Literal.number(ANCHOR)
        x, i = exp.to_identifier("_p"), exp.to_identifier("_i")
        pat = low(exp.Column(this=ident(lk.col(col))))
        runs = exp.ArrayFilter(
            this=exp.Split(this=pat, expression=exp.Literal.string("*")),
            expression=exp.Lambda(this=exp.GTE(this=exp.Length(this=exp.Column(this=x)), expression=k), expressions=[x]),
        )
        anchor = exp.Substring(this=exp.Bracket(this=runs, expressions=[exp.Literal.number(1)], offset=1, safe=True),
                               start=exp.Literal.number(1), length=k)
        lk_anc = exp.select(exp.Star(), exp.alias_(anchor, ident("__anc"))).from_(exp.to_table(ident(lk.table)))
        ev_low = low(ev)
        # the pieces start at 1 .. length - ANCHOR + 1 (RANGE's end is exclusive)
        grams = exp.Transform(
            this=exp.func("RANGE", exp.Literal.number(1),
                          exp.Sub(this=exp.Length(this=ev_low), expression=exp.Literal.number(ANCHOR - 2))),
            expression=exp.Lambda(this=exp.Substring(this=ev_low, start=exp.Column(this=i), length=k), expressions=[i]),
        )
        exploded = exp.select(exp.Star(), exp.alias_(exp.Unnest(expressions=[grams]), ident("__g"))).from_(a_rel)
        pair = [exp.alias_(exp.Column(this=ident(rid), table=ident(a)), ident("__mrid")),
                exp.alias_(exp.Column(this=ident(lk.row_col), table=ident(lt)), ident("__lrow"))]
        by_anchor = (
            exp.select(*pair).distinct()
            .from_(exploded.subquery(a))
            .join(lk_anc.subquery(lt), on=exp.EQ(this=exp.Column(this=ident("__g"), table=ident(a)),
                                                 expression=exp.Column(this=ident("__anc"), table=ident(lt))),
                  join_type="inner")
            .where(exp.and_(*conds))
        )
        rest = (
            exp.select(*pair)
            .from_(a_rel.copy())
            .join(exp.select(exp.Star()).from_(exp.to_table(ident(lk.table)))
                  .where(exp.Is(this=anchor.copy(), expression=exp.Null())).subquery(lt),
                  on=exp.and_(*conds), join_type="inner")
        )
        return exp.union(by_anchor, rest, distinct=False)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cc = ctx.compiler
        lk = cc.lookups.resolve(self.table)
        for col, _ in self.inputs:
            if col not in lk.columns:
                raise SplUnsupportedError(f"lookup {self.table} field {col}", f"the table has {', '.join(lk.columns)}")
        outputs = list(self.outputs) or [(c, c) for c in lk.columns if c not in {i for i, _ in self.inputs}]
        for col, _ in outputs:
            if col not in lk.columns:
                raise SplUnsupportedError(f"lookup {self.table} output {col}", f"the table has {', '.join(lk.columns)}")
        stage = ctx.stage
        # 1. number the input rows
        taken = {fi.col.lower() for fi in stage.fields.values()}
        rid = allocate("__rid", taken)
        s_a = cc.push(
            cc.select_from(stage).select(exp.Star(), exp.alias_(exp.Window(this=exp.RowNumber()), ident(rid))),
            {**stage.fields, "__rid": FieldInfo(rid, NUM)},
        )
        # 2. matches, aggregated per input row
        a, lt = cc.new_name("a"), cc.new_name("l")
        conds = []
        mv_input = False
        for col, field in self.inputs:
            if not s_a.has(field):
                conds.append(exp.false())
                continue
            lc: exp.Expression = exp.Column(this=ident(lk.col(col)), table=ident(lt))
            evcol = exp.Column(this=ident(s_a.fields[field].col), table=ident(a))
            if s_a.kind(field) == MV:
                # A multivalue input matches when any of its values matches (Splunk tries each value).
                mv_input = True
                x = exp.to_identifier("_lkv")
                one = self._match(col, lk, Typed(exp.Column(this=x), STR), lc)
                hits = exp.ArrayFilter(this=evcol, expression=exp.Lambda(this=one, expressions=[x]))
                conds.append(exp.GT(this=exp.func("COALESCE", exp.ArraySize(this=hits), exp.Literal.number(0)), expression=exp.Literal.number(0)))
            else:
                conds.append(self._match(col, lk, Typed(evcol, s_a.kind(field)), lc))
        lrow = exp.Column(this=ident(lk.row_col), table=ident(lt))
        aggs = []
        out_cols = {}
        for i, (col, _field) in enumerate(outputs):
            v = exp.Column(this=ident(lk.col(col)), table=ident(lt))
            agg = exp.Filter(
                this=exp.ArrayAgg(this=v),
                expression=exp.Where(this=exp.and_(exp.Not(this=exp.Is(this=v, expression=exp.Null())), exp.LTE(this=lrow, expression=exp.Literal.number(10**12)))),
            )
            out_cols[col] = f"__o{i}"
            aggs.append(exp.alias_(agg, ident(f"__o{i}")))
        nmatch = exp.alias_(exp.Count(this=lrow), ident("__n"))
        a_rel = exp.Table(this=ident(s_a.name), alias=exp.TableAlias(this=ident(a)))
        anchored = self._anchor_input(cc, lk, s_a)
        if anchored is None:
            m_sel = (
                exp.select(exp.alias_(exp.Column(this=ident(rid), table=ident(a)), ident("__mrid")), *aggs, nmatch)
                .from_(a_rel)
                .join(exp.Table(this=ident(lk.table), alias=exp.TableAlias(this=ident(lt))), on=exp.and_(*conds), join_type="inner")
                .group_by(exp.Column(this=ident(rid), table=ident(a)))
            )
        else:
            col, field = anchored
            ev = to_str(Typed(exp.Column(this=ident(s_a.fields[field].col)), s_a.kind(field)))
            c_name = cc.new_name("c")
            cc.ctes.append((c_name, self._candidates(lk, col, ev, a_rel, a, lt, rid, conds)))
            # outputs in table order, as the plain join gives them
            for agg in aggs:
                arr = agg.this.this
                arr.set("this", exp.Order(this=arr.this, expressions=[exp.Ordered(this=lrow.copy())]))
            m_sel = (
                exp.select(exp.alias_(exp.Column(this=ident("__mrid"), table=ident(c_name)), ident("__mrid")), *aggs, nmatch)
                .from_(exp.to_table(ident(c_name)))
                .join(exp.Table(this=ident(lk.table), alias=exp.TableAlias(this=ident(lt))),
                      on=exp.EQ(this=lrow.copy(), expression=exp.Column(this=ident("__lrow"), table=ident(c_name))),
                      join_type="inner")
                .group_by(exp.Column(this=ident("__mrid"), table=ident(c_name)))
            )
        m_name = cc.new_name("m")
        cc.ctes.append((m_name, m_sel))
        # 3. join back; single values when the lookup can only match once
        multi = lk.max_matches > 1 and (mv_input or not lk.unique_keys([c for c, _ in self.inputs]))
        fields = {f: fi for f, fi in s_a.fields.items() if f != "__rid"}
        taken = {fi.col.lower() for fi in fields.values()}
        new_exprs: dict[str, tuple[exp.Expression, str]] = {}
        mcol = lambda c: exp.Column(this=ident(c), table=ident(m_name))  # noqa: E731
        for col, field in outputs:
            lst = mcol(out_cols[col])
            lst = exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.ArraySize(this=lst), expression=exp.Literal.number(0)), true=exp.Null())], default=lst)
            if multi:
                lst = exp.ArraySlice(this=lst, start=exp.Literal.number(1), end=exp.Literal.number(lk.max_matches))
            val: exp.Expression = lst if multi else exp.Bracket(this=lst, expressions=[exp.Literal.number(1)], offset=1, safe=True)
            if lk.min_matches >= 1 and lk.default_match is not None:
                short = exp.LT(this=exp.func("COALESCE", mcol("__n"), exp.Literal.number(0)), expression=exp.Literal.number(lk.min_matches))
                dflt = exp.Array(expressions=[exp.Literal.string(lk.default_match)]) if multi else exp.Literal.string(lk.default_match)
                val = exp.Case(ifs=[exp.If(this=short, true=dflt)], default=val)
            kind = MV if multi else STR
            if self.mode == "OUTPUTNEW" and field in fields:
                cur = Typed(colref(fields[field].col, s_a.name), fields[field].kind)
                if cur.kind == MV and kind != MV:
                    val = exp.Case(ifs=[exp.If(this=exp.Is(this=val, expression=exp.Null()), true=exp.Null())], default=exp.Array(expressions=[val]))
                    kind = MV
                elif cur.kind != MV and kind == MV:
                    cur = Typed(exp.Case(ifs=[exp.If(this=exp.Is(this=cur.sql, expression=exp.Null()), true=exp.Null())], default=exp.Array(expressions=[to_str(cur)])), MV)
                else:
                    cur = Typed(to_str(cur) if kind == STR else cur.sql, kind)
                val = exp.func("COALESCE", cur.sql, val)
            new_exprs[field] = (val, kind)
        proj: list[exp.Expression] = []
        out_fields: dict[str, FieldInfo] = {}
        for f, fi in fields.items():
            if f in new_exprs:
                val, kind = new_exprs.pop(f)
                proj.append(exp.alias_(val, ident(fi.col)))
                out_fields[f] = FieldInfo(fi.col, kind)
            else:
                proj.append(colref(fi.col, s_a.name))
                out_fields[f] = fi
        for f, (val, kind) in new_exprs.items():
            c = allocate(f, taken)
            taken.add(c.lower())
            proj.append(exp.alias_(val, ident(c)))
            out_fields[f] = FieldInfo(c, kind)
        sel = (
            exp.select(*proj)
            .from_(exp.to_table(ident(s_a.name)))
            .join(exp.to_table(ident(m_name)), on=exp.EQ(this=colref(rid, s_a.name), expression=mcol("__mrid")), join_type="left")
        )
        return cc.push(sel, out_fields)


@command("inputlookup")
@dataclass(frozen=True)
class InputLookup(A.Command):
    table: str
    where: A.SearchNode | None
    generating = True

    @classmethod
    def parse(cls, p: CommandParser) -> InputLookup:
        opts = p.options({"append": "", "start": "", "max": ""})
        if opts.get("append", "f").lower() in ("t", "true", "1"):
            raise p.unsupported("append=true", "not supported yet")
        table = p.word("a lookup name")
        where = None
        if p.accept_word("where"):
            where = SearchParser(p.text, p.toks, p.i).parse_all()
            p.i = len(p.toks) - 1
        p.expect_end()
        return cls(p.name, p.pos, table, where)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cc = ctx.compiler
        lk = cc.lookups.resolve(self.table)
        fields = {c: FieldInfo(lk.col(c), STR) for c in lk.columns}
        sel = exp.select(*[colref(lk.col(c)) for c in lk.columns]).from_(exp.to_table(ident(lk.table)))
        stage = cc.push(sel, fields)
        if self.where is not None:
            cond = compile_search(self.where, Ctx(cc, stage))
            stage = cc.push(cc.select_from(stage).select(exp.Star()).where(cond), stage.fields)
        return stage


__all__ = ["Lookup", "InputLookup", "match_types", "NULL"]
