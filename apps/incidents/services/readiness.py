"""Upgrade readiness: automatic and manual checks, then a go / no-go sign-off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role
from apps.core.errors import DomainError

from ..choices import (
    AUTOMATIC_READINESS_ITEMS,
    ReadinessItemKind,
    ReadinessItemState,
    ReadinessResult,
)
from ..errors import IncidentsError
from ..models import ReadinessCheck, ReadinessItem
from .common import _holds_any

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from apps.accounts.models import User


@dataclass
class CheckOutcome:
    state: str
    detail: str


def check_order_db_reachable() -> CheckOutcome:
    """Open a connection to the order system's database with a short timeout (the gateway's
    ping); callers run it outside any transaction."""
    from apps.backups.engine import gateway

    try:
        db = gateway.ping(timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", with the reason
        return CheckOutcome(ReadinessItemState.FAILED, f"{type(exc).__name__}: {exc}"[:500])
    return CheckOutcome(ReadinessItemState.PASSED, db.display)


def check_recent_backups() -> CheckOutcome:
    """Every backup scope has a complete, verified backup finished within the window."""
    from apps.backups.choices import RunState
    from apps.backups.models import BackupRun, BackupScope

    hours = settings.READINESS_BACKUP_MAX_AGE_HOURS
    since = timezone.now() - timedelta(hours=hours)
    scopes = list(BackupScope.objects.all())
    if not scopes:
        return CheckOutcome(ReadinessItemState.FAILED, str(_("No backup scopes are defined.")))
    missing = [
        s.name
        for s in scopes
        if not BackupRun.objects.filter(
            scope=s, state=RunState.COMPLETE, last_verify_ok=True, finished_at__gte=since
        ).exists()
    ]
    if missing:
        return CheckOutcome(
            ReadinessItemState.FAILED,
            str(
                _("No verified backup in the last %(hours)s hours: %(scopes)s")
                % {"hours": hours, "scopes": ", ".join(missing)}
            ),
        )
    # The backups must also be proven to restore: a passing rehearsal recently (apps.drills).
    from apps.drills.readiness import restore_rehearsal_finding

    rehearsal = restore_rehearsal_finding()
    backups = str(
        _("Verified backups of all %(n)s scopes within %(hours)s hours.")
        % {"n": len(scopes), "hours": hours}
    )
    return CheckOutcome(
        ReadinessItemState.PASSED if rehearsal.ok else ReadinessItemState.FAILED,
        f"{backups} {rehearsal.detail}",
    )


def check_operators_trained() -> CheckOutcome:
    """The people on duty hold current certificates (the drills app's readiness matrix)."""
    from apps.drills.readiness import operators_trained_finding

    finding = operators_trained_finding()
    return CheckOutcome(
        ReadinessItemState.PASSED if finding.ok else ReadinessItemState.FAILED, finding.detail
    )


AUTOMATIC_CHECKS: dict[str, Callable[[], CheckOutcome]] = {
    ReadinessItemKind.ORDER_DB_REACHABLE: check_order_db_reachable,
    ReadinessItemKind.RECENT_BACKUPS: check_recent_backups,
    ReadinessItemKind.OPERATORS_TRAINED: check_operators_trained,
}
NOT_AUTOMATIC_YET: dict[str, StrOrPromise] = {}


def start_readiness_check(
    *, title: str, by: User, planned_for: datetime | None = None
) -> ReadinessCheck:
    with transaction.atomic():
        check = ReadinessCheck.objects.create(title=title, planned_for=planned_for, created_by=by)
        for kind in ReadinessItemKind.values:
            ReadinessItem.objects.create(
                readiness=check,
                kind=kind,
                automatic=kind in AUTOMATIC_READINESS_ITEMS,
                detail=str(NOT_AUTOMATIC_YET.get(kind, "")),
            )
    run_automatic_checks(check=check)
    return check


def run_automatic_checks(*, check: ReadinessCheck) -> ReadinessCheck:
    """Probe first (the order-database ping opens a network connection: never inside a
    transaction, where a slow server would hold row locks), then record in one transaction."""
    if check.result != ReadinessResult.PENDING:
        raise DomainError(IncidentsError.ALREADY_SIGNED_OFF)
    kinds = set(check.items.filter(automatic=True).values_list("kind", flat=True))
    outcomes = {kind: AUTOMATIC_CHECKS[kind]() for kind in kinds}
    now = timezone.now()
    with transaction.atomic():
        check = ReadinessCheck.objects.select_for_update().get(pk=check.pk)
        if check.result != ReadinessResult.PENDING:
            raise DomainError(IncidentsError.ALREADY_SIGNED_OFF)
        for item in check.items.filter(automatic=True):
            outcome = outcomes[item.kind]
            item.state, item.detail, item.checked_at, item.checked_by = (
                outcome.state,
                outcome.detail,
                now,
                None,
            )
            item.save()
    return check


@transaction.atomic
def record_readiness_item(
    *, item: ReadinessItem, passed: bool, by: User, detail: str = ""
) -> ReadinessItem:
    item = ReadinessItem.objects.select_for_update().get(pk=item.pk)
    if item.readiness.result != ReadinessResult.PENDING:
        raise DomainError(IncidentsError.ALREADY_SIGNED_OFF)
    if item.automatic:
        raise DomainError(IncidentsError.AUTOMATIC_ITEM)
    item.state = ReadinessItemState.PASSED if passed else ReadinessItemState.FAILED
    item.detail = detail
    item.checked_by, item.checked_at = by, timezone.now()
    item.save()
    return item


@transaction.atomic
def sign_off_readiness(
    *, check: ReadinessCheck, go: bool, by: User, note: str = ""
) -> ReadinessCheck:
    """Go only when every item passed; no-go may always be said."""
    check = ReadinessCheck.objects.select_for_update().get(pk=check.pk)
    if check.result != ReadinessResult.PENDING:
        raise DomainError(IncidentsError.ALREADY_SIGNED_OFF)
    if not _holds_any(by, {Role.MANAGER, Role.EMERGENCY_LEAD}):
        raise DomainError(IncidentsError.SIGN_OFF_ROLE)
    if go and check.items.exclude(state=ReadinessItemState.PASSED).exists():
        raise DomainError(IncidentsError.NOT_ALL_PASSED)
    check.result = ReadinessResult.GO if go else ReadinessResult.NO_GO
    check.signed_off_by, check.signed_off_at, check.sign_off_note = by, timezone.now(), note
    check.save()
    return check


# The buttons of the readiness page, each answered by one of the services above.
READINESS_ACTIONS = ("recheck", "pass", "fail", "sign_off")


def act_on_readiness_check(
    *,
    check: ReadinessCheck,
    action: str,
    by: User,
    item: ReadinessItem | None = None,
    detail: str = "",
    go: bool | None = None,
    note: str = "",
) -> ReadinessCheck:
    """The readiness page's one entry point: re-run the automatic items, pass or fail a manual
    item, or sign off as go / no-go (``go`` None: the form said neither)."""
    if action == "recheck":
        return run_automatic_checks(check=check)
    if action in ("pass", "fail"):
        if item is None or item.readiness_id != check.pk:
            raise DomainError(IncidentsError.CHOOSE_ITEM)
        record_readiness_item(item=item, passed=action == "pass", by=by, detail=detail)
        return check
    if action == "sign_off":
        if go is None:
            raise DomainError(IncidentsError.CHOOSE_GO)
        return sign_off_readiness(check=check, go=go, by=by, note=note)
    raise DomainError(IncidentsError.UNKNOWN_ACTION)
