"""Typed loader for the add-on knowledge in `knowledge/data/` (layout: see the package docstring).

`load_knowledge()` reads the YAML once and returns a `Knowledge`; the props/transforms values
stay in Splunk syntax (`EvalRule.value`, `Transform.regex`, `EventType.search`) and are only
split into their parts here (alias pairs, lookup fields, transform lists).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import yaml

from splhunt.errors import ContentError
from splhunt.knowledge import conf
from splhunt.knowledge.conf import KIND_RANK, AliasPair, LookupField, StanzaSpec
from splhunt.knowledge.datamodel import DataModel, ResolvedDataset, load_datamodel

DATA_DIR = Path(__file__).with_name("data")
TA_FILES = ("sysmon_ta.yml", "windows_ta.yml", "sysmon_linux.yml")

VERBATIM = "verbatim"


# ---------------------------------------------------------------------------- transforms


@dataclass(frozen=True)
class Transform:
    """A transforms.conf stanza used by REPORT-* (search time) or TRANSFORMS-* (index time)."""

    name: str
    regex: str | None
    source_key: str = "_raw"
    format: str | None = None
    mv_add: bool = False
    repeat_match: bool = False
    dest_key: str | None = None
    done_at_ingest: bool = False
    provenance: str = VERBATIM
    incomplete: str | None = None
    note: str = field(default="", compare=False)
    package: str = field(default="", compare=False)

    @property
    def named_groups(self) -> tuple[str, ...]:
        return conf.named_groups(self.regex or "")

    @property
    def output_fields(self) -> tuple[str, ...]:
        """Fixed names the transform writes; empty for `$1::$2` (name taken from the event)."""
        if self.format is not None:
            return conf.format_fields(self.format)
        return self.named_groups


# ---------------------------------------------------------------------------- props rules


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One `<TYPE>-<class> = <value>` props.conf attribute of one stanza."""

    TYPE: ClassVar[str] = ""
    cls: str
    value: str
    stanza: str
    package: str = ""
    provenance: str = VERBATIM
    incomplete: str | None = None
    note: str = ""

    @property
    def key(self) -> str:
        """The attribute name; the same name in two matching stanzas is one attribute (§1)."""
        return f"{self.TYPE}-{self.cls}"


@dataclass(frozen=True, kw_only=True)
class ExtractRule(Rule):
    TYPE: ClassVar[str] = "EXTRACT"
    regex: str
    source_field: str = "_raw"

    @property
    def named_groups(self) -> tuple[str, ...]:
        return conf.named_groups(self.regex)


@dataclass(frozen=True, kw_only=True)
class ReportRule(Rule):
    TYPE: ClassVar[str] = "REPORT"
    transforms: tuple[Transform, ...]
    done_at_ingest: bool = False


@dataclass(frozen=True, kw_only=True)
class FieldAlias(Rule):
    TYPE: ClassVar[str] = "FIELDALIAS"
    pairs: tuple[AliasPair, ...]


@dataclass(frozen=True, kw_only=True)
class EvalRule(Rule):
    """`EVAL-<field> = <expr>`: `value` is the conf text (continuations kept), `expression`
    the SPL to compile. String literals are NOT unescaped (TA_FIELDS.md §2.4)."""

    TYPE: ClassVar[str] = "EVAL"

    @property
    def field(self) -> str:
        return self.cls

    @property
    def expression(self) -> str:
        return conf.join_continuations(self.value)


@dataclass(frozen=True, kw_only=True)
class LookupRule(Rule):
    TYPE: ClassVar[str] = "LOOKUP"
    lookup: str
    inputs: tuple[LookupField, ...]
    output_mode: str | None
    outputs: tuple[LookupField, ...]


@dataclass(frozen=True, kw_only=True)
class IndexTimeRule(Rule):
    """`TRANSFORMS-<class>`: index-time only; never part of `merged_attributes`."""

    TYPE: ClassVar[str] = "TRANSFORMS"
    transforms: tuple[Transform, ...]


SEARCH_TIME_TYPES = ("EXTRACT", "REPORT", "FIELDALIAS", "EVAL", "LOOKUP")


# ---------------------------------------------------------------------------- stanzas


