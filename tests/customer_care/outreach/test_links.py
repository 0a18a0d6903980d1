"""Signed one-time links: surveys after a resolution, follow-ups, opt-outs; forged, expired or
reused links are refused the same way, never saying whether the case or customer exists."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse

from apps.core.errors import DomainError
from apps.core.models import Notification
from apps.customer_care.models import FollowUp, OptOut, Survey
from apps.customer_care.outreach_choices import FollowUpReason
from apps.customer_care.outreach_errors import OutreachError
from apps.customer_care.services import outreach
from apps.customer_care.services.outreach import tokens

from .factories import CustomerFactory, resolved_case

pytestmark = pytest.mark.django_db


def token_in(text: str, kind: str) -> str:
    return re.search(rf"/{kind}/([^/\s]+)/", text).group(1)


@pytest.fixture
def survey_token(agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = resolved_case(agent, customer=CustomerFactory(email="c@example.com", language="en"))
    note = Notification.objects.filter(address="c@example.com").latest("pk")
    return case, token_in(note.body, "survey")


def test_resolving_a_case_sends_the_customer_a_survey_link_in_their_language(survey_token):
    case, token = survey_token
    note = Notification.objects.filter(address="c@example.com").latest("pk")
    assert note.body.startswith(f"Your case {case.reference} has been resolved")
    assert Survey.objects.filter(case=case).count() == 1
    assert case.events.filter(kind="care.survey_sent").exists()


def test_a_survey_is_answered_once_through_the_page(client, survey_token):
    case, token = survey_token
    url = reverse("care_public:survey", kwargs={"token": token})
    assert client.get(url).status_code == 200
    response = client.post(url, {"score": "5", "comment": "quick, thanks"})
    assert response.status_code == 200 and "thanks" in response.content.decode().lower()
    survey = Survey.objects.get(case=case)
    assert survey.score == 5 and survey.comment == "quick, thanks"
    again = client.post(url, {"score": "1"})
    assert again.status_code == 400
    survey.refresh_from_db()
    assert survey.score == 5


def test_a_low_score_opens_a_follow_up_for_the_lead(survey_token):
    case, token = survey_token
    outreach.answer_survey(token=token, score=2, comment="slow")
    follow_up = FollowUp.objects.get(case=case)
    assert follow_up.reason == FollowUpReason.LOW_SCORE


def test_a_complaint_opens_a_follow_up_even_with_a_good_score(
    agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = resolved_case(agent, case_type="complaint")
    survey = Survey.objects.get(case=case)
    outreach.answer_survey(
        token=tokens.make_token(tokens.SURVEY, survey.pk, nonce=survey.nonce), score=4
    )
    assert FollowUp.objects.get(case=case).reason == FollowUpReason.COMPLAINT


def main_text(response) -> str:
    """The page's main content (the layout around it carries a per-request CSRF token)."""
    return re.search(r"<main.*?</main>", response.content.decode(), re.S).group(0)


def _refusal(client, url) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, main_text(response)


def test_forged_expired_reused_and_unknown_survey_links_get_one_same_refusal(
    client, survey_token, settings
):
    case, token = survey_token
    survey = Survey.objects.get(case=case)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    unknown = tokens.make_token(tokens.SURVEY, survey.pk + 999, nonce="0" * 32)
    other_purpose = tokens.make_token(tokens.OPT_OUT, survey.pk, nonce=survey.nonce)
    refused = [
        _refusal(client, reverse("care_public:survey", kwargs={"token": t}))
        for t in (forged, unknown, other_purpose)
    ]
    outreach.answer_survey(token=token, score=4)
    refused.append(_refusal(client, reverse("care_public:survey", kwargs={"token": token})))
    settings.CARE_SURVEY_MAX_AGE_DAYS = -1  # every link is now past its age
    fresh = tokens.make_token(tokens.SURVEY, survey.pk, nonce=survey.nonce)
    with pytest.raises(DomainError) as exc:
        outreach.answer_survey(token=fresh, score=3)
    assert exc.value.code == OutreachError.BAD_LINK
    assert {status for status, _ in refused} == {400}
    assert len({body for _, body in refused}) == 1


def test_an_expired_survey_link_is_refused(survey_token, settings, monkeypatch):
    case, token = survey_token
    import time as _time

    now = _time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now + timedelta(days=15).total_seconds())
    with pytest.raises(DomainError) as exc:
        outreach.answer_survey(token=token, score=5)
    assert exc.value.code == OutreachError.BAD_LINK


def test_an_opt_out_link_stops_notices_on_its_channel_once(client, care_lead):
    customer = CustomerFactory()
    url = outreach.notices.opt_out_url(customer.pk, "sms")
    path = url.split("localhost:8000", 1)[-1] if "localhost:8000" in url else url
    assert client.get(path).status_code == 200
    assert not OptOut.objects.exists()  # a GET (a link scanner) changes nothing
    assert client.post(path).status_code == 200
    assert OptOut.objects.filter(customer=customer, channel="sms").exists()
    again = client.post(path)
    assert again.status_code == 400


def test_forged_and_unknown_opt_out_links_are_refused_alike(client):
    customer = CustomerFactory()
    real = token_in(outreach.notices.opt_out_url(customer.pk, "sms"), "opt-out")
    forged = real[:-1] + ("x" if real[-1] != "x" else "y")
    unknown = tokens.make_token(tokens.OPT_OUT, customer.pk + 999, "sms")
    bodies = set()
    for token in (forged, unknown):
        response = client.post(reverse("care_public:opt-out", kwargs={"token": token}))
        assert response.status_code == 400
        bodies.add(main_text(response))
    assert len(bodies) == 1
    assert not OptOut.objects.exists()
