"""Database adapters chosen from a URL, and log-file helpers.

``open_source(url)`` gives a :class:`BackupSource` (read a consistent snapshot of tables),
``open_target(url)`` a :class:`RestoreTarget` (replace tables all-or-nothing). Supported:
``postgres://`` / ``postgresql://`` (psycopg 3) and ``sqlite:///relative`` /
``sqlite:////absolute`` (sqlite3). The adapters know nothing about any particular schema:
they work from table names and the database's own catalog.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from .errors import RestoreError, SourceError

FILE_BLOCK = 1 << 20
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
    def finish(self) -> list[TableResult]:
        """Rebuild constraints/indexes, compare checksums: raise to roll back."""

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


def open_source(url: str) -> BackupSource:
    db = parse_url(url)
    if db.engine == "postgresql":
        from .postgres import PostgresSource

        return PostgresSource(db)
    from .sqlite import SqliteSource

    return SqliteSource(db)


def open_target(url: str) -> RestoreTarget:
    db = parse_url(url)
    if db.engine == "postgresql":
        from .postgres import PostgresTarget

        return PostgresTarget(db)
    from .sqlite import SqliteTarget

    return SqliteTarget(db)


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


# --- log files -------------------------------------------------------------------------


@dataclass(frozen=True)
class LogFile:
    name: str  # relative POSIX path inside the log directory
    path: Path
    size: int
    mtime: float


def find_log_files(log_dir: str | os.PathLike[str], pattern: str) -> list[LogFile]:
    """Regular files under ``log_dir`` matching the glob ``pattern`` (``**`` allowed)."""
    root = Path(log_dir)
    if not root.is_dir():
        raise SourceError(f"The log directory {str(root)!r} does not exist.")
    files = []
    for p in sorted(root.glob(pattern)):
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            files.append(LogFile(p.relative_to(root).as_posix(), p, st.st_size, st.st_mtime))
    return files


def read_file_blocks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while block := f.read(FILE_BLOCK):
            yield block


def safe_relative(name: str) -> PurePosixPath:
    """Reject names that would escape the restore directory."""
    p = PurePosixPath(name)
    if not name or "\0" in name or p.is_absolute() or any(x in ("..", "") for x in p.parts):
        raise RestoreError(f"The backup holds a file with an unsafe name: {name!r}.")
    return p


@dataclass
class LogStager:
    """Writes restored files into a hidden temp dir, moved into place only on commit."""

    target: Path
    _tmp: Path | None = None
    _current: Any = None
    staged: list[tuple[PurePosixPath, float]] = field(default_factory=list)

    def _tmpdir(self) -> Path:
        if self._tmp is None:
            try:
                self.target.mkdir(parents=True, exist_ok=True)
                self._tmp = Path(tempfile.mkdtemp(prefix=".restore-", dir=self.target))
            except OSError as exc:
                raise RestoreError(
                    f"Cannot write restored log files to {str(self.target)!r}: {exc.strerror}."
                ) from None
        return self._tmp

    def begin(self, name: str, mtime: float) -> None:
        rel = safe_relative(name)
        dest = self._tmpdir() / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._current = open(dest, "wb")  # noqa: SIM115 - closed in end()/abort()
        self.staged.append((rel, mtime))

    def write(self, data: memoryview) -> None:
        self._current.write(data)

    def end(self) -> None:
        f, self._current = self._current, None
        f.flush()
        os.fsync(f.fileno())
        f.close()

    def commit(self) -> list[str]:
        """Move every staged file into place (each move is an atomic rename)."""
        if self._tmp is None:
            return []
        for rel, mtime in self.staged:
            src, dest = self._tmp / rel, self.target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.utime(src, (mtime, mtime))
            os.replace(src, dest)
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = None
        _fsync_dir(self.target)
        return [str(rel) for rel, _ in self.staged]

    def abort(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
