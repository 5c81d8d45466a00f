"""SPL pipeline -> one sqlglot SELECT: a chain of CTEs, one per command.

The compiler never builds SQL text from user strings: every value becomes a sqlglot
literal and every field a quoted identifier. The result (`Plan`) carries the final
field -> column map so engines can hand rows back under Splunk's field names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from splhunt.compile.expr import Typed
from splhunt.compile.stage import NULL, ORDER, FieldInfo, Stage, allocate, colref, ident
from splhunt.errors import CompileError, SplUnsupportedError
from splhunt.spl import ast as A


@dataclass
class Capabilities:
    """What the target engine can do; commands consult these, never the engine name."""

    dialect: str = "duckdb"
    re2_only: bool = True  # regexes run on RE2 (no lookaround/backrefs) unless a UDF helps
    pcre_udf: bool = True  # engine registers splhunt_pcre_* functions for the rest
    replace_backref: str = "\\"  # `\1` (DuckDB) or `$1` (Spark) in regexp_replace
    python_udf: bool = False  # engine registers splhunt's Python functions (iplocation)
    time_format: str = "strftime"  # time format strings: "strftime" (DuckDB) or "java" (Spark)
    percentile: str = "quantile_cont"  # exact percentiles: quantile_cont(x, p) or percentile(x, p)
    #: the engine can split a string into its n-grams in SQL (list_transform + unnest), so
    #: a WILDCARD lookup joins on a literal piece of each pattern instead of testing
    #: every pattern against every event
    ngram_join: bool = True
    #: commands and eval functions (`name()`) this engine cannot run, with the reason;
    #: they are refused by name on this engine only
    refused: dict[str, str] = field(default_factory=dict)


@dataclass
class Base:
    """The relation a pipeline starts from, and its fields."""

    relation: exp.Expression  # a table or a subquery
    fields: dict[str, FieldInfo]
    ctes: list[tuple[str, exp.Expression]] = field(default_factory=list)
    #: Set when `relation` is tables read side by side (row i of each is the same
    #: event): each field's table, in join order. `restrict` then reads only the tables
    #: that hold the fields kept, so a search does not bind the whole relation.
    positional: list[tuple[exp.Table, list[str]]] | None = None

    def restrict(self, keep: list[str]) -> Base:
        """This base with only the fields `keep` (a subquery; ctes shared)."""
        fields = {f: self.fields[f] for f in keep}
        owner = {f: i for i, (_, owned) in enumerate(self.positional or ()) for f in owned}
        if self.positional is None or not keep or not all(f in owner for f in keep):
            rel = exp.select(*[colref(fi.col) for fi in fields.values()]).from_(self.relation.copy())
            return Base(rel.subquery("kv"), fields, list(self.ctes))
        alias = {i: exp.to_identifier(f"p{i}") for i in sorted({owner[f] for f in keep})}
        proj = [exp.column(exp.to_identifier(fi.col, quoted=True), table=alias[owner[f]]) for f, fi in fields.items()]
        tables = [exp.alias_(self.positional[i][0].copy(), a, table=True) for i, a in alias.items()]
        rel = exp.select(*proj, copy=False).from_(tables[0], copy=False)
        for t in tables[1:]:
            rel.append("joins", exp.Join(this=t, method="POSITIONAL"))
        return Base(rel.subquery("kv", copy=False), fields, list(self.ctes))


@dataclass
class Plan:
    query: exp.Select
    fields: dict[str, FieldInfo]
    _sql: dict[tuple[str, bool], str] = field(default_factory=dict, repr=False, compare=False)

    def sql(self, dialect: str = "duckdb", pretty: bool = False) -> str:
        """The query's text (generated once per dialect: a search asks for it twice).

        The first text is generated from the tree itself, later ones from copies: the
        generator may rewrite the tree it is given, and copying a plan's tree cost about
        a third of generating its text (it is rendered once per search, in its engine's
        dialect, and the tree is not read again)."""
        key = (dialect, pretty)
        if key not in self._sql:
            self._sql[key] = self.query.sql(dialect=dialect, pretty=pretty, copy=bool(self._sql))
        return self._sql[key]


class Ctx:
    """What a command's compile step sees: the input stage and the compiler."""

    def __init__(self, compiler: Compiler, stage: Stage):
        self.compiler = compiler
        self.stage = stage
        self.caps = compiler.caps

    def field(self, name: str) -> Typed:
        if self.stage.has(name):
            info = self.stage.fields[name]
            return Typed(colref(info.col), info.kind)
        return Typed(exp.Null(), NULL)


