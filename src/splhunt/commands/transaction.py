"""`transaction [field ...] [maxspan=] [maxpause=] [maxevents=] [startswith=] [endswith=]
[connected=] [keepevicted=] [mvlist=]`: group events into transactions.

Splunk Search Reference, transaction (and Knowledge Manager Manual, "Search for
transactions"), as splhunt implements it, in SQL (window functions and one array fold,
no per-event Python):

- Events are grouped by the values of the listed fields; each group is read newest
  first (Splunk reads events in reverse time order). An event without any of the
  fields belongs to no transaction and is dropped (Splunk's orphans; `keeporphans` is
  refused). With several fields, an event that lacks some of them only shares
  transactions with events that lack the same ones (Splunk may also add it to an open
  transaction that agrees on the fields it has: not modelled). `connected` therefore
  changes nothing and is accepted. A multivalue field in the list is refused.
- Reading newest first, the current transaction is closed and the event opens a new
  one when: the previous (newer) event matched `startswith` (its start is found); the
  event matches `endswith` (in reverse order an end opens a transaction); the pause to
  the previous event exceeds `maxpause`; the transaction would span more than
  `maxspan` (from its newest event) or hold more than `maxevents` events (default
  1000; negative: no limit). `maxspan`/`maxpause` take `<n>[s|m|h|d]` (plain numbers
  are seconds), `-1` is no limit; a span or pause equal to the limit is allowed.
- A transaction is complete when, with `startswith`, its oldest event matches it and,
  with `endswith`, its newest event matches it. Incomplete transactions are evicted:
  dropped, or output with `keepevicted=t`. `closed_txn` (only with `keepevicted=t`) is
  1 for complete transactions and 0 for evicted ones; when none of maxspan, maxpause,
  maxevents, startswith is given it is 0 for every transaction, as documented.
- Each transaction is one result: `_time` is its earliest event's, `duration` the
  seconds between its earliest and latest events, `eventcount` its event count; the
  grouping fields keep their value; `_raw` is the events' `_raw` oldest first joined by
  newlines; every other field holds the values of its events as a multivalue field
  (also when there is one value): distinct values sorted lexicographically, or with
  `mvlist=t` (or `mvlist=f1,f2` for those fields) every value in event order, oldest
  first. Results are sorted by `_time`, newest first.
- Splunk's memory limits never evict here: `maxopentxn`/`maxopenevents` are refused,
  as are `name=` (transactiontypes.conf), `unifyends`, `keeporphans`, `mvraw`,
  `delim` and `nullstr`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import ensure_order, truthy
from splhunt.commands.stats import _values_list
from splhunt.compile.compiler import Compiler, Ctx
from splhunt.compile.expr import compile_expr, to_bool, to_num, to_str
from splhunt.compile.search import compile_search
from splhunt.compile.stage import MV, NUM, ORDER, STR, FieldInfo, Stage, allocate, colref, ident
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.lexer import EOF, OP, STRING, WORD, matching_bracket, tokenize
from splhunt.spl.parser import CommandParser, SearchParser, parse_search_expr

KNOWN = {"maxspan", "maxpause", "maxevents", "startswith", "endswith", "connected", "keepevicted", "mvlist", "match"}
REFUSED = {
    "name": "transaction types (transactiontypes.conf) are not available; give the options",
    "unifyends": "not implemented",
    "keeporphans": "not implemented",
    "maxopentxn": "splhunt keeps every transaction open (no memory limit to evict by)",
    "maxopenevents": "splhunt keeps every transaction open (no memory limit to evict by)",
    "mvraw": "not implemented",
    "delim": "not implemented",
    "nullstr": "not implemented",
}
_UNITS = {"": 1, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60,
          "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
          "d": 86400, "day": 86400, "days": 86400}


def parse_duration(text: str) -> float | None:
    """`5m` -> 300.0; `-1` (or any negative number) -> None (no limit)."""
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)([A-Za-z]*)", text.strip())
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"expected <number>[s|m|h|d], not {text!r}")
    n = float(m.group(1))
    return None if n < 0 else n * _UNITS[m.group(2).lower()]


@dataclass(frozen=True)
class Filter:
    """A startswith/endswith filter: a search expression or an eval expression."""

    search: A.SearchNode | None = None
    expr: A.Expr | None = None


@command("transaction")
@dataclass(frozen=True)
class Transaction(A.Command):
    fields: tuple[str, ...]
    maxspan: float | None
    maxpause: float | None
    maxevents: int | None
    startswith: Filter | None
    endswith: Filter | None
    keepevicted: bool
    mvlist: bool | tuple[str, ...]
    constrained: bool  # maxspan, maxpause, maxevents or startswith given (closed_txn)

    @classmethod
    def parse(cls, p: CommandParser) -> Transaction:
        fields: list[str] = []
        opts: dict[str, str] = {}
        filters: dict[str, Filter] = {}
        while not p.at_end():
            t = p.peek()
            if t.type == OP and t.value == ",":
                p.next()
                continue
            if t.type == WORD and p.peek(1).type == OP and p.peek(1).value == "=":
                key = t.value.lower()
                if key in REFUSED:
                    raise p.unsupported(f"{key}=", REFUSED[key], t)
                if key not in KNOWN:
                    raise p.unsupported(f"option '{t.value}'", "not a transaction option splhunt knows", t)
                p.next()
                p.next()
                if key in ("startswith", "endswith"):
                    filters[key] = _parse_filter(p, key)
                    continue
                v = p.peek()
                if v.type not in (WORD, STRING):
                    raise p.error(f"{key}= needs a value")
                p.next()
                val = v.value
                while key == "mvlist" and p.peek().type == OP and p.peek().value == ",":
                    p.next()
                    val += "," + p.word("a field name after ','")
                opts[key] = val
                continue
            if t.type in (WORD, STRING):
                fields.append(t.value)
                p.next()
                continue
            raise p.error(f"unexpected {t.value!r}")
        limits: dict[str, float | None] = {}
        for key in ("maxspan", "maxpause"):
            if key in opts:
                try:
                    limits[key] = parse_duration(opts[key])
                except ValueError as e:
                    raise p.error(f"{key}: {e}") from None
        maxevents: int | None = 1000
        if "maxevents" in opts:
            try:
                n = int(opts["maxevents"])
            except ValueError:
                raise p.error(f"maxevents must be an integer, not {opts['maxevents']!r}") from None
            maxevents = n if n >= 0 else None
        if "match" in opts and opts["match"].lower() != "closest":
            raise p.unsupported(f"match={opts['match']}", "only match=closest exists")
        mv = opts.get("mvlist", "f")
        mvlist: bool | tuple[str, ...]
        if mv.lower() in ("t", "true", "f", "false", "1", "0", "yes", "no"):
            mvlist = truthy(mv)
        else:
            mvlist = tuple(x.strip() for x in mv.split(",") if x.strip())
        constrained = any(k in opts for k in ("maxspan", "maxpause", "maxevents")) or "startswith" in filters
        return cls(
            p.name, p.pos, tuple(dict.fromkeys(fields)), limits.get("maxspan"), limits.get("maxpause"), maxevents,
            filters.get("startswith"), filters.get("endswith"), truthy(opts.get("keepevicted")), mvlist, constrained,
        )

    # ------------------------------------------------------------------ compile
    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cc = ctx.compiler
        stage = ensure_order(ctx)
        if not stage.has("_time"):
            raise SplUnsupportedError("transaction without _time", "the results have no _time field")
        for f in self.fields:
            if stage.has(f) and stage.kind(f) == MV:
                raise SplUnsupportedError(f"transaction on the multivalue field {f}", "mvexpand it first")
        sctx = Ctx(cc, stage)
        keys = [f for f in self.fields if stage.has(f)]
        if self.fields and not keys:
            # no event has any of the fields: every event is an orphan
            return cc.push(cc.select_from(stage).select(exp.Star()).where(exp.false()), stage.fields)
        taken = {fi.col.lower() for fi in stage.fields.values()}

        def col(name: str) -> str:
            c = allocate(name, taken)
            taken.add(c.lower())
            return c

        c_t, c_s, c_e, c_rk, c_b, c_seg, c_gid, c_srk, c_sub = (
            col(n) for n in ("__tt", "__ts", "__te", "__trk", "__tb", "__tseg", "__tgid", "__tsrk", "__tsub")
        )
        ordc = stage.fields[ORDER].col
        part = [colref(stage.fields[f].col) for f in keys]
        t_num = to_num(sctx.field("_time"))

        def flag(f: Filter | None) -> exp.Expression:
            if f is None:
                return exp.false()
            cond = compile_search(f.search, sctx) if f.search is not None else to_bool(compile_expr(f.expr, sctx), "transaction filter")
            return exp.func("COALESCE", cond, exp.false())

        # 1. per event: time, start/end flags, rank newest first within the key
        rk = exp.Window(
            this=exp.RowNumber(), partition_by=[c.copy() for c in part] or None,
            order=exp.Order(expressions=[exp.Ordered(this=t_num.copy(), desc=True), exp.Ordered(this=colref(ordc))]),
        )
        # the grouping steps read only the keys and the order: the other fields (a
        # search can carry hundreds) join back on the order for the merge, so the
        # window steps stay narrow (`__ord` numbers the rows 1, 2, ...: a row key)
        narrow = {f: stage.fields[f] for f in (*keys, ORDER)}
        sel = cc.select_from(stage).select(
            *[colref(fi.col) for fi in narrow.values()],
            exp.alias_(t_num, ident(c_t)),
            exp.alias_(flag(self.startswith), ident(c_s)),
            exp.alias_(flag(self.endswith), ident(c_e)),
            exp.alias_(rk, ident(c_rk)),
        )
        if part:
            sel = sel.where(exp.or_(*[exp.Not(this=exp.Is(this=c.copy(), expression=exp.Null())) for c in part]))
        hidden = {n: FieldInfo(n, NUM) for n in (c_t, c_s, c_e, c_rk)}
        s1 = cc.push(sel, {**narrow, **hidden})

        # 2. boundaries that do not depend on where the transaction began
        def w(fn: exp.Expression) -> exp.Window:
            return exp.Window(this=fn, partition_by=[c.copy() for c in part] or None,
                              order=exp.Order(expressions=[exp.Ordered(this=colref(c_rk))]))

        conds: list[exp.Expression] = [
            exp.EQ(this=colref(c_rk), expression=exp.Literal.number(1)),
            exp.EQ(this=w(exp.Lag(this=colref(c_s))), expression=exp.true()),
            colref(c_e),
        ]
        if self.maxpause is not None:
            gap = exp.Sub(this=w(exp.Lag(this=colref(c_t))), expression=colref(c_t))
            conds.append(exp.GT(this=gap, expression=exp.Literal.number(self.maxpause)))
        bnd = exp.Case(ifs=[exp.If(this=exp.or_(*conds), true=exp.Literal.number(1))], default=exp.Literal.number(0))
        s2 = cc.push(cc.select_from(s1).select(exp.Star(), exp.alias_(bnd, ident(c_b))), {**s1.fields, c_b: FieldInfo(c_b, NUM)})
        seg = exp.Window(
            this=exp.Sum(this=colref(c_b)), partition_by=[c.copy() for c in part] or None,
            order=exp.Order(expressions=[exp.Ordered(this=colref(c_rk))]),
            spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"),
        )
        s3 = cc.push(cc.select_from(s2).select(exp.Star(), exp.alias_(seg, ident(c_seg))), {**s2.fields, c_seg: FieldInfo(c_seg, NUM)})
        segpart = [c.copy() for c in part] + [colref(c_seg)]
        gid = exp.Window(this=exp.Min(this=colref(ordc)), partition_by=segpart)
        srk = exp.Window(this=exp.RowNumber(), partition_by=[c.copy() for c in segpart],
                         order=exp.Order(expressions=[exp.Ordered(this=colref(c_rk))]))
        s4 = cc.push(
            cc.select_from(s3).select(exp.Star(), exp.alias_(gid, ident(c_gid)), exp.alias_(srk, ident(c_srk))),
            {**s3.fields, c_gid: FieldInfo(c_gid, NUM), c_srk: FieldInfo(c_srk, NUM)},
        )

        # 3. split each segment where maxspan/maxevents close the transaction
        if self.maxspan is not None:
            s5 = self._split_by_span(cc, s4, c_gid, c_srk, c_t, c_sub)
        else:
            sub: exp.Expression = exp.Literal.number(0)
            if self.maxevents:
                sub = exp.Cast(this=exp.Floor(this=exp.Div(
                    this=exp.Paren(this=exp.Sub(this=colref(c_srk), expression=exp.Literal.number(1))),
                    expression=exp.Literal.number(self.maxevents),
                )), to=exp.DataType.build("BIGINT"))
            s5 = cc.push(cc.select_from(s4).select(exp.Star(), exp.alias_(sub, ident(c_sub))),
                         {**s4.fields, c_sub: FieldInfo(c_sub, NUM)})

        # 4. every field of the grouped events back (inner: events without a key are
        # gone), then one result per transaction
        made = (c_t, c_s, c_e, c_rk, c_gid, c_sub)
        back = (
            exp.select(exp.Column(this=exp.Star(), table=ident("w")), *[colref(c, "n") for c in made])
            .from_(exp.Table(this=ident(stage.name), alias=exp.TableAlias(this=ident("w"))))
            .join(exp.Table(this=ident(s5.name), alias=exp.TableAlias(this=ident("n"))),
                  on=exp.EQ(this=colref(ordc, "w"), expression=colref(ordc, "n")), join_type="inner")
        )
        joined = cc.push(back, {**stage.fields, **{c: FieldInfo(c, NUM) for c in made}})
        return self._merge(cc, stage, joined, keys, c_t, c_s, c_e, c_rk, c_gid, c_sub)

    def _split_by_span(self, cc: Compiler, st: Stage, c_gid: str, c_srk: str, c_t: str, c_sub: str) -> Stage:
        """Greedy maxspan (and maxevents) split of each segment, by a fold over its events.

        Reading newest first, an event opens a new transaction when it is more than
        maxspan older than the transaction's newest event or the transaction is full:
        each start depends on the previous one, so the segment's (rank, time) list is
        folded once to the ranks where transactions start.
        """
        maxev = self.maxevents or 0
        fold = sqlglot.parse_one(
            "AGGREGATE(SORT_ARRAY(__LIST__),"
            " CAST(STRUCT(CAST(0 AS DOUBLE) AS st, CAST(0 AS BIGINT) AS cnt, CAST(ARRAY() AS ARRAY<BIGINT>) AS starts)"
            "   AS STRUCT<st: DOUBLE, cnt: BIGINT, starts: ARRAY<BIGINT>>),"
            " (__tacc, __tx) -> CAST(STRUCT("
            "   CASE WHEN __tx.r = 1 OR __tacc.st - __tx.t > __SPAN__ OR (__MAXEV__ > 0 AND __tacc.cnt >= __MAXEV__) THEN __tx.t ELSE __tacc.st END AS st,"
            "   CASE WHEN __tx.r = 1 OR __tacc.st - __tx.t > __SPAN__ OR (__MAXEV__ > 0 AND __tacc.cnt >= __MAXEV__) THEN 1 ELSE __tacc.cnt + 1 END AS cnt,"
            "   CASE WHEN __tx.r = 1 OR __tacc.st - __tx.t > __SPAN__ OR (__MAXEV__ > 0 AND __tacc.cnt >= __MAXEV__)"
            "     THEN CONCAT(__tacc.starts, ARRAY(__tx.r)) ELSE __tacc.starts END AS starts)"
            "   AS STRUCT<st: DOUBLE, cnt: BIGINT, starts: ARRAY<BIGINT>>))",
            read="spark",
        )
        items = exp.ArrayAgg(this=exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.to_identifier("r"), expression=exp.Cast(this=colref(c_srk), to=exp.DataType.build("BIGINT"))),
            exp.PropertyEQ(this=exp.to_identifier("t"), expression=exp.Cast(this=colref(c_t), to=exp.DataType.build("DOUBLE"))),
        ]))

        def fill(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and not node.table:
                name = node.name
                if name == "__LIST__":
                    return items
                if name == "__SPAN__":
                    return exp.Literal.number(self.maxspan)
                if name == "__MAXEV__":
                    return exp.Literal.number(maxev)
            return node

        fold = fold.transform(fill)
        starts = exp.Dot(this=exp.Paren(this=fold), expression=exp.to_identifier("starts"))
        g = cc.push(
            cc.select_from(st).select(colref(c_gid), exp.alias_(starts, ident("__tstarts"))).group_by(colref(c_gid)),
            {c_gid: FieldInfo(c_gid, NUM), "__tstarts": FieldInfo("__tstarts", MV)},
        )
        s = exp.to_identifier("__tsv")
        lam = exp.Lambda(this=exp.LTE(this=exp.Column(this=s), expression=colref(c_srk, "e")), expressions=[s])
        sub = exp.ArraySize(this=exp.ArrayFilter(this=colref("__tstarts", "g"), expression=lam))
        sel = (
            exp.select(exp.Column(this=exp.Star(), table=ident("e")), exp.alias_(sub, ident(c_sub)))
            .from_(exp.Table(this=ident(st.name), alias=exp.TableAlias(this=ident("e"))))
            .join(exp.Table(this=ident(g.name), alias=exp.TableAlias(this=ident("g"))),
                  on=exp.EQ(this=colref(c_gid, "e"), expression=colref(c_gid, "g")), join_type="inner")
        )
        return cc.push(sel, {**st.fields, c_sub: FieldInfo(c_sub, NUM)})

    def _merge(self, cc: Compiler, orig: Stage, st: Stage, keys: list[str], c_t: str, c_s: str, c_e: str,
               c_rk: str, c_gid: str, c_sub: str) -> Stage:
        sctx = Ctx(cc, st)
        taken: set[str] = set()
        fields: dict[str, FieldInfo] = {}
        exprs: dict[str, exp.Expression] = {}

        no_empty: set[str] = set()

        def add(name: str, e: exp.Expression, kind: str, *, no_empty_list: bool = False) -> None:
            # a field named like an output field (duration, eventcount) is replaced in place
            c = fields[name].col if name in fields else allocate(name, taken)
            taken.add(c.lower())
            fields[name] = FieldInfo(c, kind)
            exprs[name] = exp.alias_(e, ident(c), copy=False)  # every `e` here is built for it
            if no_empty_list:
                no_empty.add(name)
            else:
                no_empty.discard(name)

        def out_ref(name: str, c: str) -> exp.Expression:
            """The merged column; an empty list as null (in the outer select, where it
            is a column: the aggregate is neither copied nor computed twice)."""
            if name not in no_empty:
                return colref(c)
            return exp.alias_(_no_empty(colref(c)), ident(c), copy=False)

        t = colref(c_t)
        # chronological order inside a transaction: oldest first = highest rank first
        def chrono(v: exp.Expression) -> exp.Expression:
            pairs = exp.ArrayAgg(this=exp.Struct(expressions=[
                exp.PropertyEQ(this=exp.to_identifier("k"), expression=exp.Neg(this=colref(c_rk))),
                exp.PropertyEQ(this=exp.to_identifier("v"), expression=v),
            ]))
            pairs = exp.Filter(this=pairs, expression=exp.Where(this=exp.Not(this=exp.Is(this=v.copy(), expression=exp.Null()))))
            x = exp.to_identifier("__tpv")
            lam = exp.Lambda(this=exp.Dot(this=x.copy(), expression=exp.to_identifier("v")), expressions=[x])
            return exp.Transform(this=exp.ArraySort(this=pairs), expression=lam)

        for f, fi in orig.fields.items():
            if f == ORDER:
                continue
            ref = sctx.field(f)
            if f == "_time":
                add(f, exp.Min(this=t.copy()), NUM)
            elif f in keys:
                add(f, exp.Max(this=colref(fi.col)), fi.kind)
            elif f == "_raw":
                add(f, exp.ArrayToString(this=chrono(to_str(ref)), expression=exp.Literal.string("\n")), STR)
            elif self.mvlist is True or (isinstance(self.mvlist, tuple) and f in self.mvlist):
                if ref.kind == MV:
                    add(f, exp.Flatten(this=chrono(ref.sql)), MV, no_empty_list=True)
                else:
                    add(f, chrono(to_str(ref)), MV, no_empty_list=True)
            else:
                add(f, exp.ArraySort(this=exp.ArrayDistinct(this=_values_list(ref))), MV, no_empty_list=True)
        if "_time" not in fields:
            add("_time", exp.Min(this=t.copy()), NUM)
        add("duration", exp.Sub(this=exp.Max(this=t), expression=exp.Min(this=t.copy())), NUM)
        add("eventcount", exp.Count(this=exp.Star()), NUM)
        complete: list[exp.Expression] = []
        as_int = exp.DataType.build("INT")
        if self.startswith is not None:
            complete.append(exp.EQ(this=exp.ArgMax(this=exp.Cast(this=colref(c_s), to=as_int), expression=colref(c_rk)),
                                   expression=exp.Literal.number(1)))
        if self.endswith is not None:
            complete.append(exp.EQ(this=exp.ArgMin(this=exp.Cast(this=colref(c_e), to=as_int), expression=colref(c_rk)),
                                   expression=exp.Literal.number(1)))
        ok = exp.and_(*complete) if complete else exp.true()
        proj: list[exp.Expression] = list(exprs.values())
        okc = allocate("__tok", taken)
        taken.add(okc.lower())
        proj.append(exp.alias_(ok, ident(okc)))
        firstc = allocate("__tfirst", taken)
        taken.add(firstc.lower())
        proj.append(exp.alias_(exp.Min(this=colref(orig.fields[ORDER].col)), ident(firstc)))
        grouped = cc.push(
            self._aggregate(cc, st, proj, c_gid, c_sub),
            {**fields, "__tok": FieldInfo(okc, NUM), "__tfirst": FieldInfo(firstc, NUM)},
        )
        out_proj: list[exp.Expression] = [out_ref(f, fi.col) for f, fi in fields.items()]
        out = dict(fields)
        if self.keepevicted:
            out.pop("closed_txn", None)
            out_proj = [out_ref(f, fi.col) for f, fi in fields.items() if f != "closed_txn"]
            closed: exp.Expression = exp.Case(
                ifs=[exp.If(this=colref(okc), true=exp.Literal.number(1))], default=exp.Literal.number(0)
            ) if self.constrained else exp.Literal.number(0)
            c = allocate("closed_txn", taken)
            taken.add(c.lower())
            out_proj.append(exp.alias_(closed, ident(c)))
            out["closed_txn"] = FieldInfo(c, NUM)
        ocol = allocate(ORDER, taken)
        order = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
            exp.Ordered(this=colref(fields["_time"].col), desc=True), exp.Ordered(this=colref(firstc)),
        ]))
        out_proj.append(exp.alias_(order, ident(ocol)))
        out[ORDER] = FieldInfo(ocol, NUM)
        sel = cc.select_from(grouped).select(*out_proj, copy=False)
        if not self.keepevicted:
            sel = sel.where(colref(okc), copy=False)
        return cc.push(sel, out)

    @staticmethod
    def _aggregate(cc: Compiler, st: Stage, proj: list[exp.Expression], c_gid: str, c_sub: str) -> exp.Select:
        """One row per transaction with every aliased aggregate of `proj`.

        A search can carry hundreds of fields, so `proj` can hold 1,700 aggregates.
        DuckDB's hash aggregate grows much faster than linearly with the number of
        aggregates: measured on 1,084 rows in one group, 1,700 `array_agg`s took 12.6 s
        and 6.1 GB, while 17 aggregates of 100 each, joined on the group, took 2.0 s and
        0.4 GB. So more than `AGG_CHUNK` aggregates are split into groupings of at most
        that many, joined on the transaction's (group, split) key."""
        gkeys = (c_gid, c_sub)
        if len(proj) <= AGG_CHUNK:
            # built for this select: no copies (a search can carry hundreds of fields)
            return cc.select_from(st).select(*proj, copy=False).group_by(*[colref(c) for c in gkeys], copy=False)
        parts: list[tuple[Stage, list[str]]] = []
        for a in range(0, len(proj), AGG_CHUNK):
            chunk = proj[a : a + AGG_CHUNK]
            sel = cc.select_from(st).select(*[colref(c) for c in gkeys], *chunk, copy=False)
            sel = sel.group_by(*[colref(c) for c in gkeys], copy=False)
            names = [e.alias for e in chunk]
            parts.append((cc.push(sel, {n: FieldInfo(n, NUM) for n in (*gkeys, *names)}), names))
        aliases = [ident(f"__tp{j}") for j in range(len(parts))]
        out = exp.select(*[
            colref(n, aliases[j].name) for j, (_, names) in enumerate(parts) for n in names
        ], copy=False).from_(exp.Table(this=ident(parts[0][0].name), alias=exp.TableAlias(this=aliases[0])), copy=False)
        for j in range(1, len(parts)):
            on = exp.and_(*[
                exp.NullSafeEQ(this=colref(c, aliases[0].name), expression=colref(c, aliases[j].name)) for c in gkeys
            ])
            out = out.join(exp.Table(this=ident(parts[j][0].name), alias=exp.TableAlias(this=aliases[j])),
                           on=on, join_type="inner", copy=False)
        return out


