"""The knowledge view is materialised narrow: only the fields its layers set go to the
scratch table, and the raw fields are read from ``events`` beside it (a positional join).
These tests pin that this gives the same rows, in the same order, as materialising the
whole view, and that the engine falls back to the whole view when rows could be out of
step."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp

from splhunt.api import Session
from splhunt.compile.compiler import Base
from splhunt.engines.duckdb import SCRATCH_DB, DuckDBEngine
from splhunt.engines.store import Store
from splhunt.knowledge.compile import knowledge_base

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _store(tmp_path: Path) -> Store:
    s = Session(store=Store(str(tmp_path / "store.duckdb")))
    s.ingest([FIXTURES / "ingest", FIXTURES / "knowledge" / "windows_security_system_powershell.xml.log"])
    return s.store


def _rows(store: Store, base: Base) -> list[tuple]:
    cols = [exp.column(exp.to_identifier(fi.col, quoted=True)) for fi in base.fields.values()]
    query = exp.select(*cols).from_(base.relation.copy())
    for name, q in base.ctes:
        query = query.with_(exp.to_identifier(name, quoted=True), as_=q)
    return store.con.execute(query.sql("duckdb")).fetchall()


def _positional(store: Store, base: Base) -> bool:
    """Whether `base` reads a view that joins the scratch table to ``events`` by position."""
    name = base.relation.name
    got = store.con.execute("SELECT sql FROM duckdb_views() WHERE view_name = ?", [name]).fetchall()
    return bool(got) and "POSITIONAL JOIN" in got[0][0].upper()


def _columns(store: Store, table: str) -> list[str]:
    return [
        r[0]
        for r in store.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ?",
            [SCRATCH_DB, table],
        ).fetchall()
    ]


def test_narrow_view_gives_the_rows_of_the_whole_view_in_order(tmp_path: Path) -> None:
    store = _store(tmp_path)
    eng = DuckDBEngine(store)
    view = knowledge_base(store, eng.caps)
    derived = view.derived  # type: ignore[attr-defined]
    assert derived and "process_name" in derived and "_raw" not in derived

    narrow = eng.materialize_view(view, "kv_narrow")
    whole = eng.materialize(view, "kv_whole", temp=True)
    assert _positional(store, narrow) and not _positional(store, whole)
    assert list(narrow.fields) == list(whole.fields)

    got, want = _rows(store, narrow), _rows(store, whole)
    assert len(got) == store.count() > 100
    assert got == want

    # the scratch table holds the derived fields and the row id, not the raw ones
    cols = set(_columns(store, "kv_narrow"))
    assert cols == {view.fields[f].col for f in derived} | {"__rid"}
    assert len(cols) < len(_columns(store, "kv_whole"))


def test_searches_read_the_same_over_the_narrow_view(tmp_path: Path) -> None:
    store = _store(tmp_path)
    searches = [
        "search sourcetype=* | stats count by sourcetype, source | sort source",
        "search EventCode=4688 | table _time host process_name parent_process_name user | sort _time",
        "| tstats count from datamodel=Endpoint.Processes by Processes.process_name | sort - count",
        "search * | head 25 | table _time host EventCode tag eventtype",
    ]
    narrow = Session(store=store)
    got = [narrow.search(q).rows for q in searches]
    assert _positional(store, narrow.base())
    whole = Session(store=store)
    whole.base = lambda: whole.engine.materialize(  # type: ignore[method-assign]
        knowledge_base(store, whole.engine.caps), "kv_events_whole", temp=True
    )
    want = [whole.search(q).rows for q in searches]
    assert got == want
    assert all(got), "every search finds rows in the fixtures"


def test_restrict_reads_only_the_tables_holding_the_fields_kept(tmp_path: Path) -> None:
    """A pruned base joins ``events`` and the scratch table itself, and only when it keeps
    fields of both; binding the ~1,000-column view per search cost more than most searches.
    Rows and their order are those of restricting the view."""
    store = _store(tmp_path)
    eng = DuckDBEngine(store)
    view = knowledge_base(store, eng.caps)
    derived = view.derived  # type: ignore[attr-defined]
    narrow = eng.materialize_view(view, "kv_narrow")
    assert narrow.positional is not None
    as_view = Base(narrow.relation, narrow.fields, narrow.ctes)  # the same, without parts
    raw = [f for f in ("_time", "_raw", "host", "source", "EventCode", "Image", "CommandLine") if f not in derived]
    assert len(raw) >= 4 and set(raw) <= set(narrow.fields)
    der = ["process_name", "tag", "eventtype"]
    assert set(der) <= derived
    mixed = ["parent_process_name", raw[0], "process_name", raw[-1], raw[1]]
    for keep in (raw, der, mixed):
        got = narrow.restrict(keep)
        assert list(got.fields) == keep
        sql = got.relation.sql("duckdb")
        assert "kv_narrow_view" not in sql
        assert ("POSITIONAL JOIN" in sql) == (keep is mixed)
        assert ('"events"' in sql) == (keep is not der)
        want = _rows(store, as_view.restrict(keep))
        assert _rows(store, got) == want and len(want) == store.count()
        assert any(v is not None for r in want for v in r)


def test_whole_view_when_insertion_order_is_not_kept(tmp_path: Path) -> None:
    store = _store(tmp_path)
    eng = DuckDBEngine(store)
    store.con.execute("SET preserve_insertion_order = false")
    try:
        base = eng.materialize_view(knowledge_base(store, eng.caps), "kv_events")
    finally:
        store.con.execute("SET preserve_insertion_order = true")
    assert not _positional(store, base)
    assert "__rid" not in _columns(store, "kv_events")
    assert len(_columns(store, "kv_events")) == len(base.fields)


SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SHARED_FILES = [
    "attack_data/datasets/attack_techniques/T1003.002/atomic_red_team/windows-system.log",
    "attack_data/datasets/attack_techniques/T1003.003/atomic_red_team/windows-sec-events.out",
    "Security-Datasets/datasets/atomic/windows/defense_evasion/host/cmd_bitsadmin_download_psh_script.zip",
    "Security-Datasets/datasets/atomic/windows/discovery/host/covenant_getdomaingroup_ldap_searchrequest_domain_admins.zip",
    "attack_data/datasets/attack_techniques/T1003.001/atomic_red_team/procdump_t1003.001_capattack/logs/Security.evtx",
    "attack_data/datasets/attack_techniques/T1218.001/atomic_red_team/hh_decompile_t1218.001_capattack/logs/"
    "Microsoft-Windows-Sysmon%4Operational.evtx",
]


def test_narrow_view_over_real_logs_of_every_format(tmp_path: Path) -> None:
    paths = [SHARED_DATA / p for p in SHARED_FILES]
    missing = [p for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"../shared not present: {missing[0].resolve()} is missing")
    s = Session(store=Store(str(tmp_path / "store.duckdb")))
    s.ingest(paths)
    store = s.store
    eng = DuckDBEngine(store)
    view = knowledge_base(store, eng.caps)
    got = _rows(store, eng.materialize_view(view, "kv_narrow"))
    want = _rows(store, eng.materialize(view, "kv_whole", temp=True))
    assert len(got) == store.count() > 3000
    assert got == want


def test_restrict_reads_the_relation_when_a_field_has_no_table() -> None:
    """A field that no positional table claims is read from the relation itself, never dropped."""
    from splhunt.compile.stage import FieldInfo

    base = Base(exp.to_table("v"), {"a": FieldInfo("a", "str"), "b": FieldInfo("b", "str")},
                positional=[(exp.to_table("t"), ["a"])])
    both = base.restrict(["a", "b"]).relation.sql("duckdb")
    assert "FROM v" in both and "POSITIONAL" not in both and list(base.restrict(["a", "b"]).fields) == ["a", "b"]
    one = base.restrict(["a"]).relation.sql("duckdb")
    assert "FROM t AS p0" in one and "FROM v" not in one


@pytest.mark.parametrize("in_txn", [False, True])
def test_streamed_build_keeps_the_rows_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_txn: bool) -> None:
    """The narrow table is appended batch by batch from a second connection (small batches
    here); inside a transaction, which that connection would not see, it is built in
    one statement instead. Either way the rows are the whole view's, in order."""
    store = _store(tmp_path)
    eng = DuckDBEngine(store)
    view = knowledge_base(store, eng.caps)
    whole = _rows(store, eng.materialize(view, "kv_whole", temp=True))
    monkeypatch.setattr(DuckDBEngine, "STREAM_ROWS", 7)
    calls: list[str] = []
    real = DuckDBEngine._create_streamed

    def spy(self, table, query):  # noqa: ANN001, ANN202
        calls.append(table)
        return real(self, table, query)

    monkeypatch.setattr(DuckDBEngine, "_create_streamed", spy)
    if in_txn:
        store.con.execute("BEGIN TRANSACTION")
    narrow = eng.materialize_view(view, "kv_narrow")
    assert len(calls) == (0 if in_txn else 1)  # streamed only outside a transaction
    assert _positional(store, narrow)
    assert _rows(store, narrow) == whole and len(whole) > 7 * 10
    if in_txn:
        store.con.execute("COMMIT")
