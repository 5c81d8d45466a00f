"""Text eval functions: urldecode, printf, md5, sha1, sha256, sha512.

Splunk Search Reference, "Text functions" and "Cryptographic functions":
- urldecode(X): `%XX` escapes decoded (a `+` stays a `+`);
- printf(format, X, ...): C-style conversions `%d %i %u %f %F %e %E %g %G %x %X %o %s
  %c %%` with flags, width and precision; the format must be a literal; `%'d`
  (thousands separators) and `%*d` are refused;
- md5/sha1/sha256(X): lowercase hex digests; sha512 is refused (DuckDB has none).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from splhunt.compile.expr import Typed, to_num, to_str
from splhunt.compile.stage import MV, STR
from splhunt.errors import CompileError, SplUnsupportedError
from splhunt.functions import function
from splhunt.spl import ast as A

if TYPE_CHECKING:
    from splhunt.compile.compiler import Ctx


def _map(t: Typed, fn) -> Typed:  # fn: exp.Expression -> exp.Expression
    if t.kind == MV:
        x = exp.to_identifier("__sv")
        return Typed(exp.Transform(this=t.sql, expression=exp.Lambda(this=fn(exp.Column(this=x)), expressions=[x])), MV)
    return Typed(fn(to_str(t)), STR)


@function("urldecode", 1)
def _urldecode(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """urldecode(X): URL escapes (%XX) decoded."""
    return _map(a[0], lambda s: exp.Anonymous(this="url_decode", expressions=[s]))


@function("md5", 1)
def _md5(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.MD5(this=to_str(a[0])), STR)


@function("sha1", 1)
def _sha1(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.SHA(this=to_str(a[0])), STR)


@function("sha256", 1)
def _sha256(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    return Typed(exp.SHA2(this=to_str(a[0]), length=exp.Literal.number(256)), STR)


@function("sha512", 1)
def _sha512(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    if ctx.caps.dialect == "duckdb":
        raise SplUnsupportedError("eval function sha512()", "DuckDB has no SHA-512 function")
    return Typed(exp.SHA2(this=to_str(a[0]), length=exp.Literal.number(512)), STR)


_CONV = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([hlLqjzt]*)([diouxXeEfFgGcs%'])")


def printf_specs(fmt: str) -> list[str]:
    """The conversion letters of a printf format that take an argument, in order."""
    out: list[str] = []
    i = 0
    while True:
        j = fmt.find("%", i)
        if j < 0:
            return out
        m = _CONV.match(fmt, j)
        if not m:
            raise SplUnsupportedError(f"printf() format {fmt[j:j + 4]!r}", "not a conversion splhunt knows")
        flags, width, prec, _len, conv = m.groups()
        if conv == "'" or "'" in flags:
            raise SplUnsupportedError("printf() %' (thousands separators)", "not supported")
        if width == "*" or prec == "*":
            raise SplUnsupportedError("printf() * width or precision", "not supported")
        if _len:
            raise SplUnsupportedError(f"printf() length modifier {_len!r}", "not supported")
        if conv != "%":
            out.append(conv)
        i = m.end()


@function("printf", 1, None)
def _printf(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """printf(format, args...): C-style formatting."""
    f = a[0]
    if not (f.literal and f.kind == STR):
        raise SplUnsupportedError("printf() with a non-literal format", "the format must be a string literal")
    fmt = str(f.sql.this)
    specs = printf_specs(fmt)
    if len(specs) != len(a) - 1:
        raise CompileError(f"printf(): the format has {len(specs)} conversions but {len(a) - 1} values were given")
    fmt = fmt.replace("%i", "%d").replace("%u", "%d").replace("%F", "%f")
    args: list[exp.Expression] = []
    for conv, t in zip(specs, a[1:], strict=True):
        if conv in "diuxXoc":
            args.append(exp.Cast(this=exp.Floor(this=to_num(t)), to=exp.DataType.build("BIGINT")))
        elif conv in "eEfFgG":
            args.append(exp.Cast(this=to_num(t), to=exp.DataType.build("DOUBLE")))
        else:
            args.append(to_str(t))
    fn = "printf" if ctx.caps.dialect == "duckdb" else "format_string"
    return Typed(exp.Anonymous(this=fn, expressions=[exp.Literal.string(fmt), *args]), STR)
