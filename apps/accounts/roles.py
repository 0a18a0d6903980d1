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
    CARE_LEAD = "care_lead", _("Care lead")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")


# Permission groups shared by several roles (app_label.codename).
_SEE_JOBS = {"core.view_jobrecord", "core.view_schedulerun"}
_BACKUPS_READ = {"backups.view_backuprun", "backups.view_restorerun"}
_BACKUPS_RUN = _BACKUPS_READ | {
    "backups.add_backuprun",
    "backups.add_restorerun",
    "backups.download_backup",
}
_NOTIFICATIONS = {"core.view_notification", "core.resend_notification"}
_INCIDENTS_READ = {"incidents.view_incident"}
_INCIDENTS_WORK = _INCIDENTS_READ | {"incidents.change_incident"}
_INCIDENTS_LEAD = _INCIDENTS_WORK | {
    "incidents.add_incident",
    "incidents.assign_team",
    "incidents.check_readiness",
}

_INVENTORY_READ = {"inventory_counts.view_countsession", "inventory_counts.view_approvedstock"}
_INVENTORY_COUNT = _INVENTORY_READ | {"inventory_counts.add_countentry"}
_INVENTORY_REVIEW = _INVENTORY_READ | {"inventory_counts.review_countsession"}
_INVENTORY_PLAN = _INVENTORY_REVIEW | {
    "inventory_counts.add_countsession",
    "inventory_counts.change_countsession",
    "inventory_counts.import_countsheet",
}
_INVENTORY_APPROVE = _INVENTORY_PLAN | {"inventory_counts.approve_countsession"}

_ORDERS_READ = {"manual_orders.view_manualorder"}
_ORDERS_TAKE = _ORDERS_READ | {"manual_orders.add_manualorder", "manual_orders.change_manualorder"}
_ORDERS_FULFIL = _ORDERS_READ | {
    "manual_orders.change_manualorder",
    "manual_orders.fulfil_manualorder",
}
_ORDERS_HAND_BACK = _ORDERS_READ | {
    "manual_orders.hand_back_manualorder",
    "manual_orders.import_reference",
}
_CARE_READ = {"customer_care.view_case"}
_CARE_WORK = _CARE_READ | {"customer_care.add_case", "customer_care.work_case"}
_CARE_LEAD = _CARE_WORK | {"customer_care.lead_care"}
_CARE_MANAGE = _CARE_LEAD | {"customer_care.manage_targets"}
# Outreach (#15): agents grant compensation within their limit; leads grant above it, hand
# grants over, send notices and edit the public status page; managers also set the limit and
# compensate a case a second time.
_OUTREACH_AGENT = {"customer_care.grant_compensation"}
_OUTREACH_LEAD = _OUTREACH_AGENT | {
    "customer_care.approve_compensation",
    "customer_care.hand_over_compensation",
    "customer_care.send_notice",
    "customer_care.edit_status_page",
}
_OUTREACH_MANAGE = _OUTREACH_LEAD | {
    "customer_care.override_compensation",
    "customer_care.set_compensation_limit",
}

_ORDERS_ALL = _ORDERS_TAKE | _ORDERS_FULFIL | _ORDERS_HAND_BACK | {"manual_orders.override_price"}

