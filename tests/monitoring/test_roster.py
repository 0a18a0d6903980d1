"""The duty roster: an alarm is announced to the tech-support staff on duty when it fires (real
mail through the SMTP test server); with nobody on duty to every tech-support account, and the
alarm says so; shifts are kept by the emergency lead and administrators, on the page and in the
Django admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role
from apps.core.choices import Channel
from apps.core.errors import DomainError
from apps.core.models import Notification
from apps.monitoring import selectors, services
from apps.monitoring.choices import AlarmAudience
from apps.monitoring.errors import MonitoringError
from apps.monitoring.models import Alarm, DutyShift

from .factories import HttpProbeFactory, RuleFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(second=0, microsecond=0)
MESSAGES = {
    "en": "A duty shift must end after it starts.",
    "zh-hans": "值班班次的结束时间必须晚于开始时间。",
}


@pytest.fixture
def techs(make_user):
    """Three tech-support accounts with an address for each channel."""
    return [
        make_user(Role.TECH_SUPPORT, email=f"tech{i}@example.com", phone=f"1390000000{i}")
        for i in range(3)
    ]


@pytest.fixture
def lead(make_user):
    return make_user(Role.EMERGENCY_LEAD, email="lead@example.com", phone="13900000009")


@pytest.fixture
def failing_shop(shop_server, only_probes):
    """A shop answering 500 and a rule that fires at the first failed sample."""
    only_probes()
    shop_server.status = 500
    return RuleFactory(probe=HttpProbeFactory(url=shop_server.url), name="shop down", consecutive=1)


def shift(person, starts_at, ends_at, *, by):
    return services.add_duty_shift(person=person, starts_at=starts_at, ends_at=ends_at, by=by)


def mailed(smtp_server):
    return sorted(address for m in smtp_server.messages for address in m.rcpt_tos)


def texted():
    return sorted(
        Notification.objects.filter(channel=Channel.SMS).values_list("address", flat=True)
    )


def test_an_alarm_goes_only_to_the_staff_on_duty_when_it_fires(
    failing_shop, smtp_server, techs, lead
):
    on, also_on, off = techs
    shift(on, T0 - timedelta(hours=4), T0 + timedelta(hours=4), by=lead)
    shift(also_on, T0 - timedelta(minutes=5), T0 + timedelta(minutes=5), by=lead)  # overlaps
    shift(off, T0 - timedelta(hours=12), T0 - timedelta(hours=4), by=lead)  # over
    shift(off, T0 + timedelta(hours=4), T0 + timedelta(hours=12), by=lead)  # not yet
    services.run_probes(now=T0)
    alarm = Alarm.objects.get()
    assert mailed(smtp_server) == ["tech0@example.com", "tech1@example.com"]
    assert texted() == ["13900000000", "13900000001"]
    assert alarm.notified == AlarmAudience.ON_DUTY
    assert alarm.history.filter(notified=AlarmAudience.ON_DUTY).exists()


def test_with_nobody_on_duty_every_tech_support_account_is_told_and_the_alarm_says_so(
    failing_shop, smtp_server, techs, lead, client
):
    shift(techs[0], T0 - timedelta(hours=8), T0 - timedelta(hours=1), by=lead)
    services.run_probes(now=T0)
    alarm = Alarm.objects.get()
    assert mailed(smtp_server) == [f"tech{i}@example.com" for i in range(3)]
    assert len(texted()) == 3
    assert alarm.notified == AlarmAudience.ALL_TECH_SUPPORT
    client.force_login(techs[0])
    for language, text in (
        ("en", "Every tech-support account: nobody was on duty on the roster"),
        ("zh-hans", "所有技术支持账号：值班表上当时无人值班"),
    ):
        client.cookies["django_language"] = language
        techs[0].language = language
        techs[0].save()
        page = client.get(reverse("monitoring:alarm-detail", args=[alarm.pk])).content.decode()
        assert text in page, language


def test_a_shift_covers_its_first_minute_and_not_its_last(techs, lead):
    person = techs[0]
    starts, ends = T0, T0 + timedelta(hours=8)
    shift(person, starts, ends, by=lead)
    assert selectors.on_duty(at=starts - timedelta(microseconds=1)) == []
    assert selectors.on_duty(at=starts) == [person]
    assert selectors.on_duty(at=ends - timedelta(microseconds=1)) == [person]
    assert selectors.on_duty(at=ends) == []


@pytest.mark.parametrize(
    ("fires_at", "told"),
    [
        (timedelta(0), AlarmAudience.ON_DUTY),  # the shift's start: on duty
        (timedelta(hours=8), AlarmAudience.ALL_TECH_SUPPORT),  # its end: no longer
    ],
    ids=["at-start", "at-end"],
)
def test_an_alarm_at_a_shift_boundary(failing_shop, smtp_server, techs, lead, fires_at, told):
    shift(techs[0], T0, T0 + timedelta(hours=8), by=lead)
    services.run_probes(now=T0 + fires_at)
    assert Alarm.objects.get().notified == told
    everyone = [f"tech{i}@example.com" for i in range(3)]
    assert mailed(smtp_server) == (everyone[:1] if told == AlarmAudience.ON_DUTY else everyone)


def test_escalation_still_goes_to_the_emergency_lead(failing_shop, smtp_server, techs, lead):
    shift(techs[0], T0 - timedelta(hours=1), T0 + timedelta(hours=1), by=lead)
    services.run_probes(now=T0)
    services.escalate_alarms(now=T0 + timedelta(minutes=failing_shop.escalate_after_minutes + 1))
    assert [m.rcpt_tos for m in smtp_server.messages] == [
        ["tech0@example.com"],
        ["lead@example.com"],
    ]


def test_a_person_who_lost_the_role_is_no_longer_on_duty(techs, lead):
    shift(techs[0], T0, T0 + timedelta(hours=1), by=lead)
    techs[0].groups.clear()
    assert selectors.on_duty(at=T0) == []


def test_a_shift_ending_before_or_when_it_starts_is_refused(techs, lead):
    for ends in (T0 - timedelta(minutes=1), T0):
        with pytest.raises(DomainError) as exc:
            shift(techs[0], T0, ends, by=lead)
        assert exc.value.code == MonitoringError.SHIFT_ENDS_BEFORE_START
    assert not DutyShift.objects.exists()


def test_only_tech_support_can_be_put_on_duty(make_user, lead):
    agent = make_user(Role.CARE_AGENT)
    with pytest.raises(DomainError) as exc:
        shift(agent, T0, T0 + timedelta(hours=1), by=lead)
    assert exc.value.code == MonitoringError.NOT_TECH_SUPPORT
    retired = make_user(Role.TECH_SUPPORT, is_active=False)
    with pytest.raises(DomainError):
        shift(retired, T0, T0 + timedelta(hours=1), by=lead)
    assert not DutyShift.objects.exists()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_roster_form_refuses_a_shift_ending_before_it_starts_in_the_readers_language(
    client, make_user, techs, language
):
    lead = make_user(Role.EMERGENCY_LEAD, language=language)
    client.force_login(lead)
    client.cookies["django_language"] = language
    response = client.post(
        reverse("monitoring:shift-add"),
        {"person": techs[0].pk, "starts_at": "2026-12-01 20:00", "ends_at": "2026-12-01 08:00"},
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert MESSAGES[language] in text
    assert 'value="2026-12-01 20:00"' in text  # what was typed is kept
    assert not DutyShift.objects.exists()


def test_the_emergency_lead_enters_and_removes_a_shift_on_the_roster_page(client, techs, lead):
    client.force_login(lead)
    form = client.get(reverse("monitoring:shift-add")).content.decode()
    assert str(techs[0]) in form
    response = client.post(
        reverse("monitoring:shift-add"),
        {"person": techs[0].pk, "starts_at": "2026-12-01 08:00", "ends_at": "2026-12-01 20:00"},
    )
    assert response["Location"] == reverse("monitoring:roster")
    saved = DutyShift.objects.get()
    local = timezone.localtime(saved.starts_at)
    assert (local.hour, saved.ends_at - saved.starts_at) == (8, timedelta(hours=12))
    assert saved.created_by == lead
    assert saved.history.get().history_user == lead
    page = client.get(reverse("monitoring:roster")).content.decode()
    assert str(techs[0]) in page
    client.post(reverse("monitoring:shift-remove", args=[saved.pk]))
    assert not DutyShift.objects.exists()
    removed = DutyShift.history.get(id=saved.pk, history_type="-")
    assert removed.history_user == lead


def test_the_form_offers_only_active_tech_support(client, make_user, techs, lead):
    agent = make_user(Role.CARE_AGENT, first_name="Agent", last_name="Care")
    client.force_login(lead)
    response = client.post(
        reverse("monitoring:shift-add"),
        {"person": agent.pk, "starts_at": "2026-12-01 08:00", "ends_at": "2026-12-01 20:00"},
    )
    assert response.status_code == 200 and "person" in response.context["form"].errors
    assert not DutyShift.objects.exists()


@pytest.mark.parametrize(
    ("role", "sees", "keeps"),
    [
        (Role.TECH_SUPPORT, True, False),
        (Role.EMERGENCY_LEAD, True, True),
        (Role.ADMIN, True, True),
        (Role.MANAGER, True, False),
        (Role.CARE_AGENT, False, False),
    ],
    ids=lambda v: v.value if isinstance(v, Role) else str(v),
)
def test_who_sees_and_keeps_the_roster(client, make_user, techs, lead, role, sees, keeps):
    existing = shift(techs[0], T0, T0 + timedelta(hours=1), by=lead)
    client.force_login(make_user(role))
    assert client.get(reverse("monitoring:roster")).status_code == (200 if sees else 403)
    add = client.post(
        reverse("monitoring:shift-add"),
        {"person": techs[1].pk, "starts_at": "2026-12-01 08:00", "ends_at": "2026-12-01 20:00"},
    )
    assert add.status_code == (302 if keeps else 403)
    remove = client.post(reverse("monitoring:shift-remove", args=[existing.pk]))
    assert remove.status_code == (302 if keeps else 403)
    assert DutyShift.objects.filter(pk=existing.pk).exists() is not keeps


def test_administrators_enter_shifts_in_the_django_admin_through_the_service(
    client, make_user, techs
):
    admin = make_user(Role.ADMIN)
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    url = reverse("admin:monitoring_dutyshift_add")

    def post(starts, ends):
        return client.post(
            url,
            {
                "person": techs[0].pk,
                "starts_at_0": "2026-12-01",
                "starts_at_1": starts,
                "ends_at_0": "2026-12-01",
                "ends_at_1": ends,
            },
        )

    refused = post("20:00:00", "08:00:00")
    assert refused.status_code == 200 and MESSAGES["en"] in refused.content.decode()
    assert not DutyShift.objects.exists()
    assert post("08:00:00", "20:00:00").status_code == 302
    saved = DutyShift.objects.get()
    assert saved.created_by == admin and saved.history.get().history_user == admin
    listing = client.get(reverse("admin:monitoring_dutyshift_changelist")).content.decode()
    assert str(techs[0]) in listing
