import factory
from django.utils import timezone

from apps.incidents.choices import (
    IncidentState,
    Phase,
    ResourceKind,
    Severity,
    TeamRole,
)
from apps.incidents.models import (
    Incident,
    IncidentTransition,
    Meeting,
    MeetingDecision,
    ReadinessCheck,
    ResourceAllocation,
    Task,
    TaskTemplate,
    TeamMember,
)
from tests.factories import UserFactory


class IncidentFactory(factory.django.DjangoModelFactory):
    """An incident as ``declare_incident`` leaves it (without the template tasks)."""

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Order system upgrade {n} failed")
    severity = Severity.CRITICAL
    state = IncidentState.DECLARED
    detected_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(minutes=10))
    declared_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(minutes=5))

    @factory.post_generation
    def declared(self, create, extracted, **kwargs):
        if create:
            IncidentTransition.objects.create(
                incident=self, to_state=IncidentState.DECLARED, at=self.declared_at
            )


class TeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMember

    incident = factory.SubFactory(IncidentFactory)
    user = factory.SubFactory(UserFactory, roles=["tech_support"])
    team_role = TeamRole.TECH_SUPPORT


class TaskTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskTemplate

    phase = Phase.EMERGENCY_RESPONSE
    title_zh = factory.Sequence(lambda n: f"检查项 {n}")
    title_en = factory.Sequence(lambda n: f"Checklist item {n}")
    due_after_minutes = 30


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    incident = factory.SubFactory(IncidentFactory)
    phase = Phase.PROBLEM_FIX
    title_zh = factory.Sequence(lambda n: f"任务 {n}")
    title_en = factory.Sequence(lambda n: f"Task {n}")
    team_role = TeamRole.TECH_SUPPORT
    due_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(hours=1))


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResourceAllocation

    incident = factory.SubFactory(IncidentFactory)
    kind = ResourceKind.SERVER
    description = "Standby application server"
    quantity = 2
    unit = "servers"


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    incident = factory.SubFactory(IncidentFactory)
    held_at = factory.LazyFunction(timezone.now)
    title = "Coordination"
    minutes = "Agreed next steps."


class MeetingDecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeetingDecision

    meeting = factory.SubFactory(MeetingFactory)
    text = "Roll back the upgrade"


class ReadinessCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReadinessCheck

    title = "Order system 5.0 upgrade"
