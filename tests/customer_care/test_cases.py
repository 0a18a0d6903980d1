"""Cases from every channel: opening, the conversation, states, hand-over, concurrency."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.errors import DomainError
from apps.customer_care import services
from apps.customer_care.choices import CaseChannel, CaseState, CaseType, Direction, Priority
from apps.customer_care.errors import CareError
from apps.customer_care.models import Case, CaseMessage
from apps.manual_orders.models import Customer
from tests.conftest import wait_for

from .factories import CustomerFactory, new_key

pytestmark = pytest.mark.django_db


def phone_case(agent, **kwargs):
    fields = {
        "channel": CaseChannel.PHONE,
        "case_type": CaseType.ORDER_QUERY,
        "subject": "Where is my order?",
        "by": agent,
        "caller_phone": "13912340000",
        "caller_name": "李雷",
    }
    fields.update(kwargs)
    return services.open_case(**fields)


def test_a_phone_case_finds_the_caller_by_phone_number(agent):
    known = CustomerFactory(phone="13912340000", name="李雷")
    case = phone_case(agent, caller_phone="139 1234 0000")
    assert case.customer == known
    assert case.reference == f"CS-{case.pk:06d}"
    assert case.state == CaseState.NEW


def test_a_caller_with_the_same_phone_under_another_name_is_matched_not_duplicated(agent):
    first = phone_case(agent, caller_name="李雷")
    second = phone_case(agent, caller_name="Li Lei")
    assert first.customer == second.customer
    assert Customer.objects.filter(phone="13912340000").count() == 1
    assert second.customer.name == "李雷"


def test_a_phone_case_submitted_twice_opens_one_case(agent):
    key = new_key()
    first = phone_case(agent, idempotency_key=key)
    again = phone_case(agent, idempotency_key=key)
    assert first.pk == again.pk
    assert Case.objects.count() == 1


def test_a_phone_case_without_any_customer_is_refused_with_a_code(agent):
    with pytest.raises(DomainError) as exc:
        phone_case(agent, caller_phone="")
    assert exc.value.code == CareError.NO_CUSTOMER


def test_cases_are_opened_from_every_channel_with_their_vip_flag(agent):
    vip = CustomerFactory(vip=True)
    for channel in CaseChannel.values:
        case = services.open_case(
            channel=channel,
            case_type=CaseType.COMPLAINT,
            subject="x",
            customer=vip,
            by=agent,
        )
        assert case.vip and case.lane == 0
        assert case.events.filter(kind="care.opened").exists()


def test_a_reply_is_the_first_response_and_goes_to_the_customer_by_email(agent, mailoutbox):
    case = phone_case(agent)
    case.customer.email = "lilei@example.com"
    case.customer.save()
    reply = services.add_message(
        case=case, direction=Direction.OUTBOUND, body="It ships today.", by=agent
    )
    case.refresh_from_db()
    assert case.first_responded_at is not None
    assert case.state == CaseState.OPEN
    assert case.due_at == case.resolution_due
    assert reply.notification.address == "lilei@example.com"
    assert case.reference in reply.notification.subject


def test_an_internal_note_is_not_sent_and_is_not_a_response(agent):
    case = phone_case(agent)
    services.add_message(case=case, direction=Direction.NOTE, body="Called back", by=agent)
    case.refresh_from_db()
    assert case.first_responded_at is None
    assert case.messages.get().notification is None


def test_an_empty_message_is_refused(agent):
    case = phone_case(agent)
    with pytest.raises(DomainError) as exc:
        services.add_message(case=case, direction=Direction.NOTE, body="  ", by=agent)
    assert exc.value.code == CareError.EMPTY_MESSAGE


def test_states_move_as_declared_and_a_wrong_move_is_refused(agent):
    case = phone_case(agent)
    case = services.change_state(case=case, to=CaseState.OPEN, version=case.version, by=agent)
    case = services.change_state(case=case, to=CaseState.RESOLVED, version=case.version, by=agent)
    assert case.resolved_at is not None
    with pytest.raises(DomainError) as exc:
        services.change_state(case=case, to=CaseState.WAITING, version=case.version, by=agent)
    assert exc.value.code == CareError.BAD_TRANSITION


def test_a_resolved_case_reopened_counts_as_reopened_and_keeps_its_clock(agent):
    case = phone_case(agent)
    due = case.resolution_due
    case = services.change_state(case=case, to=CaseState.RESOLVED, version=case.version, by=agent)
    case = services.change_state(case=case, to=CaseState.OPEN, version=case.version, by=agent)
    assert case.reopened_count == 1 and case.resolved_at is None
    assert case.resolution_due == due


def test_a_state_change_from_a_stale_page_is_refused(agent, second_agent):
    case = phone_case(agent)
    seen = case.version
    services.change_state(case=case, to=CaseState.WAITING, version=seen, by=second_agent)
    with pytest.raises(DomainError) as exc:
        services.change_state(case=case, to=CaseState.RESOLVED, version=seen, by=agent)
    assert exc.value.code == CareError.STALE
    case.refresh_from_db()
    assert case.state == CaseState.WAITING


def test_a_case_handed_to_another_agent_keeps_its_clock(agent, second_agent):
    case = phone_case(agent, owner=agent)
    before = (case.first_response_due, case.resolution_due, case.due_at)
    case = services.assign_case(case=case, owner=second_agent, by=agent)
    assert case.owner == second_agent
    assert (case.first_response_due, case.resolution_due, case.due_at) == before
    assert case.events.filter(kind="care.assigned").count() == 1


def test_a_case_cannot_be_handed_to_someone_who_does_not_work_cases(agent, make_user):
    from apps.accounts.roles import Role

    case = phone_case(agent)
    with pytest.raises(DomainError) as exc:
        services.assign_case(case=case, owner=make_user(Role.WAREHOUSE_CLERK), by=agent)
    assert exc.value.code == CareError.NOT_A_LEAD_ROLE


def test_a_lead_reassigns_open_cases_in_bulk(agent, second_agent, care_lead):
    cases = [phone_case(agent, owner=agent, caller_phone=f"1391111000{i}") for i in range(3)]
    done = services.change_state(
        case=cases[2], to=CaseState.RESOLVED, version=cases[2].version, by=agent
    )
    moved = services.reassign_cases(
        case_ids=[c.pk for c in cases], owner=second_agent, by=care_lead
    )
    assert moved == 2
    assert Case.objects.get(pk=done.pk).owner == agent


@pytest.mark.django_db(transaction=True)
def test_two_agents_answering_one_case_at_once_both_keep_their_message(make_user):
    from apps.accounts.roles import Role

    one, two = make_user(Role.CARE_AGENT), make_user(Role.CARE_AGENT)
    case = phone_case(one)
    errors = []
    barrier = threading.Barrier(2)

    def answer(user, text):
        try:
            barrier.wait(timeout=10)
            services.add_message(case=case, direction=Direction.NOTE, body=text, by=user)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=answer, args=(one, "first")),
        threading.Thread(target=answer, args=(two, "second")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    wait_for(lambda: CaseMessage.objects.filter(case=case).count() == 2, timeout=10)
    assert set(CaseMessage.objects.values_list("body", flat=True)) == {"first", "second"}
    case.refresh_from_db()
    assert case.version == 3


def test_a_vip_case_is_posted_to_the_open_incidents_timeline(agent):
    from tests.incidents.factories import IncidentFactory

    incident = IncidentFactory()
    services.open_case(
        channel=CaseChannel.SOCIAL,
        case_type=CaseType.COMPLAINT,
        subject="Very unhappy",
        customer=CustomerFactory(vip=True, name="贵宾"),
        by=agent,
        priority=Priority.HIGH,
    )
    entry = incident.timeline.filter(kind="care.vip_case").get()
    assert "贵宾" in str(entry.params)


def test_a_refund_is_recorded_once_with_amount_and_method(agent):
    case = phone_case(agent)
    key = new_key()
    refund = services.record_refund(
        case=case, amount="99.50", method="alipay", by=agent, idempotency_key=key
    )
    again = services.record_refund(
        case=case, amount="99.50", method="alipay", by=agent, idempotency_key=key
    )
    assert refund.pk == again.pk and str(refund.amount) == "99.50"
    assert case.events.filter(kind="care.refund").count() == 1
    with pytest.raises(DomainError) as exc:
        services.record_refund(
            case=case, amount="-1", method="alipay", by=agent, idempotency_key=new_key()
        )
    assert exc.value.code == CareError.BAD_AMOUNT


def test_opened_at_in_the_past_sets_the_clock_from_then(agent):
    opened = timezone.now() - timedelta(days=3)
    case = phone_case(agent, opened_at=opened)
    assert case.created_at == opened and case.first_response_due < timezone.now()
