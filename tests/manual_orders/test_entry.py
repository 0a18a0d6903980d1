"""Taking an order: one order per key, stock holds, likely duplicates, prices, numbers."""

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.roles import Role
from apps.core.errors import DomainError
from apps.manual_orders import selectors, services
from apps.manual_orders.choices import OrderState
from apps.manual_orders.errors import OrderError
from apps.manual_orders.models import ManualOrder, OrderEvent

from .factories import CustomerFactory, new_key, priced_product

pytestmark = pytest.mark.django_db


def place(customer, by, lines, key=None, **extra):
    return services.place_order(
        idempotency_key=key or new_key(),
        customer=customer,
        channel="phone",
        delivery_address="上海市人民路 1 号",
        lines=lines,
        by=by,
        **extra,
    )


def line(product, qty, **kw):
    return services.LineInput(product_id=product.pk, quantity=qty, **kw)


def test_an_order_gets_a_readable_unique_number_and_its_total(customer, product, operator):
    other = priced_product(price="3.00", stock="5", by=operator)
    placed = place(customer, operator, [line(product, 2), line(other, 3)])
    order = placed.order
    assert placed.created
    assert re.fullmatch(r"M\d{8}-\d{6}", order.number)
    assert order.total == Decimal("60.00")
    assert order.state == OrderState.CAPTURED
    event = OrderEvent.objects.get(order=order)
    assert (event.to_state, event.by) == (OrderState.CAPTURED, operator)
    second = place(customer, operator, [line(other, 1)]).order
    assert second.number != order.number


def test_submitting_the_same_key_twice_returns_the_first_order(customer, product, operator):
    key = new_key()
    first = place(customer, operator, [line(product, 1)], key=key)
    again = place(customer, operator, [line(product, 1)], key=key)
    assert again.order.pk == first.order.pk and not again.created
    assert ManualOrder.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_with_one_key_creates_one_order(make_user):
    operator = make_user(Role.BUSINESS_SUPPORT)
    customer = CustomerFactory()
    product = priced_product(stock="10", by=operator)
    key = new_key()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def submit():
        try:
            barrier.wait()
            results.append(place(customer, operator, [line(product, 1)], key=key))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert ManualOrder.objects.count() == 1
    assert {r.order.pk for r in results} == {ManualOrder.objects.get().pk}
    assert sorted(r.created for r in results) == [False, True]


def test_open_orders_hold_stock_until_cancelled(customer, product, operator):
    assert selectors.available_stock([product.pk])[product.pk] == Decimal("10")
    order = place(customer, operator, [line(product, 4)]).order
    assert selectors.available_stock([product.pk])[product.pk] == Decimal("6")
    services.cancel_order(order=order, reason="customer changed mind", by=operator)
    assert selectors.available_stock([product.pk])[product.pk] == Decimal("10")


def test_dispatched_orders_no_longer_hold_stock(customer, product, operator, logistics):
    order = place(customer, operator, [line(product, 4)]).order
    from tests.inventory_counts.factories import WarehouseFactory

    services.allocate_order(order=order, warehouse=WarehouseFactory(), carrier="SF", by=logistics)
    assert selectors.available_stock([product.pk])[product.pk] == Decimal("6")
    services.dispatch_order(order=order, tracking_number="SF123", by=logistics)
    assert selectors.available_stock([product.pk])[product.pk] == Decimal("10")


def test_short_stock_only_warns_by_default(customer, product, operator):
    placed = place(customer, operator, [line(product, 12)])
    assert placed.order.stock_short
    assert placed.warnings and product.sku in placed.warnings[0]


