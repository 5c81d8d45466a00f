"""`splhunt hunt`: run every detection whose data is in the store; findings and risk.

Data-source selection (`select`):

1. The store's inventory: event counts per (channel, sourcetype, event code), where the
   channel is the Windows log (`Channel`, else the part of `source` after
   `XmlWinEventLog:` / `WinEventLog:`) and the code is `EventCode`, else `EventID`.
2. A detection's `data_source` entries are alternatives; an entry `A AND B` needs both.
   Each name is looked up in the content's `data_sources/`: a Windows data source
   (source `XmlWinEventLog:<channel>` or `WinEventLog:<channel>`) is present when the
   store has events of that channel with one of the codes in the name's trailing
   number(s) ("Sysmon EventID 1", "Windows Event Log Security 4688", "NTLM Operational
   8004,8005,8006"); any other data source is present when its sourcetype is. A name
   that is not in `data_sources/` borrows the source of a known name with the same
   stem ("Sysmon EventID 26" -> "Sysmon EventID *").
   Classic (`WinEventLog`) and XML (`XmlWinEventLog`) renderings of a channel count
   as the same channel: ESCU's input macros accept both.
3. A detection with no usable `data_source` falls back to its search: the input macro
   (the first `` `macro` ``) or the data model of a leading `| tstats` / `| from
   datamodel` is probed with a one-row search; the detection runs when the probe finds
   an event.
4. Correlation detections (type `Correlation`) read the Risk data model: they run in
   a second pass, after the first pass's risk events are in the store, when there are
   any. Their findings are kept (they are ES's risk notables) but add no risk events,
   so an entity's score is not counted twice.

Every detection considered is reported: run (with its results and findings), skipped
(with the reason) or failed (with the engine's message).
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from splhunt.content import Detection
from splhunt.engines.persist import RISK_INDEX, event_count, save_hunt
from splhunt.engines.store import MV, Store, _qi
from splhunt.errors import SplhuntError
from splhunt.runner.common import Content, error_text, relaxed_gc
from splhunt.runner.risk import EntityRisk, aggregate, risk_rows

RUN = "run"
SKIPPED = "skipped"
FAILED = "failed"

_WIN_PREFIXES = ("xmlwineventlog:", "wineventlog:")
_TRAILING_CODES = re.compile(r"^(.*?)[\s_]+(\d+(?:\s*,\s*\d+)*)\s*$")


def _channel_of(source: str | None) -> str | None:
    if not source:
        return None
    low = source.lower()
    for p in _WIN_PREFIXES:
        if low.startswith(p):
            return low[len(p):]
    return None


# --------------------------------------------------------------------------- inventory


@dataclass
class Inventory:
    """What the store holds: counts per (channel, sourcetype, code)."""

    rows: list[tuple[str | None, str | None, str | None, int]] = field(default_factory=list)
    risk_events: int = 0

    @classmethod
    def of(cls, store: Store) -> Inventory:
        fi = store.fields

        def col(*names: str) -> str:
            parts = []
            for n in names:
                fc = fi.get(n)
                if fc is None:
                    continue
                c = _qi(fc.col)
                parts.append(f"{c}[1]" if fc.kind == MV else f"CAST({c} AS VARCHAR)")
            if not parts:
                return "NULL"
            return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"

        idx = col("index")
        sql = (
            f"SELECT {col('Channel')} AS ch, {col('source')} AS src, {col('sourcetype')} AS st, "
            f"{col('EventCode', 'EventID')} AS code, count(*) AS n FROM events "
            f"WHERE {idx} IS DISTINCT FROM '{RISK_INDEX}' GROUP BY ALL"
        )
        inv = cls()
        for ch, src, st, code, n in store.con.execute(sql).fetchall():
            chan = (ch.lower() if isinstance(ch, str) and ch else None) or _channel_of(src)
            inv.rows.append((chan, st.lower() if st else None, str(code).strip() if code else None, int(n)))
        inv.risk_events = int(
            store.con.execute(f"SELECT count(*) FROM events WHERE {idx} = '{RISK_INDEX}'").fetchall()[0][0]
        ) if "index" in fi else 0
        return inv

    def has(self, channel: str | None, sourcetype: str | None, codes: set[str] | None) -> bool:
        for ch, st, code, _n in self.rows:
            if channel is not None:
                if ch != channel:
                    continue
            elif sourcetype is not None and st != sourcetype.lower():
                continue
            if codes and code not in codes:
                continue
            return True
        return False

    def describe(self, limit: int = 12) -> str:
        agg: dict[str, int] = {}
        for ch, st, code, n in self.rows:
            k = f"{ch or st}:{code}" if code else f"{ch or st}"
            agg[k] = agg.get(k, 0) + n
        top = sorted(agg.items(), key=lambda kv: -kv[1])[:limit]
        return ", ".join(f"{k} ({v:,})" for k, v in top)


# --------------------------------------------------------------------------- requirements


@dataclass(frozen=True)
class Need:
    """One data source a detection needs: a Windows channel (+ codes) or a sourcetype."""

    name: str
    channel: str | None
    sourcetype: str | None
    codes: frozenset[str] | None

    def label(self) -> str:
        return self.name


def _split_codes(name: str) -> tuple[str, frozenset[str] | None]:
    m = _TRAILING_CODES.match(name.strip())
    if not m:
        return name.strip(), None
    return m.group(1).strip(), frozenset(c.strip() for c in m.group(2).split(","))


class Resolver:
    """Data-source names -> `Need`s, from the content's `data_sources/`."""

    def __init__(self, lib: Any):
        self.by_name: dict[str, Any] = dict(lib.data_sources) if lib is not None else {}
        self.by_stem: dict[str, Any] = {}
        for n, ds in self.by_name.items():
            stem, codes = _split_codes(n)
            if codes:
                self.by_stem.setdefault(stem.lower(), ds)

    def need(self, name: str) -> Need | None:
        name = name.strip()
        stem, codes = _split_codes(name)
        ds = self.by_name.get(name)
        if ds is None:
            if codes is None:
                return None
            ds = self.by_stem.get(stem.lower())
            if ds is None:
                return None
        chan = _channel_of(ds.source)
        if chan is not None:
            return Need(name, chan, None, codes)
        if not ds.sourcetype:
            return None
        return Need(name, None, ds.sourcetype, codes if ds.separator else None)

    def alternatives(self, det: Detection) -> tuple[list[list[Need]], list[str]]:
        """(alternatives, unknown names): each alternative is a list of needs, all required."""
        alts: list[list[Need]] = []
        unknown: list[str] = []
        for entry in det.data_source:
            needs: list[Need] = []
            ok = True
            for part in entry.split(" AND "):
                nd = self.need(part)
                if nd is None:
                    unknown.append(part.strip())
                    ok = False
                    break
                needs.append(nd)
            if ok and needs:
                alts.append(needs)
        return alts, unknown


