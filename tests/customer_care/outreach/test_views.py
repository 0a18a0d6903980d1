"""Outreach pages: thin views over the services, and who may use them."""

import uuid

import pytest
from django.urls import reverse

from apps.accounts.roles import Role
from apps.customer_care.models import Compensation, Notice

from .factories import CustomerFactory, notice_for

pytestmark = pytest.mark.django_db


def grant_form(customer, **extra):
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "customer": customer.phone,
        "kind": "coupon_amount",
        "amount": "20",
        "reason": "late delivery",
    }
    data.update(extra)
    return data


def test_an_agent_grants_a_coupon_on_the_page_and_lands_on_the_ledger(client, agent):
    customer = CustomerFactory()
    client.force_login(agent)
    page = client.get(reverse("customer_care:compensation-grant"))
    assert "50.00" in page.content.decode()
    response = client.post(reverse("customer_care:compensation-grant"), grant_form(customer))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "customer_care:customer-ledger", kwargs={"pk": customer.pk}
    )
    row = Compensation.objects.get()
    assert row.code in client.get(response["Location"]).content.decode()


def test_a_grant_above_the_limit_is_shown_next_to_the_field_and_keeps_the_input(client, agent):
    customer = CustomerFactory()
    client.force_login(agent)
    response = client.post(
        reverse("customer_care:compensation-grant"), grant_form(customer, amount="75")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "¥50.00" in body and 'value="75"' in body
    assert not Compensation.objects.exists()


def test_an_unknown_phone_is_refused_in_the_form(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("customer_care:compensation-grant"),
        grant_form(CustomerFactory.build(phone="10000000000")),
    )
    assert response.status_code == 200 and "10000000000" in response.content.decode()


def test_a_lead_writes_previews_and_sends_a_notice_from_the_pages(client, care_lead, settings):
    amy = CustomerFactory(name="Amy", language="en")
    client.force_login(care_lead)
    response = client.post(
        reverse("customer_care:notice-new"),
        {
            "title": "Delay",
            "audience": "all",
            "body_zh": "{name}，订单会延迟。",
            "body_en": "Dear {name}, orders are late.",
            "by_sms": "on",
            "rate_per_second": "1000",
        },
    )
    notice = Notice.objects.get()
    assert response["Location"] == reverse("customer_care:notice-detail", kwargs={"pk": notice.pk})
    preview = client.post(response["Location"], {"customer": amy.phone})
    assert "Dear Amy, orders are late." in preview.content.decode()
    sent = client.post(reverse("customer_care:notice-send", kwargs={"pk": notice.pk}))
    assert sent.status_code == 302
    notice.refresh_from_db()
    assert notice.state == "done"
    detail = client.get(
        reverse("customer_care:notice-detail", kwargs={"pk": notice.pk})
    ).content.decode()
    assert 'data-testid="job-state"' in detail


def test_sending_a_notice_with_an_empty_english_text_shows_why(client, care_lead):
    notice = notice_for(care_lead, body_en="")
    client.force_login(care_lead)
    response = client.post(
        reverse("customer_care:notice-send", kwargs={"pk": notice.pk}), follow=True
    )
    assert "English" in response.content.decode()
    notice.refresh_from_db()
    assert notice.state == "draft"


def test_the_hand_over_page_downloads_the_file_once(client, care_lead, agent):
    from apps.customer_care.services import outreach

    from .test_compensation import coupon

    outreach.grant_compensation(
        customer=CustomerFactory(), grant=coupon("10"), idempotency_key=uuid.uuid4(), by=agent
    )
    client.force_login(care_lead)
    url = reverse("customer_care:compensation-hand-over")
    first = client.post(url, {"format": "xlsx"})
    assert first["Content-Disposition"].startswith("attachment;")
    again = client.post(url, {"format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 200 and "Content-Disposition" not in again
    assert "already been handed over" in again.content.decode()


@pytest.mark.parametrize(
    ("role", "page", "allowed"),
    [
        (Role.CARE_AGENT, "customer_care:compensation-grant", True),
        (Role.CARE_AGENT, "customer_care:notice-list", False),
        (Role.CARE_AGENT, "customer_care:compensation-hand-over", False),
        (Role.CARE_AGENT, "customer_care:compensation-limit", False),
        (Role.CARE_LEAD, "customer_care:notice-list", True),
        (Role.CARE_LEAD, "customer_care:status-edit", True),
        (Role.CARE_LEAD, "customer_care:compensation-limit", False),
        (Role.MANAGER, "customer_care:compensation-limit", True),
        (Role.WAREHOUSE_CLERK, "customer_care:compensation-grant", False),
    ],
)
def test_outreach_pages_follow_the_role_matrix(client, make_user, role, page, allowed):
    client.force_login(make_user(role))
    assert client.get(reverse(page)).status_code == (200 if allowed else 403)


def test_the_public_pages_need_no_login(client):
    assert client.get("/status/").status_code == 200
    assert client.get(reverse("care_public:survey", kwargs={"token": "x"})).status_code == 400
