"""Fixtures of the ingest tests.

Committed fixtures live in ``tests/fixtures/ingest`` (provenance: its NOTICE.md). Tests
that read the real data beside the repository find it at ``<repo>/../shared`` and skip
with a visible reason when it is absent.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "ingest"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
SHARED_DATA = SHARED / "data"


@pytest.fixture(scope="session")
def fx() -> Path:
    """The committed ingest fixtures directory."""
    return FIXTURES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``<repo>/../shared/data`` (skips the test when absent)."""
    if not (SHARED_DATA / "MANIFEST.csv").exists():
        pytest.skip(f"../shared not present: {SHARED_DATA.resolve()} has no MANIFEST.csv")
    return SHARED_DATA


@pytest.fixture(scope="session")
def manifest(shared_data: Path) -> list[dict[str, str]]:
    with open(shared_data / "MANIFEST.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


class CountingStore:
    """Stands in for `Store` where only the batches matter (fast, records calls)."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.rows = 0
        self.columns: set[str] = set()

    def append_columns(self, columns, n, mv_fields=None) -> int:
        for name, values in columns.items():
            assert len(values) == n, f"column {name} has {len(values)} values for {n} rows"
        self.batches.append(n)
        self.rows += n
        self.columns.update(columns)
        return n


@pytest.fixture
def counting_store() -> CountingStore:
    return CountingStore()


@pytest.fixture(scope="session")
def counting_store_class() -> type[CountingStore]:
    return CountingStore
