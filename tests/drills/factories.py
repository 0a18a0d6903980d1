from datetime import timedelta

import factory
from django.utils import timezone

from apps.drills.choices import DrillPhase, RehearsalState
from apps.drills.models import (
    Certificate,
    Course,
    DrillPlan,
    DrillRun,
    RestoreRehearsal,
    TrainingSession,
)
from tests.factories import UserFactory
from tests.incidents.factories import IncidentFactory

TARGETS = {
    DrillPhase.DECLARED: 5,
    DrillPhase.TEAM_ASSEMBLED: 30,
    DrillPhase.PROBLEM_LOCATED: 90,
    DrillPhase.MANUAL_PROCESS: 120,
    DrillPhase.RECOVERED: 240,
}


class DrillPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DrillPlan
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Data migration drill {n}")
    scenario_category = "data_migration"
    scenario_detail = "migration_error"
    objectives = "Take orders by phone within 30 minutes."
    phase_targets = factory.LazyFunction(lambda: {str(k): v for k, v in TARGETS.items()})
    scheduled_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    duration_minutes = 120

    @factory.post_generation
    def participants(self, create, extracted, **kwargs):
        if create:
            self.participants.set(extracted or [UserFactory(roles=["tech_support"])])


class DrillRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DrillRun

    plan = factory.SubFactory(DrillPlanFactory)
    incident = factory.SubFactory(IncidentFactory, is_drill=True)
    started_at = factory.LazyAttribute(lambda o: o.incident.declared_at)


class RestoreRehearsalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RestoreRehearsal

    state = RehearsalState.PASSED
    target = "rehearsal"
    target_label = "postgresql://…/rehearsal"
    rto_seconds = 42.5
    rpo_seconds = 600.0
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=5))
    finished_at = factory.LazyFunction(timezone.now)
    scratch_dropped = True


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    code = factory.Sequence(lambda n: f"course-{n}")
    title_zh = factory.Sequence(lambda n: f"课程 {n}")
    title_en = factory.Sequence(lambda n: f"Course {n}")
    required_for = factory.LazyFunction(lambda: ["tech_support"])
    pass_mark = 60
    validity_days = 365


class TrainingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingSession

    course = factory.SubFactory(CourseFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2))
    duration_minutes = 90
    location = "Room 3"


class CertificateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certificate

    user = factory.SubFactory(UserFactory, roles=["tech_support"])
    course = factory.SubFactory(CourseFactory)
    issued_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=10))
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=300))


def certify_everyone_on_duty() -> None:
    """Every active holder of a role that requires courses gets current certificates."""
    from apps.drills.selectors import readiness_matrix

    matrix = readiness_matrix()
    for row in matrix.rows:
        for course, (status, _e) in zip(matrix.courses, row.cells, strict=True):
            if status in ("missing", "expired"):
                CertificateFactory(user=row.user, course=course)
