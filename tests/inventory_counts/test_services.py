from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from apps.core.errors import DomainError
from apps.inventory_counts import selectors, services
from apps.inventory_counts.choices import SessionState
from apps.inventory_counts.errors import InventoryError
from apps.inventory_counts.models import ApprovedStock, CountEntry, CountLine

from .conftest import approve_counts
from .factories import LocationFactory


@pytest.fixture(autouse=True)
def _english_messages():
    """These tests match the services' refusals by their English wording."""
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db


def _line(session, location, product) -> CountLine:
    return CountLine.objects.get(session=session, location=location, product=product)


def _count(session, floor, location, product, qty, clerk=None, **kwargs):
    return services.record_entry(
        session=session,
        location=location,
        product=product,
        quantity=Decimal(qty),
        by=clerk or floor.clerk,
        **kwargs,
    )


def test_starting_a_session_freezes_the_expected_quantity_from_the_last_approved_count(
    baseline, counting
):
    assert _line(counting, baseline.bin_a, baseline.tea).expected_qty == 100
    assert _line(counting, baseline.bin_b, baseline.cups).expected_qty == 40
    assert counting.state == SessionState.COUNTING and counting.started_at


def test_the_frozen_expected_quantity_does_not_move_when_other_stock_is_approved_later(
    baseline, counting
):
    other = LocationFactory(warehouse=baseline.warehouse, code="C-01")
    approve_counts(
        warehouse=baseline.warehouse,
        counts={(other, baseline.tea): 5},
        by=baseline.manager,
        clerk=baseline.other_clerk,
    )
    assert _line(counting, baseline.bin_a, baseline.tea).expected_qty == 100
    assert not CountLine.objects.filter(session=counting, location=other).exists()


def test_a_session_narrowed_to_a_category_freezes_only_that_category(baseline):
    session = services.create_session(
        name="drinks", warehouse=baseline.warehouse, by=baseline.manager, categories=["drinks"]
    )
    services.start_session(session=session, by=baseline.manager)
    assert list(session.lines.values_list("product__sku", flat=True)) == ["TEA-1"]
    with pytest.raises(DomainError) as refused:
        _count(session, baseline, baseline.bin_b, baseline.cups, 1)
    assert refused.value.code == InventoryError.CATEGORY_OUT_OF_SCOPE


def test_transitions_not_declared_are_refused(baseline, counting):
    with pytest.raises(DomainError) as refused:
        services.start_session(session=counting, by=baseline.manager)
    assert refused.value.code == InventoryError.INVALID_TRANSITION
    with pytest.raises(DomainError) as refused:
        services.approve_session(session=counting, by=baseline.manager)
    assert refused.value.code == InventoryError.APPROVE_NOT_IN_REVIEW
    draft = services.create_session(name="d", warehouse=baseline.warehouse, by=baseline.manager)
    with pytest.raises(DomainError) as refused:
        _count(draft, baseline, baseline.bin_a, baseline.tea, 1)
    assert refused.value.code == InventoryError.NOT_OPEN


def test_two_clerks_counting_the_same_location_add_up_instead_of_overwriting(baseline, counting):
    _count(counting, baseline, baseline.bin_a, baseline.tea, 60, clerk=baseline.clerk)
    outcome = _count(
        counting, baseline, baseline.bin_a, baseline.tea, 41, clerk=baseline.other_clerk
    )
    assert outcome.counted == 101
    line = _line(counting, baseline.bin_a, baseline.tea)
    assert line.counted_qty == 101 and line.entries.count() == 2


def test_a_second_scan_of_the_same_line_by_the_same_clerk_asks_for_confirmation(baseline, counting):
    _count(counting, baseline, baseline.bin_a, baseline.tea, 10)
    with pytest.raises(services.DuplicateEntry) as asked:
        _count(counting, baseline, baseline.bin_a, baseline.tea, 10)
    assert asked.value.code == InventoryError.DUPLICATE
    assert CountEntry.objects.filter(session=counting).count() == 1
    _count(counting, baseline, baseline.bin_a, baseline.tea, 10, confirm_duplicate=True)
    assert _line(counting, baseline.bin_a, baseline.tea).counted_qty == 20


