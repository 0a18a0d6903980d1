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
    shown = timezone.make_aware(datetime.strptime(value.group(1), "%Y-%m-%dT%H:%M"))
    assert abs(timezone.now() - shown) < timedelta(minutes=2)
