import logging

import pytest
from django.urls import reverse

from apps.accounts.roles import Role


@pytest.mark.django_db
def test_an_expected_403_is_logged_in_one_line_without_a_traceback(client, make_user, caplog):
    client.force_login(make_user(Role.WAREHOUSE_CLERK))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("accounts:user-list"))
    assert response.status_code == 403
    forbidden = [r for r in caplog.records if getattr(r, "status_code", None) == 403]
    assert forbidden, "the refusal is still logged"
    assert all(r.exc_info is None for r in forbidden)
    assert "Traceback" not in caplog.text
    assert "PermissionDenied" not in caplog.text
