"""Business figures (plan 5.3(1)) from recorded data, and their charts in both languages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from apps.accounts.roles import Role
from apps.inventory_counts.models import CountLine, CountSession
from apps.manual_orders.models import OrderEvent
from apps.monitoring import presentation, selectors
from tests.inventory_counts.factories import LocationFactory, ProductFactory

from .factories import ManualOrderFactory

pytestmark = pytest.mark.django_db


def test_orders_per_hour_count_each_hour_of_the_last_day():
    now = timezone.localtime().replace(minute=30, second=0, microsecond=0)
    for minutes in (5, 10, 20):  # this hour: 3 orders
        ManualOrderFactory(created_at=now - timedelta(minutes=minutes))
    ManualOrderFactory(created_at=now - timedelta(hours=2))
    ManualOrderFactory(created_at=now - timedelta(hours=30))  # outside the day
    hours = selectors.orders_per_hour(now=now)
    assert len(hours) == 24
    assert hours[-1] == (now.replace(minute=0), 3)
    assert hours[-3][1] == 1
    assert sum(n for _h, n in hours) == 4


def test_the_backlog_counts_taken_allocated_dispatched_and_handed_back():
    for state in ("captured", "confirmed", "allocated", "dispatched", "delivered", "cancelled"):
        ManualOrderFactory(state=state)
    ManualOrderFactory(state="delivered", push_state="pushed")
    assert selectors.backlog() == {"taken": 2, "allocated": 1, "dispatched": 3, "handed_back": 1}


def test_entry_to_dispatch_averages_hours_per_day(make_user):
    user = make_user()
    now = timezone.now()
    for hours in (2, 4):
        order = ManualOrderFactory(created_at=now - timedelta(hours=hours), state="dispatched")
        OrderEvent.objects.create(
            order=order, from_state="allocated", to_state="dispatched", at=now, by=user
        )
    old = ManualOrderFactory(created_at=now - timedelta(days=10, hours=1))
    OrderEvent.objects.create(
        order=old, to_state="dispatched", at=now - timedelta(days=10), by=user
    )
    (row,) = selectors.entry_to_dispatch(now=now)
    assert row[1] == pytest.approx(3.0) and row[2] == 2


def test_count_progress_is_lines_counted_out_of_lines(make_user):
    location = LocationFactory()
    session = CountSession.objects.create(
        name="A 区盘点", warehouse=location.warehouse, state="counting", created_by=make_user()
    )
    for i in range(4):
        CountLine.objects.create(
            session=session,
            location=location,
            product=ProductFactory(),
            counted_qty=Decimal("1") if i < 3 else None,
        )
    assert selectors.count_progress() == [("A 区盘点", 3, 4)]


def test_open_care_cases_are_counted_by_time_left_and_resolved_ones_left_out():
    from apps.customer_care.models import Case
    from apps.customer_care.services.common import start_clock
    from tests.manual_orders.factories import CustomerFactory

    now = timezone.now()
    for due, state in [
        (now - timedelta(minutes=5), "open"),
        (now + timedelta(hours=1), "new"),
        (now + timedelta(hours=2), "waiting"),
        (now + timedelta(hours=10), "open"),
        (now + timedelta(days=3), "open"),
        (now - timedelta(hours=1), "resolved"),
    ]:
        case = Case(
            customer=CustomerFactory(), channel="phone", case_type="order_query", subject="s"
        )
        start_clock(case)
        case.save()
        Case.objects.filter(pk=case.pk).update(due_at=due, state=state)

    assert selectors.care_cases_by_time_left(now=now) == [
        ("overdue", 1),
        ("lt4h", 2),
        ("lt24h", 1),
        ("later", 1),
    ]


def test_charts_are_svg_with_the_figures_and_no_script():
    ManualOrderFactory(state="allocated")
    figures = selectors.business_figures()
    with translation.override("zh-hans"):
        rendered = presentation.figure_charts(figures)
    for name in ("orders_per_hour", "backlog", "entry_to_dispatch", "count_progress", "care"):
        svg = str(rendered[name])
        assert svg.startswith("<svg") and "<script" not in svg, name


def test_the_figures_page_and_dashboard_show_the_charts_in_both_languages(client, make_user):
    ManualOrderFactory(state="captured")
    for language, title in (("en", "Order backlog"), ("zh-hans", "订单积压")):
        client.force_login(make_user(Role.BUSINESS_SUPPORT, language=language))
        client.cookies["django_language"] = language
        page = client.get(reverse("monitoring:figures"))
        assert page.status_code == 200
        text = page.content.decode()
        assert text.count("<svg") == 5 and title in text, language
        assert title in client.get(reverse("core:dashboard")).content.decode()
