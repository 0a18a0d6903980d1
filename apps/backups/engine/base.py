"""What every database adapter shares: URL parsing, the abstract source and target, and what a
restore did to one table. Imports no adapter, so adapters and the code choosing them import this
module and never each other."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from .errors import RestoreError, SourceError

Hook = Callable[[str], None]


@dataclass(frozen=True)
class DbUrl:
    """A parsed database URL; ``display`` never contains the password."""

    engine: str  # "postgresql" | "sqlite"
    url: str
    display: str
    path: str = ""


def parse_url(url: str) -> DbUrl:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("postgres", "postgresql"):
        netloc = parts.netloc
        if parts.password is not None:
            netloc = netloc.replace(":" + parts.password + "@", ":***@", 1)
        display = urlunsplit((scheme, netloc, parts.path, "", ""))
        return DbUrl("postgresql", url, display)
    if scheme == "sqlite":
        # dj-database-url convention: sqlite:///relative/path, sqlite:////absolute/path
        if not url.lower().startswith("sqlite:///"):
            raise SourceError("SQLite URLs look like sqlite:///relative.db or sqlite:////abs.db")
        path = unquote(url[len("sqlite:///") :].split("?", 1)[0])
        if not path:
            raise SourceError("The SQLite URL names no database file.")
        return DbUrl("sqlite", url, f"sqlite:///{path}", path)
    raise SourceError(
        f"Unsupported database URL scheme {parts.scheme!r}: use postgresql:// or sqlite:///."
    )


@dataclass(frozen=True)
class SharedSnapshot:
    """A moment of a PostgreSQL database that a transaction kept open by the caller exported
    (``pg_export_snapshot``), with the WAL position then: backups of several scopes that all
    read it fit together, as if they were one backup."""

    id: str
    wal_lsn: str


@dataclass
class TableResult:
    """What a restore did to one table."""

    name: str
    rows_expected: int
    rows_restored: int
    checksum_expected: str
    checksum_restored: str
    created: bool = False

    @property
    def checksum_ok(self) -> bool:
        return (
            self.rows_expected == self.rows_restored
            and self.checksum_expected == self.checksum_restored
        )


class BackupSource(ABC):
    """A read-only, consistent view of one database for the duration of a backup."""

    engine: str = ""
    row_format: str = ""

    def __enter__(self) -> BackupSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def resolve(self, names: Sequence[str]) -> list[str]:
        """Canonical names for the requested tables; SourceError for unknown ones."""

    @abstractmethod
    def stream_info(self) -> dict[str, Any]:
        """engine, database, server_version, row format and session settings."""

    @abstractmethod
    def estimate(self, table: str) -> tuple[float, float]:
        """(weight for progress, estimated row count)."""

    @abstractmethod
    def describe(self, table: str) -> dict[str, Any]:
        """The TABLE_BEGIN body: columns, DDL, constraints, indexes, sequences."""

    @abstractmethod
    def read_rows(self, table: str) -> Iterator[bytes]:
        """Row data in blocks of about 1 MiB, each ending at a row boundary."""

    @abstractmethod
    def checksum(self, table: str) -> tuple[int, str]:
        """(row count, order-independent checksum) in the same snapshot as read_rows."""

    def start_checksums(self, tables: Sequence[str]) -> None:  # noqa: B027 - optional
        """Optionally start computing checksums ahead of time."""


class RestoreTarget(ABC):
    """Receives a backup stream and replaces tables in one transaction."""

    engine: str = ""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.hook: Hook | None = None
        # Journaled rows a target may load with a table it creates (a point-in-time restore:
        # ``journal.AppendedRows`` by table name); it sets ``taken`` on those it loaded.
        self.appends: dict[str, Any] = {}

    def step(self, name: str) -> None:
        """Report a step; tests use the hook to inject failures at a precise point."""
        if self.hook is not None:
            self.hook(name)

    @abstractmethod
    def begin(self, stream: dict[str, Any], tables: Sequence[str]) -> None:
        """Start the transaction and prepare the existing tables among ``tables``."""

    @abstractmethod
    def begin_table(self, meta: dict[str, Any]) -> None: ...

    @abstractmethod
    def write_rows(self, data: memoryview) -> None: ...

    @abstractmethod
    def end_table(self, meta: dict[str, Any]) -> None: ...

    @abstractmethod
    def finish(self, replay: Callable[[], None] | None = None) -> list[TableResult]:
        """Rebuild constraints/indexes, compare checksums: raise to roll back.

        ``replay()`` (a point-in-time restore's journal) runs once the loaded rows matched
        their checksums, before anything that would act on the rows it changes: foreign keys
        are validated and triggers re-enabled only after it."""

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


def match_tables(requested: Sequence[str], available: Sequence[str]) -> list[str]:
    """Map requested names ("orders" or "public.orders") onto canonical names in a file."""
    out = []
    for name in requested:
        if name in available:
            out.append(name)
            continue
        hits = [a for a in available if a.rsplit(".", 1)[-1] == name]
        if len(hits) != 1:
            why = "is ambiguous" if hits else "is not in this backup"
            raise RestoreError(f"Table {name!r} {why} (it holds: {', '.join(available)}).")
        out.append(hits[0])
    return out
