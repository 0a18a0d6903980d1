"""The living plan (3.3): versioned checklist templates, changed only through approved proposals.

The incidents app keeps the live templates (``TaskTemplate``) and copies them onto each new
incident or drill; approving a change edits them through ``incidents.services`` and records the
whole checklist as the next ``PlanVersion``. Running incidents keep the tasks they were given.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import DomainError
from apps.incidents import services as incident_services
from apps.incidents.choices import Phase, TeamRole
from apps.incidents.models import TaskTemplate

from ..choices import ChangeKind, ProposalState
from ..errors import EvaluationError
from ..models import ImprovementAction, PlanChange, PlanVersion

if TYPE_CHECKING:
    from apps.accounts.models import User

ITEM_FIELDS = ("phase", "title_zh", "title_en", "team_role", "due_after_minutes")


def snapshot_items() -> list[dict[str, Any]]:
    """The live checklist as a version stores it (ordered by phase, then position)."""
    phase_order = {value: n for n, value in enumerate(Phase.values)}
    items: list[dict[str, Any]] = [
        {
            "template_id": t.pk,
            "phase": t.phase,
            "title_zh": t.title_zh,
            "title_en": t.title_en,
            "team_role": t.team_role,
            "due_after_minutes": t.due_after_minutes,
            "position": t.position,
        }
        for t in TaskTemplate.objects.filter(is_active=True)
    ]
    items.sort(key=lambda i: (phase_order.get(i["phase"], 99), i["position"], i["template_id"]))
    return items


def _latest_locked() -> PlanVersion | None:
    return PlanVersion.objects.select_for_update().order_by("-number").first()


@transaction.atomic
def ensure_plan_version(*, by: User | None = None) -> PlanVersion:
    """The newest plan version, recording the live checklist as version 1 the first time."""
    latest = _latest_locked()
    if latest is not None:
        return latest
    return PlanVersion.objects.create(
        number=1,
        items=snapshot_items(),
        effective_at=datetime(2000, 1, 1, tzinfo=timezone.get_current_timezone()),
        approved_by=by,
        note="baseline",
    )


def version_for(declared_at: datetime) -> PlanVersion | None:
    """The plan version an incident (or drill) declared at that time was given."""
    found = (
        PlanVersion.objects.filter(effective_at__lte=declared_at).order_by("-effective_at").first()
    )
    return found or PlanVersion.objects.order_by("number").first()


def _clean_fields(fields: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The item fields given; for a change (``partial``) an empty field means "unchanged"."""
    out: dict[str, Any] = {}
    for name in ITEM_FIELDS:
        value = fields.get(name)
        if value in (None, ""):
            continue
        out[name] = int(value) if name == "due_after_minutes" else value
    if not partial:
        if not all(out.get(n) for n in ("phase", "title_zh", "title_en")):
            raise DomainError(EvaluationError.ITEM_FIELDS_REQUIRED)
        out.setdefault("team_role", "")
    if out.get("phase") and out["phase"] not in Phase.values:
        raise DomainError(EvaluationError.ITEM_FIELDS_REQUIRED, field="phase")
    if out.get("team_role") and out["team_role"] not in TeamRole.values:
        raise DomainError(EvaluationError.ITEM_FIELDS_REQUIRED, field="team_role")
    return out


@transaction.atomic
def propose_plan_change(
    *,
    kind: str,
    by: User,
    template: TaskTemplate | None = None,
    fields: dict[str, Any] | None = None,
    reason: str = "",
    action: ImprovementAction | None = None,
) -> PlanChange:
    """Propose adding, changing or retiring a checklist item (often from an improvement action)."""
    fields = fields or {}
    if kind in (ChangeKind.CHANGE, ChangeKind.RETIRE):
        if template is None:
            raise DomainError(EvaluationError.TEMPLATE_REQUIRED, field="template")
        if not template.is_active:
            raise DomainError(
                EvaluationError.TEMPLATE_RETIRED, params={"title": template.title}, field="template"
            )
    cleaned = (
        _clean_fields(fields, partial=kind != ChangeKind.ADD) if kind != ChangeKind.RETIRE else {}
    )
    if kind == ChangeKind.CHANGE:
        assert template is not None
        cleaned = {k: v for k, v in cleaned.items() if getattr(template, k) != v}
        if not cleaned:
            raise DomainError(EvaluationError.NOTHING_CHANGED)
    change = PlanChange(
        kind=kind,
        template_id=template.pk if template else None,
        fields=cleaned,
        reason=reason,
        action=action,
        proposed_by=by,
    )
    change.full_clean()
    change._change_reason = "proposed"
    change._history_user = by
    change.save()
    return change


