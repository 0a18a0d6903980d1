"""Staff reset a forgotten password by e-mail: Django's flow, mailed through a real SMTP server,
in the user's language, limited per address and per client, and silent about which addresses
exist."""

import email
import re
from email.header import decode_header, make_header

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.roles import Role
from tests.factories import PASSWORD

NEW_PASSWORD = "Backup-restore-2026!"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with no reset requests counted (the counters live in the real Redis)."""
    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL)
        for key in client.scan_iter("recovery_site:ratelimit:*"):
            client.delete(key)
    else:
        caches["ratelimit"].clear()


def _mails(inbox):
    found = []
    for envelope in inbox.messages:
        message = email.message_from_bytes(envelope.content)
        body = message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")
        found.append(
            {
                "to": envelope.rcpt_tos,
                "subject": str(make_header(decode_header(message["Subject"]))),
                "body": body,
            }
        )
    return found


def _request_reset(client, address, **extra):
    return client.post(reverse("accounts:password-reset"), {"email": address}, **extra)


@pytest.mark.django_db
def test_the_login_page_links_to_the_password_reset(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert reverse("accounts:password-reset") in page


@pytest.mark.django_db
def test_staff_reset_a_forgotten_password_with_the_mailed_link_once(client, make_user, smtp_server):
    user = make_user(Role.WAREHOUSE_CLERK, username="zhao.lei", email="zhao.lei@example.com")

    response = _request_reset(client, "Zhao.Lei@example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password-reset-done")
    (mail,) = _mails(smtp_server)
    assert mail["to"] == ["zhao.lei@example.com"]
    # The user's language is Chinese: so is the mail.
    assert "重置" in mail["subject"] and "zhao.lei" in mail["body"]
    link = re.search(r"https?://testserver(/accounts/password-reset/\S+/\S+/)", mail["body"])
    assert link, mail["body"]

    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == reverse("accounts:password-reset-complete")

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.history.latest().history_change_reason == "password reset by e-mail"
    signed_in = client.post(
        reverse("accounts:login"), {"username": "zhao.lei", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == reverse("core:dashboard")
    client.logout()

    # The link is spent.
    again = client.get(link.group(1), follow=True)
    assert not again.context["validlink"]
    assert 'data-testid="password-reset-invalid"' in again.content.decode()


@pytest.mark.django_db
def test_the_reset_mail_is_written_in_the_users_language(client, make_user, smtp_server):
    make_user(Role.MANAGER, username="anna", email="anna@example.com", language="en")
    _request_reset(client, "anna@example.com")
    (mail,) = _mails(smtp_server)
    assert mail["subject"] == "Reset your password for Recovery site"
    assert 'your account "anna"' in mail["body"]


@pytest.mark.django_db
def test_the_mail_and_the_page_give_the_links_lifetime_from_the_settings(
    client, make_user, smtp_server, settings
):
    settings.PASSWORD_RESET_TIMEOUT = 30 * 60
    make_user(Role.MANAGER, email="anna@example.com", language="en")
    make_user(Role.MANAGER, email="li@example.com", language="zh-hans")
    done = _request_reset(client, "anna@example.com", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "expires after 30 minutes" in done.content.decode()
    _request_reset(client, "li@example.com")
    english, chinese = sorted(_mails(smtp_server), key=lambda m: m["to"])
    assert "expires after 30 minutes" in english["body"]
    assert "30 分钟后失效" in chinese["body"]


@pytest.mark.django_db
def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, make_user, smtp_server):
    make_user(Role.MANAGER, email="known@example.com")
    known = _request_reset(client, "known@example.com")
    unknown = _request_reset(client, "nobody@example.com")
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert [m["to"] for m in _mails(smtp_server)] == [["known@example.com"]]


@pytest.mark.django_db
def test_reset_requests_are_limited_per_address_known_or_not(
    client, make_user, smtp_server, settings
):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    make_user(Role.MANAGER, email="known@example.com")
    for address in ("known@example.com", "nobody@example.com"):
        for _ in range(2):
            assert _request_reset(client, address).status_code == 302
        refused = _request_reset(client, address.upper(), HTTP_ACCEPT_LANGUAGE="en")
        # Known or not, the third request is refused the same way, in the user's language,
        # and the form keeps the address.
        assert refused.status_code == 429
        page = refused.content.decode()
        assert "Too many password reset requests" in page
        assert f'value="{address.upper()}"' in page
    assert len(_mails(smtp_server)) == 2


@pytest.mark.django_db
def test_reset_requests_are_limited_per_client_address(client, make_user, smtp_server, settings):
    settings.PASSWORD_RESET_LIMIT_PER_IP = 3
    make_user(Role.MANAGER, email="known@example.com")
    for n in range(3):
        assert _request_reset(client, f"someone{n}@example.com").status_code == 302
    refused = _request_reset(client, "known@example.com")
    assert refused.status_code == 429
    assert "密码重置请求过多" in refused.content.decode()
    assert _mails(smtp_server) == []
    # Another client is not affected.
    other = _request_reset(client, "known@example.com", REMOTE_ADDR="10.0.0.7")
    assert other.status_code == 302
    assert len(_mails(smtp_server)) == 1


@pytest.mark.django_db
def test_a_weak_new_password_is_refused_and_the_old_one_stays(client, make_user, smtp_server):
    user = make_user(Role.MANAGER, email="weak@example.com")
    _request_reset(client, "weak@example.com")
    (mail,) = _mails(smtp_server)
    link = re.search(r"https?://testserver(/\S+/)", mail["body"]).group(1)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


@pytest.mark.django_db
def test_a_reset_request_still_works_when_the_rate_limit_store_is_down(
    client, make_user, smtp_server, settings
):
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
    }
    make_user(Role.MANAGER, email="known@example.com")
    assert _request_reset(client, "known@example.com").status_code == 302
    assert len(_mails(smtp_server)) == 1
