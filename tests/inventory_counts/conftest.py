from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.accounts.roles import Role
from apps.catalog.models import Location, Product, Warehouse
from apps.inventory_counts import services
from apps.inventory_counts.choices import SessionState
from apps.inventory_counts.models import CountSession

from .factories import LocationFactory, ProductFactory, WarehouseFactory


@dataclass
class Floor:
    warehouse: Warehouse
    bin_a: Location
    bin_b: Location
    tea: Product
    cups: Product
    manager: object
    clerk: object
    other_clerk: object


def approve_counts(*, warehouse, counts: dict, by, clerk) -> CountSession:
    """Reach an approved stock level through the real use cases (the baseline of a test)."""
    session = services.create_session(
        name="baseline",
        warehouse=warehouse,
        by=by,
        clerks=[clerk],
        locations={location for location, _product in counts},
    )
    services.start_session(session=session, by=by)
    for (location, product), qty in counts.items():
        services.record_entry(
            session=session, location=location, product=product, quantity=Decimal(qty), by=clerk
        )
    session = services.close_counting(session=session, by=by)
    assert session.state == SessionState.REVIEW
    # A first count has nothing to compare with: its approval needs a note.
    return services.approve_session(session=session, by=by, note="Baseline count.")


@pytest.fixture
def floor(make_user) -> Floor:
    warehouse = WarehouseFactory(code="SH1", name="Shanghai 1")
    bin_a = LocationFactory(warehouse=warehouse, code="A-01")
    bin_b = LocationFactory(warehouse=warehouse, code="B-01")
    tea = ProductFactory(sku="TEA-1", barcode="6900000000017", name="Green tea", category="drinks")
    cups = ProductFactory(sku="CUP-1", barcode="6900000000024", name="Cups", category="kitchen")
    return Floor(
        warehouse=warehouse,
        bin_a=bin_a,
        bin_b=bin_b,
        tea=tea,
        cups=cups,
        manager=make_user(Role.MANAGER, username="manager"),
        clerk=make_user(Role.WAREHOUSE_CLERK, username="clerk1"),
        other_clerk=make_user(Role.WAREHOUSE_CLERK, username="clerk2"),
    )


@pytest.fixture
def baseline(floor) -> Floor:
    """Approved stock: 100 tea in A-01, 40 cups in B-01."""
    approve_counts(
        warehouse=floor.warehouse,
        counts={(floor.bin_a, floor.tea): 100, (floor.bin_b, floor.cups): 40},
        by=floor.manager,
        clerk=floor.clerk,
    )
    return floor


@pytest.fixture
def counting(baseline) -> CountSession:
    """A started blind session over the whole warehouse, counted by both clerks."""
    session = services.create_session(
        name="Emergency count",
        warehouse=baseline.warehouse,
        by=baseline.manager,
        clerks=[baseline.clerk, baseline.other_clerk],
    )
    return services.start_session(session=session, by=baseline.manager)
