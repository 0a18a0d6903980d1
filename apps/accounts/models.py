import unicodedata

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class User(AbstractUser):
    """A member of staff. Roles are Django groups named after ``roles.Role`` values."""

    phone = models.CharField(_("mobile phone"), max_length=32, blank=True)
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("Messages and notifications reach this person in this language."),
    )
    history = HistoricalRecords(excluded_fields=["last_login", "password"])

    # Set before save(); django-simple-history writes it on the history row.
    _change_reason: str

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("manage_users", _("Can manage users and their roles")),
            ("view_rq_dashboard", _("Can open the job queue dashboard")),
        ]

    def get_full_name(self) -> str:
        """The name in the reader's order. A Chinese reader reads the family name first (张伟,
        "Zhang Wei"); an English reader the given name first ("Wei Zhang"), except for a name
        written in Chinese characters, which keeps its own order (张伟) whoever reads it."""
        given, family = self.first_name.strip(), self.last_name.strip()
        if not (given and family):
            return given or family
        if _is_cjk(given + family) or (get_language() or "").startswith("zh"):
            separator = "" if _is_cjk(given + family) else " "
            return f"{family}{separator}{given}"
        return f"{given} {family}"

    def get_short_name(self) -> str:
        return self.first_name.strip() or self.last_name.strip()

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username

    @property
    def role_names(self) -> list[str]:
        from .roles import roles_of

        return [str(role.label) for role in roles_of(self)]


def _is_cjk(text: str) -> bool:
    """Written in Chinese (or Japanese/Korean) characters."""
    return any(
        unicodedata.name(ch, "").startswith(("CJK", "HANGUL", "HIRAGANA", "KATAKANA"))
        for ch in text
    )
