"""lookup / inputlookup over a small content folder (Splunk Search Reference, "lookup")."""

from __future__ import annotations

from pathlib import Path

import pytest

from splhunt.api import Session
from splhunt.errors import SplUnsupportedError


@pytest.fixture()
def content(tmp_path: Path) -> Path:
    lk = tmp_path / "lookups"
    lk.mkdir()
    (lk / "users.csv").write_text("user,dept,level\nalice,it,3\nbob,hr,1\nbob,ops,2\n")
    (lk / "users.yml").write_text("name: users\nfilename: users.csv\ncase_sensitive_match: 'false'\n")
    (lk / "procs.csv").write_text("process,bad\n*mimikatz*,true\npsexec.exe,true\n")
    (lk / "procs.yml").write_text(
        "name: procs\nfilename: procs.csv\nmatch_type: WILDCARD(process)\nmin_matches: 1\ndefault_match: 'false'\n"
    )
    (lk / "unique.csv").write_text("k,v\na,1\nb,2\n")
    (lk / "unique.yml").write_text("name: unique\nfilename: unique.csv\n")
    (lk / "kv.yml").write_text("name: kv\ncollection: some_collection\nfields_list: _key, a\n")
    return tmp_path


def _session(content: Path, events: list[dict]) -> Session:
    s = Session(content=content, knowledge=False)
    for i, e in enumerate(events):
        e.setdefault("_time", float(i))
        e.setdefault("_raw", "x")
    s.store.append(events)
    return s


def test_exact_case_insensitive_and_multivalue(content: Path) -> None:
    s = _session(content, [{"u": "ALICE"}, {"u": "bob"}, {"u": "carol"}])
    rows = s.search("lookup users user AS u OUTPUT dept | table u dept | sort u").rows
    assert rows == [
        {"u": "ALICE", "dept": ["it"]},
        {"u": "bob", "dept": ["hr", "ops"]},  # two matching rows: multivalue, table order
        {"u": "carol", "dept": None},
    ]


def test_unique_keys_give_single_values_and_output_all_columns(content: Path) -> None:
    s = _session(content, [{"k": "b", "v": "old"}])
    assert s.search("lookup unique k | table k v").rows == [{"k": "b", "v": "2"}]


def test_outputnew_keeps_existing(content: Path) -> None:
    s = _session(content, [{"k": "a", "v": "mine"}, {"k": "b"}])
    rows = s.search("lookup unique k OUTPUTNEW v | table k v | sort k").rows
    assert rows == [{"k": "a", "v": "mine"}, {"k": "b", "v": "2"}]


def test_output_overwrites_and_no_match_removes(content: Path) -> None:
    s = _session(content, [{"k": "zzz", "v": "mine"}])
    assert s.search("lookup unique k OUTPUT v | table k v").rows == [{"k": "zzz", "v": None}]


def test_wildcard_match_type_and_default_match(content: Path) -> None:
    s = _session(content, [{"p": "C:\\x\\Mimikatz.exe"}, {"p": "psexec.exe"}, {"p": "notepad.exe"}])
    rows = s.search("lookup procs process AS p OUTPUT bad | table p bad | sort p").rows
    assert {r["p"]: r["bad"] for r in rows} == {
        "C:\\x\\Mimikatz.exe": ["false"],  # WILDCARD matching is case-sensitive unless configured
        "psexec.exe": ["true"],
        "notepad.exe": ["false"],
    }


def test_inputlookup_with_where(content: Path) -> None:
    s = _session(content, [])
    rows = s.search("| inputlookup users where dept=IT").rows
    assert rows == [{"user": "alice", "dept": "it", "level": "3"}]


def test_kv_store_and_unknown_lookups_are_refused(content: Path) -> None:
    s = _session(content, [{"a": "1"}])
    with pytest.raises(SplUnsupportedError, match="KV-store"):
        s.search("lookup kv a")
    with pytest.raises(SplUnsupportedError, match="nosuch"):
        s.search("lookup nosuch a")


def test_multivalue_input_matches_each_value(content: Path) -> None:
    """Splunk tries each value of a multivalue input field; outputs become multivalue."""
    s = _session(content, [{"ks": "a b zzz"}, {"ks": "zzz"}])
    rows = s.search("makemv ks | lookup unique k AS ks OUTPUT v | eval n=mvcount(v) | table v n").rows
    # newest event first, as Splunk returns events
    assert rows == [{"v": None, "n": None}, {"v": ["1", "2"], "n": 2}]
