"""ingest_paths: the store, batching, progress, worker processes, the report."""

from __future__ import annotations

from splhunt.engines.store import Store
from splhunt.ingest import IngestReport, ingest_paths, read_events
from splhunt.ingest.report import MAX_MESSAGES

#: Events in the committed fixtures (checked file by file in the reader tests).
FIXTURE_EVENTS = {
    "xmlwineventlog": 3 + 5 + 4 + 18 + 23 + 2 + 2 + 2 + 1 + 1,
    "wineventlog": 2 + 2 + 1 + 2,
    "jsonl": 6 + 5 + 4 + 3 + 4,
    "evtx": 54,
}


def test_ingest_fixtures_into_the_store(fx):
    store = Store()
    rep = ingest_paths([fx], store, workers=1)
    assert rep.by_format == FIXTURE_EVENTS
    total = sum(FIXTURE_EVENTS.values())
    assert rep.read == total == store.count()
    assert rep.skipped_by_reason == {"not a log file": 1}  # NOTICE.md
    assert rep.errors == [] and rep.warning_count == 0
    assert rep.files == len([f for f in fx.rglob("*") if f.is_file()]) - 1
    cols = store.fields
    assert {"_time", "_raw", "host", "source", "sourcetype", "index", "EventCode", "UserID"} <= set(cols)
    assert cols["Name"].kind == "mv"  # Sysmon 20: provider Name + Data Name
    n_sysmon_1 = store.con.execute(
        f'SELECT count(*) FROM events WHERE "{cols["EventCode"].col}" = \'1\' '
        f"AND source = 'XmlWinEventLog:Microsoft-Windows-Sysmon/Operational'"
    ).fetchone()[0]
    assert n_sysmon_1 > 0
    assert store.con.execute("SELECT count(*) FROM events WHERE _time IS NULL").fetchone()[0] == 0
    classic = store.con.execute("SELECT count(*) FROM events WHERE sourcetype = 'WinEventLog'").fetchone()[0]
    assert classic == FIXTURE_EVENTS["wineventlog"]


def test_batches_are_bounded_and_progress_reported(fx, counting_store):
    calls: list[tuple[int, int]] = []
    rep = ingest_paths([fx], counting_store, batch_size=7, workers=1, progress=lambda d, t: calls.append((d, t)))
    total = sum(FIXTURE_EVENTS.values())
    assert counting_store.rows == rep.read == total
    assert max(counting_store.batches) == 7 and all(n <= 7 for n in counting_store.batches)
    assert len(counting_store.batches) == -(-total // 7)
    assert calls and calls[-1][0] == calls[-1][1] == rep.bytes_total > 0
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(calls) >= len(counting_store.batches)


def test_worker_processes_give_the_same_events(fx):
    one, two = Store(), Store()
    r1 = ingest_paths([fx], one, workers=1)
    r2 = ingest_paths([fx], two, workers=2)
    assert (r1.read, r1.skipped, r1.by_format) == (r2.read, r2.skipped, r2.by_format)
    q = "SELECT _raw, _time, host, source FROM events ORDER BY _raw"
    assert one.con.execute(q).fetchall() == two.con.execute(q).fetchall()
    assert {k: (v.read, v.skipped) for k, v in r1.per_file.items()} == {
        k: (v.read, v.skipped) for k, v in r2.per_file.items()
    }


def test_overrides_apply_to_every_event(fx, counting_store):
    evs = list(read_events(fx / "classic_text", source="s", sourcetype="st", host="h", index="i"))
    assert evs and {(e["source"], e["sourcetype"], e["host"], e["index"]) for e in evs} == {("s", "st", "h", "i")}


def test_error_messages_capped_but_counted(tmp_path, counting_store):
    p = tmp_path / "bad.jsonl"
    p.write_text("{not json\n" * (MAX_MESSAGES + 5))
    rep = ingest_paths([p], counting_store, workers=1)
    assert rep.skipped == MAX_MESSAGES + 5 == rep.error_count
    assert len(rep.errors) == MAX_MESSAGES
    assert rep.errors[-1].startswith(f"{p} line {MAX_MESSAGES}: invalid JSON")
    assert "Skipped 1,005 (invalid JSON: 1,005)" in rep.summary()


def test_summary_and_merge(fx, counting_store):
    rep = ingest_paths([fx / "json_lines"], counting_store, workers=1)
    s = rep.summary()
    assert s.startswith("Ingested 22 events from 5 files (jsonl 22)")
    assert "Nothing skipped." in s
    both = IngestReport()
    both.merge(rep)
    both.merge(rep)
    assert both.read == 44 and both.by_format == {"jsonl": 44}
    assert all(st.read * 2 == both.per_file[k].read for k, st in rep.per_file.items())


def test_missing_path_is_reported_not_raised(tmp_path, counting_store):
    rep = ingest_paths([tmp_path / "nope.log"], counting_store, workers=1)
    assert rep.read == 0 and rep.skipped_by_reason == {"unreadable file": 1}
    assert rep.errors[0].startswith(f"{tmp_path / 'nope.log'}: cannot open")
