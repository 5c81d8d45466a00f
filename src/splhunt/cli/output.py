"""Result rendering: terminal table, JSON, JSON lines, CSV. Keys keep Splunk's column order."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.console import Console
from rich.table import Table

FORMATS = ("table", "json", "jsonl", "csv")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return "\n".join(str(x) for x in v)
    return str(v)


def render(columns: list[str], rows: list[dict[str, Any]], fmt: str, console: Console, title: str = "") -> None:
    """Write rows in `fmt` to the console (JSON formats go out verbatim, without markup)."""
    if fmt == "json":
        console.out(json.dumps([{c: r.get(c) for c in columns} for r in rows], indent=2, default=str), highlight=False)
    elif fmt == "jsonl":
        for r in rows:
            console.out(json.dumps({c: r.get(c) for c in columns}, default=str), highlight=False)
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in columns])
        console.out(buf.getvalue(), end="", highlight=False)
    elif len(columns) * 12 > console.width:
        # too wide for the terminal: one field/value table per result, in column order
        for i, r in enumerate(rows, 1):
            t = Table(title=f"result {i}", show_header=False, show_lines=False)
            t.add_column("field", style="bold")
            t.add_column("value", overflow="fold")
            for c in columns:
                t.add_row(c, _cell(r.get(c)))
            console.print(t)
        console.print(f"{len(rows)} result(s)")
    else:
        t = Table(title=title or None, show_lines=False)
        for c in columns:
            t.add_column(c, overflow="fold")
        for r in rows:
            t.add_row(*[_cell(r.get(c)) for c in columns])
        console.print(t)
        console.print(f"{len(rows)} result(s)")
