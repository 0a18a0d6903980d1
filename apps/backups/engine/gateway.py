"""The one way into the order system's database (and its scratch copies) from the rest of the site.

Everything outside ``apps/backups/engine`` that talks to the order system does it here:

* ``connect(url)``: a small DB-API session (PostgreSQL through psycopg, SQLite through sqlite3)
  for the reference read and the order push (``manual_orders/handback.py``);
* ``ping(url)``: open, ``SELECT 1``, close, with a short timeout (the readiness probe);
* ``create_scratch_database`` / ``drop_scratch_database`` / ``scratch_database()``: rehearsal
  and throw-away databases, refusing any name that is not a configured scratch name;
* ``read_only_queries`` / ``check_shape``: the admin-edited checks, through :mod:`.checks`;
* ``probe_reads`` / ``replication_slot_lag``: the monitoring probes' reads (read-only session,
  connect and statement timeouts).

The adapters (``postgres``, ``sqlite``, ``sources``, ``base``, ``logfiles``, ``checks``) are
private to the engine. This module is the only one of the engine that reads Django settings
(which URLs are the order system and its scratch targets), and only inside functions.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from .base import DbUrl, parse_url
from .checks import ReadOnlyQueries, check_shape
from .errors import EngineError, SourceUnreachableError

__all__ = [
    "DB_ERRORS",
    "OrderDb",
    "ReadOnlyQueries",
    "ScratchNameError",
    "check_shape",
    "connect",
    "create_scratch_database",
    "drop_scratch_database",
    "is_missing_table",
    "is_scratch_url",
    "order_system_url",
    "ping",
    "probe_reads",
    "read_only_queries",
    "read_rows",
    "replication_slot_lag",
    "scratch_database",
]

# What a driver raises when the database itself refuses or fails (not an engine error).
DB_ERRORS: tuple[type[Exception], ...] = (psycopg.Error, sqlite3.Error)
# Throw-away copies restored from backups: "<order db>_from_backup_<8 hex>".
_FROM_BACKUP = "_from_backup_"
_FROM_BACKUP_RE = re.compile(r"^[^\"\\\x00]{1,40}_from_backup_[0-9a-f]{8}$")


class ScratchNameError(EngineError):
    """A scratch-database operation was asked for a database that is not a scratch one."""


def order_system_url() -> str:
    from django.conf import settings

    return settings.ORDER_SYSTEM_DATABASE_URL


def _pg_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _pg_admin_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def _pg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


# --- sessions ----------------------------------------------------------------------------------
def _sqlite_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class OrderDb:
    """A plain DB-API session on the order system: ``q`` runs one statement (``%s`` params)."""

    def __init__(self, url: str) -> None:
        parsed = parse_url(url)
        self.kind = parsed.engine
        self.conn: Any
        if self.kind == "postgresql":
            self.conn = psycopg.connect(_pg_url(url), autocommit=True)
        else:
            self.conn = sqlite3.connect(parsed.path, timeout=30, isolation_level=None)

    def __enter__(self) -> OrderDb:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        if self.kind != "postgresql":
            sql = sql.replace("%s", "?")
            params = tuple(_sqlite_value(p) for p in params)
        cur = self.conn.execute(sql, params)
        try:
            return list(cur.fetchall())
        except (psycopg.ProgrammingError, sqlite3.ProgrammingError):
            return []

    @contextmanager
    def transaction(self, *, lock_key: int | None = None) -> Iterator[None]:
        """One transaction; on PostgreSQL ``lock_key`` takes a transaction advisory lock (SQLite
        takes its write lock at once, BEGIN IMMEDIATE)."""
        if self.kind == "postgresql":
            with self.conn.transaction():
                if lock_key is not None:
                    self.q("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
                yield
        else:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def connect(url: str | None = None) -> OrderDb:
    """A session on ``url`` (default: the order system)."""
    return OrderDb(url or order_system_url())


def is_missing_table(exc: BaseException) -> bool:
    """Did the database say a table does not exist (an empty order system)?"""
    if isinstance(exc, psycopg.errors.UndefinedTable):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc)


def ping(url: str | None = None, *, timeout: int = 3) -> DbUrl:
    """Open a connection with a short timeout, run ``SELECT 1``, close it.

    Returns the parsed URL (its ``display`` has no password); raises SourceUnreachableError
    with the driver's reason otherwise. Opens a network connection: never call it inside a
    database transaction of the site.
    """
    db = parse_url(url or order_system_url())
    try:
        if db.engine == "postgresql":
            with psycopg.connect(_pg_url(db.url), connect_timeout=timeout) as conn:
                conn.execute("SELECT 1")
        else:
            if not Path(db.path).exists():
                raise SourceUnreachableError(f"no database file at {db.path}")
            lite = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True, timeout=timeout)
            try:
                lite.execute("SELECT 1")
            finally:
                lite.close()
    except DB_ERRORS as exc:
        raise SourceUnreachableError(f"{type(exc).__name__}: {exc}") from exc
    return db


def read_only_queries(url: str | None = None, *, timeout_ms: int) -> ReadOnlyQueries:
    """A read-only session for untrusted check SQL (one SELECT each, statement timeout)."""
    return ReadOnlyQueries(url or order_system_url(), timeout_ms=timeout_ms)


def probe_reads(
    queries: Sequence[tuple[str, Sequence[Any]]], *, url: str | None = None, timeout_ms: int
) -> list[tuple | None]:
    """Run a few SELECTs in one read-only session; the first row of each (None for no row).

    The connection is opened with a connect timeout and ``statement_timeout``/``lock_timeout``
    of ``timeout_ms`` (SQLite: read-only mode and a progress handler deadline), so a hung or
    locked order system raises within the time instead of holding the caller. Driver errors
    (``DB_ERRORS``, a timeout is ``QueryCanceled``) and SourceUnreachableError propagate.
    """
    db = parse_url(url or order_system_url())
    rows: list[tuple | None] = []
    if db.engine == "postgresql":
        connect_s = max(1, -(-int(timeout_ms) // 1000))
        try:
            conn = psycopg.connect(
                _pg_url(db.url),
                connect_timeout=connect_s,
                options=(
                    "-c default_transaction_read_only=on "
                    f"-c statement_timeout={int(timeout_ms)} -c lock_timeout={int(timeout_ms)}"
                ),
                autocommit=True,
            )
        except psycopg.OperationalError as exc:
            raise SourceUnreachableError(str(exc).strip().splitlines()[0][:300]) from exc
        with conn:
            for sql, params in queries:
                rows.append(conn.execute(sql, tuple(params)).fetchone())
        return rows
    import time

    if not Path(db.path).exists():
        raise SourceUnreachableError(f"no database file at {db.path}")
    lite = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True, timeout=timeout_ms / 1000)
    deadline = time.monotonic() + timeout_ms / 1000
    lite.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        for sql, params in queries:
            values = tuple(_sqlite_value(p) for p in params)
            rows.append(lite.execute(sql.replace("%s", "?"), values).fetchone())
    finally:
        lite.close()
    return rows


def read_rows(
    sql: str, params: Sequence[Any] = (), *, url: str | None = None, timeout_ms: int
) -> tuple[list[str], list[tuple]]:
    """One SELECT in a read-only session with connect and statement timeouts (as
    ``probe_reads``): the column names and every row. For bounded reads of the order system or
    a scratch copy of it; driver errors and SourceUnreachableError propagate."""
    db = parse_url(url or order_system_url())
    if db.engine == "postgresql":
        connect_s = max(1, -(-int(timeout_ms) // 1000))
        try:
            conn = psycopg.connect(
                _pg_url(db.url),
                connect_timeout=connect_s,
                options=(
                    "-c default_transaction_read_only=on "
                    f"-c statement_timeout={int(timeout_ms)} -c lock_timeout={int(timeout_ms)}"
                ),
                autocommit=True,
            )
        except psycopg.OperationalError as exc:
            raise SourceUnreachableError(str(exc).strip().splitlines()[0][:300]) from exc
        with conn:
            cur = conn.execute(sql, tuple(params))
            names = [c.name for c in cur.description or []]
            return names, list(cur.fetchall())
    import time

    if not Path(db.path).exists():
        raise SourceUnreachableError(f"no database file at {db.path}")
    lite = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True, timeout=timeout_ms / 1000)
    deadline = time.monotonic() + timeout_ms / 1000
    lite.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        values = tuple(_sqlite_value(p) for p in params)
        cursor = lite.execute(sql.replace("%s", "?"), values)
        names = [c[0] for c in cursor.description or []]
        return names, list(cursor.fetchall())
    finally:
        lite.close()


def replication_slot_lag(slot: str, *, url: str | None = None, timeout_ms: int) -> int | None:
    """Bytes of WAL the logical slot ``slot`` has not confirmed yet; None when there is no such
    slot (or the order system is not PostgreSQL): the change journal is not set up there."""
    db = parse_url(url or order_system_url())
    if db.engine != "postgresql":
        return None
    (row,) = probe_reads(
        [
            (
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
                "FROM pg_replication_slots WHERE slot_name = %s",
                (slot,),
            )
        ],
        url=db.url,
        timeout_ms=timeout_ms,
    )
    if row is None:
        return None
    return int(row[0] or 0)


# --- scratch databases --------------------------------------------------------------------------
def _configured_scratch_names() -> set[str]:
    from django.conf import settings

    names = set()
    for url in dict(settings.BACKUP_SCRATCH_TARGETS).values():
        if parse_url(url).engine == "postgresql":
            names.add(_pg_name(url))
    return names


def _protected_names() -> set[str]:
    from django.conf import settings

    names = {"postgres", "template0", "template1", settings.DATABASES["default"]["NAME"]}
    order = parse_url(order_system_url())
    if order.engine == "postgresql":
        names.add(_pg_name(order.url))
    return names


def is_scratch_url(url: str) -> bool:
    """A configured rehearsal target, or a throw-away copy made from backups; never the order
    system, the site's own database or a PostgreSQL system database."""
    db = parse_url(url)
    if db.engine != "postgresql":
        return False
    name = _pg_name(url)
    if not name or name in _protected_names():
        return False
    return name in _configured_scratch_names() or bool(_FROM_BACKUP_RE.match(name))


