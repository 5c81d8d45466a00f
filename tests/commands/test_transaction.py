"""transaction: option parsing, refusals by name, and the SQL plan against a reference.

The reference below reads each key's events newest first, one at a time, the way the
module docstring (src/splhunt/commands/transaction.py) describes Splunk's processing;
the compiled SQL instead uses window functions and an array fold. Random event sets
must give the same transactions both ways.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from splhunt.api import Session
from splhunt.commands.transaction import Transaction, parse_duration
from splhunt.errors import SplSyntaxError, SplUnsupportedError
from splhunt.spl.parser import parse


def _txn(spl: str) -> Transaction:
    cmd = parse(spl).commands[-1]
    assert isinstance(cmd, Transaction)
    return cmd


def test_parse_duration_units_and_unlimited() -> None:
    assert parse_duration("30") == 30
    assert parse_duration("5m") == 300
    assert parse_duration("240m") == 14400
    assert parse_duration("2h") == 7200
    assert parse_duration("1d") == 86400
    assert parse_duration("-1") is None
    with pytest.raises(ValueError):
        parse_duration("5x")


def test_parse_fields_options_and_filters() -> None:
    t = _txn('transaction ObjectDN AttributeValue startswith=(EventCode=5136 OperationType="%%14674") '
             "endsWith=(EventCode=5136) maxspan=2m keepevicted=true mvlist=a,b")
    assert t.fields == ("ObjectDN", "AttributeValue")
    assert t.maxspan == 120 and t.maxpause is None and t.maxevents == 1000
    assert t.startswith is not None and t.startswith.search is not None
    assert t.endswith is not None and t.endswith.search is not None
    assert t.keepevicted and t.mvlist == ("a", "b") and t.constrained


def test_parse_eval_and_quoted_filters() -> None:
    t = _txn('transaction user startswith=eval(n>5) endswith="logout" connected=false maxevents=-1')
    assert t.startswith is not None and t.startswith.expr is not None
    assert t.endswith is not None and t.endswith.search is not None
    assert t.maxevents is None and t.constrained  # maxevents given


def test_defaults_are_unconstrained() -> None:
    t = _txn("transaction user")
    assert t.maxevents == 1000 and not t.constrained and t.mvlist is False


@pytest.mark.parametrize("opt", ["keeporphans=t", "name=x", "maxopentxn=5", "maxopenevents=5", "unifyends=t",
                                 "mvraw=t", "delim=,", "nullstr=x"])
def test_unsupported_options_are_refused_by_name(opt: str) -> None:
    key = opt.split("=")[0]
    with pytest.raises(SplUnsupportedError, match=key):
        parse(f"transaction user {opt}")


def test_unknown_option_is_refused_by_name() -> None:
    with pytest.raises(SplUnsupportedError, match="frobnicate"):
        parse("transaction user frobnicate=1")


def test_bad_values_are_syntax_errors() -> None:
    with pytest.raises(SplSyntaxError):
        parse("transaction user maxspan=abc")
    with pytest.raises(SplSyntaxError):
        parse("transaction user maxevents=x")


# ---------------------------------------------------------------- reference model


@dataclass
class _Txn:
    events: list[dict] = field(default_factory=list)
    started: bool = False  # closed by its start event


def _reference(events: list[dict], maxspan: float | None, maxpause: float | None, maxevents: int | None,
               start: str | None, end: str | None) -> list[tuple]:
    by_key: dict[str, list[dict]] = {}
    for e in events:
        if e.get("k") is not None:
            by_key.setdefault(e["k"], []).append(e)
    out = []
    for k, evs in by_key.items():
        txns: list[_Txn] = []
        cur: _Txn | None = None
        for e in sorted(evs, key=lambda e: -e["_time"]):
            new = (
                cur is None or cur.started
                or (end is not None and e["step"] == end)
                or (maxpause is not None and cur.events[-1]["_time"] - e["_time"] > maxpause)
                or (maxspan is not None and cur.events[0]["_time"] - e["_time"] > maxspan)
                or (bool(maxevents) and len(cur.events) >= maxevents)
            )
            if new:
                cur = _Txn()
                txns.append(cur)
            cur.events.append(e)
            if start is not None and e["step"] == start:
                cur.started = True
        for t in txns:
            newest, oldest = t.events[0], t.events[-1]
            complete = (start is None or oldest["step"] == start) and (end is None or newest["step"] == end)
            times = [e["_time"] for e in t.events]
            ids = sorted(e["id"] for e in t.events)
            out.append((k, min(times), max(times) - min(times), len(t.events), tuple(ids), int(complete)))
    return sorted(out)


def _random_events(rng: random.Random) -> list[dict]:
    times = rng.sample(range(0, 600), rng.randint(1, 40))
    return [
        {"_time": float(t), "id": f"e{i:02d}", "k": rng.choice(["a", "b", "c", None]), "step": rng.choice("sme")}
        for i, t in enumerate(times)
    ]


OPTION_SETS = [
    ("maxspan=60s", 60, None, 1000, None, None),
    ("maxpause=20s", None, 20, 1000, None, None),
    ("maxspan=100s maxpause=15s", 100, 15, 1000, None, None),
    ("maxevents=3", None, None, 3, None, None),
    ("maxspan=90s maxevents=4", 90, None, 4, None, None),
    ("startswith=(step=s) endswith=(step=e)", None, None, 1000, "s", "e"),
    ("startswith=(step=s) endswith=(step=e) maxspan=120s", 120, None, 1000, "s", "e"),
    ("startswith=(step=s) maxpause=50s", None, 50, 1000, "s", None),
    ("endswith=(step=e) maxevents=5", None, None, 5, None, "e"),
    ("", None, None, 1000, None, None),
]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("opts", OPTION_SETS, ids=[o[0] or "no options" for o in OPTION_SETS])
def test_sql_matches_the_sequential_reference(seed: int, opts: tuple) -> None:
    text, maxspan, maxpause, maxevents, start, end = opts
    rng = random.Random(seed * 100 + len(text))
    events = _random_events(rng)
    s = Session(knowledge=False, now=1_700_000_000)
    for e in events:
        e["_raw"] = f"id={e['id']} step={e['step']}"
    s.store.append([{k: v for k, v in e.items() if v is not None} for e in events])
    spl = f"transaction k {text} keepevicted=t mvlist=id | table k _time duration eventcount id closed_txn"
    rows = s.search(spl).rows
    got = sorted(
        (r["k"], float(r["_time"]), float(r["duration"]), int(r["eventcount"]), tuple(sorted(r["id"])),
         int(r["closed_txn"]) if (maxspan or maxpause or start or "maxevents" in text) else 1)
        for r in rows
    )
    want = _reference(events, maxspan, maxpause, maxevents, start, end)
    if not (maxspan or maxpause or start or "maxevents" in text):
        want = [w[:5] + (1,) for w in want]
    assert got == want, spl


def test_many_fields_are_merged_in_chunks_with_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over AGG_CHUNK aggregates the merge is split into groupings joined on the
    transaction; the rows must be those of the one-grouping merge."""
    import splhunt.commands.transaction as T

    rng = random.Random(7)
    events = []
    for i in range(60):
        ev = {"_time": float(rng.randint(0, 900)), "_raw": f"e{i}", "k": rng.choice("abc"), "n": str(i)}
        for j in rng.sample(range(180), 12):  # 180 sparse fields, 12 per event
            ev[f"f{j:03d}"] = rng.choice(["x", "y", str(j)])
        events.append(ev)
    spl = "transaction k maxspan=300s keepevicted=t mvlist=n | sort 0 _time k"

    def run() -> tuple[list[dict], str]:
        s = Session(knowledge=False, now=1_700_000_000)
        s.store.append(events)
        return s.search(spl).rows, s.plan(spl).sql("duckdb")

    chunked, sql = run()
    assert '"__tp1"' in sql and len(chunked) > 3
    monkeypatch.setattr(T, "AGG_CHUNK", 10_000)
    whole, sql1 = run()
    assert '"__tp1"' not in sql1
    assert chunked == whole
    # some transaction gathers values of many of the sparse fields
    assert max(sum(1 for f in r if f.startswith("f")) for r in chunked) > 20
