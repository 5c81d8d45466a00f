"""Lookup tables for `lookup`/`inputlookup`: content CSVs first, then the add-ons' tables.

Tables are read with pyarrow (every column as text, Splunk's view of a CSV) and
registered once per engine under a generated name; lookup names never become paths
(the content loader resolved and confined each CSV to the content folder).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from splhunt.compile.stage import allocate
from splhunt.errors import SplUnsupportedError

ROW_COL = "__lrow"


@dataclass
class LookupTable:
    name: str
    table: str
    columns: list[str]
    colmap: dict[str, str]
    rows: list[dict[str, str]]
    match_types: dict[str, str] = field(default_factory=dict)
    case_sensitive: bool = True
    max_matches: int = 100
    min_matches: int = 0
    default_match: str | None = None
    row_col: str = ROW_COL

    def col(self, column: str) -> str:
        return self.colmap[column]

    def unique_keys(self, cols: list[str]) -> bool:
        """True when no two rows share the same values in `cols` (so one match at most)."""
        if any(self.match_types.get(c, "EXACT") != "EXACT" for c in cols):
            return False
        seen = set()
        for r in self.rows:
            key = tuple((r.get(c) or "") if self.case_sensitive else (r.get(c) or "").lower() for c in cols)
            if key in seen:
                return False
            seen.add(key)
        return True


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a lookup CSV, every value as text; header cells are trimmed
    (`EventCode, Description` names `Description`)."""
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        cols = [c.strip() for c in header]
        rows = [dict(zip(cols, (v.strip() for v in r), strict=False)) for r in reader if r]
    return cols, rows


class LookupRegistry:
    """Resolves lookup names for one engine, registering each table once."""

    def __init__(self, engine: Any, content: Any = None):
        self.engine = engine
        self.content = content
        self._cache: dict[str, LookupTable] = {}

    def _definition(self, name: str) -> tuple[Path, dict[str, Any]]:
        lib = self.content
        if lib is not None:
            lk = lib.lookups.get(name)
            if lk is None:  # referenced by file name
                lk = next((x for x in lib.lookups.values() if x.filename == name), None)
            if lk is not None:
                if lk.collection and not lk.filename:
                    raise SplUnsupportedError(f"lookup {name}", "a KV-store lookup has no data outside Splunk")
                if lk.csv_path is None or not Path(lk.csv_path).exists():
                    raise SplUnsupportedError(f"lookup {name}", f"its file {lk.filename} is not in the content folder")
                from splhunt.commands.lookup import match_types

                return Path(lk.csv_path), {
                    "match_types": match_types(lk.match_type),
                    "case_sensitive": lk.case_sensitive_match if lk.case_sensitive_match is not None else True,
                    "max_matches": lk.max_matches or 100,
                    "min_matches": lk.min_matches or 0,
                    "default_match": lk.default_match,
                }
        from splhunt.knowledge import load_knowledge

        k = load_knowledge()
        if name in k.lookups:
            ldef, path = k.lookup_table(name)
            from splhunt.commands.lookup import match_types

            return path, {
                "match_types": match_types(ldef.match_type if ldef.match_type != "EXACT" else ""),
                "case_sensitive": ldef.case_sensitive_match,
                "max_matches": ldef.max_matches,
                "min_matches": ldef.min_matches,
                "default_match": ldef.default_match,
            }
        raise SplUnsupportedError(f"lookup {name}", "no such lookup in the content folder or the add-ons")

    def resolve(self, name: str) -> LookupTable:
        if name in self._cache:
            return self._cache[name]
        path, opts = self._definition(name)
        cols, rows = _read_csv(path)
        taken: set[str] = {ROW_COL}
        colmap = {}
        for c in cols:
            colmap[c] = allocate(c, taken)
            taken.add(colmap[c].lower())
        arrays = {colmap[c]: pa.array([r.get(c) for r in rows], pa.string()) for c in cols}
        arrays[ROW_COL] = pa.array(range(1, len(rows) + 1), pa.int64())
        table = "lookup_" + hashlib.sha1(f"{name}\0{path}".encode()).hexdigest()[:12]
        self.engine.register_table(table, pa.table(arrays))
        lt = LookupTable(name, table, cols, colmap, rows, **opts)
        self._cache[name] = lt
        return lt


class NoLookups:
    """Used when no engine is attached: every lookup is refused by name."""

    def resolve(self, name: str) -> LookupTable:
        raise SplUnsupportedError(f"lookup {name}", "no lookup tables are available here")
