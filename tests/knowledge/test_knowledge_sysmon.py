"""The Sysmon TA 4.0.0 stanza is transcribed faithfully: counts, verbatim lines, and the
reconstructed EVALs agree with every per-EventID row of TA_FIELDS.md §4."""

from __future__ import annotations

import re

import pytest
from ta_fields_reader import md_code, squash

# ---------------------------------------------------------------- core checks (no ../shared)

#: Lines pinned here so a transcription slip fails even without ../shared.
KEY_LINES = {
    "EVAL-vendor_product": '"Microsoft Sysmon"',
    "EVAL-loaded_file_path": 'case( EventCode="7", replace(ImageLoaded, "(:[\\w\\. ]+)", ""))',
    "EVAL-service_dll_signature_verified": (
        'case( EventCode="7" AND SignatureStatus="Valid", "true",  EventCode="7", "false" )'
    ),
    "EVAL-process_hash": 'case( EventCode IN ("1","6","7","24","27","28"), Hashes )',
    "EVAL-process_name": (
        'case( EventCode IN ("1","2","3","5","7","9","11","12","13","14","15","17","18","22",'
        '"23","24","26","27","28"), replace(Image,"(.*\\\\\\)(?=.*(\\.\\w*)$|(\\w+)$)",""),    \\\n'
        'EventCode IN ("7"), replace(ImageLoaded,"(.*\\\\\\)(?=.*(\\.\\w*)$|(\\w+)$)",""),    \\\n'
        'EventCode IN ("8","10"), replace(TargetImage,"(.*\\\\\\)(?=.*(\\.\\w*)$|(\\w+)$)","")    )'
    ),
    "FIELDALIAS-dvc": "Computer AS dvc",
    "FIELDALIAS-eventid": "EventCode AS EventID",
    "FIELDALIAS-signature_id": "EventCode AS signature_id",
    "LOOKUP-eventcode": "eventcode EventCode OUTPUTNEW EventDescription EventDescription AS signature",
}


def rule_values(stanza) -> dict[str, str]:
    return {r.key: r.value for r in stanza.rules}


@pytest.mark.parametrize("key", sorted(KEY_LINES))
def test_key_lines_are_verbatim(sysmon, key):
    assert rule_values(sysmon)[key] == KEY_LINES[key]


def test_basename_regex_keeps_the_conf_escapes(sysmon):
    """`\\\\\\)` stays three backslashes: the SPL compiler, not the data, unescapes (§2.4)."""
    expr = sysmon.eval("loaded_file").expression
    assert r'"(.*\\\)(?=.*(\.\w*)$|(\w+)$)"' in expr
    assert "\\\n" not in expr and "\n" in expr  # continuation resolved, line break kept


def test_eval_count_is_the_declared_61_minus_the_unrecoverable(sysmon):
    """61 EVAL-* in 4.0.0. 57 are recoverable from TA_FIELDS.md; 4 are named as missing."""
    assert sysmon.declared_counts["EVAL"] == 61
    missing = sum(u["count"] for u in sysmon.unrecovered if u["kind"] == "EVAL")
    assert len(sysmon.evals) == 57
    assert len(sysmon.evals) + missing == 61
    assert len({r.cls for r in sysmon.evals}) == len(sysmon.evals)


def test_lookup_count_and_targets(sysmon):
    assert sysmon.declared_counts["LOOKUP"] == len(sysmon.lookups) == 2
    rt = next(r for r in sysmon.lookups if r.cls == "record_type")
    assert rt.lookup == "sysmon-record_type-lookup" and rt.output_mode == "OUTPUT"
    assert [(o.column, o.field) for o in rt.outputs] == [("record_type_name", "record_type")]


def test_report_sysmon_lists_25_transforms_in_file_order(sysmon):
    (report,) = sysmon.reports
    names = [t.name for t in report.transforms]
    assert (
        len(names) == 25 and names[0] == "sysmon-eventid" and names[-1] == "sysmon-FilterNoQuotes"
    )
    assert "sysmon-hashes" not in names  # defined but not referenced (§2.3)
    dns = next(t for t in report.transforms if t.name == "sysmon-dns-answer-data")
    assert (dns.source_key, dns.mv_add, dns.repeat_match) == ("QueryResults", True, True)
    assert dns.named_groups == ("record_type", "answer")


def test_timestamp_is_utctime_in_utc(sysmon):
    assert dict(sysmon.timestamp) == {
        "TIME_PREFIX": "<Data Name='UtcTime'>",
        "TIME_FORMAT": "%Y-%m-%d %H:%M:%S.%3N",
        "TZ": "UTC",
    }


def test_reconstructed_lines_are_marked(sysmon):
    verbatim = {r.cls for r in sysmon.evals if r.provenance == "verbatim"}
    assert len(verbatim) == 16  # the §3 EVAL lines
    assert {r.provenance for r in sysmon.evals} == {"verbatim", "reconstructed"}


# ---------------------------------------------------------------- against TA_FIELDS.md

EVAL_VALUE = re.compile(r"`([^`]*)`(?: if `([^`]*)`)?")


