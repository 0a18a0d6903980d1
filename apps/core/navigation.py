"""The navigation bar: each entry shows only to roles holding its permission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class NavItem:
    label: StrOrPromise
    url_name: str
    permission: str | None = None
    icon: str = "circle"


NAV_ITEMS: list[NavItem] = [
    NavItem(_("Dashboard"), "core:dashboard", None, "speedometer2"),
    NavItem(
        _("Incidents"), "incidents:incident-list", "incidents.view_incident", "exclamation-octagon"
    ),
    NavItem(_("Backups"), "backups:backup-list", "backups.view_backuprun", "database"),
    NavItem(
        _("Manual orders"),
        "manual_orders:order-list",
        "manual_orders.view_manualorder",
        "telephone",
    ),
    NavItem(_("Customer care"), "customer_care:queue", "customer_care.view_case", "headset"),
    NavItem(
        _("Stock counts"),
        "inventory_counts:session-list",
        "inventory_counts.view_countsession",
        "upc-scan",
    ),
    NavItem(
        _("Evaluations"),
        "evaluations:dashboard",
        "evaluations.view_evaluationreport",
        "clipboard-data",
    ),
    NavItem(_("Drills"), "drills:plan-list", "drills.view_drillplan", "cone-striped"),
    NavItem(_("Training"), "drills:training", "drills.view_course", "mortarboard"),
    NavItem(
        _("Outreach"),
        "customer_care:outreach-home",
        "customer_care.grant_compensation",
        "megaphone",
    ),
    NavItem(_("Jobs"), "core:job-list", "core.view_jobrecord", "hourglass-split"),
    NavItem(_("Notifications"), "core:notification-list", "core.view_notification", "envelope"),
    NavItem(_("Users"), "accounts:user-list", "accounts.manage_users", "people"),
]


def items_for(user) -> list[dict]:
    items = []
    for item in NAV_ITEMS:
        if item.permission and not user.has_perm(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue  # the app providing this page is not installed in this deployment
        items.append({"label": item.label, "url": url, "icon": item.icon})
    return items
