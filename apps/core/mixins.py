from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin


class StaffPageMixin(PermissionRequiredMixin):
    """A staff page: anonymous visitors go to login, signed-in staff without the role get 403.

    Every staff view declares ``permission_required`` (an empty tuple means any signed-in
    staff member); a view that forgets fails loudly (Django's ImproperlyConfigured) instead of
    opening to everyone, and the role matrix test reads it.
    """

    permission_required: str | tuple[str, ...] | None = None

    def has_permission(self) -> bool:
        user = self.request.user
        if not user.is_authenticated or not user.is_active:
            return False
        return super().has_permission()


__all__ = ["LoginRequiredMixin", "StaffPageMixin"]
