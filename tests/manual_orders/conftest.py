import pytest

from apps.accounts.roles import Role
from apps.backups import demo_order_system
from tests.backups.conftest import _create_db, _drop_db

from .factories import CustomerFactory, priced_product


@pytest.fixture(autouse=True)
def _quiet_notifications(settings, tmp_path):
    """Customers' SMS go to files under the test's own directory, never the console."""
    settings.SMS_BACKEND = "apps.core.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def operator(make_user):
    return make_user(Role.BUSINESS_SUPPORT, username="operator", language="en")


@pytest.fixture
def lead(make_user):
    return make_user(Role.EMERGENCY_LEAD, username="lead")


@pytest.fixture
def logistics(make_user):
    return make_user(Role.LOGISTICS, username="logistics")


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def product(operator):
    return priced_product(price="25.50", stock="10", by=operator)


@pytest.fixture
def order_db(settings):
    """A real PostgreSQL order system with the demo data (the backups tests' pattern)."""
    name, url = _create_db("test_mo_ordersys")
    demo_order_system.seed_postgres(url, orders=50)
    settings.ORDER_SYSTEM_DATABASE_URL = url
    yield url
    _drop_db(name)
