"""Rebuild data/samples/logs/sysmon_devtunnel.xml.log from the public sources named in
NOTICE.md (run from the repo root with ../shared beside it; needs the `evtx` package).

    .venv/bin/python data/samples/make_sysmon_devtunnel.py

Every line is a real Sysmon event in Splunk's XmlWinEventLog form (one <Event> per line).
Unmodified events are copied byte for byte (XmlWinEventLog sources) or only re-rendered
from EVTX to that form (EVTX sources). Four events are constructed from a real event by
changing the fields listed in EDITS below; NOTICE.md says which and why.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
OUT = REPO / "data" / "samples" / "logs" / "sysmon_devtunnel.xml.log"

SC_SYSMON = DATA / "security_content/example_logs/XmlWinEventLog_Microsoft-Windows-Sysmon_Operational.log"
LOLBAS = DATA / (
    "attack_data/datasets/attack_techniques/T1218/lolbas_with_network_traffic/"
    "lolbas_with_network_traffic.log"
)
PROCDUMP_EVTX = DATA / (
    "attack_data/datasets/attack_techniques/T1003.001/atomic_red_team/"
    "procdump_t1003.001_capattack/logs/Microsoft-Windows-Sysmon%4Operational.evtx"
)
HH_EVTX = DATA / (
    "attack_data/datasets/attack_techniques/T1218.001/atomic_red_team/"
    "hh_decompile_t1218.001_capattack/logs/Microsoft-Windows-Sysmon%4Operational.evtx"
)

# .NET single-file apps extract to %TEMP%\.net\<app>\<bundle id>\; the id is 32 base64 chars
BUNDLE = "Jq4tVh0bXn2Lw8sRk5Yc_Gm7Pz1DfE0="
DEVTUNNEL_META = {
    "FileVersion": "1.0.1516.0",
    "Description": "DevTunnels CLI",
    "Product": "Microsoft DevTunnels CLI",
    "Company": "Microsoft Corporation",
    "OriginalFileName": "devtunnel.dll",
}
CORECLR_META = {
    "FileVersion": "8.0.1024.46610",
    "Description": ".NET Runtime",
    "Product": "Microsoft\u00ae .NET",
    "Company": "Microsoft Corporation",
    "OriginalFileName": "CoreCLR.dll",
}

# label -> (changes to <Data Name=...> values)
EDITS: dict[str, dict[str, str]] = {
    # POSITIVE: from the security_content Sysmon EID 7 example (EventRecordID 45273)
    "positive": {
        "Image": r"C:\Users\Administrator\Downloads\devtunnel.exe",
        "ImageLoaded": rf"C:\Users\Administrator\AppData\Local\Temp\.net\devtunnel\{BUNDLE}\devtunnel.dll",
        **DEVTUNNEL_META,
    },
    # NEAR MISS A: only the first pattern (another DLL in the devtunnel extraction folder);
    # from attack_data procdump capattack EVTX, EventRecordID 40892379
    "near_miss_first_pattern_only": {
        "Image": r"C:\Users\Administrator\Downloads\devtunnel.exe",
        "ImageLoaded": rf"C:\Users\Administrator\AppData\Local\Temp\.net\devtunnel\{BUNDLE}\coreclr.dll",
        **CORECLR_META,
    },
    # NEAR MISS B: only the second pattern (devtunnel.dll beside a framework-dependent
    # devtunnel.exe, not in the temp extraction folder);
    # from attack_data hh_decompile capattack EVTX, EventRecordID 40892821
    "near_miss_second_pattern_only": {
        "Image": r"C:\Users\Administrator\Downloads\devtunnel-cli\devtunnel.exe",
        "ImageLoaded": r"C:\Users\Administrator\Downloads\devtunnel-cli\devtunnel.dll",
        **DEVTUNNEL_META,
    },
    # NEAR MISS C: EventID 1 whose CommandLine names the full devtunnel.dll temp path;
    # from attack_data lolbas_with_network_traffic.log line 4 (cmd.exe, EventRecordID 300655)
    "near_miss_eventid_1": {
        "CommandLine": (
            r'C:\Windows\system32\cmd.exe /c dir "C:\Users\AttackMe\AppData\Local\Temp\.net'
            rf'\devtunnel\{BUNDLE}\devtunnel.dll"'
        ),
    },
}

GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"


def esc_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_attr(s: str) -> str:
    return esc_text(s).replace("'", "&apos;")


def set_data(line: str, name: str, value: str) -> str:
    pat = re.compile(rf"(<Data Name='{re.escape(name)}'>)(.*?)(</Data>)")
    new, n = pat.subn(lambda m: m.group(1) + esc_text(value) + m.group(3), line)
    if n != 1:
        raise SystemExit(f"expected one <Data Name='{name}'>, found {n}")
    return new


def render(elem: ET.Element) -> str:
    """Serialise an EVTX-decoded element the way Windows renders it for Splunk."""
    tag = elem.tag.replace(NS, "")
    attrs = ""
    for k, v in elem.attrib.items():
        if GUID.fullmatch(v):
            v = "{" + v + "}"
        if tag == "TimeCreated" and k == "SystemTime":
            m = re.fullmatch(r"(.*\.)(\d+)Z", v)
            if m:
                v = m.group(1) + m.group(2).ljust(9, "0") + "Z"
        attrs += f" {k}='{esc_attr(v)}'"
    if tag == "Event":
        attrs = " xmlns='http://schemas.microsoft.com/win/2004/08/events/event'" + attrs
    children = list(elem)
    text = (elem.text or "").strip() if not children else ""
    if GUID.fullmatch(text):
        text = "{" + text + "}"
    if not children and not text and tag != "Data":
        return f"<{tag}{attrs}/>"
    inner = "".join(render(c) for c in children) if children else esc_text(text)
    return f"<{tag}{attrs}>{inner}</{tag}>"


def evtx_record(path: Path, record_id: int) -> str:
    import evtx

    for r in evtx.PyEvtxParser(str(path)).records():
        if r["event_record_id"] == record_id:
            xml = r["data"].split("?>", 1)[1] if r["data"].startswith("<?xml") else r["data"]
            return render(ET.fromstring(xml))
    raise SystemExit(f"{path}: no record {record_id}")


def apply(line: str, label: str) -> str:
    for k, v in EDITS[label].items():
        line = set_data(line, k, v)
    return line


def system_time(line: str) -> str:
    m = re.search(r"SystemTime='([^']+)'", line)
    return m.group(1) if m else ""


def main() -> int:
    sc = SC_SYSMON.read_text(encoding="utf-8").splitlines()
    lol = LOLBAS.read_text(encoding="utf-8").splitlines()
    (sc_eid7,) = [ln for ln in sc if "<EventID>7</EventID>" in ln]
    lol_base = lol[3]
    assert "<EventRecordID>300655</EventRecordID>" in lol_base and "cmd.exe" in lol_base

    lines = [ln for ln in sc if ln is not sc_eid7]  # 17 unmodified security_content events
    lines += [ln for i, ln in enumerate(lol) if i != 3]  # 5 unmodified attack_data events
    lines.append(evtx_record(PROCDUMP_EVTX, 40892628))  # unmodified EID 7 (re-rendered)
    lines.append(evtx_record(HH_EVTX, 40893002))  # unmodified EID 7 (re-rendered)
    lines.append(apply(sc_eid7, "positive"))
    lines.append(apply(evtx_record(PROCDUMP_EVTX, 40892379), "near_miss_first_pattern_only"))
    lines.append(apply(evtx_record(HH_EVTX, 40892821), "near_miss_second_pattern_only"))
    lines.append(apply(lol_base, "near_miss_eventid_1"))
    lines.sort(key=system_time)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(lines)} events)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
