"""The catalogue's factories, where the counts' (and older) tests import them from."""

from tests.catalog.factories import LocationFactory, ProductFactory, WarehouseFactory

__all__ = ["LocationFactory", "ProductFactory", "WarehouseFactory"]
