"""Read-side queries of the stock counts, including the stock manual orders sell from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Abs, Coalesce
from django.db.models.lookups import Exact, GreaterThan, LessThan

from .models import (
    ApprovedStock,
    CountEntry,
    CountLine,
    CountSession,
    CountSheetImport,
    Location,
    Product,
    Warehouse,
)

ZERO = Decimal("0")
_QTY = DecimalField(max_digits=14, decimal_places=3)
_VALUE = DecimalField(max_digits=20, decimal_places=2)


# --- what manual orders read ---------------------------------------------------------------------
def available_counted_stock(
    *, product: Product | int, warehouse: Warehouse | int | None = None
) -> Decimal:
    """The stock of a product set by approved counts (all warehouses, or one)."""
    qs = ApprovedStock.objects.filter(product=product, is_current=True)
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    return qs.aggregate(total=Coalesce(Sum("quantity"), Value(ZERO), output_field=_QTY))["total"]


def approved_stock_map(
    product_ids: Iterable[int], *, warehouse: Warehouse | int | None = None
) -> dict[int, Decimal]:
    """Approved stock for many products at once: {product_id: quantity} (missing = none)."""
    qs = ApprovedStock.objects.filter(product_id__in=list(product_ids), is_current=True)
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    return {
        row["product_id"]: row["total"]
        for row in qs.values("product_id").annotate(total=Sum("quantity"))
    }


def current_stock(*, q: str = "", warehouse: int | None = None) -> QuerySet[ApprovedStock]:
    qs = ApprovedStock.objects.filter(is_current=True).select_related(
        "warehouse", "location", "product", "session"
    )
    if warehouse:
        qs = qs.filter(warehouse_id=warehouse)
    if q:
        qs = qs.filter(Q(product__sku=q) | Q(product__barcode=q) | Q(product__name__icontains=q))
    return qs.order_by("product__sku", "warehouse__code", "location__code")


def stock_history(*, product: Product) -> QuerySet[ApprovedStock]:
    return (
        ApprovedStock.objects.filter(product=product)
        .select_related("warehouse", "location", "session", "approved_by")
        .order_by("-approved_at", "location__code")
    )


# --- sessions ------------------------------------------------------------------------------------
def list_sessions_for(user) -> QuerySet[CountSession]:
    """Clerks see the sessions assigned to them (or open to all); others see every session."""
    qs = CountSession.objects.select_related("warehouse", "created_by")
    if not (
        user.has_perm("inventory_counts.review_countsession")
        or user.has_perm("inventory_counts.change_countsession")
    ):
        qs = qs.filter(Q(clerks=user) | Q(clerks__isnull=True)).distinct()
    return qs


@dataclass
class SessionProgress:
    lines: int
    counted: int
    needs_recount: int
    pending_recount: int
    entries: int


def session_progress(session: CountSession) -> SessionProgress:
    agg = CountLine.objects.filter(session=session).aggregate(
        lines=Count("pk"),
        counted=Count("pk", filter=Q(counted_qty__isnull=False)),
        needs=Count("pk", filter=Q(needs_recount=True)),
        pending=Count("pk", filter=Q(needs_recount=True, recount_qty__isnull=True)),
    )
    return SessionProgress(
        lines=agg["lines"],
        counted=agg["counted"],
        needs_recount=agg["needs"],
        pending_recount=agg["pending"],
        entries=CountEntry.objects.filter(session=session).count(),
    )


def lines_to_recount(session: CountSession, *, limit: int = 200) -> QuerySet[CountLine]:
    """What clerks must recount, without any quantity (they count blind)."""
    return (
        CountLine.objects.filter(session=session, needs_recount=True, recount_qty__isnull=True)
        .select_related("location", "product")
        .only("pk", "location__code", "product__sku", "product__name")
        .order_by("location__code", "product__sku")[:limit]
    )


def recent_entries(session: CountSession, *, clerk, limit: int = 10) -> QuerySet[CountEntry]:
    return (
        CountEntry.objects.filter(session=session, clerk=clerk)
        .select_related("line__location", "line__product")
        .order_by("-at", "-pk")[:limit]
    )


@dataclass
class ScannedCode:
    kind: str  # "location", "product" or "unknown"
    pk: int | None = None
    code: str = ""
    label: str = ""


def resolve_code(*, session: CountSession, code: str) -> ScannedCode:
    """What a scanned or typed code is: a location of the session's warehouse, or a product."""
    code = (code or "").strip()
    if not code:
        return ScannedCode("unknown")
    location = (
        Location.objects.filter(warehouse=session.warehouse_id)
        .filter(Q(code=code) | Q(barcode=code))
        .order_by("-code")
        .first()
    )
    if location is not None:
        return ScannedCode("location", location.pk, location.code, location.name or location.code)
    product = (
        Product.objects.filter(sku=code).first() or Product.objects.filter(barcode=code).first()
    )
    if product is not None:
        return ScannedCode("product", product.pk, product.sku, product.name)
    return ScannedCode("unknown", code=code)


# --- variance report -----------------------------------------------------------------------------
def variance_lines(
    session: CountSession, *, only_variances: bool = False, q: str = ""
) -> QuerySet[CountLine]:
    """Lines with their final quantity and variance (quantity and value), largest value first."""
    final = Coalesce("recount_qty", "counted_qty", Value(ZERO), output_field=_QTY)
    qs = (
        CountLine.objects.filter(session=session)
        .select_related("location", "product")
        .annotate(final=final)
        .annotate(variance_qty=ExpressionWrapper(F("final") - F("expected_qty"), output_field=_QTY))
        .annotate(
            variance_value=ExpressionWrapper(
                F("variance_qty") * F("product__unit_cost"), output_field=_VALUE
            )
        )
    )
    if only_variances:
        qs = qs.exclude(variance_qty=0)
    if q:
        qs = qs.filter(Q(product__sku=q) | Q(location__code=q) | Q(product__name__icontains=q))
    return qs.order_by(Abs("variance_value").desc(), "location__code", "product__sku")


def variance_summary(session: CountSession) -> dict:
    """Totals over every line, computed by the database (fast for 100,000 lines)."""
    final = Coalesce("recount_qty", "counted_qty", Value(ZERO), output_field=_QTY)
    vq = ExpressionWrapper(final - F("expected_qty"), output_field=_QTY)
    vv = ExpressionWrapper(vq * F("product__unit_cost"), output_field=_VALUE)
    gain = Case(When(GreaterThan(vv, 0), then=vv), default=Value(ZERO), output_field=_VALUE)
    loss = Case(When(LessThan(vv, 0), then=vv), default=Value(ZERO), output_field=_VALUE)
    return CountLine.objects.filter(session=session).aggregate(
        lines=Count("pk"),
        with_variance=Sum(
            Case(When(~Q(Exact(vq, 0)), then=Value(1)), default=Value(0)),
        ),
        recounted=Count("pk", filter=Q(needs_recount=True)),
        expected=Coalesce(Sum("expected_qty"), Value(ZERO), output_field=_QTY),
        final=Coalesce(Sum(final), Value(ZERO), output_field=_QTY),
        variance_qty=Coalesce(Sum(vq), Value(ZERO), output_field=_QTY),
        gain_value=Coalesce(Sum(gain), Value(ZERO), output_field=_VALUE),
        loss_value=Coalesce(Sum(loss), Value(ZERO), output_field=_VALUE),
        net_value=Coalesce(Sum(vv), Value(ZERO), output_field=_VALUE),
    )


def list_imports(session: CountSession) -> QuerySet[CountSheetImport]:
    return session.imports.select_related("created_by", "job").defer("content")
