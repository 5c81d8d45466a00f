"""Shared fixtures. `shared` locates ../shared beside the repo, or skips with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "data" / "MANIFEST.csv").exists():
        pytest.skip(f"../shared not present at {SHARED}: real-data tests need it")
    return SHARED
