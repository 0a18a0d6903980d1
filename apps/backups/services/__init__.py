"""Backup and restore use cases: the plan's section 4.3 as code.

Views, commands and jobs call these; the heavy lifting (streaming, encryption, all-or-nothing
loads) is in ``engine/``, which knows nothing of Django. Every failure reaches staff as a
``DomainError`` carrying a ``BackupsError`` code, and every run is recorded with its history.

Split by use case (``backup``, ``policies``, ``verify``, ``proposal``, ``restore``, ``checks``,
``keys``, ``status``; shared helpers in ``common``) and re-exported here, so callers keep
``from apps.backups import services``.
"""

from .backup import (
    ShareOfProgress,
    backup_file_name,
    default_kind,
    order_system_moment,
    perform_backup,
    perform_backups,
    start_backup,
    start_backups,
)
from .checks import run_checks, validate_check
from .common import (
    ORDER_SYSTEM,
    explain,
    resolve_target,
    scratch_targets,
    sha256_of,
    step_text,
    target_label,
)
from .keys import get_keyring, known_key_ids
from .policies import due_policies, start_due_backups
from .proposal import (
    Dependency,
    Proposal,
    bare_table_name,
    propose_restore,
    referenced_tables,
    restore_dependencies,
)
from .restore import ensure_scratch_database, latest_backups_opened, perform_restore, start_restore
from .status import reconcile_runs, refresh_run_state
from .verify import (
    VerifyOutcome,
    check_backup_name,
    find_backup,
    local_file_for,
    record_download,
    start_verify,
    verified_file_for,
    verify_backup,
    verify_file,
)

__all__ = [
    "sha256_of",
    "bare_table_name",
    "ORDER_SYSTEM",
    "Dependency",
    "Proposal",
    "VerifyOutcome",
    "backup_file_name",
    "check_backup_name",
    "default_kind",
    "due_policies",
    "ensure_scratch_database",
    "explain",
    "find_backup",
    "get_keyring",
    "known_key_ids",
    "latest_backups_opened",
    "local_file_for",
    "perform_backup",
    "perform_restore",
    "propose_restore",
    "reconcile_runs",
    "record_download",
    "referenced_tables",
    "refresh_run_state",
    "resolve_target",
    "restore_dependencies",
    "run_checks",
    "scratch_targets",
    "start_backup",
    "start_backups",
    "perform_backups",
    "order_system_moment",
    "ShareOfProgress",
    "start_due_backups",
    "start_restore",
    "start_verify",
    "step_text",
    "target_label",
    "validate_check",
    "verified_file_for",
    "verify_backup",
    "verify_file",
]
