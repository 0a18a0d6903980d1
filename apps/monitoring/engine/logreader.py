"""Read what was appended to a directory of log files since the last round, and count error lines.

Incremental: a cursor per file, keyed by the file's identity (device and inode) and the hash of
its first bytes, keeps the offset of the first byte not yet read. That survives the usual rotations:

* rename (``app.log`` → ``app.log.1``, a new ``app.log``): the renamed file keeps its inode, so its
  last lines are still read once; the new file is read from its start;
* copy-truncate (the file shrinks below the cursor): read again from the start;
* a deleted file whose inode is reused: the head hash differs, so it is read from the start.

Bytes are never decoded: a line is whatever ends in ``\\n``, so non-UTF-8 text cannot break the
reader. A line still being written (no ``\\n`` yet) is left for the next round. Memory stays at
one block (1 MiB) whatever the size of the files.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

BLOCK = 1 << 20
HEAD = 64
DEFAULT_ERROR_PATTERN = r"\b(?:ERROR|CRITICAL|FATAL)\b"
COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip")


@dataclass
class LogReadResult:
    lines: int = 0
    error_lines: int = 0
    bytes_read: int = 0
    files: int = 0
    cursors: dict[str, dict] = field(default_factory=dict)
    # The first error lines of the round (cut to 300 bytes, decoded leniently), as evidence.
    examples: list[str] = field(default_factory=list)


def _head(path: Path, size: int) -> str:
    if size < HEAD:
        return ""
    with open(path, "rb") as f:
        return hashlib.sha1(f.read(HEAD)).hexdigest()[:16]


def log_files(directory: str | os.PathLike[str], pattern: str = "*.log*") -> list[Path]:
    root = Path(directory)
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.glob(pattern)
        if p.is_file() and not p.is_symlink() and not p.name.endswith(COMPRESSED)
    )


def read_new_lines(
    directory: str | os.PathLike[str],
    cursors: Mapping[str, Mapping],
    *,
    pattern: str = "*.log*",
    error_pattern: str = DEFAULT_ERROR_PATTERN,
    start_at_end: bool = False,
    max_examples: int = 5,
) -> LogReadResult:
    """Count lines and error lines appended since ``cursors``; the result carries new cursors.

    ``start_at_end``: files never seen before are skipped to their end (the first round of a new
    probe does not alarm on the history already in the directory).
    """
    errors = re.compile(error_pattern.encode())
    result = LogReadResult()
    for path in log_files(directory, pattern):
        try:
            st = path.stat()
            head = _head(path, st.st_size)
        except OSError:
            continue  # rotated away between the listing and now: read next round under its new name
        key = f"{st.st_dev}:{st.st_ino}"
        known = cursors.get(key)
        reused = (
            known is not None and bool(known.get("head")) and bool(head) and known["head"] != head
        )
        if known is not None and not reused:
            offset = int(known.get("offset", 0))
            if st.st_size < offset:
                offset = 0  # truncated in place (copy-truncate rotation)
        else:
            offset = st.st_size if start_at_end and known is None else 0
        offset = _read_from(path, offset, errors, result, max_examples)
        result.cursors[key] = {"offset": offset, "head": head, "name": path.name}
        result.files += 1
    return result


def _read_from(
    path: Path, offset: int, errors: re.Pattern[bytes], result: LogReadResult, max_examples: int
) -> int:
    """Read whole lines from ``offset``; returns the offset after the last whole line."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError:
        return offset
    with f:
        f.seek(offset)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(f.fileno(), offset, 0, os.POSIX_FADV_SEQUENTIAL)
        carry = b""
        while True:
            block = f.read(BLOCK)
            if not block:
                break
            data = carry + block if carry else block
            end = data.rfind(b"\n")
            if end < 0:
                if len(data) >= BLOCK:
                    # A line longer than a block: take it as it is rather than stall on it.
                    _count(data, errors, result, max_examples)
                    result.lines += 1
                    offset += len(data)
                    result.bytes_read += len(data)
                    carry = b""
                else:
                    carry = data
                continue
            whole = data[: end + 1]
            carry = data[end + 1 :]
            result.lines += whole.count(b"\n")
            _count(whole, errors, result, max_examples)
            offset += len(whole)
            result.bytes_read += len(whole)
    return offset


def _count(
    data: bytes, errors: re.Pattern[bytes], result: LogReadResult, max_examples: int
) -> None:
    """Error lines: lines with at least one match (a line with two matches counts once)."""
    last_line = -1
    for match in errors.finditer(data):
        start = data.rfind(b"\n", 0, match.start()) + 1
        if start == last_line:
            continue
        last_line = start
        result.error_lines += 1
        if len(result.examples) < max_examples:
            stop = data.find(b"\n", match.start())
            line = data[start : stop if stop >= 0 else len(data)]
            result.examples.append(line[:300].decode("utf-8", "replace"))
