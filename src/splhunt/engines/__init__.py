"""Engines run compiled sqlglot plans: DuckDB (default) and Spark (optional extra)."""

from __future__ import annotations

from typing import Any

ENGINES = ("duckdb", "spark")


def make_engine(name: str, store: Any, **options: Any) -> Any:
    """The engine called `name` over `store`. Spark is imported only when asked for.

    Options go to the engine (Spark: `spark=` a SparkSession, `master=` a master URL).
    """
    if name == "duckdb":
        from splhunt.engines.duckdb import DuckDBEngine

        return DuckDBEngine(store)
    if name == "spark":
        from splhunt.engines.spark import SparkEngine

        return SparkEngine(store, **options)
    from splhunt.errors import EngineError

    raise EngineError(f"unknown engine {name!r} (choose from {', '.join(ENGINES)})")