@dataclass(frozen=True)
class Stanza:
    """A props.conf stanza of one add-on."""

    name: str
    spec: StanzaSpec
    package: str
    version: str
    extracts: tuple[ExtractRule, ...] = ()
    reports: tuple[ReportRule, ...] = ()
    fieldaliases: tuple[FieldAlias, ...] = ()
    evals: tuple[EvalRule, ...] = ()
    lookups: tuple[LookupRule, ...] = ()
    index_time: tuple[IndexTimeRule, ...] = ()
    kv_mode: str | None = None
    rename: str | None = None
    timestamp: Mapping[str, str] = field(default_factory=dict)
    priority: int = 0
    declared_counts: Mapping[str, int] = field(default_factory=dict)
    unrecovered: tuple[Mapping[str, Any], ...] = ()

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def pattern(self) -> str:
        return self.spec.pattern

    def matches(self, source: str | None, sourcetype: str | None, host: str | None) -> bool:
        value = {conf.SOURCE: source, conf.HOST: host, conf.SOURCETYPE: sourcetype}[self.kind]
        return self.spec.matches(value)

    @property
    def precedence_key(self) -> tuple[int, int, int, str]:
        """Sort key, highest precedence first: kind, literal before pattern, `priority`, ASCII."""
        return (KIND_RANK[self.kind], 0 if self.spec.literal else 1, -self.priority, self.name)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Search-time attributes in application order within this stanza."""
        return (
            _ascii(self.extracts)
            + _ascii(self.reports)
            + _ascii(self.fieldaliases)
            + _ascii(self.evals)
            + _ascii(self.lookups)
        )

    def eval(self, target: str) -> EvalRule | None:
        return next((r for r in self.evals if r.cls == target), None)


def _ascii(rules: Iterable[Rule]) -> tuple[Any, ...]:
    return tuple(sorted(rules, key=lambda r: r.cls))


@dataclass(frozen=True)
class MergedAttributes:
    """The attributes Splunk applies to one event (TA_FIELDS.md §1).

    Same attribute name (`EVAL-process_name`) in several matching stanzas: the
    highest-precedence stanza's wins (`overridden` records the losers); different names all
    apply. Each list is in application order: EXTRACT, REPORT, FIELDALIAS, EVAL, LOOKUP, each
    by ASCII class name. ASCII order is documented for EXTRACT/REPORT and assumed for
    FIELDALIAS and LOOKUP (§1, §8 item 3); EVALs run as if in parallel, so their order is only
    for determinism.
    """

    stanzas: tuple[Stanza, ...]
    extracts: tuple[ExtractRule, ...]
    reports: tuple[ReportRule, ...]
    fieldaliases: tuple[FieldAlias, ...]
    evals: tuple[EvalRule, ...]
    lookups: tuple[LookupRule, ...]
    overridden: tuple[tuple[Rule, Rule], ...]  # (loser, winner)
    kv_mode: str | None

    @property
    def runtime_reports(self) -> tuple[ReportRule, ...]:
        """REPORTs a search-time engine must run: without the ones ingest already did."""
        return tuple(r for r in self.reports if not r.done_at_ingest)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self.extracts + self.reports + self.fieldaliases + self.evals + self.lookups

    def eval(self, target: str) -> EvalRule | None:
        return next((r for r in self.evals if r.cls == target), None)


# ---------------------------------------------------------------------------- eventtypes, lookups


@dataclass(frozen=True)
class EventType:
    """An eventtypes.conf search with its tags.conf tags. `tagless` explains an empty tag list."""

    name: str
    search: str
    tags: tuple[str, ...]
    package: str
    datasets: tuple[str, ...] = ()
    provenance: str = VERBATIM
    note: str = ""
    tagless: str | None = None


#: transforms.conf.spec defaults for a file-based, non-temporal lookup.
LOOKUP_DEFAULTS: Mapping[str, Any] = {
    "default_match": None,
    "min_matches": 0,
    "max_matches": 100,
    "case_sensitive_match": True,
    "match_type": "EXACT",
}


@dataclass(frozen=True)
class LookupDef:
    """A transforms.conf lookup definition. `explicit` names the settings the .conf sets;
    the others carry Splunk's defaults (`LOOKUP_DEFAULTS`)."""

    name: str
    filename: str
    package: str
    default_match: str | None
    min_matches: int
    max_matches: int
    case_sensitive_match: bool
    match_type: str
    explicit: frozenset[str] = frozenset()
    incomplete: bool = False
    reason: str = ""
    rows_provenance: str = ""


