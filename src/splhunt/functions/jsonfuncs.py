"""JSON eval functions: spath(), json_extract(), json_object(), json_array(), json_keys(),
json_valid(); and the Splunk-path -> JSON-path translation the spath command shares.

Splunk paths (Search Reference, spath): steps separated by `.`, a step `name{}` takes
every element of an array (the result is multivalue), a leading `{}` the elements of a
top-level array. Array positions (`{N}`) and XML attributes (`{@a}`) are refused.
Values come back as text: objects and arrays as their JSON text, JSON null as null.
Text that is not JSON gives null (splhunt reads JSON only; XML input gives nothing).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from splhunt.compile.expr import Typed, lit, to_mv, to_str
from splhunt.compile.stage import BOOL, MV, NULL, NUM, STR
from splhunt.errors import CompileError, SplUnsupportedError
from splhunt.functions import function
from splhunt.spl import ast as A

if TYPE_CHECKING:
    from splhunt.compile.compiler import Ctx

_STEP = re.compile(r"([^.{}]*)((?:\{[^}]*\})*)")


def spath_steps(path: str) -> tuple[list[exp.Expression], bool]:
    """A Splunk spath path as JSON path parts (after the root), and whether it is multivalue."""
    parts: list[exp.Expression] = []
    multi = False
    p = path.strip()
    if not p:
        raise ValueError("empty path")
    i = 0
    while i < len(p):
        m = _STEP.match(p, i)
        assert m is not None
        name, braces = m.group(1), m.group(2)
        if not name and not braces:
            raise ValueError(f"bad path {path!r}")
        if name:
            parts.append(exp.JSONPathKey(this=name))
        for b in re.findall(r"\{([^}]*)\}", braces):
            if b == "":
                parts.append(exp.JSONPathSubscript(this=exp.JSONPathWildcard()))
                multi = True
            elif b.startswith("@"):
                raise ValueError("XML attributes ({@attr}) are not supported")
            else:
                raise ValueError("array positions ({N}) are not supported")
        i = m.end()
        if i < len(p):
            if p[i] != ".":
                raise ValueError(f"bad path {path!r}")
            i += 1
    return parts, multi


def json_guard(ctx: Ctx, s: exp.Expression, value: exp.Expression) -> exp.Expression:
    """`value` only where `s` is valid JSON (DuckDB fails on malformed JSON; Spark gives null)."""
    if ctx.caps.dialect != "duckdb":
        return value
    valid = exp.Anonymous(this="json_valid", expressions=[s])
    return exp.Case(ifs=[exp.If(this=valid, true=value)], default=exp.Null())


def json_path_value(ctx: Ctx, s: exp.Expression, path: str, *, scalars_only: bool = False) -> Typed:
    """The value at Splunk path `path` of JSON text `s` (null when absent or not JSON)."""
    try:
        parts, multi = spath_steps(path)
    except ValueError as e:
        raise SplUnsupportedError(f"spath path {path!r}", str(e)) from None
    jp = exp.JSONPath(expressions=[exp.JSONPathRoot(), *parts])
    val: exp.Expression = exp.JSONExtractScalar(this=s, expression=jp)
    if multi:
        val = exp.Case(
            ifs=[exp.If(this=exp.EQ(this=exp.ArraySize(this=val), expression=exp.Literal.number(0)), true=exp.Null())],
            default=val,
        )
        return Typed(json_guard(ctx, s, val), MV)
    if scalars_only and ctx.caps.dialect == "duckdb":
        # (other engines: objects and arrays stay as their JSON text)
        jt = exp.Anonymous(this="json_type", expressions=[s, jp.copy()])
        val = exp.Case(
            ifs=[exp.If(this=exp.In(this=jt, expressions=[exp.Literal.string("OBJECT"), exp.Literal.string("ARRAY")]), true=exp.Null())],
            default=val,
        )
    return Typed(json_guard(ctx, s, val), STR)


def _literal(t: Typed, fn: str, what: str = "path") -> str:
    if not (t.literal and t.kind == STR):
        raise SplUnsupportedError(f"{fn}() with a non-literal {what}", f"the {what} must be a string literal")
    return str(t.sql.this)


@function("spath", 2)
def _spath(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """spath(json, path): the value at a Splunk path (multivalue for `{}` steps)."""
    return json_path_value(ctx, to_str(a[0]), _literal(a[1], "spath"))


@function("json_extract", 1, None)
def _json_extract(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """json_extract(json[, path, ...]): the value at each path (no path: the JSON itself).

    One path gives its value; several give a multivalue of their values. Paths use
    Splunk's spath syntax.
    """
    s = to_str(a[0])
    if len(a) == 1:
        return Typed(json_guard(ctx, s, s), STR)
    vals = [json_path_value(ctx, s, _literal(t, "json_extract")) for t in a[1:]]
    if len(vals) == 1:
        return vals[0]
    parts = [exp.func("COALESCE", to_mv(v), exp.Array(expressions=[])) for v in vals]
    out = parts[0]
    for p in parts[1:]:
        out = exp.ArrayConcat(this=out, expressions=[p])
    return Typed(out, MV)


def _json_value(t: Typed) -> exp.Expression:
    """A value for json_object()/json_array(): numbers stay numbers, the rest text."""
    if t.kind == NUM:
        return t.sql
    if t.kind == BOOL:
        return t.sql
    if t.kind == NULL:
        return exp.Null()
    if t.kind == MV:
        return t.sql
    return to_str(t)


@function("json_object", 0, None)
def _json_object(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """json_object(k1, v1, ...): a JSON object text."""
    if len(a) % 2:
        raise CompileError("json_object() takes key/value pairs")
    kv = [exp.JSONKeyValue(this=to_str(k), expression=_json_value(v)) for k, v in zip(a[0::2], a[1::2], strict=True)]
    return Typed(exp.Cast(this=exp.JSONObject(expressions=kv), to=exp.DataType.build("VARCHAR")), STR)


@function("json_array", 0, None)
def _json_array(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """json_array(v1, ...): a JSON array text."""
    return Typed(
        exp.Cast(this=exp.JSONArray(expressions=[_json_value(v) for v in a]), to=exp.DataType.build("VARCHAR")), STR
    )


@function("json_keys", 1)
def _json_keys(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """json_keys(json): the top-level keys of an object, as a JSON array text."""
    s = to_str(a[0])
    keys = exp.JSONKeys(this=s)
    arr = exp.Cast(this=exp.Cast(this=keys, to=exp.DataType.build("JSON")), to=exp.DataType.build("VARCHAR"))
    return Typed(json_guard(ctx, s, arr), STR)


@function("json_valid", 1)
def _json_valid(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """json_valid(text): true when the text is valid JSON (DuckDB's json_valid)."""
    if ctx.caps.dialect != "duckdb":
        raise SplUnsupportedError("eval function json_valid()", f"no JSON validation on {ctx.caps.dialect}")
    s = to_str(a[0])
    return Typed(exp.func("COALESCE", exp.Anonymous(this="json_valid", expressions=[s]), exp.false()), BOOL)


_ = lit
