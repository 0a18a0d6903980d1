"""Issue 11 §3 and §6, issue 12 §5: impossible quantities, bins outside the count refused at the
scan, approvals beyond the threshold explained, and blind counts that stay blind."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from apps.catalog.choices import UnitOfMeasure
from apps.core.errors import DomainError
from apps.inventory_counts import selectors, services
from apps.inventory_counts.choices import SessionState
from apps.inventory_counts.errors import InventoryError
from apps.inventory_counts.models import ApprovedStock, CountEntry, CountLine

from .factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _count(session, floor, location, product, qty, *, clerk=None, **flags):
    return services.record_entry(
        session=session,
        location=location,
        product=product,
        quantity=Decimal(str(qty)),
        by=clerk or floor.clerk,
        **flags,
    )


def _post_entry(client, session, location, product, qty, language="zh-hans", **extra):
    return client.post(
        reverse("inventory_counts:count-record", args=[session.pk]),
        {"location": location.pk, "product": product.pk, "quantity": qty, **extra},
        HTTP_ACCEPT_LANGUAGE=language,
    )


# --- units of measure ----------------------------------------------------------------------------
def test_products_are_counted_in_pieces_unless_they_say_otherwise(floor):
    assert floor.tea.unit_of_measure == UnitOfMeasure.PIECE and floor.tea.counted_in_pieces


def test_a_product_counted_in_pieces_takes_whole_numbers_only(baseline, counting):
    with pytest.raises(services.EntryRefused) as refused:
        _count(counting, baseline, baseline.bin_a, baseline.tea, "1.5")
    assert refused.value.code == InventoryError.NOT_WHOLE and refused.value.field == "quantity"
    assert not CountEntry.objects.filter(session=counting).exists()
    _count(counting, baseline, baseline.bin_a, baseline.tea, "2.000")  # a whole number
    assert CountLine.objects.get(session=counting, product=baseline.tea, location=baseline.bin_a)


def test_a_weighed_product_takes_decimals(baseline, counting):
    rice = ProductFactory(sku="RICE-KG", unit="kg", unit_of_measure=UnitOfMeasure.WEIGHT)
    outcome = _count(counting, baseline, baseline.bin_a, rice, "12.375")
    assert outcome.counted == Decimal("12.375")


def test_the_page_answers_a_fraction_of_a_piece_in_the_users_language(client, baseline, counting):
    client.force_login(baseline.clerk)
    for language, expected in (("en", "whole number"), ("zh-hans", "整数")):
        response = _post_entry(client, counting, baseline.bin_a, baseline.tea, "1.5", language)
        body = response.json()
        assert response.status_code == 422 and body["field"] == "quantity"
        assert body["problem"] == InventoryError.NOT_WHOLE and expected in body["message"]
    assert not CountEntry.objects.filter(session=counting).exists()


# --- plausibility --------------------------------------------------------------------------------
def test_a_bin_total_beyond_the_default_bound_of_100000_must_be_confirmed(baseline, counting):
    with pytest.raises(services.ImplausibleQuantity) as asked:
        _count(counting, baseline, baseline.bin_a, baseline.tea, 100_001)
    assert asked.value.code == InventoryError.IMPLAUSIBLE
    assert not CountEntry.objects.filter(session=counting).exists()
    _count(counting, baseline, baseline.bin_a, baseline.tea, 100_001, confirm_implausible=True)
    assert _line_qty(counting, baseline.bin_a, baseline.tea) == 100_001


def test_the_plausibility_bound_applies_to_the_bins_total(baseline, counting, settings):
    settings.INVENTORY_PLAUSIBLE_MAX_PER_BIN = 1000
    _count(counting, baseline, baseline.bin_a, baseline.tea, 600)
    with pytest.raises(services.ImplausibleQuantity) as asked:
        _count(counting, baseline, baseline.bin_a, baseline.tea, 600, clerk=baseline.other_clerk)
    assert asked.value.params["total"] == "1200" and asked.value.params["max"] == "1000"
    assert _line_qty(counting, baseline.bin_a, baseline.tea) == 600


def test_a_quantity_no_bin_can_hold_is_refused_even_when_confirmed(baseline, counting):
    flags = {"confirm_implausible": True, "confirm_duplicate": True}
    _count(counting, baseline, baseline.bin_a, baseline.tea, 99_999_999_999, **flags)
    with pytest.raises(services.EntryRefused) as refused:
        _count(counting, baseline, baseline.bin_a, baseline.tea, 1, **flags)
    assert refused.value.code == InventoryError.TOO_LARGE
    assert _line_qty(counting, baseline.bin_a, baseline.tea) == 99_999_999_999


def test_the_page_asks_before_an_implausible_quantity_and_adds_it_once_confirmed(
    client, baseline, counting
):
    client.force_login(baseline.clerk)
    asked = _post_entry(client, counting, baseline.bin_a, baseline.tea, "99999999999")
    assert asked.status_code == 409 and asked.json()["status"] == InventoryError.IMPLAUSIBLE
    assert not CountEntry.objects.filter(session=counting).exists()
    added = _post_entry(
        client, counting, baseline.bin_a, baseline.tea, "99999999999", confirm_implausible="on"
    )
    assert added.status_code == 201


def _line_qty(session, location, product):
    return CountLine.objects.get(session=session, location=location, product=product).counted_qty


# --- review and approval -------------------------------------------------------------------------
def test_approving_lines_beyond_the_threshold_needs_a_note_kept_in_the_audit_trail(
    baseline, counting
):
    _count(counting, baseline, baseline.bin_a, baseline.tea, 150)  # +50 %
    _count(counting, baseline, baseline.bin_b, baseline.cups, 40)
    session = services.close_counting(session=counting, by=baseline.manager)
    _count(session, baseline, baseline.bin_a, baseline.tea, 150, clerk=baseline.other_clerk)
    session = services.close_counting(session=session, by=baseline.manager)
    assert session.state == SessionState.REVIEW
    assert selectors.lines_beyond_threshold(session).count() == 1

    with pytest.raises(DomainError) as refused:
        services.approve_session(session=session, by=baseline.manager, note="   ")
    assert refused.value.field == "note"
    session.refresh_from_db()
    assert session.state == SessionState.REVIEW
    assert selectors.available_counted_stock(product=baseline.tea) == 100

    services.approve_session(session=session, by=baseline.manager, note="Delivery booked late.")
    session.refresh_from_db()
    assert session.state == SessionState.APPROVED
    assert session.approval_note == "Delivery booked late."
    audit = session.history.order_by("-history_date").first()
    assert audit.approval_note == "Delivery booked late." and audit.state == "approved"
    assert selectors.available_counted_stock(product=baseline.tea) == 150


def test_a_count_within_the_threshold_is_approved_without_a_note(baseline, counting):
    _count(counting, baseline, baseline.bin_a, baseline.tea, 100)
    _count(counting, baseline, baseline.bin_b, baseline.cups, 39)  # -2.5 %
    session = services.close_counting(session=counting, by=baseline.manager)
    services.approve_session(session=session, by=baseline.manager)
    assert CountLine.objects.filter(session=session).count() == 2


def test_a_first_count_with_nothing_to_compare_is_reviewed_like_a_variance(client, floor):
    session = services.create_session(
        name="first", warehouse=floor.warehouse, by=floor.manager, clerks=[floor.clerk]
    )
    services.start_session(session=session, by=floor.manager)
    _count(session, floor, floor.bin_a, floor.tea, 99_999, clerk=floor.clerk)
    session = services.close_counting(session=session, by=floor.manager)
    assert not session.has_baseline and session.state == SessionState.REVIEW
    assert selectors.lines_beyond_threshold(session).count() == 1
    client.force_login(floor.manager)
    report = client.get(reverse("inventory_counts:variance-report", args=[session.pk]))
    assert b'data-testid="first-count"' in report.content
    with pytest.raises(DomainError) as refused:
        services.approve_session(session=session, by=floor.manager)
    assert refused.value.field == "note"
    assert not ApprovedStock.objects.exists()
    services.approve_session(session=session, by=floor.manager, note="Opening stock.")
    assert selectors.available_counted_stock(product=floor.tea) == 99_999


def test_the_manager_approves_from_the_page_with_a_note(client, baseline, counting):
    _count(counting, baseline, baseline.bin_a, baseline.tea, 100)
    _count(counting, baseline, baseline.bin_b, baseline.cups, 0)
    session = services.close_counting(session=counting, by=baseline.manager)
    _count(session, baseline, baseline.bin_b, baseline.cups, 0, clerk=baseline.other_clerk)
    session = services.close_counting(session=session, by=baseline.manager)
    client.force_login(baseline.manager)
    detail = reverse("inventory_counts:session-detail", args=[session.pk])
    page = client.get(detail)
    assert page.context["beyond_threshold"] == 1
    assert b'data-testid="approve-with-note"' in page.content
    approve = reverse("inventory_counts:session-approve", args=[session.pk])
    refused = client.post(approve, {"note": ""}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    session.refresh_from_db()
    assert session.state == SessionState.REVIEW and "note" in refused.content.decode()
    client.post(approve, {"note": "Cups broken in transit."})
    session.refresh_from_db()
    assert session.state == SessionState.APPROVED
    assert "Cups broken in transit." in client.get(detail).content.decode()


# --- bins outside the session --------------------------------------------------------------------
@pytest.fixture
def narrowed(baseline):
    """A blind session of bin A-01 only, counted by the first clerk."""
    session = services.create_session(
        name="A only",
        warehouse=baseline.warehouse,
        by=baseline.manager,
        clerks=[baseline.clerk],
        locations=[baseline.bin_a],
    )
    return services.start_session(session=session, by=baseline.manager)


def test_a_bin_outside_the_session_is_refused_at_the_scan(client, baseline, narrowed):
    client.force_login(baseline.clerk)
    url = reverse("inventory_counts:count-scan", args=[narrowed.pk])
    assert client.get(url, {"code": "A-01"}).json()["kind"] == "location"
    with translation.override("en"):
        outside = client.get(url, {"code": baseline.bin_b.barcode}, HTTP_ACCEPT_LANGUAGE="en")
    body = outside.json()
    assert body["kind"] == "outside" and body["id"] is None
    assert "B-01" in body["message"] and "not part of this count" in body["message"]


def test_a_product_outside_the_sessions_categories_is_refused_at_the_scan(client, baseline):
    session = services.create_session(
        name="drinks", warehouse=baseline.warehouse, by=baseline.manager, categories=["drinks"]
    )
    services.start_session(session=session, by=baseline.manager)
    client.force_login(baseline.clerk)
    url = reverse("inventory_counts:count-scan", args=[session.pk])
    assert client.get(url, {"code": "TEA-1"}).json()["kind"] == "product"
    assert client.get(url, {"code": "CUP-1"}).json()["kind"] == "outside"


def test_the_scan_says_whether_a_product_is_counted_in_whole_pieces(client, baseline, counting):
    ProductFactory(sku="ROPE-M", unit="m", unit_of_measure=UnitOfMeasure.LENGTH)
    client.force_login(baseline.clerk)
    url = reverse("inventory_counts:count-scan", args=[counting.pk])
    assert client.get(url, {"code": "TEA-1"}).json()["whole"] is True
    assert client.get(url, {"code": "ROPE-M"}).json()["whole"] is False


# --- blind counts stay blind ---------------------------------------------------------------------
ODD = "4817"


@pytest.fixture
def blind(baseline, narrowed):
    """Bin A-01 holds an unmistakable 4817 tea, and is being counted blind."""
    ApprovedStock.objects.filter(location=baseline.bin_a).update(quantity=Decimal(ODD))
    return narrowed


def _clerk_pages(client, floor, session):
    """Every page and answer a clerk can reach, with the tea's SKU where it helps."""
    yield reverse("core:dashboard"), {}
    yield reverse("inventory_counts:session-list"), {}
    yield reverse("inventory_counts:stock-list"), {}
    yield reverse("inventory_counts:stock-list"), {"q": "TEA-1"}
    yield reverse("inventory_counts:stock-list"), {"q": "Green"}
    for name in ("session-detail", "count-entry", "sheet-export"):
        yield reverse(f"inventory_counts:{name}", args=[session.pk]), {}
    yield reverse("inventory_counts:sheet-export", args=[session.pk]), {"format": "xlsx"}
    yield reverse("inventory_counts:count-scan", args=[session.pk]), {"code": "TEA-1"}
    yield reverse("inventory_counts:count-scan", args=[session.pk]), {"code": "A-01"}
    yield reverse("manual_orders:order-list"), {}
    yield reverse("manual_orders:pick-list-index"), {}


