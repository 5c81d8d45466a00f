"""Parsing in worker processes; the parent process only writes to the store.

Workers take file paths from a task queue, parse them exactly as the in-process
pipeline does, and send column batches (at most ``batch_size`` events each) and, per
file, its `IngestReport` back on a bounded queue (so memory stays bounded: at most
two batches per worker are in flight). Workers are started with ``forkserver`` where
available (``spawn`` elsewhere), never plain ``fork``: the parent holds a DuckDB
connection with its own threads.
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import traceback
from collections.abc import Callable

from .pipeline import Batch, Options, events_of_file
from .report import IngestReport

_DONE = None


def _worker(tasks, results, opts: Options, batch_size: int) -> None:
    # One batch across files: small files must not become small INSERTs (each INSERT
    # into the wide events table has a large fixed cost).
    batch = Batch()
    while True:
        task = tasks.get()
        if task is _DONE:
            if batch.n:
                results.put(("batch", batch.take(), None))
            results.put(("exit", None, None))
            return
        path, explicit, size = task
        report = IngestReport()
        try:
            for ev in events_of_file(path, report, opts, None, explicit):
                batch.add(ev)
                if batch.n >= batch_size:
                    results.put(("batch", batch.take(), None))
        except Exception as exc:  # a bug on one file must not lose the others
            report.skip(
                path,
                "unreadable file",
                f"{path}: reader failed ({type(exc).__name__}: {exc}); "
                f"events before it were kept\n{traceback.format_exc(limit=3)}",
            )
        results.put(("file", report, size))


def ingest_parallel(
    files: list[tuple[str, bool]],
    store,
    opts: Options,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
    nworkers: int,
    report: IngestReport,
    total: int,
) -> None:
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        ctx.set_forkserver_preload(["splhunt.ingest.parallel"])
    tasks = ctx.Queue()
    results = ctx.Queue(maxsize=2 * nworkers)
    sizes = []
    for path, explicit in files:
        try:
            import os

            size = os.path.getsize(path)
        except OSError:
            size = 0
        sizes.append(size)
        tasks.put((path, explicit, size))
    for _ in range(nworkers):
        tasks.put(_DONE)
    procs = [ctx.Process(target=_worker, args=(tasks, results, opts, batch_size), daemon=True) for _ in range(nworkers)]
    for p in procs:
        p.start()
    done_bytes = 0
    files_left = len(files)
    exited = 0
    try:
        while exited < nworkers:
            try:
                kind, payload, size = results.get(timeout=2.0)
            except queue_mod.Empty:
                if not any(p.is_alive() for p in procs):
                    break
                continue
            if kind == "batch":
                cols, n, mv = payload
                store.append_columns(cols, n, mv)
                if progress is not None:
                    progress(done_bytes, total)
            elif kind == "file":
                report.merge(payload)
                done_bytes += size or 0
                files_left -= 1
                if progress is not None:
                    progress(done_bytes, total)
            elif kind == "exit":
                exited += 1
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
    if files_left > 0:
        report.add_error(f"{files_left} file(s) not read: a worker process died")
        report.skipped_by_reason["worker died"] = report.skipped_by_reason.get("worker died", 0) + files_left
        report.skipped += files_left
    if progress is not None:
        progress(total, total)
