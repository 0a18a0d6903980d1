"""Progress notices: who gets them, in which language, once, at the set rate, with opt-outs,
retries, failures recorded, pause and resume, and a worker killed half-way."""

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.jobs import Progress
from apps.core.models import JobRecord
from apps.customer_care.models import Notice, NoticeDelivery, OptOut
from apps.customer_care.outreach_choices import DeliveryState, NoticeState
from apps.customer_care.outreach_errors import OutreachError
from apps.customer_care.services import outreach
from tests.conftest import wait_for

from .factories import CustomerFactory, notice_for

pytestmark = pytest.mark.django_db


def sms_sent(settings) -> list[dict]:
    """Every message the file backend wrote. A file still being written (or cut short by a
    killed worker) is not a message yet."""
    folder = Path(settings.SMS_FILE_PATH)
    if not folder.exists():
        return []
    messages = []
    for path in folder.glob("*.json"):
        try:
            messages.append(json.loads(path.read_text()))
        except ValueError:
            continue
    return messages


def phones_sent(settings) -> list[str]:
    return sorted(m["phone"] for m in sms_sent(settings))


def test_a_notice_goes_to_each_customer_once_in_their_language(care_lead, settings):
    zh = CustomerFactory(name="王芳", language="zh-hans")
    en = CustomerFactory(name="Amy", language="en")
    notice = notice_for(care_lead)
    job = outreach.send_notice(notice=notice, by=care_lead)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    messages = {m["phone"]: m["text"] for m in sms_sent(settings)}
    assert messages[zh.phone].startswith("王芳，您好")
    assert "退订" in messages[zh.phone] or "/opt-out/" in messages[zh.phone]
    assert messages[en.phone].startswith("Dear Amy")
    notice.refresh_from_db()
    assert notice.state == NoticeState.DONE
    assert NoticeDelivery.objects.filter(notice=notice, state=DeliveryState.SENT).count() == 2


def test_sending_a_notice_again_sends_nobody_a_second_copy(care_lead, settings):
    CustomerFactory.create_batch(5)
    notice = notice_for(care_lead)
    outreach.send_notice(notice=notice, by=care_lead)
    with pytest.raises(DomainError) as exc:
        outreach.send_notice(notice=notice, by=care_lead)
    assert exc.value.code == OutreachError.NOTICE_STATE
    # Even a second run of the job itself (a duplicate enqueue) sends nothing more.
    Notice.objects.filter(pk=notice.pk).update(state=NoticeState.SENDING)
    record = JobRecord.objects.create(kind="t", title="t")
    outreach.deliver_notice(notice_id=notice.pk, progress=Progress(record.pk))
    assert len(sms_sent(settings)) == 5
    assert len(set(phones_sent(settings))) == 5


def test_the_incident_audience_is_the_customers_with_manual_orders_in_its_window(care_lead):
    from apps.manual_orders import services as orders
    from tests.incidents.factories import IncidentFactory
    from tests.manual_orders.factories import new_key, priced_product

    incident = IncidentFactory(detected_at=timezone.now() - timedelta(hours=2))
    inside, outside = CustomerFactory(), CustomerFactory()
    product = priced_product(by=care_lead)
    for customer, when in (
        (inside, timezone.now() - timedelta(hours=1)),
        (outside, timezone.now() - timedelta(days=2)),
    ):
        order = orders.place_order(
            idempotency_key=new_key(),
            customer=customer,
            channel="phone",
            delivery_address="x",
            lines=[orders.LineInput(product_id=product.pk, quantity=1)],
            by=care_lead,
        ).order
        type(order).objects.filter(pk=order.pk).update(received_at=when)
    notice = notice_for(care_lead, audience="incident_orders", incident=incident)
    assert list(outreach.audience_customers(notice)) == [inside]


def test_a_customer_who_opted_out_gets_nothing_and_the_delivery_says_so(care_lead, settings):
    out, stays = CustomerFactory(), CustomerFactory()
    OptOut.objects.create(customer=out, channel="sms")
    notice = notice_for(care_lead)
    outreach.send_notice(notice=notice, by=care_lead)
    assert phones_sent(settings) == [stays.phone]
    assert NoticeDelivery.objects.get(customer=out).state == DeliveryState.OPTED_OUT


def test_customers_who_want_no_notifications_get_no_notice(care_lead, settings):
    CustomerFactory(notify_by="none")
    wants = CustomerFactory(notify_by="sms")
    outreach.send_notice(notice=notice_for(care_lead), by=care_lead)
    assert phones_sent(settings) == [wants.phone]


def test_an_invalid_phone_number_makes_a_failed_delivery_not_a_failed_job(care_lead, settings):
    bad = CustomerFactory(phone="not-a-phone")
    good = CustomerFactory()
    notice = notice_for(care_lead)
    job = outreach.send_notice(notice=notice, by=care_lead)
    job.refresh_from_db()
    assert job.state == "succeeded"
    delivery = NoticeDelivery.objects.get(customer=bad)
    assert delivery.state == DeliveryState.FAILED and "not-a-phone" in delivery.error
    assert phones_sent(settings) == [good.phone]


class FlakySms:
    """Fails each phone's first ``fails`` attempts, then sends to the real file backend."""

    calls: dict[str, int] = {}
    fails = 1

    def send(self, *, phone, text):
        from apps.core.sms import FileSmsBackend

        FlakySms.calls[phone] = FlakySms.calls.get(phone, 0) + 1
        if FlakySms.calls[phone] <= FlakySms.fails:
            raise RuntimeError("gateway busy")
        return FileSmsBackend().send(phone=phone, text=text)


