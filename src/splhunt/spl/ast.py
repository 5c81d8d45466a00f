"""SPL abstract syntax tree: search expressions, eval expressions, pipelines.

Commands are defined next to their compilers in `splhunt.commands`; every command
node subclasses `Command` and records its name and the offset where it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ---------------------------------------------------------------- eval expressions


class Expr:
    """An eval/where expression."""


@dataclass(frozen=True)
class Lit(Expr):
    """A literal: str, int, float, bool or None (null())."""

    value: str | int | float | bool | None


@dataclass(frozen=True)
class Field(Expr):
    name: str


@dataclass(frozen=True)
class Call(Expr):
    name: str  # lower-case function name
    args: tuple[Expr, ...]
    pos: int = 0


@dataclass(frozen=True)
class BinOp(Expr):
    op: str  # + - * / % . = != < <= > >= AND OR XOR LIKE
    left: Expr
    right: Expr


@dataclass(frozen=True)
class UnOp(Expr):
    op: str  # NOT, -
    operand: Expr


@dataclass(frozen=True)
class InList(Expr):
    expr: Expr
    values: tuple[Expr, ...]


# ---------------------------------------------------------------- search expressions


class SearchNode:
    """A node of a `search` expression."""


@dataclass(frozen=True)
class SAnd(SearchNode):
    items: tuple[SearchNode, ...]


@dataclass(frozen=True)
class SOr(SearchNode):
    items: tuple[SearchNode, ...]


@dataclass(frozen=True)
class SNot(SearchNode):
    item: SearchNode


@dataclass(frozen=True)
class SCompare(SearchNode):
    """`field OP value`; `value` keeps `*` wildcards. `quoted` says it was a "string"."""

    field: str
    op: str  # = != < <= > >=
    value: str
    quoted: bool = False
    pos: int = 0


@dataclass(frozen=True)
class SIn(SearchNode):
    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class STerm(SearchNode):
    """A bare full-text term matched against _raw (with `*` wildcards)."""

    text: str
    quoted: bool = False
    pos: int = 0


@dataclass(frozen=True)
class SAll(SearchNode):
    """`*` alone: every event."""


@dataclass(frozen=True)
class SSubsearch(SearchNode):
    pipeline: Pipeline
    pos: int = 0


# ---------------------------------------------------------------- pipelines


@dataclass(frozen=True)
class Command:
    name: str
    pos: int


@dataclass(frozen=True)
class Pipeline:
    commands: tuple[Command, ...]
    text: str = field(default="", compare=False)