# Evaluation reports: only managers (who write them) and administrators (who read) see them.
_EVALUATIONS_READ = {
    "evaluations.view_evaluationreport",
    "evaluations.export_evaluationreport",
    "evaluations.view_improvementaction",
    "evaluations.view_planversion",
}
_EVALUATIONS_MANAGE = _EVALUATIONS_READ | {
    "evaluations.add_evaluationreport",
    "evaluations.change_evaluationreport",
    "evaluations.sign_evaluationreport",
    "evaluations.add_improvementaction",
    "evaluations.change_improvementaction",
    "evaluations.manage_targets",
    "evaluations.add_planchange",
    "evaluations.approve_planchange",
}
_DRILLS_READ = {"drills.view_drillplan"}
_DRILLS_RUN = _DRILLS_READ | {
    "drills.add_drillplan",
    "drills.change_drillplan",
    "drills.add_drillrun",
    "drills.change_drillrun",
    "drills.observe_drill",
}
_REHEARSALS_READ = {"drills.view_restorerehearsal"}
_REHEARSALS_RUN = _REHEARSALS_READ | {"drills.add_restorerehearsal"}
_TRAINING_READ = {"drills.view_course"}
_TRAINING_MANAGE = _TRAINING_READ | {"drills.manage_training", "drills.view_readiness_matrix"}
# Monitoring: everyone reports problems; tech support and the lead watch and act on alarms;
# administrators edit rules and HTTP probes. Whoever sees alarms sees the duty roster; the
# emergency lead (who leads tech support in an incident) and administrators keep it.
_REPORT_PROBLEMS = {"monitoring.add_problemreport"}
_FIGURES = {"monitoring.view_figures"}
_ALARMS_READ = {"monitoring.view_alarm", "monitoring.view_dutyshift"} | _FIGURES
_ROSTER_KEEP = {"monitoring.add_dutyshift", "monitoring.delete_dutyshift"}
_ALARMS_ACT = _ALARMS_READ | {
    "monitoring.acknowledge_alarm",
    "monitoring.view_problemreport",
    "monitoring.triage_problemreport",
}

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.EMERGENCY_LEAD: _ALARMS_ACT
    | _ROSTER_KEEP
    | _REPORT_PROBLEMS
    | _SEE_JOBS
    | _BACKUPS_RUN
    | _NOTIFICATIONS
    | _INCIDENTS_LEAD
    | _INVENTORY_REVIEW
    | _ORDERS_TAKE
    | {"manual_orders.override_price"}
    | _DRILLS_RUN
    | _REHEARSALS_READ
    | _TRAINING_READ
    | {"drills.view_readiness_matrix"}
    | _CARE_READ,
    Role.TECH_SUPPORT: _ALARMS_ACT
    | _REPORT_PROBLEMS
    | _SEE_JOBS
    | _BACKUPS_RUN
    | _INCIDENTS_WORK
    | {"incidents.add_incident", "incidents.check_readiness"}
    | _ORDERS_HAND_BACK
    | _DRILLS_READ
    | _REHEARSALS_RUN
    | _TRAINING_READ,
    Role.BUSINESS_SUPPORT: _FIGURES
    | _REPORT_PROBLEMS
    | _SEE_JOBS
    | _BACKUPS_READ
    | _INCIDENTS_WORK
    | _ORDERS_TAKE
    | _DRILLS_READ
    | _TRAINING_READ,
    Role.LOGISTICS: _FIGURES
    | _REPORT_PROBLEMS
    | _SEE_JOBS
    | _INCIDENTS_WORK
    | _INVENTORY_PLAN
    | _ORDERS_FULFIL
    | _DRILLS_READ
    | _TRAINING_READ,
    Role.WAREHOUSE_CLERK: _REPORT_PROBLEMS
    | _INCIDENTS_READ
    | _INVENTORY_COUNT
    | _ORDERS_READ
    | _TRAINING_READ,
    # Care agents answer cases, look orders up and change or cancel manual orders from a case.
    Role.CARE_AGENT: _REPORT_PROBLEMS
    | _SEE_JOBS
    | _INCIDENTS_READ
    | _ORDERS_TAKE
    | _CARE_WORK
    | _OUTREACH_AGENT
    | _TRAINING_READ,
    # Care leads also see the team's queue and figures and reassign cases.
    Role.CARE_LEAD: _FIGURES
    | _REPORT_PROBLEMS
    | _SEE_JOBS
    | _NOTIFICATIONS
    | _INCIDENTS_READ
    | _ORDERS_TAKE
    | _CARE_LEAD
    | _TRAINING_READ
    | _OUTREACH_LEAD,
    Role.MANAGER: _ALARMS_READ
    | _REPORT_PROBLEMS
    | _SEE_JOBS
    | _BACKUPS_READ
    | _NOTIFICATIONS
    | _INCIDENTS_LEAD
    | _INVENTORY_APPROVE
    | _ORDERS_ALL
    | _EVALUATIONS_MANAGE
    | {"incidents.manage_templates"}
    | _DRILLS_RUN
    | _REHEARSALS_RUN
    | _TRAINING_MANAGE
    | _CARE_MANAGE
    | _OUTREACH_MANAGE,
    Role.ADMIN: _ALARMS_READ
    | _ROSTER_KEEP
    | _REPORT_PROBLEMS
    | {
        "monitoring.view_alarmrule",
        "monitoring.change_alarmrule",
        "monitoring.view_probe",
        "monitoring.add_probe",
        "monitoring.change_probe",
    }
    | _SEE_JOBS
    | _BACKUPS_RUN
    | _NOTIFICATIONS
    | _INCIDENTS_READ
    | _INVENTORY_APPROVE
    | _INVENTORY_COUNT
    | _ORDERS_ALL
    | _EVALUATIONS_READ
    | _REHEARSALS_RUN
    | _TRAINING_MANAGE
    | _CARE_MANAGE
    | _OUTREACH_MANAGE
    | {
        # Courses (which roles need them, pass marks, validity) are kept in the Django admin.
        "drills.add_course",
        "drills.change_course",
        # Manual orders' reference data and rules are also kept in the Django admin.
        "manual_orders.view_customer",
        "manual_orders.add_customer",
        "manual_orders.change_customer",
        "manual_orders.view_productprice",
        "manual_orders.add_productprice",
        "manual_orders.change_productprice",
        "manual_orders.view_allocationrule",
        "manual_orders.add_allocationrule",
        "manual_orders.change_allocationrule",
        # Warehouses, bins and the product reference are kept in the Django admin.
        "catalog.view_warehouse",
        "catalog.add_warehouse",
        "catalog.change_warehouse",
        "catalog.view_location",
        "catalog.add_location",
        "catalog.change_location",
        "catalog.view_product",
        "catalog.add_product",
        "catalog.change_product",
        "inventory_counts.view_countsheetimport",
        # The admin keeps the plan's templates and the incident records in the Django admin.
        "incidents.manage_templates",
        "incidents.view_incidenttransition",
        "incidents.view_teammember",
        "incidents.view_task",
        "incidents.view_timelineentry",
        "incidents.view_resourceallocation",
        "incidents.view_meeting",
        "incidents.view_readinesscheck",
        "incidents.view_tasktemplate",
        "incidents.add_tasktemplate",
        "incidents.change_tasktemplate",
        "incidents.delete_tasktemplate",
        "accounts.manage_users",
        "accounts.view_rq_dashboard",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "auth.view_group",
        "auth.change_group",
        "core.view_all_jobs",
        # Care teams (hours, lead, members) and response targets are kept in the Django admin.
        "customer_care.view_team",
        "customer_care.add_team",
        "customer_care.change_team",
        "customer_care.view_responsetarget",
        "customer_care.add_responsetarget",
        "customer_care.change_responsetarget",
        # Backup scopes are kept in the Django admin; their checks (SQL run against the
        # order system, read-only) only by administrators.
        "backups.view_backupscope",
        "backups.change_backupscope",
        "backups.change_scope_checks",
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
        group, _created = Group.objects.using(using).get_or_create(name=str(role))
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
