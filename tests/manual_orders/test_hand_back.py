"""Hand-back: export for re-entry, a push that never duplicates, reference data in."""

import io
import json

import psycopg
import pytest
import tablib
from django.utils import translation

from apps.accounts.roles import Role
from apps.catalog.models import Product, Warehouse
from apps.manual_orders import services
from apps.manual_orders.choices import ImportState, PushState
from apps.manual_orders.errors import OrderError
from apps.manual_orders.models import Customer, ManualOrder, ProductPrice

from .factories import CustomerFactory, new_key, priced_product

pytestmark = pytest.mark.django_db


def take(customer, by, *products, qty=2):
    return services.place_order(
        idempotency_key=new_key(),
        customer=customer,
        channel="email",
        email_reference="mail #42",
        delivery_city="上海",
        delivery_address="上海市人民路 1 号",
        lines=[services.LineInput(product_id=p.pk, quantity=qty) for p in products],
        confirm_duplicate=True,
        by=by,
    ).order


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "json"])
def test_export_for_re_entry_has_one_row_per_line_keyed_by_the_order_number(
    file_format, customer, operator
):
    a, b = priced_product(price="5.00", by=operator), priced_product(price="7.00", by=operator)
    order = take(customer, operator, a, b)
    content, content_type = services.export_orders(file_format=file_format)
    if file_format == "json":
        rows = json.loads(content)
    else:
        data = tablib.Dataset().load(
            io.BytesIO(content).read() if file_format == "xlsx" else content.decode("utf-8-sig"),
            format=file_format,
        )
        rows = data.dict
    assert [(r["order_no"], r["sku"], str(r["quantity"])) for r in rows] == [
        (order.number, a.sku, "2"),
        (order.number, b.sku, "2"),
    ]
    assert str(rows[0]["customer_phone"]) == customer.phone


def _order_system_rows(url, order_no):
    with psycopg.connect(url) as conn:
        orders = conn.execute(
            "SELECT id, customer_id, total, status FROM orders WHERE order_no = %s", [order_no]
        ).fetchall()
        items = conn.execute(
            "SELECT i.qty, p.sku FROM order_items i JOIN orders o ON o.id = i.order_id "
            "JOIN products p ON p.id = i.product_id WHERE o.order_no = %s",
            [order_no],
        ).fetchall()
    return orders, items


def _known_sku(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT sku FROM products ORDER BY id LIMIT 1").fetchone()[0]


def test_pushing_twice_creates_nothing_new_and_unknown_skus_are_conflicts(order_db, operator):
    known = priced_product(price="9.90", sku=_known_sku(order_db), by=operator)
    unknown = priced_product(price="1.00", sku="NOT-IN-ORDER-SYSTEM", by=operator)
    customer = CustomerFactory(phone="13700000001", name="新客户")
    good = take(customer, operator, known)
    bad = take(customer, operator, known, unknown)
    cancelled = take(customer, operator, known, qty=1)
    services.cancel_order(order=cancelled, reason="no longer needed", by=operator)

    first = services.push_to_order_system(by=operator)
    assert first == {"pushed": 1, "created": 1, "conflict": 1}
    orders, items = _order_system_rows(order_db, good.number)
    assert len(orders) == 1 and orders[0][2] == good.total and items == [(2, known.sku)]
    with psycopg.connect(order_db) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM customers WHERE phone = %s", [customer.phone]
            ).fetchone()[0]
            == 1
        )

    # Pushed orders are marked; a second push (even forcing everything again) inserts nothing.
    good.refresh_from_db()
    bad.refresh_from_db()
    cancelled.refresh_from_db()
    assert good.push_state == PushState.PUSHED and good.pushed_at
    assert bad.push_state == PushState.CONFLICT and "NOT-IN-ORDER-SYSTEM" in bad.push_reason
    assert cancelled.push_state == PushState.SKIPPED
    ManualOrder.objects.filter(pk=good.pk).update(push_state=PushState.PENDING)
    second = services.push_to_order_system(by=operator)
    assert second == {"pushed": 1, "created": 0, "conflict": 1}
    assert len(_order_system_rows(order_db, good.number)[0]) == 1
    assert len(_order_system_rows(order_db, good.number)[1]) == 1
    assert _order_system_rows(order_db, bad.number) == ([], [])


