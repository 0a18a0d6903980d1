"""Every staff page fits a 375 px phone screen, in both languages (issue 11 §7)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from apps.accounts.roles import ROLE_PERMISSIONS, Role
from tests.factories import UserFactory

from .pages import ORDER_ENTRY, PHONE, reachable_pages, signed_in_context

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("plan_data"),
]

# The widest element of a page that is wider than the screen, to say what overflows.
_WIDEST_JS = """() => {
  const width = document.documentElement.clientWidth;
  let worst = null;
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 0.5 && (!worst || r.right > worst.right)) {
      worst = {right: Math.round(r.right), tag: el.tagName, cls: el.className.toString(),
               text: (el.textContent || '').trim().slice(0, 40)};
    }
  }
  return worst;
}"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_staff_page_fits_a_375_px_phone(browser, live_server, language):
    # One person holding every role sees every page, with every button in its headers.
    user = UserFactory(roles=list(Role))
    pages = reachable_pages(set().union(*ROLE_PERMISSIONS.values()), user)
    pages.append((ORDER_ENTRY, reverse(ORDER_ENTRY), frozenset()))
    assert len(pages) > 40
    context = signed_in_context(browser, live_server, user, language=language, viewport=PHONE)
    page = context.new_page()
    too_wide = {}
    for name, url, _structure in pages:
        page.goto(f"{live_server.url}{url}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[f"{name} ({url})"] = (width, page.evaluate(_WIDEST_JS))
    context.close()
    assert not too_wide, "\n".join(f"{k}: {w} px, widest {e}" for k, (w, e) in too_wide.items())


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_order_list_header_and_filters_fit_a_phone_and_are_styled(
    browser, live_server, language
):
    user = UserFactory(roles=[Role.MANAGER])
    context = signed_in_context(browser, live_server, user, language=language, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}{reverse('manual_orders:order-list')}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Every button of the header is on the screen, none cut at its right edge.
    for button in page.locator("main .btn").all():
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    filters = page.get_by_test_id("order-filters")
    selects = filters.locator("select")
    expect(selects).not_to_have_count(0)
    for select in selects.all():
        expect(select).to_have_class("form-select")
    for field in filters.locator("input:not([type=hidden])").all():
        expect(field).to_have_class("form-control")
    context.close()
