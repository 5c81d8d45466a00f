"""Splunk time formats (strftime with Splunk's extensions) to engine formats.

Splunk adds `%<n>N` (n subsecond digits), `%Q`/`%q` (milliseconds), `%s` (epoch) and
`%+` to C strftime. DuckDB spells subseconds `%g` (milliseconds), `%f` (microseconds)
and `%n` (nanoseconds). Anything splhunt cannot translate is refused by name.

Engines that format time with Java `DateTimeFormatter` patterns (Spark:
`Capabilities.time_format == "java"`) get their own translation, `to_java`: sqlglot
maps strftime formats to Java ones but leaves literal letters unquoted (`%Y-%m-%dT%H`
became `yyyy-MM-ddTHH`, which Spark rejects), and some strftime tokens have no Java
pattern letter. `format_time`/`parse_time` build the whole expression for either kind
and give the same text as DuckDB's strftime for every token they accept.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from splhunt.errors import SplUnsupportedError

if TYPE_CHECKING:
    from splhunt.compile.compiler import Capabilities

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


# Java patterns giving the same text as DuckDB's strftime does for each token (all times
# are UTC: DuckDB prints %z as `+00`, as Java's `x` does).
_SPLUNK_TO_JAVA = {
    "%a": "EEE", "%A": "EEEE", "%b": "MMM", "%B": "MMMM", "%h": "MMM",
    "%d": "dd", "%e": "d", "%j": "DDD", "%m": "MM", "%y": "yy", "%Y": "yyyy",
    "%H": "HH", "%k": "H", "%I": "hh", "%l": "h", "%M": "mm", "%S": "ss", "%p": "a",
    "%z": "x", "%:z": "xxx",
    "%3N": "SSS", "%N": "SSS", "%Q": "SSS", "%q": "SSS", "%6N": "SSSSSS",
    "%T": "HH:mm:ss", "%F": "yyyy-MM-dd", "%D": "MM/dd/yy", "%R": "HH:mm",
    # DuckDB's own renderings of the locale tokens
    "%c": "yyyy-MM-dd HH:mm:ss", "%x": "yyyy-MM-dd", "%X": "HH:mm:ss",
}
_JAVA_PLAIN = set(" -:/.,+0123456789")


def _has_fraction(pattern: str) -> bool:
    """A Java pattern with a fraction-of-second letter outside quoted text."""
    return "S" in "".join(pattern.split("'")[0::2])


def _java_literal(text: str) -> str:
    if not text or set(text) <= _JAVA_PLAIN:
        return text
    return "'" + text.replace("'", "''") + "'"


def java_pieces(fmt: str, *, parsing: bool = False) -> list[str | exp.Expression]:
    """`fmt` as Java pattern runs (str) and tokens Java has no letter for (the marker
    expressions `_WEEKDAY`), in order. Refuses what it cannot translate."""
    out: list[str | exp.Expression] = []
    buf: list[str] = []
    pos = 0
    lit: list[str] = []

    def flush_lit() -> None:
        if "".join(lit):
            buf.append(_java_literal("".join(lit)))
        lit.clear()

    for m in _TOKEN.finditer(fmt):
        lit.append(fmt[pos : m.start()])
        pos = m.end()
        tok = m.group(0)
        if tok == "%%":
            # sqlglot would read a `%` in the pattern as a strftime token again
            raise SplUnsupportedError("time format %% on this engine", "a literal % in a Java time pattern")
        flush_lit()
        if tok in _SPLUNK_TO_JAVA:
            buf.append(_SPLUNK_TO_JAVA[tok])
        elif tok == "%+":
            buf.append("EEE MMM d HH:mm:ss 'Etc/UTC' yyyy")
        elif tok == "%Z":
            buf.append("'Etc/UTC'")  # every splhunt time is UTC; DuckDB prints this name
        elif tok == "%w" and not parsing:
            if "".join(buf):
                out.append("".join(buf))
            buf.clear()
            out.append(exp.Var(this="_WEEKDAY"))
        elif tok == "%s":
            raise SplUnsupportedError("time format %s", "epoch seconds in a format string")
        else:
            raise SplUnsupportedError(
                f"time format {tok} on this engine", "its time patterns have no equivalent"
            )
    lit.append(fmt[pos:])
    flush_lit()
    if "".join(buf):
        out.append("".join(buf))
    return out


def to_java(fmt: str) -> str:
    """Translate a Splunk strftime/strptime format to a Java DateTimeFormatter pattern."""
    pieces = java_pieces(fmt, parsing=True)
    return "".join(p for p in pieces if isinstance(p, str))


def format_time(epoch: exp.Expression, fmt: str, caps: Capabilities) -> exp.Expression:
    """Epoch seconds as text in the Splunk format `fmt` (UTC)."""
    if caps.time_format != "java":
        return exp.TimeToStr(this=exp.UnixToTime(this=epoch), format=exp.Literal.string(to_duckdb(fmt)))
    pieces = java_pieces(fmt)
    if any(isinstance(p, str) and _has_fraction(p) for p in pieces):
        # keep the fraction: DuckDB's to_timestamp(double) rounds to microseconds
        micros = exp.Cast(
            this=exp.Round(this=exp.Mul(this=epoch, expression=exp.Literal.number(1_000_000))),
            to=exp.DataType.build("BIGINT"),
        )
        ts: exp.Expression = exp.UnixToTime(this=micros, scale=exp.UnixToTime.MICROS)
    else:
        ts = exp.UnixToTime(this=epoch)
    parts: list[exp.Expression] = []
    for p in pieces:
        if isinstance(p, str):
            parts.append(exp.TimeToStr(this=ts.copy(), format=exp.Literal.string(p)))
        else:  # %w: 0 = Sunday (Spark's dayofweek counts from 1 = Sunday)
            dow = exp.Sub(this=exp.DayOfWeek(this=ts.copy()), expression=exp.Literal.number(1))
            parts.append(exp.Cast(this=dow, to=exp.DataType.build("VARCHAR")))
    if not parts:
        return exp.Literal.string("")
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p, safe=False)
    return out


def parse_time(text: exp.Expression, fmt: str, caps: Capabilities) -> exp.Expression:
    """Text in the Splunk format `fmt` as epoch seconds (UTC); null when it does not parse."""
    if caps.time_format != "java":
        ts = exp.StrToTime(this=text, format=exp.Literal.string(to_duckdb(fmt)), safe=True)
        return exp.TimeToUnix(this=ts)
    jfmt = to_java(fmt)
    ts = exp.StrToTime(this=text, format=exp.Literal.string(jfmt), safe=True)
    if _has_fraction(jfmt):
        return exp.Div(
            this=exp.UnixMicros(this=ts), expression=exp.Literal.number(1_000_000.0), typed=False, safe=False
        )
    return exp.TimeToUnix(this=ts)
