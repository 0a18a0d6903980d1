"""The public status page: no login, both languages, cached (no query per visitor), feeds."""

import json
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from apps.core.errors import DomainError
from apps.customer_care.outreach_errors import OutreachError
from apps.customer_care.services import outreach

from .factories import published_status_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(care_lead):
    published_status_page(care_lead)


def test_anonymous_visitors_see_the_page_in_their_browsers_language(client, published):
    zh = client.get("/status/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert zh.status_code == 200
    text = zh.content.decode()
    assert "订单系统正在恢复" in text and "不可用" in text or "订单系统正在恢复" in text
    assert "400-800-1234" in text and "微博 @商城客服" in text
    en = client.get("/status/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.8")
    body = en.content.decode()
    assert "The order system is being restored" in body
    assert "Not available" in body and "Weibo @shop-care" in body
    assert en["Content-Language"] == "en"


def test_visitors_can_switch_the_language(client, published):
    body = client.get("/status/?lang=en", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "please order by phone" in body
    body = client.get("/status/?lang=zh-hans", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "请拨打热线下单" in body


def test_after_the_first_visitor_the_page_costs_no_database_query(
    client, published, django_assert_num_queries
):
    client.get("/status/", HTTP_ACCEPT_LANGUAGE="en")
    client.get("/status/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    with django_assert_num_queries(0):
        for _ in range(5):
            assert client.get("/status/", HTTP_ACCEPT_LANGUAGE="en").status_code == 200
            assert client.get("/status/", HTTP_ACCEPT_LANGUAGE="zh-CN").status_code == 200
    client.get("/status/feed.json?lang=en")
    client.get("/status/rss/?lang=en")
    with django_assert_num_queries(0):
        client.get("/status/feed.json?lang=en")
        client.get("/status/rss/?lang=en")


def test_a_leads_change_reaches_visitors_at_once(
    client, care_lead, published, django_capture_on_commit_callbacks
):
    assert "please order by phone" in client.get("/status/?lang=en").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        outreach.publish_update(text_zh="已恢复。", text_en="Ordering works again.", by=care_lead)
    assert "Ordering works again." in client.get("/status/?lang=en").content.decode()


def test_the_page_shows_nothing_internal_of_the_incident(client, care_lead):
    from tests.incidents.factories import IncidentFactory

    IncidentFactory(title="DB migration 42 broke the orders table", description="secret detail")
    page = outreach.current_status_page()
    outreach.update_status_page(
        ordering="down",
        payment="normal",
        delivery="normal",
        phone="",
        mailbox="",
        channels_zh="",
        channels_en="",
        version=page.version,
        by=care_lead,
    )
    body = client.get("/status/?lang=en").content.decode()
    assert "migration 42" not in body and "secret detail" not in body
    assert "Affected since" in body


def test_the_json_feed_gives_states_and_notices_in_the_asked_language(client, published):
    data = json.loads(client.get("/status/feed.json?lang=en").content)
    assert {s["service"]: s["state"] for s in data["services"]} == {
        "ordering": "down",
        "payment": "normal",
        "delivery": "degraded",
    }
    assert data["updates"][0]["text"].startswith("The order system")
    zh = json.loads(client.get("/status/feed.json?lang=zh-hans").content)
    assert zh["updates"][0]["text"].startswith("订单系统")


def test_the_rss_feed_lists_the_public_notices(client, published):
    response = client.get("/status/rss/?lang=en")
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    items = root.findall("./channel/item")
    assert len(items) == 1
    assert items[0].find("description").text.startswith("The order system")
    assert root.find("./channel/language").text == "en"


def test_a_public_notice_needs_both_languages(care_lead):
    with pytest.raises(DomainError) as exc:
        outreach.publish_update(text_zh="已恢复", text_en=" ", by=care_lead)
    assert exc.value.code == OutreachError.EMPTY_LANGUAGE


def test_a_stale_status_edit_is_refused(care_lead):
    page = outreach.current_status_page()
    args = dict(
        ordering="down",
        payment="normal",
        delivery="normal",
        phone="",
        mailbox="",
        channels_zh="",
        channels_en="",
        by=care_lead,
    )
    outreach.update_status_page(version=page.version, **args)
    with pytest.raises(DomainError) as exc:
        outreach.update_status_page(version=page.version, **args)
    assert exc.value.code == OutreachError.STALE


def test_a_lead_edits_the_page_from_the_staff_side(client, care_lead):
    client.force_login(care_lead)
    url = reverse("customer_care:status-edit")
    assert client.get(url).status_code == 200
    page = outreach.current_status_page()
    response = client.post(
        url,
        {
            "version": page.version,
            "ordering": "degraded",
            "payment": "normal",
            "delivery": "normal",
            "phone": "400",
            "mailbox": "",
            "channels_zh": "",
            "channels_en": "",
        },
    )
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.ordering == "degraded"
