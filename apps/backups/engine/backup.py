"""Write one backup file: selected tables (one snapshot) plus optional log files.

The file is written to a hidden temporary name in the destination directory
(``.NAME.<random>.partial``), fsynced, renamed into place and the directory fsynced. Any
exception removes the temporary file, and a killed process can only ever leave a ``.partial``
file behind (see :func:`remove_stale_partials`), never a file under the final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import payload as P
from .base import SharedSnapshot
from .container import DEFAULT_FRAME_SIZE, DEFAULT_LEVEL, DEFAULT_WORKERS, ContainerWriter
from .container import FORMAT_VERSION as CONTAINER_VERSION
from .errors import BackupError, SourceError
from .keys import Keyring
from .logfiles import find_log_files, fsync_dir, read_file_blocks
from .sources import open_source

Progress = Callable[[int, str], None]
MANIFEST_FORMAT = "recovery-site-backup"
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class BackupResult:
    """What was written: the manifest, the file's SHA-256 and size in bytes."""

    path: Path
    manifest: dict[str, Any]
    sha256: str
    size: int


class _Progress:
    """Calls the callback only when the integer percent or the step changes."""

    def __init__(self, callback: Progress | None) -> None:
        self._cb = callback
        self._last: tuple[int, str] | None = None

    def __call__(self, percent: float, step: str) -> None:
        if self._cb is None:
            return
        p = max(0, min(100, int(percent)))
        if (p, step) != self._last:
            self._last = (p, step)
            self._cb(p, step)


