"""The .conf value readers and the loader's refusals."""

from __future__ import annotations

import shutil

import pytest

from splhunt.errors import ContentError
from splhunt.knowledge import load_knowledge
from splhunt.knowledge.conf import (
    StanzaSpec,
    format_fields,
    join_continuations,
    named_groups,
    parse_extract,
    parse_fieldalias,
    parse_lookup,
    python_regex,
    split_pipeline,
)
from splhunt.knowledge.model import DATA_DIR


def test_stanza_spec_kinds_and_patterns():
    assert StanzaSpec.parse("source::a/b").kind == "source"
    assert StanzaSpec.parse("host::h").kind == "host"
    spec = StanzaSpec.parse("source::...Sysmon*")
    assert not spec.literal
    assert spec.matches("XmlWinEventLog:Microsoft-Windows-Sysmon")
    assert not spec.matches("XmlWinEventLog:Microsoft-Windows-Sysmon/Operational")  # * stops at /
    assert StanzaSpec.parse("source::...Sysmon...").matches("x:Sysmon/Operational")
    assert StanzaSpec.parse("source::(?i)xmlwin...").matches("XMLWINEVENTLOG:Security")
    assert StanzaSpec.parse("source::a.b").matches("a.b") and not StanzaSpec.parse(
        "source::a*b"
    ).matches("a/b")
    assert not StanzaSpec.parse("XmlWinEventLog").matches("xmlwineventlog")


def test_fieldalias_pairs():
    pairs = parse_fieldalias("host AS dvc_nt_host,Computer AS dvc  TaskCategory as c X ASNEW y")
    assert [(p.src, p.mode, p.dst) for p in pairs] == [
        ("host", "AS", "dvc_nt_host"),
        ("Computer", "AS", "dvc"),
        ("TaskCategory", "AS", "c"),
        ("X", "ASNEW", "y"),
    ]
    with pytest.raises(ContentError):
        parse_fieldalias("A TO b")


def test_lookup_values():
    spec = parse_lookup("windows_action_lookup Type AS Keywords OUTPUTNEW action")
    assert (spec.table, spec.mode) == ("windows_action_lookup", "OUTPUTNEW")
    assert [(f.column, f.field) for f in spec.inputs] == [("Type", "Keywords")]
    spec = parse_lookup("t sid OUTPUTNEW signature,signature AS name, signature AS subject")
    assert [(f.column, f.field) for f in spec.outputs] == [
        ("signature", "signature"),
        ("signature", "name"),
        ("signature", "subject"),
    ]
    assert parse_lookup("t k").mode is None
    with pytest.raises(ContentError):
        parse_lookup("t k OUTPUT x AS")


def test_small_readers():
    assert join_continuations("a,  \\\nb") == "a,  \nb"
    assert parse_extract("(?<x>\\d+) in Message") == ("(?<x>\\d+)", "Message")
    assert parse_extract("<a>(?<x>.)</a>") == ("<a>(?<x>.)</a>", "_raw")
    assert named_groups("(type:\\s+(?<record_type>\\d+)\\s+|)(?<answer>[^;]+);") == (
        "record_type",
        "answer",
    )
    assert format_fields("$1::$2") == ()
    assert format_fields("a::$1 b::$2") == ("a", "b")
    assert python_regex("(?<n>x)(?<=y)(?<!z)") == "(?P<n>x)(?<=y)(?<!z)"
    assert split_pipeline('a="x|y" `m|n` | eval b=1') == ('a="x|y" `m|n`', "| eval b=1")
    assert split_pipeline("tag=a") == ("tag=a", "")


def test_load_is_cached():
    assert load_knowledge() is load_knowledge()


def test_dangling_references_are_refused(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / "sysmon_ta.yml"
    path.write_text(path.read_text().replace("sysmon-computer,", "sysmon-nope,", 1))
    with pytest.raises(ContentError, match="undefined transforms \\['sysmon-nope'\\]"):
        load_knowledge(data)

    shutil.rmtree(data)
    shutil.copytree(DATA_DIR, data)
    (data / "lookups" / "windows_actions.csv").unlink()
    with pytest.raises(ContentError, match="windows_actions.csv"):
        load_knowledge(data)
