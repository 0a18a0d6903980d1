import uuid
from decimal import Decimal

import factory
from django.utils import timezone

from apps.inventory_counts.models import ApprovedStock, CountSession
from apps.manual_orders.models import Customer, ProductPrice
from tests.inventory_counts.factories import LocationFactory, ProductFactory, WarehouseFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"客户{n}")
    phone = factory.Sequence(lambda n: f"1391234{n:04d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    city = "上海"
    address = "上海市人民路 1 号"
    language = "zh-hans"
    notify_by = "email"


def priced_product(*, price="10.00", stock=None, sku=None, by=None, warehouse=None):
    """A sellable product; ``stock`` puts that much approved counted stock in one bin."""
    product = ProductFactory(**({"sku": sku} if sku else {}))
    ProductPrice.objects.create(product=product, price=Decimal(price))
    if stock is not None:
        location = LocationFactory(warehouse=warehouse or WarehouseFactory())
        session = CountSession.objects.create(
            name="count", warehouse=location.warehouse, created_by=by, state="approved"
        )
        ApprovedStock.objects.create(
            warehouse=location.warehouse,
            location=location,
            product=product,
            quantity=Decimal(stock),
            session=session,
            approved_at=timezone.now(),
            approved_by=by,
        )
    return product


def new_key() -> uuid.UUID:
    return uuid.uuid4()
