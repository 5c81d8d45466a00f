"""The Windows TA 8.8.0 stanzas match TA_FIELDS.md §1, §2.2 and §7."""

from __future__ import annotations

import re

import pytest

GENERIC = ("XmlWinEventLog", "xmlwineventlog")
SECURITY = "source::XmlWinEventLog:Security"


def values(stanza) -> dict[str, str]:
    return {r.key: r.value for r in stanza.rules}


# ---------------------------------------------------------------- core checks (no ../shared)


def test_the_two_spellings_differ_only_where_the_report_says(knowledge):
    upper, lower = (values(knowledge.stanza(n)) for n in GENERIC)
    assert set(upper) ^ set(lower) == {
        "EVAL-process_name",
        "FIELDALIAS-parent_process_for_windows",
        "FIELDALIAS-process_name_for_windows",
    }
    assert upper["EVAL-process_name"] == "if(EventCode==4688, NewProcessName, ProcessName)"
    assert lower["FIELDALIAS-process_name_for_windows"] == "ProcessName AS process_name"
    shared = set(upper) & set(lower)
    assert all(upper[k] == lower[k] for k in shared)


def test_generic_xml_extraction_is_marked_done_at_ingest(knowledge):
    for name in GENERIC:
        stanza = knowledge.stanza(name)
        assert stanza.kv_mode == "none"
        done = {r.cls for r in stanza.reports if r.done_at_ingest}
        assert done == {
            "0xml_block_extract",
            "0xml_kv_extract",
            "RecordNumber_from_xml",
            "EventCode_from_xml",
            "Sub_Status_from_xml",
        }
        for r in stanza.reports:
            assert all(t.done_at_ingest == r.done_at_ingest for t in r.transforms), r.cls


def test_user_id_alias_keeps_the_double_space_and_parses(knowledge):
    alias = next(
        a for a in knowledge.stanza("XmlWinEventLog").fieldaliases if a.cls == "user_id_for_windows"
    )
    assert alias.value == "UserID  AS user_id"
    assert [(p.src, p.dst, p.mode) for p in alias.pairs] == [("UserID", "user_id", "AS")]


def test_security_4688_extracts_and_user_eval(knowledge):
    sec = knowledge.stanza(SECURITY)
    ex = {r.cls: r for r in sec.extracts}
    assert ex["new_process_for_windows_security_from_xml"].named_groups == ("new_process",)
    assert ex["process_command_line_for_xml"].regex == (
        "<Data Name='CommandLine'>(?<Process_Command_Line>[^<]+)<\\/Data>"
    )
    user = sec.eval("user")
    assert user.provenance == "reconstructed"  # §7 quotes it shortened at `…`
    assert 'EventCode==4688,if(user=="-" OR isnull(user),src_user,user)' in user.value
    assert user.value.endswith("true(), user)")


# ---------------------------------------------------------------- against TA_FIELDS.md


def conf_blocks(ta_fields, start, end):
    return ta_fields.code_blocks(ta_fields.section(start, end))


def transform_blocks(block: str, compressed: bool = False) -> dict[str, dict[str, str]]:
    """`[name]` + `KEY = value` lines (or §7's one-line `[name]   KEY = v   KEY = v`)."""
    out: dict[str, dict[str, str]] = {}
    current = None
    for line in block.splitlines():
        if compressed and line.startswith("["):
            name, rest = re.match(r"\[(\S+)\]\s*(.*)", line).groups()
            pairs = re.split(r"\s+(?=(?:SOURCE_KEY|REGEX|FORMAT|MV_ADD) = )", rest.strip())
            out[name] = dict(p.split(" = ", 1) for p in pairs)
        elif line.startswith("["):
            current = line.strip("[]")
            out[current] = {}
        elif current and " = " in line and not line.startswith("#"):
            key, val = line.split(" = ", 1)
            out[current][key] = val
    return out


def assert_transform(t, conf: dict[str, str]):
    assert t.regex == conf["REGEX"], t.name
    assert t.format == conf.get("FORMAT"), t.name
    assert t.source_key == conf.get("SOURCE_KEY", "_raw"), t.name
    assert t.mv_add == (conf.get("MV_ADD") == "1"), t.name


def test_section22_transforms_are_verbatim(ta_fields, knowledge):
    _, transforms = conf_blocks(ta_fields, "### 2.2", "### 2.3")
    quoted = transform_blocks(transforms)
    assert len(quoted) == 12
    for name, conf in quoted.items():
        assert_transform(knowledge.transforms[name], conf)


def test_section22_props_lines_are_verbatim(ta_fields, knowledge):
    props, _ = conf_blocks(ta_fields, "### 2.2", "### 2.3")
    sec = ta_fields.section("### 2.2", "### 2.3")
    quoted = ta_fields.conf_attributes(props)
    quoted.update(
        m.group(1).split(" = ", 1)
        for m in re.finditer(r"`((?:FIELDALIAS|EVAL|LOOKUP)-\S+ = [^`]*)`", sec)
    )
    kv_mode = quoted.pop("KV_MODE")
    assert len(quoted) == 19  # 5 REPORT, 9 FIELDALIAS, 2 EVAL, 3 LOOKUP
    for name in GENERIC:
        stanza = knowledge.stanza(name)
        assert stanza.kv_mode == kv_mode
        ours = values(stanza)
        for key, text in quoted.items():
            assert ours[key] == text, (name, key)


def test_section1_spelling_differences_are_verbatim(ta_fields, knowledge):
    sec = ta_fields.section("## 1. How the pieces", "## 2.")
    for name in GENERIC:
        for key, text in values(knowledge.stanza(name)).items():
            if key in (
                "EVAL-process_name",
                "FIELDALIAS-parent_process_for_windows",
                "FIELDALIAS-process_name_for_windows",
            ):
                assert f"`{key} = {text}`" in sec, (name, key)


def test_section7_props_lines_are_verbatim(ta_fields, knowledge):
    props = conf_blocks(ta_fields, "## 7.", "## 8.")[0]
    quoted = ta_fields.conf_attributes(props)
    assert len(quoted) == 27  # 6 EXTRACT, 8 REPORT, 13 EVAL
    ours = values(knowledge.stanza(SECURITY))
    for key, text in quoted.items():
        if "…" in text:  # EVAL-user, shortened in the report
            head = text.split("…")[0].rstrip(" ,")
            assert ours[key].startswith(head), key
        else:
            assert ours[key] == text, key


def test_section7_transforms_are_verbatim(ta_fields, knowledge):
    block = conf_blocks(ta_fields, "## 7.", "## 8.")[1]
    quoted = transform_blocks(block, compressed=True)
    assert len(quoted) == 9
    for name, conf in quoted.items():
        assert_transform(knowledge.transforms[name], conf)


@pytest.mark.parametrize("name", GENERIC)
def test_generic_lookups_name_defined_tables(knowledge, name):
    for rule in knowledge.stanza(name).lookups:
        ldef, path = knowledge.lookup_table(rule.lookup)
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        for out in rule.outputs:
            assert out.column in header, (rule.cls, out)
