"""What the runners share: a session over a store with an already loaded content library."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from splhunt.api import Session
from splhunt.spl.macros import MacroDef, MacroLibrary


class Content:
    """A loaded ESCU content folder and its macro library, built once and shared by the
    sessions of one run (loading ESCU takes seconds; a session per test must not)."""

    def __init__(self, lib: Any):
        self.lib = lib
        #: the engine the sessions of this run use (`Session(engine=, engine_options=)`)
        self.engine = "duckdb"
        self.engine_options: dict[str, Any] = {}
        self.macros = MacroLibrary()
        if lib is not None:
            for m in lib.macros.values():
                self.macros.add(MacroDef(m.name, m.definition, tuple(m.arguments or ())))

    @classmethod
    def load(cls, path: str | Path | None) -> Content:
        if path is None:
            return cls(None)
        from splhunt.content import load_content

        return cls(load_content(path))

    def session(self, store: Any, *, now: float | None = None) -> Session:
        """The session over `store`, with this content. One session per store is kept and
        reused: its materialised knowledge view stays valid while the store's version does,
        and the DuckDB engine registers its functions once per connection."""
        s = _SESSIONS.get(store)
        if s is None:
            s = _SESSIONS[store] = Session(store, now=now, engine=self.engine,
                                           engine_options=self.engine_options or None)
        s.content = self.lib
        s.macros = self.macros
        s.now = now
        return s


_SESSIONS: weakref.WeakKeyDictionary[Any, Session] = weakref.WeakKeyDictionary()


def find_content_root(path: str | Path) -> Path | None:
    """The ESCU content folder above a detection file or folder: the nearest ancestor
    (or the path itself) with a `macros/` folder."""
    p = Path(path).resolve()
    for cand in [p, *p.parents]:
        if (cand / "macros").is_dir():
            return cand
    return None


def error_text(e: BaseException) -> str:
    """One line: the first line of an error's message, with its type when it has none."""
    msg = str(e).strip().splitlines()
    return msg[0] if msg else type(e).__name__


#: Cyclic-GC thresholds while a run builds results: a young-generation pass every 50,000
#: allocations instead of 700, a middle-generation pass every 20 of those, a full pass
#: every 20 middle ones. A third value of 100 was no faster, and 20 lets fewer dead cycles
#: wait for a full pass. (The 1M bench peaked at 3,968 MB with 100 and 3,949 MB with 20,
#: against 3,813-3,875 MB before: no clear difference between the two.)
RUN_GC_THRESHOLDS = (50_000, 20, 20)


@contextmanager
def relaxed_gc() -> Iterator[None]:
    """Run the block with `RUN_GC_THRESHOLDS`, then restore the previous thresholds.

    A hunt keeps every finding (a few pydantic models, dicts and lists each) until it
    ends. With the default thresholds the collector walked that growing heap again
    and again: building 142,000 findings and their risk events took 17.9 s, against
    8.6 s with the collector off and 8.4 s with these thresholds (a `/tmp` benchmark).
    Findings hold no reference cycles, and the cycles that searches leave (sqlglot
    trees) die young, so collecting less often frees the same objects, a little later.
    """
    old = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*old)