def test_a_clerk_sees_no_stock_figure_of_the_bins_being_counted_blind(client, baseline, blind):
    client.force_login(baseline.clerk)
    for url, params in _clerk_pages(client, baseline, blind):
        response = client.get(url, params)
        assert response.status_code == 200, (url, response.status_code)
        assert ODD.encode() not in response.content, url
    entry = _post_entry(client, blind, baseline.bin_a, baseline.tea, "12")
    assert entry.status_code == 201 and ODD not in entry.content.decode()
    # What is not being counted stays visible: cups in B-01.
    stock = client.get(reverse("inventory_counts:stock-list"), {"q": "CUP-1"})
    assert [r.quantity for r in stock.context["rows"]] == [Decimal("40")]
    assert stock.context["available"] == Decimal("40")
    # Reviewers still see everything.
    client.force_login(baseline.manager)
    assert ODD.encode() in client.get(reverse("inventory_counts:stock-list")).content


def test_the_stock_shows_again_once_the_blind_count_is_closed(client, baseline, blind):
    _count(blind, baseline, baseline.bin_a, baseline.tea, 100)  # as expected when it started
    assert services.close_counting(session=blind, by=baseline.manager).state == "review"
    client.force_login(baseline.clerk)
    assert ODD.encode() in client.get(reverse("inventory_counts:stock-list")).content