#: At most this many aggregates per grouping in `transaction`'s merge (see `_aggregate`).
AGG_CHUNK = 100


def _no_empty(e: exp.Expression) -> exp.Expression:
    """An empty list as null (a field no event of the transaction has; Spark's
    collect_list gives [] where DuckDB's array_agg gives null)."""
    size = exp.ArraySize(this=e.copy())
    return exp.Case(ifs=[exp.If(this=exp.EQ(this=size, expression=exp.Literal.number(0)), true=exp.Null())], default=e)


def _parse_filter(p: CommandParser, key: str) -> Filter:
    """startswith=/endswith= value: `(search terms)`, `"search terms"`, `eval(expr)` or a term."""
    t = p.peek()
    if t.type == WORD and t.value.lower() == "eval" and p.peek(1).type == OP and p.peek(1).value == "(" \
            and p.peek(1).pos == t.end:
        open_ = p.peek(1)
        close = matching_bracket(p.text, open_.pos, "(", ")")
        expr, _ = p.eval_expr(open_.pos + 1, close)
        p.seek(close + 1)
        return Filter(expr=expr)
    if t.type == OP and t.value == "(":
        close = matching_bracket(p.text, t.pos, "(", ")")
        toks = tokenize(p.text, t.pos + 1, close)
        node = SearchParser(p.text, toks).parse_all()
        p.seek(close + 1)
        return Filter(search=node)
    if t.type == STRING:
        p.next()
        return Filter(search=parse_search_expr(t.value))
    if t.type == WORD:
        p.next()
        return Filter(search=parse_search_expr(t.value))
    if t.type == EOF:
        raise p.error(f"{key}= needs a value")
    raise p.error(f"{key}= needs a search expression")
