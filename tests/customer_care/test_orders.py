"""Orders from a case: look-up everywhere, manual-order changes through their services, and
order-system requests the hand-back applies once."""

import psycopg
import pytest

from apps.backups import demo_order_system
from apps.backups.models import BackupScope
from apps.core.errors import DomainError
from apps.core.models import Notification
from apps.customer_care import services
from apps.customer_care.choices import CaseChannel, CaseType, OrderSource, RequestState
from apps.customer_care.errors import CareError
from apps.customer_care.models import OrderSystemRequest
from apps.manual_orders import services as order_services
from apps.manual_orders.models import OrderEvent
from tests.backups.conftest import _create_db, _drop_db

from .factories import CustomerFactory, new_key, priced_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_db(settings):
    """A real PostgreSQL order system with the demo data."""
    name, url = _create_db("test_care_ordersys")
    demo_order_system.seed_postgres(url, orders=40)
    settings.ORDER_SYSTEM_DATABASE_URL = url
    yield url
    _drop_db(name)


def first_order(url):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT o.order_no, c.phone, c.email, o.status FROM orders o "
            "JOIN customers c ON c.id = o.customer_id WHERE o.status IN ('paid', 'pending') "
            "ORDER BY o.id LIMIT 1"
        ).fetchone()


@pytest.fixture
def manual_order(agent):
    customer = CustomerFactory(
        phone="13800138000", email="buyer@example.com", language="en", notify_by="both"
    )
    product = priced_product(price="20.00", stock="50", by=agent)
    return order_services.place_order(
        idempotency_key=new_key(),
        customer=customer,
        channel="phone",
        delivery_address="Old Street 1",
        lines=[order_services.LineInput(product_id=product.pk, quantity=2)],
        by=agent,
    ).order


def case_for(agent, order=None, source=OrderSource.MANUAL, number=None):
    refs = []
    if order is not None or number:
        refs = [services.OrderRef(source, number or order.number)]
    return services.open_case(
        channel=CaseChannel.PHONE,
        case_type=CaseType.CHANGE,
        subject="Change my order",
        by=agent,
        customer=order.customer if order is not None else CustomerFactory(),
        orders=refs,
    )


def test_a_manual_order_is_found_by_number_phone_and_email(manual_order, settings):
    settings.ORDER_SYSTEM_DATABASE_URL = "postgresql://nobody@127.0.0.1:1/none"
    for query in (manual_order.number, "138 0013 8000", "Buyer@Example.com"):
        result = services.find_orders(query=query)
        assert [o.number for o in result.orders] == [manual_order.number], query
    assert result.order_system == "unavailable"


def test_an_order_system_order_is_found_through_the_gateway_while_it_answers(order_db):
    number, phone, email, _status = first_order(order_db)
    by_number = services.find_orders(query=number)
    assert by_number.order_system == "live"
    assert [o.number for o in by_number.orders] == [number]
    assert number in [o.number for o in services.find_orders(query=phone).orders]
    assert number in [o.number for o in services.find_orders(query=email).orders]


def test_with_the_order_system_down_orders_are_found_in_the_latest_backup_with_its_age(
    order_db, settings, tmp_path
):
    from apps.backups import services as backup_services
    from tests.backups.conftest import key_spec

    settings.BACKUP_LOCAL_DIR = str(tmp_path / "local")
    settings.STORAGES = {
        **settings.STORAGES,
        "backups_remote": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "remote")},
        },
    }
    settings.BACKUP_MASTER_KEYS = key_spec()
    settings.BACKUP_KEY_FILE = ""
    settings.BACKUP_NAME_STYLE = "plan"
    for slug in ("orders", "users"):
        backup_services.start_backup(scope=BackupScope.objects.get(slug=slug))
    number, phone, _email, _status = first_order(order_db)
    settings.ORDER_SYSTEM_DATABASE_URL = order_db.rsplit("/", 1)[0] + "/gone_for_good"
    live = services.find_orders(query=phone)
    assert live.order_system == "unavailable" and live.problem
    result = services.find_orders_in_backup(query=phone)
    assert result.order_system == "backup"
    assert result.as_of is not None
    assert number in [o.number for o in result.orders]


def test_an_empty_look_up_is_refused(agent):
    with pytest.raises(DomainError) as exc:
        services.find_orders(query="  ")
    assert exc.value.code == CareError.LOOKUP_EMPTY