def test_a_clerk_not_counting_the_bins_still_sees_their_stock(client, baseline, blind):
    client.force_login(baseline.other_clerk)  # not assigned to the blind session
    assert ODD.encode() in client.get(reverse("inventory_counts:stock-list")).content


def test_an_open_count_does_not_hide_the_stock(client, baseline):
    ApprovedStock.objects.filter(location=baseline.bin_a).update(quantity=Decimal(ODD))
    session = services.create_session(
        name="open", warehouse=baseline.warehouse, by=baseline.manager, blind=False
    )
    services.start_session(session=session, by=baseline.manager)
    client.force_login(baseline.clerk)
    assert ODD.encode() in client.get(reverse("inventory_counts:stock-list")).content


def test_the_stock_export_of_a_blind_count_has_no_figure(client, baseline, blind):
    client.force_login(baseline.clerk)
    sheet = client.get(reverse("inventory_counts:sheet-export", args=[blind.pk]))
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows and all(row["quantity"] == "" for row in rows)


def test_a_location_created_for_the_count_later_is_hidden_too(client, baseline):
    """A session with no bins listed covers the whole warehouse, bins added later included."""
    session = services.create_session(
        name="all", warehouse=baseline.warehouse, by=baseline.manager, clerks=[baseline.clerk]
    )
    services.start_session(session=session, by=baseline.manager)
    late = LocationFactory(warehouse=baseline.warehouse, code="Z-99")
    ApprovedStock.objects.create(
        warehouse=baseline.warehouse,
        location=late,
        product=baseline.cups,
        quantity=Decimal(ODD),
        session=session,
        approved_at=timezone.now(),
        approved_by=baseline.manager,
    )
    client.force_login(baseline.clerk)
    assert ODD.encode() not in client.get(reverse("inventory_counts:stock-list")).content


