"""Fixtures for the knowledge tests.

`ta_fields` reads /work/shared/reference/TA_FIELDS.md (located as <repo root>/../shared) so
the data can be checked line by line against the report; tests that need it skip, naming the
missing path, when ../shared is absent. Tests that do not need it pin a handful of key lines
directly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ta_fields_reader import TaFields

from splhunt.knowledge import Knowledge, Stanza, load_knowledge

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
TA_FIELDS = SHARED / "reference" / "TA_FIELDS.md"

SYSMON_SOURCE = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
SYSMON_STANZA = f"source::{SYSMON_SOURCE}"


@pytest.fixture(scope="session")
def ta_fields() -> TaFields:
    if not TA_FIELDS.is_file():
        pytest.skip(f"TA_FIELDS.md not found at {TA_FIELDS} (needs ../shared beside the repo)")
    return TaFields(TA_FIELDS.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge()


@pytest.fixture(scope="session")
def sysmon(knowledge: Knowledge) -> Stanza:
    return knowledge.stanza(SYSMON_STANZA)
