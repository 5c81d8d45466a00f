"""Fixtures for findings tests; the YAML fixtures live in tests/content/fixtures.
../shared (beside the repo) is optional: tests that need it skip with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parents[1] / "content" / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def escu_root() -> Path:
    root = SHARED / "escu"
    if not (root / "detections").is_dir():
        pytest.skip(f"ESCU snapshot not found at {root} (needs ../shared beside the repo)")
    return root
