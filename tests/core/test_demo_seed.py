"""`make run`'s demo: a back-office that looks used, made through the services, made once."""

import pytest
from django.core.management import call_command
from django.db.models import F

from apps.catalog.models import Product
from apps.incidents.choices import IncidentState
from apps.incidents.models import Incident, TimelineEntry
from apps.inventory_counts.choices import SessionState
from apps.inventory_counts.models import ApprovedStock, CountLine, CountSession
from apps.inventory_counts.selectors import approved_stock_map
from apps.manual_orders.models import AllocationRule, ManualOrder, OrderEvent


def _seed() -> None:
    call_command("load_reference")
    call_command("seed_demo_warehouses")
    call_command("seed_demo_activity")
    call_command("seed_demo")


def _census() -> dict[str, int]:
    return {
        "approved stock": ApprovedStock.objects.count(),
        "sessions": CountSession.objects.count(),
        "lines": CountLine.objects.count(),
        "rules": AllocationRule.objects.count(),
        "incidents": Incident.objects.count(),
        "timeline": TimelineEntry.objects.count(),
        "orders": ManualOrder.objects.count(),
        "order events": OrderEvent.objects.count(),
    }


@pytest.mark.django_db
def test_the_demo_seed_gives_stock_costs_rules_incidents_orders_and_an_approved_count(
    order_db,
):
    _seed()

    stock = approved_stock_map(Product.objects.values_list("pk", flat=True))
    assert stock and all(qty > 0 for qty in stock.values())
    assert Product.objects.filter(pk__in=stock.keys(), unit_cost__gt=0).count() == len(stock)
    assert AllocationRule.objects.filter(active=True).count() >= 3

    approved = CountSession.objects.filter(state=SessionState.APPROVED)
    assert approved.exists()
    # A clerk signing in to the demo has an open count to scan into.
    assert CountSession.objects.filter(
        state=SessionState.COUNTING, clerks__username="demo_warehouse_clerk"
    ).exists()
    # Costs and a count after the first one: the variance report has real values.
    assert (
        CountLine.objects.filter(
            session__in=approved, session__has_baseline=True, product__unit_cost__gt=0
        )
        .exclude(counted_qty=F("expected_qty"))
        .exists()
    )

    states = set(Incident.objects.values_list("state", flat=True))
    assert IncidentState.CLOSED in states and states & IncidentState.open_states()
    for incident in Incident.objects.all():
        assert incident.timeline.count() >= 5, incident.title
        assert incident.tasks.exists()

    order_states = set(ManualOrder.objects.values_list("state", flat=True))
    assert {"captured", "confirmed", "allocated", "dispatched", "delivered", "cancelled"} <= (
        order_states
    )
    assert OrderEvent.objects.filter(to_state="delivered").exists()


@pytest.mark.django_db
def test_seeding_the_demo_twice_gives_the_same_counts(order_db):
    _seed()
    first = _census()
    _seed()
    assert _census() == first
