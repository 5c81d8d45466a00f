"""Lookup definitions load, their CSVs exist and carry the columns the LOOKUP lines use."""

from __future__ import annotations

import csv


def referenced_lookups(knowledge):
    for s in knowledge.stanzas:
        for rule in s.lookups:
            yield rule.lookup, [i.column for i in rule.inputs] + [o.column for o in rule.outputs]
    for dm in knowledge.datamodels.values():
        for ds in dm.datasets.values():
            for c in ds.calculations:
                if c.kind == "lookup":
                    yield c.lookup, [col for col, _ in c.inputs] + list(c.outputs)


def test_every_referenced_lookup_is_defined_with_its_columns(knowledge):
    seen = set()
    for name, columns in referenced_lookups(knowledge):
        ldef, path = knowledge.lookup_table(name)
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        assert set(columns) <= set(header), (name, columns, header)
        seen.add(name)
    assert seen == set(knowledge.lookups)  # no unused definitions either


def test_incomplete_tables_say_why(knowledge):
    incomplete = {n for n, d in knowledge.lookups.items() if d.incomplete}
    assert incomplete == {
        "windows_severity_lookup",
        "windows_privilege_lookup",
        "windows_app_lookup",
        "windows_signature_lookup2",
        "xmlsecurity_eventcode_errorcode_action_lookup",
        "windows_endpoint_service_service_type_lookup",
        "windows_endpoint_port_transport_lookup",
        "windows_update_status_lookup",
        "windows_start_mode_lookup",
        "cim_dns_reply_code_lookup",
        "correlationsearches_lookup",
    }
    assert all(knowledge.lookups[n].reason for n in incomplete)


def test_sysmon_eventcode_table(knowledge):
    ldef, _ = knowledge.lookup_table("eventcode")
    assert (ldef.default_match, ldef.min_matches, ldef.max_matches) == ("Unknown", 1, 100)
    assert ldef.explicit == {"default_match", "min_matches"}
    assert (ldef.case_sensitive_match, ldef.match_type) == (True, "EXACT")
    rows = {r["EventCode"]: r["EventDescription"] for r in knowledge.lookup_rows("eventcode")}
    assert set(rows) == {str(n) for n in range(1, 30)} | {"255"}
    assert rows["7"] == "Image loaded"
    assert all(rows.values())


def test_sysmon_record_type_table(knowledge):
    ldef, _ = knowledge.lookup_table("sysmon-record_type-lookup")
    assert ldef.default_match == "1"
    rows = {r["record_type"]: r["record_type_name"] for r in knowledge.lookup_rows(ldef.name)}
    assert (rows["1"], rows["5"], rows["28"]) == ("A", "CNAME", "AAAA")
    assert len(rows) == len(knowledge.lookup_rows(ldef.name))  # no duplicate keys


def test_windows_tables_hold_what_the_report_gives(knowledge):
    sig = {
        r["signature_id"]: r["signature"] for r in knowledge.lookup_rows("windows_signature_lookup")
    }
    assert sig["4688"] == "A new process has been created"
    act = {r["Type"]: r["action"] for r in knowledge.lookup_rows("windows_action_lookup")}
    assert act == {"0x8020000000000000": "success", "0x8010000000000000": "failure"}
