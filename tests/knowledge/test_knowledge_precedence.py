"""Stanza matching and Splunk's precedence rules (TA_FIELDS.md §1)."""

from __future__ import annotations

import pytest

SYSMON = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
SYSMON_STANZA = f"source::{SYSMON}"
SECURITY = "XmlWinEventLog:Security"


@pytest.mark.parametrize("sourcetype", ["xmlwineventlog", "XmlWinEventLog"])
def test_sysmon_vendor_product_beats_the_windows_sourcetype(knowledge, sourcetype):
    merged = knowledge.merged_attributes(SYSMON, sourcetype, "ar-win-dc")
    ev = merged.eval("vendor_product")
    assert ev.expression == '"Microsoft Sysmon"' and ev.stanza == SYSMON_STANZA
    lost = [(loser.stanza, winner.stanza) for loser, winner in merged.overridden]
    assert (sourcetype, SYSMON_STANZA) in lost


def test_sysmon_process_name_beats_the_xmlwineventlog_eval(knowledge):
    merged = knowledge.merged_attributes(SYSMON, "XmlWinEventLog")
    assert merged.eval("process_name").stanza == SYSMON_STANZA
    assert "replace(Image," in merged.eval("process_name").expression
    loser = next(lo for lo, _ in merged.overridden if lo.key == "EVAL-process_name")
    assert loser.stanza == "XmlWinEventLog"
    assert loser.value == "if(EventCode==4688, NewProcessName, ProcessName)"


def test_different_attribute_names_all_apply(knowledge):
    merged = knowledge.merged_attributes(SYSMON, "xmlwineventlog")
    aliases = {a.key: a.stanza for a in merged.fieldaliases}
    assert aliases["FIELDALIAS-dvc"] == SYSMON_STANZA
    assert aliases["FIELDALIAS-dvc_for_windows"] == "xmlwineventlog"
    assert aliases["FIELDALIAS-process_name_for_windows"] == "xmlwineventlog"
    # signature_id: a Sysmon FIELDALIAS and a Windows EVAL, different names, both kept.
    assert merged.eval("signature_id").stanza == "xmlwineventlog"
    assert "FIELDALIAS-signature_id" in aliases


def test_application_order_is_by_type_then_ascii_class(knowledge):
    merged = knowledge.merged_attributes(SYSMON, "xmlwineventlog")
    assert [r.cls for r in merged.reports] == [
        "0xml_block_extract",
        "0xml_kv_extract",
        "EventCode_from_xml",
        "RecordNumber_from_xml",
        "Sub_Status_from_xml",
        "file_path-file_name_for_windows",
        "sysmon",
    ]
    assert [r.cls for r in merged.lookups] == [
        "1severity_for_windows",
        "CategoryString_for_windows",
        "eventcode",
        "record_type",
        "signature_for_windows3",
    ]
    types = [r.TYPE for r in merged.rules]
    assert types == sorted(types, key=["EXTRACT", "REPORT", "FIELDALIAS", "EVAL", "LOOKUP"].index)
    assert [r.cls for r in merged.runtime_reports] == ["file_path-file_name_for_windows", "sysmon"]
    assert merged.kv_mode == "none"


def test_security_source_stanza_beats_the_sourcetype_process_name(knowledge):
    merged = knowledge.merged_attributes(SECURITY, "XmlWinEventLog")
    ev = merged.eval("process_name")
    assert ev.stanza == f"source::{SECURITY}"
    assert ev.value.startswith("case(EventCode=4688,new_process_name,")
    assert merged.eval("vendor_product").expression == '"Microsoft Windows"'
    assert {r.cls for r in merged.extracts} >= {"process_command_line_for_xml"}


def test_stanzas_for_orders_source_host_sourcetype(knowledge):
    names = [
        s.name for s in knowledge.stanzas_for(SYSMON, "xmlwineventlog", "WinEventLogForwardHost")
    ]
    assert names[0] == SYSMON_STANZA
    assert names[1:3] == ["host::WinEventLogForwardHost"] * 2  # shipped by both add-ons
    assert names[-1] == "xmlwineventlog"
    assert [s.name for s in knowledge.stanzas_for(SYSMON, "xmlwineventlog")] == [
        SYSMON_STANZA,
        "xmlwineventlog",
    ]


def test_sourcetype_stanzas_match_case_sensitively(knowledge):
    assert [s.name for s in knowledge.stanzas_for("x", "XmlWinEventLog")] == ["XmlWinEventLog"]
    assert [s.name for s in knowledge.stanzas_for("x", "xmlwineventlog")] == ["xmlwineventlog"]
    assert knowledge.stanzas_for("x", "XMLWINEVENTLOG") == []
    assert knowledge.stanzas_for(SYSMON.lower(), "other") == []  # source:: is case-sensitive too


def test_old_sysmon_sourcetype_is_renamed_to_xmlwineventlog(knowledge):
    old = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
    assert knowledge.rename_sourcetype(old) == "xmlwineventlog"
    assert knowledge.rename_sourcetype("XmlWinEventLog:WEC-Sysmon") == "xmlwineventlog"
    assert knowledge.rename_sourcetype("XmlWinEventLog") == "XmlWinEventLog"
    names = [s.name for s in knowledge.stanzas_for(SYSMON, old)]
    assert "xmlwineventlog" in names and "XmlWinEventLog" not in names
    merged = knowledge.merged_attributes(SYSMON, old)
    assert "FIELDALIAS-process_name_for_windows" in {a.key for a in merged.fieldaliases}


def test_index_time_stanzas_stay_out_of_search_time_merging(knowledge):
    fix = knowledge.stanza("(?::){0}XmlWinEventLog:*")
    assert fix.kind == "sourcetype" and not fix.spec.literal
    assert fix.matches(None, "XmlWinEventLog:Security", None)
    assert not fix.matches(None, "XmlWinEventLog", None)
    assert [t.name for t in fix.index_time[0].transforms] == [
        "ta-windows-fix-xml-source",
        "ta-windows-fix-sourcetype",
    ]
    merged = knowledge.merged_attributes(
        SECURITY, "XmlWinEventLog:Security", "WinEventLogForwardHost"
    )
    assert all(r.TYPE != "TRANSFORMS" for r in merged.rules)


def test_priority_and_literal_order_within_a_kind(knowledge):
    from dataclasses import replace

    from splhunt.knowledge import Knowledge, StanzaSpec

    base = knowledge.stanza(SYSMON_STANZA)
    wild = replace(
        base, name="source::XmlWinEventLog:...", spec=StanzaSpec.parse("source::XmlWinEventLog:...")
    )
    wild_hi = replace(
        wild, name="source::...Sysmon...", spec=StanzaSpec.parse("source::...Sysmon..."), priority=5
    )
    k = Knowledge(knowledge.data_dir, (wild, wild_hi, base), {}, (), {}, {})
    assert [s.name for s in k.stanzas_for(SYSMON, "none")] == [
        SYSMON_STANZA,
        wild_hi.name,
        wild.name,
    ]
