"""The "orders in the incident window from the order system" audience: read live through the
gateway, else from the latest backup (saying so and how old), matched to manual orders'
customers by the order system's id, and idempotent when read twice."""

from datetime import UTC, datetime

import psycopg
import pytest

from apps.backups.models import BackupScope
from apps.core.errors import DomainError
from apps.customer_care.models import NoticeDelivery, OptOut
from apps.customer_care.outreach_choices import AudienceSource, DeliveryState
from apps.customer_care.outreach_errors import OutreachError
from apps.customer_care.services import outreach
from apps.manual_orders.models import Customer

from .factories import CustomerFactory, notice_for

pytestmark = pytest.mark.django_db

# The demo order system places order i at 2026-11-01 00:00:00 UTC + i seconds.
START = datetime(2026, 11, 1, 0, 1, 0, tzinfo=UTC)
END = datetime(2026, 11, 1, 0, 2, 0, tzinfo=UTC)


def expected_customers(url):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT DISTINCT c.id, c.phone FROM orders o JOIN customers c ON c.id = o.customer_id"
            " WHERE o.created_at BETWEEN %s AND %s ORDER BY c.id",
            (START, END),
        ).fetchall()


@pytest.fixture
def incident():
    from tests.incidents.factories import IncidentFactory

    return IncidentFactory(detected_at=START, recovered_at=END)


@pytest.fixture
def notice(care_lead, incident):
    return notice_for(care_lead, audience="order_system_orders", incident=incident)


def test_a_notice_cannot_be_sent_before_its_order_system_customers_are_read(notice, care_lead):
    with pytest.raises(DomainError) as exc:
        outreach.send_notice(notice=notice, by=care_lead)
    assert exc.value.code == OutreachError.AUDIENCE_NOT_READ


def test_the_window_customers_are_read_live_and_become_the_notice_audience(
    order_db, notice, care_lead, settings
):
    expected = expected_customers(order_db)
    assert 0 < len(expected) < 60  # the window holds some of the demo customers, not all
    job = outreach.start_audience_read(notice=notice, by=care_lead)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    notice.refresh_from_db()
    assert notice.audience_source == AudienceSource.LIVE
    assert notice.audience_as_of is not None
    audience = list(outreach.audience_customers(notice))
    assert sorted(c.external_id for c in audience) == [row[0] for row in expected]
    assert {c.phone for c in audience} == {row[1] for row in expected}
    # Sending goes to exactly them, once each.
    outreach.send_notice(notice=notice, by=care_lead)
    sent = NoticeDelivery.objects.filter(notice=notice, state=DeliveryState.SENT)
    assert sorted(sent.values_list("customer__external_id", flat=True)) == [r[0] for r in expected]


def test_reading_the_audience_twice_creates_no_customer_twice(order_db, notice, care_lead):
    first = outreach.read_order_system_audience(notice=notice, by=care_lead)
    count = Customer.objects.count()
    second = outreach.read_order_system_audience(notice=notice, by=care_lead)
    assert first["created"] == first["customers"] > 0
    assert second["created"] == 0 and second["customers"] == first["customers"]
    assert Customer.objects.count() == count
    assert notice.members.count() == first["customers"]


def test_a_known_customer_is_matched_by_phone_and_keeps_opt_outs(order_db, notice, care_lead):
    ext_id, phone = expected_customers(order_db)[0]
    known = CustomerFactory(phone=phone, name="Known")
    OptOut.objects.create(customer=known, channel="sms")
    outreach.read_order_system_audience(notice=notice, by=care_lead)
    known.refresh_from_db()
    assert known.external_id == ext_id
    assert known in notice.members.all()
    outreach.send_notice(notice=notice, by=care_lead)
    delivery = NoticeDelivery.objects.get(notice=notice, customer=known)
    assert delivery.state == DeliveryState.OPTED_OUT


def test_with_the_order_system_down_the_audience_comes_from_the_latest_backup_with_its_age(
    order_db, notice, care_lead, settings, tmp_path
):
    from apps.backups import services as backup_services
    from tests.backups.conftest import key_spec

    settings.BACKUP_LOCAL_DIR = str(tmp_path / "local")
    settings.STORAGES = {
        **settings.STORAGES,
        "backups_remote": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "remote")},
        },
    }
    settings.BACKUP_MASTER_KEYS = key_spec()
    settings.BACKUP_KEY_FILE = ""
    settings.BACKUP_NAME_STYLE = "plan"
    for slug in ("orders", "users"):
        backup_services.start_backup(scope=BackupScope.objects.get(slug=slug))
    expected = expected_customers(order_db)
    settings.ORDER_SYSTEM_DATABASE_URL = order_db.rsplit("/", 1)[0] + "/gone_for_good"
    result = outreach.read_order_system_audience(notice=notice, by=care_lead)
    assert result["source"] == AudienceSource.BACKUP and result["problem"]
    notice.refresh_from_db()
    assert notice.audience_source == AudienceSource.BACKUP
    assert notice.audience_as_of is not None and notice.audience_as_of < notice.audience_loaded_at
    assert sorted(notice.members.values_list("external_id", flat=True)) == [r[0] for r in expected]
    # Read again from the backup: still nobody twice.
    count = Customer.objects.count()
    outreach.read_order_system_audience(notice=notice, by=care_lead)
    assert Customer.objects.count() == count


def test_the_notice_page_reads_the_customers_and_says_where_from(
    client, order_db, notice, care_lead
):
    from django.urls import reverse

    client.force_login(care_lead)
    detail = reverse("customer_care:notice-detail", kwargs={"pk": notice.pk})
    before = client.get(detail).content.decode()
    assert 'data-testid="audience-source"' in before
    assert "job-progress" not in before.split('data-testid="audience-source"', 1)[1]
    response = client.post(reverse("customer_care:notice-read-customers", kwargs={"pk": notice.pk}))
    assert response["Location"] == detail
    notice.refresh_from_db()
    assert notice.audience_job is not None and notice.audience_job.state == "succeeded"
    page = client.get(detail).content.decode()
    card = page.split('data-testid="audience-source"', 1)[1].split("</form>", 1)[0]
    assert str(notice.members.count()) in card
    assert 'data-state="succeeded"' in card


def test_a_notice_without_an_incident_cannot_read_its_customers(care_lead):
    notice = notice_for(care_lead, audience="order_system_orders")
    assert notice.incident is None
    with pytest.raises(DomainError) as exc:
        outreach.start_audience_read(notice=notice, by=care_lead)
    assert exc.value.code == OutreachError.NO_INCIDENT
