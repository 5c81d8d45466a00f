"""Splunk regexes are PCRE; DuckDB runs RE2, Spark runs Java regexes.

`re2_pattern` translates what RE2 can take (named groups become `(?P<name>...)`) and
returns None for what it cannot: lookaround, backreferences, atomic groups,
possessive quantifiers. The DuckDB engine runs those through registered
`splhunt_re_*` functions built on Python's `re`, which accepts this PCRE subset
with the same meaning; Spark's Java regexes take them natively.
"""

from __future__ import annotations

import re

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
