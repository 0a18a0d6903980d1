"""Compensation (7.1.2(3)): coupons and points, approval limits per role, once per case, and the
hand-over export for the order system."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.events import message

from ... import outreach_events as events
from ...models import Case, Compensation, CompensationPolicy
from ...outreach_choices import CompensationKind
from ...outreach_errors import OutreachError
from ..common import record

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.core.jobs import Progress
    from apps.core.models import JobRecord
    from apps.manual_orders.models import Customer

# Unambiguous letters and digits (no 0/O, 1/I/L): read over the phone without mistakes.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
CENT = Decimal("0.01")


def new_coupon_code() -> str:
    """An unguessable code (about 59 bits from ``secrets``), grouped for reading: ABCD-EFGH-JKMN."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def current_policy() -> CompensationPolicy:
    policy = CompensationPolicy.objects.order_by("pk").first()
    return policy or CompensationPolicy.objects.create()


@transaction.atomic
def set_compensation_limit(
    *, agent_limit: Decimal, point_value: Decimal | None = None, by: User
) -> CompensationPolicy:
    if agent_limit < 0:
        raise DomainError(OutreachError.BAD_VALUE, field="agent_limit")
    policy = CompensationPolicy.objects.select_for_update().get(pk=current_policy().pk)
    policy.agent_limit = agent_limit
    if point_value is not None:
        if point_value <= 0:
            raise DomainError(OutreachError.BAD_VALUE, field="point_value")
        policy.point_value = point_value
    policy.updated_by = by
    policy.updated_at = timezone.now()
    policy.save()
    return policy


