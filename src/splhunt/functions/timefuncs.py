"""relative_time(time, "modifier"): Splunk relative time modifiers applied to an epoch.

Splunk Search Reference, relative_time and "Time modifiers": a modifier is a list of
offsets (`-24h`, `+7d`, `-1mon`; a missing number means 1) with at most one snap
(`@h`, `@d`, `@w0`..`@w6`, `@mon`, `@q`, `@y`) that may be followed by more offsets
(`@d+3h`). Snapping rounds down to the start of the unit. `now` leaves the time as
it is. Units: s, m, h, d, w, mon, q, y (and their long forms). Days, weeks, months,
quarters and years are calendar units in UTC (splhunt's zone); `@w`/`@w0` snaps to
Sunday, `@w1` to Monday, and so on. The modifier must be a literal.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from splhunt.compile.expr import Typed, to_num
from splhunt.compile.stage import NULL, NUM, STR
from splhunt.errors import SplUnsupportedError
from splhunt.functions import function
from splhunt.spl import ast as A

if TYPE_CHECKING:
    from splhunt.compile.compiler import Ctx

_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "week", "weeks"), 604800),
}
_MONTHS = {
    **dict.fromkeys(("mon", "month", "months"), 1),
    **dict.fromkeys(("q", "qtr", "qtrs", "quarter", "quarters"), 3),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), 12),
}
_TOKEN = re.compile(r"([+-])(\d*)([a-zA-Z]+)|@([a-zA-Z]+)(\d?)")


def parse_modifier(text: str) -> list[tuple[str, object]]:
    """`-24h@h` -> [("sec", -86400), ("snap", "h")]; months as ("mon", n)."""
    s = text.strip()
    if s.lower() == "now" or s == "":
        return []
    out: list[tuple[str, object]] = []
    i = 0
    snaps = 0
    while i < len(s):
        m = _TOKEN.match(s, i)
        if not m:
            raise ValueError(f"cannot read {s[i:]!r}")
        if m.group(1):
            sign = -1 if m.group(1) == "-" else 1
            n = int(m.group(2) or "1") * sign
            unit = m.group(3).lower()
            if unit in _SECONDS:
                out.append(("sec", n * _SECONDS[unit]))
            elif unit in _MONTHS:
                out.append(("mon", n * _MONTHS[unit]))
            else:
                raise ValueError(f"unknown time unit {m.group(3)!r}")
        else:
            snaps += 1
            unit, day = m.group(4).lower(), m.group(5)
            if unit in ("w", "week", "weeks"):
                out.append(("snap", f"w{day or '0'}"))
            elif day:
                raise ValueError(f"@{unit}{day}: only weeks take a day number")
            elif unit in _SECONDS:
                out.append(("snap", {1: "s", 60: "m", 3600: "h", 86400: "d"}[_SECONDS[unit]]))
            elif unit in _MONTHS:
                out.append(("snap", {1: "mon", 3: "q", 12: "y"}[_MONTHS[unit]]))
            else:
                raise ValueError(f"unknown snap unit {m.group(4)!r}")
        i = m.end()
    if snaps > 1:
        raise ValueError("more than one @snap")
    return out


def _p(e: exp.Expression) -> exp.Expression:
    return e if isinstance(e, exp.Paren | exp.Column | exp.Literal) else exp.Paren(this=e)


def _floor_to(t: exp.Expression, size: int) -> exp.Expression:
    n = exp.Literal.number(size)
    return exp.Mul(this=exp.Floor(this=exp.Div(this=_p(t), expression=n)), expression=n)


def _to_epoch(ts: exp.Expression) -> exp.Expression:
    return exp.Cast(this=exp.TimeToUnix(this=ts), to=exp.DataType.build("DOUBLE"))


def apply_modifier(t: exp.Expression, steps: list[tuple[str, object]]) -> exp.Expression:
    """Epoch seconds `t` moved by parsed modifier steps."""
    out = t
    for kind, v in steps:
        if kind == "sec":
            out = exp.Add(this=_p(out), expression=exp.Literal.number(v))
        elif kind == "mon":
            out = _to_epoch(exp.AddMonths(this=exp.UnixToTime(this=out), expression=exp.Literal.number(v)))
        else:
            unit = str(v)
            if unit in ("s", "m", "h", "d"):
                out = _floor_to(out, {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])
            elif unit.startswith("w"):
                # 1970-01-01 was a Thursday: day d has weekday (d + 4) % 7, Sunday = 0
                target = int(unit[1:]) % 7
                day = exp.Floor(this=exp.Div(this=_p(out), expression=exp.Literal.number(86400)))
                back = exp.Mod(
                    this=_p(exp.Add(this=day, expression=exp.Literal.number(4 - target + 7))),
                    expression=exp.Literal.number(7),
                )
                out = exp.Mul(this=_p(exp.Sub(this=day, expression=_p(back))), expression=exp.Literal.number(86400))
            else:
                ts = exp.UnixToTime(this=out)
                if unit == "q":
                    # the quarter starts at month 1, 4, 7 or 10
                    year = exp.TimestampTrunc(this=ts, unit=exp.var("YEAR"))
                    month0 = exp.Sub(this=exp.Extract(this=exp.var("MONTH"), expression=ts), expression=exp.Literal.number(1))
                    qm = exp.Mul(
                        this=exp.Floor(this=exp.Div(this=_p(month0), expression=exp.Literal.number(3))),
                        expression=exp.Literal.number(3),
                    )
                    out = _to_epoch(exp.AddMonths(this=year, expression=exp.Cast(this=qm, to=exp.DataType.build("INT"))))
                else:
                    out = _to_epoch(exp.TimestampTrunc(this=ts, unit=exp.var("MONTH" if unit == "mon" else "YEAR")))
    return out


@function("relative_time", 2)
def _relative_time(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """relative_time(time, modifier): the epoch time moved by a relative time modifier."""
    m = a[1]
    if not (m.literal and m.kind == STR):
        raise SplUnsupportedError("relative_time() with a non-literal modifier", "the modifier must be a string literal")
    try:
        steps = parse_modifier(str(m.sql.this))
    except ValueError as e:
        raise SplUnsupportedError(f"time modifier {m.sql.this!r}", str(e)) from None
    if a[0].kind == NULL:
        return Typed(exp.Null(), NULL, False)
    return Typed(apply_modifier(to_num(a[0]), steps), NUM)
