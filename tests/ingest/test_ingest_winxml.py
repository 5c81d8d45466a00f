"""The add-on's XML extraction (TA_FIELDS.md §2.2), on hand-written events."""

from __future__ import annotations

import calendar

import pytest

from splhunt.ingest.winxml import (
    build_event,
    clean_key,
    event_time,
    extract_fields,
    extract_fields_reference,
    norm_guid,
    parse_time,
    time_to_system_time,
)

NS = "xmlns='http://schemas.microsoft.com/win/2004/08/events/event'"


def sysmon20(data: str = "", system_extra: str = "") -> str:
    return (
        f"<Event {NS}><System><Provider Name='Microsoft-Windows-Sysmon' "
        "Guid='{5770385F-C22A-43E0-BF4C-06F5698FFBD9}'/><EventID>20</EventID><Version>3</Version>"
        "<Level>4</Level><Task>20</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords>"
        "<TimeCreated SystemTime='2024-01-02T03:04:05.123456700Z'/><EventRecordID>77</EventRecordID>"
        "<Correlation/><Execution ProcessID='3000' ThreadID='4000'/>"
        "<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>host1.corp.local</Computer>"
        f"<Security UserID='S-1-5-18'/>{system_extra}</System><EventData>"
        "<Data Name='RuleName'></Data><Data Name='EventType'>WmiConsumerEvent</Data>"
        "<Data Name='UtcTime'>2024-01-02 03:04:05.120</Data><Data Name='Operation'>Created</Data>"
        "<Data Name='Name'> \"Evil\"</Data>"
        "<Data Name='Destination'>cmd.exe /c a &amp; b &lt;c&gt;</Data>"
        f"{data}</EventData></Event>"
    )


def test_system_elements_attributes_keep_quotes_and_eventcode():
    f = extract_fields(sysmon20())
    assert f["EventID"] == "20" and f["EventCode"] == "20"
    assert f["EventRecordID"] == "77" and f["RecordNumber"] == "77"
    assert f["Computer"] == "host1.corp.local"
    assert f["Channel"] == "Microsoft-Windows-Sysmon/Operational"
    assert f["Keywords"] == "0x8000000000000000"
    # system_props_xml_attributes keeps the single quotes (deliberate, documented)
    assert f["UserID"] == "'S-1-5-18'"
    assert f["ProcessID"] == "'3000'" and f["ThreadID"] == "'4000'"
    assert f["SystemTime"] == "'2024-01-02T03:04:05.123456700Z'"
    assert f["Guid"] == "'{5770385F-C22A-43E0-BF4C-06F5698FFBD9}'"
    assert "Correlation" not in f  # <Correlation/> has no text


def test_mv_add_provider_name_and_data_name():
    f = extract_fields(sysmon20())
    assert f["Name"] == ["'Microsoft-Windows-Sysmon'", ' "Evil"']


def test_data_values_raw_no_entity_decoding_and_empty_dropped():
    f = extract_fields(sysmon20())
    assert f["Destination"] == "cmd.exe /c a &amp; b &lt;c&gt;"
    assert "RuleName" not in f
    assert f["EventData_Xml"].startswith("<Data Name='RuleName'></Data>")
    assert f["System_Props_Xml"].startswith("<Provider Name='Microsoft-Windows-Sysmon'")


def test_repeated_data_name_is_multivalue_and_self_closing_gives_nothing():
    f = extract_fields(sysmon20("<Data Name='Foo'>a</Data><Data Name='Bar'/><Data Name='Foo'>b</Data>"))
    assert f["Foo"] == ["a", "b"]
    assert "Bar" not in f


def test_unnamed_data_and_binary_give_no_field():
    f = extract_fields(sysmon20("<Data>loose</Data><Binary>00FF</Binary>"))
    assert "loose" not in f.values() and "Binary" not in f and "Data" not in f


def test_event_id_with_qualifiers_only_as_eventcode():
    raw = sysmon20().replace("<EventID>20</EventID>", "<EventID Qualifiers='16384'>7036</EventID>")
    f = extract_fields(raw)
    assert "EventID" not in f  # <(\w*)> does not match an element with attributes
    assert f["EventCode"] == "7036"  # EventID2_as_EventCode
    assert f["Qualifiers"] == "'16384'"


def test_key_cleaning_and_default_fields_not_shadowed():
    f = extract_fields(
        sysmon20("<Data Name='Client Network Address:'>1.2.3.4</Data><Data Name='host'>evil</Data>")
    )
    assert f["Client_Network_Address_"] == "1.2.3.4"
    assert "host" not in f
    assert clean_key("\tSecurity ID") == "Security_ID"
    assert clean_key("1abc") == "abc"


def test_substatus_copied_to_sub_status():
    f = extract_fields(sysmon20("<Data Name='SubStatus'>0xc000006a</Data>"))
    assert f["Sub_Status"] == "0xc000006a"


def test_userdata_leaves_extracted_without_clobbering_system_fields():
    raw = (
        f"<Event {NS}><System><EventID>104</EventID><Channel>System</Channel></System>"
        "<UserData><LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'>"
        "<SubjectUserName>bob</SubjectUserName><Channel>Application</Channel><BackupPath></BackupPath>"
        "</LogFileCleared></UserData></Event>"
    )
    f = extract_fields(raw)
    assert f["SubjectUserName"] == "bob"
    assert f["Channel"] == "System"  # the UserData leaf does not turn it multivalue
    assert "BackupPath" not in f
    assert f["UserData_Xml"].startswith("<LogFileCleared")


