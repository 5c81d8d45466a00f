"""Eventtypes and tags: every eventtype is tagged (or says why not), the tags reach the data
model datasets TA_FIELDS.md §5 names, and the searches are verbatim."""

from __future__ import annotations

import re

from ta_fields_reader import md_code, squash

SYSMON_EVENTTYPES = {
    "ms-sysmon-network": ("network", "communicate"),
    "ms-sysmon-process": ("process", "report"),
    "ms-sysmon-filemod": ("endpoint", "filesystem"),
    "ms-sysmon-regmod": ("endpoint", "registry"),
    "ms-sysmon-wmimod": ("change", "endpoint"),
    "ms-sysmon-dns": ("network", "resolution", "dns"),
    "ms-sysmon-service": ("service", "report"),
}


def test_every_eventtype_has_tags_or_a_reason(knowledge):
    for et in knowledge.eventtypes:
        assert et.tags or et.tagless, et.name
        assert not (et.tags and et.tagless), et.name


def test_sysmon_eventtypes_and_tags(knowledge):
    got = {et.name: knowledge.tags_for_eventtype(et.name) for et in knowledge.eventtypes}
    for name, tags in SYSMON_EVENTTYPES.items():
        assert got[name] == tags
    assert knowledge.tags_for_eventtype("windows_endpoint_processes") == ("process", "report")


def test_every_sysmon_event_id_has_exactly_one_sysmon_eventtype(knowledge):
    owners: dict[int, list[str]] = {}
    for name in SYSMON_EVENTTYPES:
        search = knowledge.eventtype(name).search
        assert search.startswith('source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" ')
        for code in re.findall(r'"(\d+)"', search):
            owners.setdefault(int(code), []).append(name)
    assert sorted(owners) == [*range(1, 30), 255]
    assert all(len(v) == 1 for v in owners.values())
    assert owners[7] == ["ms-sysmon-process"]


def test_eventtype_tags_reach_the_named_datasets(knowledge):
    """A dataset is reached when the eventtype's tags satisfy the tag= terms of every
    constraint in its chain (the other terms, e.g. NOT object_category=..., are data-dependent)."""
    for et in knowledge.eventtypes:
        for ref in et.datasets:
            model, name = ref.split(".")
            ds = knowledge.dataset(model, name)
            needed = {t for c in ds.constraints for t in re.findall(r"(?<!NOT )tag=(\w+)", c)}
            assert needed <= set(et.tags), (et.name, ref, needed)


def test_section5_eventtypes_are_verbatim(ta_fields, knowledge):
    rows = ta_fields.sec5_rows
    assert set(rows) == set(SYSMON_EVENTTYPES)
    for name, (search, tags, _dataset) in rows.items():
        et = knowledge.eventtype(name)
        assert et.search == md_code(search)[0], name
        assert ", ".join(et.tags) == tags, name
    sec = squash(ta_fields.section("## 5. eventtypes", "## 6. CIM"))
    for name in (
        "windows_process_new",
        "windows_endpoint_processes",
        "wineventlog_security",
        "endpoint_services_processes",
    ):
        assert f"`{knowledge.eventtype(name).search}`" in sec, name
