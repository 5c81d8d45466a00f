"""cidrmatch(cidr, ip): true when an IPv4 address lies in a CIDR subnet.

Splunk Search Reference, cidrmatch: `cidrmatch("10.0.0.0/8", ip)`. The address must
be a dotted quad (each part 0-255); anything else (IPv6, host names, null) is not a
match. A CIDR without `/bits` is a single address (/32). A multivalue ip matches when
any value does. Computed with SQL arithmetic on the four octets (no UDF). IPv6 CIDRs
are refused.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from sqlglot import exp

from splhunt.compile.expr import Typed, mv_any, to_str
from splhunt.compile.stage import BOOL, MV, NULL, STR
from splhunt.errors import SplUnsupportedError
from splhunt.functions import function
from splhunt.spl import ast as A

if TYPE_CHECKING:
    from splhunt.compile.compiler import Ctx

_QUAD = r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$"


def ipv4_number(s: exp.Expression) -> exp.Expression:
    """A dotted-quad text as its 32-bit number; null when it is not a valid IPv4 address."""
    pat = exp.Literal.string(_QUAD)
    octets = [
        exp.Cast(
            this=exp.RegexpExtract(this=s.copy(), expression=pat.copy(), group=exp.Literal.number(i)),
            to=exp.DataType.build("BIGINT"),
        )
        for i in range(1, 5)
    ]
    num: exp.Expression = exp.Literal.number(0)
    for o in octets:
        num = exp.Add(this=exp.Paren(this=exp.Mul(this=exp.Paren(this=num), expression=exp.Literal.number(256))), expression=o)
    valid = exp.and_(
        exp.RegexpLike(this=s.copy(), expression=pat.copy()),
        *[exp.LTE(this=o.copy(), expression=exp.Literal.number(255)) for o in octets],
    )
    return exp.Case(ifs=[exp.If(this=valid, true=num)], default=exp.Null())


def in_subnet(s: exp.Expression, cidr: str) -> exp.Expression:
    try:
        net = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError as e:
        raise SplUnsupportedError(f"cidrmatch() subnet {cidr!r}", str(e)) from None
    if net.version != 4:
        raise SplUnsupportedError(f"cidrmatch() subnet {cidr!r}", "IPv6 is not supported")
    lo = int(net.network_address)
    hi = int(net.broadcast_address)
    n = ipv4_number(s)
    return exp.func("COALESCE", exp.Between(this=n, low=exp.Literal.number(lo), high=exp.Literal.number(hi)), exp.false())


def in_subnet_dynamic(s: exp.Expression, cidr: exp.Expression) -> exp.Expression:
    """cidrmatch with a CIDR computed per row: network bits compared by integer division."""
    addr = exp.func("SPLIT_PART", cidr.copy(), exp.Literal.string("/"), exp.Literal.number(1))
    bits_txt = exp.func("SPLIT_PART", cidr.copy(), exp.Literal.string("/"), exp.Literal.number(2))
    bits = exp.func(
        "COALESCE",
        exp.TryCast(this=exp.Nullif(this=bits_txt, expression=exp.Literal.string("")), to=exp.DataType.build("BIGINT")),
        exp.Literal.number(32),
    )
    size = exp.Pow(this=exp.Literal.number(2), expression=exp.Paren(this=exp.Sub(this=exp.Literal.number(32), expression=bits)))
    a, b = ipv4_number(s), ipv4_number(addr)
    same = exp.EQ(
        this=exp.Floor(this=exp.Div(this=a, expression=size)),
        expression=exp.Floor(this=exp.Div(this=b, expression=size.copy())),
    )
    ok = exp.and_(exp.GTE(this=bits.copy(), expression=exp.Literal.number(0)), exp.LTE(this=bits.copy(), expression=exp.Literal.number(32)))
    return exp.func("COALESCE", exp.and_(ok, same), exp.false())


@function("cidrmatch", 2)
def _cidrmatch(a: list[Typed], ctx: Ctx, call: A.Call) -> Typed:
    """cidrmatch(cidr, ip): true when ip (IPv4) is in the subnet."""
    c, ip = a
    if ip.kind == NULL or c.kind == NULL:
        return Typed(exp.false(), BOOL)
    if c.literal and c.kind == STR:
        cidr = str(c.sql.this)

        def test(v: exp.Expression) -> exp.Expression:
            return in_subnet(v, cidr)
    else:
        cs = to_str(c)

        def test(v: exp.Expression) -> exp.Expression:
            return in_subnet_dynamic(v, cs)

    if ip.kind == MV:
        return Typed(exp.func("COALESCE", mv_any(ip.sql, test), exp.false()), BOOL)
    return Typed(test(to_str(ip)), BOOL)
