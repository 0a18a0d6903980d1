import json
import socket
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role
from apps.core.choices import Channel, NotificationState
from apps.core.errors import CoreError
from apps.core.models import Notification
from apps.core.notifications import (
    resend_notification,
    send_notification,
    sweep_waiting_notifications,
)
from tests.codes import raises_code

# Django ships this message translated, so the test does not depend on our catalog.
SUBJECT = _("Enter a valid email address.")


@pytest.mark.django_db
def test_email_reaches_a_real_smtp_server_in_the_recipients_language(
    smtp_server, make_user, django_capture_on_commit_callbacks
):
    chinese = make_user(Role.LOGISTICS, language="zh-hans")
    english = make_user(Role.LOGISTICS, language="en")
    for user in (chinese, english):
        with django_capture_on_commit_callbacks(execute=True):
            n = send_notification(
                channel=Channel.EMAIL,
                recipient=user,
                subject=SUBJECT,
                body="Order %(number)s",
                params={"number": "M-1"},
            )
        n.refresh_from_db()
        assert n.state == NotificationState.SENT, n.error
    assert len(smtp_server.messages) == 2
    bodies = [m.content.decode("utf-8", "replace") for m in smtp_server.messages]
    assert any("Enter a valid email address." in b for b in bodies)
    zh = next(m for m in smtp_server.messages if chinese.email in m.rcpt_tos)
    from email import message_from_bytes
    from email.header import decode_header, make_header

    subject = str(make_header(decode_header(message_from_bytes(zh.content)["Subject"])))
    assert subject == "输入一个有效的 Email 地址。"


@pytest.mark.django_db
def test_sms_goes_through_the_configured_backend_and_is_recorded(
    sms_dir, make_user, django_capture_on_commit_callbacks
):
    user = make_user(Role.EMERGENCY_LEAD, phone="13912345678")
    with django_capture_on_commit_callbacks(execute=True):
        n = send_notification(
            channel=Channel.SMS,
            recipient=user,
            subject="",
            body="Incident %(id)s",
            params={"id": 7},
        )
    n.refresh_from_db()
    assert n.state == NotificationState.SENT
    [sent] = [json.loads(p.read_text()) for p in sms_dir.glob("*.json")]
    assert sent == {
        **sent,
        "phone": "13912345678",
        "text": "Incident 7",
        "ref": n.provider_reference,
    }


@pytest.mark.django_db
def test_a_failing_gateway_is_recorded_as_failed_not_raised(
    settings, make_user, django_capture_on_commit_callbacks
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    with django_capture_on_commit_callbacks(execute=True):
        n = send_notification(
            channel=Channel.EMAIL, recipient=make_user(Role.MANAGER), subject="s", body="b"
        )
    n.refresh_from_db()
    assert n.state == NotificationState.FAILED
    assert "Connection" in n.error or "refused" in n.error


@pytest.mark.django_db
def test_a_recipient_without_an_address_is_refused_clearly(make_user):
    user = make_user(Role.MANAGER, phone="")
    with raises_code(CoreError.NO_ADDRESS):
        send_notification(channel=Channel.SMS, recipient=user, subject="", body="x")


def test_notifications_are_delivered_by_a_real_worker(rq_worker, make_user, sms_dir):
    n = send_notification(
        channel=Channel.SMS, recipient=make_user(Role.LOGISTICS), subject="", body="hello"
    )
    n.refresh_from_db()
    assert n.state == NotificationState.QUEUED
    rq_worker.run_burst()
    n.refresh_from_db()
    assert n.state == NotificationState.SENT
    assert len(list(sms_dir.glob("*.json"))) == 1


@pytest.mark.django_db
def test_a_message_left_sending_by_a_dead_worker_is_marked_unknown_not_sent_again(sms_dir):
    now = timezone.now()

    def claimed(minutes_ago):  # by a worker that died before it recorded the gateway's answer
        return Notification.objects.create(
            channel=Channel.SMS, address="13912345678", language="en", body="b",
            state=NotificationState.SENDING, claimed_at=now - timedelta(minutes=minutes_ago),
        )  # fmt: skip

    n, fresh = claimed(11), claimed(1)

    sweep_waiting_notifications(now=now)

    n.refresh_from_db()
    fresh.refresh_from_db()
    assert n.state == NotificationState.UNKNOWN and fresh.state == NotificationState.SENDING
    assert not list(sms_dir.glob("*.json"))  # neither was sent by the sweep
    with translation.override("zh-hans"):
        assert n.get_state_display() != "Unknown: the worker stopped while sending"


@pytest.mark.django_db(transaction=True)
def test_a_failed_message_is_sent_again_once_whoever_clicks(client, make_user, sms_dir):
    lead, other = make_user(Role.EMERGENCY_LEAD), make_user(Role.MANAGER)
    failed = Notification.objects.create(
        channel=Channel.SMS, address="13912345678", language="en", body="Order 7 is late",
        state=NotificationState.FAILED, error="gateway timeout",
    )  # fmt: skip
    url = reverse("core:notification-resend", kwargs={"pk": failed.pk})
    barrier = threading.Barrier(2)
    made = []

    def resend(user):
        try:
            barrier.wait()
            made.append(resend_notification(notification_id=failed.pk, by=user).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=resend, args=(u,)) for u in (lead, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.force_login(lead)
    response = client.post(url, follow=True)  # a third click

    assert len(set(made)) == 1 and response.status_code == 200
    failed.refresh_from_db()
    assert failed.resent_as_id == made[0]
    assert Notification.objects.count() == 2
    again = failed.resent_as
    assert again.state == NotificationState.SENT and again.body == failed.body
    assert again.created_by in (lead, other)
    assert len(list(sms_dir.glob("*.json"))) == 1


@pytest.mark.django_db
def test_only_failed_messages_are_sent_again_and_only_by_staff_allowed_to(client, make_user):
    sent = Notification.objects.create(
        channel=Channel.SMS, address="1", language="en", body="b", state=NotificationState.SENT
    )
    with raises_code(CoreError.NOT_RESENDABLE):
        resend_notification(notification_id=sent.pk, by=None)
    client.force_login(make_user(Role.WAREHOUSE_CLERK))
    url = reverse("core:notification-resend", kwargs={"pk": sent.pk})
    assert client.post(url).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_notifications_page_offers_send_again_and_explains_a_refusal(
    client, make_user, language
):
    lead = make_user(Role.EMERGENCY_LEAD, language=language)
    failed = Notification.objects.create(
        channel=Channel.SMS, address="13912345678", language="zh-hans", body="b",
        state=NotificationState.FAILED, error="gateway timeout",
    )  # fmt: skip
    sent = Notification.objects.create(
        channel=Channel.SMS, address="13900000000", language="zh-hans", body="b",
        state=NotificationState.SENT,
    )  # fmt: skip
    client.force_login(lead)
    client.cookies["django_language"] = language

    page = client.get(reverse("core:notification-list")).content.decode()
    with translation.override(language):
        send_again = str(_("Send again"))
        refusal = str(CoreError.NOT_RESENDABLE.label % {"state": NotificationState.SENT.label})
    resend_failed = reverse("core:notification-resend", kwargs={"pk": failed.pk})
    assert send_again in page and resend_failed in page
    assert reverse("core:notification-resend", kwargs={"pk": sent.pk}) not in page
    # a stale tab: the button of a message someone else already sent
    response = client.post(reverse("core:notification-resend", kwargs={"pk": sent.pk}), follow=True)
    assert refusal in response.content.decode()
    assert Notification.objects.count() == 2
