"""The public API: a `Session` holds an event store, content and an engine.

>>> s = Session()
>>> _ = s.store.append([{"_raw": "x", "EventID": "7", "_time": 0.0}])
>>> s.search("EventID=7 | stats count").rows
[{'count': 1}]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from splhunt.compile.compiler import Base, Compiler, Plan
from splhunt.compile.stage import colref, ident
from splhunt.engines import make_engine
from splhunt.engines.store import Store
from splhunt.errors import SplhuntError
from splhunt.spl.ast import Pipeline
from splhunt.spl.macros import MacroDef, MacroLibrary
from splhunt.spl.parser import parse


@dataclass
class Result:
    columns: list[str]
    rows: list[dict[str, Any]]
    sql: str = ""
    spl: str = ""


@dataclass
class DetectionRun:
    detection: Any
    result: Result
    findings: list[Any] = field(default_factory=list)


class Session:
    """One store + one content library + one engine."""

    def __init__(self, store: Store | None = None, content: str | Path | None = None,
                 *, knowledge: bool = True, now: float | None = None,
                 engine: str = "duckdb", engine_options: dict[str, Any] | None = None,
                 geoip: str | Path | None = None):
        self.store = store or Store()
        # ingest always writes the DuckDB store; another engine loads from it
        self.engine = make_engine(engine, self.store, **(engine_options or {}))
        self.content = None
        self.macros = MacroLibrary()
        self.knowledge = knowledge
        self.now = now
        self.geoip = str(geoip) if geoip else None
        self._base: Any = None
        self._base_version = -1
        #: start each search from only the base fields it can read (`compile/prune.py`)
        self.prune = True
        #: materialise data model datasets once per store version for `tstats`
        self.cache_datasets = engine == "duckdb"
        self._datasets: dict[tuple[str, str], Any] = {}
        self._pruned: dict[tuple[str, ...], Base] = {}
        if content is not None:
            self.load_content(content)

    @property
    def lookups(self) -> Any:
        """Lookup tables for this session's content and engine (registered on first use)."""
        from splhunt.engines.lookups import LookupRegistry

        if getattr(self, "_lookups", None) is None or self._lookups.content is not self.content:
            self._lookups = LookupRegistry(self.engine, self.content)
        return self._lookups

    def load_content(self, path: str | Path) -> None:
        from splhunt.content import load_content

        lib = load_content(path)
        self.content = lib
        for m in lib.macros.values():
            self.macros.add(MacroDef(m.name, m.definition, tuple(m.arguments or ())))

    def ingest(self, paths: list[str | Path], **opts: Any) -> Any:
        from splhunt.ingest import ingest_paths

        return ingest_paths([Path(p) for p in paths], self.store, **opts)

    def base(self) -> Any:
        """The relation searches start from: the search-time knowledge view, materialised
        once per store version (the add-on fields are a pure function of the raw events,
        so computing them once gives the same rows as computing them per search)."""
        if not self.knowledge:
            return self.engine.base()
        if self._base is None or self._base_version != self.store.version:
            from splhunt.knowledge.compile import knowledge_base

            view = knowledge_base(self.store, self.engine.caps)
            # rebuilt by every session, so kept out of the store's file (see materialize_view)
            self._base = self.engine.materialize_view(view, "kv_events")
            self._base_version = self.store.version
            self._datasets = {}
            self._pruned = {}
        return self._base

    def _compiler(self, base: Base) -> Compiler:
        compiler = Compiler(base, self.engine.caps, content=self.content,
                            macros=self.macros, now=self.now, lookups=self.lookups)
        compiler.geoip = self.geoip
        if self.cache_datasets and self.knowledge:
            compiler.dataset_cache = self._dataset  # type: ignore[attr-defined]
        return compiler

    def _pruned_base(self, pipeline: Any) -> Base:
        """The base restricted to the fields `pipeline` can read (see `compile/prune.py`)."""
        base = self.base()
        if not self.prune:
            return base
        from splhunt.compile.prune import needed_fields

        return self._restrict(base, needed_fields(pipeline, base.fields))

    def _restrict(self, base: Base, keep: list[str] | None) -> Base:
        if keep is None or len(keep) == len(base.fields):
            return base
        key = tuple(keep)
        got = self._pruned.get(key)
        if got is None:
            got = base.restrict(keep)
            if len(self._pruned) > 4096:
                self._pruned.clear()
            self._pruned[key] = got
        return got

    def _dataset(self, model: str, dataset: str, build: Any) -> tuple[exp.Expression, dict[str, Any]] | None:
        """A data model dataset (constraints and calculations applied, dotted fields) as a
        table built once per store version: it is a pure function of the view. None when
        it cannot be built (the search then compiles it inline and reports the error)."""
        self.base()
        key = (model, dataset)
        if key not in self._datasets:
            self._datasets[key] = None
            try:
                from splhunt.compile.prune import needed_fields

                probe = parse(f"| tstats count from datamodel={model}.{dataset}")
                base = self.base()
                keep = needed_fields(probe, base.fields) if self.prune else None
                cc = self._compiler(self._restrict(base, keep))
                cc.dataset_cache = None  # type: ignore[attr-defined]
                stage = build(cc)
                query = exp.select(*[colref(fi.col) for fi in stage.fields.values()]).from_(ident(stage.name))
                for name, q in cc.ctes:
                    query = query.with_(ident(name), as_=q, copy=False)
                table = "dm_" + re.sub(r"\W", "_", f"{model}__{dataset}")
                made = self.engine.materialize(Base(query.subquery("d"), dict(stage.fields)), table, temp=True)
                self._datasets[key] = (made.relation, dict(stage.fields))
            except SplhuntError:
                pass
        return self._datasets[key]

    def prepare(self, searches: list[str]) -> None:
        """Build what these searches share before running them: the knowledge view and
        the data model datasets their `tstats` read (a search that does not parse, or a
        dataset that cannot be built, is left for the search's own run to report)."""
        self.base()
        if not (self.cache_datasets and self.knowledge):
            return
        from splhunt.compile.datamodel import build_dataset_stage, resolve

        specs: dict[str, None] = {}

        def visit(obj: Any) -> None:
            if isinstance(obj, Pipeline):
                for cmd in obj.commands:
                    if cmd.name == "tstats" and isinstance(getattr(cmd, "datamodel", None), str):
                        specs[cmd.datamodel] = None
                    for v in vars(cmd).values():
                        for x in v if isinstance(v, tuple) else (v,):
                            visit(x)

        for spl in searches:
            try:
                visit(parse(self.macros.expand(spl)))
            except SplhuntError:
                continue
        for spec in specs:
            try:
                model, ds = resolve(spec)
            except SplhuntError:
                continue
            self._dataset(model.name, ds.name, lambda c, spec=spec: build_dataset_stage(c, spec))

    def plan(self, spl: str) -> Plan:
        text = self.macros.expand(spl)
        pipeline = parse(text)
        return self._compiler(self._pruned_base(pipeline)).compile(pipeline)

    def search(self, spl: str) -> Result:
        plan = self.plan(spl)
        cols, rows = self.engine.execute(plan)
        return Result(cols, rows, plan.sql(self.engine.caps.dialect), spl)

    def run_detection(self, detection: Any) -> DetectionRun:
        from splhunt.findings import build_findings

        result = self.search(detection.search)
        findings = build_findings(detection, result.rows, columns=result.columns)
        return DetectionRun(detection, result, findings)
