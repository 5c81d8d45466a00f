"""Classic multi-line WinEventLog text (fixtures cut from attack_data)."""

from __future__ import annotations

import calendar

from splhunt.ingest import IngestReport, read_events
from splhunt.ingest.wineventlog import classic_fields, header_time


def read(path):
    rep = IngestReport()
    return list(read_events(path, report=rep)), rep


def test_4688_fields_as_splunk_extracts_them(fx):
    evs, rep = read(fx / "classic_text/ad_T1202_security_4688.log")
    assert len(evs) == 2 and rep.skipped == 0 and rep.by_format == {"wineventlog": 2}
    e = evs[0]
    # header lines (wel-eq-kv)
    assert e["LogName"] == "Security" and e["EventCode"] == "4688"
    assert e["ComputerName"] == "win-dc-emcginnis-47905-664.attackrange.local"
    assert e["RecordNumber"] == "334207" and e["Keywords"] == "Audit Success"
    assert e["TaskCategory"] == "Process Creation"
    # message labels (wel-col-kv), section prefixes ignored, repeats multivalue
    assert e["New_Process_Name"] == r"C:\Windows\System32\calc.exe"
    assert e["Creator_Process_Name"] == r"C:\Windows\System32\forfiles.exe"
    assert e["Process_Command_Line"] == '"C:\\Windows\\system32\\calc.exe"'
    assert e["Security_ID"] == ["ATTACKRANGE\\Administrator", "NULL SID"]
    assert e["Account_Name"] == ["Administrator", "-"]
    assert e["Token_Elevation_Type"] == "%%1936"
    assert e["Mandatory_Label"] == "Mandatory Label\\High Mandatory Level"
    assert "Creator_Subject" not in e and "Process_Information" not in e
    assert e["Message"].startswith("A new process has been created.\n\nCreator Subject:")
    # defaults for this rendering
    assert e["source"] == "WinEventLog:Security" and e["sourcetype"] == "WinEventLog"
    assert e["host"] == "win-dc-emcginnis-47905-664.attackrange.local"
    assert e["_time"] == float(calendar.timegm((2022, 3, 25, 17, 46, 37)))  # 05:46:37 PM as UTC
    assert e["_raw"].startswith("03/25/2022 05:46:37 PM\nLogName=Security\n")
    assert not e["_raw"].endswith("\n")


def test_4624_labels(fx):
    (e,), _ = read(fx / "classic_text/ad_T1550_4624.raw")
    assert e["Logon_Type"] == "3"
    assert e["Source_Network_Address"] == "10.0.0.37"
    assert e["Logon_GUID"] == "{3CC9925A-88FB-BEEB-9D24-0D291B44E6A0}"
    assert e["Package_Name__NTLM_only_"] == "-"
    assert "Workstation_Name" not in e  # empty value
    assert e["Security_ID"] == ["NULL SID", "DOMAINX\\userA"]


def test_crlf_message_values_have_no_carriage_return(fx):
    evs, rep = read(fx / "classic_text/ad_T1003.006_directory_service_crlf.log")
    assert len(evs) == 2 and rep.skipped == 0
    e = evs[0]
    assert e["source"] == "WinEventLog:Directory Service"
    assert e["EventCode"] == "1072"
    assert e["OpCode"] == "The operation completed successfully."
    assert not any(isinstance(v, str) and v.endswith("\r") for v in e.values())
    assert "Directory_partition" not in e  # label with its value on the next line


def test_header_time_am_pm():
    assert header_time("01/02/2020 12:05:00 AM") == float(calendar.timegm((2020, 1, 2, 0, 5, 0)))
    assert header_time("01/02/2020 12:05:00 PM") == float(calendar.timegm((2020, 1, 2, 12, 5, 0)))
    assert header_time("01/02/2020 01:05:09 PM") == float(calendar.timegm((2020, 1, 2, 13, 5, 9)))
    assert header_time("02/30/2020 01:05:09 PM") is None


def test_classic_fields_duplicate_header_key_and_empty():
    raw = "01/02/2020 01:05:09 PM\nLogName=Security\nUser=\nUser=NOT_TRANSLATED\nMessage=x\n\tA b:\t1\nC:\t2"
    f = classic_fields(raw)
    assert f == {"LogName": "Security", "User": "NOT_TRANSLATED", "Message": "x\n\tA b:\t1\nC:\t2", "A_b": "1", "C": "2"}
