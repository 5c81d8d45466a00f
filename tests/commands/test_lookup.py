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


def _plain(s: Session) -> Session:
    """The same session with the n-gram join switched off: every pattern against every row."""
    import dataclasses

    s.engine.caps = dataclasses.replace(s.engine.caps, ngram_join=False)
    return s


@pytest.mark.parametrize("case_sensitive", ["true", "false"])
def test_wildcard_ngram_join_matches_plain_join(tmp_path: Path, case_sensitive: str) -> None:
    """The anchored join (patterns indexed by a 5-character literal piece) finds exactly
    the matches of testing every pattern: short runs, runs in the middle, `*` alone,
    a piece repeated in the value, `%`/`_` taken literally, a value shorter than the piece."""
    lk = tmp_path / "lookups"
    lk.mkdir()
    patterns = [
        "*.dyndns.org*", "*.DynDNS.org*", "*abc*", "ab*cd", "*", "evil.exe", "*\\tmp\\*.exe",
        "*a%b_c*", "*xx.xx*", "start*middle*end", "*ÉCOLE*", "exact", "*.dyndns.org*",
    ]
    (lk / "pats.csv").write_text("pat,tag\n" + "".join(f"{p},t{i}\n" for i, p in enumerate(patterns)))
    (lk / "pats.yml").write_text(
        f"name: pats\nfilename: pats.csv\nmatch_type: WILDCARD(pat)\ncase_sensitive_match: '{case_sensitive}'\n"
    )
    values = [
        "host.dyndns.org", "HOST.DYNDNS.ORG.evil", "abcd", "ab--cd", "evil.exe", "c:\\tmp\\x.exe",
        "qa%b_cq", "qaxbycq", "xx.xx.xx.xx", "start-middle-end", "startend", "l'école", "L'ÉCOLE",
        "exact", "EXACT", "", "abc",
    ]
    events = [{"v": v} for v in values] + [{"w": "no v field"}]
    spl = "lookup pats pat AS v OUTPUT tag | table v tag"
    fast = _session(tmp_path, [dict(e) for e in events])
    assert "UNNEST" in fast.search(spl).sql  # the anchored path ran
    slow = _plain(_session(tmp_path, [dict(e) for e in events]))
    assert "UNNEST" not in slow.search(spl).sql
    got, want = fast.search(spl).rows, slow.search(spl).rows
    assert got == want
    tags = {r["v"]: r["tag"] for r in got}
    assert tags["host.dyndns.org"][:2] == ["t0", "t1"] if case_sensitive == "false" else tags["host.dyndns.org"][0] == "t0"
    assert "t7" in tags["qa%b_cq"] and "t7" not in (tags["qaxbycq"] or [])  # % and _ are literal
    assert tags["startend"] is not None and "t9" not in tags["startend"]
