"""The hunt's fast paths give the rows of the plain path.

A session prunes each search's base to the fields it can read (`compile/prune.py`) and
reads `tstats` datasets from tables built once per store version. Both are pure
optimisations: these tests run the same searches with them on and off and compare the
rows (as multisets: events with equal `_time` have no defined order in either path).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from splhunt.api import Session
from splhunt.compile.prune import ALWAYS, needed_fields
from splhunt.runner.common import Content
from splhunt.spl.parser import parse

hunt_mod = importlib.import_module("splhunt.runner.hunt")

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "samples" / "logs" / "sysmon_devtunnel.xml.log"

FIELDS = ["_time", "_raw", "host", "source", "sourcetype", "index", "Image", "ImageLoaded",
          "process_name", "process_path", "Processes.dest", "dest", "user", "CommandLine",
          "EventCode", "tag", "Computer", "ParentImage", "x_one", "x_two"]


def _need(spl: str) -> list[str] | None:
    return needed_fields(parse(spl), FIELDS)


# --------------------------------------------------------------------------- analysis


def test_named_fields_are_kept_and_others_dropped() -> None:
    got = _need('EventCode=7 Image="*\\\\x.exe" | stats count by ImageLoaded, Computer')
    assert got is not None
    assert set(got) == set(ALWAYS) | {"EventCode", "Image", "ImageLoaded", "Computer"}


def test_words_inside_values_and_regexes_count_as_names() -> None:
    got = _need('search x | rex field=CommandLine "(?<user>\\w+)" | eval a=searchmatch("x_one=1") | table a user')
    assert got is not None
    assert {"CommandLine", "user", "x_one"} <= set(got)


def test_wildcards_keep_every_matching_field() -> None:
    got = _need("search x | table x_* process*")
    assert got is not None
    assert {"x_one", "x_two", "process_name", "process_path"} <= set(got)
    assert "Image" not in got


def test_rename_target_wildcard_reads_nothing() -> None:
    got = _need("search x | rename Processes.* AS * | stats count by dest")
    assert got is not None
    assert "Processes.dest" in got and "dest" in got
    assert "Image" not in got


def test_star_keeps_everything() -> None:
    assert _need("search x | stats values(*) as * by Computer") == FIELDS


@pytest.mark.parametrize("spl", [
    "EventCode=1 | eval y=1",  # the result has every field
    "EventCode=1 | fields - Image",  # still every other field
    "EventCode=1 | transaction Computer | stats count by Computer",  # merges all fields
    "EventCode=1 | mvcombine Image | stats count by Image",  # groups by all the others
    "EventCode=1 | join [search EventCode=2 | stats count by Computer] | table Computer",
    "EventCode=1 [| inputlookup t.csv] | stats count",  # subsearch names fields
    "EventCode=1 | addtotals | stats sum(Total)",
])
def test_implicit_readers_and_open_results_are_not_pruned(spl: str) -> None:
    assert _need(spl) is None


def test_commands_after_the_columns_are_fixed_do_not_matter() -> None:
    got = _need("EventCode=1 | stats count by Computer | transaction Computer | search [| inputlookup t.csv | table Computer]")
    assert got is not None
    assert "Image" not in got


def test_join_with_fields_reads_its_keys_and_a_closed_subsearch() -> None:
    got = _need("EventCode=1 | join Computer [search EventCode=2 | stats count by Computer, user] | table Computer count user")
    assert got is not None
    assert {"Computer", "user", "EventCode"} <= set(got)


# --------------------------------------------------------------------------- same rows


def _rows(session: Session, spl: str, fast: bool) -> Any:
    session.prune = fast
    session.cache_datasets = fast
    try:
        r = session.search(spl)
    except Exception as e:  # noqa: BLE001 - both paths must fail alike
        return ("error", type(e).__name__, str(e).splitlines()[0] if str(e) else "")
    return ("ok", r.columns, sorted(json.dumps(row, sort_keys=True, default=str) for row in r.rows))


SAMPLE_SEARCHES = [
    "EventCode=7 | stats count by Image, ImageLoaded",
    "EventCode=7 | table _time Image* Computer | head 5",
    "`sysmon` EventCode=7 | rename Image AS process | stats dc(ImageLoaded) as n by process, Computer",
    "EventCode=* | eval k=lower(Image) | rex field=ImageLoaded \"(?<dll>[^\\\\\\\\]+)$\" | stats count by k, dll",
    "EventCode=7 | fillnull value=none | stats count by Signed, Signature",
    "EventCode=7 | eventstats count as n by Image | dedup Image | table Image n",
    "EventCode=7 | eval y=1",
    "EventCode=7 | fields - _raw",
    "| tstats count from datamodel=Endpoint.Processes by Processes.process_name",
    "| tstats count min(_time) as firstTime from datamodel=Endpoint.Filesystem by Filesystem.file_name | rename Filesystem.* AS *",
    "| from datamodel Endpoint.Processes | stats count by process_name",
    "search ImageLoaded=* | stats values(*) as * by Computer",
]


def test_sample_searches_same_rows_fast_and_plain() -> None:
    s = Session()
    s.ingest([SAMPLE])
    s.macros.add(__import__("splhunt.spl.macros", fromlist=["MacroDef"]).MacroDef(
        "sysmon", "source=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"))
    for spl in SAMPLE_SEARCHES:
        assert _rows(s, spl, True) == _rows(s, spl, False), spl


SHARED_LOGS = [
    "attack_data/datasets/attack_techniques/T1003.001/atomic_red_team/procdump_t1003.001_capattack/logs",
    "attack_data/datasets/attack_techniques/T1202/atomic_red_team",
    "attack_data/datasets/attack_techniques/T1649/certify_abuse",
    "attack_data/datasets/attack_techniques/T1558.004/powershell",
]


WITH_DATA = {
    "Kerberos Pre-Authentication Flag Disabled in UserAccountControl",
    "Detect Certify Command Line Arguments",
    "Windows Steal Authentication Certificates - ESC1 Abuse",
    "Windows Suspect Process With Authentication Traffic",
    "Kerberos Pre-Authentication Flag Disabled with PowerShell",
    "Detect Certipy File Modifications",
    "Windows Indirect Command Execution Via pcalua",
    "Detect Certify With PowerShell Script Block Logging",
    "Windows Indirect Command Execution Via forfiles",
}


@pytest.mark.shared
def test_escu_detections_same_rows_fast_and_plain(shared: Path) -> None:
    """Several dozen ESCU detections whose data is in a small real store (Sysmon,
    Security, PowerShell; tstats and raw searches) return the same rows either way."""
    content = Content.load(shared / "escu")
    s = Session()
    s.ingest([shared / "data" / p for p in SHARED_LOGS])
    s.content = content.lib
    s.macros = content.macros
    dets = hunt_mod.filter_detections(content.lib.detections.values())
    inv = hunt_mod.Inventory.of(s.store)
    resolver = hunt_mod.Resolver(content.lib)

    def probe(spl: str) -> bool:
        rows = s.search(spl).rows
        return bool(rows) and int(rows[0].get("count") or 0) > 0

    chosen, _skipped, _corr = hunt_mod.select(dets, inv, resolver, probe)
    chosen = sorted((d for d, _ in chosen), key=lambda d: d.name)
    assert len(chosen) >= 40
    # a spread over the catalog, the ones whose ESCU tests use these logs (they find
    # something), and every one the analysis leaves unpruned
    picked = chosen[:: max(1, len(chosen) // 40)]
    picked += [d for d in chosen if d.name in WITH_DATA and d not in picked]
    picked += [d for d in chosen if needed_fields(parse(s.macros.expand(d.search)), s.base().fields) is None]
    with_rows = 0
    for d in picked:
        fast = _rows(s, d.search, True)
        assert fast == _rows(s, d.search, False), d.name
        with_rows += fast[0] == "ok" and bool(fast[2])
    assert with_rows >= 5  # the comparison is not only over empty results
