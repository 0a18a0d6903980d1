"""Database adapters chosen from a URL.

``open_source(url)`` gives a :class:`BackupSource` (read a consistent snapshot of tables),
``open_target(url)`` a :class:`RestoreTarget` (replace tables all-or-nothing). Supported:
``postgres://`` / ``postgresql://`` (psycopg 3) and ``sqlite:///relative`` /
``sqlite:////absolute`` (sqlite3). The adapters know nothing about any particular schema:
they work from table names and the database's own catalog. What they share lives in
:mod:`.base`, log-file helpers in :mod:`.logfiles`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .base import BackupSource, RestoreTarget, SharedSnapshot, parse_url
from .postgres import PostgresSource, PostgresTarget, hold_snapshot
from .sqlite import SqliteSource, SqliteTarget


def open_source(url: str, *, snapshot: SharedSnapshot | None = None) -> BackupSource:
    db = parse_url(url)
    if db.engine == "postgresql":
        return PostgresSource(db, snapshot=snapshot)
    return SqliteSource(db)


@contextlib.contextmanager
def shared_snapshot(url: str) -> Iterator[SharedSnapshot | None]:
    """One moment of the database for several backups (PostgreSQL; None for SQLite, whose
    scopes are backed up one after the other as before)."""
    db = parse_url(url)
    if db.engine != "postgresql":
        yield None
        return
    with hold_snapshot(db) as snapshot:
        yield snapshot


def open_target(url: str) -> RestoreTarget:
    db = parse_url(url)
    if db.engine == "postgresql":
        return PostgresTarget(db)
    return SqliteTarget(db)