def test_unit_names_of_weights_and_lengths_imply_their_unit_of_measure():
    from apps.catalog.choices import measure_of_unit

    assert measure_of_unit("kg") == measure_of_unit("公斤") == UnitOfMeasure.WEIGHT
    assert measure_of_unit(" M ") == measure_of_unit("米") == UnitOfMeasure.LENGTH
    assert measure_of_unit("件") == measure_of_unit("pcs") == measure_of_unit("") == "piece"


def test_a_count_sheet_follows_the_count_pages_rules_for_pieces_and_plausibility(
    client, baseline, counting
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.inventory_counts.choices import ImportState
    from apps.inventory_counts.models import CountSheetImport

    client.force_login(baseline.manager)
    content = "location,sku,quantity\nA-01,TEA-1,1.5\nB-01,CUP-1,99999999999\nB-01,TEA-1,3\n"
    client.post(
        reverse("inventory_counts:sheet-upload", args=[counting.pk]),
        {"file": SimpleUploadedFile("s.csv", content.encode()), "input_format": "csv"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    sheet = CountSheetImport.objects.get()
    assert sheet.state == ImportState.INVALID and sheet.error_count == 2
    errors = {e["row"]: " ".join(e["errors"]) for e in sheet.errors}
    assert "whole number" in errors[1] or "整数" in errors[1]
    assert "100000" in errors[2]


def test_a_clerk_of_a_blind_count_is_answered_with_their_own_count_only(client, baseline, counting):
    _count(counting, baseline, baseline.bin_a, baseline.tea, 4817, clerk=baseline.other_clerk)
    client.force_login(baseline.clerk)
    response = _post_entry(client, counting, baseline.bin_a, baseline.tea, "12")
    assert response.json()["counted"] == "12" and ODD not in response.content.decode()


def test_no_page_a_clerk_can_reach_shows_a_figure_of_the_bins_counted_blind(
    client, baseline, blind
):
    """Every GET page the matrix opens to a warehouse clerk (the role matrix's own walk)."""
    from apps.accounts.roles import ROLE_PERMISSIONS, Role
    from tests.accounts.test_role_matrix import _allowed_status, _required, _url, staff_pages

    client.force_login(baseline.clerk)
    granted = ROLE_PERMISSIONS[Role.WAREHOUSE_CLERK]
    visited = []
    for name, pattern in staff_pages():
        if not _required(pattern) <= granted or _allowed_status(pattern) != 200:
            continue
        if name.startswith("inventory_counts:") and pattern.pattern.converters:
            url = reverse(name, kwargs={"pk": blind.pk})
        else:
            url = _url(name, pattern, baseline.clerk)
        for params in ({}, {"q": "TEA-1"}, {"code": "A-01"}, {"format": "xlsx"}):
            response = client.get(url, params)
            assert response.status_code == 200, (name, params, response.status_code)
            assert ODD.encode() not in response.content, (name, params)
        visited.append(name)
    assert {"inventory_counts:stock-list", "inventory_counts:count-entry"} <= set(visited)