def test_a_failed_delivery_is_retried_then_reported(care_lead, settings):
    settings.SMS_BACKEND = "tests.customer_care.outreach.test_notices.FlakySms"
    settings.CARE_NOTICE_MAX_ATTEMPTS = 3
    FlakySms.calls, FlakySms.fails = {}, 1
    retried = CustomerFactory()
    outreach.send_notice(notice=notice_for(care_lead), by=care_lead)
    delivery = NoticeDelivery.objects.get(customer=retried)
    assert delivery.state == DeliveryState.SENT and delivery.attempts == 2
    FlakySms.calls, FlakySms.fails = {}, 99
    notice = notice_for(care_lead, title="again")
    outreach.send_notice(notice=notice, by=care_lead)
    failed = NoticeDelivery.objects.get(notice=notice, customer=retried)
    assert failed.state == DeliveryState.FAILED and failed.attempts == 3
    assert "gateway busy" in failed.error
    assert list(outreach.failed_deliveries(notice)) == [failed]


def test_a_notice_with_an_empty_language_version_cannot_be_sent(care_lead, settings):
    CustomerFactory()
    notice = notice_for(care_lead, body_en="  ")
    with pytest.raises(DomainError) as exc:
        outreach.send_notice(notice=notice, by=care_lead)
    assert exc.value.code == OutreachError.EMPTY_LANGUAGE
    notice.refresh_from_db()
    assert notice.state == NoticeState.DRAFT and sms_sent(settings) == []


def test_a_notice_is_sent_at_the_configured_rate(care_lead, settings):
    CustomerFactory.create_batch(21)
    notice = notice_for(care_lead, rate_per_second=20)
    started = time.monotonic()
    outreach.send_notice(notice=notice, by=care_lead)
    elapsed = time.monotonic() - started
    # 21 messages at 20 a second: the last goes out 1 s after the first, less at most the
    # 0.1 s a late wake-up may catch up.
    assert elapsed >= 0.9
    stamps = sorted(m["at"] for m in sms_sent(settings))
    from datetime import datetime

    spread = datetime.fromisoformat(stamps[-1]) - datetime.fromisoformat(stamps[0])
    assert spread.total_seconds() >= 0.89


def test_the_preview_shows_one_customer_their_text_and_sends_nothing(care_lead, settings):
    amy = CustomerFactory(name="Amy", language="en", notify_by="both")
    notice = notice_for(care_lead, by_email=True)
    preview = outreach.preview_notice(notice=notice, customer=amy)
    assert {p["channel"] for p in preview} == {"sms", "email"}
    assert all(p["body"].startswith("Dear Amy") for p in preview)
    assert sms_sent(settings) == [] and not NoticeDelivery.objects.exists()


def test_email_notices_go_out_with_the_subject_in_the_customers_language(care_lead, mailoutbox):
    CustomerFactory(email="amy@example.com", language="en", notify_by="email")
    outreach.send_notice(notice=notice_for(care_lead, by_sms=False, by_email=True), by=care_lead)
    assert [m.subject for m in mailoutbox] == ["Orders delayed"]
    assert mailoutbox[0].to == ["amy@example.com"]


@pytest.mark.django_db(transaction=True)
def test_a_paused_notice_stops_and_resumes_where_it_stopped(care_lead, settings):
    settings.JOB_RUNNER = "thread"
    CustomerFactory.create_batch(40)
    notice = notice_for(care_lead, rate_per_second=20)
    outreach.send_notice(notice=notice, by=care_lead)
    wait_for(lambda: len(sms_sent(settings)) >= 5, timeout=30)
    outreach.pause_notice(notice=notice, by=care_lead)
    job = Notice.objects.get(pk=notice.pk).job
    wait_for(lambda: JobRecord.objects.get(pk=job.pk).is_finished, timeout=30)
    paused_at = len(sms_sent(settings))
    assert paused_at < 40
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.PAUSED
    outreach.send_notice(notice=notice, by=care_lead)
    wait_for(lambda: Notice.objects.get(pk=notice.pk).state == NoticeState.DONE, timeout=60)
    assert len(phones_sent(settings)) == len(set(phones_sent(settings))) == 40


def test_killed_half_way_and_run_again_no_customer_gets_two(
    rq_worker, care_lead, settings, tmp_path
):
    settings.JOB_STALE_AFTER_SECONDS = 3
    rq_worker.env.update(
        SMS_BACKEND="apps.core.sms.FileSmsBackend", SMS_FILE_PATH=settings.SMS_FILE_PATH
    )
    customers = CustomerFactory.create_batch(60)
    notice = notice_for(care_lead, rate_per_second=15)
    outreach.send_notice(notice=notice, by=care_lead)
    rq_worker.start()
    wait_for(lambda: len(sms_sent(settings)) >= 15, timeout=60, message="the worker sent nothing")
    rq_worker.kill()
    sent_before = len(sms_sent(settings))
    assert sent_before < 60
    # The dead run is noticed (heartbeat silent / RQ) and the notice is run again.
    wait_for(
        lambda: _resend(notice, care_lead),
        timeout=30,
        message="the notice could not be run again",
    )
    rq_worker.run_burst()
    notice.refresh_from_db()
    assert notice.state == NoticeState.DONE
    phones = phones_sent(settings)
    assert len(phones) == len(set(phones)), "a customer got two copies"
    states = dict(NoticeDelivery.objects.filter(notice=notice).values_list("customer_id", "state"))
    assert len(states) == 60
    # Every customer got the notice, except at most the one being sent when the worker died,
    # which is reported as interrupted (and was not sent again).
    uncertain = [c for c, s in states.items() if s == DeliveryState.UNCERTAIN]
    assert len(uncertain) <= 1
    assert set(phones) >= {c.phone for c in customers if c.pk not in uncertain}


def _resend(notice, by) -> bool:
    try:
        outreach.send_notice(notice=notice, by=by)
    except DomainError:
        return False
    return True
