"""Backup and restore use cases: the plan's section 4.3 as code.

Views, commands and jobs call these; the heavy lifting (streaming, encryption, all-or-nothing
loads) is in ``engine/``, which knows nothing of Django. Every failure reaches staff as a
``DomainError`` with a translated reason, and every run is recorded with its history.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.choices import JobState
from apps.core.errors import DomainError, JobFailure
from apps.core.events import message as event_message
from apps.core.jobs import Progress, refresh_job_state, start_job
from apps.core.timeline import post_to_timeline

from . import engine, errors, events
from .choices import PLAN_KIND_WORDS, BackupKind, CopyState, RunState, SystemStatus
from .engine import gateway
from .models import BackupAudit, BackupPolicy, BackupRun, BackupScope, RestoreRun

logger = logging.getLogger(__name__)

ORDER_SYSTEM = "order_system"


# --- keys ------------------------------------------------------------------------------------
def get_keyring() -> engine.Keyring:
    """Master keys from the environment or a key file outside the repository, never the DB.

    In development a key file is generated under var/ on first use so the demo works at once.
    """
    spec = settings.BACKUP_MASTER_KEYS or None
    path = settings.BACKUP_KEY_FILE or None
    if path and not Path(path).exists() and spec is None and not settings.PRODUCTION:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(engine.generate_key_line(f"dev-{timezone.now():%Y%m%d}") + "\n")
        os.chmod(path, 0o600)
    if path and not Path(path).exists():
        path = None
    if not spec and not path:
        raise DomainError(
            _("No backup master key is configured: set BACKUP_MASTER_KEYS or BACKUP_KEY_FILE.")
        )
    try:
        return engine.Keyring.load(spec=spec, path=path)
    except engine.EngineError as exc:
        raise DomainError(
            _("The backup master keys cannot be read: %(error)s") % {"error": exc}
        ) from exc


# --- errors ----------------------------------------------------------------------------------
explain = errors.explain  # an engine or OS error as a sentence for staff, in the active language


# --- progress steps -----------------------------------------------------------------------------
# The engine names its steps in English (it has no Django); staff read them in their language.
_FIXED_STEPS = {
    "Connecting to the database": gettext_lazy("Connecting to the order system database"),
    "Connecting to the target database": gettext_lazy("Connecting to the target database"),
    "Finishing the backup file": gettext_lazy("Finishing the backup file"),
    "Backup complete": gettext_lazy("Backup complete"),
    "Restore complete": gettext_lazy("Restore complete"),
    "Loading": gettext_lazy("Loading"),
    "Rebuilding constraints": gettext_lazy("Rebuilding constraints"),
    "Rebuilding indexes": gettext_lazy("Rebuilding indexes"),
    "Re-validating foreign keys": gettext_lazy("Re-validating foreign keys"),
    "Comparing checksums": gettext_lazy("Comparing checksums"),
    "Resetting sequences": gettext_lazy("Resetting sequences"),
    "Committing": gettext_lazy("Committing"),
}


def step_text(step: str) -> Any:
    """The engine's step as a message shown in the reader's language; unknown steps unchanged."""
    if step in _FIXED_STEPS:
        return _FIXED_STEPS[step]
    for prefix, kind in events.NAMED_STEPS.items():
        if step.startswith(prefix):
            return event_message(kind, name=step[len(prefix) :])
    return step


# --- names -----------------------------------------------------------------------------------
def backup_file_name(*, scope: BackupScope, kind: str, when: datetime, n: int = 1) -> str:
    """The plan's rule <date><scope><type>.bak; a second file on one day gets -2, and so on."""
    day = timezone.localtime(when).strftime("%Y%m%d")
    suffix = "" if n == 1 else f"-{n}"
    if settings.BACKUP_NAME_STYLE == "ascii":
        return f"{day}-{scope.slug}-{kind}{suffix}.bak"
    return f"{day}{scope.name_zh}{PLAN_KIND_WORDS[BackupKind(kind)]}{suffix}.bak"


def _reserve_file_name(run: BackupRun) -> str:
    """Claim a unique name in the database (the unique constraint settles races)."""
    local_dir = Path(settings.BACKUP_LOCAL_DIR)
    for n in range(1, 10000):
        name = backup_file_name(scope=run.scope, kind=run.kind, when=run.created_at, n=n)
        if (local_dir / name).exists():
            continue
        try:
            with transaction.atomic():
                updated = BackupRun.objects.filter(pk=run.pk).update(file_name=name)
        except IntegrityError:
            continue
        if updated:
            return name
    raise DomainError(_("No free file name is left for today's backups of this scope."))


