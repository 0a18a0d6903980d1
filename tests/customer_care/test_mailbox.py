"""The care mailbox against a real IMAP server (dovecot) and the real SMTP server."""

import pytest
from django.core.management import call_command

from apps.core.jobs import JobRecord
from apps.core.schedules import get_schedule
from apps.customer_care import services
from apps.customer_care.choices import CaseChannel, CaseState, Direction, MailOutcome
from apps.customer_care.models import Case, CaseMessage, IngestedMail

from .factories import CustomerFactory, mail

pytestmark = pytest.mark.django_db


def test_a_new_message_opens_a_case_for_the_customer_matched_by_address(imap_server):
    known = CustomerFactory(email="XiaoMing@example.com")
    imap_server.append(mail())
    counts = services.poll_mailbox()
    assert counts["opened"] == 1
    case = Case.objects.get()
    assert case.channel == CaseChannel.MAILBOX
    assert case.customer == known
    assert case.subject == "我的订单什么时候到？"
    message = case.messages.get()
    assert message.direction == Direction.INBOUND and "查一下" in message.body


def test_mail_from_an_unknown_address_opens_a_case_with_the_contact(imap_server):
    imap_server.append(mail(sender="Stranger <new@example.org>"))
    services.poll_mailbox()
    case = Case.objects.get()
    assert case.customer is None
    assert case.contact_email == "new@example.org" and case.contact_name == "Stranger"


def test_a_reply_is_threaded_onto_its_case_by_the_reference_in_the_subject(imap_server, agent):
    imap_server.append(mail())
    services.poll_mailbox()
    case = Case.objects.get()
    services.change_state(case=case, to=CaseState.WAITING, version=case.version, by=agent)
    imap_server.append(
        mail(subject=f"Re: [{case.reference}] 我的订单", message_id="<m2@example.com>")
    )
    counts = services.poll_mailbox()
    assert counts["threaded"] == 1
    assert Case.objects.count() == 1
    case.refresh_from_db()
    assert case.messages.count() == 2
    assert case.state == CaseState.OPEN  # the customer answered: back on the agent's desk


def test_a_reply_is_threaded_by_in_reply_to_without_a_reference(imap_server):
    imap_server.append(mail())
    services.poll_mailbox()
    imap_server.append(
        mail(subject="Re: hello", message_id="<m3@example.com>", in_reply_to="<m1@example.com>")
    )
    services.poll_mailbox()
    assert Case.objects.count() == 1
    assert CaseMessage.objects.filter(message_id="<m3@example.com>").exists()


def test_the_same_message_is_never_taken_twice(imap_server):
    imap_server.append(mail(), mail())  # the same Message-ID delivered twice
    counts = services.poll_mailbox()
    assert counts["opened"] == 1 and counts["duplicate"] == 1
    assert services.poll_mailbox()["opened"] == 0  # and a second poll takes nothing again
    assert Case.objects.count() == 1 and CaseMessage.objects.count() == 1


def test_a_message_without_a_sender_is_rejected_with_a_logged_reason(imap_server, caplog):
    imap_server.append(mail(sender="", message_id="<nosender@example.com>"), mail())
    counts = services.poll_mailbox()
    assert counts["rejected"] == 1 and counts["opened"] == 1  # the poller went on
    rejected = IngestedMail.objects.get(message_id="<nosender@example.com>")
    assert rejected.outcome == MailOutcome.REJECTED and "sender" in rejected.reason
    assert "rejected" in caplog.text


def test_a_message_without_a_sender_quoting_a_case_becomes_a_note_on_it(imap_server):
    imap_server.append(mail())
    services.poll_mailbox()
    case = Case.objects.get()
    imap_server.append(
        mail(sender="", subject=f"[{case.reference}] forwarded", message_id="<fw@example.com>")
    )
    services.poll_mailbox()
    note = case.messages.get(direction=Direction.NOTE)
    assert "no sender" in note.body
    assert IngestedMail.objects.get(message_id="<fw@example.com>").outcome == MailOutcome.NOTE


def test_a_message_in_an_unknown_encoding_is_taken_with_a_note(imap_server):
    imap_server.append(mail(charset="x-unknown-klingon", body="hello there"))
    services.poll_mailbox()
    case = Case.objects.get()
    assert "hello there" in case.messages.get(direction=Direction.INBOUND).body
    assert "unknown charset" in case.messages.get(direction=Direction.NOTE).body


def test_a_huge_message_is_rejected_before_download_and_the_poller_goes_on(imap_server, settings):
    settings.CARE_MAIL_MAX_BYTES = 50_000
    attachment = "X-Filler: " + "a" * 60_000
    imap_server.append(
        mail(message_id="<huge@example.com>", extra=attachment),
        mail(message_id="<small@example.com>"),
    )
    counts = services.poll_mailbox()
    assert counts["rejected"] == 1 and counts["opened"] == 1
    huge = IngestedMail.objects.get(message_id="<huge@example.com>")
    assert "over the" in huge.reason


def test_agents_replies_go_out_by_email_with_the_reference(imap_server, agent, smtp_server):
    imap_server.append(mail())
    services.poll_mailbox()
    case = Case.objects.get()
    services.add_message(case=case, direction=Direction.OUTBOUND, body="已发货，明天到。", by=agent)
    from tests.conftest import wait_for

    wait_for(lambda: smtp_server.messages, timeout=20)
    sent = smtp_server.messages[0]
    assert sent.rcpt_tos == ["xiaoming@example.com"]
    from apps.customer_care.engine.mail import parse_message

    # What the customer gets quotes the case: their answer threads back onto it.
    received = parse_message(sent.content)
    assert received.case_numbers == [case.pk]
    assert "已发货" in received.body


def test_the_command_polls_the_mailbox(imap_server, capsys):
    imap_server.append(mail())
    call_command("poll_care_mailbox")
    assert Case.objects.count() == 1
    assert "opened" in capsys.readouterr().out


def test_the_scheduled_poll_runs_as_a_job(imap_server):
    imap_server.append(mail())
    schedule = get_schedule("customer_care.poll_mailbox")
    from django.utils.module_loading import import_string

    job = import_string(schedule.task)()
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    assert Case.objects.count() == 1
    assert JobRecord.objects.filter(kind="care_mailbox").count() == 1


def test_an_unreachable_mailbox_is_said_clearly(settings):
    from apps.core.errors import DomainError
    from apps.customer_care.errors import CareError

    settings.CARE_IMAP_URL = "imap://care:x@127.0.0.1:1/INBOX"
    with pytest.raises(DomainError) as exc:
        services.poll_mailbox()
    assert exc.value.code == CareError.MAILBOX_UNREACHABLE
