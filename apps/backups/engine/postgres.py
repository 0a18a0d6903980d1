"""PostgreSQL backup source and restore target (psycopg 3).

Backup reads every table in ONE snapshot: a ``REPEATABLE READ READ ONLY`` transaction exports
it (``pg_export_snapshot``) and every other connection of the backup imports it (``SET
TRANSACTION SNAPSHOT``): per-table checksums run concurrently on one of them, and (when
``COPY_STREAMS`` > 1) a large table is read by several connections at once, each COPYing its
own range of the table's pages (a TID range scan, PostgreSQL 14+). Rows are order-independent in the file (the
checksum is a sum, restore is a COPY), so the streams' blocks are interleaved as they come.

Restore runs in ONE transaction: drop the foreign keys touching the restored tables (also
from tables outside the restored set), drop their index-backed constraints and plain indexes,
``TRUNCATE``, ``COPY ... FROM STDIN WITH (FREEZE)``, rebuild indexes and constraints, compare
row counts and checksums, replay the change journal (a point-in-time restore), re-add the
foreign keys (re-adding one re-validates it) and only then commit. Any error rolls everything
back.

Both sides pin the session settings that change the text form of values (TimeZone, DateStyle,
extra_float_digits, ...) so COPY text and checksums mean the same on both ends, and set
``search_path`` to ``pg_catalog`` so every name in generated DDL comes out schema-qualified.
"""

from __future__ import annotations

import contextlib
import queue
import re
import secrets
import select
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import IsolationLevel

from .base import BackupSource, DbUrl, RestoreTarget, SharedSnapshot, TableResult
from .errors import (
    ChecksumMismatchError,
    ForeignKeyError,
    RestoreError,
    SourceError,
    SourceUnreachableError,
    TargetUnreachableError,
)

ROW_FORMAT = "pg-copy-text"
CHECKSUM_ALGORITHM = "pg-sum-xor-column-hash-v1"
_FUNC_RE = re.compile(r'^[A-Za-z0-9_."]{1,200}$')
_SNAPSHOT_RE = re.compile(r"^[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?$")
BLOCK = 1 << 20
# A table of at least SPLIT_MIN_PAGES pages can be read by COPY_STREAMS connections at once:
# the server's COPY output (text formatting) is then the slowest part of a backup, and one COPY
# uses one core. Off (1) by default: it halved backup time, but restores of such files were
# ~1.5x slower in the bench (the interleaved rows lose the source's physical order; index
# builds and checks seem to pay for it). See bench/README.md, "Backups".
COPY_STREAMS = 1
SPLIT_MIN_PAGES = 2048  # 16 MiB
# A table the restore creates (it is not in the target yet) is loaded, indexed and checksummed
# on its own connection in a private schema, up to STAGED_LOADS tables at once, overlapping the
# next table's load; the restore's transaction then moves it into place. 0 = everything on the
# restore's one connection. See ``_Stage``.
STAGED_LOADS = 2
STAGING_PREFIX = "rs_restore_"
# Rows read ahead for each staged table, so the next table's load can start while this one's
# last rows go in (2 x 48 MiB at most); and no parallel workers for a staged table's index
# builds: the other staged table already uses the second core (measured: bench/README.md).
STAGE_BUFFER_BYTES = 48 << 20
PARALLEL_INDEX_WORKERS = 0

SESSION_SETTINGS = {
    "client_encoding": "UTF8",
    "TimeZone": "UTC",
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "extra_float_digits": "3",
    "bytea_output": "hex",
    "standard_conforming_strings": "on",
    "statement_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "row_security": "off",
}