# ---------------------------------------------------------------------------- knowledge


@dataclass(frozen=True)
class Knowledge:
    """Everything in `knowledge/data/`, with Splunk's stanza-matching and precedence rules."""

    data_dir: Path
    stanzas: tuple[Stanza, ...]
    transforms: Mapping[str, Transform]
    eventtypes: tuple[EventType, ...]
    lookups: Mapping[str, LookupDef]
    datamodels: Mapping[str, DataModel]
    not_covered: tuple[Mapping[str, str], ...] = ()

    # -- props ------------------------------------------------------------------------------

    def rename_sourcetype(self, sourcetype: str) -> str:
        """The search-time sourcetype after `rename =` (e.g. the old per-channel Sysmon
        sourcetype is searched as `xmlwineventlog`, TA_FIELDS.md §1 item 2)."""
        for s in sorted(self.stanzas, key=lambda s: s.precedence_key):
            if s.kind == conf.SOURCETYPE and s.rename and s.spec.matches(sourcetype):
                return s.rename
        return sourcetype

    def stanzas_for(self, source: str, sourcetype: str, host: str | None = None) -> list[Stanza]:
        """Every props stanza that applies to an event, highest precedence first:
        `[source::]` > `[host::]` > `[<sourcetype>]`; within a kind literal > pattern, then
        `priority`, then ASCII. Sourcetype stanzas match the given sourcetype and its renamed
        form, case-sensitively."""
        renamed = self.rename_sourcetype(sourcetype)
        hits = [
            s
            for s in self.stanzas
            if s.matches(source, renamed, host) or s.matches(source, sourcetype, host)
        ]
        return sorted(hits, key=lambda s: s.precedence_key)

    def merged_attributes(
        self, source: str, sourcetype: str, host: str | None = None
    ) -> MergedAttributes:
        """The effective EXTRACT/REPORT/FIELDALIAS/EVAL/LOOKUP set for an event (§1)."""
        stanzas = self.stanzas_for(source, sourcetype, host)
        winners: dict[str, Rule] = {}
        overridden: list[tuple[Rule, Rule]] = []
        for stanza in stanzas:
            for rule in stanza.rules:
                if rule.key in winners:
                    overridden.append((rule, winners[rule.key]))
                else:
                    winners[rule.key] = rule
        by_type: dict[str, list[Rule]] = {t: [] for t in SEARCH_TIME_TYPES}
        for rule in winners.values():
            by_type[rule.TYPE].append(rule)
        kv_mode = next((s.kv_mode for s in stanzas if s.kv_mode is not None), None)
        return MergedAttributes(
            stanzas=tuple(stanzas),
            extracts=_ascii(by_type["EXTRACT"]),
            reports=_ascii(by_type["REPORT"]),
            fieldaliases=_ascii(by_type["FIELDALIAS"]),
            evals=_ascii(by_type["EVAL"]),
            lookups=_ascii(by_type["LOOKUP"]),
            overridden=tuple(overridden),
            kv_mode=kv_mode,
        )

    def stanza(self, header: str, package: str | None = None) -> Stanza:
        """The stanza named `header` (e.g. `source::XmlWinEventLog:Security`)."""
        for s in self.stanzas:
            if s.name == header and (package is None or s.package == package):
                return s
        raise KeyError(f"no props stanza [{header}]" + (f" in {package}" if package else ""))

    # -- eventtypes ---------------------------------------------------------------------------

    def eventtype(self, name: str) -> EventType:
        for et in self.eventtypes:
            if et.name == name:
                return et
        raise KeyError(f"no eventtype {name!r}")

    def tags_for_eventtype(self, name: str) -> tuple[str, ...]:
        return self.eventtype(name).tags

    # -- data models --------------------------------------------------------------------------

    def datamodel(self, name: str) -> DataModel:
        try:
            return self.datamodels[name]
        except KeyError:
            raise KeyError(f"no data model {name!r}") from None

    def dataset(self, model: str, name: str) -> ResolvedDataset:
        """`dataset("Endpoint", "Processes")`: constraints and fields with inheritance."""
        return self.datamodel(model).dataset(name)

    # -- lookups ------------------------------------------------------------------------------

    def lookup_table(self, name: str) -> tuple[LookupDef, Path]:
        """The lookup definition and the path of its CSV."""
        try:
            ldef = self.lookups[name]
        except KeyError:
            raise KeyError(f"no lookup definition {name!r}") from None
        return ldef, self.data_dir / "lookups" / ldef.filename

    def lookup_rows(self, name: str) -> list[dict[str, str]]:
        _, path = self.lookup_table(name)
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))


