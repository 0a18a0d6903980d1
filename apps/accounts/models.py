from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
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

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("manage_users", _("Can manage users and their roles")),
            ("view_rq_dashboard", _("Can open the job queue dashboard")),
        ]

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username

    @property
    def role_names(self) -> list[str]:
        from .roles import roles_of

        return [str(role.label) for role in roles_of(self)]
