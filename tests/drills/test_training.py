"""Training: sessions, attendance and scores, certificates, the readiness matrix, reminders."""

from datetime import timedelta
from io import BytesIO

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.roles import Role
from apps.core.errors import DomainError
from apps.core.models import Notification
from apps.drills import services
from apps.drills.errors import DrillsError
from apps.drills.exports import matrix_xlsx
from apps.drills.models import Certificate
from apps.drills.readiness import operators_trained_finding
from apps.drills.selectors import readiness_matrix

from .factories import CertificateFactory, CourseFactory, TrainingSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def only_this_tests_courses():
    """The plan's courses (a data migration) are set aside: each test makes its own."""
    from apps.drills.models import Course

    Course.objects.update(is_active=False)


def test_a_passing_score_issues_a_certificate_valid_for_the_courses_period(manager, make_user):
    person = make_user(Role.TECH_SUPPORT)
    session = TrainingSessionFactory(course=CourseFactory(pass_mark=70, validity_days=180))
    services.record_attendance(session=session, person=person, attended=True, score=85, by=manager)
    cert = Certificate.objects.get(user=person)
    assert cert.session == session and cert.issued_on == timezone.localdate()
    assert cert.expires_on == timezone.localdate() + timedelta(days=180)
    # Recorded twice (a double click): still one certificate.
    services.record_attendance(session=session, person=person, attended=True, score=85, by=manager)
    assert Certificate.objects.filter(user=person).count() == 1


def test_a_score_below_the_pass_mark_issues_nothing_and_withdraws_a_mistaken_one(
    manager, make_user
):
    person = make_user(Role.TECH_SUPPORT)
    session = TrainingSessionFactory(course=CourseFactory(pass_mark=70))
    services.record_attendance(session=session, person=person, attended=True, score=90, by=manager)
    attendance = services.record_attendance(
        session=session, person=person, attended=True, score=50, by=manager
    )
    assert attendance.passed is False
    assert not Certificate.objects.filter(user=person).exists()


def test_attendance_for_a_session_in_the_future_is_refused(manager, make_user):
    session = TrainingSessionFactory(starts_at=timezone.now() + timedelta(days=1))
    with pytest.raises(DomainError) as exc:
        services.record_attendance(
            session=session, person=make_user(Role.TECH_SUPPORT), attended=True, by=manager
        )
    assert exc.value.code == DrillsError.SESSION_IN_FUTURE
    assert not session.attendance.exists()


