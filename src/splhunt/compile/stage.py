"""Stages: what one SPL command's result looks like to the next one.

A `Stage` names the SQL relation (a CTE) that holds a command's result and maps each
Splunk field, in Splunk's column order, to a column and a kind:

- ``str``: a single string value (every field read from an event starts as this);
- ``num``: a number (DOUBLE or BIGINT);
- ``mv``: a multivalue field, a VARCHAR[] list;
- ``bool``: an eval boolean (only inside expressions; never a field).

Field names are case-sensitive but SQL identifiers are not, so a field whose name
collides case-insensitively with another gets a `~N` column suffix (see `allocate`).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from sqlglot import exp

STR, NUM, MV, BOOL, NULL = "str", "num", "mv", "bool", "null"
#: Hidden field holding the result order set by sort/stats; never shown to the user.
ORDER = "__ord"


@dataclass(frozen=True)
class FieldInfo:
    col: str
    kind: str


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def colref(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=ident(table) if table else None)


def allocate(field: str, taken_lower: set[str]) -> str:
    """A column name for `field` that no taken column shares case-insensitively."""
    if field.lower() not in taken_lower:
        return field
    n = 1
    while f"{field}~{n}".lower() in taken_lower:
        n += 1
    return f"{field}~{n}"


class Stage:
    """A relation name plus its ordered field -> column map."""

    def __init__(self, name: str, fields: dict[str, FieldInfo]):
        self.name = name
        self.fields = dict(fields)

    def has(self, field: str) -> bool:
        return field in self.fields

    def col(self, field: str) -> exp.Column:
        return colref(self.fields[field].col)

    def kind(self, field: str) -> str:
        return self.fields[field].kind

    def names(self) -> list[str]:
        return list(self.fields)

    def match(self, pattern: str) -> list[str]:
        """Fields matching a Splunk wildcard pattern (`*` only), case-sensitively."""
        if "*" not in pattern:
            return [pattern] if pattern in self.fields else []
        rx = wildcard_regex(pattern)
        return [f for f in self.fields if rx.fullmatch(f)]


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """A field-name wildcard pattern (`*` any run of characters) as a compiled regex."""
    return re.compile("".join(".*" if c == "*" else re.escape(c) for c in pattern), re.S)


def rename_wildcard(pattern: str, target: str, name: str) -> str | None:
    """Apply `rename pattern AS target` (both may hold `*`) to field `name`."""
    if "*" not in pattern:
        return target if name == pattern else None
    rx = re.compile(
        "".join("(.*)" if c == "*" else re.escape(c) for c in pattern), re.S
    )
    m = rx.fullmatch(name)
    if not m:
        return None
    parts = iter(m.groups())
    out = []
    for c in target:
        out.append(next(parts, "") if c == "*" else c)
    return "".join(out)


__all__ = [
    "BOOL",
    "MV",
    "NULL",
    "NUM",
    "STR",
    "FieldInfo",
    "Stage",
    "allocate",
    "colref",
    "ident",
    "fnmatch",
]