def test_rendering_info_is_mv_added_to_system_values():
    raw = sysmon20().replace(
        "</EventData>",
        "</EventData><RenderingInfo Culture='en-US'><Message>hello</Message><Level>Information</Level></RenderingInfo>",
    )
    f = extract_fields(raw)
    assert f["Level"] == ["4", "Information"]
    assert f["Message"] == "hello"
    assert f["RenderingInfo_Xml"].startswith("<Message>")


def test_eventdata_with_attribute_and_double_quoted_system_attributes():
    raw = sysmon20().replace("<EventData>", "<EventData Name='ActionStart'>")
    raw = raw.replace("ProcessID='3000'", 'ProcessID="3000"')
    f = extract_fields(raw)
    assert f["Operation"] == "Created"
    assert f["ProcessID"] == '"3000"'  # the add-on regex keeps whichever quotes there are


def test_fast_extraction_equals_the_regex_specification():
    for extra in ("", "<Data Name='Foo'>a</Data><Data Name='Foo'>b</Data>", "<Data Name='x y'>1</Data>"):
        raw = sysmon20(extra)
        assert extract_fields(raw) == extract_fields_reference(raw)


def test_sysmon_time_is_utctime_other_channels_systemtime():
    f = extract_fields(sysmon20())
    assert event_time(f) == calendar.timegm((2024, 1, 2, 3, 4, 5)) + 0.12
    other = extract_fields(sysmon20().replace("Microsoft-Windows-Sysmon/Operational", "Security"))
    assert event_time(other) == pytest.approx(calendar.timegm((2024, 1, 2, 3, 4, 5)) + 0.1234567, abs=1e-6)
    assert event_time({"Channel": "Security"}) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-01-02 03:04:05.120", calendar.timegm((2024, 1, 2, 3, 4, 5)) + 0.12),
        ("2024-01-02T03:04:05Z", float(calendar.timegm((2024, 1, 2, 3, 4, 5)))),
        ("'2024-01-02T03:04:05.5Z'", calendar.timegm((2024, 1, 2, 3, 4, 5)) + 0.5),
        ("2024-01-02T03:04:05+02:00", float(calendar.timegm((2024, 1, 2, 1, 4, 5)))),
        ("2024-02-30 00:00:00", None),
        ("garbage", None),
        ("2024-01-02 25:00:00", None),
    ],
)
def test_parse_time(text, expected):
    assert parse_time(text) == expected


def test_time_digits_do_not_change_the_float():
    assert parse_time("2022-03-25T17:46:37.6530842Z") == parse_time("2022-03-25T17:46:37.653084200Z")
    assert time_to_system_time("2020-08-01 05:46:46") == "2020-08-01T05:46:46.000000000Z"
    assert time_to_system_time("2022-08-18T06:56:13.611Z") == "2022-08-18T06:56:13.611000000Z"


def test_norm_guid():
    assert norm_guid("{564ff025-44fd-62fe-9f04-000000000600}") == "{564FF025-44FD-62FE-9F04-000000000600}"
    assert norm_guid("C2494F38-B411-630F-636B-000000006A02") == "{C2494F38-B411-630F-636B-000000006A02}"
    # a bare lowercase GUID is a string Windows itself writes that way (ScriptBlockId)
    assert norm_guid("5a4fa6b8-2478-401a-be72-d1d40c3c754c") == "5a4fa6b8-2478-401a-be72-d1d40c3c754c"
    assert norm_guid("{555908d1-a6d7-4695-8e1e-26931d2012f4}", braced_upper=False) == (
        "{555908d1-a6d7-4695-8e1e-26931d2012f4}"
    )
    assert norm_guid("not-a-guid") == "not-a-guid"


def test_build_event_renders_windows_style_and_matches_extraction():
    sv = {
        "Name": "Microsoft-Windows-Sysmon",
        "Guid": "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}",
        "EventID": "1",
        "Version": "5",
        "Level": "4",
        "SystemTime": "2024-01-02T03:04:05.000000000Z",
        "ProcessID": "12",
        "ThreadID": "34",
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Computer": "h&h",
        "UserID": "S-1-5-18",
    }
    data = [("CommandLine", 'cmd /c "a & b" > x'), ("RuleName", ""), ("User", "it's me")]
    raw, fields = build_event(sv, data)
    assert raw.startswith(f"<Event {NS}><System><Provider Name='Microsoft-Windows-Sysmon'")
    assert "<Correlation/>" in raw and "<Execution ProcessID='12' ThreadID='34'/>" in raw
    assert "<Computer>h&amp;h</Computer>" in raw
    assert "<Data Name='CommandLine'>cmd /c \"a &amp; b\" &gt; x</Data>" in raw
    assert "<Data Name='RuleName'></Data>" in raw
    assert fields == extract_fields(raw)
    assert fields["CommandLine"] == 'cmd /c "a &amp; b" &gt; x'
    assert fields["UserID"] == "'S-1-5-18'"