def test_short_stock_blocks_when_the_setting_says_so(settings, customer, product, operator):
    settings.MANUAL_ORDERS_BLOCK_ON_NO_STOCK = True
    place(customer, operator, [line(product, 8)])
    with pytest.raises(services.StockShort) as refused:
        place(customer, operator, [line(product, 3)])
    assert refused.value.code == OrderError.STOCK_SHORT
    assert ManualOrder.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_orders_cannot_oversell_when_blocking(settings, make_user):
    settings.MANUAL_ORDERS_BLOCK_ON_NO_STOCK = True
    operator = make_user(Role.BUSINESS_SUPPORT)
    product = priced_product(stock="5", by=operator)
    customers = [CustomerFactory(), CustomerFactory()]
    barrier = threading.Barrier(2)
    outcomes = []

    def submit(customer):
        try:
            barrier.wait()
            place(customer, operator, [line(product, 3)])
            outcomes.append("ok")
        except services.StockShort:
            outcomes.append("short")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok", "short"]
    assert selectors.available_stock([product.pk])[product.pk] == Decimal("2")


def test_same_customer_same_items_within_the_window_is_flagged_for_confirmation(
    settings, customer, product, operator
):
    settings.MANUAL_ORDERS_DUPLICATE_WINDOW_MINUTES = 30
    first = place(customer, operator, [line(product, 2)]).order
    with pytest.raises(services.DuplicateSuspected) as caught:
        place(customer, operator, [line(product, 2)])
    assert caught.value.existing == first
    assert caught.value.code == OrderError.DUPLICATE_SUSPECTED
    confirmed = place(customer, operator, [line(product, 2)], confirm_duplicate=True).order
    assert confirmed.possible_duplicate_of == first
    # Other items, or outside the window, are not duplicates.
    assert place(customer, operator, [line(product, 1)]).created
    ManualOrder.objects.update(created_at=timezone.now() - timedelta(hours=2))
    assert place(customer, operator, [line(product, 2)]).order.possible_duplicate_of is None


def test_a_price_override_needs_the_permission_and_a_reason(customer, product, operator, lead):
    with pytest.raises(DomainError) as refused:
        place(customer, operator, [line(product, 1, unit_price=Decimal("20.00"), price_reason="x")])
    assert refused.value.code == OrderError.PRICE_CHANGE_FORBIDDEN
    with pytest.raises(DomainError) as refused:
        place(customer, lead, [line(product, 1, unit_price=Decimal("20.00"))])
    assert refused.value.code == OrderError.PRICE_REASON_MISSING
    order = place(
        customer, lead, [line(product, 2, unit_price=Decimal("20.00"), price_reason="VIP discount")]
    ).order
    saved = order.lines.get()
    assert (saved.unit_price, saved.list_price, saved.price_override_reason) == (
        Decimal("20.00"),
        Decimal("25.50"),
        "VIP discount",
    )
    assert order.total == Decimal("40.00")


def test_a_product_without_a_price_cannot_be_sold(customer, operator):
    from tests.inventory_counts.factories import ProductFactory

    with pytest.raises(DomainError) as refused:
        place(customer, operator, [services.LineInput(product_id=ProductFactory().pk, quantity=1)])
    assert refused.value.code == OrderError.NOT_FOR_SALE


GOOD = object()  # the fixture product's id


@pytest.mark.parametrize(
    "product_id, quantity, code",
    [
        (None, 1, OrderError.LINE_WITHOUT_PRODUCT),
        ("7", 1, OrderError.LINE_WITHOUT_PRODUCT),
        (True, 1, OrderError.LINE_WITHOUT_PRODUCT),
        (GOOD, "2", OrderError.QUANTITY_NOT_WHOLE),
        (GOOD, 1.5, OrderError.QUANTITY_NOT_WHOLE),
        (GOOD, True, OrderError.QUANTITY_NOT_WHOLE),
        (GOOD, 0, OrderError.QUANTITY_TOO_SMALL),
        (GOOD, 1_000_001, OrderError.QUANTITY_TOO_LARGE),
    ],
)
def test_the_service_refuses_a_line_without_a_product_or_a_form_checked_quantity(
    customer, product, operator, product_id, quantity, code
):
    pid = product.pk if product_id is GOOD else product_id
    with pytest.raises(DomainError) as refused:
        place(customer, operator, [services.LineInput(product_id=pid, quantity=quantity)])
    assert refused.value.code == code
    assert not ManualOrder.objects.exists()
