"""Load ESCU content (detections, macros, lookups, stories, data sources) from YAML.

Single-file loaders (`load_detection`, ...) raise `ContentError` naming the file (and the
line when YAML reports one). `load_content` loads a whole folder, collects one message
per bad file in `ContentLibrary.errors` and keeps loading the rest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from splhunt.content.models import DataSource, Detection, Lookup, Macro, Story
from splhunt.errors import ContentError

try:  # libyaml is ~10x faster; fall back to the pure-Python loader when absent
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

YAML_SUFFIXES = (".yml", ".yaml")
STATUSES = ("production", "experimental", "deprecated", "removed")

M = TypeVar("M", bound=BaseModel)


# --------------------------------------------------------------------------- YAML


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """Parse one YAML file; `ContentError` names the file and line on failure."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            return yaml.load(fh, Loader=_Loader)  # noqa: S506 - Safe/CSafe loader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{p}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(p)
        what = " ".join(x for x in (e.context, e.problem) if x) or str(e)
        raise ContentError(f"{where}: invalid YAML: {what}") from e
    except yaml.YAMLError as e:
        raise ContentError(f"{p}: invalid YAML: {e}") from e
    except OSError as e:
        raise ContentError(f"{p}: cannot read: {e.strerror or e}") from e


def _validation_message(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ())) or "(top)"
        if err.get("type") == "missing":
            parts.append(f"missing required key '{loc}'")
        else:
            parts.append(f"'{loc}': {err.get('msg')}")
    more = len(e.errors()) - 5
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def _load_model(model: type[M], path: str | os.PathLike[str], kind: str) -> M:
    p = Path(path)
    data = read_yaml(p)
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ContentError(f"{p}: not a {kind}: expected a YAML mapping, got {got}")
    try:
        return model.model_validate({**data, "path": p})
    except ValidationError as e:
        raise ContentError(f"{p}: invalid {kind}: {_validation_message(e)}") from e


# --------------------------------------------------------------------------- single files


def load_detection(path: str | os.PathLike[str]) -> Detection:
    """Load one detection YAML. Raises `ContentError` naming the file on bad input."""
    return _load_model(Detection, path, "detection")


def load_macro(path: str | os.PathLike[str]) -> Macro:
    return _load_model(Macro, path, "macro")


def load_story(path: str | os.PathLike[str]) -> Story:
    return _load_model(Story, path, "story")


def load_data_source(path: str | os.PathLike[str]) -> DataSource:
    return _load_model(DataSource, path, "data source")


def resolve_lookup_file(
    lookups_dir: str | os.PathLike[str], filename: str, *, origin: Path | None = None
) -> Path:
    """`lookups_dir/filename`, refusing any name that leaves `lookups_dir`.

    Absolute paths, `..` components, drive letters and symlinks that point outside the
    folder raise `ContentError` (naming `origin`, the YAML that asked for the file).
    """
    who = origin if origin is not None else Path(lookups_dir)
    name = str(filename)
    bad = (
        not name.strip()
        or "\x00" in name
        or Path(name).is_absolute()
        or name.startswith(("/", "\\"))
        or (len(name) > 1 and name[1] == ":")
        or any(part == ".." for part in name.replace("\\", "/").split("/"))
    )
    if bad:
        raise ContentError(
            f"{who}: lookup filename {name!r} is not a plain file name inside the lookups folder"
        )
    base = Path(lookups_dir).resolve()
    target = (base / name).resolve()
    try:
        target.relative_to(base)
    except ValueError:
        raise ContentError(
            f"{who}: lookup filename {name!r} resolves to {target}, outside the lookups folder {base}"
        ) from None
    return target


def load_lookup(
    path: str | os.PathLike[str], *, lookups_dir: str | os.PathLike[str] | None = None
) -> Lookup:
    """Load one lookup YAML; its CSV is resolved inside `lookups_dir` (default: the YAML's folder)."""
    p = Path(path)
    lk = _load_model(Lookup, p, "lookup")
    if lk.filename is not None:
        lk.csv_path = resolve_lookup_file(
            lookups_dir if lookups_dir is not None else p.parent, lk.filename, origin=p
        )
    return lk


# --------------------------------------------------------------------------- library