# --- backup ----------------------------------------------------------------------------------
def default_kind(scope: BackupScope) -> str:
    policy = scope.policies.filter(is_default=True).first() or scope.policies.first()
    return policy.kind if policy else BackupKind.DAILY


@transaction.atomic
def start_backup(*, scope: BackupScope, kind: str | None = None, by=None) -> BackupRun:
    kind = kind or default_kind(scope)
    if kind not in BackupKind.values:
        raise DomainError(_("Unknown backup kind: %(kind)s") % {"kind": kind})
    run = BackupRun.objects.create(scope=scope, kind=kind, started_by=by)
    run.job = start_job(
        kind="backup",
        title=event_message(events.BACKUP_TITLE, scope=scope.name, kind=run.kind),
        func="apps.backups.jobs.backup_job",
        kwargs={"run_id": run.pk},
        queue="backups",
        by=by,
    )
    run._change_reason = "backup queued"
    run.save(update_fields=["job"])
    return run


def due_policies(*, now: datetime | None = None) -> list[BackupPolicy]:
    """Policies whose newest backup (complete, queued or running) is older than their interval."""
    now = now or timezone.now()
    due = []
    for policy in BackupPolicy.objects.select_related("scope"):
        latest = (
            BackupRun.objects.filter(scope=policy.scope, kind=policy.kind)
            .exclude(state=RunState.FAILED)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if latest is None or latest <= now - timedelta(minutes=policy.interval_minutes):
            due.append(policy)
    return due


def start_due_backups(*, now: datetime | None = None) -> list[BackupRun]:
    """Start one backup per due policy; meant for cron or a systemd timer every minute.

    It first settles runs whose worker died, so a killed backup neither blocks its policy nor
    leaves the dashboard saying "restoring" until someone opens the run's page.
    """
    reconcile_runs()
    return [start_backup(scope=p.scope, kind=p.kind) for p in due_policies(now=now)]


def reconcile_runs() -> int:
    """Fail every unfinished backup or restore whose job is gone; returns how many."""
    failed = 0
    unfinished = [RunState.QUEUED, RunState.RUNNING]
    for model in (BackupRun, RestoreRun):
        for run in model.objects.filter(state__in=unfinished).select_related("job"):
            if refresh_run_state(run).state == RunState.FAILED:
                failed += 1
    return failed


def _policy(run: BackupRun) -> BackupPolicy | None:
    return run.scope.policies.filter(kind=run.kind).first()


def perform_backup(*, run_id: int, progress: Progress) -> dict[str, Any]:
    """Worker side: write the encrypted file atomically, copy it to the remote store, verify."""
    run = BackupRun.objects.select_related("scope").get(pk=run_id)
    BackupRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING)
    try:
        keyring = get_keyring()
        local_dir = Path(settings.BACKUP_LOCAL_DIR)
        local_dir.mkdir(parents=True, exist_ok=True)
        engine.remove_stale_partials(local_dir, older_than=6 * 3600)
        name = _reserve_file_name(run)
        progress.log(_("Writing %(name)s") % {"name": name})
        scope = run.scope
        result = engine.run_backup(
            source_url=settings.ORDER_SYSTEM_DATABASE_URL,
            tables=list(scope.tables),
            out_path=local_dir / name,
            keyring=keyring,
            log_dir=(scope.log_dir or settings.ORDER_SYSTEM_LOG_DIR) if scope.is_logs else None,
            log_pattern=scope.log_pattern or None,
            scope=scope.slug,
            kind=run.kind,
            progress=lambda pct, step: progress.update(
                percent=int(pct * 0.85), step=step_text(step)
            ),
            level=settings.BACKUP_COMPRESSION_LEVEL,
            max_rate=settings.BACKUP_MAX_RATE,
        )
        BackupRun.objects.filter(pk=run.pk).update(
            local_path=str(result.path),
            size=result.size,
            sha256=result.sha256,
            key_id=result.manifest.get("key_id", keyring.current()[0]),
            manifest=result.manifest,
        )
        progress.log(
            _("Local copy written: %(size)s bytes, SHA-256 %(sha)s")
            % {"size": result.size, "sha": result.sha256[:16]}
        )
        policy = _policy(run)
        remote_state, remote_name = CopyState.NONE, ""
        if policy is None or policy.keep_remote:
            progress.update(percent=88, step=gettext_lazy("Copying to the remote store"))
            remote_name, remote_state = _copy_to_remote(result.path, result.sha256)
            progress.log(_("Remote copy verified: %(name)s") % {"name": remote_name})
    except (engine.EngineError, OSError, DomainError, *gateway.DB_ERRORS) as exc:
        reason = explain(exc)
        _fail_backup(run.pk, exc)
        raise JobFailure(reason) from exc
    except Exception as exc:
        _fail_backup(run.pk, exc)
        raise
    now = timezone.now()
    with transaction.atomic():
        run = BackupRun.objects.select_for_update().select_related("scope").get(pk=run.pk)
        if run.state != RunState.RUNNING:
            # Declared dead (heartbeat silent) while it was still working: "failed" stands.
            progress.log(_("This backup had already been marked failed; it stays failed."))
            raise JobFailure(run.error or _("This backup had already been marked failed."))
        run.state = RunState.COMPLETE
        run.remote_name = remote_name
        run.remote_state = remote_state
        run.finished_at = now
        run.last_verified_at = now
        run.last_verify_ok = True
        run._change_reason = "backup complete"
        run.save()
    post_to_timeline(
        kind="backup.completed",
        name=run.file_name,
        scope=run.scope.name,
        by=run.started_by,
    )
    return {
        "backup_id": run.pk,
        "file_name": run.file_name,
        "local_path": run.local_path,
        "size": run.size,
    }


