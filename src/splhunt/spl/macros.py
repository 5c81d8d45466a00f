"""Search macros: `name` and `name(arg, ...)` in backticks, expanded before parsing.

Splunk expands macros textually: a macro with N arguments is defined as `name(N)` and
its `$arg$` tokens are replaced by the call's arguments. Triple-backtick comments are
removed first. Built-ins cover what ESCU relies on but does not ship:

- every `<name>_filter` macro is `search *` (ESCU's build generates them so);
- `drop_dm_object_name(1)` is `rename $object$.* AS *` (a CIM macro);
- `sysmon`, `security_content_ctime(1)` and `security_content_summariesonly` are built
  in so the seed detection runs with no content folder. A content folder's own
  definitions win over the built-ins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from splhunt.errors import MacroError, SplSyntaxError


@dataclass(frozen=True)
class MacroDef:
    name: str
    definition: str
    args: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.name}({len(self.args)})" if self.args else self.name


BUILTINS: dict[str, MacroDef] = {
    m.key: m
    for m in (
        MacroDef(
            "sysmon",
            "sourcetype=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational OR "
            "source=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational OR "
            "source=Syslog:Linux-Sysmon/Operational",
        ),
        MacroDef(
            "security_content_ctime",
            'convert timeformat="%Y-%m-%dT%H:%M:%S" ctime($field$)',
            ("field",),
        ),
        MacroDef("security_content_summariesonly", "summariesonly=false allow_old_summaries=true"),
        MacroDef("drop_dm_object_name", "rename $object$.* AS *", ("object",)),
    )
}

_COMMENT = re.compile(r"```.*?```", re.S)
MAX_DEPTH = 30


def strip_comments(text: str) -> str:
    """Remove ```comments``` (replaced by spaces, so offsets stay put)."""
    return _COMMENT.sub(lambda m: " " * len(m.group(0)), text)


def split_args(s: str) -> list[str]:
    """Split a macro call's argument text on top-level commas (quotes and parens respected)."""
    args: list[str] = []
    depth = 0
    cur: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == '"':
            j = i + 1
            while j < len(s) and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            cur.append(s[i : j + 1])
            i = j + 1
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    args.append("".join(cur).strip())
    return args


class MacroLibrary:
    """Macro definitions keyed as Splunk keys them: `name` or `name(N)`."""

    def __init__(self, defs: Mapping[str, MacroDef] | None = None, *, builtins: bool = True):
        self.defs: dict[str, MacroDef] = dict(BUILTINS) if builtins else {}
        if defs:
            self.defs.update(defs)

    def add(self, m: MacroDef) -> None:
        self.defs[m.key] = m

    def resolve(self, name: str, nargs: int) -> MacroDef | None:
        key = f"{name}({nargs})" if nargs else name
        m = self.defs.get(key)
        if m is None and nargs == 0 and name.endswith("_filter"):
            return MacroDef(name, "search *")
        return m

    def expand(self, text: str) -> str:
        """Expand every macro in `text`, recursively. Raises MacroError naming the macro."""
        text = strip_comments(text)
        return self._expand(text, 0, ())

    def _expand(self, text: str, depth: int, chain: tuple[str, ...]) -> str:
        if "`" not in text:
            return text
        out: list[str] = []
        i = 0
        while True:
            j = _find_backtick(text, i)
            if j < 0:
                out.append(text[i:])
                break
            k = text.find("`", j + 1)
            if k < 0:
                raise SplSyntaxError("unterminated macro: no closing backtick", text, j)
            out.append(text[i:j])
            call = text[j + 1 : k].strip()
            out.append(self._expand_call(call, text, j, depth, chain))
            i = k + 1
        return "".join(out)

    def _expand_call(self, call: str, text: str, pos: int, depth: int, chain: tuple[str, ...]) -> str:
        m = re.fullmatch(r"([\w.:-]+)\s*(?:\((.*)\))?", call, re.S)
        if not m:
            raise SplSyntaxError(f"bad macro call `{call}`", text, pos)
        name, argtext = m.group(1), m.group(2)
        args = split_args(argtext) if argtext is not None and argtext.strip() != "" else []
        if argtext is not None and argtext.strip() == "":
            args = []
        mdef = self.resolve(name, len(args))
        label = f"{name}({len(args)})" if args else name
        if mdef is None:
            others = sorted(k for k in self.defs if k == name or k.startswith(name + "("))
            hint = f"; defined: {', '.join(others)}" if others else ""
            raise MacroError(f"unknown macro `{label}`{hint}")
        if label in chain or depth >= MAX_DEPTH:
            raise MacroError(f"macro `{label}` expands recursively: {' -> '.join(chain + (label,))}")
        body = mdef.definition
        for argname, value in zip(mdef.args, args, strict=True):
            body = body.replace(f"${argname}$", value)
        return self._expand(strip_comments(body), depth + 1, chain + (label,))


def _find_backtick(text: str, start: int) -> int:
    """Next backtick outside double-quoted strings."""
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] == '"':
            i += 2  # an escaped quote outside a string does not open one
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "`":
            return i
        i += 1
    return -1
