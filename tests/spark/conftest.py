"""The differential Spark suite: one SparkSession for the whole run.

Skipped, with the reason shown, only when pyspark or Java is missing. Every test here
runs the same SPL on DuckDB and on Spark and wants the same rows.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"


def _unavailable() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install '.[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        return "no Java runtime (Spark needs Java 17)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _unavailable()
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.spark)
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"Spark suite skipped: {reason}"))


@pytest.fixture(scope="session")
def spark():  # noqa: ANN201 - pyspark.sql.SparkSession
    from splhunt.engines.spark import spark_session

    return spark_session("local[2]")