@dataclass(frozen=True)
class Grant:
    """What to grant: an amount coupon, a percentage coupon (with its cap) or points."""

    kind: str
    amount: Decimal | None = None
    percent: int | None = None
    cap: Decimal | None = None
    points: int | None = None
    minimum_order: Decimal = Decimal("0")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    reason: str = ""

    def cost(self, policy: CompensationPolicy) -> Decimal:
        """What the grant may cost, checked against the approval limit (and reported)."""
        if self.kind == CompensationKind.COUPON_AMOUNT:
            if not self.amount or self.amount <= 0:
                raise DomainError(OutreachError.BAD_VALUE, field="amount")
            return self.amount
        if self.kind == CompensationKind.COUPON_PERCENT:
            if not self.percent or not 1 <= self.percent <= 100:
                raise DomainError(OutreachError.BAD_PERCENT, field="percent")
            if not self.cap or self.cap <= 0:
                raise DomainError(OutreachError.PERCENT_NEEDS_CAP, field="cap")
            return self.cap
        if not self.points or self.points <= 0:
            raise DomainError(OutreachError.BAD_VALUE, field="points")
        return (Decimal(self.points) * policy.point_value).quantize(CENT, ROUND_HALF_UP)

    def check_validity(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise DomainError(OutreachError.BAD_VALIDITY, field="valid_until")


def _approval_limit(by: User, policy: CompensationPolicy) -> Decimal | None:
    """None: no limit (care leads and managers approve above the agents' limit)."""
    if by.has_perm("customer_care.approve_compensation"):
        return None
    return policy.agent_limit


def _refuse_above_limit(cost: Decimal, limit: Decimal | None, field: str) -> None:
    if limit is not None and cost > limit:
        raise DomainError(
            OutreachError.ABOVE_LIMIT,
            params={"value": f"¥{cost}", "limit": f"¥{limit}"},
            field=field,
        )


def _value_field(kind: str) -> str:
    return {"coupon_amount": "amount", "coupon_percent": "cap"}.get(kind, "points")


def _create(
    *,
    customer: Customer,
    case: Case | None,
    grant: Grant,
    cost: Decimal,
    limit: Decimal | None,
    by: User,
    idempotency_key: uuid.UUID,
    override_reason: str = "",
    batch: uuid.UUID | None = None,
) -> Compensation:
    row = Compensation(
        customer=customer,
        case=case,
        kind=grant.kind,
        amount=grant.amount if grant.kind == CompensationKind.COUPON_AMOUNT else None,
        percent=grant.percent if grant.kind == CompensationKind.COUPON_PERCENT else None,
        cap=grant.cap if grant.kind == CompensationKind.COUPON_PERCENT else None,
        points=grant.points if grant.kind == CompensationKind.POINTS else None,
        minimum_order=grant.minimum_order or Decimal("0"),
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        cost=cost,
        reason=grant.reason,
        override_reason=override_reason,
        granted_by=by,
        approved_by=by,
        approval_limit=limit,
        batch=batch,
        idempotency_key=idempotency_key,
    )
    for _attempt in range(5):
        if grant.kind != CompensationKind.POINTS:
            row.code = new_coupon_code()
        try:
            with transaction.atomic():  # a savepoint: a clash rolls back to here
                row.save()
            return row
        except IntegrityError as exc:
            existing = Compensation.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing  # the same form sent twice: the first grant stands
            if (
                case is not None
                and not override_reason
                and "care_one_compensation_per_case" in str(exc)
            ):
                raise DomainError(
                    OutreachError.ALREADY_COMPENSATED, params={"reference": case.reference}
                ) from exc
            if grant.kind == CompensationKind.POINTS:
                raise
            row.pk = None  # a coupon code clash (one in 10^17): draw another
    raise RuntimeError("could not draw a unique coupon code")


@transaction.atomic
def grant_compensation(
    *,
    customer: Customer,
    grant: Grant,
    idempotency_key: uuid.UUID,
    by: User,
    case: Case | None = None,
    override_reason: str = "",
) -> Compensation:
    """Grant one coupon or points to a customer, within the granting person's approval limit.

    A case is compensated once; a manager may compensate it again with a reason. The same
    ``idempotency_key`` (a double submit) returns the first grant.
    """
    existing = Compensation.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    policy = current_policy()
    cost = grant.cost(policy)
    grant.check_validity()
    limit = _approval_limit(by, policy)
    _refuse_above_limit(cost, limit, _value_field(grant.kind))
    override_reason = override_reason.strip()
    if case is not None:
        case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
        already = Compensation.objects.filter(case=case).exists()
        if already and not override_reason:
            raise DomainError(
                OutreachError.ALREADY_COMPENSATED, params={"reference": case.reference}
            )
        if override_reason and not by.has_perm("customer_care.override_compensation"):
            raise DomainError(
                OutreachError.ALREADY_COMPENSATED, params={"reference": case.reference}
            )
        if not already:
            override_reason = ""
    row = _create(
        customer=customer,
        case=case,
        grant=grant,
        cost=cost,
        limit=limit,
        by=by,
        idempotency_key=idempotency_key,
        override_reason=override_reason,
    )
    if case is not None:
        record(
            case,
            events.COMPENSATED,
            by=by,
            grant=grant.kind,
            cost=str(cost),
            code=row.code or "",
            points=row.points or 0,
        )
    return row


def grant_in_bulk(
    *, customer_ids: list[int], grant: Grant, batch: uuid.UUID, by: User, progress: Progress
) -> dict[str, Any]:
    """A bulk grant's work on a worker: one grant per customer, each in its own transaction
    keyed by (batch, customer), so a job run again after a crash grants nobody twice."""
    from apps.manual_orders.models import Customer

    policy = current_policy()
    cost = grant.cost(policy)
    limit = _approval_limit(by, policy)
    _refuse_above_limit(cost, limit, _value_field(grant.kind))
    total = len(customer_ids)
    granted = 0
    for index, customer in enumerate(
        Customer.objects.filter(pk__in=customer_ids).order_by("pk").iterator(), start=1
    ):
        key = uuid.uuid5(batch, str(customer.pk))
        with transaction.atomic():
            if not Compensation.objects.filter(idempotency_key=key).exists():
                _create(
                    customer=customer,
                    case=None,
                    grant=grant,
                    cost=cost,
                    limit=limit,
                    by=by,
                    idempotency_key=key,
                    batch=batch,
                )
                granted += 1
        if index % 50 == 0 or index == total:
            progress.update(
                percent=index * 100 // max(total, 1),
                step=message(events.BULK_STEP, done=index, total=total),
            )
    return {"granted": granted, "customers": total}


def start_bulk_grant(*, customer_ids: list[int], grant: Grant, by: User) -> JobRecord:
    """Check the grant and the limit now (the page shows the refusal), then run it as a job."""
    from apps.core.jobs import start_job

    if not customer_ids:
        raise DomainError(OutreachError.NO_CUSTOMERS, field="customers")
    policy = current_policy()
    cost = grant.cost(policy)
    grant.check_validity()
    _refuse_above_limit(cost, _approval_limit(by, policy), _value_field(grant.kind))
    return start_job(
        kind="customer_care.bulk_grant",
        title=message(events.BULK_TITLE, customers=len(customer_ids)),
        func="apps.customer_care.outreach_jobs.bulk_grant_job",
        kwargs={
            "customer_ids": list(customer_ids),
            "grant": {
                "kind": grant.kind,
                "amount": str(grant.amount) if grant.amount is not None else None,
                "percent": grant.percent,
                "cap": str(grant.cap) if grant.cap is not None else None,
                "points": grant.points,
                "minimum_order": str(grant.minimum_order),
                "valid_from": grant.valid_from.isoformat() if grant.valid_from else None,
                "valid_until": grant.valid_until.isoformat() if grant.valid_until else None,
                "reason": grant.reason,
            },
            "batch": str(uuid.uuid4()),
            "user_id": by.pk,
        },
        by=by,
    )


def grant_from_payload(data: dict[str, Any]) -> Grant:
    def dec(value: Any) -> Decimal | None:
        return Decimal(value) if value is not None else None

    def when(value: Any) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return Grant(
        kind=data["kind"],
        amount=dec(data.get("amount")),
        percent=data.get("percent"),
        cap=dec(data.get("cap")),
        points=data.get("points"),
        minimum_order=dec(data.get("minimum_order")) or Decimal("0"),
        valid_from=when(data.get("valid_from")),
        valid_until=when(data.get("valid_until")),
        reason=data.get("reason") or "",
    )


@transaction.atomic
def hand_over_compensation(*, file_format: str, by: User) -> tuple[bytes, str, int]:
    """Export every grant not yet handed over (CSV/XLSX/JSON through the safe formats) and mark
    them handed over in the same transaction: a second export holds only newer grants.

    Rows are locked ``FOR UPDATE SKIP LOCKED``, so two exports at once never hand one grant over
    twice. Returns (content, content type, rows).
    """
    from apps.core.tabular import EXPORT_FORMATS, export_content, format_by_name

    from ...outreach_resources import CompensationResource

    fmt = format_by_name(file_format, EXPORT_FORMATS)
    if fmt is None:
        raise DomainError(OutreachError.UNKNOWN_FORMAT, field="format")
    ids = list(
        Compensation.objects.select_for_update(skip_locked=True)
        .filter(handed_over_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        raise DomainError(OutreachError.NOTHING_TO_HAND_OVER)
    rows = Compensation.objects.filter(pk__in=ids).select_related("customer").order_by("pk")
    content = export_content(CompensationResource(), rows, fmt)
    Compensation.objects.filter(pk__in=ids).update(
        handed_over_at=timezone.now(), handover=uuid.uuid4()
    )
    return content, fmt.get_content_type(), len(ids)


def ledger(customer: Customer) -> dict[str, Any]:
    """A customer's compensation ledger: every grant, total cost and points granted."""
    rows = list(
        Compensation.objects.filter(customer=customer).select_related(
            "granted_by", "approved_by", "case"
        )
    )
    return {
        "rows": rows,
        "cost": sum((r.cost for r in rows), Decimal("0")),
        "points": sum(r.points or 0 for r in rows),
    }