@cache
def load_knowledge(data_dir: Path | None = None) -> Knowledge:
    """Read `knowledge/data/` (or `data_dir`) once; later calls return the same object.

    Raises ContentError, naming the file, on malformed data or dangling references (a REPORT
    naming an undefined transform, a LOOKUP naming an undefined lookup).
    """
    base = Path(data_dir) if data_dir is not None else DATA_DIR
    docs = [(base / name, _yaml(base / name)) for name in TA_FILES]

    transforms: dict[str, Transform] = {}
    for path, doc in docs:
        for name, raw in (doc.get("transforms") or {}).items():
            t = _transform(name, raw or {}, doc["package"])
            if name in transforms and transforms[name] != t:
                raise ContentError(f"{path}: transform {name!r} defined twice, differently")
            transforms.setdefault(name, t)

    stanzas = tuple(
        _stanza(raw, doc, transforms, path) for path, doc in docs for raw in doc["stanzas"]
    )
    not_covered = tuple(item for _, doc in docs for item in doc.get("not_covered", []))

    et_path = base / "eventtypes.yml"
    eventtypes = tuple(_eventtype(raw, et_path) for raw in _yaml(et_path)["eventtypes"])

    lk_path = base / "lookups.yml"
    lookups = {raw["name"]: _lookup_def(raw, lk_path) for raw in _yaml(lk_path)["lookups"]}

    datamodels = {}
    for path in sorted((base / "datamodels").glob("*.yml")):
        dm = load_datamodel(path)
        datamodels[dm.name] = dm

    knowledge = Knowledge(base, stanzas, transforms, eventtypes, lookups, datamodels, not_covered)
    _check_references(knowledge)
    return knowledge


# ---------------------------------------------------------------------------- YAML readers


def _yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise ContentError(f"{path}: expected a mapping at the top level")
    return doc


def _transform(name: str, raw: Mapping[str, Any], package: str) -> Transform:
    incomplete = raw.get("incomplete")
    return Transform(
        name=name,
        regex=raw.get("regex"),
        source_key=raw.get("source_key", "_raw"),
        format=raw.get("format"),
        mv_add=bool(raw.get("mv_add", False)),
        repeat_match=bool(raw.get("repeat_match", False)),
        dest_key=raw.get("dest_key"),
        done_at_ingest=bool(raw.get("done_at_ingest", False)),
        provenance="incomplete" if incomplete else raw.get("provenance", VERBATIM),
        incomplete=incomplete,
        note=raw.get("note", ""),
        package=package,
    )


def _rules(raw: Mapping[str, Any] | None) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for cls, body in (raw or {}).items():
        yield str(cls), body if isinstance(body, Mapping) else {"value": body}


