"""The Spark engine: runs the same compiled plans on Apache Spark (optional extra).

Install with `pip install 'splhunt[spark]'` (needs Java 17). pyspark is imported
lazily here and in `spark_ingest` (ingest on the cluster), nowhere else.

Events are ingested into the DuckDB `Store` as usual; `load_store` moves them into
Spark through Parquet written by DuckDB (or through Arrow when the cluster cannot read
the driver's local disk), together with the `_fields` registry. Every engine gets its
own Spark session (`SparkSession.newSession()`: shared JVM and cache, separate temp
views), so several `Session`s never see each other's `events`.

Spark must run with `spark.sql.caseSensitive=true`: Splunk field names are
case-sensitive and the store maps `ProcessID`/`ProcessId` to distinct columns, which a
case-insensitive analyser would call ambiguous. All times are UTC.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import weakref
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from splhunt.compile.compiler import Base, Capabilities, Plan
from splhunt.compile.stage import MV, NUM, FieldInfo
from splhunt.engines.duckdb import format_value
from splhunt.engines.store import Store
from splhunt.errors import EngineError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_JSON = "splhunt's JSON functions are written for DuckDB's JSON type; not translated to Spark yet"

#: What the Spark engine refuses by name (DuckDB runs it): command or `function()` -> why.
SPARK_REFUSED: dict[str, str] = {
    **{f"{f}()": _JSON for f in ("spath", "json_extract", "json_keys", "json_object", "json_array", "json_valid")},
    "spath": _JSON,
    "fromjson": _JSON,
}

CAPS = Capabilities(
    dialect="spark", re2_only=False, pcre_udf=False, replace_backref="$", time_format="java",
    percentile="percentile", refused=SPARK_REFUSED, ngram_join=False,
)

#: SQL settings every splhunt Spark session runs with (they are per-session confs).
SESSION_CONF: dict[str, str] = {
    "spark.sql.caseSensitive": "true",
    "spark.sql.session.timeZone": "UTC",
    # Splunk's eval never fails on data: a value that does not convert is null. The
    # compiler asks for TRY_ forms where sqlglot has them; non-ANSI mode covers the rest
    # (to_timestamp, division by zero) the way DuckDB's TRY_/NULLIF forms do.
    "spark.sql.ansi.enabled": "false",
    # ... but size(NULL) must stay NULL, as DuckDB's array_length gives (non-ANSI Spark
    # returns -1, and `sequence(1, size(x))` would then invent values)
    "spark.sql.legacy.sizeOfNull": "false",
}

#: Extra settings for the shared session splhunt builds itself (not for one handed in).
BUILDER_CONF: dict[str, str] = {
    **SESSION_CONF,
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    # every query's plan description is kept for the (disabled) UI: hundreds of large
    # detection plans filled the default 1g driver heap (OutOfMemoryError, then
    # "Connection refused" for every later search in `coverage --engine spark`)
    "spark.sql.ui.retainedExecutions": "20",
    "spark.ui.retainedJobs": "50",
    "spark.ui.retainedStages": "50",
}

def _ram_gb() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 30)
    except (ValueError, OSError, AttributeError):  # not POSIX
        return 6


#: Small local runs do not need Spark's 200 shuffle partitions.
LOCAL_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    # local mode: driver and executor share one JVM. A third of the machine's memory,
    # at least 2g: a hunt over ~470k events (565 knowledge columns) ran 2g out of heap
    "spark.driver.memory": f"{max(2, _ram_gb() // 3)}g",
    # smaller input splits: a wide row group held by each of the local cores at once
    "spark.sql.files.maxPartitionBytes": str(32 << 20),
}

#: Stores up to this many events go to Spark through Arrow (no files, no schema job).
ARROW_MAX_ROWS = 50_000

_lock = threading.Lock()
_shared: SparkSession | None = None


def _spark_defaults() -> dict[str, str]:
    """Settings of `spark-defaults.conf` in `SPARK_CONF_DIR`, else `SPARK_HOME/conf`."""
    dirs = [os.environ.get("SPARK_CONF_DIR"), os.path.join(os.environ["SPARK_HOME"], "conf") if os.environ.get("SPARK_HOME") else None]
    for d in dirs:
        path = os.path.join(d, "spark-defaults.conf") if d else None
        if path and os.path.isfile(path):
            out: dict[str, str] = {}
            with open(path, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if line and not line.startswith("#"):
                        key, _, value = line.partition(" ") if " " in line else line.partition("=")
                        out[key.strip()] = value.strip().lstrip("=").strip()
            return out
    return {}


def default_master() -> str:
    """The master URL when none is given: `SPLHUNT_SPARK_MASTER`, else `SPARK_MASTER`,
    else `spark.master` of `spark-defaults.conf` (`SPARK_CONF_DIR`, else
    `SPARK_HOME/conf`), else the master `spark-submit` set for this process, else
    `local[*]`."""
    for var in ("SPLHUNT_SPARK_MASTER", "SPARK_MASTER"):
        if os.environ.get(var):
            return os.environ[var]
    conf = _spark_defaults().get("spark.master")
    if conf:
        return conf
    submit = os.environ.get("PYSPARK_SUBMIT_ARGS", "")  # set by spark-submit/pyspark: --master X
    parts = submit.split()
    if "--master" in parts[:-1]:
        return parts[parts.index("--master") + 1]
    return "local[*]"


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> SparkSession:
    """The process-wide SparkSession splhunt uses (created on first call).

    Args:
        master: a Spark master URL (`local[*]`, `spark://host:7077`, `yarn`, ...);
            defaults to `default_master()`. Ignored when a session already runs (Spark
            allows one SparkContext per process; under spark-submit, or in a Databricks
            notebook, the running session is used as it is).
        conf: extra Spark settings for the builder.
    """
    global _shared
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - depends on the install
        raise EngineError("the Spark engine needs pyspark: pip install 'splhunt[spark]'") from e
    with _lock:
        if _shared is not None and not _is_stopped(_shared):
            return _shared
        active = SparkSession.getActiveSession()
        if active is not None and master is None:  # spark-submit, pyspark shell, notebooks
            _shared = active
            return _shared
        builder = SparkSession.builder.appName("splhunt")
        if master is None and os.environ.get("PYSPARK_GATEWAY_PORT") and not os.environ.get("SPLHUNT_SPARK_MASTER"):
            # started by spark-submit: its --master (and confs) are in the JVM already
            master = ""
        else:
            master = master or default_master()
            builder = builder.master(master)
        defaults = _spark_defaults()
        local = {k: v for k, v in LOCAL_CONF.items() if k not in defaults} if master.startswith("local") else {}
        if master.startswith("local") and not os.environ.get("PYSPARK_PYTHON") and "spark.pyspark.python" not in defaults:
            # local Python workers (ingest on Spark) run this interpreter, which has
            # splhunt (the spark.pyspark.python conf lost the virtualenv: Spark resolved
            # the venv's python symlink to the base interpreter)
            os.environ["PYSPARK_PYTHON"] = sys.executable
        settings = {**BUILDER_CONF, **local, **(conf or {})}
        for k, v in settings.items():
            builder = builder.config(k, v)
        try:
            _shared = builder.getOrCreate()
        except Exception as e:  # noqa: BLE001 - Java missing, bad master URL, ...
            raise EngineError(f"could not start Spark ({master or 'spark-submit'}): {e}") from e
        _shared.sparkContext.setLogLevel("ERROR")
        return _shared


def _is_stopped(spark: SparkSession) -> bool:
    try:
        return spark.sparkContext._jsc is None  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return True


def _is_local(spark: SparkSession) -> bool:
    return spark.sparkContext.master.startswith("local")


class SparkEngine:
    """Runs compiled plans on Spark over the events of a DuckDB `Store`."""

    name = "spark"
    caps = CAPS

    def __init__(self, store: Store, spark: SparkSession | None = None, *, master: str | None = None,
                 parquet: str | None = None, parquet_meta: dict[str, Any] | None = None):
        """`spark`: a running SparkSession (default: `spark_session(master)`).
        `parquet`: read events from this Parquet layout (`splhunt.engines.parquet`)
        instead of the DuckDB store, which then only serves the field registry and the
        (source, sourcetype) pairs to the compiler."""
        root = spark or spark_session(master)
        self.spark = root.newSession()
        for k, v in SESSION_CONF.items():
            self.spark.conf.set(k, v)
        self.store = store
        self._loaded = -1
        self._fields: dict[str, FieldInfo] = {}
        self._tmp: str | None = None
        #: materialised views (local checkpoints) by name
        self._cached: dict[str, Any] = {}
        self._external = False  # events read from elsewhere (Parquet), not from the store
        self._finalizer = weakref.finalize(self, _cleanup, [None])
        if parquet is not None:
            self.load_parquet(parquet, parquet_meta)

    # -- loading ------------------------------------------------------------------------
    def load_store(self, store: Store | None = None, *, via: str | None = None) -> None:
        """Make `store`'s events and field registry Spark temp views `events`/`_fields`.

        Args:
            store: the DuckDB store (default: the engine's own).
            via: "parquet" (DuckDB writes Parquet to a temp dir Spark reads; needs a
                local master or a shared filesystem) or "arrow" (rows go through the
                driver). Default: arrow for small stores or a cluster master, else parquet.
        """
        store = store or self.store
        self.store = store
        if via is None:
            n = store.con.cursor().execute("SELECT count(*) FROM events").fetchall()[0][0]
            small = n <= ARROW_MAX_ROWS
            via = "arrow" if small or not _is_local(self.spark) else "parquet"
        if via == "parquet":
            tmp = tempfile.mkdtemp(prefix="splhunt-spark-")
            events_path = os.path.join(tmp, "events.parquet")
            fields_path = os.path.join(tmp, "fields.parquet")
            cur = store.con.cursor()  # the store's connection may hold an open result
            # small row groups: Spark splits input by row group, and a wide event row is large
            cur.execute(f"COPY events TO '{_sqlstr(events_path)}' (FORMAT PARQUET, ROW_GROUP_SIZE 16384)")
            cur.execute(f"COPY _fields TO '{_sqlstr(fields_path)}' (FORMAT PARQUET)")
            events = self.spark.read.parquet(events_path)
            fields = self.spark.read.parquet(fields_path)
            old, self._tmp = self._tmp, tmp
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, _cleanup, [tmp])
            if old:
                shutil.rmtree(old, ignore_errors=True)
        elif via == "arrow":
            events = self._from_arrow(_arrow(store, "events"))
            fields = self._from_arrow(_arrow(store, "_fields"))
        else:
            raise EngineError(f"load_store via={via!r}: use 'parquet' or 'arrow'")
        self.register(events, {f: FieldInfo(fc.col, fc.kind) for f, fc in store.fields.items()}, fields)
        self._loaded = store.version

    def load_parquet(self, uri: str, meta: dict[str, Any] | None = None) -> None:
        """Read the events of a Parquet layout (`splhunt.engines.parquet`) straight into
        Spark (any URI the cluster reads: s3a://, abfss://, dbfs:/, hdfs://, paths)."""
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        from splhunt.engines.parquet import EVENTS, FIELDS, read_sidecar

        meta = meta or read_sidecar(uri)
        fields = {f["field"]: FieldInfo(f["col"], f["kind"]) for f in meta["fields"]}
        base = uri.rstrip("/")
        if meta["events"]:
            # values come from the files (they hold the partition columns too), so no
            # directory name is decoded; `date` is layout only and is left out
            df = self.spark.read.option("recursiveFileLookup", "true").parquet(f"{base}/{EVENTS}")
            events = df.select(*[F.col("`" + fi.col.replace("`", "``") + "`") for fi in fields.values()])
        else:
            def sql_type(f: str, kind: str) -> Any:
                if f == "_time" or kind == NUM:
                    return T.DoubleType()
                return T.ArrayType(T.StringType()) if kind == MV else T.StringType()

            schema = T.StructType([T.StructField(fi.col, sql_type(f, fi.kind)) for f, fi in fields.items()])
            events = self.spark.createDataFrame([], schema)
        self.register(events, fields, self.spark.read.parquet(f"{base}/{FIELDS}"))
        self._external = True

    def _from_arrow(self, table: Any) -> DataFrame:
        try:
            return self.spark.createDataFrame(table)
        except Exception:  # noqa: BLE001 - pyspark < 4 takes pandas, not Arrow
            return self.spark.createDataFrame(table.to_pandas())

    def register(self, events: DataFrame, fields: dict[str, FieldInfo], registry: DataFrame | None = None) -> None:
        """Use a DataFrame (one column per registry entry) as the `events` relation."""
        self._drop_cached()
        events.createOrReplaceTempView("events")
        if registry is not None:
            registry.createOrReplaceTempView("_fields")
        self._fields = dict(fields)

    def register_table(self, name: str, table: Any) -> None:
        """Create (or replace) temp view `name` from an Arrow table (lookup tables)."""
        self._from_arrow(table).createOrReplaceTempView(name)

    def _sync(self) -> None:
        if not self._external and self._loaded != self.store.version:
            self.load_store()

    # -- the engine interface -----------------------------------------------------------
    def base(self) -> Base:
        """The raw event view as the pipeline's base relation."""
        self._sync()
        return Base(exp.to_table(exp.to_identifier("events", quoted=True)), dict(self._fields))

    def materialize_view(self, base: Base, name: str) -> Base:
        """The knowledge view, computed once: all of it (DuckDB's narrow form reads rows
        by position, which Spark does not keep)."""
        return self.materialize(base, name, temp=True)

    def materialize(self, base: Base, name: str, *, temp: bool = False) -> Base:
        """Compute a base relation (with its CTEs) once, cache it, and return a Base over it
        (always session-local here: `temp` is accepted for the engines' common signature)."""
        self._sync()
        query = exp.select(
            *[exp.column(exp.to_identifier(fi.col, quoted=True)) for fi in base.fields.values()]
        ).from_(base.relation)
        for cte_name, q in base.ctes:
            query = query.with_(exp.to_identifier(cte_name, quoted=True), as_=q)
        sql = spark_sql(query)
        try:
            # a local checkpoint, not CACHE TABLE: the view then reads stored rows and
            # carries no plan, where a cached view kept the knowledge view's plan (565
            # columns of CASE) that every later query re-analysed and matched against
            # the cache (about 10 s per search)
            df = self.spark.sql(sql).localCheckpoint(eager=True)
        except Exception as e:  # noqa: BLE001 - pyspark raises many kinds
            raise EngineError(f"Spark failed to build {name}: {_short(e)}\nSQL: {sql[:2000]}") from e
        old = self._cached.pop(name, None)
        if old is not None:
            _release(old)
        df.createOrReplaceTempView(name)
        self._cached[name] = df
        out = Base(exp.Table(this=exp.to_identifier(name, quoted=True)), dict(base.fields))
        out.notes = getattr(base, "notes", [])  # type: ignore[attr-defined]
        return out

    def execute(self, plan: Plan) -> tuple[list[str], list[dict[str, Any]]]:
        query, steps = split_shared_ctes(plan.query)
        views: list[tuple[str, Any]] = []
        sql = ""
        try:
            for name, step in steps:
                # a CTE read twice is computed once (Spark inlines CTEs: a chain of
                # lookups, each joining its input back, doubled the plan per step, and
                # ROW_NUMBER() over arrival order gave each copy other numbers)
                sql = spark_sql(step)
                df = self.spark.sql(sql).localCheckpoint(eager=True)
                df.createOrReplaceTempView(name)
                views.append((name, df))
            sql = spark_sql(query)
            rows = self.spark.sql(sql).collect()
        except Exception as e:  # noqa: BLE001
            raise EngineError(f"Spark failed: {_short(e)}\nSQL: {sql[:2000]}") from e
        finally:
            for name, df in views:
                self._drop_view(name, df)
        names = list(plan.fields)
        kinds = [fi.kind for fi in plan.fields.values()]
        out = [
            {n: format_value(v, k) for n, v, k in zip(names, tuple(row), kinds, strict=True)}
            for row in rows
        ]
        return names, out

    def _drop_view(self, name: str, df: Any) -> None:
        """Drop a checkpointed temp view and free its blocks (never raises: it runs in
        `finally` and must not hide the error being raised)."""
        try:
            self.spark.catalog.dropTempView(name)
        except Exception:  # noqa: BLE001 - session already gone
            pass
        _release(df)

    def _drop_cached(self) -> None:
        for name, df in self._cached.items():
            self._drop_view(name, df)
        self._cached.clear()

    def close(self) -> None:
        self._drop_cached()
        self._finalizer()


_step_ids = iter(range(1, 1 << 62))


def split_shared_ctes(query: exp.Select) -> tuple[exp.Select, list[tuple[str, exp.Select]]]:
    """Split off the CTEs that are read more than once, as steps to compute first.

    Returns the query to run last (reading each split CTE as a temp view) and the
    `(view name, query)` steps in dependency order. Each step carries the earlier CTEs
    it may read, minus those already split off.
    """
    key = "with_" if "with_" in query.args else "with"  # sqlglot >= 30 names it with_
    with_ = query.args.get(key)
    if not with_:
        return query, []
    ctes = list(with_.expressions)
    names = {c.alias_or_name for c in ctes}
    refs: dict[str, int] = dict.fromkeys(names, 0)
    for node in query.walk():
        name = _relation_name(node)
        if name in refs:
            refs[name] += 1
    shared = [c.alias_or_name for c in ctes if refs[c.alias_or_name] >= 2]
    if not shared:
        return query, []
    rename = {n: f"__spl_step{next(_step_ids)}_{n}" for n in shared}

    def swap(node: exp.Expression) -> exp.Expression:
        name = _relation_name(node)
        if name not in rename:
            return node
        # keep the old name as the alias: columns qualified with it still resolve
        alias = node.args.get("alias") if isinstance(node, exp.Table) else None
        alias = alias.copy() if alias else exp.TableAlias(this=exp.to_identifier(name, quoted=True))
        return exp.Table(this=exp.to_identifier(rename[name], quoted=True), alias=alias)

    steps: list[tuple[str, exp.Select]] = []
    kept: list[exp.CTE] = []
    for cte in ctes:
        name = cte.alias_or_name
        body = cte.this.transform(swap)
        if name in rename:
            step = exp.select("*").from_(body.subquery(exp.to_identifier(name, quoted=True)))
            for k in kept:
                step = step.with_(exp.to_identifier(k.alias_or_name, quoted=True), as_=k.this, copy=False)
            steps.append((rename[name], step))
        else:
            kept.append(exp.CTE(this=body, alias=cte.args["alias"].copy()))
    final = query.copy()
    final.set(key, None)
    final = final.transform(swap)
    for k in kept:
        final = final.with_(exp.to_identifier(k.alias_or_name, quoted=True), as_=k.this, copy=False)
    return final, steps


def _relation_name(node: exp.Expression) -> str | None:
    """The name a FROM/JOIN reads: a bare `Table`, or an identifier the compiler put
    straight under `From`/`Join`."""
    if isinstance(node, exp.Table) and not node.args.get("db") and isinstance(node.this, exp.Identifier):
        return node.name
    if isinstance(node, exp.Identifier) and isinstance(node.parent, exp.From | exp.Join) and node.arg_key == "this":
        return node.name
    return None


def _release(df: Any) -> None:
    """Free the blocks of a local checkpoint now, not at the JVM's next GC."""
    try:
        df._jdf.logicalPlan().rdd().unpersist(False)  # noqa: SLF001
    except Exception:  # noqa: BLE001 - another plan shape: left to Spark's cleaner
        pass


def _arrow(store: Store, table: str) -> Any:
    rel = store.con.cursor().sql(f"SELECT * FROM {table}")
    fetch = getattr(rel, "to_arrow_table", None) or rel.fetch_arrow_table  # duckdb < 1.4
    return fetch()


def spark_sql(query: exp.Expression) -> str:
    """`query` as Spark SQL, after the rewrites sqlglot does not make:

    - a ROW_NUMBER() without ORDER BY (DuckDB numbers rows as they come; Spark demands
      an order) is ordered by monotonically_increasing_id(), the order rows come in;
    - a WHERE/HAVING condition is not wrapped in parentheses: outside ANSI mode WHERE
      is not a reserved word, so Spark reads `FROM s2 WHERE (FALSE)` as table `s2`
      aliased `WHERE` with a column alias list (ASSIGNMENT_ARITY_MISMATCH);
    - a list aggregate (COLLECT_LIST) over no values is null, as DuckDB's LIST is
      (Spark gives an empty array, which `fillnull`, `isnull` and `coalesce` would
      then take for a value).
    """

    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber) and not node.args.get("order"):
            node = node.copy()
            arrival = exp.Anonymous(this="monotonically_increasing_id", expressions=[])
            node.set("order", exp.Order(expressions=[exp.Ordered(this=arrival)]))
        elif isinstance(node, exp.Where | exp.Having) and isinstance(node.this, exp.Paren):
            node = node.copy()
            node.set("this", node.this.this)
        return node

    q = query.transform(fix)
    for agg in list(q.find_all(exp.ArrayAgg)):
        unit: exp.Expression = agg
        while isinstance(unit.parent, exp.Filter | exp.Window) and unit.arg_key == "this":
            unit = unit.parent
        empty = exp.EQ(this=exp.ArraySize(this=unit.copy()), expression=exp.Literal.number(0))
        unit.replace(exp.If(this=empty, true=exp.Null(), false=unit.copy()))
    return q.sql("spark")


def _cleanup(paths: list[str | None]) -> None:
    for p in paths:
        if p:
            shutil.rmtree(p, ignore_errors=True)


def _sqlstr(s: str) -> str:
    return s.replace("'", "''")


def _short(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


__all__ = ["CAPS", "MV", "NUM", "SparkEngine", "spark_session"]