def test_a_manual_orders_address_is_changed_through_its_service_and_the_customer_told(
    manual_order, agent
):
    case = case_for(agent, manual_order)
    order = services.change_manual_order(
        case=case, order=manual_order, delivery_address="New Road 9", by=agent
    )
    assert order.delivery_address == "New Road 9"
    event = OrderEvent.objects.filter(order=order, kind="order.changed").get()
    assert event.by == agent and event.params == {"fields": ["address"]}
    told = Notification.objects.filter(address__in=["buyer@example.com", "13800138000"])
    changed = [n for n in told if "has been changed" in n.body]
    assert {n.channel for n in changed} == {"email", "sms"}
    assert "New Road 9" in changed[0].body
    assert case.events.filter(kind="care.order_changed").exists()


def test_quantities_of_a_manual_order_change_and_its_total_follows(manual_order, agent):
    case = case_for(agent, manual_order)
    line = manual_order.lines.get()
    order = services.change_manual_order(
        case=case, order=manual_order, quantities={line.pk: 5}, by=agent
    )
    assert str(order.total) == "100.00"


def test_a_dispatched_manual_order_cannot_be_changed_and_says_why(manual_order, agent, make_user):
    from apps.accounts.roles import Role
    from tests.inventory_counts.factories import WarehouseFactory

    logistics = make_user(Role.LOGISTICS)
    order_services.allocate_order(
        order=manual_order, warehouse=WarehouseFactory(), carrier="SF", by=logistics
    )
    order_services.dispatch_order(order=manual_order, tracking_number="SF1", by=logistics)
    case = case_for(agent, manual_order)
    with pytest.raises(DomainError) as exc:
        services.change_manual_order(
            case=case, order=manual_order, delivery_address="Elsewhere", by=agent
        )
    assert exc.value.code == CareError.ORDER_DISPATCHED
    from django.utils import translation

    with translation.override("en"):
        assert "is already Dispatched" in str(exc.value)
    manual_order.refresh_from_db()
    assert manual_order.delivery_address == "Old Street 1"


def test_a_manual_order_is_cancelled_from_its_case_through_manual_orders(manual_order, agent):
    case = case_for(agent, manual_order)
    order = services.cancel_manual_order(
        case=case, order=manual_order, reason="Customer changed their mind", by=agent
    )
    assert order.state == "cancelled"
    event = OrderEvent.objects.get(order=order, to_state="cancelled")
    assert case.reference in event.note
    assert Notification.objects.filter(body__contains="has been cancelled").exists()


def test_an_order_not_on_the_case_cannot_be_changed_from_it(manual_order, agent):
    case = case_for(agent)
    with pytest.raises(DomainError) as exc:
        services.cancel_manual_order(case=case, order=manual_order, reason="x", by=agent)
    assert exc.value.code == CareError.ORDER_NOT_ON_CASE


def test_order_system_requests_are_applied_by_the_hand_back_exactly_once(order_db, agent):
    from apps.manual_orders.jobs import push_to_order_system_job

    number, _phone, _email, _status = first_order(order_db)
    case = case_for(agent, source=OrderSource.ORDER_SYSTEM, number=number)
    services.request_order_system_change(
        case=case,
        number=number,
        kind="change",
        ship_address="新地址 8 号",
        reason="moved",
        by=agent,
    )
    services.request_order_system_change(
        case=case, number=number, kind="cancel", reason="no longer wanted", by=agent
    )
    first = push_to_order_system_job(user_id=agent.pk)
    assert first["care_requests_applied"] == 2
    with psycopg.connect(order_db) as conn:
        status, address = conn.execute(
            "SELECT status, ship_address FROM orders WHERE order_no = %s", (number,)
        ).fetchone()
    assert (status, address) == ("cancelled", "新地址 8 号")
    second = push_to_order_system_job(user_id=agent.pk)
    assert second["care_requests_applied"] == 0
    assert set(OrderSystemRequest.objects.values_list("state", flat=True)) == {RequestState.APPLIED}
    assert case.events.filter(kind="care.request_applied").count() == 2


def test_a_request_the_order_system_cannot_take_is_failed_with_its_reason(order_db, agent):
    case = case_for(agent, source=OrderSource.ORDER_SYSTEM, number="SO-NOT-THERE")
    services.request_order_system_change(
        case=case, number="SO-NOT-THERE", kind="cancel", reason="x", by=agent
    )
    counts = services.apply_order_system_requests(by=agent)
    assert counts["care_requests_failed"] == 1
    failed = OrderSystemRequest.objects.get()
    assert failed.state == RequestState.FAILED and "not in the order system" in failed.outcome
