import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from apps.accounts.roles import Role
from apps.incidents import services
from apps.incidents.choices import Phase, Severity
from apps.incidents.models import TaskTemplate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_checklist_phases_follow_the_plans_order_not_the_alphabet(client, make_user, language):
    assert set(TaskTemplate.objects.values_list("phase", flat=True)) == set(Phase.values)
    incident = services.declare_incident(
        title="Upgrade failed",
        severity=Severity.HIGH,
        detected_at=timezone.now(),
        by=make_user(Role.EMERGENCY_LEAD),
    )
    client.force_login(make_user(Role.MANAGER))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        # The plan's order: emergency response, problem fix, business recovery, coordination,
        # resources (the order Phase declares them in).
        headings = [f">{label}</h" for label in Phase.labels]
    for url in (
        reverse("incidents:incident-detail", args=[incident.pk]),
        reverse("incidents:template-list"),
    ):
        page = client.get(url).content.decode()
        assert all(h in page for h in headings), url
        assert sorted(headings, key=page.index) == headings, url