def test_a_scan_after_the_duplicate_window_is_added_without_asking(baseline, counting):
    _count(counting, baseline, baseline.bin_a, baseline.tea, 10)
    CountEntry.objects.update(at=timezone.now() - timedelta(minutes=10))
    _count(counting, baseline, baseline.bin_a, baseline.tea, 5)
    assert _line(counting, baseline.bin_a, baseline.tea).counted_qty == 15


def test_a_product_found_where_none_was_expected_gets_a_line_expecting_zero(baseline, counting):
    _count(counting, baseline, baseline.bin_b, baseline.tea, 3)
    line = _line(counting, baseline.bin_b, baseline.tea)
    assert line.expected_qty == 0 and line.counted_qty == 3


def test_a_clerk_not_assigned_to_the_session_cannot_count(baseline, counting, make_user):
    from apps.accounts.roles import Role

    stranger = make_user(Role.WAREHOUSE_CLERK)
    with pytest.raises(DomainError) as refused:
        _count(counting, baseline, baseline.bin_a, baseline.tea, 1, clerk=stranger)
    assert refused.value.code == InventoryError.NOT_ASSIGNED


def test_a_variance_within_the_threshold_goes_straight_to_review(baseline, counting):
    _count(counting, baseline, baseline.bin_a, baseline.tea, 96)  # -4 %: within 5 %
    _count(counting, baseline, baseline.bin_b, baseline.cups, 40)
    session = services.close_counting(session=counting, by=baseline.manager)
    assert session.state == SessionState.REVIEW
    assert not CountLine.objects.filter(session=session, needs_recount=True).exists()


def test_lines_beyond_the_threshold_need_a_recount_by_a_different_clerk(baseline, counting):
    _count(counting, baseline, baseline.bin_a, baseline.tea, 90)  # -10 %: beyond 5 %
    _count(counting, baseline, baseline.bin_b, baseline.cups, 40)
    session = services.close_counting(session=counting, by=baseline.manager)
    assert session.state == SessionState.RECOUNT
    tea = _line(session, baseline.bin_a, baseline.tea)
    assert tea.needs_recount and not _line(session, baseline.bin_b, baseline.cups).needs_recount

    with pytest.raises(DomainError) as refused:
        _count(session, baseline, baseline.bin_a, baseline.tea, 90, clerk=baseline.clerk)
    assert refused.value.code == InventoryError.RECOUNT_BY_OTHER
    with pytest.raises(DomainError) as refused:
        _count(session, baseline, baseline.bin_b, baseline.cups, 40, clerk=baseline.other_clerk)
    assert refused.value.code == InventoryError.NO_RECOUNT_NEEDED
    with pytest.raises(DomainError) as refused:
        services.close_counting(session=session, by=baseline.manager)
    assert refused.value.code == InventoryError.RECOUNTS_PENDING
    assert refused.value.params == {"n": 1}
    with pytest.raises(DomainError) as refused:
        services.approve_session(session=session, by=baseline.manager)
    assert refused.value.code == InventoryError.APPROVE_NOT_IN_REVIEW

    _count(session, baseline, baseline.bin_a, baseline.tea, 99, clerk=baseline.other_clerk)
    session = services.close_counting(session=session, by=baseline.manager)
    assert session.state == SessionState.REVIEW
    services.approve_session(session=session, by=baseline.manager)
    assert selectors.available_counted_stock(product=baseline.tea) == 99


def test_lines_nobody_counted_count_as_zero_and_so_need_a_recount(baseline, counting):
    _count(counting, baseline, baseline.bin_a, baseline.tea, 100)
    session = services.close_counting(session=counting, by=baseline.manager)
    cups = _line(session, baseline.bin_b, baseline.cups)
    assert cups.counted_qty == 0 and cups.needs_recount
    assert session.state == SessionState.RECOUNT


