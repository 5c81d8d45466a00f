"""Readers for the small .conf value languages the knowledge data keeps verbatim.

The YAML files hold attribute values exactly as Splunk's props.conf / transforms.conf write them
(`FIELDALIAS-x = A AS b`, `LOOKUP-x = table in OUTPUTNEW out AS f`, stanza names such as
`source::...`). These functions turn those strings into parts; nothing here evaluates SPL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from splhunt.errors import ContentError

SOURCE = "source"
HOST = "host"
SOURCETYPE = "sourcetype"

#: props.conf.spec: [source::] beats [host::] beats [<sourcetype>] (TA_FIELDS.md §1).
KIND_RANK = {SOURCE: 0, HOST: 1, SOURCETYPE: 2}

_WILDCARD_CHARS = set("*|()[]?{}")


@dataclass(frozen=True)
class StanzaSpec:
    """A props.conf stanza header: its kind and the pattern after `source::`/`host::`.

    Matching follows props.conf.spec: `...` matches anything, `*` anything but a path
    separator, `|` and `( )` group alternatives, and matching is case-sensitive unless the
    pattern starts with `(?i)`. Sourcetype stanzas are exact, case-sensitive names, except the
    `(?::){0}<pattern>` form, which is a pattern (`(?::){0}` matches the empty string).
    """

    kind: str
    pattern: str

    @classmethod
    def parse(cls, header: str) -> StanzaSpec:
        for kind in (SOURCE, HOST):
            if header.startswith(f"{kind}::"):
                return cls(kind, header[len(kind) + 2 :])
        return cls(SOURCETYPE, header)

    @property
    def header(self) -> str:
        return self.pattern if self.kind == SOURCETYPE else f"{self.kind}::{self.pattern}"

    @property
    def literal(self) -> bool:
        """True for a plain name; literal stanzas beat pattern stanzas of the same kind."""
        return "..." not in self.pattern and not (_WILDCARD_CHARS & set(self.pattern))

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        return re.compile(pattern_to_regex(self.pattern))

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        if self.literal:
            return value == self.pattern
        return self._regex.fullmatch(value) is not None


def pattern_to_regex(pattern: str) -> str:
    """Translate a props.conf stanza pattern into a Python regex (see `StanzaSpec`)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("...", i):
            out.append(".*")
            i += 3
        elif pattern[i] == "*":
            out.append(r"[^/\\]*")
            i += 1
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
        elif pattern[i] in ".+^$":
            out.append("\\" + pattern[i])
            i += 1
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def join_continuations(value: str) -> str:
    """A .conf value with its trailing-backslash line continuations resolved.

    The backslash goes and the line break stays, which an SPL lexer reads as whitespace.
    """
    return re.sub(r"\\\n", "\n", value)