@dataclass
class ContentLibrary:
    """A loaded ESCU content folder."""

    root: Path | None = None
    detections: dict[str, Detection] = field(default_factory=dict)
    macros: dict[str, Macro] = field(default_factory=dict)
    lookups: dict[str, Lookup] = field(default_factory=dict)
    stories: dict[str, Story] = field(default_factory=dict)
    data_sources: dict[str, DataSource] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    """One message per file that failed to load (file name, line when known, reason)."""
    warnings: list[str] = field(default_factory=list)
    """Loaded but incomplete: duplicate names, lookup CSVs that are absent, ..."""
    load_seconds: float = 0.0

    # ---- queries

    def detection(self, key: str) -> Detection:
        """By name (exact, then case-insensitive), id, or file stem. KeyError if absent."""
        if key in self.detections:
            return self.detections[key]
        low = key.lower()
        for d in self.detections.values():
            if (
                d.name.lower() == low
                or d.id.lower() == low
                or (d.path is not None and d.path.stem.lower() == low)
            ):
                return d
        raise KeyError(key)

    def by_status(self, *statuses: str) -> list[Detection]:
        """Detections whose status is one of `statuses` (all when none are given)."""
        return filter_status(self.detections.values(), statuses or None)

    def production(self) -> list[Detection]:
        return self.by_status("production")

    def macro(self, name: str, nargs: int = 0) -> Macro | None:
        """A macro as Splunk resolves a call: `name` for 0 arguments, else `name(N)`."""
        return self.macros.get(f"{name}({nargs})" if nargs else name)

    def data_sources_for(self, det: Detection) -> list[DataSource]:
        """The data sources a detection lists (`A AND B` entries are split)."""
        out: list[DataSource] = []
        for entry in det.data_source:
            for name in (s.strip() for s in entry.split(" AND ")):
                ds = self.data_sources.get(name)
                if ds is not None and ds not in out:
                    out.append(ds)
        return out

    def stories_for(self, det: Detection) -> list[Story]:
        return [self.stories[s] for s in det.stories() if s in self.stories]

    def risk_form_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in self.detections.values():
            f = d.risk().form
            counts[f] = counts.get(f, 0) + 1
        return counts


def filter_status(
    detections: Iterable[Detection], statuses: Iterable[str] | str | None
) -> list[Detection]:
    """Keep detections whose status is in `statuses` (case-insensitive); None keeps all."""
    if statuses is None:
        return list(detections)
    if isinstance(statuses, str):
        statuses = [statuses]
    wanted = {s.strip().lower() for s in statuses}
    return [d for d in detections if d.status.lower() in wanted]


def _yaml_files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return iter(())
    return iter(
        sorted(
            p
            for p in folder.rglob("*")
            if p.suffix.lower() in YAML_SUFFIXES and p.is_file() and not p.name.startswith(".")
        )
    )


def _collect(
    files: Iterable[Path],
    loader: Callable[[Path], M],
    key: Callable[[M], str],
    into: dict[str, M],
    lib: ContentLibrary,
    kind: str,
) -> None:
    for f in files:
        try:
            obj = loader(f)
        except ContentError as e:
            lib.errors.append(str(e))
            continue
        k = key(obj)
        if k in into:
            first = getattr(into[k], "path", None)
            lib.warnings.append(f"{f}: duplicate {kind} {k!r} ignored (first defined in {first})")
            continue
        into[k] = obj


def load_content(path: str | os.PathLike[str]) -> ContentLibrary:
    """Load an ESCU content folder (detections/, macros/, lookups/, stories/, data_sources/).

    Each sub-folder is optional. A folder with none of them is read as a folder of
    detection YAMLs. Bad files are reported in `errors`; the rest still loads.
    """
    root = Path(path)
    if not root.is_dir():
        raise ContentError(f"{root}: content folder not found")
    t0 = time.perf_counter()
    lib = ContentLibrary(root=root)
    subdirs = ("detections", "macros", "lookups", "stories", "data_sources")
    if not any((root / s).is_dir() for s in subdirs):
        _collect(
            _yaml_files(root), load_detection, lambda d: d.name, lib.detections, lib, "detection"
        )
        lib.load_seconds = time.perf_counter() - t0
        return lib

    _collect(
        _yaml_files(root / "detections"),
        load_detection,
        lambda d: d.name,
        lib.detections,
        lib,
        "detection",
    )
    _collect(_yaml_files(root / "macros"), load_macro, lambda m: m.key, lib.macros, lib, "macro")
    lookups_dir = root / "lookups"
    _collect(
        _yaml_files(lookups_dir),
        lambda p: load_lookup(p, lookups_dir=lookups_dir),
        lambda lk: lk.name,
        lib.lookups,
        lib,
        "lookup",
    )
    for lk in lib.lookups.values():
        if lk.csv_path is not None and not lk.csv_path.is_file():
            lib.warnings.append(
                f"{lk.path}: lookup {lk.name!r}: file {lk.filename!r} is not in {lookups_dir}"
            )
    _collect(_yaml_files(root / "stories"), load_story, lambda s: s.name, lib.stories, lib, "story")
    _collect(
        _yaml_files(root / "data_sources"),
        load_data_source,
        lambda d: d.name,
        lib.data_sources,
        lib,
        "data source",
    )
    lib.load_seconds = time.perf_counter() - t0
    return lib
