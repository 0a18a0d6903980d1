"""Compensation: approval limits per role, once per case, the ledger, bulk grants, hand-over."""

import csv
import io
import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.core.errors import DomainError
from apps.customer_care.models import Compensation
from apps.customer_care.outreach_choices import CompensationKind
from apps.customer_care.outreach_errors import OutreachError
from apps.customer_care.services import outreach
from tests.conftest import wait_for

from .factories import CustomerFactory, new_key, open_case

pytestmark = pytest.mark.django_db


def coupon(amount: str) -> outreach.Grant:
    return outreach.Grant(
        kind=CompensationKind.COUPON_AMOUNT, amount=Decimal(amount), reason="late"
    )


def test_an_agent_grants_a_coupon_within_the_limit_with_an_unguessable_code(agent, customer):
    row = outreach.grant_compensation(
        customer=customer, grant=coupon("30"), idempotency_key=new_key(), by=agent
    )
    assert row.code and len(row.code.replace("-", "")) == 12
    assert row.cost == Decimal("30") and row.approved_by == agent
    assert row.approval_limit == Decimal("50.00")
    other = outreach.grant_compensation(
        customer=customer, grant=coupon("30"), idempotency_key=new_key(), by=agent
    )
    assert other.code != row.code


def test_an_agent_is_refused_a_grant_above_the_limit_with_the_limit_named(agent, customer):
    with pytest.raises(DomainError) as exc:
        outreach.grant_compensation(
            customer=customer, grant=coupon("80"), idempotency_key=new_key(), by=agent
        )
    assert exc.value.code == OutreachError.ABOVE_LIMIT
    assert exc.value.params["limit"] == "¥50.00"
    assert not Compensation.objects.exists()


def test_points_count_against_the_limit_at_their_value(agent, customer, manager):
    outreach.set_compensation_limit(
        agent_limit=Decimal("20"), point_value=Decimal("0.01"), by=manager
    )
    ok = outreach.Grant(kind=CompensationKind.POINTS, points=2000)
    assert outreach.grant_compensation(
        customer=customer, grant=ok, idempotency_key=new_key(), by=agent
    ).cost == Decimal("20.00")
    with pytest.raises(DomainError) as exc:
        outreach.grant_compensation(
            customer=customer,
            grant=outreach.Grant(kind=CompensationKind.POINTS, points=2001),
            idempotency_key=new_key(),
            by=agent,
        )
    assert exc.value.code == OutreachError.ABOVE_LIMIT


def test_a_percentage_coupon_needs_a_cap_which_is_what_the_limit_checks(agent, customer):
    with pytest.raises(DomainError) as exc:
        outreach.grant_compensation(
            customer=customer,
            grant=outreach.Grant(kind=CompensationKind.COUPON_PERCENT, percent=20),
            idempotency_key=new_key(),
            by=agent,
        )
    assert exc.value.code == OutreachError.PERCENT_NEEDS_CAP
    row = outreach.grant_compensation(
        customer=customer,
        grant=outreach.Grant(kind=CompensationKind.COUPON_PERCENT, percent=20, cap=Decimal("40")),
        idempotency_key=new_key(),
        by=agent,
    )
    assert row.cost == Decimal("40")


def test_a_care_lead_approves_above_the_agents_limit_and_the_approval_is_recorded(
    care_lead, customer
):
    row = outreach.grant_compensation(
        customer=customer, grant=coupon("500"), idempotency_key=new_key(), by=care_lead
    )
    assert row.approved_by == care_lead and row.approval_limit is None
    assert row.history.count() == 1


def test_a_manager_sets_the_agents_limit(agent, customer, manager):
    outreach.set_compensation_limit(agent_limit=Decimal("100"), by=manager)
    assert outreach.grant_compensation(
        customer=customer, grant=coupon("80"), idempotency_key=new_key(), by=agent
    ).approval_limit == Decimal("100")


def test_one_case_is_not_compensated_twice(agent, care_lead):
    case = open_case(agent)
    outreach.grant_compensation(
        customer=case.customer, case=case, grant=coupon("20"), idempotency_key=new_key(), by=agent
    )
    assert case.events.filter(kind="care.compensated").count() == 1
    for who in (agent, care_lead):
        with pytest.raises(DomainError) as exc:
            outreach.grant_compensation(
                customer=case.customer,
                case=case,
                grant=coupon("20"),
                idempotency_key=new_key(),
                by=who,
                override_reason="customer still unhappy",
            )
        assert exc.value.code == OutreachError.ALREADY_COMPENSATED


def test_a_manager_compensates_a_case_again_only_with_a_reason(agent, manager):
    case = open_case(agent)
    outreach.grant_compensation(
        customer=case.customer, case=case, grant=coupon("20"), idempotency_key=new_key(), by=agent
    )
    with pytest.raises(DomainError) as exc:
        outreach.grant_compensation(
            customer=case.customer,
            case=case,
            grant=coupon("20"),
            idempotency_key=new_key(),
            by=manager,
        )
    assert exc.value.code == OutreachError.ALREADY_COMPENSATED
    again = outreach.grant_compensation(
        customer=case.customer,
        case=case,
        grant=coupon("20"),
        idempotency_key=new_key(),
        by=manager,
        override_reason="second delay",
    )
    assert again.override_reason == "second delay"
    assert Compensation.objects.filter(case=case).count() == 2


