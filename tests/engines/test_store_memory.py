"""Where an in-memory store spills, and the memory bound from the environment."""

from __future__ import annotations

import os
import tempfile

import pytest

from splhunt.engines.store import MEMORY_ENV, Store


def _setting(store: Store, name: str) -> str:
    return store.con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]


def test_in_memory_store_spills_to_the_system_temp_folder_not_the_working_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    tmp = _setting(Store(), "temp_directory")
    assert tmp != ".tmp"
    assert os.path.dirname(tmp) == tempfile.gettempdir()


def test_memory_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_ENV, "1GB")
    assert _setting(Store(), "memory_limit") == "953.6 MiB"  # DuckDB shows 1GB (10^9 bytes) in MiB


def test_a_bad_memory_limit_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_ENV, "lots")
    with pytest.raises(ValueError, match=MEMORY_ENV):
        Store()
