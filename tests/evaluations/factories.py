"""An incident with known timestamps in every dimension, and the evaluations' own factories."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from apps.accounts.roles import Role
from apps.backups.models import RestoreRun
from apps.evaluations.choices import ActionCategory
from apps.evaluations.models import ImprovementAction
from apps.incidents.choices import (
    IncidentState,
    ResourceKind,
    ResourceState,
    TaskState,
    TeamRole,
)
from apps.incidents.models import Incident, TimelineEntry
from apps.manual_orders.models import ManualOrder
from tests.factories import UserFactory
from tests.incidents.factories import (
    IncidentFactory,
    MeetingDecisionFactory,
    MeetingFactory,
    ResourceFactory,
    TaskFactory,
    TeamMemberFactory,
)
from tests.manual_orders.factories import CustomerFactory


def at(hour: int, minute: int = 0, *, day: int = 2) -> datetime:
    """A fixed moment on 2026-11-<day> (local time)."""
    return timezone.make_aware(datetime(2026, 11, day, hour, minute))


class ImprovementActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImprovementAction

    title = factory.Sequence(lambda n: f"Rehearse the restore {n}")
    category = ActionCategory.PROCESS
    owner = factory.SubFactory(UserFactory, roles=[Role.MANAGER])
    due = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=10))
    created_by = factory.SelfAttribute("owner")


def manual_order(*, taken: datetime, handed_back: datetime | None = None, by=None) -> ManualOrder:
    return ManualOrder.objects.create(
        number=f"M{uuid.uuid4().hex[:10]}",
        idempotency_key=uuid.uuid4(),
        customer=CustomerFactory(),
        channel="phone",
        received_at=taken,
        delivery_address="1 Test Road",
        created_by=by or UserFactory(),
        created_at=taken,
        pushed_at=handed_back,
        push_state="pushed" if handed_back else "pending",
    )


def restore_run(*, started: datetime, finished: datetime | None, state="complete") -> RestoreRun:
    run = RestoreRun.objects.create(target_label="scratch", state=state, finished_at=finished)
    RestoreRun.objects.filter(pk=run.pk).update(created_at=started)
    return run


@dataclass
class Scenario:
    incident: Incident
    leader: object
    tech: object
    business: object


def incident_with_known_times(**overrides) -> Scenario:
    """The reference incident every figure test reads (times on 2026-11-02, local).

    detected 10:00 · declared 10:10 · team assembled 10:30 · first task started 10:40 ·
    manual process 11:00 · recovered 13:10 · closed 14:10.
    """
    values = {
        "detected_at": at(10, 0),
        "declared_at": at(10, 10),
        "team_assembled_at": at(10, 30),
        "manual_process_at": at(11, 0),
        "recovered_at": at(13, 10),
        "closed_at": at(14, 10),
        "state": IncidentState.CLOSED,
        **overrides,
    }
    incident = IncidentFactory(**values)
    leader = TeamMemberFactory(
        incident=incident,
        team_role=TeamRole.LEADER,
        user=UserFactory(roles=[Role.EMERGENCY_LEAD]),
        assigned_at=at(10, 12),
        acknowledged_at=at(10, 17),  # 5 minutes
    )
    tech = TeamMemberFactory(
        incident=incident,
        assigned_at=at(10, 15),
        acknowledged_at=at(10, 30),  # 15 minutes
    )
    business = TeamMemberFactory(
        incident=incident,
        team_role=TeamRole.BUSINESS_SUPPORT,
        user=UserFactory(roles=[Role.BUSINESS_SUPPORT]),
        assigned_at=at(10, 20),
        acknowledged_at=None,  # never acknowledged
    )
    # Tasks: tech 1 on time + 1 late; business 1 on time; 1 open past due (late); 1 skipped.
    t1 = TaskFactory(
        incident=incident,
        team_role=TeamRole.TECH_SUPPORT,
        due_at=at(11, 0),
        state=TaskState.DONE,
        completed_at=at(10, 50),
    )
    TaskFactory(
        incident=incident,
        team_role=TeamRole.TECH_SUPPORT,
        due_at=at(11, 0),
        state=TaskState.DONE,
        completed_at=at(11, 30),
    )
    TaskFactory(
        incident=incident,
        team_role=TeamRole.BUSINESS_SUPPORT,
        due_at=at(12, 0),
        state=TaskState.DONE,
        completed_at=at(12, 0),
    )
    TaskFactory(
        incident=incident,
        team_role=TeamRole.BUSINESS_SUPPORT,
        due_at=at(12, 0),
        state=TaskState.TODO,
    )
    TaskFactory(incident=incident, due_at=at(12, 0), state=TaskState.SKIPPED)
    TimelineEntry.objects.create(
        incident=incident,
        at=at(10, 40),
        kind="task.updated",
        data={"task": t1.pk, "state": "in_progress"},
    )
    TimelineEntry.objects.create(
        incident=incident, at=at(10, 50), kind="task.updated", data={"task": t1.pk, "state": "done"}
    )
    # Resources: 2 servers 10:30 → 14:10 (used until recovery 13:10); one cancelled request.
    ResourceFactory(
        incident=incident,
        kind=ResourceKind.SERVER,
        quantity=Decimal("2"),
        state=ResourceState.RELEASED,
        requested_at=at(10, 20),
        allocated_at=at(10, 30),
        released_at=at(14, 10),
    )
    ResourceFactory(
        incident=incident,
        kind=ResourceKind.STORAGE,
        quantity=Decimal("1"),
        state=ResourceState.CANCELLED,
        requested_at=at(10, 20),
    )
    # Meetings: 11:00 with leader + tech (of 3 members) → 2/3; 12:00 with all 3 → 3/3.
    m1 = MeetingFactory(incident=incident, held_at=at(11, 0))
    m1.attendees.set([leader.user, tech.user])
    m2 = MeetingFactory(incident=incident, held_at=at(12, 0))
    m2.attendees.set([leader.user, tech.user, business.user])
    MeetingDecisionFactory(meeting=m1, task=t1)  # carried out
    MeetingDecisionFactory(meeting=m2)  # no task: not carried out
    # Restores: 10:45 → 11:15 (30 min) and 11:30 → 12:20 (50 min); one before the incident.
    restore_run(started=at(10, 45), finished=at(11, 15))
    restore_run(started=at(11, 30), finished=at(12, 20))
    restore_run(started=at(9, 0), finished=at(9, 30))
    # Manual orders: 4 taken during the incident, 3 handed back; one taken the day before.
    manual_order(taken=at(11, 10), handed_back=at(13, 30))
    manual_order(taken=at(11, 20), handed_back=at(13, 40))
    manual_order(taken=at(12, 0), handed_back=at(13, 50))
    manual_order(taken=at(12, 30))
    manual_order(taken=at(12, 0, day=1))
    return Scenario(incident=incident, leader=leader, tech=tech, business=business)
