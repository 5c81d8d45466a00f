"""Tables every session rebuilds (the knowledge view, data model datasets) stay out of the
store's file: they live in the compressed in-memory scratch database."""

from __future__ import annotations

from pathlib import Path

from splhunt.api import Session
from splhunt.engines.duckdb import SCRATCH_DB
from splhunt.engines.store import Store

XML = (
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
    "<Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID>"
    "<TimeCreated SystemTime='2024-01-02T03:04:05.000Z'/><Channel>Microsoft-Windows-Sysmon/Operational</Channel>"
    "<Computer>ws1.corp</Computer></System><EventData><Data Name='Image'>C:\\Windows\\cmd.exe</Data>"
    "<Data Name='CommandLine'>cmd /c whoami</Data></EventData></Event>"
)


def _tables(store: Store) -> set[tuple[str, str]]:
    return {(d, t) for d, t in store.con.execute("SELECT database_name, table_name FROM duckdb_tables()").fetchall()}


def test_knowledge_view_and_datasets_are_built_in_the_scratch_database(tmp_path: Path) -> None:
    log = tmp_path / "sysmon.xml.log"
    log.write_text(XML + "\n")
    db = tmp_path / "store.duckdb"
    s = Session(store=Store(str(db)))
    s.ingest([log])
    rows = s.search("search EventCode=1 | stats count by process_name").rows
    assert rows == [{"process_name": "cmd.exe", "count": 1}]
    assert s.search("| tstats count from datamodel=Endpoint.Processes by Processes.process_name").rows == [
        {"Processes.process_name": "cmd.exe", "count": 1}
    ]
    tables = _tables(s.store)
    assert (SCRATCH_DB, "kv_events") in tables
    assert any(d == SCRATCH_DB and t.startswith("dm_") for d, t in tables)
    assert not any(d != SCRATCH_DB and (t == "kv_events" or t.startswith("dm_")) for d, t in tables)
    s.store.close()
    reopened = Store(str(db))
    assert not any(t == "kv_events" or t.startswith("dm_") for _, t in _tables(reopened))
    # a second session on the reopened store builds the view again and finds the same rows
    again = Session(store=reopened)
    assert again.search("search EventCode=1 | stats count by process_name").rows == rows
