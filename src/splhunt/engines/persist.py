"""A persistent event store: one DuckDB file holding events, findings and risk.

`open_store(path)` opens (or creates) the file; `ingest_incremental` adds log files to
it so that:

* a file already in the store is recognised by the sha256 of its bytes and not read
  again (whatever its path: two copies of one file are read once);
* every file's events are written in one transaction together with its row in the
  registry table `_files`, so an interrupted ingest (an exception, Ctrl-C, a killed
  process) leaves the store as it was after the last committed file: nothing
  half-written, nothing duplicated. Re-running the same ingest then reads exactly the
  files that are missing and the store equals one clean run.

Files are grouped into transactions of at most `chunk_bytes` (a file larger than that is
alone in its transaction) so the ingest layer can parse a group in parallel; each group
commits with the `_files` rows of all its files. `chunk_bytes=0` commits file by file.

Tables besides `events` / `_fields` (see `splhunt.engines.store`):

* `_files(sha256 PK, path, size, events, skipped, source, sourcetype, ingested_at)`
* `findings(id PK, detection_id, detection_name, ..., json)` - one row per finding;
* `risk(finding_id, risk_object, ...)` - one row per (finding, risk object), the ES
  risk event; the same events are also written to `events` with `index=risk`,
  `sourcetype=stash` so `| from datamodel Risk.All_Risk` (constraint `index=risk`)
  and `| tstats ... from datamodel=Risk` read them, as in Enterprise Security.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splhunt.engines.store import Store, _qi
from splhunt.ingest.winxml import _minute_epoch

#: index / sourcetype of the risk events written into `events` (ES writes the same).
RISK_INDEX = "risk"
RISK_SOURCETYPE = "stash"

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS _meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS _files (
        sha256 VARCHAR PRIMARY KEY, path VARCHAR, size BIGINT, events BIGINT, skipped BIGINT,
        source VARCHAR, sourcetype VARCHAR, ingested_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS findings (
        id VARCHAR PRIMARY KEY, detection_id VARCHAR, detection_name VARCHAR,
        detection_type VARCHAR, time DOUBLE, risk_score DOUBLE, severity VARCHAR,
        message VARCHAR, json VARCHAR, hunted_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS risk (
        finding_id VARCHAR, detection_id VARCHAR, detection_name VARCHAR, search_name VARCHAR,
        time DOUBLE, first_seen DOUBLE, last_seen DOUBLE,
        risk_object VARCHAR, risk_object_type VARCHAR, risk_object_field VARCHAR,
        normalized_risk_object VARCHAR, risk_score DOUBLE, risk_message VARCHAR,
        mitre_techniques VARCHAR[], mitre_tactics VARCHAR[], analytic_stories VARCHAR[],
        threat_objects VARCHAR[], threat_object_types VARCHAR[])""",
]


def ensure_schema(store: Store) -> Store:
    for ddl in SCHEMA:
        store.con.execute(ddl)
    return store


def open_store(path: str | os.PathLike[str] | None) -> Store:
    """The store in file `path` (created when absent), or an in-memory one for None."""
    if path is None:
        return ensure_schema(Store())
    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    return ensure_schema(Store(str(p)))


def set_meta(store: Store, key: str, value: str) -> None:
    ensure_schema(store)
    store.con.execute("INSERT OR REPLACE INTO _meta VALUES (?, ?)", [key, value])


