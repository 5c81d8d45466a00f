"""`iplocation [prefix=P] [allfields=true] <ip-field>`: geolocate IP addresses.

Adds `City`, `Country`, `Region`, `lat`, `lon` (and with `allfields=true` also
`Continent`, `MetroCode`, `Timezone`), each prefixed with `prefix`, from a MaxMind
GeoIP2/GeoLite2 City database (`.mmdb`). Splunk ships one; splhunt does not, so the
user names it with `SPLHUNT_GEOIP_DB=FILE` (or `Session(geoip=FILE)`). Without one the command is
refused by name. A private or unknown address gets no fields (Splunk leaves them empty).
Lookups run through a registered function (per distinct address, cached); the Spark
engine refuses the command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlglot import exp

from splhunt.commands import command
from splhunt.compile.compiler import Ctx
from splhunt.compile.expr import Typed, first_value, to_str
from splhunt.compile.stage import MV, NUM, STR, Stage
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

BASIC = ("City", "Country", "Region", "lat", "lon")
EXTRA = ("Continent", "MetroCode", "Timezone")


def geoip_path(ctx: Ctx) -> str | None:
    return getattr(ctx.compiler, "geoip", None) or os.environ.get("SPLHUNT_GEOIP_DB") or None


@command("iplocation")
@dataclass(frozen=True)
class IpLocation(A.Command):
    field: str
    prefix: str
    allfields: bool

    @classmethod
    def parse(cls, p: CommandParser) -> IpLocation:
        opts = p.options({"prefix": "", "allfields": "", "lang": ""})
        field = p.word("an IP address field")
        p.expect_end()
        allf = opts.get("allfields", "false").lower() in ("1", "t", "true", "yes")
        return cls(p.name, p.pos, field, opts.get("prefix", ""), allf)

    def compile(self, ctx: Ctx, first: bool = False) -> Stage:
        path = geoip_path(ctx)
        if not path:
            raise SplUnsupportedError(
                "command 'iplocation'", "needs a GeoIP (MaxMind mmdb) database: set SPLHUNT_GEOIP_DB to a .mmdb file"
            )
        if not ctx.caps.python_udf:
            raise SplUnsupportedError("command 'iplocation'", f"not available on the {ctx.caps.dialect} engine")
        if not os.path.exists(path):
            raise SplUnsupportedError("command 'iplocation'", f"GeoIP database {path} does not exist")
        src = ctx.field(self.field)
        if src.kind == "null":
            return ctx.stage
        ip = to_str(Typed(first_value(src.sql), STR)) if src.kind == MV else to_str(src)
        new = []
        for name in BASIC + (EXTRA if self.allfields else ()):
            val = exp.Anonymous(
                this="splhunt_geoip", expressions=[ip, exp.Literal.string(path), exp.Literal.string(name)]
            )
            if name in ("lat", "lon"):
                new.append((self.prefix + name, Typed(exp.TryCast(this=val, to=exp.DataType.build("DOUBLE")), NUM)))
            else:
                new.append((self.prefix + name, Typed(val, STR)))
        return ctx.compiler.with_columns(ctx.stage, new)
