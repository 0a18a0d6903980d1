"""The order list's filters say what an empty choice means, in the reader's language."""

import pytest
from django.urls import reverse

from apps.accounts.roles import Role


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "label"), [("en", "All warehouses"), ("zh-hans", "全部仓库")])
def test_the_warehouse_filter_offers_all_warehouses_not_dashes(client, make_user, language, label):
    client.force_login(make_user(Role.BUSINESS_SUPPORT))
    page = client.get(reverse("manual_orders:order-list"), HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    assert f'<option value="" selected>{label}</option>' in html
    assert "---------" not in html