def get_meta(store: Store, key: str) -> str | None:
    ensure_schema(store)
    rows = store.con.execute("SELECT value FROM _meta WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def reload_registry(store: Store) -> None:
    """Re-read the field registry from `_fields` (after a rollback undid added columns)."""
    store._reload_fields()


def file_sha256(path: str | os.PathLike[str], bufsize: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(bufsize):
            h.update(chunk)
    return h.hexdigest()


def known_hashes(store: Store) -> dict[str, str]:
    """sha256 -> path of every file in the store."""
    ensure_schema(store)
    return dict(store.con.execute("SELECT sha256, path FROM _files").fetchall())


def event_count(store: Store) -> int:
    """Events read from logs (risk events written by hunts are not counted)."""
    if "index" not in store.fields:
        return store.count()
    col = _qi(store.fields["index"].col)
    return int(
        store.con.execute(
            f"SELECT count(*) FROM events WHERE {col} IS DISTINCT FROM ?", [RISK_INDEX]
        ).fetchall()[0][0]
    )


# --------------------------------------------------------------------------- ingest


def _skip_by_name(path: str) -> bool:
    try:
        from splhunt.ingest.detect import skip_by_name
    except ImportError:  # pragma: no cover - ingest layer absent
        return False
    return skip_by_name(path)


def input_files(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[str, bool]]:
    """(file, named explicitly) for every regular file under `paths`, directories sorted."""
    out: list[tuple[str, bool]] = []
    for p in paths:
        s = str(p)
        if os.path.isdir(s):
            for root, dirs, files in os.walk(s):
                dirs.sort()
                out.extend((os.path.join(root, f), False) for f in sorted(files))
        else:
            out.append((s, True))
    return out


@dataclass
class PersistReport:
    """What `ingest_incremental` did; `report` is the merged `IngestReport` of the files read."""

    report: Any = None
    files_new: list[str] = field(default_factory=list)
    files_known: list[tuple[str, str]] = field(default_factory=list)
    """(path, path it was first ingested from) of files whose bytes were already stored."""
    files_not_log: list[str] = field(default_factory=list)
    files_failed: list[tuple[str, str]] = field(default_factory=list)
    transactions: int = 0

    def summary(self) -> str:
        parts = []
        if self.report is not None and self.files_new:
            parts.append(self.report.summary())
        else:
            parts.append("No new file read.")
        if self.files_known:
            parts.append(
                f" {len(self.files_known)} file(s) already in the store (same sha256), not read again."
            )
        if self.files_not_log:
            parts.append(f" {len(self.files_not_log)} non-log file(s) skipped by name.")
        if self.files_failed:
            first = self.files_failed[0]
            parts.append(
                f" {len(self.files_failed)} file group(s) rolled back on error; first: {first[0]}: {first[1]}"
            )
        return "".join(parts)


def _chunks(items: list[tuple[str, str, int]], budget: int) -> list[list[tuple[str, str, int]]]:
    out: list[list[tuple[str, str, int]]] = []
    cur: list[tuple[str, str, int]] = []
    size = 0
    for it in items:
        if cur and (budget <= 0 or size + it[2] > budget):
            out.append(cur)
            cur, size = [], 0
        cur.append(it)
        size += it[2]
    if cur:
        out.append(cur)
    return out


def ingest_incremental(
    paths: Iterable[str | os.PathLike[str]],
    store: Store,
    *,
    source: str | None = None,
    sourcetype: str | None = None,
    index: str = "main",
    host: str | None = None,
    batch_size: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
    chunk_bytes: int = 64 << 20,
    workers: int | None = None,
    after_commit: Callable[[list[str]], None] | None = None,
) -> PersistReport:
    """Add the files under `paths` that the store does not hold yet (see module doc).

    `after_commit(files)` is called after each committed transaction (tests use it to
    interrupt a run at a known point).
    """
    from splhunt.ingest import IngestReport, ingest_paths

    ensure_schema(store)
    rep = PersistReport(report=IngestReport())
    known = known_hashes(store)
    todo: list[tuple[str, str, int]] = []
    seen_now: dict[str, str] = {}
    for f, explicit in input_files(paths):
        if not explicit and _skip_by_name(f):
            rep.files_not_log.append(f)
            continue
        try:
            digest = file_sha256(f)
            size = os.path.getsize(f)
        except OSError as e:
            rep.files_failed.append((f, f"cannot read: {e.strerror or e}"))
            continue
        first = known.get(digest) or seen_now.get(digest)
        if first is not None:
            rep.files_known.append((f, first))
            continue
        seen_now[digest] = f
        todo.append((f, digest, size))
    total = sum(s for _, _, s in todo)
    done = 0
    con = store.con
    for group in _chunks(todo, chunk_bytes):
        names = [f for f, _, _ in group]
        gsize = sum(s for _, _, s in group)
        base = done

        def prog(d: int, _t: int, base: int = base) -> None:
            if progress is not None:
                progress(base + d, total)

        con.execute("BEGIN TRANSACTION")
        try:
            r = ingest_paths(
                names, store, source=source, sourcetype=sourcetype, index=index, host=host,
                batch_size=batch_size, progress=prog, **({"workers": workers} if workers else {}),
            )
            now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
            for f, digest, size in group:
                st = r.per_file.get(f)
                con.execute(
                    "INSERT INTO _files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [digest, os.path.abspath(f), size, st.read if st else 0,
                     st.skipped if st else 0, source, sourcetype, now],
                )
            con.execute("COMMIT")
        except BaseException as e:
            con.execute("ROLLBACK")
            reload_registry(store)
            if not isinstance(e, Exception):
                raise
            rep.files_failed.append((", ".join(names), f"{type(e).__name__}: {e}"))
            done = base + gsize
            continue
        store.version += 1
        rep.report.merge(r)
        rep.report.seconds += r.seconds
        rep.report.bytes_total += r.bytes_total
        rep.files_new.extend(names)
        rep.transactions += 1
        done = base + gsize
        if after_commit is not None:
            after_commit(names)
    if store.path:
        con.execute("CHECKPOINT")
    return rep


# --------------------------------------------------------------------------- findings, risk


#: The two text forms findings carry: ISO (``2024-01-05T10:00:00[.ffffff]``) and
#: ``security_content_ctime``'s ``%m/%d/%Y %H:%M:%S``.
_ISO_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?", re.ASCII)
_US_TIME = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?", re.ASCII)


def _fast_epoch(s: str) -> float | None:
    """`_epoch` of the two common text forms without ``strptime`` (~1 us, not ~20 us per
    value: a hunt converts three times per finding). None when `s` is not one of them or
    is out of range; `_epoch` then takes the slow path, which gives the same value."""
    m = _ISO_TIME.fullmatch(s)
    if m is not None:
        minute, ss, frac = s[:16], m.group(6), m.group(7)
    else:
        m = _US_TIME.fullmatch(s)
        if m is None:
            return None
        mo, d, y, hh, mm, ss, frac = m.groups()
        minute = f"{y}-{int(mo):02d}-{int(d):02d} {hh}:{mm}"
    base = _minute_epoch(minute)  # checks the date, the hour and the minute; cached
    if base is None or int(ss) > 59:
        return None
    whole = base + int(ss)
    if not frac:
        return float(whole)
    # datetime.timestamp() divides the microseconds exactly: so does this
    return (whole * 1_000_000 + int(frac.ljust(6, "0"))) / 1_000_000


def _epoch(v: Any) -> float | None:
    """A finding time as epoch seconds: numbers as they are, ISO / US date text parsed."""
    if v is None or v == "":
        return None
    if isinstance(v, list):
        v = v[0] if v else None
        return _epoch(v)
    if isinstance(v, (int, float)):
        return float(v)
    s = str(v).strip()
    got = _fast_epoch(s)
    if got is not None:
        return got
    try:
        return float(s)
    except ValueError:
        pass
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f", "%m/%d/%Y %H:%M:%S.%f"):
        try:
            return _dt.datetime.strptime(s, fmt).replace(tzinfo=_dt.UTC).timestamp()
        except ValueError:
            continue
    try:
        d = _dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.UTC)
    return d.timestamp()


