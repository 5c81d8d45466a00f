"""Streams files into events and events into the store, batch by batch.

Memory is bounded by ``batch_size``: readers are generators, the batch (`Batch`: events
grouped by shape, turned into Arrow columns) is flushed with `Store.append_columns`
every ``batch_size`` events, on a writer thread (`_Writer`) so that DuckDB inserts one
batch while Python parses the next ones; at most `WRITE_AHEAD_BATCHES` + 2 batches exist
at once (one being filled, some waiting, one being inserted). With
``workers > 1`` files are parsed in worker processes that send column batches back
through a bounded queue; the parent process only writes to the store. By default
workers are used only with at least `PARALLEL_MIN_CPUS` CPUs (one per CPU but one for
the parent), several files and `PARALLEL_MIN_BYTES` of input.

The appends of one run share long transactions (`Store.bulk`, a commit every
`BULK_COMMIT_ROWS` rows): DuckDB's cost per commit grows with the width of ``events``.
"""

from __future__ import annotations

import gc
import lzma
import os
import queue
import tarfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from . import detect
from . import evtx as evtx_reader
from . import jsonl as jsonl_reader
from . import xmlwineventlog as xml_reader
from .common import Context
from .containers import MAX_DEPTH, members, sniffed, walk
from .report import IngestReport

#: What a damaged archive or compressed stream raises while being read.
ARCHIVE_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    tarfile.TarError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
)

REASON_NOT_LOG = "not a log file"
REASON_UNREADABLE = "unreadable file"

_FORMAT_NAMES = {
    detect.EVTX: "evtx",
    detect.XML: "xmlwineventlog",
    detect.JSON: "jsonl",
    detect.CLASSIC: "wineventlog",
}


@dataclass(frozen=True)
class Options:
    """Per-run overrides and settings (picklable, for worker processes)."""

    source: str | None = None
    sourcetype: str | None = None
    index: str = "main"
    host: str | None = None


class Position:
    """Where the run is, in bytes of input files, for progress callbacks."""

    def __init__(self, total: int):
        self.total = total
        self.done = 0  # bytes of finished top-level files
        self.size = 0  # size of the current top-level file
        self.fh: BinaryIO | None = None
        self.ctx: Context | None = None
        self.last = 0

    def now(self) -> int:
        """Bytes done so far (never decreasing: zip reading seeks back and forth)."""
        self.last = max(self.last, self._now())
        return self.last

    def _now(self) -> int:
        cur = 0
        if self.fh is not None:
            try:
                cur = self.fh.tell()
            except (OSError, ValueError):
                cur = 0
        if not cur and self.ctx is not None:
            cur = int(self.ctx.fraction * self.size)
        return self.done + min(cur, self.size)


def _member(name: str, top: str) -> str | None:
    return name if name != top else None


def _finish(ctx: Context, fmt: str) -> None:
    report = ctx.report
    fname = "+".join(sorted(ctx.pending_formats)) or _FORMAT_NAMES.get(fmt, fmt)
    st = report.file(ctx.top)
    if not st.format:
        st.format = fname
    elif fname not in st.format.split("+"):
        st.format = f"{st.format}+{fname}"
    if ctx.member is not None:
        report.member(ctx.name).format = fname
    report.files += 1
    for f, n in ctx.pending_formats.items():
        report.count_read(ctx.top, f, n, ctx.member)
    ctx.pending_formats.clear()


