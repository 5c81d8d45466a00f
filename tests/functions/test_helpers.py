"""Unit tests for the parsing helpers behind the added commands and eval functions."""

from __future__ import annotations

import pytest

from splhunt.commands._shared import later_field_names, regex_groups
from splhunt.commands.bin import Span, parse_span
from splhunt.commands.replace import wildcard_repl, wildcard_rx
from splhunt.commands.rex import split_sed
from splhunt.errors import SplUnsupportedError
from splhunt.functions.jsonfuncs import spath_steps
from splhunt.functions.strings import printf_specs
from splhunt.functions.timefuncs import parse_modifier


def test_regex_groups_numbers_named_and_plain_groups() -> None:
    names, n = regex_groups(r"(a)(?<x>b)(?:c)(?P<y>d)(?'z'e)(?=f)[(]\(")
    assert names == {"x": 2, "y": 3, "z": 4}
    assert n == 4


def test_regex_groups_skips_classes_and_escapes() -> None:
    names, n = regex_groups(r"[^()]+\((?<v>[^)]*)\)")
    assert names == {"v": 1} and n == 1


def test_split_sed() -> None:
    assert split_sed("s/a\\/b/c/g") == ("s", ["a/b", "c", "g"])
    assert split_sed("s|x|y|") == ("s", ["x", "y", ""])
    assert split_sed("y/abc/xyz/") == ("y", ["abc", "xyz", ""])
    with pytest.raises(ValueError):
        split_sed("s/a/b")


def test_parse_span() -> None:
    assert parse_span("5m") == Span(300, "sec")
    assert parse_span("1h") == Span(3600, "sec")
    assert parse_span("2d") == Span(172800, "sec")
    assert parse_span("10") == Span(10, "num")
    assert parse_span("3mon") == Span(3, "month")
    assert parse_span("1y") == Span(12, "month")
    with pytest.raises(ValueError):
        parse_span("1w")
    with pytest.raises(ValueError):
        parse_span("5parsecs")


def test_parse_modifier() -> None:
    assert parse_modifier("-24h@h") == [("sec", -86400), ("snap", "h")]
    assert parse_modifier("@d+3h") == [("snap", "d"), ("sec", 10800)]
    assert parse_modifier("-1mon@mon") == [("mon", -1), ("snap", "mon")]
    assert parse_modifier("@w1") == [("snap", "w1")]
    assert parse_modifier("now") == []
    assert parse_modifier("-d") == [("sec", -86400)]
    with pytest.raises(ValueError):
        parse_modifier("@d@h")
    with pytest.raises(ValueError):
        parse_modifier("-3fortnights")


def test_spath_steps() -> None:
    parts, multi = spath_steps("a.b{}.c")
    assert [type(p).__name__ for p in parts] == ["JSONPathKey", "JSONPathKey", "JSONPathSubscript", "JSONPathKey"]
    assert multi
    parts, multi = spath_steps("{}")
    assert len(parts) == 1 and multi
    assert spath_steps("userIdentity.arn")[1] is False
    with pytest.raises(ValueError):
        spath_steps("a{1}")
    with pytest.raises(ValueError):
        spath_steps("a{@attr}")


def test_printf_specs() -> None:
    assert printf_specs("%s=%04d (%.2f%%) %x") == ["s", "d", "f", "x"]
    with pytest.raises(SplUnsupportedError):
        printf_specs("%'d")
    with pytest.raises(SplUnsupportedError):
        printf_specs("%*d")


def test_wildcard_replace_helpers() -> None:
    assert wildcard_rx("::ffff:*") == "^::ffff:(.*)$"
    assert wildcard_repl("localhost *", 1, "\\") == "localhost \\1"
    assert wildcard_repl("*-*", 2, "$") == "$1-$2"


def test_later_field_names() -> None:
    text = "spath input=x | where a.b > 1 | stats count by 'c d' user | table findings{} e"
    names = later_field_names(text, text.index("|"))
    for want in ("a.b", "user", "c d", "findings{}", "e"):
        assert want in names
    assert "by" not in names and "1" not in names


def test_only_group_keeps_one_capturing_group() -> None:
    from splhunt.commands._shared import only_group

    p = r"(a)(?<x>b)[(](?:c)(?P<y>d)\((e)"
    assert only_group(p, 2) == r"(?:a)(b)[(](?:c)(?:d)\((?:e)"
    assert only_group(p, 3) == r"(?:a)(?:b)[(](?:c)(d)\((?:e)"
