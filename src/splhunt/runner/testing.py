"""`splhunt test`: run ESCU detections' unit tests the way contentctl does, without Splunk.

For each detection and each entry of its `tests`:

1. every `attack_data` file is found locally: the part of its URL after `/datasets/`
   under `ATTACK_DATA/datasets/` (a splunk/attack_data checkout or mirror), or under
   `ATTACK_DATA/` itself when it is the datasets root; a local path is taken as is;
2. the files are ingested into a fresh store with the entry's `source` and
   `sourcetype` (as contentctl replays them through HEC with those values);
3. the detection's search runs over all time;
4. the result is judged by contentctl's rule (`judge`).

A test whose data is not all present locally is `skipped` ("data missing"), never
passed; a detection whose search the engine refuses (parse, macro, compile or
execution error) is `error` with the message. Stores are cached per
(file, source, sourcetype) for the run, so a dataset shared by several tests is read
once; tests are run grouped by dataset so the cache stays small.
"""

from __future__ import annotations

import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from splhunt.content import Detection, load_detection
from splhunt.engines.store import MV, Store
from splhunt.errors import SplhuntError
from splhunt.runner.common import Content, error_text

PASS = "pass"
FAIL = "fail"
SKIP = "skipped"
ERROR = "error"

DataKey = tuple[str, str | None, str | None]


@dataclass
class TestOutcome:
    """One detection test's result. `status` is pass, fail, skipped or error."""

    __test__ = False  # not a pytest class

    detection: str
    test: str
    status: str
    results: int = 0
    reason: str = ""
    data: list[str] = field(default_factory=list)
    file: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "detection": self.detection,
            "test": self.test,
            "status": self.status,
            "results": self.results,
            "reason": self.reason,
        }


# --------------------------------------------------------------------------- judging


def _null(v: Any) -> bool:
    """contentctl reads `result.get(field, 'null') == 'null'`; Splunk's JSON results leave
    null fields out, so a missing key, None, an empty list and the text "null" are null."""
    if v is None:
        return True
    if isinstance(v, (list, tuple)):
        return all(_null(x) for x in v)
    return isinstance(v, str) and v == "null"


def risk_and_threat_fields(det: Detection) -> tuple[list[str], list[str]]:
    """The result fields contentctl checks: risk-object fields and threat-object fields.

    ESCU 4.x (`tags.observable`): risk objects are observables whose role includes
    "Victim", threat objects those whose role includes "Attacker" (contentctl 4's
    `risk_object_fields_set` / `threat_object_fields_set`). `rba:` and
    `intermediate_findings:` forms: the declared risk and threat objects.
    """
    spec = det.risk()
    if spec.form == "tags":
        risk = [o.name for o in det.tags.observable if any(r.lower() == "victim" for r in o.role)]
        threat = [o.name for o in det.tags.observable if any(r.lower() == "attacker" for r in o.role)]
    else:
        risk = [o.field for o in spec.risk_objects]
        threat = [t.field for t in spec.threat_objects]
    return list(dict.fromkeys(risk)), list(dict.fromkeys(threat))


def judge(det: Detection, rows: list[dict[str, Any]]) -> tuple[str, str]:
    """(status, reason) of a detection's test results, by contentctl's rule:

    * no result: fail;
    * results are read in order; a result lacking a risk-object field (absent, null or
      "null") fails the test at once;
    * the first result in which every threat-object field is non-null passes the test;
    * when no result has all its threat-object fields, the test passes only if each
      threat-object field is non-null in at least one result.
    """
    if not rows:
        return FAIL, "no results"
    risk, threat = risk_and_threat_fields(det)
    present_threat: set[str] = set()
    for row in rows:
        missing = [f for f in risk if _null(row.get(f))]
        if missing:
            return FAIL, (
                f"risk object field(s) {', '.join(missing)} missing or null in at least one result"
            )
        empty = {f for f in threat if _null(row.get(f))}
        present_threat |= set(threat) - empty
        if not empty:
            return PASS, ""
    absent = [f for f in threat if f not in present_threat]
    if absent:
        return FAIL, f"threat object field(s) {', '.join(absent)} null in every result"
    return PASS, ""


# --------------------------------------------------------------------------- data


