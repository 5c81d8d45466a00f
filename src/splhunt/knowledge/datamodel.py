"""CIM / ES data models as data: datasets, constraints, fields and calculated fields.

A child dataset's events are its parent's events that also match the child's constraint, and
it inherits every parent field. Splunk applies a parent's calculations (e.g. the `"unknown"`
fills) before the child's constraint is tested, which matters: `Traffic_By_Action` is
`action=*`, true for every event once `All_Traffic` has filled `action`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from splhunt.errors import ContentError
from splhunt.knowledge.conf import split_pipeline

#: The implicit roots. Every dataset inherits these four fields (TA_FIELDS.md §6).
ROOTS = ("BaseEvent", "BaseSearch")
BASE_FIELDS = ("_time", "host", "source", "sourcetype")


@dataclass(frozen=True)
class DMField:
    """A data model field. `expression` is set for an eval calculation (SPL, verbatim)."""

    name: str
    multivalue: bool = False
    kind: str = "extracted"  # extracted | eval | lookup | inherited
    expression: str | None = None
    dataset: str = ""

    @property
    def calculated(self) -> bool:
        return self.kind in ("eval", "lookup")


@dataclass(frozen=True)
class DMCalculation:
    """One calculation, in JSON order: an eval (`field` = `expression`) or a lookup whose
    `inputs` are (lookup column, event field) pairs and `outputs` lookup columns."""

    kind: str  # eval | lookup
    outputs: tuple[str, ...]
    expression: str | None = None
    lookup: str | None = None
    inputs: tuple[tuple[str, str], ...] = ()
    multivalue: bool = False


@dataclass(frozen=True)
class Dataset:
    """One dataset as defined, without inheritance; see `ResolvedDataset` for the full view.

    Constraint-based datasets have `constraint`; root search datasets (CIM Endpoint) have
    `base_search`, a search that may go on with `| eval ...` commands.
    """

    model: str
    name: str
    parent: str
    constraint: str | None = None
    base_search: str | None = None
    tags: tuple[str, ...] = ()
    extracted: tuple[DMField, ...] = ()
    calculations: tuple[DMCalculation, ...] = ()

    @property
    def search_constraint(self) -> str:
        """The filter part: `constraint`, or `base_search` up to its first top-level pipe."""
        if self.constraint is not None:
            return self.constraint
        return split_pipeline(self.base_search or "")[0]

    @property
    def pipeline(self) -> str:
        """Commands after the base search (`| eval ...`), or ''."""
        return split_pipeline(self.base_search or "")[1]

    @property
    def fields(self) -> tuple[DMField, ...]:
        """Own fields: extracted ones, then calculated ones in calculation order."""
        calc = [
            DMField(out, c.multivalue, c.kind, c.expression, self.name)
            for c in self.calculations
            for out in c.outputs
        ]
        return self.extracted + tuple(calc)


@dataclass(frozen=True)
class ResolvedDataset:
    """A dataset with its parent chain applied (root first, this dataset last)."""

    model: str
    name: str
    chain: tuple[Dataset, ...]

    @property
    def dataset(self) -> Dataset:
        return self.chain[-1]

    @property
    def parent(self) -> str:
        return self.dataset.parent

    @property
    def tags(self) -> tuple[str, ...]:
        return self.dataset.tags

    @property
    def constraints(self) -> tuple[str, ...]:
        """Every chain member's filter, root first; an event must match all of them."""
        return tuple(d.search_constraint for d in self.chain)

    @property
    def base_pipeline(self) -> str:
        """The root's `| ...` commands (Endpoint base searches), or ''."""
        return self.chain[0].pipeline

    @property
    def search(self) -> str:
        """The search Splunk builds for the dataset: the root search (with its pipeline),
        then `| search <constraint>` for each descendant."""
        root = self.chain[0]
        parts = [root.base_search if root.base_search is not None else root.search_constraint]
        parts += [f"| search {d.search_constraint}" for d in self.chain[1:]]
        return " ".join(parts)

    @property
    def calculations(self) -> tuple[tuple[str, DMCalculation], ...]:
        """(dataset name, calculation) for the whole chain, in application order."""
        return tuple((d.name, c) for d in self.chain for c in d.calculations)

    @property
    def fields(self) -> tuple[DMField, ...]:
        """BaseEvent fields, then each chain member's fields; a name keeps its first owner."""
        seen: dict[str, DMField] = {
            name: DMField(name, kind="inherited", dataset=self.chain[0].parent)
            for name in BASE_FIELDS
        }
        for d in self.chain:
            for f in d.fields:
                seen.setdefault(f.name, f)
        return tuple(seen.values())

    def field(self, name: str) -> DMField | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class DataModel:
    name: str
    version: str
    package: str
    macros: Mapping[str, str] = field(default_factory=dict)
    datasets: Mapping[str, Dataset] = field(default_factory=dict)

    def dataset(self, name: str) -> ResolvedDataset:
        """The dataset `name` with inherited constraints and fields (parent chain resolved)."""
        chain: list[Dataset] = []
        current: str | None = name
        while current not in ROOTS:
            ds = self.datasets.get(current or "")
            if ds is None:
                raise KeyError(f"data model {self.name} has no dataset {current!r}")
            if ds in chain:
                raise ContentError(f"data model {self.name}: parent cycle at {current!r}")
            chain.append(ds)
            current = ds.parent
        return ResolvedDataset(self.name, name, tuple(reversed(chain)))

    @property
    def roots(self) -> tuple[str, ...]:
        return tuple(n for n, d in self.datasets.items() if d.parent in ROOTS)


def load_datamodel(path: Path) -> DataModel:
    """Read one `datamodels/<Model>.yml` file."""
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    name = doc["name"]
    datasets: dict[str, Dataset] = {}
    for raw in doc["datasets"]:
        where = f"{path}: dataset {raw.get('name')!r}"
        if ("constraint" in raw) == ("base_search" in raw):
            raise ContentError(f"{where}: needs exactly one of constraint / base_search")
        extracted = tuple(
            DMField(f["name"], bool(f.get("multivalue")), dataset=raw["name"])
            for f in raw.get("fields", [])
        )
        calcs = tuple(_calculation(c, where) for c in raw.get("calculations", []))
        datasets[raw["name"]] = Dataset(
            model=name,
            name=raw["name"],
            parent=raw["parent"],
            constraint=raw.get("constraint"),
            base_search=raw.get("base_search"),
            tags=tuple(raw.get("tags", [])),
            extracted=extracted,
            calculations=calcs,
        )
    for ds in datasets.values():
        if ds.parent not in ROOTS and ds.parent not in datasets:
            raise ContentError(f"{path}: dataset {ds.name!r} has unknown parent {ds.parent!r}")
    return DataModel(
        name=name,
        version=str(doc["version"]),
        package=doc.get("package", ""),
        macros=dict(doc.get("macros", {})),
        datasets=datasets,
    )


def _calculation(raw: Mapping[str, Any], where: str) -> DMCalculation:
    if "eval" in raw:
        return DMCalculation(
            "eval", (raw["eval"],), raw["expression"], multivalue=bool(raw.get("multivalue"))
        )
    if "lookup" in raw:
        inputs = tuple((str(a), str(b)) for a, b in raw["inputs"])
        return DMCalculation("lookup", tuple(raw["outputs"]), lookup=raw["lookup"], inputs=inputs)
    raise ContentError(f"{where}: calculation is neither eval nor lookup: {dict(raw)!r}")
