"""MITRE ATT&CK technique -> tactics, from the bundled table `data/attack_tactics.csv`.

ESCU detections carry technique ids only (`T1003.001`); ES enriches risk events with
the tactics (`annotations.mitre_attack.mitre_tactic`) from the ATT&CK data set. The
table is Enterprise ATT&CK v18.1 (see the file's header for its origin and terms).
A sub-technique missing from the table falls back to its parent's tactics.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def _table() -> dict[str, tuple[str, tuple[str, ...]]]:
    text = resources.files("splhunt.runner").joinpath("data/attack_tactics.csv").read_text("utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for row in csv.DictReader(lines):
        out[row["technique_id"].upper()] = (
            row["name"],
            tuple(t for t in row["tactics"].split(";") if t),
        )
    return out


def technique_name(tid: str) -> str | None:
    hit = _table().get(tid.strip().upper())
    return hit[0] if hit else None


def tactics_of(tid: str) -> list[str]:
    """Tactic names of one technique id ([] when unknown)."""
    t = tid.strip().upper()
    tab = _table()
    hit = tab.get(t) or tab.get(t.split(".")[0])
    return list(hit[1]) if hit else []


def tactics_for(tids: list[str]) -> list[str]:
    """Distinct tactics of several technique ids, in first-seen order."""
    out: list[str] = []
    for t in tids:
        for x in tactics_of(t):
            if x not in out:
                out.append(x)
    return out
