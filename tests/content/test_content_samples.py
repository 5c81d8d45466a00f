"""The bundled `make run` sample: data/samples/logs/sysmon_devtunnel.xml.log.

Checks the file itself (no engine involved): one well-formed <Event> per line, and exactly
one event that the seed's filter (EventID=7 and both ImageLoaded wildcards, matched
case-insensitively as `search` does) selects, plus the labelled near misses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOG = REPO / "data" / "samples" / "logs" / "sysmon_devtunnel.xml.log"
NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"


def _wild(pattern: str) -> re.Pattern[str]:
    """SPL search wildcard (`*` only), case-insensitive, whole value."""
    return re.compile(
        "".join(".*" if c == "*" else re.escape(c) for c in pattern), re.IGNORECASE | re.DOTALL
    )


# the seed's patterns after SPL string unescaping (`\\` -> `\`)
P1 = _wild(r"*\AppData\Local\Temp\.net\devtunnel\*")
P2 = _wild(r"*devtunnel.dll")


def _events() -> list[dict[str, str]]:
    out = []
    for line in LOG.read_text(encoding="utf-8").splitlines():
        root = ET.fromstring(line)
        assert root.tag == f"{NS}Event"
        ev = {"EventID": root.findtext(f"{NS}System/{NS}EventID") or ""}
        ev["Computer"] = root.findtext(f"{NS}System/{NS}Computer") or ""
        for d in root.iter(f"{NS}Data"):
            ev[d.get("Name", "")] = d.text or ""
        ev["_raw"] = line
        out.append(ev)
    return out


@pytest.fixture(scope="module")
def events() -> list[dict[str, str]]:
    return _events()


def test_one_event_per_line_in_splunk_form(events: list[dict[str, str]]) -> None:
    assert len(events) == 28
    for ev in events:
        raw = ev["_raw"]
        assert raw.startswith(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
        )
        assert raw.endswith("</Event>") and raw.count("<Event ") == 1
        assert "Microsoft-Windows-Sysmon/Operational" in raw
        assert (
            '="' not in raw.split("<EventData>")[0]
        )  # single-quoted attributes, as Windows renders


def test_exactly_one_event_matches_the_seed_filter(events: list[dict[str, str]]) -> None:
    hits = [
        e
        for e in events
        if e["EventID"] == "7"
        and P1.fullmatch(e.get("ImageLoaded", ""))
        and P2.fullmatch(e.get("ImageLoaded", ""))
    ]
    assert len(hits) == 1
    (h,) = hits
    assert h["Computer"] == "ar-win-dc.attackrange.local"
    assert h["Image"] == r"C:\Users\Administrator\Downloads\devtunnel.exe"
    assert h["ImageLoaded"].endswith(r"\devtunnel.dll")
    assert h["OriginalFileName"] == "devtunnel.dll"


def test_near_misses_are_present(events: list[dict[str, str]]) -> None:
    eid7 = [e for e in events if e["EventID"] == "7"]
    first_only = [
        e for e in eid7 if P1.fullmatch(e["ImageLoaded"]) and not P2.fullmatch(e["ImageLoaded"])
    ]
    second_only = [
        e for e in eid7 if P2.fullmatch(e["ImageLoaded"]) and not P1.fullmatch(e["ImageLoaded"])
    ]
    assert [e["ImageLoaded"].rsplit("\\", 1)[1] for e in first_only] == ["coreclr.dll"]
    assert [e["ImageLoaded"] for e in second_only] == [
        r"C:\Users\Administrator\Downloads\devtunnel-cli\devtunnel.dll"
    ]
    other_eid = [e for e in events if e["EventID"] != "7" and "devtunnel" in e["_raw"]]
    assert len(other_eid) == 1 and other_eid[0]["EventID"] == "1"
    cmd = other_eid[0]["CommandLine"]
    assert r"\AppData\Local\Temp\.net\devtunnel" in cmd and cmd.rstrip('"').endswith(
        "devtunnel.dll"
    )
    # unmodified real image loads of other images
    assert len([e for e in eid7 if "devtunnel" not in e["_raw"]]) == 2


def test_notice_names_every_bundled_sample_file() -> None:
    notice = (REPO / "NOTICE.md").read_text(encoding="utf-8")
    for f in sorted((REPO / "data" / "samples").rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts:
            assert f.relative_to(REPO).as_posix() in notice, f
    assert "tests/content/fixtures/windows_devtunnels_image_loaded.yml" in notice
