"""Verification checks: one read-only SELECT that counts the rows breaking a rule.

Checks are SQL that administrators edit, run against a restore target (often the order
system itself), so they are treated as untrusted: a check must be one statement, a SELECT
(or ``WITH ... SELECT``); it runs in a read-only transaction on a connection that is
read-only for the whole session (PostgreSQL: ``default_transaction_read_only`` plus
``BEGIN READ ONLY``, and the extended query protocol, which refuses a second statement;
SQLite: a ``mode=ro`` connection with ``query_only``), and a statement timeout stops it.
The statement is also parsed first (``check_shape``) so a mistake is named before it runs.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import psycopg
import sqlparse

from .base import parse_url
from .errors import CheckError, TargetUnreachableError

DEFAULT_TIMEOUT_MS = 30_000


def check_shape(sql: str) -> str:
    """The check's one statement without a trailing semicolon; raises ``CheckError``."""
    statements = [s for s in sqlparse.parse(sql or "") if str(s).strip().strip(";").strip()]
    if not statements:
        raise CheckError("empty", "The check is empty.")
    if len(statements) > 1:
        raise CheckError("several", "A check must be a single statement.")
    statement = statements[0]
    if statement.get_type() != "SELECT":
        raise CheckError("not_select", "A check must be a SELECT.")
    return str(statement).strip().rstrip(";").strip()


def _one_integer(rows: list[tuple]) -> int:
    value = rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else None
    if isinstance(value, bool) or value is None:
        raise CheckError("shape", "A check must return one row with one whole number.")
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise CheckError("shape", "A check must return one row with one whole number.") from exc
    if number != value:
        raise CheckError("shape", "A check must return one row with one whole number.")
    return number


class ReadOnlyQueries:
    """A read-only session on a target; run several checks with ``run(sql)``."""

    def __init__(self, url: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        self.parsed = parse_url(url)
        self._pg: psycopg.Connection[Any] | None
        self._lite: sqlite3.Connection | None
        self.timeout_ms = int(timeout_ms)
        try:
            if self.parsed.engine == "postgresql":
                self._pg = psycopg.connect(
                    url,
                    connect_timeout=10,
                    options=(
                        "-c default_transaction_read_only=on "
                        f"-c statement_timeout={self.timeout_ms} -c lock_timeout={self.timeout_ms}"
                    ),
                )
                self._pg.read_only = True
                self._lite = None
            else:
                path = Path(self.parsed.path).resolve()
                if not path.is_file():
                    raise TargetUnreachableError(f"No SQLite database at {self.parsed.display}.")
                self._lite = sqlite3.connect(
                    f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None
                )
                self._lite.execute("PRAGMA query_only = ON")
                self._pg = None
        except (psycopg.OperationalError, sqlite3.OperationalError) as exc:
            raise TargetUnreachableError(
                f"Cannot connect to {self.parsed.display}: {str(exc).strip().splitlines()[0]}"
            ) from exc

    def run(self, sql: str) -> int:
        """The check's count; ``CheckError`` for a refused, failed or timed-out check."""
        statement = check_shape(sql)
        if self._pg is not None:
            return self._run_pg(statement)
        return self._run_sqlite(statement)

    def _run_pg(self, statement: str) -> int:
        conn = self._pg
        assert conn is not None
        try:
            # Binary results force the extended protocol: one statement, never a batch.
            cur = conn.cursor(binary=True).execute(statement.replace("%", "%%"), ())
            rows = cur.fetchall() if cur.description else []
            return _one_integer(rows)
        except psycopg.errors.QueryCanceled as exc:
            raise CheckError("timeout", f"The check ran longer than {self.timeout_ms} ms.") from exc
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            raise CheckError("writes", "The check tried to change data.") from exc
        except psycopg.Error as exc:
            raise CheckError("failed", str(exc).strip().splitlines()[0]) from exc
        finally:
            conn.rollback()  # nothing a check did survives it, whatever it was

    def _run_sqlite(self, statement: str) -> int:
        conn = self._lite
        assert conn is not None
        deadline = time.monotonic() + self.timeout_ms / 1000
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            conn.execute("BEGIN")
            try:
                rows = conn.execute(statement).fetchall()
            finally:
                conn.execute("ROLLBACK")
            return _one_integer(rows)
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise CheckError(
                    "timeout", f"The check ran longer than {self.timeout_ms} ms."
                ) from exc
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise CheckError("writes", "The check tried to change data.") from exc
            raise CheckError("failed", str(exc)) from exc
        except (sqlite3.Error, sqlite3.Warning) as exc:
            raise CheckError("failed", str(exc)) from exc
        finally:
            conn.set_progress_handler(None, 0)

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()
        if self._lite is not None:
            self._lite.close()

    def __enter__(self) -> ReadOnlyQueries:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_check(url: str, sql: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> int:
    """Run one check read-only against ``url``; see :class:`ReadOnlyQueries`."""
    with ReadOnlyQueries(url, timeout_ms=timeout_ms) as queries:
        return queries.run(sql)
