"""Error tree. Every error says what failed and where (file/record or SPL line/column)."""

from __future__ import annotations

from dataclasses import dataclass


class SplhuntError(Exception):
    """Base of every error splhunt raises on purpose."""


@dataclass(frozen=True)
class Span:
    """A position in SPL text: 0-based offsets, 1-based line and column."""

    start: int
    end: int
    line: int = 1
    col: int = 1


def caret(text: str, pos: int) -> str:
    """Render the line of `text` that holds `pos`, with a caret under it."""
    pos = max(0, min(pos, len(text)))
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    if line_end == -1:
        line_end = len(text)
    line = text[line_start:line_end]
    return f"{line}\n{' ' * (pos - line_start)}^"


def line_col(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of offset `pos` in `text`."""
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


class SplSyntaxError(SplhuntError):
    """SPL that does not parse. The message names the line and column and shows a caret."""

    def __init__(self, message: str, text: str = "", pos: int = 0):
        self.text = text
        self.pos = pos
        self.line, self.col = line_col(text, pos) if text else (1, 1)
        self.bare = message
        detail = f"\n{caret(text, pos)}" if text else ""
        super().__init__(f"{message}. Line {self.line}, Col {self.col}.{detail}")


class SplUnsupportedError(SplhuntError):
    """A construct splhunt refuses by name rather than run with wrong semantics."""

    def __init__(self, construct: str, reason: str = "", text: str = "", pos: int | None = None):
        self.construct = construct
        self.reason = reason
        where = ""
        if text and pos is not None:
            ln, col = line_col(text, pos)
            where = f" Line {ln}, Col {col}.\n{caret(text, pos)}"
        msg = f"unsupported: {construct}" + (f" ({reason})" if reason else "") + "." + where
        super().__init__(msg)


class MacroError(SplhuntError):
    """A macro that is unknown, has the wrong arity, or expands recursively."""


class CompileError(SplhuntError):
    """SPL that parsed but cannot be compiled (bad arguments, unknown field forms)."""


class EngineError(SplhuntError):
    """The SQL engine failed to run a compiled query."""


class ContentError(SplhuntError):
    """Content (detection, macro, lookup YAML) that cannot be loaded; names the file."""


class IngestError(SplhuntError):
    """A record that cannot be read; names the file and the record or line."""