def qi(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def qname(schema: str, name: str) -> str:
    return f"{qi(schema)}.{qi(name)}"


def split_name(name: str) -> tuple[str | None, str]:
    schema, dot, rel = name.partition(".")
    return (schema, rel) if dot else (None, name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _connect(db: DbUrl, error_cls: type[Exception]) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(
            db.url, autocommit=True, connect_timeout=15, application_name="recovery_site-backup"
        )
    except psycopg.Error as exc:
        raise error_cls(f"Cannot connect to {db.display}: {_first_line(exc)}") from None
    with conn.cursor() as cur:
        for k, v in SESSION_SETTINGS.items():
            cur.execute("SELECT set_config(%s, %s, false)", (k, v))
    return conn


@contextlib.contextmanager
def hold_snapshot(db: DbUrl) -> Iterator[SharedSnapshot]:
    """Keep one moment of the database open while the caller backs up several scopes."""
    conn = _connect(db, SourceUnreachableError)
    try:
        conn.autocommit = False
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        row = conn.execute("SELECT pg_export_snapshot(), pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        yield SharedSnapshot(id=row[0], wal_lsn=row[1])
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
        conn.close()


def copy_out(conn: psycopg.Connection[Any], sql: str) -> Generator[bytes, None, None]:
    """Run ``COPY ... TO STDOUT`` and yield its text in blocks of about ``BLOCK`` bytes, each
    ending at a row boundary.

    The server sends one message per row; psycopg's ``Copy`` iterator costs ~1.5 us of Python
    per message, which made the client, not the server, the bottleneck of a backup (5 million
    rows: ~7 s of CPU). This loop talks to libpq directly (non-blocking ``PQgetCopyData``,
    waiting in ``select`` with the GIL released), about 3x less CPU per row. It runs in the
    connection's current transaction, like any query.
    """
    pgconn = conn.pgconn
    _check_usable(conn)
    if not conn.autocommit and pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        conn.execute("SELECT 1")  # let psycopg open the transaction (isolation, read only)
    pgconn.send_query(sql.encode())
    _wait_ready(pgconn)
    res = pgconn.get_result()
    if res is None or res.status != psycopg.pq.ExecStatus.COPY_OUT:
        msg = res.get_error_message() if res is not None else "no result"
        _drain(pgconn)
        raise SourceError(f"Reading a table failed: {msg.strip().splitlines()[0]}")
    fd = pgconn.socket
    get = pgconn.get_copy_data
    buf = bytearray()
    size = 0
    done = False
    try:
        while True:
            nbytes, data = get(1)
            if nbytes > 0:
                buf += data
                size += nbytes
                if size >= BLOCK:
                    yield bytes(buf)
                    buf.clear()
                    size = 0
            elif nbytes == 0:  # nothing buffered: wait for the socket (GIL released)
                select.select([fd], [], [])
                pgconn.consume_input()
            else:
                break
        res = pgconn.get_result()
        err = None
        if res is None or res.status != psycopg.pq.ExecStatus.COMMAND_OK:
            err = res.get_error_message() if res is not None else "no result"
        _drain(pgconn)
        done = True
        if err is not None:
            raise SourceError(f"Reading a table failed: {err.strip().splitlines()[0]}")
        if buf:
            yield bytes(buf)
    finally:
        if not done:  # abandoned mid-stream (an error or a cancel downstream): stop the COPY
            with contextlib.suppress(Exception):
                pgconn.get_cancel().cancel()
            with contextlib.suppress(Exception):
                while get(0)[0] >= 0:
                    pass
                _drain(pgconn)


def _check_usable(conn: psycopg.Connection[Any]) -> None:
    if conn.pgconn.transaction_status not in (
        psycopg.pq.TransactionStatus.IDLE,
        psycopg.pq.TransactionStatus.INTRANS,
    ):
        raise SourceError("The source connection is busy or in a failed transaction.")


_DONE = object()


def _interleave(conns: Sequence[psycopg.Connection[Any]], sqls: Sequence[str]) -> Iterator[bytes]:
    """Run one COPY per connection on its own thread; yield their blocks as they come.

    At most a few blocks per stream wait in memory. If the consumer stops early (an error,
    a cancel), every COPY is cancelled and its thread joined before this returns.
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=2 * len(sqls))
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(conn: psycopg.Connection[Any], sql: str) -> None:
        try:
            blocks = copy_out(conn, sql)
            try:
                for block in blocks:
                    if not put(block):
                        break
            finally:
                blocks.close()
            put(_DONE)
        except BaseException as exc:  # handed to the consumer
            put(exc)

    threads = [
        threading.Thread(target=run, args=(c, s), name=f"backup-copy-{i}", daemon=True)
        for i, (c, s) in enumerate(zip(conns, sqls, strict=True))
    ]
    for th in threads:
        th.start()
    try:
        running = len(threads)
        while running:
            item = q.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        stop.set()
        for th in threads:
            th.join()


def _wait_ready(pgconn: Any) -> None:
    fd = pgconn.socket
    while True:
        pgconn.consume_input()
        if not pgconn.is_busy():
            return
        select.select([fd], [], [])


def _drain(pgconn: Any) -> None:
    """Read the remaining results of the current query (the connection is free after it)."""
    while True:
        _wait_ready(pgconn)
        if pgconn.get_result() is None:
            return


def checksum_sql(qualified: str, hashes: Sequence[dict[str, str]]) -> str:
    """Order-independent content checksum computed by the server (same SQL on both ends).

    Row hash = XOR over columns of ``hash_fn(value, position)`` (NULL -> a per-position
    constant); table checksum = exact (numeric) sum of row hashes. Each type's own 64-bit
    extended hash function is used (as in hash partitioning), so no value is converted to
    text; types without one are hashed through their text form. ``hashes`` comes from the
    backup file, so both ends run identical SQL.
    """
    parts = []
    for i, h in enumerate(hashes, 1):
        fn, cast = h["function"], h.get("cast")
        if not _FUNC_RE.match(fn) or (cast and not _TYPE_RE.match(cast)):
            raise RestoreError(f"Invalid checksum specification for column {h['name']!r}.")
        value = f"{qi(h['name'])}::{cast}" if cast else qi(h["name"])
        parts.append(f"coalesce({fn}({value}, {i}::int8), {-i}::int8)")
    row = " # ".join(parts) if parts else "0"
    return f"SELECT count(*), coalesce(sum({row}), 0)::text FROM ONLY {qualified}"


_OID_TYPE_RE = re.compile(r"^pg_catalog\.(oid|reg\w+|xid|xid8|cid|tid|oidvector)$")
_TYPE_RE = re.compile(r'^[A-Za-z0-9_." ]{1,200}$')

# Extended (64-bit, seeded) hash support function of a base type's default hash opclass.
_HASH_FN_SQL = """
SELECT t.typtype, t.typbasetype, h.fn, h.argoid, h.argtype,
       quote_ident(tn.nspname) || '.' || quote_ident(t.typname)
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN LATERAL (
   SELECT p.amproc::regproc::text AS fn,
          pr.proargtypes[0] AS argoid,
          (SELECT quote_ident(an.nspname) || '.' || quote_ident(a.typname)
           FROM pg_catalog.pg_type a JOIN pg_catalog.pg_namespace an ON an.oid = a.typnamespace
           WHERE a.oid = pr.proargtypes[0]) AS argtype
   FROM pg_catalog.pg_opclass oc
   JOIN pg_catalog.pg_amproc p ON p.amprocfamily = oc.opcfamily AND p.amprocnum = 2
        AND p.amproclefttype = oc.opcintype AND p.amprocrighttype = oc.opcintype
   JOIN pg_catalog.pg_proc pr ON pr.oid = p.amproc
   WHERE oc.opcmethod = (SELECT oid FROM pg_catalog.pg_am WHERE amname = 'hash')
     AND oc.opcdefault
     AND oc.opcintype = t.oid
   LIMIT 1) h ON true
WHERE t.oid = %s
"""


_RESOLVE_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = %(rel)s
  AND (n.nspname = %(schema)s OR (%(schema)s::text IS NULL AND n.nspname = ANY(%(path)s)))
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY array_position(%(path)s, n.nspname::text) NULLS LAST
LIMIT 1
"""

_COLUMNS_SQL = """
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
       a.attidentity, a.attgenerated, pg_catalog.pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
       t.typtype, quote_ident(tn.nspname) || '.' || quote_ident(t.typname), t.oid
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_SEQUENCES_SQL = """
SELECT a.attname, quote_ident(sn.nspname) || '.' || quote_ident(s.relname), s.oid,
       d.deptype
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_catalog.pg_class'::regclass
  AND d.refclassid = 'pg_catalog.pg_class'::regclass
  AND d.refobjid = %(t)s::regclass AND d.deptype IN ('a', 'i')
UNION
SELECT a.attname, quote_ident(sn.nspname) || '.' || quote_ident(s.relname), s.oid, 'n'
FROM pg_catalog.pg_attrdef ad
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_attrdef'::regclass
     AND d.objid = ad.oid AND d.refclassid = 'pg_catalog.pg_class'::regclass
JOIN pg_catalog.pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
WHERE ad.adrelid = %(t)s::regclass
"""

_SEQ_PROPS_SQL = """
SELECT pg_catalog.format_type(seqtypid, NULL), seqstart, seqincrement, seqmax, seqmin,
       seqcache, seqcycle
FROM pg_catalog.pg_sequence WHERE seqrelid = %s
"""

_CONSTRAINTS_SQL = """
SELECT c.conname, c.contype, pg_catalog.pg_get_constraintdef(c.oid), c.convalidated,
       CASE WHEN c.confrelid <> 0
            THEN quote_ident(rn.nspname) || '.' || quote_ident(r.relname) END
FROM pg_catalog.pg_constraint c
LEFT JOIN pg_catalog.pg_class r ON r.oid = c.confrelid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u', 'x', 'c', 'f')
ORDER BY position(c.contype in 'puxcf'), c.conname
"""

# Is there a btree index whose leading columns are the foreign key's columns?
_FK_INDEXED_SQL = """
SELECT EXISTS (
  SELECT 1 FROM pg_catalog.pg_constraint c
  JOIN pg_catalog.pg_index i ON i.indrelid = c.conrelid
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_am am ON am.oid = ic.relam
  WHERE c.conrelid = %s::regclass AND c.conname = %s AND c.contype = 'f'
    AND am.amname = 'btree' AND i.indpred IS NULL
    AND i.indnkeyatts >= cardinality(c.conkey)
    AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)
"""

_INDEXES_SQL = """
SELECT ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid)
FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = %s::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
                  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                    AND c.contype IN ('p', 'u', 'x'))
ORDER BY ic.relname
"""


def _seq_options(props: dict[str, Any], *, with_type: bool) -> str:
    parts = [f"AS {props['data_type']}"] if with_type else []
    parts += [
        f"INCREMENT BY {props['increment']}",
        f"MINVALUE {props['min']}",
        f"MAXVALUE {props['max']}",
        f"START WITH {props['start']}",
        f"CACHE {props['cache']}",
        "CYCLE" if props["cycle"] else "NO CYCLE",
    ]
    return " ".join(parts)


@dataclass
class _Table:
    oid: int
    schema: str
    name: str

    @property
    def canonical(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def qualified(self) -> str:
        return qname(self.schema, self.name)


class PostgresSource(BackupSource):
    """A consistent, read-only snapshot of one PostgreSQL database."""

    engine = "postgresql"
    row_format = ROW_FORMAT

    def __init__(
        self,
        db: DbUrl,
        *,
        parallel_checksums: bool = True,
        copy_streams: int | None = None,
        snapshot: SharedSnapshot | None = None,
    ) -> None:
        self._db = db
        self._conn = _connect(db, SourceUnreachableError)
        self._parallel = parallel_checksums
        self._streams = max(1, COPY_STREAMS if copy_streams is None else copy_streams)
        self._stream_conns: list[psycopg.Connection[Any]] = []
        self._helper: psycopg.Connection[Any] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._futures: dict[str, Future[tuple[int, str]]] = {}
        self._tables: dict[str, _Table] = {}
        self._copy_columns: dict[str, list[str]] = {}
        self._hashes: dict[str, list[dict[str, str]]] = {}
        self._hash_fn: dict[int, tuple[str, str | None]] = {}
        with self._conn.cursor() as cur:
            cur.execute("SELECT current_schemas(false)::text[]")
            self._path: list[str] = list(cur.fetchone()[0])  # type: ignore[index]
            cur.execute("SET search_path = pg_catalog")
        self._conn.autocommit = False
        self._conn.isolation_level = IsolationLevel.REPEATABLE_READ
        self._conn.read_only = True
        if snapshot is not None:  # read the moment another transaction holds (SharedSnapshot)
            if not _SNAPSHOT_RE.match(snapshot.id):
                self._conn.close()
                raise SourceError(f"{snapshot.id!r} is not a snapshot identifier.")
            try:
                self._conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot.id}'")
            except psycopg.Error as exc:
                self._conn.close()
                raise SourceError(f"The shared snapshot is gone: {_first_line(exc)}") from None
        row = self._conn.execute(
            "SELECT pg_export_snapshot(), current_database(), current_setting('server_version'),"
            " current_setting('server_version_num')::int, txid_current_snapshot()::text,"
            " pg_current_wal_lsn()::text"
        ).fetchone()
        assert row is not None
        self._snapshot, self._dbname, self._version, self._version_num = row[:4]
        # Which transactions the snapshot sees, and the WAL position then: the change journal
        # replays exactly the transactions this backup does not hold (engine/journal.py).
        self._txid_snapshot, self._wal_lsn = row[4], row[5]
        if snapshot is not None:
            self._wal_lsn = snapshot.wal_lsn  # the position when the moment was taken
        if self._version_num < 110000:
            self._conn.close()
            raise SourceError("PostgreSQL 11 or newer is required.")

    def close(self) -> None:
        if self._helper is not None:
            with contextlib.suppress(Exception):
                self._helper.cancel()
        if self._pool is not None:
            for fut in self._futures.values():
                fut.cancel()
            self._pool.shutdown(wait=True)
            self._pool = None
        for conn in (self._helper, *self._stream_conns, self._conn):
            if conn is not None and not conn.closed:
                with contextlib.suppress(Exception):
                    conn.rollback()
                conn.close()
        self._helper = None
        self._stream_conns = []

    def resolve(self, names: Sequence[str]) -> list[str]:
        out = []
        for name in names:
            schema, rel = split_name(name)
            row = self._conn.execute(
                _RESOLVE_SQL, {"rel": rel, "schema": schema, "path": self._path}
            ).fetchone()
            if row is None:
                raise SourceError(f"Table {name!r} does not exist in database {self._dbname!r}.")
            oid, nsp, relname, relkind = row
            if relkind != "r":
                kind = {"p": "a partitioned table", "v": "a view", "m": "a materialized view"}
                raise SourceError(
                    f"{name!r} is {kind.get(relkind, 'not an ordinary table')}; only ordinary "
                    "tables can be backed up."
                )
            t = _Table(oid, nsp, relname)
            if t.canonical in self._tables:
                raise SourceError(f"Table {t.canonical!r} is listed twice.")
            # like pg_dump: keep concurrent DDL (DROP, ALTER) away until the backup ends
            self._conn.execute(f"LOCK TABLE {t.qualified} IN ACCESS SHARE MODE")
            self._tables[t.canonical] = t
            cols = [r for r in self._conn.execute(_COLUMNS_SQL, (t.qualified,)).fetchall()]
            self._copy_columns[t.canonical] = [r[0] for r in cols if not r[4]]
            self._hashes[t.canonical] = [
                {"name": r[0], **self._hash_for(r[9])} for r in cols if not r[4]
            ]
            out.append(t.canonical)
        return out

    def _hash_for(self, type_oid: int) -> dict[str, str]:
        """The hash function (and cast) the checksum uses for a column of this type."""
        if type_oid not in self._hash_fn:
            fn: str = "hashtextextended"  # fallback: the text form
            cast: str | None = "pg_catalog.text"
            row = self._conn.execute(_HASH_FN_SQL, (type_oid,)).fetchone()
            if row is not None:
                typtype, basetype, func, argoid, argtype, typsql = row
                if typtype == "d" and basetype:
                    inner = self._hash_for(basetype)
                    if inner["function"] != "hashtextextended":
                        fn, cast = inner["function"], inner.get("cast") or self._typname(basetype)
                elif typtype == "b" and func and not _OID_TYPE_RE.match(typsql):
                    # (enums and OID-like types hash their OIDs, which differ between
                    # databases: they go through their text form)
                    # e.g. timestamptz is hashed by timestamp_hash_extended(timestamp, ...);
                    # casts name the bare type (pg_catalog.bpchar, never char(1)).
                    poly = argtype.startswith("pg_catalog.any")
                    candidate = (func, None if poly or argoid == type_oid else argtype)
                    if self._probe(typsql, *candidate):
                        fn, cast = candidate
            self._hash_fn[type_oid] = (fn, cast)
        fn, cast = self._hash_fn[type_oid]
        return {"function": fn, "cast": cast} if cast else {"function": fn}

    def _typname(self, type_oid: int) -> str:
        row = self._conn.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(t.typname) "
            "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = %s",
            (type_oid,),
        ).fetchone()
        return str(row[0]) if row else "pg_catalog.text"

    def _probe(self, type_sql: str, fn: str, cast: str | None) -> bool:
        """Some opclass functions take another type (bytea: internal): try the call."""
        value = f"NULL::{type_sql}" + (f"::{cast}" if cast else "")
        try:
            with self._conn.transaction():  # a savepoint: the probe may fail
                self._conn.execute(f"SELECT {fn}({value}, 0::int8)")
            return True
        except psycopg.Error:
            return False

    def stream_info(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "database": self._dbname,
            "server_version": self._version,
            "server_version_num": self._version_num,
            "row_format": ROW_FORMAT,
            "checksum_algorithm": CHECKSUM_ALGORITHM,
            "settings": dict(SESSION_SETTINGS),
            "txid_snapshot": self._txid_snapshot,
            "wal_lsn": self._wal_lsn,
        }

    def estimate(self, table: str) -> tuple[float, float]:
        t = self._tables[table]
        row = self._conn.execute(
            "SELECT reltuples, relpages, pg_relation_size(oid) FROM pg_class WHERE oid = %s",
            (t.oid,),
        ).fetchone()
        assert row is not None
        reltuples, relpages, size = row
        if reltuples is None or reltuples < 0:  # never vacuumed/analyzed
            reltuples = max(relpages, size // 8192) * 60
        return float(max(size, 8192)), float(reltuples)

    def describe(self, table: str) -> dict[str, Any]:
        t = self._tables[table]
        conn = self._conn
        cols = conn.execute(_COLUMNS_SQL, (t.qualified,)).fetchall()
        seqs: dict[str, dict[str, Any]] = {}
        for attname, seqname, seqoid, deptype in conn.execute(
            _SEQUENCES_SQL, {"t": t.qualified}
        ).fetchall():
            entry = seqs.get(seqname)
            if entry is None or deptype != "n":
                props = conn.execute(_SEQ_PROPS_SQL, (seqoid,)).fetchone()
                assert props is not None
                last = conn.execute(f"SELECT last_value, is_called FROM {seqname}").fetchone()
                assert last is not None
                seqs[seqname] = {
                    "name": seqname,
                    "column": attname,
                    "owned": deptype in ("a", "i") or (entry or {}).get("owned", False),
                    "identity": deptype == "i",
                    "data_type": props[0],
                    "start": props[1],
                    "increment": props[2],
                    "max": props[3],
                    "min": props[4],
                    "cache": props[5],
                    "cycle": props[6],
                    "last_value": last[0],
                    "is_called": last[1],
                }
        identity_seq = {s["column"]: s for s in seqs.values() if s["identity"]}
        columns, coldefs, enum_types = [], [], {}
        for name, typ, notnull, identity, generated, default, coll, typtype, tqual, toid in cols:
            columns.append(
                {
                    "name": name,
                    "type": typ,
                    "not_null": notnull,
                    "default": default if not generated else None,
                    "identity": identity or None,
                    "generated": default if generated else None,
                    "collation": coll,
                }
            )
            if typtype == "e" and tqual not in enum_types:
                labels = conn.execute(
                    "SELECT enumlabel FROM pg_enum WHERE enumtypid = %s ORDER BY enumsortorder",
                    (toid,),
                ).fetchall()
                enum_types[tqual] = [r[0] for r in labels]
            d = f"{qi(name)} {typ}"
            if coll:
                d += f" COLLATE {coll}"
            if generated:
                d += f" GENERATED ALWAYS AS ({default}) STORED"
            elif identity:
                how = "ALWAYS" if identity == "a" else "BY DEFAULT"
                s = identity_seq.get(name)
                opts = (
                    f" (SEQUENCE NAME {s['name']} {_seq_options(s, with_type=False)})" if s else ""
                )
                d += f" GENERATED {how} AS IDENTITY{opts}"
            elif default is not None:
                d += f" DEFAULT {default}"
            if notnull:
                d += " NOT NULL"
            coldefs.append(d)
        persistence = conn.execute(
            "SELECT relpersistence FROM pg_class WHERE oid = %s", (t.oid,)
        ).fetchone()
        unlogged = "UNLOGGED " if persistence and persistence[0] == "u" else ""
        create = [
            f"CREATE SEQUENCE IF NOT EXISTS {s['name']} {_seq_options(s, with_type=True)}"
            for s in seqs.values()
            if not s["identity"]
        ]
        create.append(
            f"CREATE {unlogged}TABLE {t.qualified} (\n    " + ",\n    ".join(coldefs) + "\n)"
        )
        create += [
            f"ALTER SEQUENCE {s['name']} OWNED BY {t.qualified}.{qi(s['column'])}"
            for s in seqs.values()
            if s["owned"] and not s["identity"]
        ]
        constraints = [
            {"name": n, "type": ct, "definition": df, "validated": v, "references": ref}
            for n, ct, df, v, ref in conn.execute(_CONSTRAINTS_SQL, (t.qualified,)).fetchall()
        ]
        indexes = [
            {"name": n, "definition": df}
            for n, df in conn.execute(_INDEXES_SQL, (t.qualified,)).fetchall()
        ]
        return {
            "name": t.canonical,
            "schema": t.schema,
            "table": t.name,
            "columns": columns,
            "copy_columns": self._copy_columns[table],
            "row_format": ROW_FORMAT,
            "checksum": {"algorithm": CHECKSUM_ALGORITHM, "columns": self._hashes[table]},
            "enum_types": [{"name": k, "labels": v} for k, v in enum_types.items()],
            "create": create,
            "constraints": constraints,
            "indexes": indexes,
            "sequences": list(seqs.values()),
        }

    def read_rows(self, table: str) -> Iterator[bytes]:
        t = self._tables[table]
        cols = ", ".join(qi(c) for c in self._copy_columns[table])
        _check_usable(self._conn)
        ranges = self._page_ranges(t) if self._streams > 1 else []
        if len(ranges) < 2:
            yield from copy_out(self._conn, f"COPY {t.qualified} ({cols}) TO STDOUT")
            return
        # Each stream reads a range of pages; the last range is open-ended (the table may
        # have grown since; rows this snapshot sees are all in pages that existed then).
        sqls = []
        for lo, hi in ranges:
            cond = [f"ctid >= '({lo},0)'::pg_catalog.tid"] if lo else []
            cond += [f"ctid < '({hi},0)'::pg_catalog.tid"] if hi is not None else []
            where = f" WHERE {' AND '.join(cond)}" if cond else ""
            sqls.append(f"COPY (SELECT {cols} FROM ONLY {t.qualified}{where}) TO STDOUT")
        conns = [self._conn, *self._open_stream_conns(len(sqls) - 1)]
        yield from _interleave(conns, sqls)

    def _page_ranges(self, t: _Table) -> list[tuple[int, int | None]]:
        if self._version_num < 140000:  # no TID range scans: each stream would read it all
            return []
        row = self._conn.execute(
            "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int8",
            (t.qualified,),
        ).fetchone()
        pages = int(row[0]) if row else 0
        if pages < max(SPLIT_MIN_PAGES, self._streams):
            return []
        n = self._streams
        cuts = [pages * i // n for i in range(n + 1)]
        return [(cuts[i], cuts[i + 1] if i < n - 1 else None) for i in range(n)]

    def _open_stream_conns(self, n: int) -> list[psycopg.Connection[Any]]:
        while len(self._stream_conns) < n:
            self._stream_conns.append(self._snapshot_conn())
        return self._stream_conns[:n]

    def _snapshot_conn(self) -> psycopg.Connection[Any]:
        """A new read-only connection inside this backup's snapshot."""
        conn = _connect(self._db, SourceUnreachableError)
        conn.execute("SET search_path = pg_catalog")
        conn.autocommit = False
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        conn.execute(f"SET TRANSACTION SNAPSHOT '{self._snapshot}'")
        return conn

    def _checksum_on(self, conn: psycopg.Connection[Any], table: str) -> tuple[int, str]:
        t = self._tables[table]
        sql = checksum_sql(t.qualified, self._hashes[table])
        row = conn.execute(sql).fetchone()
        assert row is not None
        return int(row[0]), str(row[1])

    def start_checksums(self, tables: Sequence[str]) -> None:
        """Checksum on a second connection sharing the snapshot, while COPY streams."""
        if not self._parallel or not tables:
            return
        helper = self._snapshot_conn()
        self._helper = helper
        self._pool = ThreadPoolExecutor(1, "backup-checksum")
        for table in tables:
            self._futures[table] = self._pool.submit(self._checksum_on, helper, table)

    def checksum(self, table: str) -> tuple[int, str]:
        fut = self._futures.get(table)
        if fut is not None:
            return fut.result()
        return self._checksum_on(self._conn, table)


# --- restore ---------------------------------------------------------------------------


@dataclass
class _Loaded:
    name: str
    qualified: str
    columns: list[str]
    meta: dict[str, Any]
    created: bool
    rows_loaded: int = 0
    end: dict[str, Any] = field(default_factory=dict)
    stage: _Stage | None = None


_END = object()
_ABORT = object()


class _Stage:
    """A created table loaded on its own connection, into a private schema, and committed there.

    PostgreSQL runs one statement per connection, and a restore's single transaction loads,
    indexes and checksums one table after the other on one core. A table the target does not
    have yet is instead built whole (COPY FREEZE, checks, keys, indexes, checksum) in a schema
    of its own by a thread with its own connection, while the restore reads the next table;
    the restore's transaction then moves it into its schema (``ALTER TABLE ... SET SCHEMA``,
    which carries its indexes and constraints along) and adds what needs the target's
    uncommitted state: sequences, defaults, identity, foreign keys. Nothing is visible in the
    target's own schemas before that transaction commits; the private schema is dropped
    afterwards whatever happened (and a leftover one of a killed restore by the next restore:
    its owner holds an advisory lock while it lives).
    """

    def __init__(self, target: PostgresTarget, meta: dict[str, Any], index_defs: list[str]):
        self.meta = meta
        self.name: str = meta["name"]
        self.staged = qname(target.staging_schema(), meta["table"])
        self.index_defs = index_defs
        # Journaled inserts to load after the backup's rows, when their columns are the
        # backup's COPY columns in order (anything else is left to the replay).
        append = target.appends.get(self.name)
        names = [name for name, _type in append.shape] if append is not None else None
        self.append = append if names == list(meta["copy_columns"]) else None
        self.result: tuple[int, str] | None = None
        self.error: BaseException | None = None
        self._blocks: queue.Queue[Any] = queue.Queue()
        self._buffered = 0  # bytes queued and not yet sent (bounded by STAGE_BUFFER_BYTES)
        self._room = threading.Condition()
        self._stop = threading.Event()
        self._conn = _connect(target._db, TargetUnreachableError)
        self._conn.autocommit = False
        self._settings = (target._lock_timeout, target._mwm, target._work_mem)
        self._freeze = target._freeze
        self._thread = threading.Thread(target=self._run, name=f"restore {self.name}", daemon=True)
        self._thread.start()

    def _create_sql(self) -> str:
        """The table with its columns' types, collations and NOT NULL; the defaults, identity
        and sequences are added once it is in place (they name objects of the target)."""
        cols = []
        for c in self.meta["columns"]:
            d = f"{qi(c['name'])} {c['type']}"
            if c.get("collation"):
                d += f" COLLATE {c['collation']}"
            if c.get("not_null"):
                d += " NOT NULL"
            cols.append(d)
        unlogged = any(sql.startswith("CREATE UNLOGGED TABLE") for sql in self.meta["create"])
        kind = "UNLOGGED TABLE" if unlogged else "TABLE"
        return f"CREATE {kind} {self.staged} (\n    " + ",\n    ".join(cols) + "\n)"

    def _run(self) -> None:
        conn = self._conn
        meta = self.meta
        try:
            conn.execute("SET LOCAL search_path = pg_catalog")
            conn.execute(
                "SELECT set_config('lock_timeout', %s, true), "
                "set_config('maintenance_work_mem', %s, true), set_config('work_mem', %s, true),"
                " set_config('max_parallel_maintenance_workers', %s, true)",
                (*self._settings, str(PARALLEL_INDEX_WORKERS)),
            )
            conn.execute(self._create_sql())
            for c in meta["constraints"]:
                if c["type"] == "c":
                    conn.execute(
                        f"ALTER TABLE {self.staged} ADD CONSTRAINT {qi(c['name'])} {c['definition']}"
                    )
            cols = ", ".join(qi(c) for c in meta["copy_columns"])
            freeze = " WITH (FREEZE)" if self._freeze else ""
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY {self.staged} ({cols}) FROM STDIN{freeze}") as copy,
            ):
                while (block := self._blocks.get()) is not _END:
                    if block is _ABORT or self._stop.is_set():
                        raise RestoreError("aborted")
                    copy.write(block)
                    with self._room:
                        self._buffered -= len(block)
                        self._room.notify()
            if self._stop.is_set():
                raise RestoreError("aborted")
            # The backup's rows are checksummed before the journal's join them.
            sql = checksum_sql(self.staged, (meta.get("checksum") or {}).get("columns") or [])
            row = conn.execute(sql).fetchone()
            assert row is not None
            appended = 0
            if self.append is not None:  # a point-in-time restore's journaled inserts
                with conn.cursor() as cur:
                    with cur.copy(f"COPY {self.staged} ({cols}) FROM STDIN{freeze}") as copy:
                        for text in self.append.texts:
                            copy.write(text)
                    appended = cur.rowcount  # what the server loaded: the replay's row check
            for c in meta["constraints"]:
                if c["type"] in ("p", "u", "x"):
                    conn.execute(
                        f"ALTER TABLE {self.staged} ADD CONSTRAINT {qi(c['name'])} {c['definition']}"
                    )
            for definition in self.index_defs:
                conn.execute(definition)
            conn.commit()
            self.result = (int(row[0]), str(row[1]))
            if self.append is not None:
                self.append.loaded = appended
                self.append.taken = True
        except BaseException as exc:  # noqa: BLE001 - handed to the restore's thread
            with self._room:
                self.error = exc
                self._room.notify_all()  # a writer waiting for room hears of it
            with contextlib.suppress(Exception):
                conn.rollback()
            while True:  # what was queued is not needed any more
                try:
                    self._blocks.get_nowait()
                except queue.Empty:
                    break

    def write(self, data: memoryview) -> None:
        block = bytes(data)  # the reader reuses its buffers
        with self._room:
            while (
                self.error is None
                and self._buffered
                and self._buffered + len(block) > STAGE_BUFFER_BYTES
            ):
                self._room.wait()
            if self.error is None:
                self._buffered += len(block)
                self._blocks.put(block)
                return
        self.wait()  # raises the thread's error

    def end(self) -> None:
        if self.error is None:
            self._blocks.put(_END)

    @property
    def busy(self) -> bool:
        return self._thread.is_alive()

    def wait(self) -> tuple[int, str]:
        """The staged table's row count and checksum, once it is committed in its schema."""
        self._thread.join()
        if self.error is not None:
            raise RestoreError(f"Loading {self.name} failed: {_first_line(self.error)}") from (
                self.error
            )
        assert self.result is not None
        return self.result

    def abort(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self._conn.cancel()
            self._blocks.put(_ABORT)
        self._thread.join(timeout=30)
        with contextlib.suppress(Exception):
            self._conn.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()


class PostgresTarget(RestoreTarget):
    """Loads a backup stream into PostgreSQL in one all-or-nothing transaction."""

    engine = "postgresql"

    def __init__(
        self,
        db: DbUrl,
        *,
        lock_timeout: str = "60s",
        maintenance_work_mem: str = "256MB",
        work_mem: str = "64MB",
        freeze: bool = True,
    ) -> None:
        super().__init__()
        self._db = db
        self._conn = _connect(db, TargetUnreachableError)
        self._conn.autocommit = False
        self._conn.isolation_level = IsolationLevel.READ_COMMITTED
        self._lock_timeout = lock_timeout
        self._mwm = maintenance_work_mem
        self._work_mem = work_mem
        self._freeze = freeze
        self._existing: set[str] = set()
        self._restore_constraints: list[tuple[str, str, str]] = []  # table, name, definition
        self._restore_fks: list[tuple[str, str, str]] = []
        self._restore_indexes: list[str] = []
        self._restore_triggers: list[tuple[str, str]] = []
        self._loaded: dict[str, _Loaded] = {}
        self._current: _Loaded | None = None
        self._copy_stack: contextlib.ExitStack | None = None
        self._copy: Any = None
        self._stages: list[_Stage] = []
        self._staging: str | None = None
        self._admin: psycopg.Connection[Any] | None = None

    # staged loads of created tables (``_Stage``)
    def _admin_conn(self) -> psycopg.Connection[Any]:
        """An autocommit connection of its own: it sees only committed objects, as stages do."""
        if self._admin is None:
            self._admin = _connect(self._db, TargetUnreachableError)
        return self._admin

    def staging_schema(self) -> str:
        """This restore's private schema, made on first use; leftovers of dead restores go."""
        if self._staging is None:
            admin = self._admin_conn()
            for (name,) in admin.execute(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)",
                (STAGING_PREFIX,),
            ).fetchall():
                (free,) = admin.execute(
                    "SELECT pg_try_advisory_lock(hashtext(%s))", (name,)
                ).fetchone()  # type: ignore[misc]
                if free:  # its restore is gone (a live one holds the lock)
                    with contextlib.suppress(psycopg.Error):
                        admin.execute(f"DROP SCHEMA IF EXISTS {qi(name)} CASCADE")
                    admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))
            name = STAGING_PREFIX + secrets.token_hex(6)
            admin.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
            admin.execute(f"CREATE SCHEMA {qi(name)}")
            self._staging = name
        return self._staging

    def _staged_index_defs(self, meta: dict[str, Any]) -> list[str] | None:
        """The table's index definitions aimed at its staged copy; None: load it in place."""
        if STAGED_LOADS < 1 or any(c.get("generated") for c in meta["columns"]):
            return None
        admin = self._admin_conn()
        for enum in meta.get("enum_types", []):  # a stage sees committed types only
            if not admin.execute("SELECT to_regtype(%s)", (enum["name"],)).fetchone()[0]:  # type: ignore[index]
                return None
        (ref,) = admin.execute(
            "SELECT quote_ident(%s) || '.' || quote_ident(%s)", (meta["schema"], meta["table"])
        ).fetchone()  # type: ignore[misc]
        try:
            staged = qname(self.staging_schema(), meta["table"])
        except psycopg.Error:  # e.g. no right to create a schema: load it in place, as before
            return None
        defs = []
        for ix in meta["indexes"]:
            definition = ix["definition"]
            for on in (f" ON {ref} USING ", f" ON ONLY {ref} USING "):
                if definition.count(on) == 1:
                    defs.append(definition.replace(on, f" ON {staged} USING "))
                    break
            else:
                return None
        return defs

    def _move_into_place(self, t: _Loaded) -> None:
        """A staged table into its schema, with its sequences, defaults and identity."""
        assert t.stage is not None
        meta = t.meta
        for sql in meta["create"]:
            if sql.startswith("CREATE SEQUENCE"):
                self._exec(sql, what=f"Creating a sequence of {t.name}")
        self._exec(
            f"ALTER TABLE {t.stage.staged} SET SCHEMA {qi(meta['schema'])}",
            what=f"Moving {t.name} into place",
        )
        identity = {s["column"]: s for s in meta.get("sequences", []) if s.get("identity")}
        for c in meta["columns"]:
            col = f"ALTER TABLE {t.qualified} ALTER COLUMN {qi(c['name'])}"
            if c.get("identity"):
                how = "ALWAYS" if c["identity"] == "a" else "BY DEFAULT"
                seq = identity.get(c["name"])
                opts = (
                    f" (SEQUENCE NAME {seq['name']} {_seq_options(seq, with_type=False)})"
                    if seq
                    else ""
                )
                self._exec(
                    f"{col} ADD GENERATED {how} AS IDENTITY{opts}",
                    what=f"Restoring the identity of {t.name}.{c['name']}",
                )
            elif c.get("default") is not None:
                self._exec(
                    f"{col} SET DEFAULT {c['default']}",
                    what=f"Restoring the default of {t.name}.{c['name']}",
                )
        for sql in meta["create"]:
            if sql.startswith("ALTER SEQUENCE"):
                self._exec(sql, what=f"Restoring sequence ownership of {t.name}")

    def _end_stages(self) -> None:
        for stage in self._stages:
            stage.abort()
        self._stages = []
        if self._admin is not None:
            with contextlib.suppress(Exception):
                if self._staging is not None:
                    self._admin.execute(f"DROP SCHEMA IF EXISTS {qi(self._staging)} CASCADE")
                    self._admin.execute("SELECT pg_advisory_unlock_all()")
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None
            self._staging = None

    # helpers
    def _exec(self, sql: str, params: Any = None, *, what: str) -> list[tuple[Any, ...]]:
        try:
            cur = self._conn.execute(sql, params)
            return cur.fetchall() if cur.description else []
        except psycopg.errors.ForeignKeyViolation as exc:
            missing = re.search(r'is not present in table "([^"]+)"', exc.diag.message_detail or "")
            raise ForeignKeyError(
                f"{what} failed: {_first_line(exc)} {exc.diag.message_detail or ''}".strip(),
                table=exc.diag.table_name or "",
                references=missing.group(1) if missing else "",
            ) from exc
        except psycopg.Error as exc:
            raise RestoreError(f"{what} failed: {_first_line(exc)}") from exc

    def begin(self, stream: dict[str, Any], tables: Sequence[str]) -> None:
        if stream.get("engine") != self.engine or stream.get("row_format") != ROW_FORMAT:
            raise RestoreError(
                f"This backup comes from {stream.get('engine')!r}; it cannot be restored "
                "into PostgreSQL."
            )
        self.step("prepare")
        self._exec("SET LOCAL search_path = pg_catalog", what="Starting the restore")
        self._exec(
            "SELECT set_config('lock_timeout', %s, true), "
            "set_config('maintenance_work_mem', %s, true), set_config('work_mem', %s, true)",
            (self._lock_timeout, self._mwm, self._work_mem),
            what="Starting the restore",
        )
        existing = []
        for name in tables:
            schema, rel = split_name(name)
            if schema is None:
                raise RestoreError(f"Table name {name!r} in the backup is not schema-qualified.")
            row = self._exec(
                "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relname = %s",
                (schema, rel),
                what="Inspecting the target",
            )
            if row:
                if row[0][0] != "r":
                    raise RestoreError(f"{name!r} exists in the target but is not a table.")
                existing.append(qname(schema, rel))
                self._existing.add(name)
        if not existing:
            return
        self._exec(
            f"LOCK TABLE {', '.join(existing)} IN ACCESS EXCLUSIVE MODE",
            what="Locking the tables to restore (is the application still using them?)",
        )
        regs = existing
        fks = self._exec(
            """
            SELECT DISTINCT c.oid, quote_ident(n.nspname) || '.' || quote_ident(r.relname),
                   c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c
            JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
            WHERE c.contype = 'f'
              AND (c.conrelid = ANY(%(t)s::regclass[]) OR c.confrelid = ANY(%(t)s::regclass[]))
            ORDER BY 2, 3
            """,
            {"t": regs},
            what="Reading foreign keys",
        )
        # Several files (scopes) call this once each: drop only what this call found (what
        # an earlier file's call dropped is gone already, and is re-created once at the end).
        new_fks = [(owner, conname, definition) for _, owner, conname, definition in fks]
        new_constraints = []
        self._restore_fks.extend(new_fks)
        for q in existing:
            for conname, contype, definition, _, _ in self._exec(
                _CONSTRAINTS_SQL, (q,), what="Reading constraints"
            ):
                if contype in ("p", "u", "x"):
                    new_constraints.append((q, conname, definition))
            for _, definition in self._exec(_INDEXES_SQL, (q,), what="Reading indexes"):
                self._restore_indexes.append(definition)
            for (tgname,) in self._exec(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass"
                " AND NOT tgisinternal AND tgenabled = 'O'",
                (q,),
                what="Reading triggers",
            ):
                self._restore_triggers.append((q, tgname))
        self._restore_constraints.extend(new_constraints)
        for owner, conname, _ in new_fks:
            self._exec(
                f"ALTER TABLE {owner} DROP CONSTRAINT {qi(conname)}",
                what=f"Dropping foreign key {conname}",
            )
        for q, conname, _ in new_constraints:
            self._exec(f"ALTER TABLE {q} DROP CONSTRAINT {qi(conname)}", what=f"Dropping {conname}")
        for q in existing:
            for (idx,) in self._exec(
                """SELECT quote_ident(n.nspname) || '.' || quote_ident(ic.relname)
                   FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                   JOIN pg_namespace n ON n.oid = ic.relnamespace
                   WHERE i.indrelid = %s::regclass""",
                (q,),
                what="Listing indexes",
            ):
                self._exec(f"DROP INDEX {idx}", what=f"Dropping index {idx}")
        for q, tgname in self._restore_triggers:
            self._exec(f"ALTER TABLE {q} DISABLE TRIGGER {qi(tgname)}", what=f"Disabling {tgname}")
        self._exec(f"TRUNCATE ONLY {', '.join(existing)}", what="Emptying the tables")

    def begin_table(self, meta: dict[str, Any]) -> None:
        name = meta["name"]
        q = qname(meta["schema"], meta["table"])
        columns = list(meta["copy_columns"])
        created = name not in self._existing
        self.step(f"load {name}")
        defs = None
        if not created:
            self._check_columns(name, q, columns)
        elif (defs := self._staged_index_defs(meta)) is None:
            self._create(meta, q)
        else:  # built beside the restore and moved into this schema at the end (_Stage)
            self._exec(
                f"CREATE SCHEMA IF NOT EXISTS {qi(meta['schema'])}",
                what=f"Creating schema of {name}",
            )
            while sum(stage.busy for stage in self._stages) >= STAGED_LOADS:
                next(stage for stage in self._stages if stage.busy).wait()
            stage = _Stage(self, meta, defs)
            self._stages.append(stage)
            self._current = _Loaded(name, q, columns, meta, created, stage=stage)
            return
        cols = ", ".join(qi(c) for c in columns)
        self._current = _Loaded(name, q, columns, meta, created)
        stack = contextlib.ExitStack()
        try:
            cur = stack.enter_context(self._conn.cursor())
            self._copy = stack.enter_context(
                cur.copy(f"COPY {q} ({cols}) FROM STDIN{' WITH (FREEZE)' if self._freeze else ''}")
            )
        except psycopg.Error as exc:
            stack.close()
            raise RestoreError(f"Loading {name} failed: {_first_line(exc)}") from exc
        self._copy_stack = stack

    def _create(self, meta: dict[str, Any], q: str) -> None:
        name = meta["name"]
        self._exec(
            f"CREATE SCHEMA IF NOT EXISTS {qi(meta['schema'])}", what=f"Creating schema of {name}"
        )
        for enum in meta.get("enum_types", []):
            if not self._exec("SELECT to_regtype(%s)", (enum["name"],), what="Reading types")[0][0]:
                labels = ", ".join("'" + x.replace("'", "''") + "'" for x in enum["labels"])
                self._exec(
                    f"CREATE TYPE {enum['name']} AS ENUM ({labels})",
                    what=f"Creating type {enum['name']}",
                )
        for sql in meta["create"]:
            self._exec(sql, what=f"Creating table {name}")
        for c in meta["constraints"]:
            if c["type"] == "c":  # checked row by row during COPY: no extra scan
                self._exec(
                    f"ALTER TABLE {q} ADD CONSTRAINT {qi(c['name'])} {c['definition']}",
                    what=f"Adding check {c['name']} to {name}",
                )

    def _check_columns(self, name: str, q: str, columns: list[str]) -> None:
        rows = self._exec(
            """SELECT attname, attnotnull, atthasdef, attidentity, attgenerated
               FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0
               AND NOT attisdropped""",
            (q,),
            what=f"Reading columns of {name}",
        )
        target = {r[0]: r for r in rows}
        missing = [c for c in columns if c not in target or target[c][4]]
        if missing:
            raise RestoreError(
                f"Table {name} in the target lacks column(s) {', '.join(missing)} that the "
                "backup holds; the schemas differ too much to restore into it."
            )
        wanted = set(columns)
        required = [
            r[0] for r in rows if r[0] not in wanted and r[1] and not (r[2] or r[3] or r[4])
        ]
        if required:
            raise RestoreError(
                f"Table {name} in the target has NOT NULL column(s) {', '.join(required)} "
                "without default that the backup does not hold."
            )

    def write_rows(self, data: memoryview) -> None:
        if self._current is not None and self._current.stage is not None:
            self._current.stage.write(data)
            return
        try:
            self._copy.write(data)
        except psycopg.Error as exc:
            name = self._current.name if self._current else "?"
            raise RestoreError(f"Loading {name} failed: {_first_line(exc)}") from exc

    def end_table(self, meta: dict[str, Any]) -> None:
        cur = self._current
        assert cur is not None
        if cur.stage is not None:
            cur.stage.end()
            cur.end = meta
            self._loaded[cur.name] = cur
            self._current = None
            return
        assert self._copy_stack is not None
        stack, self._copy_stack = self._copy_stack, None
        try:
            stack.close()
        except psycopg.Error as exc:
            raise RestoreError(f"Loading {cur.name} failed: {_first_line(exc)}") from exc
        cur.end = meta
        self._loaded[cur.name] = cur
        self._current = None
        self._copy = None

    def _abort_copy(self) -> None:
        if self._copy_stack is not None:
            stack, self._copy_stack = self._copy_stack, None
            with contextlib.suppress(Exception):
                stack.__exit__(RestoreError, RestoreError("aborted"), None)

    def finish(self, replay: Callable[[], None] | None = None) -> list[TableResult]:
        """Constraints and indexes, checksums of the loaded rows, then ``replay`` (the
        journal of a point-in-time restore: its changes need the indexes but must not meet a
        foreign key before they are all applied, as scopes' backups come from different
        moments), then foreign keys (validated), triggers and sequences."""
        staged = {t.name: t.stage.wait() for t in self._loaded.values() if t.stage is not None}
        self.step("constraints")
        for t in self._loaded.values():
            if t.stage is not None:
                self._move_into_place(t)
        created = [t for t in self._loaded.values() if t.created]
        for t in created:
            if t.stage is not None:  # its keys and indexes came along
                continue
            for c in t.meta["constraints"]:
                if c["type"] in ("p", "u", "x"):
                    self._restore_constraints.append((t.qualified, c["name"], c["definition"]))
            for ix in t.meta["indexes"]:
                self._restore_indexes.append(ix["definition"])
        for q, conname, definition in self._restore_constraints:
            self._exec(
                f"ALTER TABLE {q} ADD CONSTRAINT {qi(conname)} {definition}",
                what=f"Re-creating constraint {conname} on {q}",
            )
        self.step("indexes")
        for definition in self._restore_indexes:
            self._exec(definition, what=f"Re-creating index ({definition})")
        self.step("checksums")
        results = []
        for t in self._loaded.values():
            spec = t.meta.get("checksum") or {}
            if spec.get("algorithm") != CHECKSUM_ALGORITHM:
                raise RestoreError(
                    f"Table {t.name}: unknown checksum algorithm {spec.get('algorithm')!r}."
                )
            if t.name in staged:  # computed on the staged table, the same rows
                rows, checksum = staged[t.name]
            else:
                sql = checksum_sql(t.qualified, spec["columns"])
                rows, checksum = self._exec(sql, what=f"Checksumming {t.name}")[0]
            results.append(
                TableResult(
                    name=t.name,
                    rows_expected=int(t.end.get("rows", -1)),
                    rows_restored=int(rows),
                    checksum_expected=str(t.end.get("checksum")),
                    checksum_restored=str(checksum),
                    created=t.created,
                )
            )
        bad = [r for r in results if not r.checksum_ok]
        if bad:
            detail = "; ".join(
                f"{r.name}: {r.rows_restored} of {r.rows_expected} rows"
                + ("" if r.checksum_expected == r.checksum_restored else ", checksum differs")
                for r in bad
            )
            raise ChecksumMismatchError(
                "The restored data does not match the backup, so nothing was changed "
                f"({detail}). Column types in the target may differ from the backup's."
            )
        if replay is not None:
            replay()
        self.step("foreign keys")
        for t in created:
            for c in t.meta["constraints"]:
                if c["type"] != "f":
                    continue
                ref = c.get("references")
                if ref and not self._exec("SELECT to_regclass(%s)", (ref,), what="Reading")[0][0]:
                    self.warnings.append(
                        f"Foreign key {c['name']} on {t.name} was not created: the table it "
                        f"references ({ref}) does not exist in the target."
                    )
                    continue
                self._restore_fks.append((t.qualified, c["name"], c["definition"]))
        for owner, conname, definition in self._restore_fks:
            self._add_foreign_key(owner, conname, definition)
        for q, tgname in self._restore_triggers:
            self._exec(f"ALTER TABLE {q} ENABLE TRIGGER {qi(tgname)}", what=f"Enabling {tgname}")
        self.step("sequences")
        for t in self._loaded.values():
            self._reset_sequences(t)
        return results

    def _add_foreign_key(self, owner: str, conname: str, definition: str) -> None:
        """Add a foreign key and validate every row, as fast as the data allows.

        Adding it NOT VALID first and then VALIDATE ends in the same state as a plain ADD,
        but lets us look at the constraint's columns first: when an index covers them, the
        check runs as a merge anti-join of two index-only scans (the loaded pages are
        all-visible thanks to COPY FREEZE), typically 3x faster than the hash anti-join the
        planner picks without statistics.
        """
        what = f"Re-validating foreign key {conname} on {owner}"
        if definition.rstrip().upper().endswith("NOT VALID"):  # was never validated
            self._exec(f"ALTER TABLE {owner} ADD CONSTRAINT {qi(conname)} {definition}", what=what)
            return
        self._exec(
            f"ALTER TABLE {owner} ADD CONSTRAINT {qi(conname)} {definition} NOT VALID", what=what
        )
        (indexed,) = self._exec(_FK_INDEXED_SQL, (owner, conname), what=what)[0]
        if indexed and self._freeze:
            self._exec("SET LOCAL enable_hashjoin = off", what=what)
        self._exec(f"ALTER TABLE {owner} VALIDATE CONSTRAINT {qi(conname)}", what=what)
        if indexed and self._freeze:  # (after a failure the transaction is dead anyway)
            self._exec("SET LOCAL enable_hashjoin TO DEFAULT", what=what)

    def _reset_sequences(self, t: _Loaded) -> None:
        """Move each sequence past max(column) and past the backup's value; never back."""
        saved = {s["column"]: s for s in t.meta.get("sequences", [])}
        for attname, seqname, seqoid, _ in self._exec(
            _SEQUENCES_SQL, {"t": t.qualified}, what=f"Reading sequences of {t.name}"
        ):
            inc = self._exec(
                "SELECT seqincrement FROM pg_sequence WHERE seqrelid = %s", (seqoid,), what="Seq"
            )
            if not inc or inc[0][0] <= 0:
                continue
            (mx,) = self._exec(
                f"SELECT max({qi(attname)})::bigint FROM ONLY {t.qualified}",
                what=f"Reading max({attname}) of {t.name}",
            )[0]
            cur_last, cur_called = self._exec(
                f"SELECT last_value, is_called FROM {seqname}", what=f"Reading {seqname}"
            )[0]
            cands = [mx, cur_last if cur_called else None]
            s = saved.get(attname)
            if s and s.get("is_called"):
                cands.append(s.get("last_value"))
            vals = [int(v) for v in cands if v is not None]
            if vals:
                self._exec(
                    "SELECT setval(%s::regclass, %s, true)",
                    (seqname, max(vals)),
                    what=f"Resetting {seqname}",
                )

    def commit(self) -> None:
        self.step("commit")
        try:
            self._conn.commit()
        except psycopg.Error as exc:
            raise RestoreError(f"Committing the restore failed: {_first_line(exc)}") from exc

    def rollback(self) -> None:
        self._abort_copy()
        for stage in self._stages:
            stage.abort()
        with contextlib.suppress(Exception):
            self._conn.rollback()

    def close(self) -> None:
        self._abort_copy()
        for stage in self._stages:
            stage.abort()
        with contextlib.suppress(Exception):
            self._conn.close()
        self._end_stages()
