"""axe-core (WCAG 2.0/2.1 A and AA) on every staff page each role can reach, in both languages.

The pages come from the same URL walk as the permission matrix test, so a new app's pages join
the check as soon as their URLs exist (a page that needs an object to show needs an entry in that
test's ``SAMPLE_KWARGS`` anyway). Each role gets one browser context per language, signed in
with a session cookie; the warehouse clerk's pages are also checked on a 375 px phone.

To keep the walk to a few minutes on two cores, a page whose main content has exactly the
structure of one already audited in the same language and width (same elements, classes, roles
and ARIA attributes; only texts and links differ — e.g. the same list seen by two roles) is not
visited twice. The navigation bar, which differs per role, is audited on each role's first page.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Page, expect

from apps.accounts.roles import ROLE_PERMISSIONS, Role
from apps.core.choices import JobState
from apps.core.models import JobRecord
from tests.factories import UserFactory

from .pages import DESKTOP, ORDER_ENTRY, PHONE, reachable_pages, sample_url, signed_in_context

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("plan_data"),
]

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Forms submitted empty (browser validation off) so that their server-side errors are audited.
FORMS_WITH_ERRORS = [
    "incidents:incident-declare",
    "incidents:template-add",
    "incidents:task-add",
    "incidents:resource-request",
    "incidents:meeting-record",
    "accounts:user-create",
    "inventory_counts:session-create",
    "manual_orders:rule-add",
    "evaluations:action-create",
    "evaluations:plan-propose",
    "drills:plan-add",
    "drills:session-add",
    "customer_care:case-new",
    "customer_care:targets",
    "monitoring:problem-report",
    "monitoring:probe-add",
]

_axe = Axe()


def axe_violations(page: Page, context: str | None = None) -> list[str]:
    """Every WCAG 2.0/2.1 A and AA violation on the page, one readable line each."""
    results = _axe.run(
        page,
        context=context,
        options={"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]},
    )
    lines = []
    for violation in results.response["violations"]:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:4]]
        detail = violation["nodes"][0].get("failureSummary", "").replace("\n", " ")[:300]
        lines.append(f"{violation['id']} ({violation['impact']}) at {targets}: {detail}")
    return lines


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{where}:\n  " + "\n  ".join(lines) for where, lines in found.items())


def _user_with_a_running_job(*roles: Role):
    user = UserFactory(roles=list(roles))
    JobRecord.objects.create(
        kind="backup",
        title="orders backup",
        started_by=user,
        state=JobState.RUNNING,
        percent=40,
        step="copying",
    )
    return user


def _walk(browser, live_server, *, roles, language, viewport, audited) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for role in roles:
        user = _user_with_a_running_job(role)
        pages = reachable_pages(ROLE_PERMISSIONS[role], user)
        assert pages, f"{role.value} reaches no page"
        context = signed_in_context(
            browser, live_server, user, language=language, viewport=viewport
        )
        page = context.new_page()
        first = True
        for name, url, structure in pages:
            key = (viewport["width"], structure)
            if not first and key in audited:
                continue
            audited.add(key)
            response = page.goto(f"{live_server.url}{url}")
            assert response is not None and response.status == 200, f"{role.value} {name}"
            violations = axe_violations(page, None if first else "main")
            first = False
            if violations:
                found[f"{role.value}/{language}/{viewport['width']}px {name} ({url})"] = violations
        context.close()
    return found


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_page_each_role_reaches_has_no_wcag_aa_violation(browser, live_server, language):
    audited: set = set()
    found = _walk(
        browser, live_server, roles=list(Role), language=language, viewport=DESKTOP, audited=audited
    )
    found |= _walk(
        browser,
        live_server,
        roles=[Role.WAREHOUSE_CLERK],
        language=language,
        viewport=PHONE,
        audited=audited,
    )
    assert not found, report(found)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_forms_showing_their_errors_have_no_wcag_aa_violation(browser, live_server, language):
    user = UserFactory(roles=[Role.MANAGER, Role.ADMIN, Role.EMERGENCY_LEAD])
    context = signed_in_context(browser, live_server, user, language=language, viewport=DESKTOP)
    page = context.new_page()
    found = {}
    for name in FORMS_WITH_ERRORS:
        page.goto(f"{live_server.url}{sample_url(name, user)}")
        form = page.locator("main form[method=post i]").last
        expect(form, f"{name} shows a form").to_be_attached(timeout=5000)
        form.evaluate("f => { f.noValidate = true; }")
        with page.expect_navigation():
            form.locator("[type=submit]").last.click()
        expect(
            page.locator("main .invalid-feedback, main .alert-danger").first,
            f"{name} shows its errors",
        ).to_be_visible()
        if violations := axe_violations(page):
            found[f"{language} {name} with errors"] = violations
    context.close()
    assert not found, report(found)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_failed_sign_in_is_announced_and_has_no_wcag_aa_violation(browser, live_server, language):
    user = UserFactory()
    context = browser.new_context(locale="zh-CN" if language == "zh-hans" else "en-US")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").press_sequentially(user.username, delay=30)
    page.locator("input[name=password]").press_sequentially("not-the-password", delay=30)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == []
    context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_running_job_page_has_no_wcag_aa_violation(browser, live_server, language):
    user = _user_with_a_running_job(Role.MANAGER)
    job = JobRecord.objects.get(started_by=user)
    context = signed_in_context(browser, live_server, user, language=language, viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}{reverse('core:job-detail', kwargs={'pk': job.pk})}")
    expect(page.get_by_role("progressbar")).to_be_visible()
    assert axe_violations(page) == []
    context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_order_entry_with_its_suggestion_lists_open_has_no_wcag_aa_violation(
    browser, live_server, language
):
    from tests.manual_orders.factories import CustomerFactory, priced_product

    user = _user_with_a_running_job(Role.BUSINESS_SUPPORT)
    CustomerFactory(name="赵敏", phone="13812345678")
    priced_product(sku="TEA-001", price="12.50", stock="20", by=user)
    context = signed_in_context(browser, live_server, user, language=language, viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}{reverse(ORDER_ENTRY)}")
    assert axe_violations(page) == [], "order entry as it opens"
    page.get_by_test_id("customer-search").press_sequentially("1381234", delay=100)
    expect(page.locator("#customer-results [role=option]")).to_have_count(1)
    assert axe_violations(page) == [], "customer suggestions open"
    page.locator("input[name=line_sku]").first.press_sequentially("tea", delay=100)
    expect(page.locator("tr.line [role=option]")).to_have_count(1)
    assert axe_violations(page) == [], "product suggestions open"
    context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_public_status_survey_and_opt_out_pages_have_no_wcag_aa_violation(
    browser, live_server, language
):
    """The pages customers open without signing in (issue #15), at desktop and phone widths."""
    from apps.customer_care.services import outreach
    from apps.customer_care.services.outreach import tokens
    from tests.customer_care.outreach.factories import published_status_page, resolved_case
    from tests.manual_orders.factories import CustomerFactory

    lead = UserFactory(roles=[Role.CARE_LEAD])
    published_status_page(lead)  # states, contacts and one notice
    outreach.publish_update(text_zh="请电话下单。", text_en="Order by phone.", by=lead)
    outreach.clear_status_cache()
    case = resolved_case(lead)
    survey = outreach.send_survey(case=case, by=lead)
    assert survey is not None
    survey_url = reverse(
        "care_public:survey",
        kwargs={"token": tokens.make_token(tokens.SURVEY, survey.pk, nonce=survey.nonce)},
    )
    opt_out_url = reverse(
        "care_public:opt-out",
        kwargs={"token": tokens.make_token(tokens.OPT_OUT, CustomerFactory().pk, "sms")},
    )
    found = {}
    for viewport in (DESKTOP, PHONE):
        context = browser.new_context(
            locale="zh-CN" if language == "zh-hans" else "en-US", viewport=viewport
        )
        page = context.new_page()
        for url in (f"/status/?lang={language}", survey_url, opt_out_url):
            page.goto(f"{live_server.url}{url}")
            if violations := axe_violations(page):
                found[f"{language}/{viewport['width']}px {url}"] = violations
        context.close()
    assert not found, report(found)
