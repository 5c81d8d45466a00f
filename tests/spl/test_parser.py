"""Parser: structure, precedence and error positions."""

from __future__ import annotations

import pytest

from splhunt.errors import MacroError, SplSyntaxError, SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.macros import MacroDef, MacroLibrary
from splhunt.spl.parser import parse, parse_eval, parse_search_expr


def test_implicit_and_binds_looser_than_or() -> None:
    node = parse_search_expr("a=1 b=2 OR c=3")
    assert isinstance(node, A.SAnd)
    assert isinstance(node.items[1], A.SOr)


def test_pipeline_commands_and_leading_pipe() -> None:
    p = parse("| tstats count from datamodel=Endpoint.Processes" if False else "| makeresults" if False else "search a=1 | stats count by b | rename b as c")
    assert [c.name for c in p.commands] == ["search", "stats", "rename"]


def test_pipe_inside_quotes_is_not_a_separator() -> None:
    p = parse('search cmd="a | b" | stats count')
    assert len(p.commands) == 2
    assert p.commands[0].expr.value == "a | b"


def test_string_escapes() -> None:
    node = parse_search_expr(r'x="C:\\Windows\\\"q\" \d"')
    assert node.value == 'C:\\Windows\\"q" \\d'


def test_syntax_error_points_at_position() -> None:
    with pytest.raises(SplSyntaxError) as ei:
        parse("search a=1 | stats count by")
    e = ei.value
    assert e.line == 1 and "^" in str(e)
    with pytest.raises(SplSyntaxError) as ei:
        parse('search a="unterminated')
    assert ei.value.col == 10


def test_multiline_error_line_and_column() -> None:
    with pytest.raises(SplSyntaxError) as ei:
        parse("search a=1\n| eval x=(1+ \n| table x")
    assert ei.value.line == 2


def test_unknown_command_refused_by_name() -> None:
    with pytest.raises(SplUnsupportedError, match="frobnicate"):
        parse("search a=1 | frobnicate x")


def test_eval_precedence() -> None:
    e = parse_eval("a + b * 2 > 3 AND NOT c OR d")
    assert isinstance(e, A.BinOp) and e.op == "OR"
    left = e.left
    assert isinstance(left, A.BinOp) and left.op == "AND"
    assert isinstance(left.right, A.UnOp)


def test_eval_in_and_dotted_field() -> None:
    e = parse_eval("'Processes.process_name' IN (\"a\", \"b\")")
    assert isinstance(e, A.InList)
    assert e.expr == A.Field("Processes.process_name")


def test_eval_unquoted_dot_is_concatenation() -> None:
    """Splunk's eval: a field name with a period must be single-quoted; `a.b` is a . b."""
    e = parse_eval("RTLO_file_1.RTLO_file_2")
    assert isinstance(e, A.BinOp) and e.op == "."
    assert (e.left, e.right) == (A.Field("RTLO_file_1"), A.Field("RTLO_file_2"))


def test_subsearch_parses() -> None:
    p = parse("search a=1 [search b=2 | fields c]")
    sub = p.commands[0].expr.items[1]
    assert isinstance(sub, A.SSubsearch)
    assert [c.name for c in sub.pipeline.commands] == ["search", "fields"]


def test_comments_removed() -> None:
    lib = MacroLibrary()
    text = lib.expand("search a=1 ```a comment | with pipe``` | stats count")
    assert len(parse(text).commands) == 2


def test_macro_args_and_filter_default() -> None:
    lib = MacroLibrary({"m(2)": MacroDef("m", "search $x$=$y$", ("x", "y"))})
    out = lib.expand("`m(user, \"a,b\")` | `foo_filter`")
    assert out == 'search user="a,b" | search *'


def test_drop_dm_object_name_builtin() -> None:
    assert MacroLibrary().expand("`drop_dm_object_name(Processes)`") == "rename Processes.* AS *"


def test_unknown_macro_and_recursion() -> None:
    with pytest.raises(MacroError, match="nope"):
        MacroLibrary().expand("`nope`")
    lib = MacroLibrary({"r": MacroDef("r", "`r`")})
    with pytest.raises(MacroError, match="recursively"):
        lib.expand("`r`")