def _require_scratch(url: str) -> str:
    if not is_scratch_url(url):
        raise ScratchNameError(
            f"{parse_url(url).display} is not a scratch database: refusing to create or drop it."
        )
    return _pg_name(url)


def create_scratch_database(url: str) -> None:
    """Create the empty PostgreSQL database a rehearsal restore goes into, if it is missing.

    SQLite targets need nothing (the restore creates the file). A name that is not a scratch
    name raises ScratchNameError; an unreachable server is left to the restore to report.
    """
    if parse_url(url).engine != "postgresql":
        return
    name = _require_scratch(url)
    try:
        with psycopg.connect(_pg_url(_pg_admin_url(url)), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        pass  # the restore itself reports an unreachable target clearly


def drop_scratch_database(url: str) -> None:
    if parse_url(url).engine != "postgresql":
        return
    name = _require_scratch(url)
    with psycopg.connect(_pg_url(_pg_admin_url(url)), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database() -> Iterator[str]:
    """A throw-away database beside the order system (same server, or a temp SQLite file);
    yields its URL and removes it afterwards."""
    source = urlsplit(order_system_url())
    if source.scheme.startswith("postgres"):
        base = source.path.lstrip("/")[:40]
        url = urlunsplit(source._replace(path=f"/{base}{_FROM_BACKUP}{uuid.uuid4().hex[:8]}"))
        create_scratch_database(url)
        try:
            yield url
        finally:
            drop_scratch_database(url)
    else:
        tmpdir = tempfile.mkdtemp(prefix="from-backup-")
        try:
            yield f"sqlite:///{tmpdir}/order_system.sqlite3"
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