# Set while an approved proposal edits the checklist: it records its own version.
_applying_proposal: ContextVar[bool] = ContextVar("applying_plan_proposal", default=False)


def record_checklist_before_change(*, by: User | None = None, **_kwargs: Any) -> None:
    """``checklist_changing``: the checklist as it was, as version 1, if none was recorded."""
    if not _applying_proposal.get():
        ensure_plan_version(by=by)


def record_checklist_change(*, by: User | None = None, **_kwargs: Any) -> None:
    """``checklist_changed`` outside a proposal (the incidents' templates page, the admin): the
    live checklist changed, so it is the next version from now on, with who changed it."""
    if _applying_proposal.get():
        return
    latest = _latest_locked()
    items = snapshot_items()
    if latest is not None and latest.items == items:
        return  # saved without a change
    PlanVersion.objects.create(
        number=(latest.number if latest else 0) + 1,
        items=items,
        effective_at=timezone.now(),
        approved_by=by,
    )


def _apply(change: PlanChange, by: User) -> None:
    if change.kind == ChangeKind.ADD:
        template = TaskTemplate(**change.fields)
        template.position = (
            TaskTemplate.objects.filter(phase=template.phase).count()
            if not template.position
            else template.position
        )
    else:
        assert change.template_id is not None  # a change or a retirement names its item
        template = TaskTemplate.objects.select_for_update().get(pk=change.template_id)
        if not template.is_active:
            raise DomainError(EvaluationError.TEMPLATE_RETIRED, params={"title": template.title})
        if change.kind == ChangeKind.RETIRE:
            template.is_active = False
        else:
            for name, value in change.fields.items():
                setattr(template, name, value)
    token = _applying_proposal.set(True)
    try:
        incident_services.save_task_template(template=template, by=by)
    finally:
        _applying_proposal.reset(token)


@transaction.atomic
def decide_plan_change(
    *, change: PlanChange, approve: bool, by: User, note: str = ""
) -> PlanChange:
    """Approve (the checklist changes, a new version takes effect now) or reject a proposal."""
    change = PlanChange.objects.select_for_update().get(pk=change.pk)
    if change.state != ProposalState.PROPOSED:
        raise DomainError(
            EvaluationError.PROPOSAL_DECIDED,
            params={"state": ProposalState(change.state).label},
        )
    change.decided_by, change.decided_at = by, timezone.now()
    if approve:
        latest = ensure_plan_version(by=by)  # the checklist before the change, if never recorded
        _apply(change, by)
        change.plan_version = PlanVersion.objects.create(
            number=latest.number + 1,
            items=snapshot_items(),
            effective_at=change.decided_at,
            approved_by=by,
            note=note or change.reason,
        )
        change.state = ProposalState.APPROVED
    else:
        change.state = ProposalState.REJECTED
    change._change_reason = change.state
    change._history_user = by
    change.save()
    return change


def compare_versions(left: PlanVersion, right: PlanVersion) -> list[dict[str, Any]]:
    """Both versions' items side by side, matched by template, each row marked as
    ``same``, ``changed``, ``added`` (only on the right) or ``removed`` (only on the left)."""
    a = {i["template_id"]: i for i in left.items}
    b = {i["template_id"]: i for i in right.items}
    order = [i["template_id"] for i in left.items] + [
        i["template_id"] for i in right.items if i["template_id"] not in a
    ]
    rows = []
    for key in order:
        old, new = a.get(key), b.get(key)
        if old and new:
            changed = [f for f in ITEM_FIELDS if old.get(f) != new.get(f)]
            status = "changed" if changed else "same"
        else:
            changed = []
            status = "added" if new else "removed"
        rows.append({"left": old, "right": new, "status": status, "changed": changed})
    return rows
