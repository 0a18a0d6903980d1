"""The per-user iCalendar feed: signed URL, parsed back with the icalendar package."""

from datetime import timedelta

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role
from apps.drills.calendar import feed_token
from apps.drills.choices import Repeat

from .factories import DrillPlanFactory, TrainingSessionFactory

pytestmark = pytest.mark.django_db


def _feed(client, user, **params):
    response = client.get(reverse("drills:calendar-feed", args=[feed_token(user)]), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def test_the_feed_lists_a_persons_drills_with_repeats_and_training_sessions(client, make_user):
    person = make_user(Role.TECH_SUPPORT)
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    DrillPlanFactory(
        participants=[person],
        title="Weekly restore drill",
        scheduled_at=start,
        repeat=Repeat.WEEKLY,
        repeat_until=(start + timedelta(days=15)).date(),
    )
    observed = DrillPlanFactory(title="Observed drill")
    observed.observers.add(person)
    DrillPlanFactory(title="Someone else's drill")
    session = TrainingSessionFactory(location="Room 7")
    session.invitees.add(person)
    events = _feed(client, person, lang="en").walk("VEVENT")
    summaries = [str(e["SUMMARY"]) for e in events]
    assert summaries.count("Drill: Weekly restore drill") == 3
    assert "Drill: Observed drill" in summaries
    assert not any("Someone else" in s for s in summaries)
    training = [e for e in events if str(e["SUMMARY"]).startswith("Training:")]
    assert len(training) == 1 and str(training[0]["LOCATION"]) == "Room 7"
    weekly = sorted(e.decoded("DTSTART") for e in events if "Weekly" in str(e["SUMMARY"]))
    assert weekly[0] == start and weekly[1] - weekly[0] == timedelta(weeks=1)
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_the_feed_speaks_the_persons_language(client, make_user):
    person = make_user(Role.TECH_SUPPORT, language="zh-hans")
    DrillPlanFactory(participants=[person], title="订单迁移演习")
    summary = str(_feed(client, person).walk("VEVENT")[0]["SUMMARY"])
    assert summary.startswith("演习")


def test_a_tampered_or_unknown_token_gets_nothing(client, make_user):
    person = make_user(Role.TECH_SUPPORT)
    token = feed_token(person)
    assert client.get(reverse("drills:calendar-feed", args=[token[:-2] + "xx"])).status_code == 404
    person.is_active = False
    person.save()
    assert client.get(reverse("drills:calendar-feed", args=[token])).status_code == 404


def test_the_calendar_page_shows_the_signed_in_persons_feed_address(client, make_user):
    person = make_user(Role.WAREHOUSE_CLERK)
    client.force_login(person)
    html = client.get(reverse("drills:calendar")).content.decode()
    assert feed_token(person) in html
