"""Restore a backup file into a database (and optionally its log files into a directory).

Strategy: *stream and roll back*. The header and key are checked before the target is
touched; then the file is read once, and table data is loaded into the target inside one
transaction while frames are authenticated. The transaction is committed only after the
final frame authenticated, the manifest matched the stream, constraints were rebuilt and the
target's row counts and checksums matched the file. A damaged or cut file, a constraint
violation, a checksum mismatch, a cancelled progress callback or any other error rolls the
transaction back, leaving the target exactly as it was. This reads the file once instead of
twice (verify, then load).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import Hook, RestoreTarget, TableResult, match_tables
from .container import DEFAULT_WORKERS, ContainerReader
from .errors import ChecksumMismatchError, EngineError, RestoreError
from .keys import Keyring
from .logfiles import LogStager
from .payload import PayloadReader, check_against_manifest
from .sources import open_target

Progress = Callable[[int, str], None]


@dataclass
class RestoreReport:
    tables: list[TableResult]
    files: list[str]
    duration_seconds: float
    manifest: dict[str, Any]
    sha256: str
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.checksum_ok for t in self.tables)


_STEP_NAMES = {
    "constraints": "Rebuilding constraints",
    "indexes": "Rebuilding indexes",
    "foreign keys": "Re-validating foreign keys",
    "checksums": "Comparing checksums",
    "sequences": "Resetting sequences",
    "commit": "Committing",
}
_STEP_PERCENT = {
    "constraints": 80,
    "indexes": 85,
    "checksums": 90,
    "foreign keys": 94,
    "sequences": 98,
    "commit": 99,
}


def restore_file(
    path: str | os.PathLike[str],
    *,
    target_url: str,
    keyring: Keyring,
    tables: Sequence[str] | None = None,
    restore_logs_to: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    hook: Hook | None = None,
    workers: int = DEFAULT_WORKERS,
) -> RestoreReport:
    """Replace ``tables`` (default: all in the file) in the target, all or nothing.

    ``progress(percent, step)`` may raise to cancel (the target is rolled back). ``hook`` is
    called with each internal step name (``prepare``, ``load <table>``, ``constraints``,
    ``indexes``, ``foreign keys``, ``checksums``, ``sequences``, ``commit``) for tests.
    """
    [report] = _restore(
        [path],
        target_url=target_url,
        keyring=keyring,
        tables=tables,
        restore_logs_to=restore_logs_to,
        progress=progress,
        hook=hook,
        workers=workers,
    )
    return report


def restore_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    target_url: str,
    keyring: Keyring,
    restore_logs_to: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    hook: Hook | None = None,
    workers: int = DEFAULT_WORKERS,
    expected_sha256: Sequence[str | None] | None = None,
    before_commit: Callable[[RestoreTarget], None] | None = None,
    appends: dict[str, Any] | None = None,
) -> list[RestoreReport]:
    """Several backup files (scopes) into one target in ONE transaction: all of them or none.

    ``appends`` (table -> ``journal.AppendedRows``): journaled inserts a target may load with
    a table it creates, before its keys and indexes (it marks those it took).

    ``before_commit(target)`` runs after every file is loaded and checked (counts, checksums),
    inside the same transaction (the change journal's replay for a point-in-time restore),
    before foreign keys are re-validated and triggers re-enabled: the scopes' backups may come
    from different moments, and only the replayed rows make them fit together. If it raises,
    the whole restore rolls back.

    Constraints and foreign keys are rebuilt once, after every file is loaded, so files may
    come in any order (orders before the customers they reference). ``expected_sha256`` (one
    per file, as recorded when it was made) is checked before the commit.
    """
    return _restore(
        paths,
        target_url=target_url,
        keyring=keyring,
        tables=None,
        restore_logs_to=restore_logs_to,
        progress=progress,
        hook=hook,
        workers=workers,
        expected_sha256=expected_sha256,
        before_commit=before_commit,
        appends=appends,
    )


def _restore(
    paths: Sequence[str | os.PathLike[str]],
    *,
    target_url: str,
    keyring: Keyring,
    tables: Sequence[str] | None,
    restore_logs_to: str | os.PathLike[str] | None,
    progress: Progress | None,
    hook: Hook | None,
    workers: int,
    expected_sha256: Sequence[str | None] | None = None,
    before_commit: Callable[[RestoreTarget], None] | None = None,
    appends: dict[str, Any] | None = None,
) -> list[RestoreReport]:
    t0 = time.monotonic()
    files_in = [Path(p) for p in paths]
    total = max(sum(p.stat().st_size for p in files_in), 1)
    last: list[Any] = [None]

    def report(pct: int, step: str) -> None:
        if progress is not None and (pct, step) != last[0]:
            last[0] = (pct, step)
            progress(pct, step)

    def on_step(name: str) -> None:
        if name in _STEP_NAMES:
            report(_STEP_PERCENT[name], _STEP_NAMES[name])
        if hook is not None:
            hook(name)

    with contextlib.ExitStack() as stack:
        # Every file's header and key are checked before the target is touched.
        readers = [
            ContainerReader(stack.enter_context(open(p, "rb")), keyring, workers=workers)
            for p in files_in
        ]
        report(0, "Connecting to the target database")
        target: RestoreTarget = open_target(target_url)
        target.hook = on_step
        target.appends = dict(appends or {})
        stager = LogStager(Path(restore_logs_to)) if restore_logs_to is not None else None
        done_bytes = 0
        per_file: list[tuple[ContainerReader, set[str]]] = []
        try:
            for p, reader in zip(files_in, readers, strict=True):
                payload = PayloadReader(reader)
                selected: set[str] = set()
                active = False
                step = "Loading"
                for ev in payload:
                    kind = ev.kind
                    if kind == "table_data":
                        if active:
                            assert ev.record is not None
                            target.write_rows(ev.record.view())
                            report(min(79, (done_bytes + reader.size) * 80 // total), step)
                    elif kind == "table":
                        assert ev.meta is not None
                        active = ev.meta["name"] in selected
                        if active:
                            step = f"Loading table {ev.meta['name']}"
                            target.begin_table(ev.meta)
                    elif kind == "table_end":
                        if active:
                            assert ev.meta is not None
                            target.end_table(ev.meta)
                        active = False
                    elif kind == "stream":
                        assert ev.meta is not None
                        names = list(ev.meta.get("tables") or [])
                        wanted = match_tables(tables, names) if tables is not None else names
                        selected = set(wanted)
                        target.begin(ev.meta, wanted)
                    elif stager is not None:
                        if kind == "file":
                            assert ev.meta is not None
                            stager.begin(str(ev.meta["name"]), float(ev.meta.get("mtime") or 0))
                        elif kind == "file_data":
                            assert ev.record is not None
                            stager.write(ev.record.view())
                        elif kind == "file_end":
                            stager.end()
                assert reader.manifest is not None
                check_against_manifest(reader.manifest, payload.tables, payload.files)
                done_bytes += p.stat().st_size
                per_file.append((reader, selected))
            for p, (reader, _), expected in zip(
                files_in, per_file, expected_sha256 or [None] * len(files_in), strict=True
            ):
                if expected and reader.sha256 != expected:
                    raise ChecksumMismatchError(
                        f"{p.name}: its SHA-256 differs from the one recorded when it was made."
                    )
            results = target.finish(
                (lambda: before_commit(target)) if before_commit is not None else None
            )
            missing = set().union(*(sel for _, sel in per_file)) - {r.name for r in results}
            if missing:
                raise RestoreError(f"The backup holds no data for {', '.join(sorted(missing))}.")
            target.commit()
            restored_files = stager.commit() if stager is not None else []
        except EngineError:
            _abort(target, stager)
            raise
        except Exception as exc:
            _abort(target, stager)
            raise RestoreError(f"The restore failed and was rolled back: {exc}") from exc
        except BaseException:
            _abort(target, stager)
            raise
        finally:
            target.close()
    report(100, "Restore complete")
    duration = round(time.monotonic() - t0, 3)
    by_name = {r.name: r for r in results}
    reports = []
    for reader, selected in per_file:
        assert reader.manifest is not None
        own = {str(f.get("name")) for f in reader.manifest.get("files") or []}
        reports.append(
            RestoreReport(
                tables=[by_name[n] for n in by_name if n in selected],
                files=[f for f in restored_files if Path(f).name in own or f in own],
                duration_seconds=duration,
                manifest=reader.manifest,
                sha256=reader.sha256,
                warnings=list(target.warnings),
            )
        )
    return reports


def _abort(target: RestoreTarget, stager: LogStager | None) -> None:
    target.rollback()
    if stager is not None:
        stager.abort()