def test_reconciliation_page_shows_pushed_pending_and_conflicts_with_reason(
    client, order_db, make_user, operator
):
    from apps.accounts.roles import Role

    known = priced_product(sku=_known_sku(order_db), by=operator)
    unknown = priced_product(sku="GHOST-1", by=operator)
    customer = CustomerFactory()
    take(customer, operator, known)
    take(customer, operator, unknown)
    take(customer, operator, known, qty=5)
    services.push_to_order_system(
        by=operator,
        order_ids=list(ManualOrder.objects.order_by("pk").values_list("pk", flat=True)[:2]),
    )
    client.force_login(make_user(Role.TECH_SUPPORT))
    page = client.get("/orders/hand-back/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-state="pushed">1<' in html and 'data-state="pending">1<' in html
    assert 'data-state="conflict">1<' in html and "GHOST-1" in html


def test_push_job_runs_from_the_page(client, order_db, make_user, operator):
    from apps.accounts.roles import Role

    take(CustomerFactory(), operator, priced_product(sku=_known_sku(order_db), by=operator))
    client.force_login(make_user(Role.TECH_SUPPORT))
    response = client.post("/orders/hand-back/push/")
    assert response.status_code == 302
    assert ManualOrder.objects.get().push_state == PushState.PUSHED


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


def test_a_reference_file_is_previewed_with_row_errors_and_nothing_written(operator):
    content = _csv(
        "sku,name,price,unit,active\nA-1,茶叶,12.50,盒,1\nA-2,耳机,-3,个,1\nA-3,台灯,abc,个,1\n"
    )
    imp = services.upload_reference(
        kind="products", content=content, name="p.csv", input_format="csv", by=operator
    )
    assert imp.state == ImportState.HAS_ERRORS
    assert {e["row"] for e in imp.errors} == {2, 3}
    assert imp.preview["rows"][0][:2] == ["A-1", "茶叶"]
    assert not Product.objects.filter(sku__startswith="A-").exists()
    with pytest.raises(services.DomainError) as refused:
        services.confirm_reference_import(imp=imp, by=operator)
    assert refused.value.code == OrderError.REFERENCE_NOT_CHECKED


def test_a_clean_product_file_imports_products_with_their_prices(operator):
    content = _csv("sku,name,price,unit,active\nA-1,茶叶,12.50,盒,1\nA-2,耳机,99,个,0\n")
    imp = services.upload_reference(
        kind="products", content=content, name="p.csv", input_format="csv", by=operator
    )
    assert imp.state == ImportState.CHECKED, imp.errors
    assert not Product.objects.filter(sku="A-1").exists()
    services.confirm_reference_import(imp=imp, by=operator)
    assert ProductPrice.objects.get(product__sku="A-1").price == 12.5
    assert Product.objects.get(sku="A-2").active is False


def test_customers_and_warehouses_import_from_xlsx(operator):
    book = tablib.Dataset(headers=["name", "phone", "email", "city", "address", "vip", "language"])
    book.append(
        ["王伟", "13800001111", "wang@example.com", "北京", "北京市长安街 1 号", "1", "zh-hans"]
    )
    book.append(["John", "13800002222", "not-an-email", "上海", "x", "0", "en"])
    imp = services.upload_reference(
        kind="customers",
        content=book.export("xlsx"),
        name="c.xlsx",
        input_format="xlsx",
        by=operator,
    )
    assert imp.state == ImportState.HAS_ERRORS
    assert [(e["row"], e["field"]) for e in imp.errors] == [(2, "email")]
    book = tablib.Dataset(headers=["code", "name"])
    book.append(["SH", "上海仓"])
    imp = services.upload_reference(
        kind="warehouses",
        content=book.export("xlsx"),
        name="w.xlsx",
        input_format="xlsx",
        by=operator,
    )
    services.confirm_reference_import(imp=imp, by=operator)
    assert Warehouse.objects.get(code="SH").name == "上海仓"


def test_reference_data_loads_straight_from_the_order_system_database(order_db, operator):
    counts = services.load_reference_from_order_system()
    assert counts["products"] > 0 and counts["customers"] > 0
    with psycopg.connect(order_db) as conn:
        sku, price = conn.execute("SELECT sku, price FROM products ORDER BY id LIMIT 1").fetchone()
        phone = conn.execute("SELECT phone FROM customers ORDER BY id LIMIT 1").fetchone()[0]
    assert ProductPrice.objects.get(product__sku=sku).price == price
    assert Customer.objects.filter(phone=phone, external_id__isnull=False).exists()
    # Loading again updates in place.
    assert services.load_reference_from_order_system() == counts
    assert Customer.objects.count() == counts["customers"]


def test_confirming_a_reference_file_on_the_page_imports_it_as_a_job(client, make_user):
    from apps.core.models import JobRecord

    operator = make_user(Role.TECH_SUPPORT)
    content = _csv("sku,name,price,unit,active\nB-1,茶叶,8.00,盒,1\n")
    imp = services.upload_reference(
        kind="products", content=content, name="b.csv", input_format="csv", by=operator
    )
    client.force_login(operator)
    response = client.post(f"/orders/reference/{imp.pk}/confirm/")
    job = JobRecord.objects.get(kind="manual_orders.reference_import")
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert (job.state, job.started_by) == ("succeeded", operator)
    imp.refresh_from_db()
    assert imp.state == ImportState.IMPORTED
    assert ProductPrice.objects.get(product__sku="B-1").price == 8


def test_csv_encoding_a_gbk_reference_file_imports(operator):
    content = "sku,name,price,unit,active\nA-1,茶叶,12.50,盒,1\n".encode("gbk")
    imp = services.upload_reference(
        kind="products", content=content, name="p.csv", input_format="csv", by=operator
    )
    assert imp.state == ImportState.CHECKED, imp.errors
    services.confirm_reference_import(imp=imp, by=operator)
    assert Product.objects.get(sku="A-1").name == "茶叶"


def test_csv_encoding_an_undecodable_file_gets_a_translated_message(operator):
    content = b"sku,name,price\nA-1,\xff\xfe\xff,1\n"
    imp = services.upload_reference(
        kind="products", content=content, name="p.csv", input_format="csv", by=operator
    )
    assert imp.state == ImportState.FAILED
    message = imp.errors[0]["error"]
    assert message.startswith("The file could not be read: its text encoding is not recognised")
    assert "codec" not in message


def test_csv_encoding_the_order_export_starts_with_a_bom(client, operator, make_user):
    product = priced_product(price="5.00", by=operator)
    take(CustomerFactory(name="王芳"), operator, product)
    client.force_login(make_user(Role.TECH_SUPPORT))
    response = client.get("/orders/hand-back/export/?format=csv")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert "王芳" in response.content.decode("utf-8-sig")


def test_hand_back_cancelling_a_pushed_order_puts_it_back_on_the_reconciliation_page(
    client, order_db, make_user, operator
):
    order = take(CustomerFactory(), operator, priced_product(sku=_known_sku(order_db), by=operator))
    services.push_to_order_system(by=operator)
    order.refresh_from_db()
    assert order.push_state == PushState.PUSHED
    with translation.override("en"):
        services.cancel_order(order=order, reason="customer called back", by=operator)
    order.refresh_from_db()
    assert order.push_state == PushState.PENDING
    assert "cancel it in the order system" in order.push_reason
    services.push_to_order_system(by=operator)  # must not silently skip it
    order.refresh_from_db()
    assert order.push_state == PushState.PENDING
    client.force_login(make_user(Role.TECH_SUPPORT))
    html = client.get("/orders/hand-back/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-state="pending">1<' in html and order.number in html


def test_hand_back_cancelling_an_unpushed_order_skips_it(operator, customer):
    order = take(customer, operator, priced_product(by=operator))
    services.cancel_order(order=order, reason="typo", by=operator)
    order.refresh_from_db()
    assert order.push_state == PushState.SKIPPED


def test_hand_back_push_does_not_overwrite_an_order_cancelled_while_pushing(
    order_db, operator, monkeypatch
):
    from apps.manual_orders import handback

    order = take(CustomerFactory(), operator, priced_product(sku=_known_sku(order_db), by=operator))
    real_push = handback.push_orders

    def push_then_cancel(url, orders):
        outcomes = real_push(url, orders)
        services.cancel_order(order=order, reason="cancelled meanwhile", by=operator)
        return outcomes

    monkeypatch.setattr(handback, "push_orders", push_then_cancel)
    with translation.override("en"):
        services.push_to_order_system(by=operator)
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert order.push_state == PushState.PENDING and order.pushed_at is not None
    assert "Changed while it was handed back" in order.push_reason
