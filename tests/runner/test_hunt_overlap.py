"""A hunt runs each detection's query on a second connection while it plans the next
detection and builds the previous one's findings (`hunt._run_overlapped`). It must give
what the plain loop gives: the same statuses in the same order, the same findings."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from splhunt.engines.duckdb import DuckDBEngine, Worker
from splhunt.engines.persist import ingest_incremental, open_store
from splhunt.runner.common import Content
from splhunt.runner.hunt import filter_detections, hunt


def _hunt(content_dir: Path, logs: Path, overlapped: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        if not overlapped:
            m.setattr(DuckDBEngine, "worker", lambda self: None)
        calls = {"n": 0}
        real = Worker.execute

        def counting(self: Worker, plan: Any) -> Any:
            calls["n"] += 1
            return real(self, plan)

        m.setattr(Worker, "execute", counting)
        st = open_store(None)
        ingest_incremental([logs], st)
        content = Content.load(content_dir)
        res = hunt(st, content, filter_detections(content.lib.detections.values()), save=False)
        st.close()
    assert (calls["n"] > 0) == overlapped  # the path under test was the one taken
    return res


def _statuses(res: Any) -> list[tuple[Any, ...]]:
    return [(s.detection.name, s.status, s.reason, s.results, s.findings, s.phase) for s in res.statuses]


def _findings(res: Any) -> list[Any]:
    return [f.model_dump(mode="json") for f in res.findings]


@pytest.fixture()
def logs(sample_log: Path, tmp_path: Path) -> Path:
    d = tmp_path / "logs"
    d.mkdir()
    shutil.copyfile(sample_log, d / "sysmon.xml.log")
    return d


def test_overlapped_hunt_equals_the_plain_loop(content_dir: Path, logs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _hunt(content_dir, logs, False, monkeypatch)
    fast = _hunt(content_dir, logs, True, monkeypatch)
    assert _statuses(fast) == _statuses(plain)
    assert _findings(fast) == _findings(plain)
    assert sum(s.findings for s in fast.statuses) > 0  # something was found, and compared
    assert {s.status for s in fast.statuses} >= {"run", "failed"}
    assert fast.search_seconds > 0


def test_planning_failures_keep_their_place(content_dir: Path, logs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A detection that fails while it is planned is reported in its place, between
    detections whose queries ran on the other thread."""
    from splhunt.api import Session

    real = Session.plan
    failing = {"Fixture Devtunnels Image Loaded"}
    content = Content.load(content_dir)
    bad = {d.search for d in content.lib.detections.values() if d.name in failing}
    assert bad

    def plan(self: Session, spl: str) -> Any:
        if spl in bad:
            raise RuntimeError("planner exploded")
        return real(self, spl)

    monkeypatch.setattr(Session, "plan", plan)
    plain = _hunt(content_dir, logs, False, monkeypatch)
    fast = _hunt(content_dir, logs, True, monkeypatch)
    assert _statuses(fast) == _statuses(plain)
    (bad,) = [s for s in fast.statuses if s.detection.name in failing]
    assert bad.status == "failed" and "planner exploded" in bad.reason



def test_engine_work_waits_for_a_running_query() -> None:
    """The engine builds no table while a `Worker` runs a plan: both hold its lock."""
    import threading

    st = open_store(None)
    eng = DuckDBEngine(st)
    w = eng.worker()
    assert w is not None
    order: list[str] = []
    entered = threading.Event()

    def slow(plan: Any, con: Any = None) -> Any:
        entered.set()
        order.append("query start")
        con.execute("SELECT count(*) FROM range(3000000) a, range(20) b").fetchall()
        order.append("query end")
        return [], []

    eng.execute = slow  # type: ignore[method-assign]
    t = threading.Thread(target=w.execute, args=(None,))
    t.start()
    entered.wait()
    import pyarrow as pa

    eng.register_table("t_lock", pa.table({"a": [1]}))
    order.append("table built")
    t.join()
    assert order == ["query start", "query end", "table built"]
    w.close()


def test_no_worker_inside_a_transaction() -> None:
    """A second connection would not see the work of an open transaction: no overlap then."""
    st = open_store(None)
    eng = DuckDBEngine(st)
    st.con.execute("BEGIN TRANSACTION")
    assert eng.worker() is None
    st.con.execute("ROLLBACK")
    w = eng.worker()
    assert w is not None
    w.close()


def test_only_tstats_searches_share_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """`tstats` searches run up to one per worker at once; any other search runs alone.
    Statuses come back in the detections' order whatever order the queries end in."""
    import importlib
    import threading
    import time
    from types import SimpleNamespace

    import splhunt.findings as findings_mod

    hunt_mod = importlib.import_module("splhunt.runner.hunt")  # the package re-exports `hunt()`

    monkeypatch.setattr(findings_mod, "build_findings", lambda d, rows, columns=None: [])
    lock = threading.Lock()
    now: list[str] = []
    seen: list[tuple[str, ...]] = []

    two = threading.Event()  # set once two queries have run at once

    class FakeWorker:
        def execute(self, plan: str) -> Any:
            with lock:
                now.append(plan)
                seen.append(tuple(sorted(now)))
                if len(now) == 2:
                    two.set()
            if plan == "tt0":  # the first query waits for a second one to start beside it
                two.wait(5)
            time.sleep(0.005)
            with lock:
                now.remove(plan)
            return ["x"], [{"x": plan}]

        def interrupt(self) -> None:
            pass

    # t: tstats, light; T: tstats then appendpipe (in a macro), heavy; H: not tstats, heavy
    kinds = "tttHttTHHtttt"
    spl = {"t": "| tstats count by host", "T": "| tstats count by host | `fill`", "H": "index=x"}
    dets = [SimpleNamespace(name=f"{k}{i}", search=f"{spl[k]} | eval n={i}") for i, k in enumerate(kinds)]
    names = {d.search: d.name for d in dets}
    session = SimpleNamespace(
        plan=lambda text: "t" + names[text] if names[text].startswith("t") else "H" + names[text],
        macros=SimpleNamespace(expand=lambda text: text.replace("`fill`", "appendpipe [| timechart count]")),
    )
    out = list(hunt_mod._run_overlapped(session, [FakeWorker(), FakeWorker()], [(d, "") for d in dets], 1, None, []))
    assert [s.detection.name for s in out] == [d.name for d in dets]
    assert all(s.status == "run" and s.results == 1 for s in out)
    assert max(len(s) for s in seen) == 2  # tstats searches did run side by side
    assert all(len(s) == 1 for s in seen if any(p.startswith("H") for p in s))  # the others alone
