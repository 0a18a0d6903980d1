"""SQLite backup source and restore target (the embedded default; small data).

Rows travel as JSON lines: one JSON array per row, ``\\n``-terminated, in the table's column
order. Integers, floats (shortest exact repr), text and NULL map to JSON directly; BLOBs are
``{"$b64": "..."}``. The checksum is the sum of the first 8 bytes (big-endian) of BLAKE2b over
each row's line, computed in Python on both ends, so row order does not matter.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .base import BackupSource, DbUrl, RestoreTarget, TableResult
from .errors import (
    ChecksumMismatchError,
    ForeignKeyError,
    RestoreError,
    SourceError,
    SourceUnreachableError,
    TargetUnreachableError,
)

ROW_FORMAT = "jsonl"
CHECKSUM_ALGORITHM = "sqlite-sum-blake2b64-jsonl-v1"
BLOCK = 1 << 20


def qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"unsupported SQLite value {type(value).__name__}")


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)


def encode_row(row: Sequence[Any]) -> bytes:
    return (_encoder.encode(list(row)) + "\n").encode("utf-8")


def _decode_value(v: Any) -> Any:
    if isinstance(v, dict):
        return base64.b64decode(v["$b64"])
    return v


def decode_line(line: bytes) -> list[Any]:
    return [_decode_value(v) for v in json.loads(line)]


def row_hash(line: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(line, digest_size=8).digest(), "big")


def _table_columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str, int, int]]:
    """(name, type, notnull, hidden) per column; hidden 2/3 are generated columns."""
    return [
        (r[1], r[2], r[3], r[6] if len(r) > 6 else 0)
        for r in conn.execute(f"PRAGMA table_xinfo({qi(table)})")
    ]


def _checksum(conn: sqlite3.Connection, table: str, columns: Sequence[str]) -> tuple[int, str]:
    rows = 0
    total = 0
    cols = ", ".join(qi(c) for c in columns)
    for row in conn.execute(f"SELECT {cols} FROM {qi(table)}"):
        total += row_hash(encode_row(row))
        rows += 1
    return rows, str(total)


class SqliteSource(BackupSource):
    engine = "sqlite"
    row_format = ROW_FORMAT

    def __init__(self, db: DbUrl) -> None:
        self._path = db.path
        if not os.path.isfile(self._path):
            raise SourceUnreachableError(f"The SQLite database {self._path!r} does not exist.")
        try:
            self._conn = sqlite3.connect(
                f"file:{quote(os.path.abspath(self._path))}?mode=ro",
                uri=True,
                isolation_level=None,
            )
            self._conn.execute("BEGIN")  # one read transaction = one consistent snapshot
            self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise SourceUnreachableError(f"Cannot open {self._path!r}: {exc}") from None
        self._columns: dict[str, list[str]] = {}
        self._sums: dict[str, tuple[int, str]] = {}

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("ROLLBACK")
        self._conn.close()

    def resolve(self, names: Sequence[str]) -> list[str]:
        out = []
        for name in names:
            row = self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
                (name,),
            ).fetchone()
            if row is None:
                raise SourceError(f"Table {name!r} does not exist in {self._path!r}.")
            canonical = row[0]
            if canonical in self._columns:
                raise SourceError(f"Table {canonical!r} is listed twice.")
            self._columns[canonical] = [
                c[0] for c in _table_columns(self._conn, canonical) if c[3] not in (2, 3)
            ]
            out.append(canonical)
        return out

    def stream_info(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "database": os.path.basename(self._path),
            "server_version": sqlite3.sqlite_version,
            "row_format": ROW_FORMAT,
            "checksum_algorithm": CHECKSUM_ALGORITHM,
            "settings": {},
        }

    def estimate(self, table: str) -> tuple[float, float]:
        (n,) = self._conn.execute(f"SELECT count(*) FROM {qi(table)}").fetchone()
        return float(max(n, 1)), float(n)

    def describe(self, table: str) -> dict[str, Any]:
        (sql,) = self._conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        indexes = self._conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
            " AND sql IS NOT NULL ORDER BY name",
            (table,),
        ).fetchall()
        columns = [
            {"name": n, "type": t, "not_null": bool(nn), "generated": h in (2, 3)}
            for n, t, nn, h in _table_columns(self._conn, table)
        ]
        return {
            "name": table,
            "schema": None,
            "table": table,
            "columns": columns,
            "copy_columns": self._columns[table],
            "row_format": ROW_FORMAT,
            "create": [sql],
            "constraints": [],
            # Tables this one's foreign keys point to (what a restore must find in place).
            "references": sorted(
                {
                    str(r[2])
                    for r in self._conn.execute(f"PRAGMA foreign_key_list({qi(table)})")
                    if str(r[2]) != table
                }
            ),
            "indexes": [{"name": n, "definition": s} for n, s in indexes],
            "sequences": [],
        }

    def read_rows(self, table: str) -> Iterator[bytes]:
        cols = ", ".join(qi(c) for c in self._columns[table])
        buf = bytearray()
        rows = 0
        total = 0
        for row in self._conn.execute(f"SELECT {cols} FROM {qi(table)}"):
            line = encode_row(row)
            total += row_hash(line)
            rows += 1
            buf += line
            if len(buf) >= BLOCK:
                yield bytes(buf)
                buf = bytearray()
        if buf:
            yield bytes(buf)
        self._sums[table] = (rows, str(total))

    def checksum(self, table: str) -> tuple[int, str]:
        if table not in self._sums:
            self._sums[table] = _checksum(self._conn, table, self._columns[table])
        return self._sums[table]


@dataclass
class _Loaded:
    name: str
    columns: list[str]
    meta: dict[str, Any]
    created: bool
    end: dict[str, Any] = field(default_factory=dict)


class SqliteTarget(RestoreTarget):
    """Restores in one ``BEGIN IMMEDIATE`` transaction with foreign keys checked at the end."""

    engine = "sqlite"

    def __init__(self, db: DbUrl) -> None:
        super().__init__()
        self._path = db.path
        parent = os.path.dirname(os.path.abspath(self._path))
        if not os.path.isdir(parent):
            raise TargetUnreachableError(f"The directory of {self._path!r} does not exist.")
        try:
            self._conn = sqlite3.connect(self._path, isolation_level=None, timeout=30)
            # Off during the load so deleting rows cannot cascade into tables outside the
            # restored set; PRAGMA foreign_key_check validates everything before commit.
            self._conn.execute("PRAGMA foreign_keys = OFF")
        except sqlite3.Error as exc:
            raise TargetUnreachableError(f"Cannot open {self._path!r}: {exc}") from None
        self._existing: set[str] = set()
        self._loaded: dict[str, _Loaded] = {}
        self._current: _Loaded | None = None
        self._insert = ""
        self._carry = b""
        self._in_tx = False

    def _exec(self, sql: str, params: Sequence[Any] = (), *, what: str) -> list[Any]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise RestoreError(f"{what} failed: {exc}") from exc

    def begin(self, stream: dict[str, Any], tables: Sequence[str]) -> None:
        if stream.get("engine") != self.engine or stream.get("row_format") != ROW_FORMAT:
            raise RestoreError(
                f"This backup comes from {stream.get('engine')!r}; it cannot be restored "
                "into SQLite."
            )
        self.step("prepare")
        if not self._in_tx:  # a second file of a multi-file restore joins the transaction
            self._exec("BEGIN IMMEDIATE", what="Starting the restore (is the database busy?)")
            self._in_tx = True
        for name in tables:
            if self._exec(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (name,),
                what="Inspecting the target",
            ):
                self._existing.add(name)
                self._exec(f"DELETE FROM {qi(name)}", what=f"Emptying {name}")

    def begin_table(self, meta: dict[str, Any]) -> None:
        name = meta["name"]
        columns = list(meta["copy_columns"])
        created = name not in self._existing
        self.step(f"load {name}")
        if created:
            for sql in meta["create"]:
                self._exec(sql, what=f"Creating table {name}")
        else:
            have = {c[0] for c in _table_columns(self._conn, name) if c[3] not in (2, 3)}
            missing = [c for c in columns if c not in have]
            if missing:
                raise RestoreError(
                    f"Table {name} in the target lacks column(s) {', '.join(missing)}."
                )
        self._current = _Loaded(name, columns, meta, created)
        self._insert = (
            f"INSERT INTO {qi(name)} ({', '.join(qi(c) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )

    def write_rows(self, data: memoryview) -> None:
        buf = self._carry + bytes(data)
        lines = buf.split(b"\n")
        self._carry = lines.pop()
        try:
            self._conn.executemany(self._insert, (decode_line(x) for x in lines))
        except (sqlite3.Error, ValueError, KeyError) as exc:
            name = self._current.name if self._current else "?"
            raise RestoreError(f"Loading {name} failed: {exc}") from exc

    def end_table(self, meta: dict[str, Any]) -> None:
        assert self._current is not None
        if self._carry:
            raise RestoreError(f"Table {self._current.name}: the last row is incomplete.")
        self._current.end = meta
        self._loaded[self._current.name] = self._current
        self._current = None

    def finish(self, replay: Callable[[], None] | None = None) -> list[TableResult]:
        self.step("indexes")
        for t in self._loaded.values():
            if t.created:
                for ix in t.meta["indexes"]:
                    self._exec(ix["definition"], what=f"Creating index {ix['name']}")
        self.step("foreign keys")
        restored = set(self._loaded)
        check = set(restored)  # the restored tables and every table referencing one of them
        for (name,) in self._exec(
            "SELECT name FROM sqlite_master WHERE type = 'table'", what="Listing tables"
        ):
            refs = self._exec(f"PRAGMA foreign_key_list({qi(name)})", what="Reading keys")
            if any(r[2] in restored for r in refs):
                check.add(name)
        problems = []
        for name in sorted(check):
            problems += self._exec(
                f"PRAGMA foreign_key_check({qi(name)})", what="Checking foreign keys"
            )
        if problems:
            tables = sorted({f"{p[0]} -> {p[2]}" for p in problems})
            raise ForeignKeyError(
                f"{len(problems)} row(s) would break foreign keys ({', '.join(tables[:5])}); "
                "nothing was changed.",
                table=", ".join(sorted({str(p[0]) for p in problems})),
                references=", ".join(sorted({str(p[2]) for p in problems})),
            )
        self.step("checksums")
        results = []
        for t in self._loaded.values():
            rows, checksum = _checksum(self._conn, t.name, t.columns)
            results.append(
                TableResult(
                    t.name,
                    int(t.end.get("rows", -1)),
                    rows,
                    str(t.end.get("checksum")),
                    checksum,
                    t.created,
                )
            )
        bad = [r.name for r in results if not r.checksum_ok]
        if bad:
            raise ChecksumMismatchError(
                f"The restored data does not match the backup for {', '.join(bad)}; "
                "nothing was changed."
            )
        if replay is not None:
            replay()
        return results

    def commit(self) -> None:
        self.step("commit")
        self._exec("COMMIT", what="Committing the restore")
        self._in_tx = False

    def rollback(self) -> None:
        if self._in_tx:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            self._in_tx = False

    def close(self) -> None:
        self.rollback()
        self._conn.close()
