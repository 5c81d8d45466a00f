"""Splunk regexes are PCRE; DuckDB runs RE2, Spark runs Java regexes.

`re2_pattern` translates what RE2 can take (named groups become `(?P<name>...)`) and
returns None for what it cannot: lookaround, backreferences, atomic groups,
possessive quantifiers. The DuckDB engine runs those through registered
`splhunt_re_*` functions built on Python's `re`, which accepts this PCRE subset
with the same meaning; Spark's Java regexes take them natively once `java_pattern`
has respelled what Java writes differently.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from splhunt.compile.compiler import Capabilities

_UNSUPPORTED = re.compile(
    r"\(\?<?[=!]"  # lookahead / lookbehind
    r"|\(\?>"  # atomic group
    r"|\\[1-9]"  # backreference
    r"|\\[kgKRhHvVXCZ]"  # named backrefs, \K, \R, \h, \v, \X, \C, \Z
    r"|[*+?}]\+"  # possessive quantifiers
    r"|\(\?\|"  # branch reset
    r"|\(\?[a-zA-Z]*[xX]"  # extended mode
)


def _strip_classes(p: str) -> str:
    """The pattern with character classes blanked, so `[*+]` is not read as possessive."""
    out = []
    i = 0
    n = len(p)
    while i < n:
        c = p[i]
        if c == "\\" and i + 1 < n:
            out.append(p[i : i + 2])
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < n and p[j] == "^":
                j += 1
            if j < n and p[j] == "]":
                j += 1
            while j < n and p[j] != "]":
                j += 2 if p[j] == "\\" else 1
            out.append("[]")
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def re2_pattern(pattern: str) -> str | None:
    """`pattern` for RE2, or None when RE2 cannot run it with PCRE's meaning."""
    if _UNSUPPORTED.search(_strip_classes(pattern)):
        return None
    return re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", pattern)


def python_pattern(pattern: str) -> str:
    """`pattern` for Python's `re` (used by the DuckDB fallback functions)."""
    p = re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", pattern)
    return p.replace("\\Z", "\\Z")


def group_names(pattern: str) -> list[str]:
    """Named groups of a PCRE pattern, in order (`(?<n>...)`, `(?P<n>...)`, `(?'n'...)`)."""
    return re.findall(r"\(\?(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')", pattern) and [
        a or b for a, b in re.findall(r"\(\?(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')", pattern)
    ]


# ---------------------------------------------------------------- Java (Spark)

#: PCRE features java.util.regex lacks: \K, branch reset, recursion and subroutine
#: calls, conditionals, \g<...> calls.
_JAVA_UNSUPPORTED = re.compile(
    r"\\K|\(\?\||\(\?R\)|\(\?[+-]?\d+\)|\(\?\(|\(\?&|\(\?P>|\\g<|\\g'"
)
_JAVA_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
_POSIX = {
    "alpha": r"\p{Alpha}", "digit": r"\p{Digit}", "alnum": r"\p{Alnum}", "upper": r"\p{Upper}",
    "lower": r"\p{Lower}", "punct": r"\p{Punct}", "xdigit": r"\p{XDigit}", "space": r"\s",
    "blank": r"\p{Blank}", "cntrl": r"\p{Cntrl}", "graph": r"\p{Graph}", "print": r"\p{Print}",
    "word": r"\w", "ascii": r"\p{ASCII}",
}
_QUANT = re.compile(r"\{\d+(?:,\d*)?\}")
_GROUP_OPEN = re.compile(r"\(\?(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')")
_NAMED_REF = re.compile(r"\(\?P=([A-Za-z_]\w*)\)")
_BACKSLASH_REF = re.compile(r"\\(?:k<([A-Za-z_]\w*)>|k'([A-Za-z_]\w*)'|k\{([A-Za-z_]\w*)\}|g\{([A-Za-z_]\w*)\})")
_G_NUM = re.compile(r"\\g\{?(\d+)\}?")


def java_pattern(pattern: str) -> str | None:
    """`pattern` (PCRE) for java.util.regex, or None when Java cannot run it.

    Java names groups with letters and digits only, so other names (`user_name`) are
    renamed (group numbers do not change); `(?P<n>...)`, `(?'n'...)` and the PCRE
    back-reference spellings become Java's; POSIX classes `[[:alpha:]]` become `\\p{..}`;
    a `{` that does not start a quantifier is escaped (PCRE reads it literally, Java
    refuses it).
    """
    if _JAVA_UNSUPPORTED.search(_strip_classes(pattern)):
        return None
    names: dict[str, str] = {}

    def jname(name: str) -> str:
        if name not in names:
            names[name] = name if _JAVA_NAME.match(name) else f"splhunt{len(names)}g"
        return names[name]

    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            m = _BACKSLASH_REF.match(pattern, i)
            if m:
                out.append(f"\\k<{jname(next(g for g in m.groups() if g))}>")
                i = m.end()
                continue
            m = _G_NUM.match(pattern, i)
            if m:
                out.append(f"\\{m.group(1)}")
                i = m.end()
                continue
            if pattern[i + 1] in "xpP" and pattern.startswith("{", i + 2) and "}" in pattern[i + 3 :]:
                end = pattern.index("}", i + 3) + 1  # \x{202E}, \p{L}: Java's own spelling
                out.append(pattern[i:end])
                i = end
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "[":
            j = i + 1
            cls = ["["]
            if j < n and pattern[j] == "^":
                cls.append("^")
                j += 1
            if j < n and pattern[j] == "]":
                cls.append("\\]")
                j += 1
            while j < n and pattern[j] != "]":
                if pattern[j] == "\\" and j + 1 < n:
                    cls.append(pattern[j : j + 2])
                    j += 2
                    continue
                if pattern.startswith("[:", j):
                    end = pattern.find(":]", j + 2)
                    if end != -1:
                        name = pattern[j + 2 : end]
                        neg = name.startswith("^")
                        name = name.lstrip("^")
                        if name in _POSIX:
                            rep = _POSIX[name]
                            if neg:
                                rep = rep.replace("\\p", "\\P") if rep.startswith("\\p") else rep.upper()
                            cls.append(rep)
                            j = end + 2
                            continue
                if pattern[j] == "[":
                    cls.append("\\[")  # Java reads a nested [ as a class union
                    j += 1
                    continue
                if pattern.startswith("&&", j):
                    cls.append("&\\&")  # Java reads && as class intersection
                    j += 2
                    continue
                cls.append(pattern[j])
                j += 1
            cls.append("]")
            out.append("".join(cls))
            i = j + 1
            continue
        if c == "(":
            m = _GROUP_OPEN.match(pattern, i)
            if m:
                out.append(f"(?<{jname(m.group(1) or m.group(2))}>")
                i = m.end()
                continue
            m = _NAMED_REF.match(pattern, i)
            if m:
                out.append(f"\\k<{jname(m.group(1))}>")
                i = m.end()
                continue
        if c == "{" and not _QUANT.match(pattern, i):
            out.append("\\{")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def engine_pattern(pattern: str, caps: Capabilities) -> str | None:
    """`pattern` for the engine's native regex functions (RE2 or Java), or None when
    they cannot run it (the caller then uses the PCRE fallback or refuses)."""
    return re2_pattern(pattern) if caps.re2_only else java_pattern(pattern)
