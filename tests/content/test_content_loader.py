"""load_content over the committed mini library, bad files, and lookup path safety."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from splhunt.content import (
    ContentLibrary,
    filter_status,
    load_content,
    load_lookup,
    load_macro,
    resolve_lookup_file,
)
from splhunt.errors import ContentError


@pytest.fixture()
def library(fixtures_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of tests/content/fixtures/library."""
    dst = tmp_path / "content"
    shutil.copytree(fixtures_dir / "library", dst)
    return dst


def test_load_content_mini_library(fixtures_dir: Path) -> None:
    lib = load_content(fixtures_dir / "library")
    assert isinstance(lib, ContentLibrary)
    assert lib.errors == [] and lib.warnings == []
    assert sorted(lib.detections) == ["Library Detection One", "Library Detection Two"]
    # macros with arguments are keyed name(N), as Splunk does
    assert sorted(lib.macros) == ["security_content_ctime(1)", "sysmon", "two_args(2)"]
    assert lib.macro("security_content_ctime", 1) is lib.macros["security_content_ctime(1)"]
    assert lib.macro("sysmon") is not None and lib.macro("sysmon", 1) is None
    m = lib.macros["two_args(2)"]
    assert (m.base_name, m.arity, m.arguments, m.definition) == (
        "two_args",
        2,
        ["a", "b"],
        "eval $a$=$b$",
    )
    assert sorted(lib.lookups) == ["test_kvstore", "test_wildcard_lookup"]
    assert sorted(lib.stories) == ["Splhunt Test Story"]
    assert sorted(lib.data_sources) == ["Sysmon EventID 7"]
    assert lib.load_seconds >= 0


def test_lookup_fields(fixtures_dir: Path) -> None:
    lib = load_content(fixtures_dir / "library")
    lk = lib.lookups["test_wildcard_lookup"]
    assert lk.kind == "csv"
    assert (
        lk.csv_path == (fixtures_dir / "library" / "lookups" / "test_wildcard_lookup.csv").resolve()
    )
    assert lk.csv_path.is_file()
    assert lk.case_sensitive_match is False
    assert lk.default_match == "false"  # a value, not a boolean: returned on no match
    assert (lk.min_matches, lk.max_matches) == (1, 1)
    assert lk.fields_list == ["process", "ip", "note"]
    assert lk.match_fields("WILDCARD") == ["process"] and lk.match_fields("cidr") == ["ip"]
    kv = lib.lookups["test_kvstore"]
    assert kv.kind == "kvstore" and kv.csv_path is None and kv.collection == "test_kvstore"
    assert kv.fields_list == ["_key", "user", "count"]


def test_story_and_data_source(fixtures_dir: Path) -> None:
    lib = load_content(fixtures_dir / "library")
    s = lib.stories["Splhunt Test Story"]
    assert s.narrative == "A story for tests." and s.tags["usecase"] == "Advanced Threat Detection"
    ds = lib.data_sources["Sysmon EventID 7"]
    assert ds.sourcetype == "xmlwineventlog" and ds.source.startswith("XmlWinEventLog:")
    assert ds.fields == ["_time", "ImageLoaded"] and ds.supported_TA[0]["version"] == "4.0.2"
    one = lib.detections["Library Detection One"]
    two = lib.detections["Library Detection Two"]
    assert lib.data_sources_for(one) == [ds]
    assert lib.data_sources_for(two) == [ds]  # "A AND B": only A is defined here
    assert lib.stories_for(one) == [s]


def test_status_filtering(fixtures_dir: Path) -> None:
    lib = load_content(fixtures_dir / "library")
    assert [d.name for d in lib.by_status("production")] == ["Library Detection One"]
    assert [d.name for d in lib.production()] == ["Library Detection One"]
    assert [d.name for d in lib.by_status("DEPRECATED")] == ["Library Detection Two"]
    assert len(lib.by_status()) == 2
    assert len(filter_status(lib.detections.values(), ["production", "deprecated"])) == 2
    assert filter_status(lib.detections.values(), "experimental") == []
    assert len(filter_status(lib.detections.values(), None)) == 2


def test_detection_lookup_by_name_id_or_stem(fixtures_dir: Path) -> None:
    lib = load_content(fixtures_dir / "library")
    d = lib.detections["Library Detection One"]
    assert lib.detection("library detection one") is d
    assert lib.detection("0d9d1e4a-0000-4000-8000-000000000011") is d
    assert lib.detection("library_detection_one") is d
    with pytest.raises(KeyError):
        lib.detection("nope")


