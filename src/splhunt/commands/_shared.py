"""Helpers shared by the commands added alongside this module (not a command itself).

- `ensure_order`: materialise the current result order as the hidden `__ord` field, so
  joins, window functions and unions keep Splunk's order.
- `compile_subsearch` / `compile_subpipeline`: compile `[ ... ]` text into CTEs of the
  same query (one compiler, one CTE list, no name clashes).
- `union_stages`: `append`-style union of stages whose fields differ.
- `later_field_names`: field names the rest of the query mentions (used by the
  auto-extracting commands, which must know their output fields at compile time).
- `regex_groups`: named capture groups of a PCRE pattern with their group numbers.
- `cast_kind`: a typed value cast to a stage kind (str/num/mv).
"""

from __future__ import annotations

import re

from sqlglot import exp

from splhunt.compile.compiler import Compiler, Ctx
from splhunt.compile.expr import Typed, num_to_str, to_mv, to_num, to_str
from splhunt.compile.stage import (
    MV,
    NULL,
    NUM,
    ORDER,
    STR,
    FieldInfo,
    Stage,
    allocate,
    colref,
    ident,
)
from splhunt.errors import SplSyntaxError
from splhunt.spl import ast as A
from splhunt.spl.lexer import QNAME, SUBSEARCH, WORD, Token, tokenize

SQL_TYPES = {STR: "VARCHAR", NUM: "DOUBLE", MV: "VARCHAR[]"}


def sql_type(kind: str) -> exp.DataType:
    return exp.DataType.build(SQL_TYPES.get(kind, "VARCHAR"))


def truthy(v: str | None, default: bool = False) -> bool:
    """Splunk boolean option values: true/t/1/yes and false/f/0/no."""
    if v is None:
        return default
    return v.strip().lower() in ("true", "t", "1", "yes", "y")


def aliased(stage: Stage, alias: str) -> exp.Table:
    """The stage's relation as `"<name>" AS "<alias>"` (for joins)."""
    return exp.Table(this=ident(stage.name), alias=exp.TableAlias(this=ident(alias)))


def fields_before_options(p, stop: tuple[str, ...] = ()) -> list[str]:  # p: CommandParser
    """Field names (commas allowed) up to a stop word, a `key=value` option or the end."""
    out: list[str] = []
    while not p.at_end():
        t = p.peek()
        if t.type == "OP" and t.value == ",":
            p.next()
            continue
        if t.type not in (WORD, "STRING") or (t.type == WORD and t.value.lower() in stop):
            break
        nxt = p.peek(1)
        if nxt.type == "OP" and nxt.value == "=":
            break
        out.append(t.value)
        p.next()
    return out


# ---------------------------------------------------------------- ordering


def ensure_order(ctx: Ctx, stage: Stage | None = None) -> Stage:
    """The stage with its result order pinned in the hidden `__ord` field (1, 2, ...)."""
    stage = stage or ctx.stage
    if ORDER in stage.fields:
        return stage
    return ctx.compiler.pin_order(stage)


# ---------------------------------------------------------------- subsearches


def subsearch_token(p) -> Token:  # p: CommandParser
    t = p.peek()
    if t.type != SUBSEARCH:
        raise p.error("expected a subsearch in [ ]")
    p.next()
    return t


def parse_subsearch(text: str, tok: Token) -> A.Pipeline:
    from splhunt.spl.parser import parse

    inner = text[tok.pos + 1 : tok.end - 1]
    if not inner.strip():
        raise SplSyntaxError("empty subsearch", text, tok.pos)
    return parse(text, tok.pos + 1, tok.end - 1, subsearch=True)


def compile_subsearch(ctx: Ctx, pipeline: A.Pipeline) -> Stage:
    """Compile a subsearch from the base relation; its CTEs join the same query."""
    first = pipeline.commands[0]
    start = Stage("_none", {}) if getattr(first, "generating", False) else None
    return ctx.compiler.compile_commands(pipeline.commands, start)


def compile_subpipeline(ctx: Ctx, pipeline: A.Pipeline, stage: Stage) -> Stage:
    """Compile commands over `stage` (appendpipe's subpipeline)."""
    return ctx.compiler.compile_commands(pipeline.commands, stage)


