"""The figures evaluation reports read: first response, resolution, first-contact resolution,
CSAT and compensation cost, per agent, channel and incident; the care plan's contacts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import DomainError
from apps.customer_care import outreach_selectors as selectors
from apps.customer_care.models import Case, PlannedContact, Survey
from apps.customer_care.outreach_errors import OutreachError
from apps.customer_care.services import outreach

from .factories import CustomerFactory, new_key, resolved_case

pytestmark = pytest.mark.django_db


def test_figures_per_agent_add_up_csat_fcr_and_compensation(
    agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        happy = resolved_case(agent, owner=agent)
        unhappy = resolved_case(agent, owner=agent)
    for case, score in ((happy, 5), (unhappy, 2)):
        survey = Survey.objects.get(case=case)
        outreach.answer_survey(
            token=outreach.tokens.make_token("survey", survey.pk, nonce=survey.nonce), score=score
        )
    outreach.grant_compensation(
        customer=unhappy.customer,
        case=unhappy,
        grant=outreach.Grant(kind="coupon_amount", amount=Decimal("30")),
        idempotency_key=new_key(),
        by=agent,
    )
    Case.objects.filter(pk=happy.pk).update(
        created_at=timezone.now() - timedelta(hours=2), resolved_at=timezone.now()
    )
    (row,) = [f for f in selectors.figures_by_agent() if f.cases]
    assert row.cases == 2 and row.surveys == 2
    assert row.csat == 0.5
    assert row.first_contact_resolution == 1.0
    assert row.compensation_cost == Decimal("30")
    assert row.resolution is not None and row.resolution >= timedelta(hours=1)
    assert [f.cases for f in selectors.figures_by_channel()] == [2]


def test_the_care_plan_schedules_vip_contacts_and_records_each(care_lead):
    vip, regular = CustomerFactory(vip=True), CustomerFactory()
    due = timezone.now() + timedelta(days=1)
    planned = outreach.plan_vip_contacts(
        customers=[vip, regular], due_at=due, purpose="Check all is well", by=care_lead
    )
    assert [c.customer for c in planned] == [vip]
    contact = outreach.record_contact(contact=planned[0], outcome="Happy again", by=care_lead)
    assert contact.contacted_by == care_lead and contact.contacted_at is not None
    with pytest.raises(DomainError) as exc:
        outreach.plan_vip_contacts(customers=[regular], due_at=due, purpose="x", by=care_lead)
    assert exc.value.code == OutreachError.NO_CUSTOMERS


def test_leads_are_reminded_of_a_due_contact_once(care_lead):
    from apps.core.models import Notification

    PlannedContact.objects.create(
        customer=CustomerFactory(vip=True),
        due_at=timezone.now() - timedelta(minutes=1),
        purpose="call back",
        planned_by=care_lead,
    )
    assert selectors.remind_due_contacts() == 1
    assert selectors.remind_due_contacts() == 0
    assert Notification.objects.filter(recipient=care_lead).count() == 1