def dataset_relpath(url: str) -> str | None:
    """The path after `/datasets/` in an attack_data URL (None when there is none)."""
    path = urllib.parse.urlsplit(url).path if "://" in url else url.replace("\\", "/")
    if "/datasets/" in path:
        return urllib.parse.unquote(path.split("/datasets/", 1)[1])
    if path.startswith("datasets/"):
        return urllib.parse.unquote(path[len("datasets/"):])
    return None


def resolve_data(data: str, root: Path | None) -> Path | None:
    """The local file of one `attack_data.data` entry, or None when absent."""
    cands: list[Path] = []
    rel = dataset_relpath(data)
    if root is not None and rel:
        cands += [root / "datasets" / rel, root / rel]
    if "://" not in data:
        p = Path(data)
        cands.append(p)
        if root is not None and not p.is_absolute():
            cands.append(root / p)
    for c in cands:
        if c.is_file():
            return c
    return None


class StoreCache:
    """Ingested stores, one per (file, source, sourcetype), and sessions per data set,
    kept for the run with at most `size` entries each (least recently used dropped)."""

    def __init__(self, content: Content, size: int = 8, ingest: Callable[..., Any] | None = None):
        self.content = content
        self.size = size
        self.files: OrderedDict[DataKey, tuple[Store, Any]] = OrderedDict()
        self.sessions: OrderedDict[tuple[DataKey, ...], Any] = OrderedDict()
        self.reads = 0
        self._ingest = ingest

    def _lru(self, d: OrderedDict, key: Any, make: Callable[[], Any]) -> Any:
        if key in d:
            d.move_to_end(key)
            return d[key]
        val = make()
        d[key] = val
        while len(d) > self.size:
            d.popitem(last=False)  # in-memory DuckDB: freed with its last reference
        return val

    def file_store(self, key: DataKey) -> tuple[Store, Any]:
        def make() -> tuple[Store, Any]:
            ingest = self._ingest
            if ingest is None:
                from splhunt.ingest import ingest_paths as ingest
            st = Store()
            rep = ingest([Path(key[0])], st, source=key[1], sourcetype=key[2])
            self.reads += 1
            return st, rep

        return self._lru(self.files, key, make)

    def session(self, keys: tuple[DataKey, ...]) -> Any:
        def make() -> Any:
            if len(keys) == 1:
                st, _ = self.file_store(keys[0])
            else:
                st = Store()
                for k in keys:
                    copy_events(self.file_store(k)[0], st)
            return self.content.session(st)

        return self._lru(self.sessions, keys, make)


def copy_events(src: Store, dst: Store) -> int:
    """Append every event of `src` to `dst` (fields by name; multivalue kept)."""
    fields = src.fields
    if not fields:
        return 0
    cols = ", ".join('"' + fc.col.replace('"', '""') + '"' for fc in fields.values())
    tbl = src.con.execute(f"SELECT {cols} FROM events").arrow()
    if hasattr(tbl, "read_all"):
        tbl = tbl.read_all()
    columns = {f: tbl.column(i).to_pylist() for i, f in enumerate(fields)}
    mv = {f for f, fc in fields.items() if fc.kind == MV}
    return dst.append_columns(columns, tbl.num_rows, mv)


# --------------------------------------------------------------------------- running


def load_detections(paths: Iterable[str | Path]) -> tuple[list[Detection], list[TestOutcome]]:
    """Detections from files and folders (recursively); files that fail to load are
    returned as `error` outcomes."""
    dets: list[Detection] = []
    errors: list[TestOutcome] = []
    for p in map(Path, paths):
        files = (
            sorted(f for f in p.rglob("*") if f.suffix.lower() in (".yml", ".yaml") and f.is_file())
            if p.is_dir()
            else [p]
        )
        for f in files:
            try:
                dets.append(load_detection(f))
            except SplhuntError as e:
                errors.append(TestOutcome(f.stem, "", ERROR, reason=error_text(e), file=str(f)))
    return dets, errors


