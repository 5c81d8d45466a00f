"""Catalog coverage: how far each detection gets through load, expand, parse, compile, run.

`splhunt coverage CONTENT_DIR` runs each detection's search through the steps in order
and stops at the first that fails, recording the step and the first error. The search is
executed once over an empty store and, when logs are given, once over a real one.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splhunt.errors import SplhuntError

STEPS = ("loaded", "expanded", "parsed", "compiled", "executed")


@dataclass
class Failure:
    file: str
    step: str
    error: str
    detection: str = ""


@dataclass
class CoverageReport:
    total: int = 0
    counts: Counter = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    executed_real: int | None = None
    with_results: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"total": self.total}
        for s in STEPS:
            d[s] = self.counts[s]
        if self.executed_real is not None:
            d["executed_real"] = self.executed_real
            d["with_results"] = self.with_results
        d["seconds"] = round(self.seconds, 1)
        d["failures"] = [{"file": f.file, "step": f.step, "error": f.error} for f in self.failures]
        return d

    def by_cause(self, n: int = 30) -> list[tuple[str, int]]:
        """The most common first-line errors (refusals grouped by the construct named)."""
        return Counter(f"{f.step}: {f.error.splitlines()[0][:120]}" for f in self.failures).most_common(n)


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def run_coverage(content: str | Path, *, statuses: tuple[str, ...] = ("production",),
                 logs: list[Path] | None = None, db: str | None = None,
                 progress: Any = None, engine: str = "duckdb",
                 engine_options: dict[str, Any] | None = None) -> CoverageReport:
    """Run every detection of `content` (with the given statuses) through the steps;
    `engine` ("duckdb" or "spark", with its `engine_options`) runs the execute steps."""
    from splhunt.api import Session
    from splhunt.content import load_content
    from splhunt.engines.store import Store
    from splhunt.spl.parser import parse

    t0 = time.perf_counter()
    rep = CoverageReport()
    lib = load_content(content)
    for err in lib.errors:
        rep.total += 1
        rep.failures.append(Failure(err.split(":", 1)[0], "loaded", err))
    empty = Session(content=None, engine=engine, engine_options=engine_options)
    empty.content = lib
    empty.macros = Session(content=content).macros
    real = None
    if logs or db:
        real = Session(store=Store(db) if db else None, content=None, engine=engine, engine_options=engine_options)
        real.content, real.macros = lib, empty.macros
        if logs:
            real.ingest(logs)
        rep.executed_real = 0
    dets = [d for d in lib.detections.values() if not statuses or (d.status or "") in statuses]
    for i, det in enumerate(sorted(dets, key=lambda d: str(d.path))):
        rep.total += 1
        rep.counts["loaded"] += 1
        fname = str(det.path) if det.path else det.name
        step = "expanded"
        try:
            text = empty.macros.expand(det.search)
            rep.counts["expanded"] += 1
            step = "parsed"
            parse(text)
            rep.counts["parsed"] += 1
            step = "compiled"
            plan = empty.plan(det.search)
            rep.counts["compiled"] += 1
            step = "executed"
            empty.engine.execute(plan)
            rep.counts["executed"] += 1
            if real is not None:
                step = "executed_real"
                res = real.search(det.search)
                rep.executed_real = (rep.executed_real or 0) + 1
                if res.rows:
                    rep.with_results += 1
        except SplhuntError as e:
            rep.failures.append(Failure(fname, step, _first_line(e), det.name))
        except Exception as e:  # noqa: BLE001 - a crash is a failure of that step, reported
            rep.failures.append(Failure(fname, step, f"internal error: {type(e).__name__}: {_first_line(e)}", det.name))
        if progress:
            progress(i + 1, len(dets))
    rep.seconds = time.perf_counter() - t0
    return rep
