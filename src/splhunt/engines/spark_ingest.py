"""Ingest on Spark: logs already in a lake become the Parquet layout, read by the cluster.

`ingest_on_spark(spark, inputs, out)` reads every file under `inputs` (any URI the
cluster reads: s3a://, abfss://, dbfs:/, hdfs://, paths) with Spark's `binaryFile`
source, so each file is read by one task on an executor. The task runs splhunt's own
readers over the bytes (EVTX, XmlWinEventLog lines, JSON lines, WinEventLog text,
archives: the same code as `splhunt ingest`, so a field is named and valued alike
however the events came in) and hands the events back as Arrow batches of two maps,
single values and multivalues, with the file's read/skip report beside them.

The driver then registers the fields (in order of first appearance, with the store's
case-collision rule for column names), and Spark writes `events/sourcetype=<st>/
date=<day>/` partitions and the sidecars of `splhunt.engines.parquet`. Spark's writer
keeps partition values in directory names only, while the layout's readers take every
value from the files: the sourcetype is therefore stored in the files under its own
registry column (`sourcetype~1`), and readers, which go through the registry, need no
change.

Limits: a file is one task and is held whole in the task's memory (Spark's binaryFile
reads at most 2 GB per file); lake data split into smaller files spreads better.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from splhunt.engines.parquet import (
    EVENTS,
    FIELDS,
    INVENTORY,
    INVENTORY_FIELDS,
    LAYOUT_VERSION,
    SOURCES,
    read_sidecar_spark,
)
from splhunt.engines.store import CORE_FIELDS, MV, NUM, STR, _s, allocate_column
from splhunt.errors import EngineError
from splhunt.ingest.report import FileStats, IngestReport

#: Events per Arrow batch a task hands back.
BATCH = 5_000


def _task_schema() -> Any:
    from pyspark.sql import types as T

    return T.StructType([
        T.StructField("_time", T.DoubleType()),
        T.StructField("s", T.MapType(T.StringType(), T.StringType())),
        T.StructField("m", T.MapType(T.StringType(), T.ArrayType(T.StringType()))),
        T.StructField("report", T.StringType()),  # set on one extra row per file
    ])


def _arrow_schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("_time", pa.float64()),
        ("s", pa.map_(pa.string(), pa.string())),
        ("m", pa.map_(pa.string(), pa.list_(pa.string()))),
        ("report", pa.string()),
    ])


def _read_files(batches: Iterator[Any], opts: dict[str, Any]) -> Iterator[Any]:
    """The executor side: (path, content) rows in, event batches and reports out."""
    import pyarrow as pa

    from splhunt.ingest.pipeline import Options, _events_of_stream

    schema = _arrow_schema()
    options = Options(opts.get("source"), opts.get("sourcetype"), opts.get("index", "main"), opts.get("host"))

    def flush(rows: list[tuple[Any, Any, Any, Any]]) -> Any:
        cols = list(zip(*rows, strict=True)) if rows else [[], [], [], []]
        return pa.RecordBatch.from_arrays([pa.array(list(c), type=t) for c, t in zip(cols, schema.types, strict=True)],
                                          schema=schema)

    for batch in batches:
        paths = batch.column("path").to_pylist()
        contents = batch.column("content")
        for i, uri in enumerate(paths):
            # Hadoop names local files file:/path; splhunt ingest names them /path
            path = uri[len("file:"):] if uri.startswith("file:/") and not uri.startswith("file://") else uri
            path = path[len("file://"):] if path.startswith("file:///") else path
            report = IngestReport()
            rows: list[tuple[Any, Any, Any, Any]] = []
            data = contents[i].as_py()
            for ev in _events_of_stream(path, path, io.BytesIO(data), report, options, None, True):
                single: list[tuple[str, str]] = []
                multi: list[tuple[str, list[str | None]]] = []
                t = None
                for k, v in ev.items():
                    if k == "_time":
                        t = None if v is None else float(v)
                    elif isinstance(v, list):
                        multi.append((k, [_s(x) for x in v]))
                    elif v is not None:
                        single.append((k, _s(v)))
                rows.append((t, single, multi or None, None))
                if len(rows) >= BATCH:
                    yield flush(rows)
                    rows = []
            report.bytes_total += len(data)
            rows.append((None, None, None, json.dumps(asdict(report))))
            yield flush(rows)


def _report_of(text: str) -> IngestReport:
    d = json.loads(text)
    per_file = {k: FileStats(**v) for k, v in d.pop("per_file").items()}
    per_member = {k: FileStats(**v) for k, v in d.pop("per_member").items()}
    return IngestReport(**d, per_file=per_file, per_member=per_member)


def ingest_on_spark(spark: Any, inputs: list[str], out: str, *, source: str | None = None,
                    sourcetype: str | None = None, index: str = "main", host: str | None = None,
                    path_glob: str | None = None) -> tuple[dict[str, Any], IngestReport]:
    """Read the logs under `inputs` on the cluster and write the Parquet layout at `out`.

    Args:
        spark: a SparkSession (`splhunt.engines.spark.spark_session()`).
        inputs: files or folders (folders are read recursively), as URIs Spark reads.
        out: where the layout goes (overwritten).
        source, sourcetype, index, host: as `splhunt ingest` takes them.
        path_glob: only files whose name matches, e.g. `*.json` (Spark's pathGlobFilter).

    Returns:
        The layout's description (`read_sidecar`) and the run's `IngestReport`, with
        counts of what was read and skipped, per file.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from splhunt.engines.spark import SESSION_CONF

    for k, v in SESSION_CONF.items():
        spark.conf.set(k, v)
    reader = spark.read.format("binaryFile").option("recursiveFileLookup", "true")
    if path_glob:
        reader = reader.option("pathGlobFilter", path_glob)
    try:
        files = reader.load(list(inputs)).select("path", "content")
    except Exception as e:  # noqa: BLE001 - pyspark raises many kinds
        raise EngineError(f"Spark could not list {', '.join(inputs)}: {str(e).strip().splitlines()[0]}") from e
    opts = {"source": source, "sourcetype": sourcetype, "index": index, "host": host}
    # one file per partition: a task reads whole files, and a big file is not queued
    # behind others
    n_files = files.count()
    files = files.repartition(max(1, n_files))
    parsed = files.mapInArrow(lambda it: _read_files(it, opts), _task_schema()).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        report = IngestReport()
        for r in parsed.where(F.col("report").isNotNull()).select("report").collect():
            report.merge(_report_of(r["report"]))
        events = parsed.where(F.col("report").isNull())
        fields = _registry(events)
        meta = _write(spark, events, fields, out)
    finally:
        parsed.unpersist()
    return meta, report


def _registry(events: Any) -> list[tuple[str, str, str]]:
    """(field, col, kind) in order of first appearance; core fields first."""
    from pyspark.sql import functions as F

    seen = events.select(F.monotonically_increasing_id().alias("row"), "s", "m")
    keys = (
        seen.select("row", F.posexplode(F.map_keys("s")).alias("pos", "k"), F.lit(0).alias("mv"))
        .unionByName(seen.select("row", F.posexplode(F.map_keys("m")).alias("pos", "k"), F.lit(1).alias("mv")))
        .groupBy("k").agg(F.min(F.struct("row", "mv", "pos")).alias("first"), F.max("mv").alias("mv"))
        .orderBy("first").collect()
    )
    kinds = {r["k"]: MV if r["mv"] else STR for r in keys}
    taken: set[str] = set()
    out: list[tuple[str, str, str]] = []
    for f in [*CORE_FIELDS, *[r["k"] for r in keys if r["k"] not in CORE_FIELDS]]:
        col = allocate_column(f, taken | {"date"})
        taken.add(col.lower())
        kind = NUM if f == "_time" else kinds.get(f, STR)
        out.append((f, col, kind))
    return out


def _write(spark: Any, events: Any, fields: list[tuple[str, str, str]], out: str) -> dict[str, Any]:
    from pyspark.sql import functions as F

    base = out.rstrip("/")
    cols: list[Any] = []
    registry: list[tuple[str, str, str]] = []
    taken = {c.lower() for _, c, _ in fields} | {"date"}
    for f, col, kind in fields:
        if f == "_time":
            val = F.col("_time")
        elif kind == MV:
            val = F.when(F.col("m")[f].isNotNull(), F.col("m")[f]).when(F.col("s")[f].isNotNull(), F.array(F.col("s")[f]))
        else:
            val = F.col("s")[f]
        if f == "sourcetype":
            copy = allocate_column(f, taken)
            taken.add(copy.lower())
            cols.append(val.alias(copy))
            registry.append((f, copy, kind))
            cols.append(val.alias("sourcetype"))  # the partition column
            continue
        cols.append(val.alias(col))
        registry.append((f, col, kind))
    day = F.date_format(F.timestamp_seconds(F.col("_time")), "yyyy-MM-dd")
    table = events.select(*cols, day.alias("date"))
    try:
        table.write.mode("overwrite").partitionBy("sourcetype", "date").parquet(f"{base}/{EVENTS}")
        st_col = next(c for f, c, _ in registry if f == "sourcetype")
        written = spark.read.option("recursiveFileLookup", "true").parquet(f"{base}/{EVENTS}")
        spark.createDataFrame(
            [(f, c, k, LAYOUT_VERSION) for f, c, k in registry], "field string, col string, kind string, layout int"
        ).coalesce(1).write.mode("overwrite").parquet(f"{base}/{FIELDS}")
        (written.groupBy(F.col("source"), F.col(f"`{st_col}`").alias("sourcetype")).agg(F.count(F.lit(1)).alias("events"))
         .orderBy("source", "sourcetype").coalesce(1).write.mode("overwrite").parquet(f"{base}/{SOURCES}"))
        by = {f: c for f, c, _ in registry}
        inv = [F.col(f"`{by[f]}`").alias(f) for f in INVENTORY_FIELDS if f in by]
        (written.select(*inv).groupBy(*[f for f in INVENTORY_FIELDS if f in by]).agg(F.count(F.lit(1)).alias("events"))
         .coalesce(1).write.mode("overwrite").parquet(f"{base}/{INVENTORY}"))
    except Exception as e:  # noqa: BLE001
        raise EngineError(f"Spark could not write the layout to {out}: {str(e).strip().splitlines()[0]}") from e
    return read_sidecar_spark(spark, out)


__all__ = ["ingest_on_spark"]
