"""User and role changes: the only code that writes users, so every change is audited."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from simple_history.utils import update_change_reason

from apps.core.errors import DomainError

from .errors import AccountsError
from .models import User
from .roles import ADMIN_SITE_ROLES, Role


def _apply_roles(user: User, roles: Iterable[str]) -> None:
    wanted = {Role(r) for r in roles}
    groups = [Group.objects.get_or_create(name=role.value)[0] for role in wanted]
    user.groups.set(groups)
    user.is_staff = bool(wanted & ADMIN_SITE_ROLES) or user.is_superuser


def _reason(roles: Iterable[str], by: User | None) -> str:
    names = ", ".join(sorted(Role(r).value for r in roles)) or "-"
    return f"roles={names}; by={by.username if by else 'system'}"[:100]


def _keep_an_administrator(user: User, roles: list[str], by: User | None) -> None:
    """Nobody may lock the team out of user management: not themselves, not the last admin."""
    stays_admin = Role.ADMIN.value in roles and user.is_active
    if stays_admin or not user.groups.filter(name=Role.ADMIN.value).exists():
        return
    if by is not None and by.pk == user.pk:
        raise DomainError(AccountsError.OWN_ADMIN_ROLE)
    others = (
        User.objects.filter(groups__name=Role.ADMIN.value, is_active=True)
        .exclude(pk=user.pk)
        .select_for_update()
    )
    if not others.exists():
        raise DomainError(AccountsError.LAST_ADMIN)


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str | None,
    roles: Iterable[str],
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    language: str | None = None,
    by: User | None = None,
) -> User:
    roles = list(roles)
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
    )
    if language:
        user.language = language
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    _apply_roles(user, roles)
    user._change_reason = _reason(roles, by)
    user.save()
    return user


@transaction.atomic
def update_user(*, user: User, roles: Iterable[str], by: User | None = None, **fields) -> User:
    """Change a user's details and roles together; the history row names the new roles."""
    roles = list(roles)
    locked = User.objects.select_for_update().get(pk=user.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    _keep_an_administrator(locked, roles, by)
    locked.full_clean(exclude=["password"])
    _apply_roles(locked, roles)
    locked.save()
    update_change_reason(locked, _reason(roles, by))
    return locked


def set_preferred_language(*, user: User, code: str) -> bool:
    """Remember the UI language on the user (notices follow it); unknown codes are ignored."""
    if code not in dict(settings.LANGUAGES) or code == user.language:
        return False
    user.language = code
    user._change_reason = f"language={code}"
    user.save(update_fields=["language"])
    return True


class PasswordResetThrottled(DomainError):
    """Too many reset requests for this address or from this client; try again later."""

    default_code = AccountsError.RESET_THROTTLED


def note_password_reset_request(*, email: str, client_ip: str | None) -> None:
    """Count a reset request against the e-mail address and the client address, whether or not
    the address belongs to anyone (so the answer never tells which addresses exist); refuse it
    above either limit."""
    from . import ratelimit

    window = settings.PASSWORD_RESET_LIMIT_WINDOW_SECONDS
    ip_ok = ratelimit.hit(
        "password-reset:ip",
        client_ip or "unknown",
        limit=settings.PASSWORD_RESET_LIMIT_PER_IP,
        window_seconds=window,
    )
    email_ok = ratelimit.hit(
        "password-reset:email",
        email,
        limit=settings.PASSWORD_RESET_LIMIT_PER_EMAIL,
        window_seconds=window,
    )
    if not (ip_ok and email_ok):
        raise PasswordResetThrottled()