def test_bad_yaml_is_collected_and_the_rest_loads(library: Path) -> None:
    bad = library / "detections" / "endpoint" / "broken.yml"
    bad.write_text("name: Broken\nid: '9'\nsearch: 'unterminated\n  more: [\n")
    nosearch = library / "detections" / "endpoint" / "no_search.yml"
    nosearch.write_text("name: No Search\nid: '8'\n")
    badmacro = library / "macros" / "bad.yml"
    badmacro.write_text("definition: x\n  name: : y\n")
    lib = load_content(library)
    assert sorted(lib.detections) == ["Library Detection One", "Library Detection Two"]
    assert len(lib.errors) == 3
    (e_broken,) = [e for e in lib.errors if "broken.yml" in e]
    assert e_broken.startswith(f"{bad}:") and "invalid YAML" in e_broken
    assert e_broken.split(":")[1].isdigit()  # the line YAML reported
    (e_nosearch,) = [e for e in lib.errors if "no_search.yml" in e]
    assert "missing required key 'search'" in e_nosearch
    assert any(str(badmacro) in e for e in lib.errors)
    assert len(lib.macros) == 3


def test_duplicate_names_warn_and_keep_first(library: Path) -> None:
    src = library / "detections" / "endpoint" / "library_detection_one.yml"
    (library / "detections" / "endpoint" / "z_copy.yml").write_text(src.read_text())
    lib = load_content(library)
    assert lib.detections["Library Detection One"].path == src
    assert len(lib.warnings) == 1 and "duplicate detection" in lib.warnings[0]


def test_missing_lookup_csv_is_a_warning(library: Path) -> None:
    (library / "lookups" / "test_wildcard_lookup.csv").unlink()
    lib = load_content(library)
    assert lib.errors == []
    assert "test_wildcard_lookup" in lib.lookups
    assert len(lib.warnings) == 1 and "test_wildcard_lookup.csv" in lib.warnings[0]


def test_folder_of_detections_only(fixtures_dir: Path, tmp_path: Path) -> None:
    for name in ("tags_form_detection.yml", "rba_form_detection.yml"):
        shutil.copy(fixtures_dir / name, tmp_path / name)
    lib = load_content(tmp_path)
    assert sorted(lib.detections) == ["Splhunt Test RBA Form", "Splhunt Test Tags Form"]
    assert lib.macros == {} and lib.errors == []


def test_load_content_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="not found"):
        load_content(tmp_path / "absent")


def test_macro_name_already_carrying_arity(tmp_path: Path) -> None:
    p = tmp_path / "m.yml"
    p.write_text("name: foo(2)\ndefinition: eval $a$=$b$\narguments: [a, b]\n")
    m = load_macro(p)
    assert m.key == "foo(2)" and m.base_name == "foo" and m.arity == 2


# ---------------------------------------------------------------- lookup path safety


@pytest.mark.parametrize(
    "filename",
    [
        "../escape.csv",
        "sub/../../escape.csv",
        "..\\escape.csv",
        "/etc/passwd",
        "\\\\server\\share\\x.csv",
        "C:\\Windows\\x.csv",
        "",
    ],
)
def test_lookup_filename_outside_folder_is_refused(library: Path, filename: str) -> None:
    y = library / "lookups" / "evil.yml"
    y.write_text(f"name: evil\nfilename: {filename!r}\n")
    with pytest.raises(ContentError) as ei:
        load_lookup(y)
    assert str(y) in str(ei.value)
    lib = load_content(library)
    assert "evil" not in lib.lookups
    assert any(str(y) in e for e in lib.errors)
    assert "test_wildcard_lookup" in lib.lookups  # the rest still loads


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_lookup_symlink_out_of_folder_is_refused(library: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("a\n1\n")
    link = library / "lookups" / "linked.csv"
    try:
        link.symlink_to(outside)
    except OSError as e:  # pragma: no cover - e.g. Windows without privilege
        pytest.skip(f"cannot create symlink: {e}")
    y = library / "lookups" / "linked.yml"
    y.write_text("name: linked\nfilename: linked.csv\n")
    with pytest.raises(ContentError, match="outside the lookups folder"):
        load_lookup(y)


def test_lookup_symlink_inside_folder_is_allowed(library: Path) -> None:
    lookups = library / "lookups"
    (lookups / "sub").mkdir()
    (lookups / "sub" / "alias.csv").symlink_to(lookups / "test_wildcard_lookup.csv")
    assert (
        resolve_lookup_file(lookups, "sub/alias.csv")
        == (lookups / "test_wildcard_lookup.csv").resolve()
    )
