"""The DuckDB event store: one wide table `events`, one column per Splunk field.

Splunk field names are case-sensitive (`ProcessID` from `<Execution>` and `ProcessId`
from EventData are two fields) but DuckDB and Spark identifiers are not. The store
therefore keeps a registry, table `_fields(field, col, type)`, mapping each field to a
distinct column name: the field's own name when no other field shares its lower-case
form, otherwise the name with a `~N` suffix. Every reader of the store goes through
the registry; nothing assumes field == column.

Raw fields are VARCHAR. A field that carries several values in one event (Splunk
MV_ADD extractions) is a VARCHAR[] column; a column that turns multivalue in a later
batch is widened, scalars becoming one-element lists.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from splhunt.compile.stage import allocate

#: Columns every event has, in this order, with their SQL types.
CORE_FIELDS: dict[str, str] = {
    "_time": "DOUBLE",
    "_raw": "VARCHAR",
    "host": "VARCHAR",
    "source": "VARCHAR",
    "sourcetype": "VARCHAR",
    "index": "VARCHAR",
}

STR = "str"
MV = "mv"
NUM = "num"


@dataclass(frozen=True)
class FieldCol:
    """Where a field lives: its column name and its kind (str, mv or num)."""

    field: str
    col: str
    kind: str


def allocate_column(field: str, taken_lower: set[str]) -> str:
    """A column name for `field` that no existing column shares case-insensitively."""
    return allocate(field, taken_lower)


def _s(v: Any) -> str | None:
    """A field value as Splunk stores it: text."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


_MV_TYPE = pa.list_(pa.string())


def _to_arrow(values: Any, kind: str) -> pa.Array:
    """One column of a batch as the Arrow array its store column takes."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        t = values.type
        if kind == NUM:
            return values if t == pa.float64() else values.cast(pa.float64())
        if kind == MV:
            if t == _MV_TYPE:
                return values
            if pa.types.is_null(t):
                return pa.nulls(len(values), _MV_TYPE)
            if pa.types.is_list(t) or pa.types.is_large_list(t):
                return values.cast(_MV_TYPE)
            values = values.to_pylist()
        elif pa.types.is_string(t):
            return values
        elif pa.types.is_null(t):
            return pa.nulls(len(values), pa.string())
        else:
            values = values.to_pylist()
    if kind == NUM:
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if kind == MV:
        return pa.array(
            [None if v is None else [_s(x) for x in v] if isinstance(v, list) else [_s(v)] for v in values],
            _MV_TYPE,
        )
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([_s(v) for v in values], pa.string())


#: Environment variable bounding DuckDB's memory (e.g. ``4GB``); unset: DuckDB's default,
#: 80% of RAM. Past it DuckDB writes blocks to its temporary folder.
MEMORY_ENV = "SPLHUNT_MEMORY_LIMIT"


def configure_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Where DuckDB spills and how much memory it may use.

    An in-memory database spills to ``temp_directory``, by default ``.tmp`` in the
    working folder (gigabytes, in whatever folder splhunt was started from); splhunt
    puts it in the system's temporary folder instead. A store file spills beside its
    file (DuckDB's ``<file>.tmp``), which is left as it is. `MEMORY_ENV` sets
    ``memory_limit``.
    """
    if con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0] == ".tmp":
        tmp = os.path.join(tempfile.gettempdir(), f"splhunt-duckdb-{os.getpid()}")
        con.execute(f"SET temp_directory = '{tmp.replace(chr(39), chr(39) * 2)}'")
    limit = os.environ.get(MEMORY_ENV, "").strip()
    if limit:
        try:
            con.execute(f"SET memory_limit = '{limit.replace(chr(39), '')}'")
        except duckdb.Error as e:
            raise ValueError(f"{MEMORY_ENV}={limit!r}: {e}") from None


#: Rows appended between two commits inside `Store.bulk`. DuckDB's cost per committed
#: append grows with the table's width, not with the rows appended: into a 900-column
#: table, 20,000-row batches cost ~90 us per row when each is committed, ~30 us inside
#: one transaction; a commit every two row groups (2 x 122,880 rows) keeps that gain.
BULK_COMMIT_ROWS = 2 * 122_880