# ---------------------------------------------------------------- unions


def unify_kind(kinds: list[str]) -> str:
    ks = {k for k in kinds if k != NULL}
    if not ks:
        return STR
    if len(ks) == 1:
        return ks.pop()
    if MV in ks:
        return MV
    return STR


def cast_kind(t: Typed, kind: str) -> exp.Expression:
    """`t` as a column of `kind`, cast to that kind's SQL type."""
    if t.kind == NULL:
        return exp.Cast(this=exp.Null(), to=sql_type(kind))
    if kind == MV:
        e = to_mv(t)
    elif kind == NUM:
        e = to_num(t)
    else:
        e = to_str(t)
    return exp.Cast(this=e, to=sql_type(kind))


def union_stages(ctx: Ctx, parts: list[Stage]) -> Stage:
    """Rows of every part, part after part, each in its own order (Splunk's append).

    Fields are the union in first-seen order; a field that is a number in one part
    and a string in another becomes a string (a list when any part has a list).
    """
    cc = ctx.compiler
    names: list[str] = []
    kinds: dict[str, list[str]] = {}
    for st in parts:
        for f, fi in st.fields.items():
            if f == ORDER:
                continue
            if f not in kinds:
                names.append(f)
                kinds[f] = []
            kinds[f].append(fi.kind)
    final = {f: unify_kind(kinds[f]) for f in names}
    taken: set[str] = set()
    cols: dict[str, str] = {}
    for f in names:
        cols[f] = allocate(f, taken)
        taken.add(cols[f].lower())
    pcol = allocate("__part", taken)
    taken.add(pcol.lower())
    ocol = allocate("__porder", taken)
    taken.add(ocol.lower())
    selects: list[exp.Select] = []
    for i, st in enumerate(parts):
        sctx = Ctx(cc, st)
        proj: list[exp.Expression] = []
        for f in names:
            t = sctx.field(f) if st.has(f) else Typed(exp.Null(), NULL)
            if st.has(f) and st.kind(f) == final[f] and final[f] != NUM:
                e: exp.Expression = t.sql
            else:
                e = cast_kind(t, final[f])
            proj.append(exp.alias_(e, ident(cols[f])))
        order = Compiler.ordering(st)
        win = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order) if order else None)
        proj.append(exp.alias_(exp.Literal.number(i), ident(pcol)))
        proj.append(exp.alias_(win, ident(ocol)))
        if st.name == "_none":
            selects.append(exp.select(*proj).where(exp.false()))
        else:
            selects.append(cc.select_from(st).select(*proj))
    u: exp.Expression = selects[0]
    for s in selects[1:]:
        u = exp.union(u, s, distinct=False)
    fields = {f: FieldInfo(cols[f], final[f]) for f in names}
    mid = cc.push(u, {**fields, "__part": FieldInfo(pcol, NUM), "__porder": FieldInfo(ocol, NUM)})
    rcol = allocate(ORDER, taken)
    win = exp.Window(
        this=exp.RowNumber(),
        order=exp.Order(expressions=[exp.Ordered(this=colref(pcol)), exp.Ordered(this=colref(ocol))]),
    )
    sel = cc.select_from(mid).select(*[colref(fi.col) for fi in fields.values()], exp.alias_(win, ident(rcol)))
    return cc.push(sel, {**fields, ORDER: FieldInfo(rcol, NUM)})


# ---------------------------------------------------------------- lookahead for dynamic fields

_NOT_FIELDS = {"and", "or", "not", "by", "as", "in", "like", "with", "over", "output", "outputnew", "where"}


def _segments(text: str, start: int) -> list[tuple[int, int]]:
    """Spans of text[start:] between `|` and `[`/`]` characters outside double quotes."""
    spans: list[tuple[int, int]] = []
    seg = start
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c in "|[]":
            spans.append((seg, i))
            seg = i + 1
        i += 1
    spans.append((seg, n))
    return spans


