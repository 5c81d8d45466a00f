"""The columnar batch and the store's bulk paths give the rows the per-event path gave.

`Batch` groups events by shape and builds Arrow columns; `Store.append_columns` takes
them as they are, and adds the new columns of a batch at once (recreating `events`
while it is empty). These tests compare both with the straightforward reference: one
event dict at a time into column lists (the former `Batch`), appended as Python lists.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from splhunt.engines.store import Store
from splhunt.ingest import IngestReport, ingest_paths, read_events
from splhunt.ingest.pipeline import Batch


def reference_columns(events: list[dict[str, Any]]) -> tuple[dict[str, list[Any]], int, set[str]]:
    """Column lists of `events`, one event at a time (missing values None)."""
    cols: dict[str, list[Any]] = {}
    mv: set[str] = set()
    for i, ev in enumerate(events):
        for k, v in ev.items():
            cols.setdefault(k, [None] * i).append(v)
            if isinstance(v, list):
                mv.add(k)
        for col in cols.values():
            if len(col) < i + 1:
                col.append(None)
    return cols, len(events), mv


def as_store_values(values: list[Any], mv: bool) -> list[Any]:
    """What the store holds for these values (multivalue columns hold lists)."""
    if not mv:
        return values
    return [None if v is None else v if isinstance(v, list) else [v] for v in values]


def _taken(batch: Batch, events: list[dict[str, Any]]) -> tuple[dict[str, Any], int, set[str], dict[str, list[Any]]]:
    """`batch.take()` after adding `events`, its count and multivalue fields checked
    against the reference; with the reference columns."""
    for ev in events:
        batch.add(ev)
    cols, n, mv = batch.take()
    ref, rn, rmv = reference_columns(events)
    assert (n, mv) == (rn, rmv)
    return cols, n, mv, ref


@pytest.fixture(scope="module")
def fixture_events(fx) -> list[dict[str, Any]]:
    evs = list(read_events(fx, report=IngestReport()))
    assert len(evs) > 100
    return evs


@pytest.mark.parametrize("size", [1, 7, 50, 10_000])
def test_batch_columns_equal_the_per_event_columns(fixture_events, size):
    for start in range(0, len(fixture_events), size):
        chunk = fixture_events[start : start + size]
        batch = Batch()
        cols, n, mv, ref = _taken(batch, chunk)
        assert list(cols) == list(ref) or set(cols) == set(ref)
        for k, arr in cols.items():
            assert isinstance(arr, pa.Array) and len(arr) == n
            assert arr.to_pylist() == as_store_values(ref[k], k in mv), k
        assert batch.n == 0 and not batch.shapes and not batch.vals


def test_batch_keeps_arrival_order_across_shapes():
    evs = [{"a": "1"}, {"b": "2"}, {"a": "3", "b": ["4", "5"]}, {"b": "6"}, {"_time": 1.5, "a": None}]
    batch = Batch()
    for ev in evs:
        batch.add(ev)
    cols, n, mv = batch.take()
    assert n == 5 and mv == {"b"}
    assert cols["a"].to_pylist() == ["1", None, "3", None, None]
    assert cols["b"].to_pylist() == [None, ["2"], ["4", "5"], ["6"], None]
    assert cols["_time"].type == pa.float64() and cols["_time"].to_pylist() == [None] * 4 + [1.5]


@pytest.mark.parametrize("seed", range(8))
def test_batch_columns_equal_the_reference_on_random_events(seed):
    """Random shapes, sparse fields, None, lists (multivalue), numbers and non-ASCII text:
    every column equals the one-event-at-a-time reference, in arrival order."""
    import random

    rnd = random.Random(seed)
    names = ["_time", "_raw", "a", "b", "Image", "image", "x y", "é", "n"]

    def value(k: str):
        if k == "_time":
            return rnd.choice([None, 1.5, 1700000000.25, 3])
        kind = rnd.random()
        if kind < 0.1:
            return None
        if kind < 0.2 and k in ("b", "n"):
            return [rnd.choice(["p", "q", "ü"]) for _ in range(rnd.randint(0, 3))]
        if kind < 0.3 and k == "n":
            return rnd.choice([7, 2.0, 2.5, True])
        return "".join(rnd.choice("aZ09 é\u4e2d") for _ in range(rnd.randint(0, 6)))

    events = []
    for _ in range(rnd.randint(1, 400)):
        keys = rnd.sample(names, rnd.randint(0, len(names)))
        events.append({k: value(k) for k in keys})
    cols, n, mv, ref = _taken(Batch(), events)
    assert list(cols) == list(ref)  # order of first appearance
    for k, arr in cols.items():
        arr.validate(full=True)
        want = as_store_values(ref[k], k in mv)
        if k == "_time":
            want = [None if v is None else float(v) for v in want]
        elif k in mv:
            want = [None if v is None else [None if x is None else _as_text(x) for x in v] for v in want]
        else:
            want = [v if v is None or isinstance(v, str) else _as_text(v) for v in want]
        assert arr.to_pylist() == want, k


def _as_text(v) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _rows(store: Store) -> list[dict[str, Any]]:
    fields = store.fields
    cols = ", ".join('"' + fc.col + '"' for fc in fields.values())
    tbl = store.con.sql(f"SELECT {cols} FROM events").to_arrow_table()
    names = list(fields)
    return [dict(zip(names, r, strict=True)) for r in zip(*(tbl.column(i).to_pylist() for i in range(len(names))), strict=True)]


def test_store_rows_equal_the_list_path(fixture_events):
    """Arrow batches (bulk column creation) and list batches (one ALTER per column)."""
    fast, slow = Store(), Store()
    for start in range(0, len(fixture_events), 40):
        chunk = fixture_events[start : start + 40]
        batch = Batch()
        for ev in chunk:
            batch.add(ev)
        fast.append_columns(*batch.take())
        cols, n, mv = reference_columns(chunk)
        for k in cols:  # the former path: fields added one at a time
            if k not in slow.fields:
                slow._add_field(k, "mv" if k in mv else "str")
        slow.append_columns(cols, n, mv)
    assert {f: (fc.col, fc.kind) for f, fc in fast.fields.items()} == {
        f: (fc.col, fc.kind) for f, fc in slow.fields.items()
    }
    assert fast.con.execute("SELECT field, col, kind FROM _fields ORDER BY field").fetchall() == slow.con.execute(
        "SELECT field, col, kind FROM _fields ORDER BY field"
    ).fetchall()
    assert _rows(fast) == _rows(slow)


def test_first_batch_creates_case_distinct_columns_at_once():
    st = Store()
    st.append_columns({"ProcessID": ["'4'"], "ProcessId": ["9"], "a": [["x", "y"]], "_time": [2.0]}, 1, {"a"})
    f = st.fields
    assert f["ProcessID"].col != f["ProcessId"].col and f["ProcessId"].col.endswith("~1")
    assert f["a"].kind == "mv" and f["_time"].kind == "num"
    assert _rows(st) == [
        {"_time": 2.0, "_raw": None, "host": None, "source": None, "sourcetype": None, "index": None,
         "ProcessID": "'4'", "ProcessId": "9", "a": ["x", "y"]}
    ]
    # a later batch: new column by ALTER, a scalar field widened to multivalue
    st.append_columns({"ProcessId": pa.array([["1", "2"]]), "b": pa.array(["z"])}, 1, {"ProcessId"})
    assert st.fields["ProcessId"].kind == "mv"
    assert [r["ProcessId"] for r in _rows(st)] == [["9"], ["1", "2"]]


def test_store_error_is_raised_by_ingest(fx, monkeypatch):
    """A failing write (on the writer thread) is raised by ingest_paths itself."""
    st = Store()

    def boom(self, columns, n, mv_fields=None):  # noqa: ANN001, ANN202
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Store, "append_columns", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest_paths([fx], st, batch_size=5, workers=1)


# -- long transactions (`Store.bulk`) ------------------------------------------------------


def _in_transaction(st: Store) -> bool:
    try:
        st.con.execute("BEGIN TRANSACTION")
    except Exception:  # noqa: BLE001 - DuckDB refuses a nested BEGIN
        return True
    st.con.execute("ROLLBACK")
    return False


def test_in_transaction_tells_without_aborting():
    st = Store()
    assert not st.in_transaction() and not _in_transaction(st)
    st.con.execute("BEGIN TRANSACTION")
    st.append_columns({"a": ["1"]}, 1)
    assert st.in_transaction()
    st.con.execute("COMMIT")  # the transaction was not aborted by the question
    assert not st.in_transaction() and st.count() == 1


@pytest.mark.parametrize("commit_rows", [1, 7, 10**9])
def test_bulk_commits_give_the_rows_of_batch_commits(fx, tmp_path, monkeypatch, commit_rows):
    """Ingest's long transactions (committed every `BULK_COMMIT_ROWS`) keep every row, in
    order, and leave no transaction open; a reopened file store holds them all."""
    import splhunt.engines.store as store_mod

    ref = Store()
    ingest_paths([fx], ref, batch_size=5, workers=1)
    monkeypatch.setattr(store_mod, "BULK_COMMIT_ROWS", commit_rows)
    commits = {"n": 0}
    real = Store.append_columns

    def counting(self, columns, n, mv_fields=None):  # noqa: ANN001, ANN202
        out = real(self, columns, n, mv_fields)
        commits["n"] += self._bulk_rows == 0  # the append just committed
        return out

    monkeypatch.setattr(Store, "append_columns", counting)
    db = tmp_path / "bulk.duckdb"
    st = Store(str(db))
    ingest_paths([fx], st, batch_size=5, workers=1)
    monkeypatch.setattr(Store, "append_columns", real)
    n = st.count()
    assert n == ref.count() > 100
    # a commit once `commit_rows` rows are pending (batches of 5, the last one shorter)
    want, pending = 0, 0
    for size in [5] * (n // 5) + ([n % 5] if n % 5 else []):
        pending += size
        if pending >= commit_rows:
            want, pending = want + 1, 0
    assert commits["n"] == want and (want > 10 if commit_rows < 10 else want == 0)
    assert not _in_transaction(st)
    assert _rows(st) == _rows(ref)
    st.close()
    again = Store(str(db))
    assert again.count() == n and _rows(again) == _rows(ref)
    again.close()


def test_bulk_keeps_the_rows_before_a_failure(fx, monkeypatch):
    """A failure in the middle of an ingest still commits the batches written before it
    (as batch-by-batch commits did); the store stays usable."""
    st = Store()
    real = Store.append_columns
    calls = {"n": 0}

    def flaky(self, columns, n, mv_fields=None):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("disk on fire")
        return real(self, columns, n, mv_fields)

    monkeypatch.setattr(Store, "append_columns", flaky)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest_paths([fx], st, batch_size=5, workers=1)
    monkeypatch.setattr(Store, "append_columns", real)
    assert st.count() == 15 and not _in_transaction(st)
    ingest_paths([fx], st, batch_size=5, workers=1)
    assert st.count() > 15 + 100


def test_bulk_after_a_duckdb_error_rereads_the_registry(monkeypatch):
    """When DuckDB itself fails inside the transaction it drops it, new columns included;
    the registry must then forget those columns, or the next append would miss them."""
    st = Store()
    st.append_columns({"a": ["1"]}, 1)
    with pytest.raises(Exception, match="boom"), st.bulk():
        st.append_columns({"b": ["2"]}, 1)
        assert "b" in st.fields
        st.con.execute("SELECT error('boom')")
    assert "b" not in st.fields and st.count() == 1
    st.append_columns({"b": ["3"]}, 1)
    assert [r["b"] for r in _rows(st)] == [None, "3"]


def test_bulk_inside_a_callers_transaction_leaves_it_to_the_caller():
    st = Store()
    st.con.execute("BEGIN TRANSACTION")
    with st.bulk():
        st.append_columns({"a": ["1"]}, 1)
    assert st.in_transaction()  # not committed by bulk
    st.con.execute("ROLLBACK")
    assert st.count() == 0


def test_writer_lets_the_parser_run_ahead_by_a_bounded_number_of_batches():
    """While the store is busy (a commit), `put` returns until `ahead` batches wait; the
    next `put` waits. Every batch is written, in order."""
    import threading

    from splhunt.ingest.pipeline import _Writer

    gate = threading.Event()
    written: list[int] = []

    class SlowStore:
        def append_columns(self, columns, n, mv_fields=None):  # noqa: ANN001, ANN202
            gate.wait()
            written.append(n)

    w = _Writer(SlowStore(), ahead=3)
    for n in range(1, 5):  # one taken by the writer (blocked), three waiting
        w.put(({}, n, set()))
    blocked = threading.Thread(target=w.put, args=(({}, 5, set()),))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive() and written == []  # the fifth waits for room
    gate.set()
    blocked.join()
    w.close()
    assert written == [1, 2, 3, 4, 5]