class _Throttle:
    """Sleeps just enough to keep the average read rate at or under ``rate`` bytes/second."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.started = time.monotonic()
        self.total = 0

    def __call__(self, nbytes: int) -> None:
        if self.rate <= 0:
            return
        self.total += nbytes
        ahead = self.total / self.rate - (time.monotonic() - self.started)
        if ahead > 0:
            time.sleep(ahead)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_backup(
    *,
    source_url: str,
    tables: Sequence[str],
    out_path: str | os.PathLike[str],
    keyring: Keyring,
    log_dir: str | os.PathLike[str] | None = None,
    log_pattern: str | None = None,
    scope: str,
    kind: str,
    progress: Progress | None = None,
    level: int = DEFAULT_LEVEL,
    frame_size: int = DEFAULT_FRAME_SIZE,
    workers: int = DEFAULT_WORKERS,
    max_rate: int = 0,
    snapshot: SharedSnapshot | None = None,
) -> BackupResult:
    """Back up ``tables`` (and log files) into an encrypted file at ``out_path``.

    ``max_rate`` (bytes per second read from the source, 0 = unlimited) spares a live order
    system during business hours, as ``pg_basebackup --max-rate`` does.

    ``progress(percent, step)`` may raise to cancel: the partial file is then removed.
    ``snapshot`` (``shared_snapshot``) makes several scopes' backups read one moment.
    """
    out = Path(out_path)
    if not out.parent.is_dir():
        raise BackupError(f"The backup directory {str(out.parent)!r} does not exist.")
    if out.exists():
        raise BackupError(f"A file named {out.name!r} already exists; not overwriting it.")
    report = _Progress(progress)
    started = _now()
    t0 = time.monotonic()
    report(0, "Connecting to the database")
    with open_source(source_url, snapshot=snapshot) as src:
        names = src.resolve(list(tables)) if tables else []
        logs = find_log_files(log_dir, log_pattern or "*") if log_dir is not None else []
        estimates = {n: src.estimate(n) for n in names}
        weights = [estimates[n][0] for n in names] + [max(f.size, 1) for f in logs]
        total = float(sum(weights)) or 1.0
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{out.name}.", suffix=PARTIAL_SUFFIX, dir=out.parent
        )
        tmp = Path(tmp_name)
        writer: ContainerWriter | None = None
        try:
            with os.fdopen(fd, "wb", buffering=0) as f:
                writer = ContainerWriter(
                    f, keyring, frame_size=frame_size, level=level, workers=workers
                )
                pw = P.PayloadWriter(writer)
                src.start_checksums(names)
                info = src.stream_info()
                pw.json_record(
                    P.STREAM_BEGIN,
                    {
                        **info,
                        "tables": names,
                        "files": [lf.name for lf in logs],
                        "scope": scope,
                        "kind": kind,
                    },
                )
                throttle = _Throttle(max_rate)
                done = 0.0
                table_entries = []
                for name in names:
                    weight, est_rows = estimates[name]
                    step = f"Backing up table {name}"
                    report(2 + 96 * done / total, step)
                    meta = src.describe(name)
                    pw.json_record(P.TABLE_BEGIN, meta)
                    rows = 0
                    nbytes = 0
                    for block in src.read_rows(name):
                        rows += block.count(b"\n")
                        nbytes += len(block)
                        pw.data(P.TABLE_DATA, block)
                        throttle(len(block))
                        frac = min(1.0, rows / est_rows) if est_rows > 0 else 0.0
                        report(2 + 96 * (done + weight * frac) / total, step)
                    count, checksum = src.checksum(name)
                    if count != rows:
                        raise SourceError(
                            f"Table {name}: COPY returned {rows} rows but the checksum query "
                            f"counted {count} in the same snapshot."
                        )
                    end = {
                        "name": name,
                        "rows": rows,
                        "bytes": nbytes,
                        "checksum": checksum,
                        "checksum_algorithm": info["checksum_algorithm"],
                    }
                    pw.json_record(P.TABLE_END, end)
                    table_entries.append(
                        {
                            "name": name,
                            "columns": [
                                {"name": c["name"], "type": c["type"]} for c in meta["columns"]
                            ],
                            "rows": rows,
                            "bytes": nbytes,
                            "checksum": checksum,
                            "checksum_algorithm": info["checksum_algorithm"],
                            "references": _references(meta),
                        }
                    )
                    done += weight
                file_entries = []
                for lf in logs:
                    step = f"Backing up log file {lf.name}"
                    report(2 + 96 * done / total, step)
                    pw.json_record(
                        P.FILE_BEGIN, {"name": lf.name, "size": lf.size, "mtime": lf.mtime}
                    )
                    h = hashlib.sha256()
                    size = 0
                    for block in read_file_blocks(lf.path):
                        h.update(block)
                        size += len(block)
                        pw.data(P.FILE_DATA, block)
                        throttle(len(block))
                    entry = {
                        "name": lf.name,
                        "size": size,
                        "mtime": lf.mtime,
                        "sha256": h.hexdigest(),
                    }
                    pw.json_record(P.FILE_END, entry)
                    file_entries.append(entry)
                    done += max(lf.size, 1)
                pw.json_record(P.STREAM_END, {"tables": len(names), "files": len(logs)})
                report(98, "Finishing the backup file")
                finished = _now()
                manifest = {
                    "format": MANIFEST_FORMAT,
                    "format_version": CONTAINER_VERSION,
                    "scope": scope,
                    "kind": kind,
                    "key_id": writer.kid,
                    "source": {
                        "engine": info["engine"],
                        "database": info["database"],
                        "server_version": info["server_version"],
                        # PostgreSQL: the snapshot's transactions and WAL position, for the
                        # change journal's point-in-time restore.
                        **{k: info[k] for k in ("txid_snapshot", "wal_lsn") if info.get(k)},
                    },
                    "row_format": info["row_format"],
                    "compression": {"algorithm": "zstd", "level": level, "frame_size": frame_size},
                    "tables": table_entries,
                    "files": file_entries,
                    "payload_bytes": writer.plaintext_size,
                    "started_at": started,
                    "finished_at": finished,
                    "duration_seconds": round(time.monotonic() - t0, 3),
                }
                writer.finish(manifest)
                os.fsync(f.fileno())
            os.replace(tmp, out)
            fsync_dir(out.parent)
        except BaseException:
            if writer is not None:
                writer.close()
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
    report(100, "Backup complete")
    return BackupResult(out, manifest, writer.sha256, writer.size)


def remove_stale_partials(directory: str | os.PathLike[str], older_than: float = 3600) -> int:
    """Delete ``.*.partial`` files left by killed backups; returns how many were removed."""
    now = time.time()
    removed = 0
    for p in Path(directory).glob(f".*{PARTIAL_SUFFIX}"):
        with contextlib.suppress(OSError):
            if now - p.stat().st_mtime > older_than:
                p.unlink()
                removed += 1
    return removed


def _references(meta: dict[str, Any]) -> list[str]:
    """The tables this table's foreign keys point to: what a restore needs in place."""
    refs = {
        str(c["references"])
        for c in meta.get("constraints") or []
        if c.get("type") == "f" and c.get("references")
    }
    refs |= {str(t) for t in meta.get("references") or []}
    refs.discard(str(meta.get("name")))
    return sorted(refs)
