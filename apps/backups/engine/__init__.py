"""Backup/restore engine: plain Python (no Django), driven by table names and introspection.

See docs/backup-format.md for the file format. Public API::

    keyring = Keyring.load(spec="k2:...,k1:...", path=None)
    result = run_backup(source_url=..., tables=[...], out_path=..., keyring=keyring,
                        scope="orders", kind="manual")
    report = verify_file(result.path, keyring)
    restored = restore_file(result.path, target_url=..., keyring=keyring)
"""

from .backup import BackupResult, remove_stale_partials, run_backup
from .base import SharedSnapshot, TableResult, parse_url
from .checks import ReadOnlyQueries, check_shape, run_check
from .container import ContainerReader, ContainerWriter, read_manifest
from .errors import (
    BackupError,
    BadFormatError,
    CheckError,
    ChecksumMismatchError,
    ContainerError,
    EngineError,
    ForeignKeyError,
    KeyringError,
    PayloadError,
    RestoreError,
    SourceError,
    SourceUnreachableError,
    TamperedError,
    TargetUnreachableError,
    TruncatedError,
    UnknownKeyError,
    WrongKeyError,
)
from .journal import (
    AppendedRows,
    JournalError,
    JournalGapError,
    Replayer,
    ReplayResult,
    Txn,
    format_lsn,
    inserts_only,
    iter_until,
    parse_lsn,
    read_segment,
    target_connection,
)
from .journal import Slot as JournalSlot
from .journal import Snapshot as TxidSnapshot
from .journal import count_rows as count_table_rows
from .journal import write_segment as write_journal_segment
from .keys import Keyring, generate_key_line
from .restore import RestoreReport, restore_file, restore_files
from .sources import shared_snapshot
from .verify import FileCheck, TableCheck, VerifyReport, verify_file

__all__ = [
    "BackupError",
    "BackupResult",
    "BadFormatError",
    "CheckError",
    "ChecksumMismatchError",
    "ContainerError",
    "ContainerReader",
    "ContainerWriter",
    "EngineError",
    "ForeignKeyError",
    "FileCheck",
    "JournalError",
    "JournalGapError",
    "JournalSlot",
    "ReplayResult",
    "AppendedRows",
    "inserts_only",
    "Replayer",
    "Txn",
    "TxidSnapshot",
    "count_table_rows",
    "format_lsn",
    "iter_until",
    "parse_lsn",
    "read_segment",
    "target_connection",
    "write_journal_segment",
    "Keyring",
    "KeyringError",
    "PayloadError",
    "ReadOnlyQueries",
    "RestoreError",
    "RestoreReport",
    "SourceError",
    "SourceUnreachableError",
    "TableCheck",
    "TableResult",
    "TamperedError",
    "TargetUnreachableError",
    "TruncatedError",
    "UnknownKeyError",
    "VerifyReport",
    "WrongKeyError",
    "check_shape",
    "generate_key_line",
    "parse_url",
    "SharedSnapshot",
    "shared_snapshot",
    "read_manifest",
    "remove_stale_partials",
    "restore_file",
    "restore_files",
    "run_check",
    "run_backup",
    "verify_file",
]