def split_list(value: str) -> tuple[str, ...]:
    """`a, b,c` -> ('a', 'b', 'c'): REPORT-* and TRANSFORMS-* transform lists."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class AliasPair:
    """One `<src> AS <dst>` (overwrites `dst`) or `<src> ASNEW <dst>` (keeps an existing `dst`)."""

    src: str
    dst: str
    mode: str = "AS"


def parse_fieldalias(value: str, where: str = "") -> tuple[AliasPair, ...]:
    """`A AS b, C ASNEW d` -> pairs. `as` is accepted in any case (the Windows TA writes
    `TaskCategory as category`)."""
    toks = [t for t in re.split(r"[\s,]+", value.strip()) if t]
    if not toks or len(toks) % 3:
        raise ContentError(f"{where}: FIELDALIAS value is not `<src> AS <dst>`...: {value!r}")
    pairs = []
    for i in range(0, len(toks), 3):
        src, mode, dst = toks[i : i + 3]
        if mode.upper() not in ("AS", "ASNEW"):
            raise ContentError(f"{where}: expected AS or ASNEW, got {mode!r} in {value!r}")
        pairs.append(AliasPair(src, dst, mode.upper()))
    return tuple(pairs)


@dataclass(frozen=True)
class LookupField:
    """A lookup column and the event field it reads or writes (`<column> [AS <event_field>]`)."""

    column: str
    field: str


@dataclass(frozen=True)
class LookupSpec:
    table: str
    inputs: tuple[LookupField, ...]
    mode: str | None  # "OUTPUT" overwrites, "OUTPUTNEW" fills absent fields, None = all columns
    outputs: tuple[LookupField, ...]


def parse_lookup(value: str, where: str = "") -> LookupSpec:
    """`table in1 [AS f1] ... [OUTPUT|OUTPUTNEW out1 [AS g1], ...]` (props.conf LOOKUP-<class>)."""
    toks = [t for t in re.split(r"[\s,]+", value.strip()) if t]
    if len(toks) < 2:
        raise ContentError(f"{where}: LOOKUP value needs a table and an input field: {value!r}")
    table, rest = toks[0], toks[1:]
    mode = None
    for i, tok in enumerate(rest):
        if tok.upper() in ("OUTPUT", "OUTPUTNEW"):
            mode = tok.upper()
            inputs, outputs = _lookup_fields(rest[:i], where), _lookup_fields(rest[i + 1 :], where)
            break
    else:
        inputs, outputs = _lookup_fields(rest, where), ()
    if not inputs:
        raise ContentError(f"{where}: LOOKUP value has no input field: {value!r}")
    return LookupSpec(table, inputs, mode, outputs)


def _lookup_fields(toks: list[str], where: str) -> tuple[LookupField, ...]:
    out: list[LookupField] = []
    i = 0
    while i < len(toks):
        if i + 1 < len(toks) and toks[i + 1].upper() == "AS":
            if i + 2 >= len(toks):
                raise ContentError(f"{where}: dangling AS in LOOKUP fields {toks!r}")
            out.append(LookupField(toks[i], toks[i + 2]))
            i += 3
        else:
            out.append(LookupField(toks[i], toks[i]))
            i += 1
    return tuple(out)


def parse_extract(value: str) -> tuple[str, str]:
    """`EXTRACT-<class> = <regex> [in <field>]` -> (regex, source field)."""
    m = re.fullmatch(r"(.*\S)\s+in\s+([A-Za-z_][\w.]*)", value, re.S)
    return (m.group(1), m.group(2)) if m else (value, "_raw")


_NAMED_GROUP = re.compile(r"\(\?P?<([A-Za-z_]\w*)>")


def named_groups(regex: str) -> tuple[str, ...]:
    """Field names a transform or EXTRACT regex produces through `(?<name>...)` groups."""
    return tuple(_NAMED_GROUP.findall(regex))


def format_fields(fmt: str) -> tuple[str, ...]:
    """Fixed field names a FORMAT writes (`EventCode::$1` -> EventCode); `$1::$2` names none."""
    return tuple(name for name in re.findall(r"(\S+?)::", fmt) if not name.startswith("$"))


def python_regex(pcre: str) -> str:
    """PCRE -> Python `re` syntax for the constructs the add-ons use: `(?<name>` -> `(?P<name>`.

    Lookbehinds (`(?<=`, `(?<!`) are untouched. Compile with re.ASCII: PCRE `\\w` is ASCII
    (TA_FIELDS.md §8 item 6).
    """
    return re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", pcre)


def split_pipeline(search: str) -> tuple[str, str]:
    """Split `<search> | cmd ...` at its first top-level pipe: (`<search>`, `| cmd ...`).

    Pipes inside double-quoted strings (with SPL backslash escapes) and backtick macros do not
    count. Returns (search, "") when there is no pipeline.
    """
    quote = None
    i = 0
    while i < len(search):
        c = search[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in '"`':
            quote = c
        elif c == "|":
            return search[:i].rstrip(), search[i:].strip()
        i += 1
    return search.strip(), ""
