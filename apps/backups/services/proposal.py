"""Which backups a restore uses and why, and which other scopes it needs."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.events import Message, message

from .. import engine, events
from ..choices import BackupKind, RunState
from ..models import BackupRun, BackupScope
from .common import ORDER_SYSTEM, resolve_target
from .keys import known_key_ids


@dataclass
class Proposal:
    """The backup a restore of ``scope`` would use, and why (``why``: a message stored as data)."""

    scope: BackupScope
    backup: BackupRun | None
    why: Message

    @property
    def reason(self) -> str:
        """Why, in the active language."""
        return str(self.why)


def _intact(qs: QuerySet[BackupRun]) -> QuerySet[BackupRun]:
    return (
        qs.filter(state=RunState.COMPLETE)
        .exclude(last_verify_ok=False)
        .order_by("-finished_at", "-pk")
    )


def _when(run: BackupRun) -> str:
    return f"{timezone.localtime(run.finished_at or run.created_at):%Y-%m-%d %H:%M}"


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

    backup = newest(BackupKind.REALTIME)
    if backup is not None:
        why = message(events.REASON_REALTIME, when=_when(backup))
    else:
        backup = newest(BackupKind.DAILY)
        if backup is not None:
            why = message(events.REASON_DAILY, when=_when(backup))
        else:
            why = message(events.REASON_NONE)
    if skipped:
        why = message(
            events.REASON_WITH_SKIPPED,
            reason=why,
            skipped=message(
                events.REASON_SKIPPED,
                count=len(skipped),
                keys=", ".join(sorted({r.key_id for r in skipped})),
                name=skipped[0].file_name,
            ),
        )
    return Proposal(scope, backup, why)


def bare_table_name(table: str) -> str:
    return table.rsplit(".", 1)[-1].strip('"')


def referenced_tables(manifest: dict | None) -> dict[str, set[str]]:
    """From a backup's manifest: each table -> the tables its foreign keys point to."""
    refs: dict[str, set[str]] = {}
    for meta in (manifest or {}).get("tables") or []:
        name = bare_table_name(str(meta.get("table") or meta.get("name") or ""))
        targets = {
            bare_table_name(str(c["references"]))
            for c in meta.get("constraints") or []
            if c.get("type") == "f" and c.get("references")
        }
        targets |= {bare_table_name(str(t)) for t in meta.get("references") or []}
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
    owner = {bare_table_name(t): s for s in BackupScope.objects.all() for t in s.tables}
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
        resolve_target(target, None), {t for wanted, _by in needs.values() for t in wanted}
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
