"""Read-side queries of the catalogue, for the apps that count, sell and take back its products."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from .models import Location, Product, Warehouse


def product_ids_by_sku(skus: Iterable[str]) -> dict[str, int]:
    """{sku: id} for the SKUs that exist (unknown ones are left out)."""
    wanted = sorted({s for s in skus if s})
    return dict(Product.objects.filter(sku__in=wanted).values_list("sku", "pk"))


def active_products() -> QuerySet[Product]:
    return Product.objects.filter(active=True).order_by("sku")


def get_product(*, sku: str) -> Product | None:
    return Product.objects.filter(sku=sku).first()


def list_warehouses() -> QuerySet[Warehouse]:
    return Warehouse.objects.order_by("code")


def warehouses_with_bins() -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(locations__isnull=False).distinct().order_by("code")


def locations_of(warehouse: Warehouse) -> QuerySet[Location]:
    return Location.objects.filter(warehouse=warehouse).order_by("code")
