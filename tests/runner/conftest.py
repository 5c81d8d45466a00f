"""Fixtures for the runner tests: the fixture content folder and attack_data trees built
from the repository's Sysmon sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "samples" / "logs" / "sysmon_devtunnel.xml.log"
CONTENT = Path(__file__).resolve().parent / "fixtures" / "content"
DATASET = "attack_techniques/T1090/snapattack/snapattack.log"


@pytest.fixture(scope="session")
def content_dir() -> Path:
    return CONTENT


@pytest.fixture(scope="session")
def attack_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A splunk/attack_data-shaped tree (`<root>/datasets/...`) holding the sample at the
    path the fixture detections' tests name."""
    root = tmp_path_factory.mktemp("ad") / "attack_data"
    dest = root / "datasets" / DATASET
    dest.parent.mkdir(parents=True)
    shutil.copyfile(SAMPLE, dest)
    return root


@pytest.fixture()
def split_logs(tmp_path: Path) -> Path:
    """The sample's 28 events split into 4 files of 7 lines (plus a README that is not a log)."""
    d = tmp_path / "logs"
    d.mkdir()
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    for i in range(4):
        (d / f"part{i}.xml.log").write_bytes(b"".join(lines[i * 7 : (i + 1) * 7]))
    (d / "README.md").write_text("not a log\n")
    return d


@pytest.fixture(scope="session")
def sample_log() -> Path:
    return SAMPLE