def event_codes(expr: str) -> set[int]:
    codes = {int(n) for n in re.findall(r'EventCode\s*==?\s*"(\d+)"', expr)}
    for group in re.findall(r"EventCode\s+IN\s*\(([^)]*)\)", expr):
        codes |= {int(n) for n in re.findall(r"\d+", group)}
    return codes


def test_declared_eval_count_matches_the_report(ta_fields, sysmon):
    sec1 = ta_fields.section("## 1. How the pieces", "## 2.")
    assert f"{sysmon.declared_counts['EVAL']} EVAL-*" in sec1


def test_section3_lines_are_verbatim(ta_fields, sysmon):
    """Every props line §3 quotes for EventID 7 equals ours, continuations included."""
    quoted = ta_fields.sec3_attributes
    assert len(quoted) == 20
    ours = rule_values(sysmon)
    for key, text in quoted.items():
        assert ours.get(key) == text, key


def test_section4_eval_rows_agree_with_the_data(ta_fields, sysmon):
    """For every (field, EventID) EVAL row of §4: the EVAL exists, names that EventID, and
    holds the row's value and (for reconstructed lines) condition snippets."""
    seen: dict[str, set[int]] = {}
    for eid, rows in ta_fields.sec4_rows.items():
        for out, rule in rows:
            if not rule.startswith("EVAL: "):
                continue
            ev = sysmon.eval(out)
            assert ev is not None, f"EventID {eid}: no EVAL-{out}"
            seen.setdefault(out, set()).add(eid)
            expr = squash(ev.expression)
            for value, cond in EVAL_VALUE.findall(rule.replace("\\|", "|")):
                assert squash(value) in expr, (out, eid, value)
                if cond and ev.provenance == "reconstructed":
                    assert squash(cond) in expr, (out, eid, cond)
            codes = event_codes(ev.expression)
            assert not codes or eid in codes, (out, eid)
    assert set(seen) == {r.cls for r in sysmon.evals}
    for ev in sysmon.evals:
        if ev.provenance == "reconstructed":  # no extra EventCodes beyond §4's rows
            assert event_codes(ev.expression) == seen[ev.cls], ev.cls


def test_section4_fieldalias_rows_agree_with_the_data(ta_fields, sysmon):
    quoted = {
        squash(md_code(rule)[0])
        for rows in ta_fields.sec4_rows.values()
        for _, rule in rows
        if rule.startswith("FIELDALIAS: ")
    }
    ours = {f"{p.src} {p.mode} {p.dst}" for a in sysmon.fieldaliases for p in a.pairs}
    assert ours == quoted


def test_section23_transforms_are_verbatim(ta_fields, knowledge):
    rows = ta_fields.sec23_rows
    t = knowledge.transforms
    checked = 0
    for name_cell, (regex_cell, fmt_cell) in rows.items():
        names = re.findall(r"sysmon-[\w-]+", name_cell)
        codes = md_code(regex_cell)
        if name_cell.startswith("sysmon-md5"):
            for name, regex in zip(
                ("sysmon-md5", "sysmon-sha1", "sysmon-sha256", "sysmon-imphash"),
                codes[:4],
                strict=True,
            ):
                assert t[name].regex == regex
                checked += 1
            continue
        if "NoQuotes" in name_cell:
            for x in ("Consumer", "Destination", "Filter"):
                tr = t[f"sysmon-{x}NoQuotes"]
                assert tr.regex == codes[-1].replace("XNoQuotes", f"{x}NoQuotes")
                assert tr.source_key == x
                checked += 1
            continue
        (name,) = names
        tr = t[name]
        assert tr.regex == codes[-1], name
        source_key = re.match(r"SOURCE_KEY `?(\w+)", regex_cell)
        assert tr.source_key == (source_key.group(1) if source_key else "_raw"), name
        assert tr.mv_add == ("MV_ADD" in regex_cell), name
        assert tr.repeat_match == ("REPEAT_MATCH" in regex_cell), name
        fmt = md_code(fmt_cell)
        if fmt and "::" in fmt[0]:
            assert tr.format == fmt[0], name
        checked += 1
    assert checked == 26  # 25 in REPORT-sysmon + sysmon-hashes


def test_report_sysmon_value_matches_the_report(ta_fields, sysmon):
    sec = ta_fields.section("### 2.3", "### 2.4")
    quoted = re.search(r"`REPORT-sysmon = ([^`]*)`", sec).group(1)
    assert squash(sysmon.reports[0].value) == squash(quoted)


def test_lookup_definitions_match_the_report(ta_fields, knowledge):
    sec = ta_fields.section("### 2.3", "### 2.4")
    ec, _ = knowledge.lookup_table("eventcode")
    rt, _ = knowledge.lookup_table("sysmon-record_type-lookup")
    assert f"`filename = {ec.filename}`, `default_match = {ec.default_match}`" in sec
    assert f"`filename = {rt.filename}`, `default_match = {rt.default_match}`" in sec
    assert ec.min_matches == rt.min_matches == 1
