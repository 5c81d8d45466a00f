"""tstats fillnull_value fills null group-by values, multivalue data model fields included."""

from __future__ import annotations

from splhunt.api import Session


def test_fillnull_value_fills_scalar_and_multivalue_group_fields() -> None:
    s = Session()
    s.store.append([{
        "_time": 1.0, "_raw": "x", "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
        "sourcetype": "XmlWinEventLog", "EventID": "1", "EventCode": "1", "Image": "C:\\a\\b.exe", "Computer": "h",
    }])
    spl = ("| tstats summariesonly=false fillnull_value=null count from datamodel=Endpoint.Processes "
           "by Processes.dest Processes.process_hash Processes.tag")
    rows = s.search(spl).rows
    # process_hash is absent (filled with "null"); tag is multivalue: one group per value
    assert {(r["Processes.dest"], r["Processes.process_hash"], r["Processes.tag"]) for r in rows} >= {
        ("h", "null", "process"), ("h", "null", "report")
    }
    # without fillnull_value the null process_hash drops every group
    assert s.search(spl.replace("fillnull_value=null ", "")).rows == []