def _fail_backup(run_id: int, exc: BaseException) -> None:
    """Record why, as a code shown in each reader's language (and as text, for the log)."""
    run = BackupRun.objects.get(pk=run_id)
    run.state = RunState.FAILED
    run.error = explain(exc)
    run.error_code, run.error_params = errors.classify(exc)
    run.finished_at = timezone.now()
    run._change_reason = "backup failed"
    run.save()


def _sha256_of(fileobj) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _copy_to_remote(path: Path, sha256: str) -> tuple[str, str]:
    """Copy to the remote storage and read it back: a copy that was not verified is no copy."""
    storage = storages["backups_remote"]
    try:
        with open(path, "rb") as f:
            name = storage.save(path.name, f)
        with storage.open(name, "rb") as f:
            remote_sha = _sha256_of(f)
    except Exception as exc:  # noqa: BLE001 - any storage backend error means "remote down"
        raise DomainError(_("The remote backup store failed: %(error)s") % {"error": exc}) from exc
    if remote_sha != sha256:
        raise DomainError(_("The remote copy differs from the local file (SHA-256 mismatch)."))
    return name, CopyState.VERIFIED


def refresh_run_state(run: BackupRun | RestoreRun) -> BackupRun | RestoreRun:
    """A run whose job died (worker killed) is failed with the job's reason, not left running."""
    if run.state in (RunState.QUEUED, RunState.RUNNING) and run.job_id:
        job = refresh_job_state(run.job)
        if job.is_finished and job.state == JobState.FAILED:
            with transaction.atomic():
                # Locked and checked again: the worker may have just finished the run itself,
                # and a page view must never overwrite its outcome.
                run = type(run).objects.select_for_update().get(pk=run.pk)
                if run.state not in (RunState.QUEUED, RunState.RUNNING):
                    return run
                run.state = RunState.FAILED
                run.error = job.error
                run.finished_at = job.finished_at or timezone.now()
                run._change_reason = "job failed"
                run.save()
                if isinstance(run, RestoreRun) and run.into_order_system:
                    _set_status(
                        [b.scope for b in run.backups.all()], SystemStatus.RESTORE_FAILED, job.error
                    )
    return run


# --- locating and verifying files ---------------------------------------------------------------
def check_backup_name(name: str) -> str:
    """A backup is named by its file name alone: anything path-like is refused."""
    name = (name or "").strip()
    if (
        not name
        or name in (".", "..")
        or any(ch in name for ch in ("/", "\\", "\x00"))
        or Path(name).name != name
    ):
        raise DomainError(
            _(
                "%(name)s is not a backup name: give the file name alone, as listed on the "
                "backups page (to check a file elsewhere, use verify_backup --file)."
            )
            % {"name": repr(name)}
        )
    return name


def find_backup(name: str) -> BackupRun | None:
    """The backup with this file name; ``DomainError`` for a path instead of a name."""
    return BackupRun.objects.filter(file_name=check_backup_name(name)).first()


def _matches_record(path: Path, run: BackupRun) -> bool:
    with open(path, "rb") as f:
        return _sha256_of(f) == run.sha256


