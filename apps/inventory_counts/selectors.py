"""Read-side queries of the stock counts, including the stock manual orders sell from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
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

from .choices import SessionState
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


def approved_stock_scope(session: CountSession) -> Q:
    """The approved stock a session covers: its warehouse, narrowed to its bins and categories."""
    q = Q(warehouse=session.warehouse_id)
    location_ids = list(session.locations.values_list("pk", flat=True))
    if location_ids:
        q &= Q(location_id__in=location_ids)
    if session.categories:
        q &= Q(product__category__in=session.categories)
    return q


# Blind sessions in these states keep their bins' stock from their clerks: they will count
# (draft) or are counting (counting, recount) them.
BLIND_STATES = (SessionState.DRAFT, SessionState.COUNTING, SessionState.RECOUNT)


def stock_hidden_from(user) -> Q | None:
    """The approved stock ``user`` must not see: the bins of every open blind session they
    count (assigned, or open to every clerk). None when nothing is hidden (reviewers see all)."""
    if user.has_perm("inventory_counts.review_countsession") or not user.has_perm(
        "inventory_counts.add_countentry"
    ):
        return None
    sessions = (
        CountSession.objects.filter(blind=True, state__in=BLIND_STATES)
        .filter(Q(clerks=user) | Q(clerks__isnull=True))
        .distinct()
    )
    hidden = None
    for session in sessions:
        scope = approved_stock_scope(session)
        hidden = scope if hidden is None else hidden | scope
    return hidden


def current_stock(
    *, q: str = "", warehouse: int | None = None, hidden: Q | None = None
) -> QuerySet[ApprovedStock]:
    """Current approved stock, less the rows ``hidden`` covers (``stock_hidden_from``)."""
    qs = ApprovedStock.objects.filter(is_current=True).select_related(
        "warehouse", "location", "product", "session"
    )
    if hidden is not None:
        qs = qs.exclude(hidden)
    if warehouse:
        qs = qs.filter(warehouse_id=warehouse)
    if q:
        qs = qs.filter(Q(product__sku=q) | Q(product__barcode=q) | Q(product__name__icontains=q))
    return qs.order_by("product__sku", "warehouse__code", "location__code")


def stock_history(*, product: Product, hidden: Q | None = None) -> QuerySet[ApprovedStock]:
    qs = ApprovedStock.objects.filter(product=product)
    if hidden is not None:
        qs = qs.exclude(hidden)
    return qs.select_related("warehouse", "location", "session", "approved_by").order_by(
        "-approved_at", "location__code"
    )


def has_hidden_stock(*, product: Product, hidden: Q | None) -> bool:
    return (
        hidden is not None and ApprovedStock.objects.filter(product=product).filter(hidden).exists()
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
    kind: str  # "location", "product", "outside" (not part of this count) or "unknown"
    pk: int | None = None
    code: str = ""
    label: str = ""
    is_location: bool = False
    whole: bool = False  # a product counted in whole pieces


def resolve_code(*, session: CountSession, code: str) -> ScannedCode:
    """What a scanned or typed code is: a location of the session's warehouse, or a product.

    A bin of the warehouse that the session does not cover, or a product outside its
    categories, is "outside": refused at the scan, before any quantity is asked."""
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
        scope = session.locations.all()
        if scope.exists() and not scope.filter(pk=location.pk).exists():
            return ScannedCode("outside", None, location.code, is_location=True)
        return ScannedCode(
            "location", location.pk, location.code, location.name or location.code, True
        )
    product = (
        Product.objects.filter(sku=code).first() or Product.objects.filter(barcode=code).first()
    )
    if product is not None:
        if session.categories and product.category not in session.categories:
            return ScannedCode("outside", None, product.sku)
        return ScannedCode(
            "product", product.pk, product.sku, product.name, whole=product.counted_in_pieces
        )
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


def lines_beyond_threshold(session: CountSession) -> QuerySet[CountLine]:
    """Lines whose final quantity differs from the expected one by more than the session's
    threshold (and ``INVENTORY_RECOUNT_MIN_UNITS``). Without an earlier approved count every
    expected quantity is zero, so each line counted above zero is one of them: a first count
    is reviewed like a variance."""
    final = Coalesce("recount_qty", "counted_qty", Value(ZERO), output_field=_QTY)
    difference = Abs(ExpressionWrapper(final - F("expected_qty"), output_field=_QTY))
    allowed = F("expected_qty") * Value(session.recount_threshold_pct / Decimal(100))
    min_units = Decimal(str(settings.INVENTORY_RECOUNT_MIN_UNITS))
    return CountLine.objects.filter(session=session).filter(
        GreaterThan(difference, allowed), GreaterThan(difference, Value(min_units))
    )


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