def finding_times(f: Any) -> tuple[float | None, float | None]:
    """(first, last) seen of a finding: firstTime/lastTime, else its time."""
    t = _epoch(f.time)
    first = _epoch(f.first_time)
    last = _epoch(f.last_time)
    first = first if first is not None else t if t is not None else last
    last = last if last is not None else t if t is not None else first
    return first, last


def _kv_raw(ev: Mapping[str, Any]) -> str:
    parts = []
    for k, v in ev.items():
        if k.startswith("_") or v is None:
            continue
        vals = v if isinstance(v, list) else [v]
        for x in vals:
            parts.append(f'{k}="{str(x).replace(chr(34), chr(92) + chr(34))}"')
    return ", ".join(parts)


def save_hunt(
    store: Store,
    detection_ids: Iterable[str],
    findings: list[Any],
    risk_rows: list[dict[str, Any]],
) -> None:
    """Replace the findings and risk of `detection_ids` with these, in one transaction.

    Findings of other detections (an earlier hunt with other filters) are kept, so
    hunts accumulate; a finding id is stable, so re-running a detection over the same
    events rewrites the same rows instead of adding duplicates. `risk_rows` are
    `splhunt.runner.risk` rows (ES risk events with tactics).
    """
    ensure_schema(store)
    ids = sorted(set(detection_ids))
    con = store.con
    now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        if ids:
            con.execute("CREATE OR REPLACE TEMP TABLE _hunt_ids (id VARCHAR)")
            con.executemany("INSERT INTO _hunt_ids VALUES (?)", [[i] for i in ids])
            con.execute("DELETE FROM findings WHERE detection_id IN (SELECT id FROM _hunt_ids)")
            con.execute("DELETE FROM risk WHERE detection_id IN (SELECT id FROM _hunt_ids)")
            fi = store.fields
            if "detection_id" in fi and "index" in fi:
                con.execute(
                    f"DELETE FROM events WHERE {_qi(fi['index'].col)} = ? AND "
                    f"{_qi(fi['sourcetype'].col)} = ? AND "
                    f"{_qi(fi['detection_id'].col)} IN (SELECT id FROM _hunt_ids)",
                    [RISK_INDEX, RISK_SOURCETYPE],
                )
            con.execute("DROP TABLE _hunt_ids")
        seen: set[str] = set()
        frows = []
        for f in findings:
            if f.id in seen:
                continue
            seen.add(f.id)
            first, _last = finding_times(f)
            frows.append([
                f.id, f.detection_id, f.detection_name, f.detection_type, first,
                float(f.risk_score), f.severity, f.message, f.model_dump_json(), now,
            ])
        if frows:
            con.executemany(
                "INSERT OR REPLACE INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", frows
            )
        rrows = []
        events = []
        seen_r: set[tuple[str, str, str]] = set()
        for r in risk_rows:
            key = (r["finding_id"], r["risk_object_field"], r["risk_object"])
            if key in seen_r:
                continue
            seen_r.add(key)
            rrows.append([
                r["finding_id"], r["detection_id"], r["detection_name"], r["search_name"],
                r["_time"], r.get("first_seen"), r.get("last_seen"), r["risk_object"], r["risk_object_type"], r["risk_object_field"],
                r["normalized_risk_object"], float(r["risk_score"]), r["risk_message"],
                r["annotations.mitre_attack"], r["annotations.mitre_attack.mitre_tactic"],
                r["analyticstories"], r["threat_object"], r["threat_object_type"],
            ])
            ev = {k: v for k, v in r.items() if v is not None and v != [] and k not in ("first_seen", "last_seen")}
            ev["index"] = RISK_INDEX
            ev["sourcetype"] = RISK_SOURCETYPE
            ev["host"] = "splhunt"
            ev["_raw"] = _kv_raw(ev)
            events.append(ev)
        if rrows:
            con.executemany(
                "INSERT INTO risk VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rrows
            )
        if events:
            store.append(events)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        reload_registry(store)
        raise
    store.version += 1


def load_finding(store: Store, finding_id: str) -> dict[str, Any] | None:
    """A stored finding as its JSON dict, by id or unique id prefix."""
    ensure_schema(store)
    rows = store.con.execute(
        "SELECT json FROM findings WHERE id = ? OR starts_with(id, ?) ORDER BY id LIMIT 2",
        [finding_id, finding_id],
    ).fetchall()
    exact = [r for r in rows if json.loads(r[0])["id"] == finding_id]
    if exact:
        return json.loads(exact[0][0])
    if len(rows) == 1:
        return json.loads(rows[0][0])
    return None
