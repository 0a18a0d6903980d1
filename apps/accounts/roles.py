"""Roles and the permission matrix: the one place that says which role may do what.

Views declare the permission they need; groups named after the roles carry exactly the
permissions listed here (kept in step by a data migration and a post-migrate hook); the
matrix test walks every staff URL for every role against this table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .models import User


class Role(models.TextChoices):
    EMERGENCY_LEAD = "emergency_lead", _("Emergency lead")
    TECH_SUPPORT = "tech_support", _("Tech support")
    BUSINESS_SUPPORT = "business_support", _("Business support")
    LOGISTICS = "logistics", _("Logistics")
    WAREHOUSE_CLERK = "warehouse_clerk", _("Warehouse clerk")
    CARE_AGENT = "care_agent", _("Care agent")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")


# Permission groups shared by several roles (app_label.codename).
_SEE_JOBS = {"core.view_jobrecord"}
_BACKUPS_READ = {"backups.view_backuprun", "backups.view_restorerun"}
_BACKUPS_RUN = _BACKUPS_READ | {
    "backups.add_backuprun",
    "backups.add_restorerun",
    "backups.download_backup",
}
_NOTIFICATIONS = {"core.view_notification"}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.EMERGENCY_LEAD: _SEE_JOBS | _BACKUPS_RUN | _NOTIFICATIONS,
    Role.TECH_SUPPORT: _SEE_JOBS | _BACKUPS_RUN,
    Role.BUSINESS_SUPPORT: _SEE_JOBS | _BACKUPS_READ,
    Role.LOGISTICS: _SEE_JOBS,
    Role.WAREHOUSE_CLERK: set(),
    Role.CARE_AGENT: set(),
    Role.MANAGER: _SEE_JOBS | _BACKUPS_READ | _NOTIFICATIONS,
    Role.ADMIN: _SEE_JOBS
    | _BACKUPS_RUN
    | _NOTIFICATIONS
    | {
        "accounts.manage_users",
        "accounts.view_rq_dashboard",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "auth.view_group",
        "auth.change_group",
        "core.view_all_jobs",
    },
}

# Roles that may open the Django admin (is_staff follows role membership).
ADMIN_SITE_ROLES = {Role.ADMIN}


def roles_of(user: User) -> list[Role]:
    names = {g.name for g in user.groups.all()}
    return [role for role in Role if role.value in names]


def sync_role_groups(apps=None, *, using: str = "default") -> None:
    """Create one group per role and give it exactly the matrix's permissions that exist."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.using(using).get_or_create(name=str(role.value))
        wanted = []
        for dotted in sorted(codenames):
            app_label, codename = dotted.split(".", 1)
            perm = (
                Permission.objects.using(using)
                .filter(content_type__app_label=app_label, codename=codename)
                .first()
            )
            if perm is not None:
                wanted.append(perm)
        group.permissions.set(wanted)


def sync_role_groups_after_migrate(sender, using: str = "default", **kwargs) -> None:
    if sender.label == "accounts" or sender.name.startswith("apps."):
        sync_role_groups(using=using)
