"""What one appended row costs DuckDB as the `events` table gets wider.

The store keeps one column per Splunk field, so a store that holds several log sources
is as wide as the union of their fields (900+ columns for ../shared/data), while one
event fills about 40 of them. This script measures the cost of that width alone: it
appends the same 100,000 rows (40 non-null text columns, 20,000-row Arrow batches in one
transaction, as ingest does) to tables of different widths, in a database file and in
memory, and prints the time per row for the inserts and for the commit.

Usage: python bench/store_width.py [--rows 100000] [--widths 60,300,600,900]
Writes only under a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import duckdb
import pyarrow as pa


def measure(width: int, rows: int, path: str | None, filled: int = 40, batch: int = 20_000) -> tuple[float, float]:
    """(insert seconds, commit seconds) for `rows` rows into a `width`-column table."""
    values = pa.array([f"value-{i % 5000}-abcdefgh" for i in range(rows)])
    table = pa.table({f"c{i}": values for i in range(filled)})
    con = duckdb.connect(path or ":memory:")
    con.execute("SET memory_limit = '2GB'")
    con.execute("CREATE TABLE t (" + ", ".join(f"c{i} VARCHAR" for i in range(width)) + ")")
    cols = ", ".join(f"c{i}" for i in range(filled))
    t0 = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    for start in range(0, rows, batch):
        part = table.slice(start, batch)  # noqa: F841 - read by DuckDB's replacement scan
        con.execute(f"INSERT INTO t ({cols}) SELECT {cols} FROM part")
    t1 = time.perf_counter()
    con.execute("COMMIT")
    t2 = time.perf_counter()
    con.close()
    return t1 - t0, t2 - t1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--widths", default="60,300,600,900")
    args = ap.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    print(f"duckdb {duckdb.__version__}, {args.rows} rows of 40 filled columns, 20,000-row batches, one transaction")
    print(f"{'where':8s} {'columns':>7s} {'insert s':>9s} {'commit s':>9s} {'us/row':>8s}")
    with tempfile.TemporaryDirectory(prefix="splhunt-width-") as tmp:
        for where in ("file", "memory"):
            for w in widths:
                path = os.path.join(tmp, f"w{w}.duckdb") if where == "file" else None
                ins, com = measure(w, args.rows, path)
                print(f"{where:8s} {w:7d} {ins:9.2f} {com:9.2f} {(ins + com) / args.rows * 1e6:8.1f}")
                if path:
                    os.remove(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
