"""Every SPL string in the data is well formed: balanced quotes/parentheses/backticks, regexes
that compile, and (when the project's SPL parser is importable) expressions that parse."""

from __future__ import annotations

import re

import pytest

from splhunt.knowledge.conf import python_regex


def unbalanced(text: str) -> str | None:
    """Why `text` is not balanced SPL, or None. Strings are "..." with backslash escapes;
    parentheses inside strings do not count; backtick macros must close."""
    depth = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            if i >= len(text):
                return "unterminated string"
        elif c == "`":
            j = text.find("`", i + 1)
            if j < 0:
                return "unterminated macro"
            i = j
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return f"unmatched ) at {i}"
        i += 1
    return f"{depth} unclosed (" if depth else None


def spl_strings(knowledge):
    """(label, kind, text) for every EVAL, eventtype search and data model search/eval."""
    for s in knowledge.stanzas:
        for e in s.evals:
            yield f"[{s.name}] EVAL-{e.cls}", "eval", e.expression
    for et in knowledge.eventtypes:
        yield f"eventtype {et.name}", "search", et.search
    for dm in knowledge.datamodels.values():
        for ds in dm.datasets.values():
            yield f"{dm.name}.{ds.name} constraint", "search", ds.search_constraint
            if ds.base_search:
                yield f"{dm.name}.{ds.name} base_search", "pipeline", ds.base_search
            for c in ds.calculations:
                if c.expression:
                    yield f"{dm.name}.{ds.name} eval {c.outputs[0]}", "eval", c.expression


def test_the_checker_catches_what_it_should():
    assert unbalanced('replace(x,"(\\\\\\)","")') is None
    assert unbalanced('replace(replace(C,"(\\\\\\\\\\"\\")",""),".+(\\\\\\\\\\")","" )') is None
    assert unbalanced('case(a, "b"') == "1 unclosed ("
    assert unbalanced('if(a, "b)') == "unterminated string"
    assert unbalanced("(`cim_x_indexes) tag=a") == "unterminated macro"


def test_every_spl_string_is_balanced(knowledge):
    strings = list(spl_strings(knowledge))
    assert len(strings) > 150
    bad = [(label, why) for label, _, text in strings if (why := unbalanced(text))]
    assert bad == []


def test_every_regex_compiles(knowledge):
    regexes = [(t.name, t.regex) for t in knowledge.transforms.values() if t.regex]
    regexes += [(f"EXTRACT-{r.cls}", r.regex) for s in knowledge.stanzas for r in s.extracts]
    assert len(regexes) > 40
    bad = []
    for name, regex in regexes:
        try:
            re.compile(python_regex(regex), re.ASCII)
        except re.error as exc:
            bad.append((name, regex, str(exc)))
    assert bad == []


def test_every_spl_string_parses_with_the_project_parser(knowledge):
    parser = pytest.importorskip("splhunt.spl.parser", reason="SPL parser not available")
    parse_eval = getattr(parser, "parse_eval", None)
    parse_search = getattr(parser, "parse_search_expr", None)
    if parse_eval is None or parse_search is None:
        pytest.skip("splhunt.spl.parser has no parse_eval/parse_search_expr")
    macros = {n: d for dm in knowledge.datamodels.values() for n, d in dm.macros.items()}
    failures = []
    for label, kind, text in spl_strings(knowledge):
        if kind == "pipeline":
            continue
        for name, definition in macros.items():
            text = text.replace(f"`{name}`", definition)
        try:
            (parse_eval if kind == "eval" else parse_search)(text)
        except Exception as exc:  # noqa: BLE001 - report every failure at once
            failures.append((label, f"{type(exc).__name__}: {exc}"))
    assert failures == []
