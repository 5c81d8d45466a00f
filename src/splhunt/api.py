"""The public API: a `Session` holds an event store, content and an engine.

>>> s = Session()
>>> _ = s.store.append([{"_raw": "x", "EventID": "7", "_time": 0.0}])
>>> s.search("EventID=7 | stats count").rows
[{'count': 1}]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splhunt.compile.compiler import Compiler, Plan
from splhunt.engines import make_engine
from splhunt.engines.store import Store
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
            self._base = self.engine.materialize(view, "kv_events")
            self._base_version = self.store.version
        return self._base

    def plan(self, spl: str) -> Plan:
        text = self.macros.expand(spl)
        pipeline = parse(text)
        compiler = Compiler(self.base(), self.engine.caps, content=self.content,
                            macros=self.macros, now=self.now, lookups=self.lookups)
        compiler.geoip = self.geoip
        return compiler.compile(pipeline)

    def search(self, spl: str) -> Result:
        plan = self.plan(spl)
        cols, rows = self.engine.execute(plan)
        return Result(cols, rows, plan.sql(self.engine.caps.dialect), spl)

    def run_detection(self, detection: Any) -> DetectionRun:
        from splhunt.findings import build_findings

        result = self.search(detection.search)
        findings = build_findings(detection, result.rows, columns=result.columns)
        return DetectionRun(detection, result, findings)
