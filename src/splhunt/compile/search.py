"""`search` expressions to SQL conditions, with Splunk's matching rules.

- Field names are case-sensitive; values match case-insensitively; `*` is a wildcard
  and every other character is literal.
- `f=v` is false when the event has no `f`; `f!=v` needs `f` to exist and differ, while
  `NOT f=v` also keeps events without `f`.
- `f=*` means the field exists.
- A multivalue field matches when any of its values matches.
- `<`, `>`, `<=`, `>=` compare numerically when the value and the field's value are both
  numbers, else lexicographically.
- A numeric bound (`n>9`) matches only values that are numbers.
- Bare terms match `_raw`. Splunk matches indexed terms; splhunt matches the term where it
  is bounded by non-alphanumeric characters (Splunk's breakers) or the ends of `_raw`,
  case-insensitively, with `*` as a wildcard.
"""

from __future__ import annotations

import re

from sqlglot import exp

from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, dbl, mv_any, num_to_str
from splhunt.compile.stage import MV, NUM, STR
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A


def like_pattern(value: str) -> str:
    """A Splunk wildcard value as a SQL LIKE pattern with `\\` as the escape character."""
    out = []
    for c in value:
        if c == "*":
            out.append("%")
        elif c in "%_\\":
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


def runtime_like_pattern(value: exp.Expression) -> exp.Expression:
    """A search value known only at run time (a lookup cell, a subsearch result) as a LIKE
    pattern with `\\` as the escape character: escape \\ % _, then `*` becomes `%`."""
    v = value
    for ch in ("\\", "%", "_"):
        v = exp.Replace(this=v, expression=exp.Literal.string(ch), replacement=exp.Literal.string("\\" + ch))
    return exp.Replace(this=v, expression=exp.Literal.string("*"), replacement=exp.Literal.string("%"))


def ci_match(col: exp.Expression, value: str) -> exp.Expression:
    """Case-insensitive wildcard match of a string expression against a search value."""
    low = exp.Lower(this=col)
    if "*" not in value:
        return exp.EQ(this=low, expression=exp.Literal.string(value.lower()))
    if value.strip("*") == "" :
        return exp.Not(this=exp.Is(this=col, expression=exp.Null()))
    like = exp.Like(this=low, expression=exp.Literal.string(like_pattern(value.lower())))
    return exp.Escape(this=like, expression=exp.Literal.string("\\"))


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _scalar_match(col: exp.Expression, kind: str, op: str, value: str) -> exp.Expression:
    """Match one scalar column (str or num) against a search value."""
    if op == "=":
        if kind == NUM:
            if _is_number(value):
                return exp.EQ(this=col, expression=exp.Literal.number(float(value)))
            return ci_match(num_to_str(col), value)
        return ci_match(col, value)
    cls = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[op]
    if _is_number(value):
        # a numeric bound matches numeric values only
        num = col if kind == NUM else dbl(col)
        return cls(this=num, expression=exp.Literal.number(float(value)))
    return cls(this=col if kind != NUM else num_to_str(col), expression=exp.Literal.string(value))


def field_match(t: Typed, op: str, value: str) -> exp.Expression:
    """`field OP value` for a compiled field of any kind (null field -> false)."""
    if t.kind == "null":
        return exp.false()
    if op == "!=":
        pos = field_match(t, "=", value)
        return exp.and_(
            exp.Not(this=exp.Is(this=t.sql, expression=exp.Null())),
            exp.Not(this=exp.Paren(this=exp.func("COALESCE", pos, exp.false()))),
        )
    if t.kind == MV:
        return mv_any(t.sql, lambda v: _scalar_match(v, STR, op, value))
    return _scalar_match(t.sql, t.kind, op, value)


_BOUND = "(?:^|[^a-z0-9])"
_BOUND_END = "(?:$|[^a-z0-9])"


def term_match(raw: exp.Expression, text: str) -> exp.Expression:
    """A bare term against _raw (see module docstring)."""
    parts = [re.escape(p) for p in text.lower().split("*")]
    body = ".*?".join(parts)
    starts = _BOUND if not text.startswith("*") else ""
    ends = _BOUND_END if not text.endswith("*") else ""
    pattern = f"{starts}{body}{ends}"
    return exp.RegexpLike(this=exp.Lower(this=raw), expression=exp.Literal.string(pattern))


def compile_search(node: A.SearchNode, ctx: Ctx) -> exp.Expression:
    """A search expression as a boolean SQL expression over `ctx.stage`."""
    if isinstance(node, A.SAll):
        return exp.true()
    if isinstance(node, A.SAnd):
        return exp.and_(*[_paren(compile_search(i, ctx)) for i in node.items])
    if isinstance(node, A.SOr):
        return exp.Paren(this=exp.or_(*[_paren(compile_search(i, ctx)) for i in node.items]))
    if isinstance(node, A.SNot):
        inner = compile_search(node.item, ctx)
        return exp.Not(this=exp.Paren(this=exp.func("COALESCE", inner, exp.false())))
    if isinstance(node, A.SCompare):
        return _compare(node.field, node.op, node.value, ctx)
    if isinstance(node, A.SIn):
        if not node.values:
            return exp.false()
        return exp.Paren(this=exp.or_(*[_compare(node.field, "=", v, ctx) for v in node.values]))
    if isinstance(node, A.STerm):
        if not ctx.stage.has("_raw"):
            raise SplUnsupportedError(
                f"search term '{node.text}' without _raw",
                "bare terms match _raw, which this result set no longer has; use field=value",
            )
        return term_match(ctx.field("_raw").sql, node.text)
    if isinstance(node, A.SSubsearch):
        from splhunt.compile.subsearch import compile_subsearch

        return compile_subsearch(node, ctx)
    raise SplUnsupportedError(f"search node {type(node).__name__}")


def _paren(e: exp.Expression) -> exp.Expression:
    return e if isinstance(e, exp.Paren) else exp.Paren(this=e)


def _compare(fieldname: str, op: str, value: str, ctx: Ctx) -> exp.Expression:
    if "*" in fieldname:
        names = ctx.stage.match(fieldname)
        if not names:
            return exp.false()
        return exp.Paren(this=exp.or_(*[_compare(n, op, value, ctx) for n in names]))
    t = ctx.field(fieldname)
    if op == "=" and value == "*":
        return exp.Not(this=exp.Is(this=t.sql, expression=exp.Null())) if t.kind != "null" else exp.false()
    return field_match(t, op, value)