def later_field_names(text: str, start: int) -> list[str]:
    """Words the query mentions after offset `start` that could be field names.

    Commands that name their output fields from the data (spath without a path,
    xmlkv, fromjson) extract these: every field a later command refers to by name.
    Each command's text is read both as search words and as eval tokens (where
    `'quoted names'` are fields); text that does not tokenize is skipped. A wildcard
    name with one `*` (`rename RuleAndFileData.* as *`) adds, for every plain name `n`
    found, the name with `n` in place of the `*` (`RuleAndFileData.PolicyName`).
    """
    out: list[str] = []
    seen: set[str] = set()
    patterns: list[str] = []
    for s, e in _segments(text, start):
        for mode in ("search", "eval"):
            try:
                toks = tokenize(text, s, min(e, len(text)), mode=mode)
            except SplSyntaxError:
                continue
            for t in toks:
                if t.type not in (WORD, QNAME):
                    continue
                v = t.value
                if v.count("*") == 1 and v != "*" and "=" not in v and v not in patterns:
                    patterns.append(v)
                    continue
                if not v or v in seen or "=" in v or "*" in v or v.startswith(("-", "+", "$", "`")):
                    continue
                if t.type == WORD and ("'" in v or '"' in v):
                    continue
                if v.lower() in _NOT_FIELDS or re.fullmatch(r"[\d.]+", v):
                    continue
                seen.add(v)
                out.append(v)
    plain = list(out)
    for pat in patterns:
        head, tail = pat.split("*")
        for n in plain:
            full = f"{head}{n}{tail}"
            if full not in seen:
                seen.add(full)
                out.append(full)
    return out


# ---------------------------------------------------------------- regex groups


def _group_opens(pattern: str) -> list[tuple[int, int]]:
    """(offset, length of the opener) of every capturing group's `(`, in group order."""
    out: list[tuple[int, int]] = []
    i = 0
    L = len(pattern)
    while i < L:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < L and pattern[j] == "^":
                j += 1
            if j < L and pattern[j] == "]":
                j += 1
            while j < L and pattern[j] != "]":
                if pattern[j] == "\\":
                    j += 1
                elif pattern[j] == "[" and j + 1 < L and pattern[j + 1] == ":":
                    k = pattern.find(":]", j + 2)
                    if k != -1:
                        j = k + 1
                j += 1
            i = j + 1
            continue
        if c == "(":
            rest = pattern[i + 1 :]
            m = re.match(r"\?(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')", rest)
            if m:
                out.append((i, 1 + m.end()))
            elif not rest.startswith("?") and not rest.startswith("*"):
                out.append((i, 1))
        i += 1
    return out


def only_group(pattern: str, group: int) -> str:
    """`pattern` with every capturing group but number `group` made non-capturing.

    The kept group becomes group 1 (engines such as DuckDB take group numbers up to 9
    only). The caller must not use it on patterns with backreferences.
    """
    out: list[str] = []
    last = 0
    for n, (pos, length) in enumerate(_group_opens(pattern), start=1):
        out.append(pattern[last:pos])
        out.append("(" if n == group else "(?:")
        last = pos + length
    out.append(pattern[last:])
    return "".join(out)


def regex_groups(pattern: str) -> tuple[dict[str, int], int]:
    """Named groups of a PCRE pattern -> their 1-based group numbers, and the group count."""
    names: dict[str, int] = {}
    n = 0
    i = 0
    L = len(pattern)
    while i < L:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < L and pattern[j] == "^":
                j += 1
            if j < L and pattern[j] == "]":
                j += 1
            while j < L and pattern[j] != "]":
                if pattern[j] == "\\":
                    j += 1
                elif pattern[j] == "[" and j + 1 < L and pattern[j + 1] == ":":
                    k = pattern.find(":]", j + 2)
                    if k != -1:
                        j = k + 1
                j += 1
            i = j + 1
            continue
        if c == "(":
            rest = pattern[i + 1 :]
            m = re.match(r"\?(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')", rest)
            if m:
                n += 1
                names[m.group(1) or m.group(2)] = n
            elif not rest.startswith("?") and not rest.startswith("*"):
                n += 1
        i += 1
    return names, n


__all__ = [
    "only_group",
    "fields_before_options",
    "aliased",
    "cast_kind",
    "compile_subpipeline",
    "compile_subsearch",
    "ensure_order",
    "later_field_names",
    "num_to_str",
    "parse_subsearch",
    "regex_groups",
    "subsearch_token",
    "truthy",
    "union_stages",
]