_FIRST_MACRO = re.compile(r"^\s*(?:search\s+)?`([^`(]+)(?:\([^`]*\))?`")
_DATAMODEL = re.compile(r"^\s*\|\s*(?:tstats\b.*?\bfrom\s+datamodel\s*=\s*|from\s+datamodel[:\s]+)\"?([A-Za-z_][\w]*)(?:\.([\w.]+))?", re.S | re.I)


def probe_search(det: Detection) -> str | None:
    """The one-row search that tells whether a detection's input has events, or None."""
    m = _DATAMODEL.match(det.search)
    if m:
        ds = m.group(1) + (f".{m.group(2).split('.')[0]}" if m.group(2) else "")
        return f"| from datamodel {ds} | head 1 | stats count"
    m = _FIRST_MACRO.match(det.search)
    if m:
        return f"`{m.group(1).strip()}` | head 1 | stats count"
    return None


# --------------------------------------------------------------------------- hunt


@dataclass
class DetectionStatus:
    detection: Detection
    status: str  # run, skipped or failed
    reason: str = ""
    results: int = 0
    findings: int = 0
    seconds: float = 0.0
    phase: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "detection": self.detection.name,
            "id": self.detection.id,
            "type": self.detection.type,
            "status": self.status,
            "reason": self.reason,
            "results": self.results,
            "findings": self.findings,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class HuntResult:
    events: int = 0
    statuses: list[DetectionStatus] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)
    risk: list[dict[str, Any]] = field(default_factory=list)
    entities: list[EntityRisk] = field(default_factory=list)
    filtered_out: int = 0
    seconds: float = 0.0
    ingest_seconds: float = 0.0
    view_seconds: float = 0.0
    """Time spent building the search-time knowledge view (once per pass)."""
    search_seconds: float = 0.0
    """Wall time of running the detections (planning, queries, findings), all passes."""
    inventory: str = ""

    def by_status(self, status: str) -> list[DetectionStatus]:
        return [s for s in self.statuses if s.status == status]

    def reasons(self, status: str) -> list[tuple[str, int]]:
        c: dict[str, int] = {}
        for s in self.by_status(status):
            c[s.reason] = c.get(s.reason, 0) + 1
        return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))

    def summary(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "detections_considered": len(self.statuses),
            "detections_filtered_out": self.filtered_out,
            "detections_run": len(self.by_status(RUN)),
            "detections_with_findings": sum(1 for s in self.by_status(RUN) if s.findings),
            "detections_skipped": len(self.by_status(SKIPPED)),
            "detections_failed": len(self.by_status(FAILED)),
            "findings": len(self.findings),
            "risk_events": len(self.risk),
            "risk_entities": len(self.entities),
            "seconds": round(self.seconds, 2),
            "ingest_seconds": round(self.ingest_seconds, 2),
            "knowledge_view_seconds": round(self.view_seconds, 2),
        }


