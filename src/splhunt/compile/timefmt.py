"""Splunk time formats (strftime with Splunk's extensions) to engine formats.

Splunk adds `%<n>N` (n subsecond digits), `%Q`/`%q` (milliseconds), `%s` (epoch) and
`%+` to C strftime. DuckDB spells subseconds `%g` (milliseconds), `%f` (microseconds)
and `%n` (nanoseconds). Anything splhunt cannot translate is refused by name.
"""

from __future__ import annotations

import re

from splhunt.errors import SplUnsupportedError

_SPLUNK_TO_DUCKDB = {
    "%3N": "%g",
    "%6N": "%f",
    "%9N": "%n",
    "%N": "%g",
    "%Q": "%g",
    "%q": "%g",
    "%+": "%a %b %-d %H:%M:%S %Z %Y",
    "%e": "%-d",
    "%k": "%-H",
    "%l": "%-I",
    "%:z": "%z",
}

_TOKEN = re.compile(r"%(?:\d?N|:z|[A-Za-z+%])")
_SUPPORTED = set("aAbBcdHIjmMpSUwWxXyYzZ%")


def to_duckdb(fmt: str) -> str:
    """Translate a Splunk strftime/strptime format for DuckDB."""

    def repl(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok in _SPLUNK_TO_DUCKDB:
            return _SPLUNK_TO_DUCKDB[tok]
        if tok[1] in _SUPPORTED:
            return tok
        if tok == "%s":
            raise SplUnsupportedError("time format %s", "epoch seconds in a format string")
        if tok == "%T":
            return "%H:%M:%S"
        if tok == "%F":
            return "%Y-%m-%d"
        if tok == "%D":
            return "%m/%d/%y"
        if tok == "%R":
            return "%H:%M"
        if tok == "%h":
            return "%b"
        if tok == "%V":
            return "%V"
        raise SplUnsupportedError(f"time format {tok}", "not a format splhunt knows")

    return _TOKEN.sub(repl, fmt)
