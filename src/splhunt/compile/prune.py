"""Column pruning: the base fields a pipeline can read, so a search starts from only those.

The search-time view has hundreds of fields (every add-on field of every source); a
search reads a handful. Every CTE of a compiled search carries all of its input's
fields, so both compiling and DuckDB's binder do work proportional to fields x
commands. Starting a pipeline from a base restricted to the fields it can read gives
the same rows, provided the restriction keeps every field whose value or presence can
reach the result. `needed_fields` decides that conservatively from the parsed
pipeline and answers None (no pruning) whenever it cannot tell.

A base field can reach the result only by being read. A command reads a field
  * by name: a field reference, a search comparison, a `by` list, a lookup input...
    (every word of every string in the pipeline counts as a name, values included, so
    `searchmatch("x=1")` or a rex group name keep `x`; case-insensitively);
  * by wildcard: `table process*`, `rename Processes.* AS *` (the source side),
    `foreach *`, `stats values(*)`: every base field the pattern matches is kept;
  * implicitly, all at once: `transaction`, `mvcombine`, `addtotals`, `untable`,
    `appendpipe`'s subpipeline, `join` without a field list (it joins on the fields
    both sides share), a subsearch in a search expression (its output columns become
    field names; after the result's columns are fixed it only filters them, and is
    itself held to the rule below), and any command not listed here. Before the
    result's columns are fixed such a command means no pruning.
The result's own columns must not depend on the base: the pipeline must reach a
command that fixes them (stats, tstats, chart, timechart, top, rare, table, positive
`fields`, xyseries) or start with a generating command that reads no events; after
that point the base no longer matters, except to subsearches that read events again
(`join`/`append`), which must satisfy the same rule. `_time` (the default result
order), `_raw` (bare search terms) and the other core fields are always kept.

Data model datasets (`tstats`, `from datamodel`) read the fields of their constraints,
calculations and field lists: every word of the resolved dataset definition is kept.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from splhunt.spl import ast as A

#: fields every pruned base keeps
ALWAYS = ("_time", "_raw", "host", "source", "sourcetype", "index")

#: commands that fix the result's columns (their output does not depend on the base)
_CLOSING = {"stats", "tstats", "chart", "timechart", "top", "rare", "table", "xyseries"}
#: generating commands that read no events
_NO_EVENTS = {"makeresults", "inputlookup"}
#: commands that read only the fields they name (or match by wildcard)
_NAMED = {
    "search", "where", "eval", "rename", "convert", "rex", "lookup", "bin", "bucket",
    "discretize", "fillnull", "regex", "mvexpand", "dedup", "sort", "head", "tail",
    "reverse", "spath", "xmlkv", "fromjson", "replace", "makemv", "nomv", "iplocation",
    "eventstats", "streamstats", "foreach", "fields", "join", "append", "from",
}
#: string attributes that hold values or texts, never field names (no wildcard meaning)
_TEXT_ATTRS = {"pattern", "template", "value", "timeformat", "delim", "tokenizer", "prefix",
               "path", "options", "text", "mode", "table", "func", "type"}

_WORDS = re.compile(r"[^\s\"'`=,()|\[\]!<>+*/%;]+")
_PARTS = re.compile(r"\w+")


class _NoPrune(Exception):
    """The pipeline may read fields it does not name."""


class _Refs:
    def __init__(self) -> None:
        self.names: set[str] = set()
        self.patterns: set[str] = set()

    def words(self, text: str) -> None:
        self.names.add(text)
        for w in _WORDS.findall(text):
            self.names.add(w)
            self.names.update(_PARTS.findall(w))

    def field(self, name: str) -> None:
        self.words(name)
        if "*" in name:
            self.patterns.add(name)


def _dataset_words(refs: _Refs, spec: str) -> None:
    from splhunt.compile.datamodel import resolve

    try:
        model, ds = resolve(spec)
    except Exception:  # noqa: BLE001 - the compile reports it; here: no pruning
        raise _NoPrune from None
    refs.words(repr(ds))
    refs.words(repr(getattr(model, "macros", None)))


def _walk(obj: Any, refs: _Refs, *, text: bool = False, closed: bool = False) -> None:
    """Collect the names (and wildcard patterns) in one command's parsed form."""
    if obj is None or isinstance(obj, bool | int | float):
        return
    if isinstance(obj, str):
        if text:
            refs.words(obj)
        else:
            refs.field(obj)
        return
    if isinstance(obj, A.Pipeline):
        _pipeline(obj, refs, sub=True)
        return
    if isinstance(obj, A.SSubsearch):
        if not closed:
            raise _NoPrune  # its result columns become field names this search reads
        _pipeline(obj.pipeline, refs, sub=True)
        return
    if isinstance(obj, A.Lit):
        if isinstance(obj.value, str):
            refs.words(obj.value)
        return
    if isinstance(obj, A.Field):
        refs.field(obj.name)
        return
    if isinstance(obj, A.Call):
        for a in obj.args:
            _walk(a, refs, closed=closed)
        return
    if isinstance(obj, A.BinOp):
        _walk(obj.left, refs, closed=closed)
        _walk(obj.right, refs, closed=closed)
        return
    if isinstance(obj, A.UnOp):
        _walk(obj.operand, refs, closed=closed)
        return
    if isinstance(obj, A.SCompare):
        refs.field(obj.field)
        refs.words(obj.value)
        return
    if isinstance(obj, A.SIn):
        refs.field(obj.field)
        for v in obj.values:
            refs.words(v)
        return
    if isinstance(obj, A.STerm):
        refs.words(obj.text)
        return
    if isinstance(obj, tuple | list | set | frozenset):
        for x in obj:
            _walk(x, refs, text=text, closed=closed)
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            _walk(k, refs, text=True, closed=closed)
            _walk(v, refs, text=text, closed=closed)
        return
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            if f.name in ("name", "pos") and isinstance(obj, A.Command):
                continue
            _walk(getattr(obj, f.name), refs, text=text or f.name in _TEXT_ATTRS, closed=closed)
        return
    # anything else (an enum, a span object without dataclass...): its text
    refs.words(str(obj))


