"""Log files: find them under a directory, read them in blocks, and stage restored ones in a
hidden temp directory that is moved into place only on commit."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import RestoreError, SourceError

FILE_BLOCK = 1 << 20


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
        fsync_dir(self.target)
        return [str(rel) for rel, _ in self.staged]

    def abort(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
