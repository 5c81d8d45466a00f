"""The DuckDB engine: runs compiled plans over a `Store`.

It registers the `splhunt_re_*` functions that give DuckDB the PCRE features RE2
lacks (lookaround, backreferences); they are vectorised over Arrow batches and only
used for patterns RE2 cannot run.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from splhunt.compile.compiler import Base, Capabilities, Plan
from splhunt.compile.stage import MV, NUM, FieldInfo
from splhunt.engines.store import Store
from splhunt.errors import EngineError

CAPS = Capabilities(dialect="duckdb", re2_only=True, pcre_udf=True, replace_backref="\\", python_udf=True)


@lru_cache(maxsize=512)
def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _py_repl(repl: str) -> str:
    # Splunk replacement text: \1..\9 are groups; other characters are literal
    return repl


def _re_replace(s: pa.Array, p: pa.Array, r: pa.Array) -> pa.Array:
    vals = s.to_pylist()
    pats = p.to_pylist()
    reps = r.to_pylist()
    out = []
    for v, pat, rep in zip(vals, pats, reps, strict=True):
        if v is None or pat is None or rep is None:
            out.append(None)
            continue
        out.append(_rx(pat).sub(rep, v))
    return pa.array(out, pa.string())


def _re_match(s: pa.Array, p: pa.Array) -> pa.Array:
    vals = s.to_pylist()
    pats = p.to_pylist()
    return pa.array(
        [None if v is None or pat is None else _rx(pat).search(v) is not None for v, pat in zip(vals, pats, strict=True)],
        pa.bool_(),
    )


def _re_extract(s: pa.Array, p: pa.Array, g: pa.Array) -> pa.Array:
    out = []
    for v, pat, grp in zip(s.to_pylist(), p.to_pylist(), g.to_pylist(), strict=True):
        if v is None or pat is None:
            out.append(None)
            continue
        m = _rx(pat).search(v)
        out.append(None if m is None else m.group(grp))
    return pa.array(out, pa.string())


_GEO_KEYS = {
    "City": ("city",),
    "Country": ("country",),
    "Region": ("subdivisions",),
    "Continent": ("continent",),
}


@lru_cache(maxsize=8)
def _geo_reader(path: str):  # noqa: ANN202
    import maxminddb

    return maxminddb.open_database(path)


@lru_cache(maxsize=65536)
def _geo_lookup(path: str, ip: str) -> dict | None:
    try:
        return _geo_reader(path).get(ip)
    except ValueError:  # not an IP address
        return None


def _geo_field(rec: dict | None, name: str) -> str | None:
    if not rec:
        return None
    loc = rec.get("location") or {}
    if name == "lat":
        v = loc.get("latitude")
    elif name == "lon":
        v = loc.get("longitude")
    elif name == "Timezone":
        v = loc.get("time_zone")
    elif name == "MetroCode":
        v = loc.get("metro_code")
    elif name == "Region":
        subs = rec.get("subdivisions") or []
        v = (subs[0].get("names") or {}).get("en") if subs else None
    else:
        v = ((rec.get(_GEO_KEYS[name][0]) or {}).get("names") or {}).get("en")
    return None if v is None or v == "" else str(v)


def _geoip(ip: pa.Array, path: pa.Array, name: pa.Array) -> pa.Array:
    return pa.array(
        [
            None if i is None or p is None else _geo_field(_geo_lookup(p, i), n)
            for i, p, n in zip(ip.to_pylist(), path.to_pylist(), name.to_pylist(), strict=True)
        ],
        pa.string(),
    )


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Register splhunt's helper functions on a connection (idempotent)."""
    try:
        from duckdb.sqltypes import BIGINT, BOOLEAN, VARCHAR
    except ImportError:  # duckdb < 1.4
        from duckdb.typing import BIGINT, BOOLEAN, VARCHAR  # type: ignore[no-redef]

    specs = [
        ("splhunt_re_replace", _re_replace, [VARCHAR, VARCHAR, VARCHAR], VARCHAR),
        ("splhunt_re_match", _re_match, [VARCHAR, VARCHAR], BOOLEAN),
        ("splhunt_re_extract", _re_extract, [VARCHAR, VARCHAR, BIGINT], VARCHAR),
        ("splhunt_geoip", _geoip, [VARCHAR, VARCHAR, VARCHAR], VARCHAR),
    ]
    for name, fn, params, ret in specs:
        try:
            con.create_function(name, fn, params, ret, type="arrow", null_handling="special")
        except (duckdb.CatalogException, duckdb.NotImplementedException):
            pass  # already registered on this connection (another engine over the same store)