def filter_detections(
    dets: Iterable[Detection],
    *,
    types: Iterable[str] = (),
    stories: Iterable[str] = (),
    mitre: Iterable[str] = (),
    statuses: Iterable[str] = ("production",),
    names: Iterable[str] = (),
) -> list[Detection]:
    """Detections matching every given filter (each filter: any of its values).

    `mitre` matches a technique or any of its sub-techniques (T1003 matches T1003.001);
    `stories` and `names` match case-insensitively.
    """
    tset = {t.lower() for t in types}
    sset = {s.lower() for s in stories}
    mset = [m.upper() for m in mitre]
    stset = {s.lower() for s in statuses}
    nset = {n.lower() for n in names}
    out = []
    for d in dets:
        if tset and (d.type or "").lower() not in tset:
            continue
        if stset and d.status.lower() not in stset:
            continue
        if sset and not sset & {s.lower() for s in d.stories()}:
            continue
        if mset and not any(i.upper() == m or i.upper().startswith(m + ".") for i in d.mitre_ids() for m in mset):
            continue
        if nset and d.name.lower() not in nset and d.id.lower() not in nset:
            continue
        out.append(d)
    return out


def select(
    dets: list[Detection], inv: Inventory, resolver: Resolver, probe: Callable[[str], bool | str]
) -> tuple[list[tuple[Detection, str]], list[tuple[Detection, str]], list[Detection]]:
    """(chosen with why, skipped with why, correlation detections for the second pass)."""
    chosen: list[tuple[Detection, str]] = []
    skipped: list[tuple[Detection, str]] = []
    correlation: list[Detection] = []
    for d in dets:
        if (d.type or "").lower() == "correlation":
            correlation.append(d)
            continue
        alts, unknown = resolver.alternatives(d)
        if alts:
            hit = next(
                (a for a in alts if all(inv.has(n.channel, n.sourcetype, n.codes) for n in a)), None
            )
            if hit is not None:
                chosen.append((d, "data source present: " + " AND ".join(n.name for n in hit)))
            else:
                names = sorted({n.name for a in alts for n in a})
                skipped.append((d, "data source absent: " + ", ".join(names)))
            continue
        ps = probe_search(d)
        why = (
            f"data source unknown ({', '.join(unknown)})" if unknown
            else "no data_source declared"
        )
        if ps is None:
            skipped.append((d, f"{why}; no input macro or data model to probe"))
            continue
        got = probe(ps)
        if got is True:
            chosen.append((d, f"{why}; probe found events: {ps.split(' | ')[0]}"))
        elif got is False:
            skipped.append((d, f"{why}; probe found no events: {ps.split(' | ')[0]}"))
        else:
            skipped.append((d, f"{why}; probe failed: {got}"))
    return chosen, skipped, correlation


def hunt(
    store: Store,
    content: Content,
    detections: list[Detection],
    *,
    progress: Callable[[DetectionStatus], None] | None = None,
    save: bool = True,
    timeout: float | None = None,
) -> HuntResult:
    """Select, run, and turn results into findings and per-entity risk (see module doc).

    `timeout` (seconds) bounds each detection: a search still running then is interrupted
    and the detection reported as failed ("timed out"), so one pathological search cannot
    stall a hunt."""
    with relaxed_gc():
        return _hunt(store, content, detections, progress, save, timeout)


def _failure(e: Exception, st: DetectionStatus, timeout: float | None, seconds: float) -> None:
    st.status = FAILED
    if timeout and seconds >= timeout * 0.99:
        st.reason = f"timed out after {timeout:g}s"
    elif isinstance(e, SplhuntError):
        st.reason = error_text(e)
    else:
        st.reason = f"internal error: {type(e).__name__}: {error_text(e)}"


