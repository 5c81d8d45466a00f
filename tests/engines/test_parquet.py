"""The Parquet layout: partitioned by sourcetype and day, registry sidecar, DuckDB reader."""

from __future__ import annotations

from pathlib import Path

from splhunt.api import Session
from splhunt.engines.parquet import open_parquet_store, parquet_session, read_sidecar, write_parquet
from splhunt.engines.store import Store

EVENTS = [
    {"_time": 1_700_000_000.0, "sourcetype": "WinEventLog:Security", "source": "s1", "EventCode": "4688",
     "ProcessId": "1", "ProcessID": "2", "Processes.dest": "h1"},
    {"_time": 1_700_090_000.0, "sourcetype": "WinEventLog:Security", "source": "s1", "EventCode": "4624",
     "Targets": ["a", "b"]},
    {"_time": 1_700_000_100.0, "sourcetype": "XmlWinEventLog", "source": "x/y", "EventCode": "7"},
    {"_time": None, "EventCode": "1"},
]


def _store() -> Store:
    s = Store()
    s.append([dict(e) for e in EVENTS])
    return s


def test_layout_is_partitioned_by_sourcetype_and_day(tmp_path: Path) -> None:
    meta = write_parquet(_store(), tmp_path)
    assert meta["events"] == 4
    dirs = sorted(str(p.parent.relative_to(tmp_path)) for p in tmp_path.rglob("*.parquet") if "events" in p.parts)
    assert dirs == [
        "events/sourcetype=WinEventLog%3ASecurity/date=2023-11-14",
        "events/sourcetype=WinEventLog%3ASecurity/date=2023-11-15",
        "events/sourcetype=XmlWinEventLog/date=2023-11-14",
        "events/sourcetype=__HIVE_DEFAULT_PARTITION__/date=__HIVE_DEFAULT_PARTITION__",
    ]
    assert (tmp_path / "splhunt_fields.parquet").exists() and (tmp_path / "splhunt_sources.parquet").exists()
    reg = {f["field"]: f["col"] for f in read_sidecar(tmp_path)["fields"]}
    # case-distinct fields keep their distinct columns
    assert reg["ProcessId"] != reg["ProcessID"]


def test_duckdb_reads_the_layout_with_the_same_rows(tmp_path: Path) -> None:
    write_parquet(_store(), tmp_path)
    store = open_parquet_store(tmp_path)
    assert store.count() == 4
    spl = "search EventCode=* | eval n=mvcount(Targets) | table _time sourcetype source EventCode ProcessId ProcessID Processes.dest n"
    want = Session(store=_store(), knowledge=False).search(spl).rows
    got = parquet_session(tmp_path, knowledge=False).search(spl).rows
    assert got == want
    assert {r["sourcetype"] for r in got} == {"WinEventLog:Security", "XmlWinEventLog", None}
