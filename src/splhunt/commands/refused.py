"""SPL commands splhunt knows and refuses by name, each with the reason.

- `iplocation`: needs a GeoIP (MaxMind mmdb) database; none is configured;
- `outputlookup`, `outputcsv`, `collect`, `sendemail`, `sendalert`: splhunt is
  read-only and never writes;
- `anomalydetection`, `outlier`, `apply`, `fit`: statistical models with
  engine-specific results; `map`: runs a search per result (not a single query);
- `mstats`, `mcatalog`: metrics indexes do not exist in splhunt's event store;
- `extract`: key-value extraction whose field names come from the data (use `rex`).
"""

from __future__ import annotations

from dataclasses import dataclass

from splhunt.commands import COMMANDS, command
from splhunt.errors import SplUnsupportedError
from splhunt.spl import ast as A
from splhunt.spl.parser import CommandParser

REASONS: dict[str, str] = {
    "iplocation": "needs a GeoIP (MaxMind mmdb) database and none is configured",
    "outputlookup": "splhunt is read-only: it never writes lookups",
    "outputcsv": "splhunt is read-only: it never writes files",
    "collect": "splhunt is read-only: it never writes to an index",
    "sendemail": "splhunt never sends anything",
    "sendalert": "splhunt never sends anything",
    "anomalydetection": "statistical anomaly models are not implemented",
    "outlier": "statistical outlier removal is not implemented",
    "apply": "machine learning models (MLTK) are not available",
    "fit": "machine learning models (MLTK) are not available",
    "map": "runs one search per result, which is not a single query",
    "mstats": "metrics indexes are not part of splhunt's event store",
    "mcatalog": "metrics indexes are not part of splhunt's event store",
    "extract": "key-value extraction whose field names come from the data is not implemented; use rex",
}


@dataclass(frozen=True)
class Refused(A.Command):
    """Parses (so a catalog's searches all parse) and refuses when compiled, by name."""

    text: str = ""

    @classmethod
    def parse(cls, p: CommandParser) -> Refused:
        return cls(p.name, p.pos, p.text)

    def compile(self, ctx, first: bool = False):  # noqa: ANN001, ANN201
        raise SplUnsupportedError(
            f"command '{self.name}'", REASONS.get(self.name, "not supported"), self.text, self.pos
        )


for _name in REASONS:
    if _name not in COMMANDS:
        command(_name)(Refused)
