from decimal import Decimal

import factory

from apps.catalog.models import Location, Product, Warehouse


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"WH{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    warehouse = factory.SubFactory(WarehouseFactory)
    code = factory.Sequence(lambda n: f"A-{n:03d}")
    barcode = factory.LazyAttribute(lambda o: f"LOC{o.code}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    barcode = factory.Sequence(lambda n: f"69{n:011d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = "general"
    unit_cost = Decimal("10.00")
