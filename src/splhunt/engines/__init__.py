"""Engines run compiled sqlglot plans: DuckDB (default) and Spark (optional extra)."""