def _command(cmd: A.Command, refs: _Refs, closed: bool) -> None:
    name = cmd.name
    if name == "rename":
        # the target side only writes; a later read of it is collected where it happens
        for old, _new in getattr(cmd, "pairs", ()):
            refs.field(old)
        return
    if name == "replace":
        for old, new in getattr(cmd, "pairs", ()):
            refs.words(old)
            refs.words(new)
        _walk(getattr(cmd, "fields", ()), refs, closed=closed)
        return
    if name in ("tstats", "from"):
        _dataset_words(refs, getattr(cmd, "datamodel", ""))
    # a subsearch in tstats' `where` filters data model fields, which the dataset words
    # keep whatever it returns
    _walk(cmd, refs, closed=closed or name == "tstats")


def _closes(cmd: A.Command) -> bool:
    if cmd.name in _CLOSING:
        return True
    return cmd.name == "fields" and not getattr(cmd, "remove", True)


def _pipeline(p: A.Pipeline, refs: _Refs, *, sub: bool) -> None:
    closed = bool(p.commands) and p.commands[0].name in _NO_EVENTS
    for cmd in p.commands:
        if not closed:
            if cmd.name not in _NAMED and not _closes(cmd):
                raise _NoPrune
            if cmd.name == "join" and not getattr(cmd, "fields", ()):
                raise _NoPrune  # joins on the fields both sides share
        _command(cmd, refs, closed)
        if _closes(cmd):
            closed = True
    if not closed:
        raise _NoPrune


def needed_fields(pipeline: A.Pipeline, fields: Iterable[str]) -> list[str] | None:
    """The base fields (of `fields`, in their order) `pipeline` can read, or None when
    it may read fields it does not name (see the module docstring)."""
    refs = _Refs()
    try:
        _pipeline(pipeline, refs, sub=False)
    except _NoPrune:
        return None
    names = {n.lower() for n in refs.names} | set(ALWAYS)
    rxs = [re.compile("".join(".*" if c == "*" else re.escape(c) for c in p), re.S | re.I)
           for p in refs.patterns]
    out = []
    for f in fields:
        if f.lower() in names or f in ALWAYS or any(rx.fullmatch(f) for rx in rxs):
            out.append(f)
    return out