def verified_file_for(run: BackupRun) -> Path:
    """A copy whose SHA-256 is the one recorded when the backup was made.

    A damaged local copy is replaced by the remote one (itself checked); when neither
    matches, nothing is served. Downloads and restores use this.
    """
    local = Path(run.local_path) if run.local_path else None
    if local is not None and local.exists():
        if not run.sha256 or _matches_record(local, run):
            return local
        logger.warning("local copy of %s is damaged; fetching the remote copy", run.file_name)
        BackupAudit.objects.create(
            backup=run,
            action=BackupAudit.Action.VERIFY,
            detail=str(_("The local copy was damaged; it was replaced by the remote copy.")),
        )
    return local_file_for(run, ignore_local=True)


def local_file_for(run: BackupRun, *, ignore_local: bool = False) -> Path:
    """The local file, fetched back from the remote store when the local copy is gone."""
    if not ignore_local and run.local_path and Path(run.local_path).exists():
        return Path(run.local_path)
    if run.remote_name:
        storage = storages["backups_remote"]
        try:
            exists = storage.exists(run.remote_name)
        except Exception as exc:  # noqa: BLE001
            raise DomainError(
                _("The remote backup store failed: %(error)s") % {"error": exc}
            ) from exc
        if exists:
            target = Path(settings.BACKUP_LOCAL_DIR) / run.file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.fetch")
            with storage.open(run.remote_name, "rb") as src, open(tmp, "wb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
                dst.flush()
                os.fsync(dst.fileno())
            with open(tmp, "rb") as f:
                if _sha256_of(f) != run.sha256:
                    tmp.unlink()
                    raise DomainError(
                        _("The remote copy of %(name)s is damaged (SHA-256 mismatch).")
                        % {"name": run.file_name}
                    )
            os.replace(tmp, target)
            BackupRun.objects.filter(pk=run.pk).update(local_path=str(target))
            return target
    if ignore_local and run.local_path and Path(run.local_path).exists():
        raise DomainError(
            _(
                "The local copy of %(name)s is damaged and there is no remote copy to "
                "replace it: it is not served."
            )
            % {"name": run.file_name}
        )
    raise DomainError(
        _("Backup %(name)s is missing from both the local and the remote store.")
        % {"name": run.file_name}
    )


# Errors that prove the file itself is bad (as opposed to this host lacking a key or a store).
_DAMAGE = (
    engine.TamperedError,
    engine.TruncatedError,
    engine.PayloadError,
    engine.BadFormatError,
    engine.WrongKeyError,
    engine.ChecksumMismatchError,
)


@dataclass
class VerifyOutcome:
    ok: bool
    message: str
    report: engine.VerifyReport | None = None


def verify_backup(*, name: str, by=None) -> VerifyOutcome:
    """End-to-end check of one backup, by name, without restoring; recorded on its run."""
    try:
        run = find_backup(name)
    except DomainError as exc:
        return VerifyOutcome(False, str(exc))
    if run is None:
        return VerifyOutcome(False, _("No backup named %(name)s.") % {"name": repr(name)})
    try:
        path = local_file_for(run)
    except DomainError as exc:
        outcome, damaged = VerifyOutcome(False, str(exc)), False
    else:
        outcome, damaged = _verify(path, run)
    fields = {"last_verified_at": timezone.now()}
    if outcome.ok or damaged:
        fields["last_verify_ok"] = outcome.ok
    BackupRun.objects.filter(pk=run.pk).update(**fields)
    BackupAudit.objects.create(
        backup=run, action=BackupAudit.Action.VERIFY, by=by, detail=outcome.message[:500]
    )
    return outcome


def verify_file(*, path: str) -> VerifyOutcome:
    """An operator's explicit check of a file outside the stores (``verify_backup --file``).

    Nothing is recorded: the file is no backup of this site until it is in a store.
    """
    file = Path(path)
    if not file.is_file():
        return VerifyOutcome(False, _("No such file: %(path)s") % {"path": path})
    outcome, _damaged = _verify(file, None)
    return outcome


def _verify(path: Path, run: BackupRun | None) -> tuple[VerifyOutcome, bool]:
    """The outcome, and whether it proves the file damaged (not just unreadable here)."""
    try:
        report = engine.verify_file(path, get_keyring())
    except _DAMAGE as exc:
        return VerifyOutcome(False, explain(exc)), True
    except (engine.EngineError, OSError, DomainError) as exc:
        # A missing key or an unreachable store says nothing about the file itself.
        return VerifyOutcome(False, explain(exc)), False
    if run is not None and run.sha256 and report.sha256 != run.sha256:
        return VerifyOutcome(
            False, _("The file's SHA-256 differs from the one recorded when it was made.")
        ), True
    message = _("Intact: %(tables)s tables, %(rows)s rows, %(size)s bytes.") % {
        "tables": len(report.tables),
        "rows": sum(t.rows for t in report.tables),
        "size": report.size,
    }
    return VerifyOutcome(True, message, report), False


def start_verify(*, run: BackupRun, by=None):
    """Verify on a worker: a large file (maybe fetched from the remote store) takes a while."""
    return start_job(
        kind="backup.verify",
        title=event_message(events.VERIFY_TITLE, name=run.file_name),
        func="apps.backups.jobs.verify_job",
        kwargs={"run_id": run.pk, "by_id": by.pk if by else None},
        queue="backups",
        by=by,
    )


def record_download(*, run: BackupRun, by) -> None:
    BackupAudit.objects.create(backup=run, action=BackupAudit.Action.DOWNLOAD, by=by)


# --- restore ---------------------------------------------------------------------------------
@dataclass
class Proposal:
    scope: BackupScope
    backup: BackupRun | None
    reason: str


def _intact(qs):
    return (
        qs.filter(state=RunState.COMPLETE)
        .exclude(last_verify_ok=False)
        .order_by("-finished_at", "-pk")
    )


def _when(run: BackupRun) -> str:
    return f"{timezone.localtime(run.finished_at or run.created_at):%Y-%m-%d %H:%M}"


def known_key_ids() -> set[str] | None:
    """The keyring's key ids; None when no keyring can be loaded (then nothing is skipped)."""
    try:
        return set(get_keyring().kids)
    except DomainError:
        return None


def propose_restore(*, scope: BackupScope) -> Proposal:
    """The newest intact real-time backup, else the newest daily one, and why.

    Backups made with a master key this host does not hold cannot be opened: they are
    skipped, and the reason says how many and which key.
    """
    kids = known_key_ids()
    skipped: list[BackupRun] = []

    def newest(kind: str) -> BackupRun | None:
        for run in _intact(scope.backups.filter(kind=kind)):
            if kids is None or not run.key_id or run.key_id in kids:
                return run
            skipped.append(run)
        return None

    realtime = newest(BackupKind.REALTIME)
    if realtime is not None:
        proposal = Proposal(
            scope,
            realtime,
            _("Newest intact real-time backup (%(when)s).") % {"when": _when(realtime)},
        )
    else:
        daily = newest(BackupKind.DAILY)
        if daily is not None:
            proposal = Proposal(
                scope,
                daily,
                _("No intact real-time backup: falling back to the newest daily backup (%(when)s).")
                % {"when": _when(daily)},
            )
        else:
            proposal = Proposal(scope, None, _("No intact backup of this scope exists."))
    if skipped:
        proposal.reason += " " + _(
            "Skipped %(count)s newer backup(s) made with a master key that is not configured "
            "here (%(keys)s), e.g. %(name)s."
        ) % {
            "count": len(skipped),
            "keys": ", ".join(sorted({r.key_id for r in skipped})),
            "name": skipped[0].file_name,
        }
    return proposal


def _bare(table: str) -> str:
    return table.rsplit(".", 1)[-1].strip('"')


def referenced_tables(manifest: dict | None) -> dict[str, set[str]]:
    """From a backup's manifest: each table -> the tables its foreign keys point to."""
    refs: dict[str, set[str]] = {}
    for meta in (manifest or {}).get("tables") or []:
        name = _bare(str(meta.get("table") or meta.get("name") or ""))
        targets = {
            _bare(str(c["references"]))
            for c in meta.get("constraints") or []
            if c.get("type") == "f" and c.get("references")
        }
        targets |= {_bare(str(t)) for t in meta.get("references") or []}
        refs[name] = targets - {name}
    return refs


@dataclass
class Dependency:
    """A scope that the restored scopes' rows point to, but that is not being restored."""

    scope: BackupScope
    tables: list[str]
    needed_by: list[BackupScope]
    in_target: bool | None  # the target holds rows of those tables (None: not checked)

    def __str__(self) -> str:
        return str(self.scope.name)


def restore_dependencies(
    *,
    scopes: list[BackupScope],
    target: str = ORDER_SYSTEM,
    backups: dict[str, BackupRun] | None = None,
) -> list[Dependency]:
    """The scopes the chosen backups' foreign keys need, and whether the target has them.

    The order system's tables reference each other (orders -> customers, items -> products):
    restoring orders alone into an empty rehearsal database fails. Read from the backups'
    manifests (what was true when they were made), checked against the target read-only.
    """
    chosen = {s.slug for s in scopes}
    owner = {_bare(t): s for s in BackupScope.objects.all() for t in s.tables}
    needs: dict[str, tuple[set[str], list[BackupScope]]] = {}
    for scope in scopes:
        run = (backups or {}).get(scope.slug) or propose_restore(scope=scope).backup
        if run is None:
            continue
        for tables in referenced_tables(run.manifest).values():
            for table in tables:
                other = owner.get(table)
                if other is None or other.slug in chosen:
                    continue
                wanted, by = needs.setdefault(other.slug, (set(), []))
                wanted.add(table)
                if scope not in by:
                    by.append(scope)
    if not needs:
        return []
    present = _tables_with_rows(
        _resolve_target(target, None), {t for wanted, _by in needs.values() for t in wanted}
    )
    deps = []
    for wanted, by in needs.values():
        dep_scope = owner[next(iter(wanted))]
        in_target = None if present is None else all(present.get(t) for t in wanted)
        deps.append(Dependency(dep_scope, sorted(wanted), by, in_target))
    return sorted(deps, key=lambda d: (d.scope.position, d.scope.slug))


def _tables_with_rows(url: str, tables: set[str]) -> dict[str, bool] | None:
    """Which of ``tables`` exist with at least one row in the target; None if unreachable."""
    try:
        queries = engine.ReadOnlyQueries(url, timeout_ms=settings.BACKUP_CHECK_TIMEOUT_MS)
    except engine.EngineError:
        return None
    found = {}
    with queries:
        for table in sorted(tables):
            if not table.replace("_", "").isalnum():
                found[table] = False
                continue
            try:
                found[table] = (
                    queries.run(f'SELECT count(*) FROM (SELECT 1 FROM "{table}" LIMIT 1) x') > 0
                )
            except engine.CheckError:
                found[table] = False
    return found


def scratch_targets() -> dict[str, str]:
    return dict(settings.BACKUP_SCRATCH_TARGETS)


def target_label(url: str) -> str:
    return engine.parse_url(url).display


@transaction.atomic
def start_restore(
    *,
    scopes: list[BackupScope],
    target: str = ORDER_SYSTEM,
    target_url: str | None = None,
    backups: dict[str, BackupRun] | None = None,
    by=None,
) -> RestoreRun:
    """Queue a restore of ``scopes``; ``backups`` overrides the proposal per scope slug."""
    if not scopes:
        raise DomainError(_("Choose at least one scope to restore."))
    # One restore of a scope at a time: lock the scopes, then look for one under way.
    list(BackupScope.objects.select_for_update().filter(pk__in=[s.pk for s in scopes]))
    for other in RestoreRun.objects.filter(
        state__in=[RunState.QUEUED, RunState.RUNNING], backups__scope__in=scopes
    ).distinct():
        if refresh_run_state(other).state in (RunState.QUEUED, RunState.RUNNING):
            raise DomainError(
                _("Restore #%(id)s of these scopes is still under way; wait for it to finish.")
                % {"id": other.pk}
            )
    chosen, reasons = [], []
    for scope in scopes:
        picked = (backups or {}).get(scope.slug)
        if picked is not None:
            if picked.scope_id != scope.pk or picked.state != RunState.COMPLETE:
                raise DomainError(
                    _("%(name)s is not a complete backup of %(scope)s.")
                    % {"name": picked, "scope": scope.name}
                )
            chosen.append(picked)
            reasons.append(f"{scope.name}: {picked.file_name} — " + _("chosen by staff"))
            continue
        proposal = propose_restore(scope=scope)
        if proposal.backup is None:
            raise DomainError(f"{scope.name}: {proposal.reason}")
        chosen.append(proposal.backup)
        reasons.append(f"{scope.name}: {proposal.backup.file_name} — {proposal.reason}")
    if target_url:
        url, into_order_system = target_url, target_url == settings.ORDER_SYSTEM_DATABASE_URL
    elif target == ORDER_SYSTEM:
        url, into_order_system = settings.ORDER_SYSTEM_DATABASE_URL, True
    else:
        if target not in scratch_targets():
            raise DomainError(_("Unknown restore target: %(target)s") % {"target": target})
        url, into_order_system = scratch_targets()[target], False
    restore = RestoreRun.objects.create(
        target_label=target_label(url),
        into_order_system=into_order_system,
        started_by=by,
        reason="\n".join(reasons),
    )
    restore.backups.set(chosen)
    kwargs: dict[str, Any] = {"restore_id": restore.pk}
    kwargs["target_url" if target_url else "target"] = target_url or target
    restore.job = start_job(
        in_caller=bool(target_url),  # a URL may carry a password: it never goes to Redis
        kind="restore",
        title=event_message(events.RESTORE_TITLE, id=restore.pk, target=restore.target_label),
        func="apps.backups.jobs.restore_job",
        kwargs=kwargs,
        queue="backups",
        by=by,
    )
    restore._change_reason = "restore queued"
    restore.save(update_fields=["job"])
    return restore


def _resolve_target(target: str | None, target_url: str | None) -> str:
    if target_url:
        return target_url
    if target in (None, ORDER_SYSTEM):
        return settings.ORDER_SYSTEM_DATABASE_URL
    return scratch_targets()[target]


def ensure_scratch_database(url: str) -> None:
    """A rehearsal target may not exist yet: create an empty PostgreSQL database for it.

    Only configured scratch names are created (the gateway refuses any other); a target given
    as a URL that is not one must already exist.
    """
    if gateway.is_scratch_url(url):
        gateway.create_scratch_database(url)


@contextmanager
def latest_backups_opened(*, slugs: list[str], progress: Progress | None = None) -> Iterator[str]:
    """Restore the proposed backups of ``slugs`` into a throw-away database; yield its URL.

    How other apps read data "from the latest backup" (e.g. manual orders' reference data)
    without touching the order system: the database is dropped afterwards.
    """
    runs = []
    for slug in slugs:
        proposal = propose_restore(scope=BackupScope.objects.get(slug=slug))
        if proposal.backup is None:
            raise DomainError(f"{proposal.scope.name}: {proposal.reason}")
        runs.append(proposal.backup)
    with gateway.scratch_database() as url:
        try:
            engine.restore_files(
                [verified_file_for(run) for run in runs],
                target_url=url,
                keyring=get_keyring(),
                progress=(
                    lambda pct, step: progress.update(percent=int(pct * 0.6), step=step_text(step))
                )
                if progress
                else None,
            )
            yield url
        except (engine.EngineError, OSError) as exc:
            raise DomainError(explain(exc)) from exc


def _set_status(scopes, status: str, note: str = "") -> None:
    for scope in scopes:
        scope.system_status = status
        scope.status_note = note[:300]
        scope.status_changed_at = timezone.now()
        scope._change_reason = f"status {status}"
        scope.save(update_fields=["system_status", "status_note", "status_changed_at"])


def run_checks(*, url: str, scopes) -> list[dict[str, Any]]:
    """The scopes' business and integrity checks on the target; each counts offending rows.

    Checks are edited in the admin, so they run as untrusted SQL: one SELECT, in a read-only
    session and transaction, with a statement timeout (``engine.ReadOnlyQueries``).
    """
    results = []
    seen = set()
    checks = [c for scope in scopes for c in scope.checks]
    if not checks:
        return results
    with gateway.read_only_queries(url, timeout_ms=settings.BACKUP_CHECK_TIMEOUT_MS) as queries:
        for check in checks:
            if check["sql"] in seen:
                continue
            seen.add(check["sql"])
            names = {
                "name": check.get("name"),
                "name_en": check.get("name_en", check.get("name")),
            }
            try:
                bad = queries.run(check["sql"])
            except engine.CheckError as exc:  # a broken check is reported, not fatal
                code, params = errors.classify(exc)
                results.append(
                    {
                        **names,
                        "error": explain(exc),
                        "error_code": code,
                        "error_params": params,
                        "ok": False,
                    }
                )
                continue
            results.append({**names, "violations": bad, "ok": bad == 0})
    return results


def validate_check(*, sql: str, url: str | None = None) -> None:
    """What the admin runs before saving a check: one SELECT returning one whole number.

    The shape is always checked; the check is also tried (read-only) on the order system
    when it answers, so a typo in a table name is caught now, not after a restore.
    """
    try:
        gateway.check_shape(sql)
    except engine.CheckError as exc:
        raise DomainError(explain(exc)) from exc
    try:
        queries = gateway.read_only_queries(url, timeout_ms=settings.BACKUP_CHECK_TIMEOUT_MS)
    except engine.EngineError:
        logger.warning("check saved untried: the order system database cannot be reached")
        return
    with queries:
        try:
            queries.run(sql)
        except engine.CheckError as exc:
            raise DomainError(explain(exc)) from exc


def perform_restore(
    *, restore_id: int, progress: Progress, target: str | None = None, target_url: str | None = None
) -> dict[str, Any]:
    """Worker side: restore each chosen backup all-or-nothing, verify, update scope status."""
    restore = RestoreRun.objects.get(pk=restore_id)
    backups = list(restore.backups.select_related("scope").order_by("scope__position"))
    scopes = [b.scope for b in backups]
    RestoreRun.objects.filter(pk=restore.pk).update(state=RunState.RUNNING)
    url = _resolve_target(target, target_url)
    if restore.into_order_system:
        _set_status(scopes, SystemStatus.RESTORING)
    report: dict[str, Any] = {"tables": [], "files": [], "checks": []}
    try:
        keyring = get_keyring()
        if not restore.into_order_system:
            ensure_scratch_database(url)
        paths = [verified_file_for(backup) for backup in backups]
        for backup in backups:
            progress.log(_("Restoring %(name)s") % {"name": backup.file_name})
        logs = [b for b in backups if b.scope.is_logs]
        logs_to = None
        if logs:
            logs_to = (
                (logs[0].scope.log_dir or settings.ORDER_SYSTEM_LOG_DIR)
                if restore.into_order_system
                else Path(settings.VAR_DIR) / "restored_logs" / str(restore.pk)
            )
        # One transaction for every scope: all of them are restored, or none.
        results = engine.restore_files(
            paths,
            target_url=url,
            keyring=keyring,
            restore_logs_to=logs_to,
            progress=lambda pct, step: progress.update(
                percent=int(pct * 0.9), step=step_text(step)
            ),
            expected_sha256=[backup.sha256 or None for backup in backups],
        )
        for backup, result in zip(backups, results, strict=True):
            for t in result.tables:
                report["tables"].append(
                    {
                        "backup": backup.file_name,
                        "table": t.name,
                        "rows_expected": t.rows_expected,
                        "rows_restored": t.rows_restored,
                        "ok": t.checksum_ok,
                    }
                )
            report["files"].extend(result.files)
            report.setdefault("warnings", []).extend(result.warnings)
        progress.update(percent=93, step=gettext_lazy("Running integrity and business checks"))
        try:
            report["checks"] = run_checks(url=url, scopes=scopes)
        except (engine.EngineError, *gateway.DB_ERRORS) as exc:
            # The data is restored: report that the checks could not run, do not fail.
            report["checks"] = [
                {"name": _("Checks"), "name_en": "Checks", "error": explain(exc), "ok": False}
            ]
    except (engine.EngineError, OSError, DomainError, *gateway.DB_ERRORS) as exc:
        reason = explain(exc)
        _fail_restore(restore, scopes, exc, report)
        raise JobFailure(reason) from exc
    except Exception as exc:
        _fail_restore(restore, scopes, exc, report)
        raise
    all_ok = all(item["ok"] for item in report["tables"] + report["checks"])
    with transaction.atomic():
        restore = RestoreRun.objects.select_for_update().get(pk=restore.pk)
        if restore.state != RunState.RUNNING:
            # Declared dead while it was still working: "failed" stands; its report is kept.
            RestoreRun.objects.filter(pk=restore.pk).update(report={**report, "checks": []})
            progress.log(_("This restore had already been marked failed; it stays failed."))
            raise JobFailure(restore.error or _("This restore had already been marked failed."))
        restore.state = RunState.COMPLETE
        restore.report = report
        restore.finished_at = timezone.now()
        restore._change_reason = "restore complete"
        restore.save()
    if restore.into_order_system:
        _set_status(
            scopes,
            SystemStatus.RESTORED if all_ok else SystemStatus.RESTORED_WITH_WARNINGS,
            ", ".join(b.file_name for b in backups),
        )
    post_to_timeline(
        kind="restore.verified" if all_ok else "restore.warnings",
        id=restore.pk,
        target=restore.target_label,
        by=restore.started_by,
    )
    return {"restore_id": restore.pk, "checks_ok": all_ok}


def _fail_restore(restore: RestoreRun, scopes, exc: BaseException, report: dict) -> None:
    """Record why, as a code shown in each reader's language; checks that never ran go."""
    reason = explain(exc)
    restore.state = RunState.FAILED
    restore.error = reason
    restore.error_code, restore.error_params = errors.classify(exc)
    report["checks"] = []  # a failed restore reports no checks, least of all passed ones
    restore.report = report
    restore.finished_at = timezone.now()
    restore._change_reason = "restore failed"
    restore.save()
    if restore.into_order_system:
        _set_status(scopes, SystemStatus.RESTORE_FAILED, reason)