class Compiler:
    """Compiles pipelines over a base relation into a CTE chain."""

    def __init__(self, base: Base, caps: Capabilities | None = None, *, content: Any = None,
                 macros: Any = None, now: float | None = None, lookups: Any = None):
        self.base = base
        self.caps = caps or Capabilities()
        self.content = content
        self.macros = macros
        self.ctes: list[tuple[str, exp.Expression]] = []
        self._n = 0
        self.now = time.time() if now is None else now
        if lookups is None:
            from splhunt.engines.lookups import NoLookups

            lookups = NoLookups()
        self.lookups = lookups

    # -- building blocks ---------------------------------------------------------------
    def new_name(self, prefix: str = "s") -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def push(self, select: exp.Expression, fields: dict[str, FieldInfo]) -> Stage:
        """Add `select` as the next CTE; return the stage that reads it."""
        name = self.new_name()
        self.ctes.append((name, select))
        return Stage(name, fields)

    def base_stage(self) -> Stage:
        have = {n for n, _ in self.ctes}
        for name, q in self.base.ctes:
            if name not in have:
                # a copy: the plan's tree owns its CTEs (they are attached uncopied below)
                self.ctes.append((name, q.copy()))
        sel = exp.select("*").from_(self.base.relation)
        return self.push(sel, dict(self.base.fields))

    @staticmethod
    def select_from(stage: Stage) -> exp.Select:
        return exp.select().from_(exp.to_table(ident(stage.name)), copy=False)

    @staticmethod
    def passthrough(stage: Stage, skip: set[str] | None = None) -> list[exp.Expression]:
        """Column expressions that carry the stage's fields over unchanged.

        Every CTE's columns are exactly its stage's fields, so this is `*` (minus the
        skipped fields): the engine, not the compiler, prunes the columns a query never
        reads.
        """
        skip = skip or set()
        if not skip:
            return [exp.Star()]
        cols = [colref(fi.col) for f, fi in stage.fields.items() if f in skip]
        if len(cols) == len(stage.fields):
            return []
        return [exp.Star(except_=cols)] if cols else [exp.Star()]

    def with_columns(self, stage: Stage, new: list[tuple[str, Typed]]) -> Stage:
        """A stage that adds or replaces fields (in order), keeping the others.

        A replaced field keeps its position, as eval does in Splunk; a new one goes last.
        """
        fields = dict(stage.fields)
        taken = {fi.col.lower() for fi in fields.values()}
        assigned: dict[str, tuple[str, Typed]] = {}
        for fname, t in new:
            if fname in fields and fname not in assigned:
                col = fields[fname].col
            elif fname in assigned:
                col = assigned[fname][0]
            else:
                col = allocate(fname, taken)
                taken.add(col.lower())
            assigned[fname] = (col, t)
            fields[fname] = FieldInfo(col, t.kind if t.kind != NULL else "str")
        replaced = {f for f in assigned if f in stage.fields}
        projections = self.passthrough(stage, replaced)
        projections += [exp.alias_(t.sql, ident(col)) for col, t in assigned.values()]
        # the projections are new (alias_ copies the value): no second copy
        return self.push(self.select_from(stage).select(*projections, copy=False), fields)

    def project(self, stage: Stage, keep: list[str]) -> Stage:
        """Keep only `keep` fields, in that order (the hidden result order goes along)."""
        if ORDER not in stage.fields and "_time" in stage.fields and "_time" not in keep:
            # dropping _time would lose the newest-first order: pin it first
            stage = self.pin_order(stage)
        keep = [f for f in keep if f != ORDER] + ([ORDER] if ORDER in stage.fields else [])
        fields = {f: stage.fields[f] for f in keep if f in stage.fields}
        sel = self.select_from(stage).select(*[colref(fi.col) for fi in fields.values()] or [exp.Null()], copy=False)
        return self.push(sel, fields)

    # -- pipelines ---------------------------------------------------------------------
    def compile_commands(self, commands: tuple[A.Command, ...], stage: Stage | None = None) -> Stage:
        if stage is None:
            stage = self.base_stage()
        for i, cmd in enumerate(commands):
            compile_fn = getattr(cmd, "compile", None)
            if cmd.name in self.caps.refused:
                raise SplUnsupportedError(f"{cmd.name} on this engine", self.caps.refused[cmd.name])
            if compile_fn is None:
                raise CompileError(f"command {cmd.name} has no compiler")
            stage = compile_fn(Ctx(self, stage), first=(i == 0))
        return stage

    def compile(self, pipeline: A.Pipeline) -> Plan:
        first = pipeline.commands[0]
        stage = None
        if getattr(first, "generating", False):
            stage = Stage("_none", {})
        out = self.compile_commands(pipeline.commands, stage)
        visible = {f: fi for f, fi in out.fields.items() if f != ORDER}
        final = exp.select(*[colref(fi.col) for fi in visible.values()] or [exp.Null()]).from_(
            exp.to_table(ident(out.name)), copy=False
        )
        order = self.ordering(out)
        if order:
            final = final.order_by(*order)
        # attached in place: `with_` copies the whole query on each call, which made
        # planning quadratic in the number of CTEs
        for name, q in self.ctes:
            final = final.with_(ident(name), as_=q, copy=False)
        return Plan(final, visible)

    def pin_order(self, stage: Stage) -> Stage:
        """The stage plus the hidden `__ord` field numbering its current result order."""
        order = self.ordering(stage)
        taken = {fi.col.lower() for fi in stage.fields.values()}
        ocol = allocate(ORDER, taken)
        win = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order) if order else None)
        sel = self.select_from(stage).select(exp.Star(), exp.alias_(win, ident(ocol)))
        return self.push(sel, {**stage.fields, ORDER: FieldInfo(ocol, "num")})

    @staticmethod
    def ordering(stage: Stage) -> list[exp.Ordered]:
        """Splunk's result order: set by sort/stats (the hidden `__ord` field), else events
        newest first (`_time` descending), else as they come."""
        if ORDER in stage.fields:
            return [exp.Ordered(this=colref(stage.fields[ORDER].col))]
        if "_time" in stage.fields:
            return [exp.Ordered(this=colref(stage.fields["_time"].col), desc=True)]
        return []
