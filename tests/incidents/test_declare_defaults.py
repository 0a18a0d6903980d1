import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_the_declare_form_starts_with_discovered_at_now(client, make_user):
    client.force_login(make_user(Role.EMERGENCY_LEAD))
    page = client.get(reverse("incidents:incident-declare")).content.decode()
    [tag] = re.findall(r'<input[^>]*name="detected_at"[^>]*>', page)
    value = re.search(r'value="([^"]+)"', tag)
    assert value, f"no default in {tag}"
    shown = timezone.make_aware(datetime.strptime(value.group(1), "%Y-%m-%d %H:%M"))
    assert abs(timezone.now() - shown) < timedelta(minutes=2)


def test_incident_times_are_one_text_box_each_not_seven_tab_stops(client, make_user):
    """A datetime-local input is seven Tab stops; staff type times into one box instead."""
    from tests.incidents.factories import IncidentFactory

    lead = make_user(Role.EMERGENCY_LEAD)
    incident = IncidentFactory()
    client.force_login(lead)
    detail = reverse("incidents:incident-detail", args=[incident.pk])
    for url in (reverse("incidents:incident-declare"), detail):
        page = client.get(url).content.decode()
        assert 'type="datetime-local"' not in page
        assert re.search(r'<input type="text" name="(detected_at|due_at|at|held_at)"', page), url
