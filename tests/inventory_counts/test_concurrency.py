"""Two clerks on two database connections count the same bin at the same moment."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.inventory_counts import services
from apps.inventory_counts.models import CountEntry, CountLine

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_clerks_counting_one_location_at_once_both_keep_their_entries(baseline):
    session = services.create_session(
        name="Rush",
        warehouse=baseline.warehouse,
        by=baseline.manager,
        clerks=[baseline.clerk, baseline.other_clerk],
    )
    services.start_session(session=session, by=baseline.manager)
    # A product nobody expected in B-01: both clerks create its line at the same moment too.
    pairs = [(baseline.bin_a, baseline.tea), (baseline.bin_b, baseline.tea)]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def clerk_counts(clerk, location, product, qty):
        try:
            start.wait(timeout=10)
            services.record_entry(
                session=session,
                location=location,
                product=product,
                quantity=Decimal(qty),
                by=clerk,
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=clerk_counts, args=(clerk, loc, prod, qty))
        for (loc, prod) in pairs
        for clerk, qty in ((baseline.clerk, 30), (baseline.other_clerk, 12))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    for location, product in pairs:
        line = CountLine.objects.get(session=session, location=location, product=product)
        assert line.counted_qty == 42
        assert CountEntry.objects.filter(line=line).count() == 2
