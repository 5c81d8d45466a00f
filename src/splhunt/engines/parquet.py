"""A Parquet layout of the event store that DuckDB and Spark both read.

    <uri>/
      splhunt_fields.parquet   the field registry: field, col, kind (in order), layout version
      splhunt_sources.parquet  source, sourcetype, events: one row per pair
      splhunt_inventory.parquet  events per (source, sourcetype, Channel, EventCode,
                               EventID, index), the fields of these the store has
      events/sourcetype=<st>/date=<YYYY-MM-DD>/data_0.parquet

Events are partitioned Hive-style by `sourcetype` and by the UTC day of `_time`
(`date`); partition values are percent-escaped (`WinEventLog%3ASecurity`) and a null
is `__HIVE_DEFAULT_PARTITION__`, as Spark writes them. Each file also holds the
`sourcetype` and `date` columns, so readers take every value from the files themselves
and never decode a directory name. Columns are named as the store names them; the
registry sidecar maps Splunk field names (case-sensitive) to those columns, and
readers select exactly the registry's columns (`date` is layout only).

Write with `write_parquet(store, uri)` (DuckDB's `COPY ... (FORMAT PARQUET,
PARTITION_BY ...)`: any path or URI DuckDB can write, e.g. `s3://` with its httpfs
extension), then run searches over it with `parquet_session(uri, engine=...)`:

>>> from splhunt.engines.store import Store
>>> import tempfile
>>> st = Store()
>>> _ = st.append([{"_time": 0.0, "sourcetype": "WinEventLog:Security", "EventCode": "4688"}])
>>> out = tempfile.mkdtemp()
>>> write_parquet(st, out)["events"]
1
>>> parquet_session(out, knowledge=False).search("EventCode=4688 | stats count").rows
[{'count': 1}]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from splhunt.engines.store import CORE_FIELDS, MV, NUM, Store, _qi
from splhunt.errors import EngineError

LAYOUT_VERSION = 1
EVENTS = "events"
# not `_`-prefixed: Spark and Hadoop take such files for hidden metadata and skip them
FIELDS = "splhunt_fields.parquet"
SOURCES = "splhunt_sources.parquet"
INVENTORY = "splhunt_inventory.parquet"
#: What the inventory sidecar counts events by (those the store has): what `hunt`
#: selects detections by, so a driver that never reads events can still select.
INVENTORY_FIELDS = ("source", "sourcetype", "Channel", "EventCode", "EventID", "index")
PARTITIONS = ("sourcetype", "date")


def _join(uri: str, *parts: str) -> str:
    return "/".join([uri.rstrip("/"), *parts])


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def _local(uri: str) -> Path:
    return Path(uri[len("file://"):] if uri.startswith("file://") else uri)


def write_parquet(store: Store, uri: str | Path, *, overwrite: bool = True) -> dict[str, Any]:
    """Write `store`'s events as Parquet partitioned by sourcetype and day, with the
    field registry and the (source, sourcetype) pairs as sidecar Parquet files.

    Args:
        store: the DuckDB event store.
        uri: a directory path, or a URI DuckDB can write (`s3://bucket/prefix` with its
            httpfs extension loaded and credentials set).
        overwrite: replace an existing layout at `uri`. On a local path its `events/`
            folder is removed first (no day of an earlier write survives); on object
            storage files are overwritten by name, so write a new layout to a new prefix.

    Returns:
        The layout's description, as `read_sidecar` gives it back.
    """
    import pyarrow as pa

    uri = str(uri)
    fields = store.fields
    if any(fc.col == "date" for fc in fields.values()):
        raise EngineError("the store has a column named `date`, which the layout uses for the day partition")
    cur = store.con.cursor()
    if _is_local(uri):
        _local(uri).mkdir(parents=True, exist_ok=True)
        if overwrite and (_local(uri) / EVENTS).is_dir():
            import shutil

            shutil.rmtree(_local(uri) / EVENTS)
    cols = ", ".join(_qi(fc.col) for fc in fields.values())
    day = "strftime(to_timestamp(\"_time\"), '%Y-%m-%d')"
    query = f"SELECT {cols}, {day} AS \"date\" FROM events"
    opts = "FORMAT PARQUET, PARTITION_BY (sourcetype, \"date\"), WRITE_PARTITION_COLUMNS true"
    if overwrite:
        opts += ", OVERWRITE_OR_IGNORE true"
    registry = pa.table({  # noqa: F841 - read by DuckDB's replacement scan
        "field": [fc.field for fc in fields.values()],
        "col": [fc.col for fc in fields.values()],
        "kind": [fc.kind for fc in fields.values()],
        "layout": [LAYOUT_VERSION] * len(fields),
    })
    try:
        cur.execute(f"COPY ({query}) TO {_sql_str(_join(uri, EVENTS))} ({opts})")
        cur.execute(f"COPY (SELECT * FROM registry) TO {_sql_str(_join(uri, FIELDS))} (FORMAT PARQUET)")
        cur.execute(
            "COPY (SELECT source, sourcetype, count(*) AS events FROM events GROUP BY ALL ORDER BY ALL) "
            f"TO {_sql_str(_join(uri, SOURCES))} (FORMAT PARQUET)"
        )
        inv = ", ".join(f"{_qi(fields[f].col)} AS {_qi(f)}" for f in INVENTORY_FIELDS if f in fields)
        cur.execute(
            f"COPY (SELECT {inv}, count(*) AS events FROM events GROUP BY ALL ORDER BY ALL) "
            f"TO {_sql_str(_join(uri, INVENTORY))} (FORMAT PARQUET)"
        )
    except duckdb.Error as e:
        raise EngineError(f"could not write Parquet to {uri}: {e}") from e
    return read_sidecar(uri, cur)


def read_sidecar(uri: str | Path, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, Any]:
    """The layout's registry (`fields`: field, col, kind in order), its (source,
    sourcetype) pairs (`sources`) and its event count (`events`)."""
    uri = str(uri)
    con = con or duckdb.connect()
    try:
        rows = con.execute(f"SELECT field, col, kind, layout FROM read_parquet({_sql_str(_join(uri, FIELDS))})").fetchall()
        pairs = con.execute(f"SELECT source, sourcetype, events FROM read_parquet({_sql_str(_join(uri, SOURCES))})").fetchall()
    except duckdb.Error as e:
        raise EngineError(f"{uri} is not a splhunt Parquet layout: {e}") from e
    try:
        inv = con.execute(f"SELECT * FROM read_parquet({_sql_str(_join(uri, INVENTORY))})")
        names = [d[0] for d in inv.description]
        inventory = [dict(zip(names, r, strict=True)) for r in inv.fetchall()]
    except duckdb.Error:  # written before the inventory sidecar
        inventory = None
    return _meta(uri, rows, pairs, inventory)


def read_sidecar_spark(spark: Any, uri: str) -> dict[str, Any]:
    """`read_sidecar` through Spark: for URIs only the cluster reads (s3a://, abfss://,
    dbfs:/, hdfs://)."""
    base = uri.rstrip("/")
    try:
        rows = [tuple(r) for r in spark.read.parquet(f"{base}/{FIELDS}").select("field", "col", "kind", "layout").collect()]
        pairs = [tuple(r) for r in spark.read.parquet(f"{base}/{SOURCES}").select("source", "sourcetype", "events").collect()]
    except Exception as e:  # noqa: BLE001 - pyspark raises many kinds
        raise EngineError(f"{uri} is not a splhunt Parquet layout: {str(e).strip().splitlines()[0]}") from e
    try:
        inventory = [r.asDict() for r in spark.read.parquet(f"{base}/{INVENTORY}").collect()]
    except Exception:  # noqa: BLE001 - written before the inventory sidecar
        inventory = None
    return _meta(uri, rows, pairs, inventory)


def _meta(uri: str, rows: list, pairs: list, inventory: list[dict[str, Any]] | None) -> dict[str, Any]:
    versions = {r[3] for r in rows}
    if versions != {LAYOUT_VERSION}:
        raise EngineError(f"{uri}: layout version {sorted(versions)}, expected {LAYOUT_VERSION}")
    return {
        "fields": [{"field": f, "col": c, "kind": k} for f, c, k, _ in rows],
        "sources": [[s, st] for s, st, _ in pairs],
        "events": int(sum(n for _, _, n in pairs)),
        "inventory": inventory,
    }


def _sql_type(kind: str, field: str) -> str:
    if field in CORE_FIELDS:
        return CORE_FIELDS[field]
    return "VARCHAR[]" if kind == MV else "DOUBLE" if kind == NUM else "VARCHAR"


def _registry(con: duckdb.DuckDBPyConnection, meta: dict[str, Any]) -> None:
    con.execute("CREATE TABLE _fields (field VARCHAR PRIMARY KEY, col VARCHAR, kind VARCHAR)")
    con.executemany("INSERT INTO _fields VALUES (?, ?, ?)", [[f["field"], f["col"], f["kind"]] for f in meta["fields"]])


def open_parquet_store(uri: str | Path) -> Store:
    """A read-only DuckDB `Store` whose `events` is a view over the layout's files."""
    uri = str(uri)
    con = duckdb.connect()
    # every query binds the view, which reads each file's footer (union_by_name): keep
    # them (halves the bind time over a few hundred files)
    con.execute("SET parquet_metadata_cache = true")
    meta = read_sidecar(uri, con)
    _registry(con, meta)
    cols = ", ".join(_qi(f["col"]) for f in meta["fields"])
    files = _sql_str(_join(uri, EVENTS, "**", "*.parquet"))
    if meta["events"]:
        src = f"read_parquet({files}, hive_partitioning = false, union_by_name = true)"
        con.execute(f"CREATE VIEW events AS SELECT {cols} FROM {src}")
    else:
        _empty_events(con, meta)
    return Store(con=con)


def _empty_events(con: duckdb.DuckDBPyConnection, meta: dict[str, Any]) -> None:
    defs = ", ".join(f"{_qi(f['col'])} {_sql_type(f['kind'], f['field'])}" for f in meta["fields"])
    con.execute(f"CREATE TABLE events ({defs})")


def catalog_store(meta: dict[str, Any]) -> Store:
    """A DuckDB `Store` holding only what the compiler reads from a store: the field
    registry and one row per (source, sourcetype) pair (the knowledge view is built per
    pair), or, when the layout has its inventory sidecar, one row per inventory entry
    (so `hunt` can tell which data sources are present; counts are in the sidecar).
    For engines that read the events themselves, such as Spark."""
    con = duckdb.connect()
    _registry(con, meta)
    _empty_events(con, meta)
    inv = meta.get("inventory")
    if inv:
        cols = {f["field"]: f["col"] for f in meta["fields"]}
        names = [n for n in INVENTORY_FIELDS if n in cols and n in inv[0]]
        con.executemany(
            f"INSERT INTO events ({', '.join(_qi(cols[n]) for n in names)}) VALUES ({', '.join('?' for _ in names)})",
            [[r[n] for n in names] for r in inv],
        )
    else:
        con.executemany(
            "INSERT INTO events (source, sourcetype) VALUES (?, ?)", [list(p) for p in meta["sources"]]
        )
    return Store(con=con)


def parquet_session(uri: str | Path, engine: str = "duckdb", *, engine_options: dict[str, Any] | None = None,
                    **session: Any) -> Any:
    """A `Session` over a Parquet layout: DuckDB reads the files through a view; Spark
    reads them itself (no copy through the driver). Other keyword arguments go to
    `Session` (content=, knowledge=, now=)."""
    from splhunt.api import Session

    uri = str(uri)
    if engine == "duckdb":
        return Session(store=open_parquet_store(uri), engine="duckdb", **session)
    store, opts = spark_catalog(uri, engine_options)
    return Session(store=store, engine=engine, engine_options=opts, **session)


def spark_catalog(uri: str | Path, engine_options: dict[str, Any] | None = None) -> tuple[Store, dict[str, Any]]:
    """(store, engine options) for a Spark `Session` over a layout: Spark reads the
    events itself; the driver keeps a DuckDB store for the compiler and the runners: a
    view over the files when they are on a local path, else `catalog_store` built from
    the sidecars, which Spark reads (the driver never reads events)."""
    uri = str(uri)
    opts = dict(engine_options or {})
    if _is_local(uri):
        store = open_parquet_store(uri)
        meta = read_sidecar(uri, store.con)
    else:
        from splhunt.engines.spark import spark_session

        spark = opts.get("spark") or spark_session(opts.get("master"))
        opts["spark"] = spark
        meta = read_sidecar_spark(spark, uri)
        store = catalog_store(meta)
    return store, {**opts, "parquet": uri, "parquet_meta": meta}


__all__ = ["catalog_store", "open_parquet_store", "parquet_session", "read_sidecar", "read_sidecar_spark", "spark_catalog",
           "write_parquet"]