def run_tests(
    detections: list[Detection],
    attack_data: Path | None,
    content: Content,
    *,
    progress: Callable[[TestOutcome], None] | None = None,
    cache_size: int = 8,
    cache: StoreCache | None = None,
) -> list[TestOutcome]:
    """Every test of every detection (see module doc), in detection order."""
    cache = cache if cache is not None else StoreCache(content, cache_size)
    planned: list[tuple[int, Detection, Any, tuple[DataKey, ...] | None, str]] = []
    outcomes: dict[int, TestOutcome] = {}
    n = 0
    for det in detections:
        if not det.tests:
            outcomes[n] = TestOutcome(det.name, "", SKIP, reason="no tests", file=_f(det))
            n += 1
            continue
        for t in det.tests:
            keys: list[DataKey] = []
            missing: list[str] = []
            for ad in t.attack_data:
                p = resolve_data(ad.data, attack_data)
                if p is None:
                    missing.append(ad.data)
                else:
                    keys.append((str(p), ad.source, ad.sourcetype))
            if not t.attack_data:
                outcomes[n] = TestOutcome(det.name, t.name, SKIP, reason="no attack_data", file=_f(det))
            elif missing:
                outcomes[n] = TestOutcome(
                    det.name, t.name, SKIP, reason="data missing: " + ", ".join(missing),
                    data=[k[0] for k in keys], file=_f(det),
                )
            else:
                planned.append((n, det, t, tuple(keys), ""))
            n += 1
    # grouped by data set so the LRU cache holds what the next tests read
    for i, det, t, keys, _ in sorted(planned, key=lambda x: (x[3], x[0])):
        t0 = time.perf_counter()
        assert keys is not None
        out = TestOutcome(det.name, t.name, ERROR, data=[k[0] for k in keys], file=_f(det))
        try:
            s = cache.session(keys)
            res = s.search(det.search)
            out.results = len(res.rows)
            out.status, out.reason = judge(det, res.rows)
        except SplhuntError as e:
            out.status, out.reason = ERROR, error_text(e)
        except Exception as e:  # an engine bug must not stop the other tests
            out.status, out.reason = ERROR, f"internal error: {type(e).__name__}: {error_text(e)}"
        out.seconds = time.perf_counter() - t0
        outcomes[i] = out
        if progress is not None:
            progress(out)
    return [outcomes[i] for i in sorted(outcomes)]


def _f(det: Detection) -> str | None:
    return str(det.path) if det.path is not None else None


# --------------------------------------------------------------------------- reports


def counts(outcomes: Iterable[TestOutcome]) -> dict[str, int]:
    c = {PASS: 0, FAIL: 0, SKIP: 0, ERROR: 0}
    for o in outcomes:
        c[o.status] = c.get(o.status, 0) + 1
    return c


def junit_xml(outcomes: list[TestOutcome], name: str = "splhunt test") -> str:
    """JUnit XML: one <testcase> per detection test (classname = detection)."""
    c = counts(outcomes)
    total_time = sum(o.seconds for o in outcomes)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<testsuites tests={quoteattr(str(len(outcomes)))} failures={quoteattr(str(c[FAIL]))} "
        f"errors={quoteattr(str(c[ERROR]))} skipped={quoteattr(str(c[SKIP]))}>",
        f"  <testsuite name={quoteattr(name)} tests={quoteattr(str(len(outcomes)))} "
        f"failures={quoteattr(str(c[FAIL]))} errors={quoteattr(str(c[ERROR]))} "
        f"skipped={quoteattr(str(c[SKIP]))} time={quoteattr(f'{total_time:.3f}')}>",
    ]
    for o in outcomes:
        attrs = (
            f"classname={quoteattr(o.detection)} name={quoteattr(o.test or '(no test)')} "
            f"time={quoteattr(f'{o.seconds:.3f}')}"
        )
        if o.status == PASS:
            lines.append(f"    <testcase {attrs}/>")
            continue
        lines.append(f"    <testcase {attrs}>")
        tag = {FAIL: "failure", ERROR: "error", SKIP: "skipped"}[o.status]
        lines.append(f"      <{tag} message={quoteattr(o.reason)}/>")
        if o.status != SKIP:
            lines.append(f"      <system-out>{_esc(f'results: {o.results}')}</system-out>")
        lines.append("    </testcase>")
    lines += ["  </testsuite>", "</testsuites>"]
    return "\n".join(lines) + "\n"


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