def _qi(name: str) -> str:
    """Quote an identifier for DDL the store itself issues (never user SPL)."""
    return '"' + name.replace('"', '""') + '"'


class Store:
    """An event store on a DuckDB connection (in memory, or a file for `--db`)."""

    def __init__(self, path: str | None = None, con: duckdb.DuckDBPyConnection | None = None):
        self.path = path
        self.con = con or duckdb.connect(path or ":memory:")
        self.con.execute("SET TimeZone='UTC'")
        self.con.execute("SET enable_progress_bar=false")
        configure_memory(self.con)
        self._fields: dict[str, FieldCol] = {}
        self._bulk_rows: int | None = None  # rows appended since the last commit, in `bulk`
        self.version = 0  # bumped on every write; caches of derived tables key on it
        self._init_schema()

    # -- schema -------------------------------------------------------------------------
    def _init_schema(self) -> None:
        con = self.con
        con.execute(
            "CREATE TABLE IF NOT EXISTS _fields (field VARCHAR PRIMARY KEY, col VARCHAR, kind VARCHAR)"
        )
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'events'"
        ).fetchone()[0]
        if not exists:
            cols = ", ".join(f"{_qi(f)} {t}" for f, t in CORE_FIELDS.items())
            con.execute(f"CREATE TABLE events ({cols})")
            for f, t in CORE_FIELDS.items():
                kind = NUM if t == "DOUBLE" else STR
                con.execute("INSERT OR IGNORE INTO _fields VALUES (?, ?, ?)", [f, f, kind])
        for field, col, kind in con.execute("SELECT field, col, kind FROM _fields").fetchall():
            self._fields[field] = FieldCol(field, col, kind)

    @property
    def fields(self) -> dict[str, FieldCol]:
        """Field name -> column, in registry order."""
        return dict(self._fields)

    def _add_field(self, field: str, kind: str) -> FieldCol:
        return self._add_fields([(field, kind)])[0]

    def _add_fields(self, new: list[tuple[str, str]]) -> list[FieldCol]:
        """Register and add columns for `new` (field, kind) pairs, in that order.

        DuckDB takes one ``ALTER TABLE ... ADD COLUMN`` per statement, each costing more
        the wider the table is (milliseconds at a few hundred columns). While `events`
        is empty - the first batch of a fresh store, which brings most fields - the
        table is created again with every column instead.
        """
        taken = {fc.col.lower() for fc in self._fields.values()}
        out: list[FieldCol] = []
        for field, kind in new:
            col = allocate_column(field, taken)
            taken.add(col.lower())
            out.append(FieldCol(field, col, kind))
        con = self.con
        empty = len(out) > 1 and con.execute("SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1)").fetchone()[0] == 0
        if empty:
            defs = [f"{_qi(name)} {typ}" for name, typ in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'events' AND table_schema = current_schema() "
                "AND table_catalog = current_database() ORDER BY ordinal_position"
            ).fetchall()]
            defs += [f"{_qi(fc.col)} {'VARCHAR[]' if fc.kind == MV else 'VARCHAR'}" for fc in out]
            con.execute(f"CREATE OR REPLACE TABLE events ({', '.join(defs)})")
        else:
            for fc in out:
                sqltype = "VARCHAR[]" if fc.kind == MV else "VARCHAR"
                con.execute(f"ALTER TABLE events ADD COLUMN {_qi(fc.col)} {sqltype}")
        reg = pa.table(  # noqa: F841 - read by DuckDB's replacement scan
            {
                "field": pa.array([fc.field for fc in out], pa.string()),
                "col": pa.array([fc.col for fc in out], pa.string()),
                "kind": pa.array([fc.kind for fc in out], pa.string()),
            }
        )
        con.execute("INSERT INTO _fields SELECT field, col, kind FROM reg")
        for fc in out:
            self._fields[fc.field] = fc
        return out

    def _widen_to_mv(self, fc: FieldCol) -> FieldCol:
        c = _qi(fc.col)
        self.con.execute(
            f"ALTER TABLE events ALTER {c} TYPE VARCHAR[] "
            f"USING CASE WHEN {c} IS NULL THEN NULL ELSE [{c}] END"
        )
        self.con.execute("UPDATE _fields SET kind = ? WHERE field = ?", [MV, fc.field])
        new = FieldCol(fc.field, fc.col, MV)
        self._fields[fc.field] = new
        return new

    # -- writing ------------------------------------------------------------------------
    def append(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Append events given as field -> value dicts. Lists are multivalue fields.

        Missing core fields are null. Returns the number of events written.
        """
        columns: dict[str, list[Any]] = {}
        mv_fields: set[str] = set()
        n = 0
        for row in rows:
            for key, value in row.items():
                col = columns.get(key)
                if col is None:
                    col = columns[key] = [None] * n
                if isinstance(value, list):
                    mv_fields.add(key)
                col.append(value)
            n += 1
            for col in columns.values():
                if len(col) < n:
                    col.append(None)
        return self.append_columns(columns, n, mv_fields)

    def append_columns(
        self, columns: Mapping[str, Any], n: int, mv_fields: set[str] | None = None
    ) -> int:
        """Append a columnar batch: field -> n values (str, float, list or None).

        A column is a Python list or an Arrow array (``string``, ``list<string>`` for a
        multivalue field, ``double`` for ``_time``); Arrow arrays go to DuckDB as they are.
        """
        if n == 0:
            return 0
        mv_fields = mv_fields or set()
        new = [(f, MV if f in mv_fields else STR) for f in columns if f not in self._fields]
        if new:
            self._add_fields(new)
        arrays: dict[str, pa.Array] = {}
        for field, values in columns.items():
            fc = self._fields[field]
            if field in mv_fields and fc.kind == STR:
                fc = self._widen_to_mv(fc)
            arrays[fc.col] = _to_arrow(values, fc.kind)
        batch = pa.table(arrays)  # noqa: F841 - read by DuckDB's replacement scan
        cols = ", ".join(_qi(c) for c in arrays)
        self.con.execute(f"INSERT INTO events ({cols}) SELECT {cols} FROM batch")
        self.version += 1
        if self._bulk_rows is not None:
            self._bulk_rows += n
            if self._bulk_rows >= BULK_COMMIT_ROWS:
                self.con.execute("COMMIT")
                self.con.execute("BEGIN TRANSACTION")
                self._bulk_rows = 0
        return n

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Appends inside the block share transactions of `BULK_COMMIT_ROWS` rows.

        Ingest wraps its appends in this; readers on the same connection see the rows
        at once. Inside a transaction the caller already holds (`persist`'s, one per
        chunk of files) it does nothing: that transaction decides. When the block
        raises, the rows appended so far are committed, as they were batch by batch
        before. If the error came from DuckDB, DuckDB has already given up the open
        transaction (at most `BULK_COMMIT_ROWS` rows, and the columns it added), and the
        field registry is read again.
        """
        if self.in_transaction():
            yield
            return
        self.con.execute("BEGIN TRANSACTION")
        self._bulk_rows = 0
        ok = False
        try:
            yield
            ok = True
        finally:
            self._bulk_rows = None
            try:
                self.con.execute("COMMIT")
            except duckdb.Error:
                if ok:
                    raise
            if not ok:
                self._reload_fields()

    def in_transaction(self) -> bool:
        """Whether the connection is inside an explicit transaction (``BEGIN`` ran).

        A failed ``BEGIN`` would abort the open transaction, so this asks instead: in
        autocommit mode every statement gets a new transaction id, inside one it stays.
        """
        first = self.con.execute("SELECT txid_current()").fetchall()[0][0]
        return self.con.execute("SELECT txid_current()").fetchall()[0][0] == first

    def _reload_fields(self) -> None:
        """Re-read the field registry from `_fields` (after a rollback undid columns)."""
        self._fields.clear()
        for f, col, kind in self.con.execute("SELECT field, col, kind FROM _fields").fetchall():
            self._fields[f] = FieldCol(f, col, kind)
        self.version += 1

    def count(self) -> int:
        # fetchall: a fetchone() leaves the result open, and DuckDB then refuses other
        # work on the connection, such as registering functions for a new session
        return int(self.con.execute("SELECT count(*) FROM events").fetchall()[0][0])

    def close(self) -> None:
        self.con.close()
