from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin

if TYPE_CHECKING:
    from django.http import HttpRequest

    from apps.accounts.models import User


class StaffPageMixin(PermissionRequiredMixin):
    """A staff page: anonymous visitors go to login, signed-in staff without the role get 403.

    Every staff view declares ``permission_required`` (an empty tuple means any signed-in
    staff member); a view that forgets fails loudly (Django's ImproperlyConfigured) instead of
    opening to everyone, and the role matrix test reads it.
    """

    permission_required: str | tuple[str, ...] | None = None
    request: HttpRequest

    def has_permission(self) -> bool:
        user = self.request.user
        if not user.is_authenticated or not user.is_active:
            return False
        return super().has_permission()

    @property
    def staff_user(self) -> User:
        """The signed-in member of staff acting (``has_permission`` let only them through)."""
        return cast("User", self.request.user)


__all__ = ["LoginRequiredMixin", "StaffPageMixin"]