@contextmanager
def _time_limit(timeout: float | None, interrupt: Callable[[], None]) -> Iterator[None]:
    """Call `interrupt` (a DuckDB connection's) if the block runs `timeout` seconds."""
    if not timeout:
        yield
        return
    timer = threading.Timer(timeout, interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _run_one(session: Any, d: Detection, st: DetectionStatus, timeout: float | None, found: list[Any]) -> DetectionStatus:
    """Plan, run and build the findings of one detection on the store's connection."""
    t1 = time.perf_counter()
    try:
        with _time_limit(timeout, session.store.con.interrupt):
            r = session.run_detection(d)
        st.results = len(r.result.rows)
        st.findings = len(r.findings)
        found.extend(r.findings)
    except Exception as e:  # an engine bug must not stop the hunt
        _failure(e, st, timeout, time.perf_counter() - t1)
    st.seconds = time.perf_counter() - t1
    return st


#: Queries that may run at once in a hunt (`_run_overlapped`), each on its own connection.
QUERY_THREADS = 2


#: Commands after which a `tstats` search no longer counts as light: they add rows
#: (`appendpipe`, `append`, `join`, `mvexpand`, time buckets of `timechart`) or keep
#: whole result sets per row (`eventstats`, `streamstats`, `transaction`).
_HEAVY = re.compile(
    r"\|\s*(?:appendpipe|append|appendcols|join|mvexpand|timechart|eventstats|streamstats|transaction|map)\b", re.I
)


def _light(session: Any, d: Detection) -> bool:
    """A search that may run beside another: `tstats` over a data model dataset (built
    once, a few hundred thousand rows at most for 1M events), aggregated, and then only
    commands that do not multiply rows (`_HEAVY`, looked for in the search with its macros
    expanded). Any other search may hold much of DuckDB's memory, so it runs alone."""
    text = d.search.lstrip()
    if not text.startswith("|") or not text[1:].lstrip().startswith("tstats"):
        return False
    try:
        text = session.macros.expand(text)
    except Exception:  # noqa: BLE001 - unexpandable: it will fail in its own run
        return False
    return _HEAVY.search(text) is None


def _out_of_memory(e: Exception) -> bool:
    return "Out of Memory" in str(e)


class _Job:
    """One detection's query, run by one of `_run_overlapped`'s threads."""

    __slots__ = ("d", "st", "plan", "light", "rows", "error", "seconds", "done")

    def __init__(self, d: Detection, st: DetectionStatus, plan: Any, light: bool):
        self.d, self.st, self.plan, self.light = d, st, plan, light
        self.rows: tuple[list[str], list[dict[str, Any]]] | None = None
        self.error: Exception | None = None
        self.seconds = 0.0
        self.done = threading.Event()
        if plan is None:  # failed while planned: nothing to run
            self.done.set()


def _run_overlapped(
    session: Any, workers: list[Any], dets: list[tuple[Detection, str]], phase: int, timeout: float | None,
    found: list[Any],
) -> Generator[DetectionStatus, None, None]:
    """Run the detections, their queries on `workers`' threads (one connection each) while
    this thread plans the next detections and builds the findings of those done.

    Planning and findings are Python (they hold the GIL); a query is DuckDB (it does not),
    so they overlap. `tstats` searches (`_light`) run up to one per worker at once; any
    other search runs alone, so its memory use is that of a plain loop. A light query that
    runs out of DuckDB's memory beside another is run again alone. Statuses come in the
    detections' order, with the results and findings the plain loop gives
    (`tests/runner/test_hunt_overlap.py`). A status's `seconds` is its own planning, query
    and findings time, which overlaps other detections' (their sum exceeds the wall time).
    The time limit applies to the query.
    """
    from collections import deque

    from splhunt.findings import build_findings

    todo: queue.Queue[_Job | None] = queue.Queue()

    def execute(worker: Any, job: _Job) -> None:
        t = time.perf_counter()
        try:
            with _time_limit(timeout, worker.interrupt):
                job.rows, job.error = worker.execute(job.plan), None
        except Exception as e:  # noqa: BLE001 - handed to the planning thread
            job.error = e
        job.seconds += time.perf_counter() - t

    def serve(worker: Any) -> None:
        while (job := todo.get()) is not None:
            execute(worker, job)
            job.done.set()

    threads = [threading.Thread(target=serve, args=(w,), name="splhunt-search", daemon=True) for w in workers]
    for th in threads:
        th.start()
    pending: deque[_Job] = deque()

    def finish() -> DetectionStatus:
        """The oldest pending detection's status, once its query is done."""
        job = pending.popleft()
        job.done.wait()
        st = job.st
        if job.plan is None:
            return st
        if job.error is not None and job.light and _out_of_memory(job.error):
            for other in pending:  # alone, as the plain loop would have run it
                other.done.wait()
            execute(workers[0], job)
        t = time.perf_counter()
        if job.error is not None:
            _failure(job.error, st, timeout, job.seconds)
        else:
            try:
                cols, rows = job.rows  # type: ignore[misc]
                fs = build_findings(job.d, rows, columns=cols)
                st.results, st.findings = len(rows), len(fs)
                found.extend(fs)
            except Exception as e:  # noqa: BLE001 - as in `_run_one`
                _failure(e, st, None, 0.0)
        st.seconds += job.seconds + time.perf_counter() - t
        return st

    def running() -> list[_Job]:
        return [j for j in pending if not j.done.is_set()]

    try:
        for d, why in dets:
            st = DetectionStatus(d, RUN, why, phase=phase)
            t = time.perf_counter()
            try:
                plan = session.plan(d.search)
            except Exception as e:  # noqa: BLE001 - a planning failure is the detection's
                _failure(e, st, None, 0.0)
                plan = None
            st.seconds = time.perf_counter() - t
            job = _Job(d, st, plan, plan is not None and _light(session, d))
            if plan is not None:
                # room for it: a heavy query runs alone, light ones up to one per worker
                while pending and (
                    not job.light
                    or len(run := running()) >= len(workers)
                    or any(not j.light for j in run)
                ):
                    yield finish()
                todo.put(job)
            pending.append(job)
            while pending and pending[0].done.is_set():  # findings while queries run
                yield finish()
        while pending:
            yield finish()
    finally:
        for _ in threads:
            todo.put(None)
        for th in threads:
            th.join()


def _hunt(
    store: Store,
    content: Content,
    detections: list[Detection],
    progress: Callable[[DetectionStatus], None] | None,
    save: bool,
    timeout: float | None,
) -> HuntResult:
    t0 = time.perf_counter()
    res = HuntResult(events=event_count(store))
    session = content.session(store)
    inv = Inventory.of(store)
    res.inventory = inv.describe()
    resolver = Resolver(content.lib)
    probes: dict[str, bool | str] = {}

    def probe(spl: str) -> bool | str:
        if spl not in probes:
            try:
                rows = session.search(spl).rows
                probes[spl] = bool(rows) and int(rows[0].get("count") or 0) > 0
            except SplhuntError as e:
                probes[spl] = error_text(e)
            except Exception as e:  # noqa: BLE001 - reported, never fatal
                probes[spl] = f"internal error: {type(e).__name__}: {error_text(e)}"
        return probes[spl]

    chosen, skipped, correlation = select(detections, inv, resolver, probe)
    for d, why in skipped:
        res.statuses.append(DetectionStatus(d, SKIPPED, why))

    def run(dets: list[tuple[Detection, str]], phase: int) -> list[Any]:
        found: list[Any] = []
        if dets:
            # the search-time view is built once per store version, outside any
            # detection's time limit (on large stores it takes longer than one search)
            # (with the data model datasets their `tstats` read, built once for all)
            t_view = time.perf_counter()
            session.prepare([d.search for d, _ in dets])
            res.view_seconds += time.perf_counter() - t_view
        workers = [session.engine.worker() for _ in range(QUERY_THREADS)] if hasattr(session.engine, "worker") else []
        workers = [w for w in workers if w is not None]
        t_runs = time.perf_counter()
        if workers:
            statuses = _run_overlapped(session, workers, dets, phase, timeout, found)
        else:
            statuses = (_run_one(session, d, DetectionStatus(d, RUN, why, phase=phase), timeout, found)
                        for d, why in dets)
        try:
            for st in statuses:
                res.statuses.append(st)
                if progress is not None:
                    progress(st)
        finally:
            statuses.close()  # stops the query threads before their connections close
            for w in workers:
                w.close()
        res.search_seconds += time.perf_counter() - t_runs
        return found

    f1 = run(chosen, 1)
    r1 = risk_rows(f1)
    if save:
        save_hunt(store, [d.id for d, _ in chosen], f1, r1)
    res.findings.extend(f1)
    res.risk.extend(r1)

    if correlation:
        have_risk = save and (bool(r1) or Inventory.of(store).risk_events > 0)
        if have_risk:
            f2 = run([(d, "correlation: risk events present") for d in correlation], 2)
            # ES risk incident rules raise notables, not risk: no risk events from them
            save_hunt(store, [d.id for d in correlation], f2, [])
            res.findings.extend(f2)
        else:
            for d in correlation:
                res.statuses.append(DetectionStatus(d, SKIPPED, "correlation: no risk events in the store", phase=2))
    res.entities = aggregate(res.risk)
    res.seconds = time.perf_counter() - t0
    return res
