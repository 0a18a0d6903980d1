import pytest

from apps.accounts.roles import Role


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, username="manager", language="en", email="m@example.com")


@pytest.fixture(autouse=True)
def _fresh_status_cache():
    from apps.customer_care.services.outreach.status import status_cache

    status_cache().clear()
    yield
    status_cache().clear()
