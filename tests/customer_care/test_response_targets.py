"""Response targets: business hours, the 24-hour mode, breaches recorded once, the priority lane."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.models import Notification
from apps.customer_care import selectors, services
from apps.customer_care.choices import CaseChannel, CaseType, Direction, Priority
from apps.customer_care.engine.hours import BusinessHours
from apps.customer_care.models import Case, Team

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def open_at(agent, opened_at, **kwargs):
    fields = {
        "channel": CaseChannel.PHONE,
        "case_type": CaseType.ORDER_QUERY,
        "subject": "s",
        "by": agent,
        "customer": kwargs.pop("customer", None) or CustomerFactory(),
        "opened_at": opened_at,
    }
    fields.update(kwargs)
    return services.open_case(**fields)


def test_business_hours_carry_a_clock_over_the_weekend():
    hours = BusinessHours.of(opens=time(9), closes=time(18), weekdays=[0, 1, 2, 3, 4], tz=SHANGHAI)
    # Friday 2026-11-27 17:00 + 4 working hours: 1 h on Friday, 3 h on Monday.
    assert hours.add(at(2026, 11, 27, 17), 240) == at(2026, 11, 30, 12)
    # Opened on Saturday: the clock starts on Monday at opening time.
    assert hours.add(at(2026, 11, 28, 10), 30) == at(2026, 11, 30, 9, 30)
    assert hours.working_minutes_between(at(2026, 11, 27, 17), at(2026, 11, 30, 12)) == 240


def test_a_case_opened_after_hours_gets_its_targets_in_business_hours(agent, settings):
    settings.CARE_RESPONSE_TARGETS = {"normal": [60, 600]}
    case = open_at(agent, at(2026, 11, 27, 20))  # Friday evening
    assert case.first_response_due == at(2026, 11, 30, 10)
    assert case.resolution_due == at(2026, 12, 1, 10)


def test_an_open_incident_switches_the_clocks_to_24_hours(agent, settings):
    from tests.incidents.factories import IncidentFactory

    settings.CARE_RESPONSE_TARGETS = {"normal": [60, 600]}
    IncidentFactory()
    case = open_at(agent, at(2026, 11, 27, 20))
    assert case.first_response_due == at(2026, 11, 27, 21)
    assert case.resolution_due == at(2026, 11, 28, 6)


def test_a_team_in_24_hour_service_counts_every_minute(agent):
    team = Team.objects.create(name="Night", round_the_clock=True)
    case = open_at(agent, at(2026, 11, 28, 23), team=team, priority=Priority.URGENT)
    assert case.first_response_due == at(2026, 11, 28, 23, 30)


def test_a_channels_own_target_wins_over_the_prioritys(agent, manager_user):
    services.save_response_target(
        priority=Priority.HIGH, first_response_minutes=60, resolution_minutes=480, by=manager_user
    )
    services.save_response_target(
        priority=Priority.HIGH,
        channel=CaseChannel.LIVE_STREAM,
        first_response_minutes=15,
        resolution_minutes=120,
        by=manager_user,
    )
    assert services.target_minutes(priority="high", channel="live_stream") == (15, 120)
    assert services.target_minutes(priority="high", channel="phone") == (60, 480)


def test_a_resolution_target_shorter_than_the_first_response_is_refused(manager_user):
    from apps.core.errors import DomainError
    from apps.customer_care.errors import CareError

    with pytest.raises(DomainError) as exc:
        services.save_response_target(
            priority="low", first_response_minutes=60, resolution_minutes=30, by=manager_user
        )
    assert exc.value.code == CareError.BAD_TARGET


@pytest.fixture
def manager_user(make_user):
    from apps.accounts.roles import Role

    return make_user(Role.MANAGER)


def test_a_missed_first_response_is_recorded_once_at_its_due_time(agent):
    case = open_at(
        agent,
        timezone.now() - timedelta(days=10),
        team=Team.objects.create(name="24h", round_the_clock=True),
    )
    first = services.check_response_targets()
    case.refresh_from_db()
    assert first["first_response_missed"] == 1
    assert case.first_response_breached_at == case.first_response_due
    recorded = case.first_response_breached_at
    # A later priority change moves the targets but never rewrites the breach.
    services.set_priority(case=case, priority=Priority.LOW, by=agent)
    again = services.check_response_targets()
    case.refresh_from_db()
    assert again["first_response_missed"] == 0
    assert case.first_response_breached_at == recorded
    assert case.events.filter(kind="care.first_response_missed").count() == 1


def test_a_late_answer_keeps_the_breach_on_record(agent):
    team = Team.objects.create(name="24h", round_the_clock=True)
    case = open_at(agent, timezone.now() - timedelta(days=2), team=team)
    services.check_response_targets()
    services.add_message(case=case, direction=Direction.OUTBOUND, body="Sorry!", by=agent)
    case.refresh_from_db()
    assert case.first_response_breached_at is not None
    assert case.first_responded_at > case.first_response_breached_at


def test_the_lead_is_warned_once_of_a_case_about_to_miss_its_target(agent, care_lead, settings):
    settings.CARE_BREACH_WARNING_MINUTES = 30
    team = Team.objects.create(name="Day", round_the_clock=True, lead=care_lead)
    settings.CARE_RESPONSE_TARGETS = {"normal": [20, 600]}
    case = open_at(agent, timezone.now(), team=team)
    assert services.check_response_targets()["warned"] == 1
    assert services.check_response_targets()["warned"] == 0
    warning = Notification.objects.get(recipient=care_lead)
    assert case.reference in warning.subject
    case.refresh_from_db()
    assert case.breach_warned_at is not None
    assert selectors.clock_of(case).about_to_breach


def test_the_queue_puts_vip_and_urgent_cases_first_then_time_left(agent, settings):
    settings.CARE_RESPONSE_TARGETS = {
        "urgent": [600, 6000],
        "high": [30, 600],
        "normal": [60, 600],
        "low": [10, 600],
    }
    team = Team.objects.create(name="24h", round_the_clock=True)
    now = timezone.now()
    low_soon = open_at(agent, now, priority=Priority.LOW, team=team)
    normal = open_at(agent, now, priority=Priority.NORMAL, team=team)
    vip = open_at(
        agent, now, priority=Priority.NORMAL, team=team, customer=CustomerFactory(vip=True)
    )
    urgent = open_at(agent, now, priority=Priority.URGENT, team=team)
    order = [c.pk for c in selectors.queue()]
    assert order == [vip.pk, urgent.pk, low_soon.pk, normal.pk]


def test_the_queue_answers_in_a_constant_number_of_queries(agent):
    team = Team.objects.create(name="24h", round_the_clock=True)
    for _ in range(3):
        open_at(agent, timezone.now(), team=team, owner=agent)
    with CaptureQueriesContext(connection) as few:
        list(selectors.queue())
    for _ in range(20):
        open_at(agent, timezone.now(), team=team, owner=agent)
    with CaptureQueriesContext(connection) as many:
        page = selectors.queue()
        [(c.customer.name, c.owner.username) for c in page]
    assert len(few) == len(many) == 1
    assert len(page) == 23


def test_the_queue_pages_by_keyset(agent):
    team = Team.objects.create(name="24h", round_the_clock=True)
    for _ in range(5):
        open_at(agent, timezone.now(), team=team)
    first = selectors.queue(limit=3)
    last = first[-1]
    rest = selectors.queue(limit=3, after=(last.lane, last.due_at, last.pk))
    assert len(rest) == 2 and not {c.pk for c in first} & {c.pk for c in rest}


def test_agent_figures_count_first_response_resolution_and_reopened(agent):
    from apps.customer_care.choices import CaseState

    team = Team.objects.create(name="24h", round_the_clock=True)
    case = open_at(agent, timezone.now() - timedelta(hours=2), team=team, owner=agent)
    services.add_message(case=case, direction=Direction.OUTBOUND, body="On it", by=agent)
    case = Case.objects.get(pk=case.pk)
    case = services.change_state(case=case, to=CaseState.RESOLVED, version=case.version, by=agent)
    services.change_state(case=case, to=CaseState.OPEN, version=case.version, by=agent)
    figures = {f.agent_id: f for f in selectors.agent_figures()}[agent.pk]
    assert figures.cases == 1 and figures.answered == 1 and figures.reopened == 1
    assert 119 <= figures.first_response_minutes <= 121
