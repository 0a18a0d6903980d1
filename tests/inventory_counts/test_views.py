import csv
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from apps.accounts.roles import Role
from apps.inventory_counts import services
from apps.inventory_counts.models import CountLine, CountSession

pytestmark = pytest.mark.django_db


def _with_odd_expectation(floor, session) -> CountSession:
    """Make the expected quantity an unmistakable number, 4817, before counting starts."""
    from apps.inventory_counts.models import ApprovedStock

    ApprovedStock.objects.filter(product=floor.tea, is_current=True).update(quantity=4817)
    return session


@pytest.fixture
def blind_session(baseline):
    session = services.create_session(
        name="Blind", warehouse=baseline.warehouse, by=baseline.manager, clerks=[baseline.clerk]
    )
    _with_odd_expectation(baseline, session)
    return services.start_session(session=session, by=baseline.manager)


def _post_entry(client, session, location, product, qty, **extra):
    return client.post(
        reverse("inventory_counts:count-record", args=[session.pk]),
        {"location": location.pk, "product": product.pk, "quantity": qty, **extra},
    )


def test_a_blind_count_never_shows_the_expected_quantity_to_the_clerk(
    client, baseline, blind_session
):
    assert CountLine.objects.get(session=blind_session, product=baseline.tea).expected_qty == 4817
    client.force_login(baseline.clerk)
    pages = [
        client.get(reverse("inventory_counts:count-entry", args=[blind_session.pk])),
        client.get(reverse("inventory_counts:session-detail", args=[blind_session.pk])),
        client.get(
            reverse("inventory_counts:count-scan", args=[blind_session.pk]), {"code": "TEA-1"}
        ),
        _post_entry(client, blind_session, baseline.bin_a, baseline.tea, "12"),
        client.get(reverse("inventory_counts:sheet-export", args=[blind_session.pk])),
    ]
    for response in pages:
        assert response.status_code in (200, 201), response.content[:300]
        assert b"4817" not in response.content
    # The report that shows it is for reviewers only.
    report = reverse("inventory_counts:variance-report", args=[blind_session.pk])
    assert client.get(report).status_code == 403
    client.force_login(baseline.manager)
    assert b"4817" in client.get(report).content


def test_an_open_count_shows_the_expected_quantity_with_each_entry(client, baseline):
    session = services.create_session(
        name="Open", warehouse=baseline.warehouse, by=baseline.manager, blind=False
    )
    _with_odd_expectation(baseline, session)
    services.start_session(session=session, by=baseline.manager)
    client.force_login(baseline.clerk)
    response = _post_entry(client, session, baseline.bin_a, baseline.tea, "12")
    assert response.json()["expected"] == "4817"


def test_scanning_answers_what_the_code_is_and_flags_unknown_codes(client, baseline, counting):
    client.force_login(baseline.clerk)
    url = reverse("inventory_counts:count-scan", args=[counting.pk])
    assert client.get(url, {"code": "A-01"}).json()["kind"] == "location"
    assert client.get(url, {"code": baseline.bin_b.barcode}).json()["code"] == "B-01"
    assert client.get(url, {"code": "6900000000017"}).json()["code"] == "TEA-1"
    with translation.override("en"):
        unknown = client.get(url, {"code": "NOPE-42"}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert unknown["kind"] == "unknown" and "NOPE-42" in unknown["message"]


def test_a_duplicate_scan_answers_409_until_confirmed(client, baseline, counting):
    client.force_login(baseline.clerk)
    assert _post_entry(client, counting, baseline.bin_a, baseline.tea, "5").status_code == 201
    again = _post_entry(client, counting, baseline.bin_a, baseline.tea, "5")
    assert again.status_code == 409 and again.json()["status"] == "duplicate"
    confirmed = _post_entry(client, counting, baseline.bin_a, baseline.tea, "5", confirm="on")
    assert confirmed.status_code == 201 and confirmed.json()["counted"] == "10"


def test_a_bad_quantity_is_answered_with_the_field_to_fix(client, baseline, counting):
    client.force_login(baseline.clerk)
    response = _post_entry(client, counting, baseline.bin_a, baseline.tea, "-3")
    assert response.status_code == 400 and response.json()["field"] == "quantity"


def test_a_manager_runs_the_session_from_its_page_and_a_clerk_cannot_approve(
    client, baseline, counting
):
    client.force_login(baseline.clerk)
    _post_entry(client, counting, baseline.bin_a, baseline.tea, "100")
    _post_entry(client, counting, baseline.bin_b, baseline.cups, "40")
    close = reverse("inventory_counts:session-close", args=[counting.pk])
    approve = reverse("inventory_counts:session-approve", args=[counting.pk])
    assert client.post(close).status_code == 403
    client.force_login(baseline.manager)
    client.post(close)
    client.force_login(baseline.clerk)
    assert client.post(approve).status_code == 403
    client.force_login(baseline.manager)
    response = client.post(approve)
    assert response.status_code == 302
    counting.refresh_from_db()
    assert counting.state == "approved"
    stock = client.get(reverse("inventory_counts:stock-list"), {"q": "TEA-1"})
    assert stock.context["available"] == Decimal("100")


def test_a_manager_creates_a_session_from_the_form(client, baseline):
    client.force_login(baseline.manager)
    response = client.post(
        reverse("inventory_counts:session-create"),
        {
            "name": "Night count",
            "warehouse": baseline.warehouse.pk,
            "locations": [baseline.bin_a.pk],
            "categories": ["drinks"],
            "clerks": [baseline.clerk.pk],
            "blind": "on",
            "recount_threshold": "5",
        },
    )
    session = CountSession.objects.get(name="Night count")
    assert response.status_code == 302
    assert session.blind and session.categories == ["drinks"]
    assert list(session.clerks.all()) == [baseline.clerk]


def test_the_variance_report_totals_every_line_and_exports_them(client, baseline, counting):
    client.force_login(baseline.clerk)
    _post_entry(client, counting, baseline.bin_a, baseline.tea, "97")  # -3 × 10.00
    _post_entry(client, counting, baseline.bin_b, baseline.cups, "41")  # +1 × 10.00
    client.force_login(baseline.manager)
    page = client.get(reverse("inventory_counts:variance-report", args=[counting.pk]))
    summary = page.context["summary"]
    assert summary["lines"] == 2 and summary["with_variance"] == 2
    assert summary["loss_value"] == Decimal("-30") and summary["gain_value"] == Decimal("10")
    assert [line.product.sku for line in page.context["lines"]] == ["TEA-1", "CUP-1"]
    export = client.get(
        reverse("inventory_counts:variance-export", args=[counting.pk]), {"format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert {r["sku"]: r["variance_qty"] for r in rows} == {"TEA-1": "-3.000", "CUP-1": "1.000"}


def test_the_count_page_is_refused_to_roles_that_do_not_count(
    client, baseline, counting, make_user
):
    client.force_login(make_user(Role.CARE_AGENT))
    assert (
        client.get(reverse("inventory_counts:count-entry", args=[counting.pk])).status_code == 403
    )
    client.force_login(make_user(Role.WAREHOUSE_CLERK))  # a clerk not assigned to it
    assert (
        client.get(reverse("inventory_counts:count-entry", args=[counting.pk])).status_code == 403
    )


def test_scan_responses_are_json(client, baseline, counting):
    client.force_login(baseline.clerk)
    response = client.get(reverse("inventory_counts:count-scan", args=[counting.pk]))
    assert json.loads(response.content)["kind"] == "unknown"
