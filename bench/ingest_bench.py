"""Ingest throughput per format, on the real data of ``<repo>/../shared/data``.

For each format a corpus is made from the MANIFEST's files of that format: EVTX (every
``.evtx``), XmlWinEventLog lines, JSON lines (Security-Datasets / attack_data archives,
decompressed to one JSON-lines file) and classic WinEventLog text. Small corpora are
repeated (same events, several copies) up to ``--min-events`` so that the rate is not
dominated by start-up. Each corpus is then timed twice:

* ``parse``: `read_events` only, one process (the readers' own speed), wall-clock
  events/s and CPU microseconds per event (the latter hardly moves with machine load);
* ``pipeline``: `ingest_paths` with the default worker processes into a store that
  discards the batches (parsing, batching and process hand-over, without DuckDB);
* ``ingest``: `ingest_paths` into a fresh in-memory `Store` (DuckDB), with the default
  worker processes (what the CLI does) - the figure of the last line - with its CPU
  microseconds per event (every thread of the process: parsing and DuckDB) and the
  process's peak RSS so far.

Times are wall-clock; the machine's load average is printed first, since a busy
machine changes the wall-clock rates a lot.
The last line is::

    ingest evtx_eps=... xml_eps=... jsonl_eps=... wineventlog_eps=...

Usage: python bench/ingest_bench.py [--data ../shared/data] [--min-events 100000]
       [--json-events 150000] [--workers N] [--formats evtx,xml,...] [--no-pipeline] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from splhunt.engines.store import Store  # noqa: E402
from splhunt.ingest import IngestReport, ingest_paths, read_events  # noqa: E402
from splhunt.ingest.containers import members, sniffed  # noqa: E402
from splhunt.ingest.detect import CONTAINERS, TAR  # noqa: E402


class NullStore:
    """Takes batches and drops them (the pipeline without DuckDB)."""

    def __init__(self) -> None:
        self.rows = 0

    def append_columns(self, columns, n, mv_fields=None) -> int:
        self.rows += n
        return n


def _manifest(data: Path) -> list[dict[str, str]]:
    with open(data / "MANIFEST.csv", newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["events"]]


def _unpack(path: Path, out) -> None:
    """Append the decompressed member bytes of a .zip/.tar.gz log archive to `out`."""
    with open(path, "rb") as fh:
        fmt, buf = sniffed(fh)
        if fmt not in CONTAINERS:
            shutil.copyfileobj(buf, out)
            return
        for _name, stream in members(fmt, buf, str(path)):
            ifmt, ibuf = sniffed(stream)
            if ifmt == TAR:
                for _n, s in members(TAR, ibuf, str(path)):
                    if not _n.rsplit("/", 1)[-1].startswith("."):
                        shutil.copyfileobj(s, out)
            elif "__MACOSX" not in _name:
                shutil.copyfileobj(ibuf, out)


def build_corpora(data: Path, tmp: Path, min_events: int, json_events: int) -> dict[str, tuple[list[Path], int]]:
    """format -> (files, events in them)."""
    rows = _manifest(data)
    corpora: dict[str, tuple[list[Path], int]] = {}

    # EVTX: the files themselves, copied k times to reach min_events.
    evtx = [r for r in rows if r["format"] == "evtx"]
    n = sum(int(r["events"]) for r in evtx)
    k = max(1, -(-min_events // n))
    files = []
    for i in range(k):
        for j, r in enumerate(evtx):
            dst = tmp / "evtx" / f"{i}_{j}.evtx"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(data / r["local_path"], dst)
            files.append(dst)
    corpora["evtx"] = (files, n * k)

    # XML lines and classic text: the events of every file, concatenated; the
    # concatenation written k times (k files, so worker processes can share them).
    for fmt, pick in (
        ("xml", lambda r: r["format"] == "xmlwineventlog" and "JSON" not in r["subformat"]),
        ("wineventlog", lambda r: r["subformat"].startswith("wineventlog-text")),
    ):
        chosen = [r for r in rows if pick(r)]
        blob = b"".join((data / r["local_path"]).read_bytes().rstrip(b"\r\n") + b"\n" for r in chosen)
        n = sum(int(r["events"]) for r in chosen)
        k = max(1, -(-min_events // n))
        files = []
        per_file = max(1, k // 8)
        for i in range(0, k, per_file):
            dst = tmp / f"{fmt}_{i}.log"
            dst.write_bytes(blob * min(per_file, k - i))
            files.append(dst)
        corpora[fmt] = (files, n * k)

    # JSON lines: the archives decompressed (one .jsonl per archive), up to json_events.
    files = []
    n = 0
    for i, r in enumerate(rr for rr in rows if rr["format"] == "json-lines"):
        if n >= json_events:
            break
        dst = tmp / f"json_{i}.jsonl"
        with open(dst, "wb") as out:
            _unpack(data / r["local_path"], out)
        files.append(dst)
        n += int(r["events"])
    corpora["jsonl"] = (files, n)
    return corpora


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO / ".." / "shared" / "data")
    ap.add_argument("--min-events", type=int, default=100_000)
    ap.add_argument("--json-events", type=int, default=150_000)
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: automatic)")
    ap.add_argument("--keep", action="store_true", help="keep the corpus directory")
    ap.add_argument("--formats", default="evtx,xml,jsonl,wineventlog", help="comma-separated subset")
    ap.add_argument("--no-pipeline", action="store_true", help="skip the parse and pipeline passes")
    args = ap.parse_args()
    if not (args.data / "MANIFEST.csv").exists():
        sys.exit(f"no MANIFEST.csv under {args.data}: the benchmark needs ../shared/data")
    tmp = Path(tempfile.mkdtemp(prefix="splhunt_ingest_bench_"))
    try:
        corpora = build_corpora(args.data.resolve(), tmp, args.min_events, args.json_events)
        try:
            load = os.getloadavg()
        except OSError:
            load = (0.0, 0.0, 0.0)
        print(f"cpus={os.cpu_count()} load_avg={load[0]:.1f},{load[1]:.1f},{load[2]:.1f}")
        print(
            f"{'format':<12} {'events':>9} {'parse ev/s':>11} {'cpu us/ev':>10} "
            f"{'pipeline ev/s':>14} {'ingest s':>9} {'ingest ev/s':>12} {'ingest cpu us/ev':>17} "
            f"{'fields':>7} {'peak rss MB':>12}"
        )
        eps: dict[str, float] = {}
        formats = [f for f in ("evtx", "xml", "jsonl", "wineventlog") if f in args.formats.split(",")]
        for fmt in formats:
            files, expect = corpora[fmt]
            n_parse = n_pipe = expect
            parse_rate = parse_us = pipe_rate = float("nan")
            if not args.no_pipeline:
                rep = IngestReport()
                c0, t0 = time.process_time(), time.perf_counter()
                n_parse = sum(1 for f in files for _ in read_events(f, report=rep))
                parse_s, parse_cpu = time.perf_counter() - t0, time.process_time() - c0
                parse_rate, parse_us = n_parse / parse_s, parse_cpu / n_parse * 1e6
                null = NullStore()
                t0 = time.perf_counter()
                ingest_paths(files, null, workers=args.workers)
                pipe_rate = null.rows / (time.perf_counter() - t0)
                n_pipe = null.rows
            store = Store()
            c0, t0 = time.process_time(), time.perf_counter()
            report = ingest_paths(files, store, workers=args.workers)
            ingest_s, ingest_cpu = time.perf_counter() - t0, time.process_time() - c0
            n = store.count()
            nfields = len(store.fields)
            assert n == report.read == n_parse == n_pipe == expect, (fmt, n, report.read, n_parse, expect)
            store.close()
            eps[fmt] = n / ingest_s
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{fmt:<12} {n:>9,} {parse_rate:>11,.0f} {parse_us:>10.1f} "
                f"{pipe_rate:>14,.0f} {ingest_s:>9.2f} {eps[fmt]:>12,.0f} {ingest_cpu / n * 1e6:>17.1f} "
                f"{nfields:>7} {rss:>12.0f}",
                flush=True,
            )
        print("ingest " + " ".join(f"{'xml' if f == 'xml' else f}_eps={eps[f]:.0f}" for f in formats))
    finally:
        if args.keep:
            print(f"corpus kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