def test_the_same_grant_form_sent_twice_grants_once(agent, customer):
    key = new_key()
    first = outreach.grant_compensation(
        customer=customer, grant=coupon("10"), idempotency_key=key, by=agent
    )
    again = outreach.grant_compensation(
        customer=customer, grant=coupon("10"), idempotency_key=key, by=agent
    )
    assert first.pk == again.pk and Compensation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_agents_compensating_one_case_at_once_grant_once(agent, second_agent):
    case = open_case(agent)
    outcomes = []
    barrier = threading.Barrier(2)

    def grant(who):
        try:
            barrier.wait(timeout=10)
            outreach.grant_compensation(
                customer=case.customer,
                case=case,
                grant=coupon("20"),
                idempotency_key=new_key(),
                by=who,
            )
            outcomes.append("granted")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=grant, args=(who,)) for who in (agent, second_agent)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == sorted(["granted", OutreachError.ALREADY_COMPENSATED])
    assert Compensation.objects.filter(case=case).count() == 1


def test_the_ledger_adds_up_a_customers_grants(agent, care_lead, customer):
    outreach.grant_compensation(
        customer=customer, grant=coupon("10"), idempotency_key=new_key(), by=agent
    )
    outreach.grant_compensation(
        customer=customer,
        grant=outreach.Grant(kind=CompensationKind.POINTS, points=500),
        idempotency_key=new_key(),
        by=care_lead,
    )
    ledger = outreach.ledger(customer)
    assert len(ledger["rows"]) == 2 and ledger["points"] == 500
    assert ledger["cost"] == Decimal("15.00")


def test_a_bulk_grant_runs_as_a_job_and_grants_each_customer_once(care_lead):
    customers = CustomerFactory.create_batch(7)
    job = outreach.start_bulk_grant(
        customer_ids=[c.pk for c in customers], grant=coupon("15"), by=care_lead
    )
    job.refresh_from_db()
    assert job.state == "succeeded" and job.percent == 100
    assert job.result == {"granted": 7, "customers": 7}
    assert Compensation.objects.filter(customer__in=customers).count() == 7


def test_a_bulk_grant_above_the_agents_limit_is_refused_before_it_starts(agent):
    with pytest.raises(DomainError) as exc:
        outreach.start_bulk_grant(customer_ids=[CustomerFactory().pk], grant=coupon("99"), by=agent)
    assert exc.value.code == OutreachError.ABOVE_LIMIT


def _csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_hand_over_export_holds_each_grant_once(agent, care_lead, customer):
    first = outreach.grant_compensation(
        customer=customer, grant=coupon("10"), idempotency_key=new_key(), by=agent
    )
    content, _type, count = outreach.hand_over_compensation(file_format="csv", by=care_lead)
    rows = _csv_rows(content)
    assert count == 1 and [r["code"] for r in rows] == [first.code]
    assert rows[0]["customer_phone"] == customer.phone
    first.refresh_from_db()
    assert first.handed_over_at is not None and first.handover is not None
    with pytest.raises(DomainError) as exc:
        outreach.hand_over_compensation(file_format="csv", by=care_lead)
    assert exc.value.code == OutreachError.NOTHING_TO_HAND_OVER
    second = outreach.grant_compensation(
        customer=customer, grant=coupon("12"), idempotency_key=new_key(), by=agent
    )
    content, _type, count = outreach.hand_over_compensation(file_format="csv", by=care_lead)
    assert count == 1 and [r["code"] for r in _csv_rows(content)] == [second.code]


def test_the_hand_over_neutralises_formulas_typed_into_names(agent, care_lead):
    customer = CustomerFactory(name="=HYPERLINK(1)")
    outreach.grant_compensation(
        customer=customer, grant=coupon("10"), idempotency_key=new_key(), by=agent
    )
    content, _type, _count = outreach.hand_over_compensation(file_format="csv", by=care_lead)
    assert _csv_rows(content)[0]["customer_name"] == "'=HYPERLINK(1)"


@pytest.mark.django_db(transaction=True)
def test_two_hand_overs_at_once_never_export_one_grant_twice(agent, care_lead):
    customers = CustomerFactory.create_batch(30)
    for c in customers:
        outreach.grant_compensation(
            customer=c, grant=coupon("5"), idempotency_key=new_key(), by=agent
        )
    codes: list[str] = []
    barrier = threading.Barrier(2)

    def export():
        try:
            barrier.wait(timeout=10)
            content, _t, _n = outreach.hand_over_compensation(file_format="csv", by=care_lead)
            codes.extend(r["code"] for r in _csv_rows(content))
        except DomainError:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=export) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    wait_for(lambda: not any(t.is_alive() for t in threads), timeout=5)
    assert sorted(codes) == sorted(Compensation.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 30