def _stanza(
    raw: Mapping[str, Any], doc: Mapping[str, Any], transforms: Mapping[str, Transform], path: Path
) -> Stanza:
    header = raw["stanza"]
    package = doc["package"]
    where = f"{path}: [{header}]"

    def common(cls: str, body: Mapping[str, Any]) -> dict[str, Any]:
        incomplete = body.get("incomplete")
        provenance = body.get("provenance", "incomplete" if incomplete else VERBATIM)
        return dict(
            cls=cls,
            value=str(body.get("value", "")),
            stanza=header,
            package=package,
            provenance=provenance,
            incomplete=incomplete,
            note=body.get("note", ""),
        )

    def resolve(names: Iterable[str], cls: str) -> tuple[Transform, ...]:
        missing = [n for n in names if n not in transforms]
        if missing:
            raise ContentError(f"{where}: {cls} names undefined transforms {missing}")
        return tuple(transforms[n] for n in names)

    extracts = []
    for cls, body in _rules(raw.get("extracts")):
        regex, src = conf.parse_extract(str(body["value"]))
        extracts.append(ExtractRule(**common(cls, body), regex=regex, source_field=src))
    reports = [
        ReportRule(
            **common(cls, body),
            transforms=resolve(conf.split_list(str(body.get("value", ""))), f"REPORT-{cls}"),
            done_at_ingest=bool(body.get("done_at_ingest", False)),
        )
        for cls, body in _rules(raw.get("reports"))
    ]
    aliases = [
        FieldAlias(**common(cls, body), pairs=conf.parse_fieldalias(str(body["value"]), where))
        for cls, body in _rules(raw.get("fieldaliases"))
    ]
    evals = [EvalRule(**common(cls, body)) for cls, body in _rules(raw.get("evals"))]
    lookups = []
    for cls, body in _rules(raw.get("lookups")):
        spec = conf.parse_lookup(str(body["value"]), where)
        lookups.append(
            LookupRule(
                **common(cls, body),
                lookup=spec.table,
                inputs=spec.inputs,
                output_mode=spec.mode,
                outputs=spec.outputs,
            )
        )
    index_time = [
        IndexTimeRule(
            **common(cls, body),
            transforms=resolve(conf.split_list(str(body["value"])), f"TRANSFORMS-{cls}"),
        )
        for cls, body in _rules(raw.get("transforms_index_time"))
    ]
    return Stanza(
        name=header,
        spec=StanzaSpec.parse(header),
        package=package,
        version=str(doc["version"]),
        extracts=tuple(extracts),
        reports=tuple(reports),
        fieldaliases=tuple(aliases),
        evals=tuple(evals),
        lookups=tuple(lookups),
        index_time=tuple(index_time),
        kv_mode=raw.get("kv_mode"),
        rename=raw.get("rename"),
        timestamp=dict(raw.get("timestamp") or {}),
        priority=int(raw.get("priority", 0)),
        declared_counts=dict(raw.get("declared_counts") or {}),
        unrecovered=tuple(raw.get("unrecovered") or ()),
    )


def _eventtype(raw: Mapping[str, Any], path: Path) -> EventType:
    tags = tuple(raw.get("tags") or ())
    if not tags and not raw.get("tagless"):
        raise ContentError(f"{path}: eventtype {raw['name']!r} has no tags and no `tagless` reason")
    return EventType(
        name=raw["name"],
        search=raw["search"],
        tags=tags,
        package=raw.get("package", ""),
        datasets=tuple(raw.get("datasets") or ()),
        provenance=raw.get("provenance", VERBATIM),
        note=raw.get("note", ""),
        tagless=raw.get("tagless"),
    )


def _lookup_def(raw: Mapping[str, Any], path: Path) -> LookupDef:
    explicit = frozenset(k for k in LOOKUP_DEFAULTS if k in raw)
    values = {k: raw.get(k, default) for k, default in LOOKUP_DEFAULTS.items()}
    if values["default_match"] is not None:
        values["default_match"] = str(values["default_match"])
    return LookupDef(
        name=raw["name"],
        filename=raw["filename"],
        package=raw.get("package", ""),
        explicit=explicit,
        incomplete=bool(raw.get("incomplete", False)),
        reason=raw.get("reason", ""),
        rows_provenance=raw.get("rows_provenance", ""),
        **values,
    )


def _check_references(k: Knowledge) -> None:
    for stanza in k.stanzas:
        for rule in stanza.lookups:
            if rule.lookup not in k.lookups:
                raise ContentError(
                    f"[{stanza.name}] LOOKUP-{rule.cls} names undefined lookup {rule.lookup!r}"
                )
    for dm in k.datamodels.values():
        for ds in dm.datasets.values():
            for calc in ds.calculations:
                if calc.lookup is not None and calc.lookup not in k.lookups:
                    raise ContentError(
                        f"data model {dm.name}.{ds.name} names undefined lookup {calc.lookup!r}"
                    )
    for name, ldef in k.lookups.items():
        if not (k.data_dir / "lookups" / ldef.filename).is_file():
            raise ContentError(f"lookup {name!r}: missing lookups/{ldef.filename}")