def format_value(v: Any, kind: str) -> Any:
    """A SQL value as Splunk shows it: integral numbers without `.0`, lists for mv."""
    if v is None:
        return None
    if kind == NUM and isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    if kind == MV and isinstance(v, list):
        return [x for x in v if x is not None] or None
    return v


#: the in-memory, compressed database that holds tables rebuilt by every session
SCRATCH_DB = "splhunt_scratch"


class SharedLock:
    """A lock held by many at once (`shared`) or by one thread alone (`exclusive`, which
    that thread may take again inside itself). An exclusive taker waits for the shared
    holders to finish; new shared takers wait while it holds the lock."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shared = 0
        self._owner: int | None = None
        self._depth = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            while self._owner is not None and self._owner != me:
                self._cond.wait()
            self._shared += 1
        try:
            yield
        finally:
            with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
            else:
                while self._owner is not None or self._shared:
                    self._cond.wait()
                self._owner, self._depth = me, 1
        try:
            yield
        finally:
            with self._cond:
                self._depth -= 1
                if not self._depth:
                    self._owner = None
                    self._cond.notify_all()


class DuckDBEngine:
    name = "duckdb"
    caps = CAPS

    def __init__(self, store: Store):
        self.store = store
        self.con = store.con
        register_functions(self.con)
        #: shared by the `Worker`s while they run plans, held alone while this engine
        #: builds a table: a table is never built (and checkpointed) under a running query
        self.lock = SharedLock()

    def worker(self) -> Worker | None:
        """A `Worker` running plans on a second connection to the store, or None when the
        store's connection is inside a transaction (the second would not see its work)."""
        if self.store.in_transaction():
            return None
        return Worker(self)

    def base(self) -> Base:
        """The raw event table as the pipeline's base relation."""
        fields = {f: FieldInfo(fc.col, fc.kind) for f, fc in self.store.fields.items()}
        return Base(exp.to_table(exp.to_identifier("events", quoted=True)), fields)

    def register_table(self, name: str, table: pa.Table) -> None:
        """Create (or replace) table `name` from an Arrow table."""
        with self.lock.exclusive():
            self._register_table(name, table)

    def _register_table(self, name: str, table: pa.Table) -> None:
        self.con.register("__splhunt_arrow", table)
        try:
            self.con.execute(
                exp.Create(
                    this=exp.Table(this=exp.to_identifier(name, quoted=True)), kind="TABLE", replace=True,
                    expression=exp.select("*").from_("__splhunt_arrow"),
                ).sql("duckdb")
            )
        finally:
            self.con.unregister("__splhunt_arrow")

    def materialize(self, base: Base, name: str, *, temp: bool = False, streamed: bool = False) -> Base:
        """Run a base relation (with its CTEs) into a table and return a Base over it.

        `temp`: a table that is never written to the store's file, for tables every
        session builds again (the knowledge view, the data model datasets). It goes to
        an in-memory database attached with compression (`SCRATCH_DB`) and is compressed
        once built. Measured on the knowledge view of 290k events: 17 s and 2.5 GB as a
        plain temporary table, 25 s and 0.6 GB here, 29 s in the store's file.

        `streamed`: read the query's rows in order as Arrow batches and append them (see
        `_create_streamed`); for a large table that must keep the rows' order."""
        with self.lock.exclusive():
            return self._materialize(base, name, temp=temp, streamed=streamed)

    def _materialize(self, base: Base, name: str, *, temp: bool, streamed: bool) -> Base:
        query = exp.select(*[exp.column(exp.to_identifier(fi.col, quoted=True)) for fi in base.fields.values()]).from_(base.relation)
        for cte_name, q in base.ctes:
            query = query.with_(exp.to_identifier(cte_name, quoted=True), as_=q)
        db = exp.to_identifier(SCRATCH_DB, quoted=True) if temp else None
        table = exp.Table(this=exp.to_identifier(name, quoted=True), db=db)
        sql = exp.Create(this=table, kind="TABLE", expression=query, replace=True).sql("duckdb")
        try:
            if temp:
                self._attach_scratch()
            # a second connection would not see this one's open transaction
            in_txn = self.store.in_transaction()
            if streamed and not in_txn:
                self._create_streamed(table.sql("duckdb"), query.sql("duckdb"))
            else:
                self.con.execute(sql)
            if temp and not in_txn:
                # in-memory tables are compressed when checkpointed, not as they are written
                # (DuckDB refuses a checkpoint inside a transaction that wrote: left as is)
                self.con.execute(f'CHECKPOINT "{SCRATCH_DB}"')
        except duckdb.Error as e:
            raise EngineError(f"DuckDB failed to build {name}: {e}") from e
        out = Base(table.copy(), dict(base.fields))
        out.notes = getattr(base, "notes", [])  # type: ignore[attr-defined]
        return out

    #: Rows per Arrow batch of `_create_streamed` (one DuckDB row group).
    STREAM_ROWS = 122_880

    def _create_streamed(self, table: str, query: str) -> None:
        """Create `table` from `query`'s rows, read in order as Arrow batches on a second
        connection and appended on this one (so not inside a transaction of this one,
        which the second would not see: `materialize` checks).

        Why: with ``preserve_insertion_order`` on, DuckDB's ``CREATE TABLE AS`` holds
        back out-of-order batches, and when memory is short it lets one thread run; the
        knowledge view of 469k events took 18-20 s with a 2 GB limit (CPU time = wall
        time) against 11 s with 6 GB. Streamed, the query keeps both threads: 14-16 s,
        peak RSS +120 MB."""
        reading = self.con.cursor()
        try:
            reader = reading.sql(query).to_arrow_reader(self.STREAM_ROWS)
            self.con.register("__splhunt_stream", pa.Table.from_batches([], schema=reader.schema))
            self.con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM __splhunt_stream")
            for batch in reader:
                self.con.register("__splhunt_stream", batch)
                self.con.execute(f"INSERT INTO {table} SELECT * FROM __splhunt_stream")
        finally:
            self.con.unregister("__splhunt_stream")
            reading.close()

    def materialize_view(self, base: Base, name: str) -> Base:
        """Materialise the knowledge view, storing only the fields its layers set.

        Most of the view's fields are raw ones passed through unchanged (over
        ../shared/data: 747 of 913; its layers set 166, 16 of them raw fields they
        override), and writing a wide table costs DuckDB per column: at 1M events
        the view's `CREATE TABLE AS` took 77-108 s while computing it took ~22 s. So only
        the derived fields, and the events' row id, go to a scratch table (`name`), and
        the view is read as ``events POSITIONAL JOIN <name>``: row i of one is row i of
        the other, since the table is written from one ordered scan of ``events``
        (``preserve_insertion_order``). The row ids are compared once after the build;
        if any differs (or the setting is off), the whole view is materialised instead.
        So is a base without `derived` (or without layers), and one whose ``events`` is
        not a table (a Parquet layout's view has no row id)."""
        with self.lock.exclusive():
            return self._materialize_view(base, name)

    def _materialize_view(self, base: Base, name: str) -> Base:
        derived = getattr(base, "derived", None)
        ordered, table_ = self.con.execute(
            "SELECT current_setting('preserve_insertion_order'), (SELECT count(*) FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = current_schema() "
            "AND table_name = 'events')"
        ).fetchall()[0]
        if derived is None or not base.ctes or not ordered or not table_:
            return self.materialize(base, name, temp=True)
        rid = exp.to_identifier("__rid", quoted=True)
        ctes = []
        for cte_name, q in base.ctes:
            src = q.args["from_"].this
            if src.name == "events" and not (isinstance(src, exp.Table) and src.db):
                ctes.append((cte_name, q.copy().select(exp.alias_(exp.column("rowid"), rid, copy=False), copy=False)))
            else:
                ctes.append((cte_name, q.copy().select(exp.column(rid.copy()), copy=False)))
        keep = {f: fi for f, fi in base.fields.items() if f in derived}
        narrow = self.materialize(Base(base.relation, {**keep, "__rid": FieldInfo("__rid", NUM)}, ctes), name, temp=True,
                                  streamed=True)
        table = narrow.relation
        check = (
            f'SELECT count(*) FROM "events" POSITIONAL JOIN {table.sql("duckdb")} AS "k" '
            'WHERE "events".rowid IS DISTINCT FROM "k"."__rid"'
        )
        if self.con.execute(check).fetchall()[0][0]:
            return self.materialize(base, name, temp=True)
        e, k = exp.to_identifier("e"), exp.to_identifier("k")
        proj = [
            exp.column(exp.to_identifier(fi.col, quoted=True), table=k if f in keep else e)
            for f, fi in base.fields.items()
        ]
        rel = exp.select(*proj, copy=False).from_(exp.to_table('"events"').as_(e, copy=False), copy=False)
        rel.append("joins", exp.Join(this=exp.alias_(table.copy(), k, table=True, copy=False), method="POSITIONAL"))
        # a view by name: each search's SQL names it instead of carrying ~900 columns; in
        # the scratch database (gone with the connection, as a temporary view would be),
        # where a `Worker`'s connection sees it too
        view = exp.to_identifier(f"{name}_view", quoted=True)
        scratch = exp.to_identifier(SCRATCH_DB, quoted=True)
        self.con.execute(exp.Create(this=exp.Table(this=view, db=scratch), kind="VIEW", expression=rel,
                                    replace=True).sql("duckdb"))
        # A search reads only some fields: binding this ~1,000-column view cost ~9 ms per
        # search at 469k events, against <1 ms for the two tables it joins (`restrict`).
        out = Base(exp.Table(this=view.copy(), db=scratch.copy()), dict(base.fields), positional=[
            (exp.to_table('"events"'), [f for f in base.fields if f not in keep]),
            (table.copy(), list(keep)),
        ])
        out.notes = getattr(base, "notes", [])  # type: ignore[attr-defined]
        return out

    def _attach_scratch(self) -> None:
        """Attach `SCRATCH_DB` unless it is attached: compressed where this DuckDB takes
        `COMPRESS` for in-memory databases, else as a plain in-memory one."""
        try:
            self.con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS \"{SCRATCH_DB}\" (COMPRESS)")
        except duckdb.Error:
            self.con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS \"{SCRATCH_DB}\"")

    def execute(self, plan: Plan, con: duckdb.DuckDBPyConnection | None = None) -> tuple[list[str], list[dict[str, Any]]]:
        """Run `plan` (on `con`, default the store's connection): column names and rows."""
        sql = plan.sql("duckdb")
        try:
            cur = (con or self.con).execute(sql)
            rows = cur.fetchall()
        except duckdb.Error as e:
            raise EngineError(f"DuckDB failed: {e}\nSQL: {sql[:2000]}") from e
        names = list(plan.fields)
        kinds = [fi.kind for fi in plan.fields.values()]
        out = [
            {n: format_value(v, k) for n, v, k in zip(names, row, kinds, strict=True)}
            for row in rows
        ]
        return names, out


class Worker:
    """Runs plans of a `DuckDBEngine` on a second connection (a DuckDB cursor), so that one
    thread can run a query while another plans the next search or builds findings.

    The cursor gets what the store's connection has per connection: the time zone, the
    progress bar setting and splhunt's functions. Tables, attached databases and
    settings of the database (memory limit, spill folder) are shared. While a plan runs,
    the engine's lock is held: the engine builds no table under it."""

    def __init__(self, engine: DuckDBEngine):
        self.engine = engine
        self.con = engine.con.cursor()
        self.con.execute("SET TimeZone='UTC'")
        self.con.execute("SET enable_progress_bar=false")
        register_functions(self.con)

    def execute(self, plan: Plan) -> tuple[list[str], list[dict[str, Any]]]:
        with self.engine.lock.shared():
            return self.engine.execute(plan, self.con)

    def interrupt(self) -> None:
        self.con.interrupt()

    def close(self) -> None:
        self.con.close()