def _events_of_stream(
    name: str,
    top: str,
    stream: BinaryIO,
    report: IngestReport,
    opts: Options,
    pos: Position | None,
    explicit: bool,
    depth: int = 0,
    path: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Events of one file or archive member given as an open stream.

    `name` names it in messages; `top` is the input file it belongs to.
    """
    fmt, buf = sniffed(stream)
    if fmt in detect.CONTAINERS:
        if depth >= MAX_DEPTH:
            report.skip(top, REASON_NOT_LOG, f"{name}: archive nested too deep; not opened", 1, _member(name, top))
            return
        yield from _events_of_container(name, top, fmt, buf, report, opts, pos, depth, explicit)
        return
    ctx = Context(name, report, opts.source, opts.sourcetype, opts.index, opts.host, top=top)
    if pos is not None:
        pos.ctx = ctx
    if fmt == detect.EVTX:
        reader = evtx_reader.read(None if path else buf, ctx, path=path)
    elif fmt in (detect.XML, detect.CLASSIC):
        reader = xml_reader.read(buf, ctx)
    elif fmt == detect.JSON:
        reader = jsonl_reader.read(buf, ctx)
    else:
        msg = f"{name}: not a recognised log format (EVTX, XML, JSON lines, WinEventLog text)"
        report.skip(top, REASON_NOT_LOG, msg if explicit else None, 1, _member(name, top))
        return
    try:
        yield from reader
    except ARCHIVE_ERRORS as exc:
        ctx.error("", f"read failed ({type(exc).__name__}: {exc}); events before it were kept", REASON_UNREADABLE)
    _finish(ctx, fmt)


def _events_of_container(
    name: str,
    top: str,
    fmt: str,
    stream: BinaryIO,
    report: IngestReport,
    opts: Options,
    pos: Position | None,
    depth: int,
    explicit: bool,
) -> Iterator[dict[str, Any]]:
    """Events of every member of an archive (zip, tar) or compressed stream (gz...)."""
    single = fmt in (detect.GZIP, detect.BZIP2, detect.XZ)
    try:
        for mname, mstream in members(fmt, stream, name):
            if single:
                ifmt, ibuf = sniffed(mstream)
                if ifmt == detect.TAR:  # x.tar.gz: name members x.tar.gz!member
                    yield from _events_of_container(name, top, detect.TAR, ibuf, report, opts, pos, depth + 1, False)
                else:
                    yield from _events_of_stream(mname, top, ibuf, report, opts, pos, explicit, depth + 1)
                continue
            if detect.skip_by_name(mname):
                report.skip(top, REASON_NOT_LOG, None, 1, mname)
                continue
            yield from _events_of_stream(mname, top, mstream, report, opts, pos, False, depth + 1)
    except ARCHIVE_ERRORS as exc:
        report.skip(
            top,
            REASON_UNREADABLE,
            f"{name}: damaged archive ({type(exc).__name__}: {exc}); members before it were read",
            1,
            _member(name, top),
        )


def events_of_file(
    path: str, report: IngestReport, opts: Options, pos: Position | None = None, explicit: bool = True
) -> Iterator[dict[str, Any]]:
    """Events of one filesystem file (plain log or archive)."""
    if detect.skip_by_name(path) and not explicit:
        report.skip(path, REASON_NOT_LOG)
        return
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, generator-safe
    except OSError as exc:
        report.skip(path, REASON_UNREADABLE, f"{path}: cannot open ({exc.strerror or exc})")
        return
    try:
        if pos is not None:
            pos.fh = fh
            pos.size = os.fstat(fh.fileno()).st_size
        head = fh.read(8)
        fh.seek(0)
        fast_path = path if head.startswith(b"ElfFile\x00") else None
        if fast_path and pos is not None:
            pos.fh = None
        yield from _events_of_stream(path, path, fh, report, opts, pos, explicit, path=fast_path)
    finally:
        fh.close()
        if pos is not None:
            pos.done += pos.size
            pos.fh = None
            pos.ctx = None
            pos.size = 0


def input_files(paths: list[str]) -> list[tuple[str, bool]]:
    """(file path, named explicitly) for every file under `paths`, in order."""
    out: list[tuple[str, bool]] = []
    for p in paths:
        if os.path.isdir(p):
            out.extend((f, False) for f in walk(p))
        else:
            out.append((p, True))
    return out


def iter_events(paths: list[str], report: IngestReport, opts: Options, pos: Position | None = None):
    for path, explicit in input_files(paths):
        yield from events_of_file(path, report, opts, pos, explicit)


# -- batching ------------------------------------------------------------------------------
_MV_TYPE = pa.list_(pa.string())


class Batch:
    """Events being collected, turned into one Arrow column per field by `take`.

    Per event, `add` does three C-level steps: look up the event's shape (its tuple of
    field names), note it, and append its values to one flat list. `take` then works per
    field, not per event: a code table per shape gives every value its field, one stable
    sort groups the values by field (in arrival order within a field), each field's
    values become one Arrow array (`_column`) and `_spread` puts them at their rows,
    null elsewhere. A string column is spread by rewriting its offsets and validity with
    numpy around the same character data: no per-value copy, no ``take``.

    Measured on 20,000-event batches of XmlWinEventLog lines (250 fields, 62 shapes):
    22-31 us per event for the former per-shape arrays and reordering ``take``,
    14-24 us now, most of it the conversion of Python strings to Arrow.
    """

    __slots__ = ("shapes", "ids", "order", "vals", "n")

    def __init__(self) -> None:
        self.shapes: list[tuple[str, ...]] = []
        self.ids: dict[tuple[str, ...], int] = {}
        self.order: list[int] = []
        self.vals: list[Any] = []
        self.n = 0

    def add(self, ev: dict[str, Any]) -> None:
        keys = tuple(ev)
        sid = self.ids.get(keys)
        if sid is None:
            sid = self.ids[keys] = len(self.shapes)
            self.shapes.append(keys)
        self.order.append(sid)
        self.vals.extend(ev.values())
        self.n += 1

    def take(self) -> tuple[dict[str, pa.Array], int, set[str]]:
        """(field -> Arrow array of n values, n, multivalue fields) and reset.

        Fields come in order of first appearance; a field with a list value anywhere in
        the batch is multivalue (``list<string>``, its single values as one-value lists).
        """
        shapes, order, vals, n = self.shapes, self.order, self.vals, self.n
        self.shapes, self.ids, self.order, self.vals, self.n = [], {}, [], [], 0
        if not vals:
            return {}, n, set()
        names: dict[str, int] = {}
        table = np.full((len(shapes), max(map(len, shapes))), -1, dtype=np.int32)
        for i, keys in enumerate(shapes):
            table[i, : len(keys)] = [names.setdefault(k, len(names)) for k in keys]
        per_event = table[np.asarray(order, dtype=np.int32)]
        present = per_event >= 0
        codes = per_event[present]  # row-major: events in order, each in its key order, as `vals`
        rows = np.nonzero(present)[0]
        perm = np.argsort(codes, kind="stable")
        rows = rows[perm]
        ends = np.cumsum(np.bincount(codes, minlength=len(names))).tolist()
        by_field = itemgetter(*perm.tolist())(vals) if len(vals) > 1 else tuple(vals)
        cols: dict[str, pa.Array] = {}
        mv: set[str] = set()
        s = 0
        for name, e in zip(names, ends, strict=True):
            arr = _column(name, by_field[s:e])
            if arr.type == _MV_TYPE:
                mv.add(name)
            cols[name] = _spread(arr, rows[s:e], n)
            s = e
        return cols, n, mv


def _spread(arr: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    """`arr` (one value per row of `rows`, ascending) as n values, null at other rows."""
    if len(arr) == n:
        return arr
    if arr.type == pa.string() and arr.offset == 0:
        _, offsets, data = arr.buffers()
        seg = np.frombuffer(offsets, dtype=np.int32, count=len(arr) + 1)
        lens = np.zeros(n, dtype=np.int32)
        lens[rows] = np.diff(seg)
        off = np.empty(n + 1, dtype=np.int32)
        off[0] = 0
        np.cumsum(lens, out=off[1:])
        off += seg[0]
        valid = np.zeros(n, dtype=bool)
        valid[rows] = arr.is_valid().to_numpy(zero_copy_only=False) if arr.null_count else True
        nulls = n - int(np.count_nonzero(valid))
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        return pa.Array.from_buffers(pa.string(), n, [bitmap, pa.py_buffer(off), data], null_count=nulls)
    idx = np.full(n, -1, dtype=np.int64)
    idx[rows] = np.arange(len(arr), dtype=np.int64)
    return arr.take(pa.array(idx, mask=idx < 0))


def _str(v: Any) -> str | None:
    if v is None or v.__class__ is str:
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _column(field: str, vals: tuple[Any, ...]) -> pa.Array:
    """Arrow array of one field's values in one shape: ``double`` for ``_time``,
    ``list<string>`` when a value is a list (multivalue), else ``string``."""
    if field == "_time":
        return pa.array(vals, pa.float64())
    try:
        return pa.array(vals, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        if list in set(map(type, vals)):
            return pa.array(
                [None if v is None else [_str(x) for x in v] if v.__class__ is list else [_str(v)] for v in vals],
                _MV_TYPE,
            )
        return pa.array([_str(v) for v in vals], pa.string())


#: Parsed batches that may wait for the writer. The writer commits every
#: `BULK_COMMIT_ROWS` rows, and a commit into a wide `events` table takes seconds (DuckDB
#: checkpoints it): with room for a few batches the parser keeps going meanwhile. Memory
#: stays bounded by the batch size: at most this many batches, plus the one being written
#: and the one being filled.
WRITE_AHEAD_BATCHES = 4


class _Writer:
    """Writes batches to the store on a thread of its own, behind the reader.

    DuckDB releases the GIL while it inserts, so parsing the next batches (Python) and
    writing this one (DuckDB) use both CPUs. `put` waits while `WRITE_AHEAD_BATCHES`
    batches are waiting; the store is used by this thread only until `close`. An error of
    the store is raised again in the caller, at the next `put` or at `close`, and the
    batches still waiting are dropped.
    """

    def __init__(self, store, ahead: int | None = None) -> None:
        self.store = store
        ahead = WRITE_AHEAD_BATCHES if ahead is None else ahead
        self.q: queue.Queue = queue.Queue(maxsize=max(1, ahead))
        self.exc: BaseException | None = None
        self.t = threading.Thread(target=self._run, name="splhunt-ingest-writer", daemon=True)
        self.t.start()

    def _run(self) -> None:
        while True:
            item = self.q.get()
            try:
                if item is None:
                    return
                if self.exc is None:
                    try:
                        self.store.append_columns(*item)
                    except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                        self.exc = exc
            finally:
                item = None
                self.q.task_done()

    def put(self, item) -> None:
        if self.exc is not None:
            self.close()
        self.q.put(item)  # waits while the queue is full

    def close(self) -> None:
        if self.t.is_alive():
            self.q.put(None)
            self.t.join()
        if self.exc is not None:
            exc, self.exc = self.exc, None
            raise exc


def ingest(
    paths: list[str],
    store,
    opts: Options,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
    workers: int | None,
) -> IngestReport:
    report = IngestReport()
    t0 = time.perf_counter()
    files = input_files(paths)
    total = 0
    for f, _ in files:
        try:
            total += os.path.getsize(f)
        except OSError:
            pass
    report.bytes_total = total
    nworkers = _choose_workers(workers, files, total)
    bulk = getattr(store, "bulk", None)
    with bulk() if bulk is not None else nullcontext():
        if nworkers > 1:
            from .parallel import ingest_parallel

            ingest_parallel(files, store, opts, batch_size, progress, nworkers, report, total)
        else:
            _ingest_here(files, store, opts, batch_size, progress, report, total)
    report.seconds = time.perf_counter() - t0
    return report


def _ingest_here(
    files: list[tuple[str, bool]],
    store,
    opts: Options,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
    report: IngestReport,
    total: int,
) -> None:
    """Parse in this process; the store is written on a `_Writer` thread."""
    pos = Position(total)
    batch = Batch()
    writer = _Writer(store)
    # Events make no reference cycles; the cyclic collector would only walk the
    # batch's tuples over and over (measured 5-10% of ingest CPU).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for path, explicit in files:
            for ev in events_of_file(path, report, opts, pos, explicit):
                batch.add(ev)
                if batch.n >= batch_size:
                    writer.put(batch.take())
                    if progress is not None:
                        progress(pos.now(), total)
        if batch.n:
            writer.put(batch.take())
    finally:
        if gc_was_enabled:
            gc.enable()
        writer.close()
    if progress is not None:
        progress(total, total)


#: Below this much input, worker processes cost more than they save.
PARALLEL_MIN_BYTES = 8 * 1024 * 1024
#: Worker processes only pay with this many CPUs: the parent needs one for DuckDB, and
#: handing a parsed event to the parent (pickling ~3.5 KB of text per event) costs about
#: half of parsing it. Measured on 2 CPUs: in-process ingest was ~20% faster than two
#: workers (Store) and ~40% faster without a store.
PARALLEL_MIN_CPUS = 4


def _choose_workers(workers: int | None, files: list[tuple[str, bool]], total: int) -> int:
    if workers is not None:
        return max(1, min(workers, len(files)))
    env = os.environ.get("SPLHUNT_INGEST_WORKERS")
    if env and env.isdigit():
        return max(1, min(int(env), len(files)))
    if len(files) < 2 or total < PARALLEL_MIN_BYTES:
        return 1
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:
        ncpu = os.cpu_count() or 1
    if ncpu < PARALLEL_MIN_CPUS:
        return 1
    return max(1, min(ncpu - 1, len(files)))
