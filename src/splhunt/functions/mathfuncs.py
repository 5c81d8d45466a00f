"""Math and misc eval functions: ln, log, exp, random, searchmatch, commands.

Splunk Search Reference:
- ln(X), exp(X), log(X[, base=10]);
- random(): a pseudo-random integer from 0 to 2^31-1;
- searchmatch("search string"): true when the result matches the search expression,
  with search's matching rules (the string must be a literal);
- commands("search string"): the command names of a literal search, as a multivalue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from splhunt.compile.expr import Typed, to_num
from splhunt.compile.stage import BOOL, MV, NUM, STR
from splhunt.errors import SplhuntError, SplUnsupportedError
from splhunt.functions import function
from splhunt.spl import ast as A

if TYPE_CHECKING:
    from splhunt.compile.compiler import Ctx


@function("ln", 1)
def _ln(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.Ln(this=to_num(a[0])), NUM)


@function("exp", 1)
def _exp(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.Exp(this=to_num(a[0])), NUM)


@function("log", 1, 2)
def _log(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """log(X[, base]): logarithm, base 10 by default."""
    base = to_num(a[1]) if len(a) == 2 else exp.Literal.number(10)
    return Typed(exp.Div(this=exp.Ln(this=to_num(a[0])), expression=exp.Ln(this=base), typed=False, safe=True), NUM)


@function("random", 0)
def _random(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """random(): an integer from 0 to 2^31-1."""
    return Typed(exp.Floor(this=exp.Mul(this=exp.Rand(), expression=exp.Literal.number(2147483648))), NUM)


def _literal(t: Typed, fn: str) -> str:
    if not (t.literal and t.kind == STR):
        raise SplUnsupportedError(f"{fn}() with a non-literal argument", "the search must be a string literal")
    return str(t.sql.this)


@function("searchmatch", 1)
def _searchmatch(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """searchmatch("expr"): the search expression's verdict on the result."""
    from splhunt.compile.search import compile_search
    from splhunt.spl.parser import parse_search_expr

    node = parse_search_expr(_literal(a[0], "searchmatch"))
    return Typed(exp.func("COALESCE", compile_search(node, ctx), exp.false()), BOOL)


@function("commands", 1)
def _commands(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """commands("search"): the names of the commands the search uses."""
    from splhunt.spl.lexer import tokenize
    from splhunt.spl.parser import split_pipeline

    text = _literal(a[0], "commands")
    names: list[str] = []
    try:
        for i, (s, e) in enumerate(split_pipeline(text)):
            toks = tokenize(text, s, e)
            if toks[0].type == "EOF":
                continue
            first = toks[0].value.lower() if toks[0].type == "WORD" else ""
            from splhunt.commands import COMMANDS

            if i == 0 and (first not in COMMANDS or (len(toks) > 1 and toks[1].type == "OP" and toks[1].value == "=")):
                first = "search"
            names.append(first)
    except SplhuntError as e:
        raise SplUnsupportedError("commands() of a search that does not parse", str(e)) from None
    return Typed(exp.Array(expressions=[exp.Literal.string(n) for n in names]), MV)
