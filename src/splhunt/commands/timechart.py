"""`timechart span=S agg...`, `chart agg... [over|by] X`, `untable`, `xyseries`.

Splunk Search Reference:
- timechart: results are put in `_time` bins of the span (as `bin` does) and
  aggregated per bin with the stats functions; every bin between the first and the
  last one with data is present, in time order, empty bins holding 0 for count/dc
  and nothing for the other functions. A `by` clause makes one column per value of
  the field, named from the data: splhunt refuses it, as it refuses an automatic
  span (give span=) and month spans;
- chart with one row field (`over X` or `by X`) is stats by X (rows sorted by X);
  a second split field makes data-named columns and is refused;
- untable X name value: each result becomes one result per other field holding a
  value: (X, name=field name, value=field value);
- xyseries builds data-named columns: refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.commands._shared import aliased, cast_kind, ensure_order, fields_before_options
from splhunt.commands.bin import bin_expr, parse_span
from splhunt.commands.stats import Agg, compile_stats, expand_wildcards, parse_aggs
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed
from splhunt.compile.stage import NUM, ORDER, STR, FieldInfo, Stage, allocate, colref, ident
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

TC_OPTIONS = {
    "span": "", "limit": "", "cont": "", "partial": "", "fixedrange": "", "useother": "", "usenull": "",
    "otherstr": "", "nullstr": "", "bins": "", "minspan": "", "start": "", "end": "", "aligntime": "", "format": "",
    "sep": "", "agg": "",
}


@command("timechart")
@dataclass(frozen=True)
class TimeChart(A.Command):
    span: float
    aggs: tuple[Agg, ...]

    @classmethod
    def parse(cls, p: CommandParser) -> TimeChart:
        opts = p.options(TC_OPTIONS)
        aggs = parse_aggs(p, stop=("by",))
        opts.update(p.options(TC_OPTIONS))
        if p.peek().is_word("by"):
            raise p.unsupported("BY", "timechart by makes one column per value, named from the data")
        p.expect_end()
        if not aggs:
            raise p.error("needs at least one aggregation")
        for o in ("bins", "minspan", "start", "end", "aligntime"):
            if o in opts:
                raise p.unsupported(f"{o}=", "give span=")
        if "span" not in opts:
            raise p.unsupported("without span=", "the automatic span depends on the search time range; give span=")
        try:
            span = parse_span(opts["span"])
        except ValueError as e:
            raise p.unsupported(f"span={opts['span']}", str(e)) from None
        if span.unit == "month":
            raise p.unsupported(f"span={opts['span']}", "month spans are not supported in timechart")
        return cls(p.name, p.pos, span.size, tuple(aggs))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cc = ctx.compiler
        stage = ctx.stage
        if not stage.has("_time"):
            raise SplUnsupportedError("timechart without _time", "the results have no _time field")
        from splhunt.commands.bin import Span

        binned = cc.with_columns(stage, [("_time", bin_expr(Ctx(cc, stage).field("_time"), Span(self.span, "sec"), True))])
        aggs = expand_wildcards(self.aggs, binned, ("_time",))
        groups = compile_stats(Ctx(cc, binned), aggs, ("_time",))
        tcol = binned.fields["_time"].col
        lo_hi = cc.select_from(binned).select(
            exp.alias_(exp.Min(this=colref(tcol)), ident("lo")), exp.alias_(exp.Max(this=colref(tcol)), ident("hi"))
        )
        rng = cc.push(lo_hi, {"lo": FieldInfo("lo", NUM), "hi": FieldInfo("hi", NUM)})
        nbins = exp.Cast(
            this=exp.Round(this=exp.Div(
                this=exp.Paren(this=exp.Sub(this=colref("hi"), expression=colref("lo"))),
                expression=exp.Literal.number(self.span),
            )),
            to=exp.DataType.build("BIGINT"),
        )
        idx = cc.push(
            cc.select_from(rng).select(
                colref("lo"), exp.alias_(exp.Explode(this=exp.GenerateSeries(start=exp.Literal.number(0), end=nbins)), ident("i"))
            ),
            {"lo": FieldInfo("lo", NUM), "i": FieldInfo("i", NUM)},
        )
        slot = exp.Add(this=colref("lo"), expression=exp.Mul(this=colref("i"), expression=exp.Literal.number(self.span)))
        slots = cc.push(
            cc.select_from(idx).select(exp.alias_(exp.Cast(this=slot, to=exp.DataType.build("DOUBLE")), ident("_time"))),
            {"_time": FieldInfo("_time", NUM)},
        )
        L, R = "t", "g"
        proj: list[exp.Expression] = [colref("_time", L)]
        fields: dict[str, FieldInfo] = {"_time": FieldInfo("_time", NUM)}
        taken = {"_time"}
        for agg in aggs:
            gi = groups.fields[agg.alias]
            v: exp.Expression = colref(gi.col, R)
            if agg.func in ("count", "c", "dc", "distinct_count"):
                v = exp.func("COALESCE", v, exp.Literal.number(0))
            col = allocate(agg.alias, taken)
            taken.add(col.lower())
            proj.append(exp.alias_(v, ident(col)))
            fields[agg.alias] = FieldInfo(col, gi.kind)
        ocol = allocate(ORDER, taken)
        proj.append(exp.alias_(
            exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[exp.Ordered(this=colref("_time", L))])),
            ident(ocol),
        ))
        fields[ORDER] = FieldInfo(ocol, NUM)
        on = exp.EQ(this=colref("_time", L), expression=colref(groups.fields["_time"].col, R))
        sel = exp.select(*proj).from_(aliased(slots, L)).join(aliased(groups, R), on=on, join_type="left")
        return cc.push(sel, fields)


@command("chart")
@dataclass(frozen=True)
class Chart(A.Command):
    aggs: tuple[Agg, ...]
    by: tuple[str, ...]

    @classmethod
    def parse(cls, p: CommandParser) -> Chart:
        p.options(TC_OPTIONS)
        aggs = parse_aggs(p, stop=("by", "over"))
        rows: list[str] = []
        split: list[str] = []
        if p.accept_word("over"):
            rows = fields_before_options(p, ("by",))
            if p.accept_word("by"):
                split = fields_before_options(p)
        elif p.accept_word("by"):
            names = fields_before_options(p)
            rows, split = names[:1], names[1:]
        p.options(TC_OPTIONS)
        p.expect_end()
        if not aggs:
            raise p.error("needs at least one aggregation")
        if split or len(rows) > 1:
            raise p.unsupported("a split-by field", "chart then makes one column per value, named from the data")
        return cls(p.name, p.pos, tuple(aggs), tuple(rows))

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        return compile_stats(ctx, self.aggs, self.by)


@command("untable")
@dataclass(frozen=True)
class Untable(A.Command):
    x: str
    namefield: str
    valuefield: str

    @classmethod
    def parse(cls, p: CommandParser) -> Untable:
        names = fields_before_options(p)
        p.expect_end()
        if len(names) != 3:
            raise p.error("takes three fields: x-field, name-field, value-field")
        return cls(p.name, p.pos, names[0], names[1], names[2])

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        cc = ctx.compiler
        stage = ensure_order(ctx)
        ctx = Ctx(cc, stage)
        others = [f for f in stage.fields if f not in (self.x, ORDER)]
        xt = ctx.field(self.x)
        xkind = xt.kind if xt.kind != "null" else STR
        cols = {"x": allocate(self.x, set())}
        cols["n"] = allocate(self.namefield, {cols["x"].lower()})
        cols["v"] = allocate(self.valuefield, {cols["x"].lower(), cols["n"].lower()})
        ocol = allocate(ORDER, {c.lower() for c in cols.values()})
        order_src = colref(stage.fields[ORDER].col)
        selects: list[exp.Select] = []
        for i, f in enumerate(others):
            v = Ctx(cc, stage).field(f)
            sel = cc.select_from(stage).select(
                exp.alias_(xt.sql if xt.kind != "null" else exp.Cast(this=exp.Null(), to=exp.DataType.build("VARCHAR")), ident(cols["x"])),
                exp.alias_(exp.Literal.string(f), ident(cols["n"])),
                exp.alias_(cast_kind(Typed(v.sql, v.kind), STR if v.kind != "mv" else "mv"), ident(cols["v"])),
                exp.alias_(order_src.copy(), ident("__src")),
                exp.alias_(exp.Literal.number(i), ident("__fld")),
            ).where(exp.Not(this=exp.Is(this=v.sql, expression=exp.Null())))
            selects.append(sel)
        if not selects:
            raise SplUnsupportedError("untable with no other field", "nothing to turn into rows")
        u: exp.Expression = selects[0]
        for s in selects[1:]:
            u = exp.union(u, s, distinct=False)
        vkind = "mv" if any(Ctx(cc, stage).field(f).kind == "mv" for f in others) else STR
        if vkind == "mv":
            raise SplUnsupportedError("untable with a multivalue field", "not supported")
        mid = cc.push(u, {
            self.x: FieldInfo(cols["x"], xkind), self.namefield: FieldInfo(cols["n"], STR),
            self.valuefield: FieldInfo(cols["v"], STR), "__src": FieldInfo("__src", NUM), "__fld": FieldInfo("__fld", NUM),
        })
        win = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
            exp.Ordered(this=colref("__src")), exp.Ordered(this=colref("__fld"))]))
        out_fields = {k: mid.fields[k] for k in (self.x, self.namefield, self.valuefield)}
        sel = cc.select_from(mid).select(*[colref(fi.col) for fi in out_fields.values()], exp.alias_(win, ident(ocol)))
        return cc.push(sel, {**out_fields, ORDER: FieldInfo(ocol, NUM)})


@command("xyseries")
@dataclass(frozen=True)
class XySeries(A.Command):
    @classmethod
    def parse(cls, p: CommandParser) -> XySeries:
        raise SplUnsupportedError(
            "command 'xyseries'", "it makes one column per value, named from the data", p.text, p.pos
        )
