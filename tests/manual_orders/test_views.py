"""The pages: entry with its errors in both languages, one order per key, a list that does not
grow in queries with the rows it shows."""

import re
import uuid

import pytest
from django.utils import timezone

from apps.manual_orders.models import Customer, ManualOrder

from .factories import CustomerFactory, new_key, priced_product

pytestmark = pytest.mark.django_db


def entry_data(**overrides):
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "channel": "phone",
        "order_type": "standard",
        "received_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "delivery_city": "上海",
        "delivery_address": "上海市人民路 1 号",
        "new_language": "zh-hans",
        "new_notify_by": "email",
        "line_sku": [],
        "line_product": [],
        "line_qty": [],
    }
    data.update(overrides)
    return data


def test_entry_errors_show_next_to_the_fields_in_english(client, operator, product):
    client.force_login(operator)
    response = client.post(
        "/orders/new/",
        entry_data(
            delivery_address="",
            line_sku=["NOPE", product.sku],
            line_product=["", str(product.pk)],
            line_qty=["1", "0"],
        ),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in html
    assert "Line 1: “NOPE” is not a chosen product; pick it from the suggestions." in html
    assert "Line 2: enter a whole quantity of at least 1." in html
    assert ManualOrder.objects.count() == 0


def test_entry_errors_are_in_chinese_for_a_chinese_browser(client, operator):
    client.force_login(operator)
    response = client.post(
        "/orders/new/", entry_data(delivery_address=""), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "这个字段是必填项。" in response.content.decode()


def test_entering_an_order_for_a_new_customer_shows_the_number(client, operator, product):
    client.force_login(operator)
    data = entry_data(
        new_name="李雷",
        new_phone="139 0000 1234",
        line_sku=[product.sku.lower()],
        line_product=[str(product.pk)],
        line_qty=["3"],
    )
    response = client.post("/orders/new/", data, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    order = ManualOrder.objects.get()
    assert order.customer.name == "李雷" and order.customer.phone == "13900001234"
    assert order.lines.get().quantity == 3
    html = response.content.decode()
    assert f'data-testid="order-number" class="font-monospace">{order.number}<' in html
    assert "Read the number back to the caller." in html


def test_posting_the_same_form_twice_creates_one_order(client, operator, product, customer):
    client.force_login(operator)
    data = entry_data(
        customer=str(customer.pk),
        line_sku=[product.sku],
        line_product=[str(product.pk)],
        line_qty=["1"],
    )
    first = client.post("/orders/new/", data)
    second = client.post("/orders/new/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert ManualOrder.objects.count() == 1
    assert Customer.objects.count() == 1


def test_a_likely_duplicate_asks_the_operator_to_confirm(client, operator, product, customer):
    client.force_login(operator)
    client.post(
        "/orders/new/",
        entry_data(
            customer=str(customer.pk),
            line_sku=[product.sku],
            line_product=[str(product.pk)],
            line_qty=["1"],
        ),
    )
    again = entry_data(
        customer=str(customer.pk),
        line_sku=[product.sku],
        line_product=[str(product.pk)],
        line_qty=["1"],
    )
    response = client.post("/orders/new/", again, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Not a duplicate" in response.content.decode()
    response = client.post("/orders/new/", {**again, "confirm_duplicate": "on"})
    assert response.status_code == 302
    assert ManualOrder.objects.count() == 2


def test_a_price_change_without_the_permission_is_refused(client, operator, product, customer):
    client.force_login(operator)
    response = client.post(
        "/orders/new/",
        entry_data(
            customer=str(customer.pk),
            line_sku=[product.sku],
            line_product=[str(product.pk)],
            line_qty=["1"],
            line_price=["1.00"],
        ),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "You may not change the unit price." in response.content.decode()


def test_customer_and_product_search_as_you_type(client, operator, operator_product_pair=None):
    client.force_login(operator)
    wang = CustomerFactory(name="王芳", phone="13812345678")
    product = priced_product(sku="TEA-001", price="12.00", stock="7", by=operator)
    by_phone = client.get("/orders/customers/search/?q=138123").json()["results"]
    by_tail = client.get("/orders/customers/search/?q=5678").json()["results"]
    by_name = client.get("/orders/customers/search/?q=王").json()["results"]
    assert (
        [c["id"] for c in by_phone]
        == [c["id"] for c in by_tail]
        == [c["id"] for c in by_name]
        == [wang.pk]
    )
    found = client.get("/orders/products/search/?q=tea").json()["results"]
    assert found == [
        {
            "id": product.pk,
            "sku": "TEA-001",
            "barcode": product.barcode,
            "name": product.name,
            "unit": product.unit,
            "price": "12.00",
            "available": "7",
        }
    ]


def _orders(n, operator, product):
    from apps.manual_orders import services

    for _ in range(n):
        services.place_order(
            idempotency_key=new_key(),
            customer=CustomerFactory(),
            channel="phone",
            delivery_address="x",
            lines=[services.LineInput(product_id=product.pk, quantity=1)],
            by=operator,
        )


def test_the_order_list_needs_the_same_queries_for_5_or_60_rows(
    client, operator, product, django_assert_max_num_queries
):
    client.force_login(operator)
    _orders(5, operator, product)
    with django_assert_max_num_queries(6) as few:
        assert client.get("/orders/").status_code == 200
    _orders(55, operator, product)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/orders/?state=captured")
    assert response.content.decode().count('data-order="') == 50
    assert 'data-testid="next-page"' in response.content.decode()


def test_the_list_finds_orders_by_number_phone_and_name(client, operator, product):
    client.force_login(operator)
    _orders(3, operator, product)
    order = ManualOrder.objects.select_related("customer").first()
    for q in (order.number, order.customer.phone, order.customer.name):
        html = client.get("/orders/", {"q": q}).content.decode()
        assert html.count('data-order="') == 1, q
        assert f'data-order="{order.pk}"' in html


def test_new_customer_order_is_one_transaction_same_key_twice_one_order_one_customer(
    client, operator, product
):
    client.force_login(operator)
    data = entry_data(
        new_name="韩梅梅",
        new_phone="139 0000 5678",
        line_sku=[product.sku],
        line_product=[str(product.pk)],
        line_qty=["1"],
    )
    first = client.post("/orders/new/", data)
    second = client.post("/orders/new/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert ManualOrder.objects.count() == 1
    assert Customer.objects.count() == 1


def test_new_customer_order_is_one_transaction_a_refused_order_leaves_no_customer(
    client, operator, product, settings
):
    settings.MANUAL_ORDERS_BLOCK_ON_NO_STOCK = True
    client.force_login(operator)
    data = entry_data(
        new_name="韩梅梅",
        new_phone="139 0000 5678",
        line_sku=[product.sku],
        line_product=[str(product.pk)],
        line_qty=["11"],
    )
    response = client.post("/orders/new/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Not enough stock" in response.content.decode()
    assert not ManualOrder.objects.exists()
    assert not Customer.objects.exists()
    # The retry with the same key and a quantity in stock takes one order, one customer.
    response = client.post("/orders/new/", {**data, "line_qty": ["1"]})
    assert response.status_code == 302
    assert ManualOrder.objects.count() == 1 and Customer.objects.count() == 1


def test_oversized_numbers_are_field_errors_a_scanned_barcode_as_quantity(
    client, operator, product, customer
):
    client.force_login(operator)
    response = client.post(
        "/orders/new/",
        entry_data(
            customer=str(customer.pk),
            line_sku=[product.sku],
            line_product=[str(product.pk)],
            line_qty=["6901234567892"],
        ),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Line 1: the quantity cannot be more than 1,000,000." in response.content.decode()
    assert not ManualOrder.objects.exists()


@pytest.mark.parametrize("price", ["NaN", "Infinity", "-1", "1e20", "99999999999"])
def test_oversized_numbers_are_field_errors_nan_or_huge_price(
    client, lead, product, customer, price
):
    client.force_login(lead)  # may override prices
    response = client.post(
        "/orders/new/",
        entry_data(
            customer=str(customer.pk),
            line_sku=[product.sku],
            line_product=[str(product.pk)],
            line_qty=["1"],
            line_price=[price],
            line_reason=["test"],
        ),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Line 1: enter a valid price." in response.content.decode()
    assert not ManualOrder.objects.exists()


def test_oversized_numbers_are_field_errors_line_total_too_large(client, operator, customer):
    expensive = priced_product(price="9999999.00", stock="2000000", by=operator)
    client.force_login(operator)
    response = client.post(
        "/orders/new/",
        entry_data(
            customer=str(customer.pk),
            line_sku=[expensive.sku],
            line_product=[str(expensive.pk)],
            line_qty=["1000000"],
        ),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Line 1: the total is too large for one order." in response.content.decode()
    assert not ManualOrder.objects.exists()


def test_a_line_is_refused_without_the_product_the_page_resolved_even_for_an_exact_sku(
    client, operator, product, customer
):
    client.force_login(operator)
    response = client.post(
        "/orders/new/",
        entry_data(customer=str(customer.pk), line_sku=[product.sku], line_qty=["2"]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert (
        f"Line 1: “{product.sku}” is not a chosen product; pick it from the suggestions."
        in response.content.decode()
    )
    assert not ManualOrder.objects.exists()


def test_a_line_whose_text_is_not_its_resolved_product_is_refused(
    client, operator, product, customer
):
    other = priced_product(price="1.00", stock="5", by=operator)
    client.force_login(operator)
    response = client.post(
        "/orders/new/",
        entry_data(
            customer=str(customer.pk),
            line_sku=[other.sku],
            line_product=[str(product.pk)],
            line_qty=["2"],
        ),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert f"Line 1: no product with SKU “{other.sku}”." in response.content.decode()
    assert not ManualOrder.objects.exists()


def test_a_line_may_be_resolved_by_its_barcode(client, operator, customer):
    product = priced_product(price="2.00", stock="5", by=operator)
    product.barcode = "6901234567892"
    product.save()
    client.force_login(operator)
    response = client.post(
        "/orders/new/",
        entry_data(
            customer=str(customer.pk),
            line_sku=["6901234567892"],
            line_product=[str(product.pk)],
            line_qty=["3"],
        ),
    )
    assert response.status_code == 302
    assert list(ManualOrder.objects.get().lines.values_list("product_id", "quantity")) == [
        (product.pk, 3)
    ]


def test_a_refused_form_shows_its_lines_again_with_name_price_and_stock(client, operator, customer):
    product = priced_product(price="796.90", stock="12", by=operator)
    client.force_login(operator)
    response = client.post(
        "/orders/new/",
        entry_data(
            customer=str(customer.pk),
            delivery_address="",
            line_sku=[product.sku],
            line_product=[str(product.pk)],
            line_qty=["2"],
            line_price=["796.90"],
        ),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="line_product" class="line-product" value="{product.pk}"' in html
    assert f'<td class="line-name small">{product.name}</td>' in html
    assert 'value="796.90"' in html
    assert '<td class="line-available small">12</td>' in html
    assert 'data-available="12"' in html


def test_received_at_is_one_text_field_that_takes_the_day_and_minute(
    client, operator, product, customer
):
    client.force_login(operator)
    html = client.get("/orders/new/").content.decode()
    assert 'type="datetime-local"' not in html
    assert re.search(
        r'<input type="text" name="received_at" value="\d{4}-\d\d-\d\d \d\d:\d\d"', html
    )
    response = client.post(
        "/orders/new/",
        entry_data(
            customer=str(customer.pk),
            received_at="2026-11-25 09:05",
            line_sku=[product.sku],
            line_product=[str(product.pk)],
            line_qty=["1"],
        ),
    )
    assert response.status_code == 302
    received = timezone.localtime(ManualOrder.objects.get().received_at)
    assert received.strftime("%Y-%m-%d %H:%M") == "2026-11-25 09:05"


def test_add_at_least_one_line_is_an_alert(client, operator, customer):
    client.force_login(operator)
    response = client.post(
        "/orders/new/", entry_data(customer=str(customer.pk)), HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert re.search(
        r'<div class="alert alert-danger" role="alert" tabindex="-1" id="form-errors"', html
    )
    assert "Add at least one line." in html
