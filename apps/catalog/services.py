"""Writes to the catalogue: the only code that creates or changes products, warehouses and bins.

Each ``upsert_*`` is one atomic use case for a batch of rows keyed by their natural key (SKU,
warehouse code, bin code): rows are checked first (``full_clean``; the first problem is a
``DomainError`` naming the row), then written with ``INSERT … ON CONFLICT DO UPDATE`` in key
order, so a retried or concurrent load of the same rows neither fails nor duplicates, and two
loads never deadlock on each other. Only new and changed rows get a history row (who, why).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from apps.core.errors import DomainError

from .choices import measure_of_unit
from .errors import CatalogError
from .models import Location, Product, Warehouse

if TYPE_CHECKING:
    from apps.accounts.models import User

BATCH_SIZE = 2000


@dataclass(frozen=True)
class ProductData:
    """A product row. ``None`` for barcode, unit cost or unit of measure keeps what an existing
    product has (a new one gets no barcode, cost 0 and the measure its unit implies)."""

    sku: str
    name: str
    category: str = ""
    unit: str = "pcs"
    active: bool = True
    barcode: str | None = None
    unit_cost: Decimal | None = None
    unit_of_measure: str | None = None


@dataclass(frozen=True)
class WarehouseData:
    code: str
    name: str


@dataclass(frozen=True)
class LocationData:
    code: str
    barcode: str = ""
    name: str = ""


@dataclass
class Upserted:
    """What a load did: ``ids`` maps each row's key (SKU or code) to its id."""

    ids: dict[str, int] = field(default_factory=dict)
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class _Row:
    key: str
    values: dict[str, Any]
    updates: frozenset[str]


def _checked(
    model: type[models.Model], row: _Row, *, fixed: dict[str, Any], code: CatalogError, param: str
) -> None:
    instance = model(**fixed, **row.values)
    try:
        instance.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        label = (
            getattr(model._meta.get_field(name), "verbose_name", name) if name != "__all__" else ""
        )
        raise DomainError(
            code, params={param: row.key, "field": label, "error": messages[0]}, field=name
        ) from None


def _upsert(
    model: type[models.Model],
    rows: Iterable[_Row],
    *,
    key: str,
    fixed: dict[str, Any],
    code: CatalogError,
    param: str,
    by: User | None,
    reason: str,
) -> Upserted:
    by_key = {r.key: r for r in rows}  # the last row of a key wins
    ordered = [by_key[k] for k in sorted(by_key)]
    for row in ordered:
        _checked(model, row, fixed=fixed, code=code, param=param)
    tracked = sorted({name for row in ordered for name in row.values})
    scope = model._default_manager.filter(**fixed)
    before: dict[str, tuple[Any, ...]] = {}
    for i in range(0, len(ordered), BATCH_SIZE):
        keys = [r.key for r in ordered[i : i + BATCH_SIZE]]
        for values in scope.filter(**{f"{key}__in": keys}).values_list(key, *tracked):
            before[values[0]] = tuple(values[1:])
    groups: dict[frozenset[str], list[_Row]] = {}
    for row in ordered:
        groups.setdefault(row.updates, []).append(row)
    unique = [*fixed, key]
    for updates, group in groups.items():
        objs = [model(**fixed, **row.values) for row in group]
        options: dict[str, Any] = (
            {"update_conflicts": True, "unique_fields": unique, "update_fields": sorted(updates)}
            if updates
            else {"ignore_conflicts": True}
        )
        try:
            with transaction.atomic():
                model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE, **options)
        except IntegrityError as exc:
            if model is Location:
                raise DomainError(
                    CatalogError.BARCODE_TAKEN,
                    params={"warehouse": fixed["warehouse"].code},
                    field="barcode",
                ) from exc
            raise
    result = Upserted()
    created: list[models.Model] = []
    changed: list[models.Model] = []
    for i in range(0, len(ordered), BATCH_SIZE):
        keys = [r.key for r in ordered[i : i + BATCH_SIZE]]
        for obj in scope.filter(**{f"{key}__in": keys}):
            obj_key = getattr(obj, key)
            result.ids[obj_key] = obj.pk
            old = before.get(obj_key)
            if old is None:
                created.append(obj)
            elif old != tuple(getattr(obj, name) for name in tracked):
                changed.append(obj)
            else:
                result.unchanged += 1
    result.created, result.updated = len(created), len(changed)
    history = model.history  # type: ignore[attr-defined]
    if created:
        history.bulk_history_create(created, default_user=by, default_change_reason=reason)
    if changed:
        history.bulk_history_create(
            changed, update=True, default_user=by, default_change_reason=reason
        )
    return result


@transaction.atomic
def upsert_products(
    *, products: Sequence[ProductData], by: User | None, reason: str = ""
) -> Upserted:
    """Create the products whose SKU is new and update the others (name, category, unit,
    active, and barcode / unit cost / unit of measure where given)."""
    rows = []
    for p in products:
        sku = (p.sku or "").strip()
        unit = (p.unit or "pcs").strip()
        updates = {"name", "category", "unit", "active"}
        values: dict[str, Any] = {
            "sku": sku,
            "name": (p.name or "").strip(),
            "category": (p.category or "").strip(),
            "unit": unit,
            "active": bool(p.active),
            "barcode": (p.barcode or "").strip(),
            "unit_cost": p.unit_cost if p.unit_cost is not None else Decimal("0"),
            "unit_of_measure": p.unit_of_measure or measure_of_unit(unit),
        }
        updates |= {
            name
            for name, given in (
                ("barcode", p.barcode),
                ("unit_cost", p.unit_cost),
                ("unit_of_measure", p.unit_of_measure),
            )
            if given is not None
        }
        rows.append(_Row(sku, values, frozenset(updates)))
    return _upsert(
        Product,
        rows,
        key="sku",
        fixed={},
        code=CatalogError.INVALID_PRODUCT,
        param="sku",
        by=by,
        reason=reason,
    )


@transaction.atomic
def upsert_warehouses(
    *, warehouses: Sequence[WarehouseData], by: User | None, reason: str = ""
) -> Upserted:
    """Create the warehouses whose code is new and rename the others."""
    rows = [
        _Row(
            (w.code or "").strip(),
            {"code": (w.code or "").strip(), "name": (w.name or "").strip()},
            frozenset({"name"}),
        )
        for w in warehouses
    ]
    return _upsert(
        Warehouse,
        rows,
        key="code",
        fixed={},
        code=CatalogError.INVALID_WAREHOUSE,
        param="code",
        by=by,
        reason=reason,
    )


@transaction.atomic
def upsert_locations(
    *,
    warehouse: Warehouse,
    locations: Sequence[LocationData],
    by: User | None,
    reason: str = "",
    update_existing: bool = True,
) -> Upserted:
    """Create the bins of ``warehouse`` whose code is new; update the barcode and name of the
    others (or leave them as they are, ``update_existing=False``). A barcode another bin of the
    warehouse already carries is refused (``BARCODE_TAKEN``), and nothing is written."""
    updates = frozenset({"barcode", "name"}) if update_existing else frozenset()
    rows = [
        _Row(
            (loc.code or "").strip(),
            {
                "code": (loc.code or "").strip(),
                "barcode": (loc.barcode or "").strip(),
                "name": (loc.name or "").strip(),
            },
            updates,
        )
        for loc in locations
    ]
    return _upsert(
        Location,
        rows,
        key="code",
        fixed={"warehouse": warehouse},
        code=CatalogError.INVALID_LOCATION,
        param="code",
        by=by,
        reason=reason,
    )