def test_the_recount_threshold_comes_from_settings(baseline, settings):
    settings.INVENTORY_RECOUNT_THRESHOLD_PCT = 20
    session = services.create_session(
        name="lenient", warehouse=baseline.warehouse, by=baseline.manager, clerks=[baseline.clerk]
    )
    assert session.recount_threshold_pct == 20
    services.start_session(session=session, by=baseline.manager)
    _count(session, baseline, baseline.bin_a, baseline.tea, 85)  # -15 %
    _count(session, baseline, baseline.bin_b, baseline.cups, 40)
    assert services.close_counting(session=session, by=baseline.manager).state == "review"


def test_approval_sets_the_stock_manual_orders_see_and_keeps_the_history(baseline, counting):
    assert selectors.available_counted_stock(product=baseline.tea) == 100
    _count(counting, baseline, baseline.bin_a, baseline.tea, 98)
    _count(counting, baseline, baseline.bin_b, baseline.cups, 39)
    _count(counting, baseline, baseline.bin_b, baseline.tea, 2)  # found in another bin
    session = services.close_counting(session=counting, by=baseline.manager)
    assert session.state == SessionState.RECOUNT  # tea in B-01: 2 where 0 was expected
    _count(session, baseline, baseline.bin_b, baseline.tea, 2, clerk=baseline.other_clerk)
    session = services.close_counting(session=session, by=baseline.manager)
    # Counting does not touch the stock manual orders sell from; approval does.
    assert selectors.available_counted_stock(product=baseline.tea) == 100
    services.approve_session(session=session, by=baseline.manager, note="Tea moved to B-01.")

    assert selectors.available_counted_stock(product=baseline.tea) == 100  # 98 + 2
    assert selectors.available_counted_stock(product=baseline.cups) == 39
    assert selectors.available_counted_stock(
        product=baseline.tea, warehouse=baseline.warehouse
    ) == Decimal("100")
    assert selectors.approved_stock_map([baseline.tea.pk, baseline.cups.pk]) == {
        baseline.tea.pk: Decimal("100"),
        baseline.cups.pk: Decimal("39"),
    }
    history = list(
        ApprovedStock.objects.filter(location=baseline.bin_a, product=baseline.tea)
        .order_by("approved_at", "pk")
        .values_list("quantity", "is_current")
    )
    assert history == [(Decimal("100"), False), (Decimal("98"), True)]


def test_a_cancelled_session_changes_no_stock(baseline, counting):
    _count(counting, baseline, baseline.bin_a, baseline.tea, 1)
    services.cancel_session(session=counting, by=baseline.manager)
    assert selectors.available_counted_stock(product=baseline.tea) == 100
    with pytest.raises(DomainError) as refused:
        services.approve_session(session=counting, by=baseline.manager)
    assert refused.value.code == InventoryError.APPROVE_NOT_IN_REVIEW


def test_starting_and_approving_are_posted_to_the_open_incidents_timeline(floor, make_user):
    from apps.accounts.roles import Role
    from apps.incidents import services as incidents
    from apps.incidents.choices import Severity

    lead = make_user(Role.EMERGENCY_LEAD)
    incident = incidents.declare_incident(
        title="Upgrade failed",
        severity=Severity.CRITICAL,
        detected_at=timezone.now() - timedelta(minutes=5),
        by=lead,
    )
    approve_counts(
        warehouse=floor.warehouse,
        counts={(floor.bin_a, floor.tea): 7},
        by=floor.manager,
        clerk=floor.clerk,
    )
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert "inventory.session_started" in kinds and "inventory.session_approved" in kinds
    # A first count has nothing to compare with: its approval note is part of the entry.
    approved = incident.timeline.get(kind="inventory.session_approved")
    with translation.override("en"):
        assert "beyond the threshold approved with the note" in approved.message
    with translation.override("zh-hans"):
        assert "批准说明" in approved.message
