"""Words shown about people and languages: names in the reader's order, languages by their own
names."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from apps.accounts.roles import Role

pytestmark = pytest.mark.django_db


def _page(client, user, language: str) -> str:
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(reverse("core:dashboard")).content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_chinese_name_is_shown_family_name_first_without_a_space(client, make_user, language):
    user = make_user(Role.MANAGER, first_name="伟", last_name="张")
    with translation.override(language):
        assert user.get_full_name() == "张伟"
        assert str(user) == f"张伟 ({user.username})"
    page = _page(client, user, language)
    assert "张伟" in page
    assert "伟 张" not in page


def test_a_latin_name_follows_the_readers_order(make_user):
    user = make_user(Role.MANAGER, first_name="Wei", last_name="Zhang")
    with translation.override("en"):
        assert user.get_full_name() == "Wei Zhang"
    with translation.override("zh-hans"):
        assert user.get_full_name() == "Zhang Wei"


def test_a_single_name_is_shown_as_it_is(make_user):
    assert make_user(Role.MANAGER, first_name="", last_name="欧阳").get_full_name() == "欧阳"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_language_menu_names_each_language_in_that_language(client, make_user, language):
    page = _page(client, make_user(Role.MANAGER), language)
    menu = re.search(r'<select id="language-select".*?</select>', page, re.S).group(0)
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>\s*([^<]+?)\s*</option>', menu))
    assert options == {"zh-hans": "简体中文", "en": "English"}
    # Each name is marked with its own language, so a screen reader pronounces it right.
    assert re.search(r'<option value="en" lang="en"', menu)
    assert re.search(r'<option value="zh-hans" lang="zh-hans"', menu, re.I)
    assert "英语" not in page and "中文（简体）" not in page
