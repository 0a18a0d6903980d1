"""The care desk's pages: thin views over the services, each behind its permission."""

import pytest
from django.urls import reverse

from apps.accounts.roles import Role
from apps.customer_care import services
from apps.customer_care.choices import CaseChannel, CaseState, CaseType
from apps.customer_care.models import Case, ResponseTarget

from .factories import CustomerFactory, new_key

pytestmark = pytest.mark.django_db


def a_case(agent, **kwargs):
    return services.open_case(
        channel=CaseChannel.PHONE,
        case_type=CaseType.ORDER_QUERY,
        subject=kwargs.pop("subject", "Where is it?"),
        by=agent,
        customer=kwargs.pop("customer", None) or CustomerFactory(),
        **kwargs,
    )


def test_an_agent_opens_a_phone_case_from_the_keyboard_form(client, agent):
    CustomerFactory(phone="13700001111", name="韩梅梅")
    client.force_login(agent)
    page = client.get(reverse("customer_care:case-new"))
    assert page.status_code == 200 and b"autofocus" in page.content
    response = client.post(
        reverse("customer_care:case-new"),
        {
            "idempotency_key": str(new_key()),
            "caller_phone": "13700001111",
            "channel": "phone",
            "case_type": "complaint",
            "priority": "high",
            "subject": "Broken kettle",
            "body": "It leaks.",
            "order_source": "manual",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customer_care:case-detail", args=[case.pk])
    assert case.customer.name == "韩梅梅" and case.owner == agent


def test_an_unknown_order_number_on_a_new_case_is_shown_next_to_its_field(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("customer_care:case-new"),
        {
            "idempotency_key": str(new_key()),
            "caller_phone": "13700001111",
            "channel": "phone",
            "case_type": "change",
            "priority": "normal",
            "subject": "Change",
            "order_number": "M-NOPE",
            "order_source": "manual",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "M-NOPE" in str(response.context["form"].errors["order_number"])
    assert Case.objects.count() == 0  # nothing half-saved
    assert response.context["form"].data["subject"] == "Change"  # what was typed is kept


def test_the_queue_shows_open_cases_with_their_clock(client, agent):
    case = a_case(agent, subject="Lost parcel")
    client.force_login(agent)
    response = client.get(reverse("customer_care:queue"))
    assert response.status_code == 200
    assert case.reference in response.content.decode()


def test_a_reply_posted_on_the_case_page_is_added_once(client, agent):
    case = a_case(agent)
    client.force_login(agent)
    data = {"idempotency_key": str(new_key()), "direction": "note", "body": "Called the carrier"}
    url = reverse("customer_care:case-message", args=[case.pk])
    client.post(url, data)
    client.post(url, data)  # a double click
    assert case.messages.count() == 1


def test_a_state_change_from_a_stale_page_says_so_and_changes_nothing(client, agent):
    case = a_case(agent)
    services.change_state(case=case, to=CaseState.WAITING, version=case.version, by=agent)
    client.force_login(agent)
    response = client.post(
        reverse("customer_care:case-state", args=[case.pk]),
        {"to": "resolved", "version": case.version},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "changed case" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.WAITING


def test_a_warehouse_clerk_cannot_see_cases(client, make_user, agent):
    case = a_case(agent)
    client.force_login(make_user(Role.WAREHOUSE_CLERK))
    assert client.get(reverse("customer_care:case-detail", args=[case.pk])).status_code == 403


def test_only_leads_see_the_team_view_and_reassign(client, agent, care_lead, second_agent):
    case = a_case(agent, owner=agent)
    client.force_login(agent)
    assert client.get(reverse("customer_care:team")).status_code == 403
    client.force_login(care_lead)
    page = client.get(reverse("customer_care:team"))
    assert page.status_code == 200 and case.reference in page.content.decode()
    client.post(reverse("customer_care:reassign"), {"cases": [case.pk], "owner": second_agent.pk})
    case.refresh_from_db()
    assert case.owner == second_agent


def test_managers_edit_response_targets_and_agents_may_not(client, agent, make_user):
    client.force_login(agent)
    assert client.get(reverse("customer_care:targets")).status_code == 403
    client.force_login(make_user(Role.MANAGER))
    response = client.post(
        reverse("customer_care:targets"),
        {
            "priority": "urgent",
            "channel": "",
            "first_response_minutes": 10,
            "resolution_minutes": 5,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200  # refused next to its field
    assert "cannot be shorter" in str(response.context["form"].errors["resolution_minutes"])
    client.post(
        reverse("customer_care:targets"),
        {
            "priority": "urgent",
            "channel": "",
            "first_response_minutes": 10,
            "resolution_minutes": 60,
        },
    )
    assert ResponseTarget.objects.get(priority="urgent").first_response_minutes == 10


def test_the_lookup_page_finds_a_manual_order_and_adds_it_to_the_case(client, agent, settings):
    from apps.manual_orders import services as order_services

    from .factories import priced_product

    settings.ORDER_SYSTEM_DATABASE_URL = "postgresql://nobody@127.0.0.1:1/none"
    customer = CustomerFactory(phone="13600002222")
    product = priced_product(by=agent)
    order = order_services.place_order(
        idempotency_key=new_key(),
        customer=customer,
        channel="phone",
        delivery_address="x",
        lines=[order_services.LineInput(product_id=product.pk, quantity=1)],
        by=agent,
    ).order
    case = a_case(agent, customer=customer)
    client.force_login(agent)
    page = client.get(reverse("customer_care:lookup"), {"query": "13600002222", "case": case.pk})
    content = page.content.decode()
    assert order.number in content and 'data-testid="order-system-down"' in content
    client.post(
        reverse("customer_care:case-link-order", args=[case.pk]),
        {"source": "manual", "number": order.number},
    )
    assert case.orders.get().manual_order == order