def test_a_certificate_cannot_predate_its_session(manager, make_user):
    session = TrainingSessionFactory(starts_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(DomainError) as exc:
        services.record_attendance(
            session=session,
            person=make_user(Role.TECH_SUPPORT),
            attended=True,
            score=99,
            issued_on=timezone.localdate() - timedelta(days=3),
            by=manager,
        )
    assert exc.value.code == DrillsError.CERTIFICATE_BEFORE_SESSION
    assert not Certificate.objects.exists()


def test_scores_must_be_plausible_and_belong_to_someone_who_attended(manager, make_user):
    session = TrainingSessionFactory()
    person = make_user(Role.TECH_SUPPORT)
    for kwargs, code in (
        ({"attended": True, "score": 101}, DrillsError.SCORE_OUT_OF_RANGE),
        ({"attended": False, "score": 80}, DrillsError.NOT_ATTENDED),
    ):
        with pytest.raises(DomainError) as exc:
            services.record_attendance(session=session, person=person, by=manager, **kwargs)
        assert exc.value.code == code


def test_the_matrix_shows_current_expiring_expired_and_missing_per_required_course(make_user):
    today = timezone.localdate()
    guide = CourseFactory(code="a-guide", required_for=["tech_support"])
    restore = CourseFactory(code="b-restore", required_for=["tech_support"])
    CourseFactory(code="c-scripts", required_for=["care_agent"])
    current = make_user(Role.TECH_SUPPORT, username="a_current")
    expiring = make_user(Role.TECH_SUPPORT, username="b_expiring")
    expired = make_user(Role.TECH_SUPPORT, username="c_expired")
    CertificateFactory(user=current, course=guide, expires_on=today + timedelta(days=200))
    CertificateFactory(user=current, course=restore, expires_on=today + timedelta(days=200))
    CertificateFactory(user=expiring, course=guide, expires_on=today + timedelta(days=10))
    CertificateFactory(user=expired, course=guide, expires_on=today - timedelta(days=1))
    # An older, expired certificate of the same course does not hide a newer current one.
    CertificateFactory(user=current, course=guide, expires_on=today - timedelta(days=300))
    make_user(Role.WAREHOUSE_CLERK)  # no required course in this test: not in the matrix
    matrix = readiness_matrix(today=today)
    assert [c.code for c in matrix.courses] == ["a-guide", "b-restore", "c-scripts"]
    cells = {row.user.username: [s for s, _e in row.cells] for row in matrix.rows}
    assert cells == {
        "a_current": ["current", "current", ""],
        "b_expiring": ["expiring", "missing", ""],
        "c_expired": ["expired", "missing", ""],
    }
    assert matrix.totals == {"current": 2, "expiring": 1, "expired": 1, "missing": 2}
    assert [r.ready for r in matrix.rows] == [True, False, False]


def test_the_matrix_costs_the_same_few_queries_for_many_people(
    make_user, django_assert_max_num_queries
):
    courses = [CourseFactory(required_for=["logistics", "tech_support"]) for _ in range(5)]
    for n in range(40):
        person = make_user(Role.LOGISTICS if n % 2 else Role.TECH_SUPPORT)
        CertificateFactory(user=person, course=courses[n % 5])
    with django_assert_max_num_queries(4):
        matrix = readiness_matrix()
        assert len(matrix.rows) == 40 and sum(matrix.totals.values()) == 200


def test_the_matrix_exports_to_xlsx_with_one_row_per_person(manager, make_user, client):
    course = CourseFactory(title_en="=HYPERLINK(evil)", required_for=["tech_support"])
    person = make_user(Role.TECH_SUPPORT, username="ops1")
    CertificateFactory(user=person, course=course)
    content = matrix_xlsx(readiness_matrix())
    sheet = openpyxl.load_workbook(BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    assert header[1] == "User name" or header[1] == "用户名"
    assert all(not str(h).startswith("=") for h in header)  # formulas neutralised
    assert rows[1][1] == "ops1" and "(" in rows[1][2]
    client.force_login(manager)
    response = client.get("/drills/training/matrix.xlsx")
    assert response.status_code == 200 and response.content[:2] == b"PK"


def test_expiry_reminders_go_once_in_the_holders_language(settings, make_user):
    settings.DRILLS_CERTIFICATE_REMINDER_DAYS = 30
    today = timezone.localdate()
    en = make_user(Role.TECH_SUPPORT, language="en")
    zh = make_user(Role.TECH_SUPPORT, language="zh-hans")
    course = CourseFactory(title_en="Restore procedure", title_zh="数据恢复流程")
    CertificateFactory(user=en, course=course, expires_on=today + timedelta(days=20))
    CertificateFactory(user=zh, course=course, expires_on=today + timedelta(days=5))
    CertificateFactory(user=zh, course=CourseFactory(), expires_on=today + timedelta(days=90))
    assert services.send_expiry_reminders() == 2
    assert services.send_expiry_reminders() == 0  # each certificate once
    assert "Restore procedure" in Notification.objects.get(recipient=en).subject
    assert "数据恢复流程" in Notification.objects.get(recipient=zh).subject


def test_no_reminder_for_a_certificate_already_renewed(make_user):
    today = timezone.localdate()
    person = make_user(Role.TECH_SUPPORT)
    course = CourseFactory()
    CertificateFactory(user=person, course=course, expires_on=today + timedelta(days=5))
    CertificateFactory(user=person, course=course, expires_on=today + timedelta(days=370))
    call_command("remind_certificate_expiry")
    assert not Notification.objects.exists()


def test_operators_trained_follows_the_matrix(make_user):
    course = CourseFactory(required_for=["tech_support"])
    assert not operators_trained_finding().ok  # required, but no one on duty
    person = make_user(Role.TECH_SUPPORT)
    finding = operators_trained_finding()
    assert not finding.ok and person.username in finding.detail
    CertificateFactory(
        user=person, course=course, expires_on=timezone.localdate() + timedelta(days=5)
    )
    assert operators_trained_finding().ok  # expiring soon is still current
    Certificate.objects.update(expires_on=timezone.localdate() - timedelta(days=1))
    assert not operators_trained_finding().ok


def test_planning_a_session_invites_people(manager, make_user):
    person = make_user(Role.TECH_SUPPORT, language="en")
    course = CourseFactory(title_en="Upgrade operation guide")
    session = services.plan_session(
        course=course,
        starts_at=timezone.now() + timedelta(days=3),
        invitees=[person],
        location="Room 1",
        by=manager,
    )
    assert list(session.invitees.all()) == [person]
    assert "Upgrade operation guide" in Notification.objects.get(recipient=person).subject
