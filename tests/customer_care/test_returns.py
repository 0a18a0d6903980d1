"""After-sales: returns and exchanges put re-sellable goods back in stock, once."""

import pytest

from apps.core.errors import DomainError
from apps.customer_care import services
from apps.customer_care.choices import CaseChannel, CaseType, RmaState
from apps.customer_care.errors import CareError
from tests.catalog.factories import ProductFactory, WarehouseFactory

from .factories import CustomerFactory, new_key, priced_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def rma(agent):
    case = services.open_case(
        channel=CaseChannel.PHONE,
        case_type=CaseType.RETURN,
        subject="Return",
        customer=CustomerFactory(),
        by=agent,
    )
    warehouse = WarehouseFactory()
    # Five already on a shelf of the warehouse the goods go back to; the other was never stocked.
    good, broken = priced_product(stock="5", by=agent, warehouse=warehouse), ProductFactory()
    return services.open_rma(
        case=case,
        kind="return",
        warehouse=warehouse,
        reason="Wrong size",
        items=[services.ReturnedItem(good, 2), services.ReturnedItem(broken, 1)],
        by=agent,
        idempotency_key=new_key(),
    )


def test_a_return_without_items_is_refused(agent):
    case = services.open_case(
        channel=CaseChannel.PHONE,
        case_type=CaseType.RETURN,
        subject="x",
        customer=CustomerFactory(),
        by=agent,
    )
    with pytest.raises(DomainError) as exc:
        services.open_rma(
            case=case,
            kind="return",
            warehouse=WarehouseFactory(),
            reason="x",
            items=[],
            by=agent,
            idempotency_key=new_key(),
        )
    assert exc.value.code == CareError.RMA_NO_LINES


def test_an_rma_is_on_the_case_timeline(rma):
    assert rma.case.events.filter(kind="care.rma_opened").exists()
    assert rma.lines.count() == 2


def test_received_resellable_goods_go_back_in_stock_once(rma, agent):
    from apps.inventory_counts import selectors as stock

    good, broken = rma.lines.order_by("pk")
    received = services.receive_rma(
        rma=rma, conditions={good.pk: "resellable", broken.pk: "damaged"}, by=agent
    )
    assert received.state == RmaState.RECEIVED
    good.refresh_from_db()
    broken.refresh_from_db()
    assert (good.restocked, broken.restocked) == (2, 0)
    with pytest.raises(DomainError) as exc:
        services.receive_rma(rma=rma, conditions={good.pk: "resellable"}, by=agent)
    assert exc.value.code == CareError.RMA_RECEIVED
    assert rma.case.events.filter(kind="care.rma_received").count() == 1
    products = [good.product_id, broken.product_id]
    assert stock.approved_stock_map(products, warehouse=rma.warehouse) == {good.product_id: 7}


def test_a_return_is_opened_from_the_case_page_by_sku(client, agent):
    case = services.open_case(
        channel=CaseChannel.PHONE,
        case_type=CaseType.RETURN,
        subject="x",
        customer=CustomerFactory(),
        by=agent,
    )
    product, warehouse = ProductFactory(sku="KETTLE-1"), WarehouseFactory()
    client.force_login(agent)
    from django.urls import reverse

    assert client.get(reverse("customer_care:case-detail", args=[case.pk])).status_code == 200
    client.post(
        reverse("customer_care:case-rma", args=[case.pk]),
        {
            "idempotency_key": str(new_key()),
            "kind": "exchange",
            "warehouse": warehouse.pk,
            "reason": "Leaks",
            "sku_1": "KETTLE-1",
            "qty_1": 1,
        },
    )
    rma = case.rmas.get()
    assert rma.kind == "exchange" and list(rma.lines.values_list("product_id", "quantity")) == [
        (product.pk, 1)
    ]
    response = client.post(
        reverse("customer_care:case-rma", args=[case.pk]),
        {
            "idempotency_key": str(new_key()),
            "kind": "return",
            "warehouse": warehouse.pk,
            "reason": "x",
            "sku_1": "NO-SUCH-SKU",
            "qty_1": 1,
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "NO-SUCH-SKU" in response.content.decode()
    assert case.rmas.count() == 1
