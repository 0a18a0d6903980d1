"""States, categories and the transitions between states: declared once, enforced in services."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role


class IncidentState(models.TextChoices):
    DECLARED = "declared", _("Declared")
    TEAM_ASSEMBLED = "team_assembled", _("Team assembled")
    INVESTIGATING = "investigating", _("Investigating")
    FIXING = "fixing", _("Fixing")
    MANUAL_PROCESS = "manual_process", _("Business running on the manual process")
    RECOVERED = "recovered", _("Recovered")
    MONITORING = "monitoring", _("Monitoring")
    CLOSED = "closed", _("Closed")
    REVIEWED = "reviewed", _("Reviewed")

    @classmethod
    def open_states(cls) -> set[str]:
        return set(cls.values) - {cls.CLOSED, cls.REVIEWED}


S = IncidentState

# Where an incident may go from each state. Going back (e.g. monitoring → investigating when the
# problem returns) is allowed where the plan needs it; the first time of each state is kept.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.DECLARED: {S.TEAM_ASSEMBLED},
    S.TEAM_ASSEMBLED: {S.INVESTIGATING},
    S.INVESTIGATING: {S.FIXING, S.MANUAL_PROCESS},
    S.FIXING: {S.INVESTIGATING, S.MANUAL_PROCESS, S.RECOVERED},
    S.MANUAL_PROCESS: {S.FIXING, S.RECOVERED},
    S.RECOVERED: {S.MONITORING},
    S.MONITORING: {S.INVESTIGATING, S.CLOSED},
    S.CLOSED: {S.REVIEWED},
    S.REVIEWED: set(),
}

# The Incident field that records the first time the incident entered each state.
STATE_TIMESTAMP_FIELD: dict[str, str] = {
    S.DECLARED: "declared_at",
    S.TEAM_ASSEMBLED: "team_assembled_at",
    S.INVESTIGATING: "investigating_at",
    S.FIXING: "fixing_at",
    S.MANUAL_PROCESS: "manual_process_at",
    S.RECOVERED: "recovered_at",
    S.MONITORING: "monitoring_at",
    S.CLOSED: "closed_at",
    S.REVIEWED: "reviewed_at",
}


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical: orders cannot be taken")
    HIGH = "high", _("High: orders are delayed")
    MEDIUM = "medium", _("Medium: some functions degraded")
    LOW = "low", _("Low: no visible effect on customers")


class CauseCategory(models.TextChoices):
    UNKNOWN = "", _("Not known yet")
    SYSTEM_COMPATIBILITY = "system_compatibility", _("System compatibility")
    DATA_MIGRATION = "data_migration", _("Data migration")
    OPERATOR_ERROR = "operator_error", _("Operator error")
    SECURITY = "security", _("Security vulnerability")


class CauseDetail(models.TextChoices):
    UNKNOWN = "", _("Not known yet")
    HARDWARE = "hardware", _("Hardware does not meet requirements")
    SOFTWARE_CONFLICT = "software_conflict", _("Software version conflict")
    UNSTABLE_NETWORK = "unstable_network", _("Unstable network")
    INCOMPLETE_BACKUP = "incomplete_backup", _("Incomplete backup")
    MIGRATION_ERROR = "migration_error", _("Migration error, corruption or inconsistency")
    DB_INCOMPATIBLE = "db_incompatible", _("Database version incompatible")
    WRONG_STEP = "wrong_step", _("Wrong step or order")
    GUIDE_NOT_FOLLOWED = "guide_not_followed", _("Guide not followed")
    ADMIN_NO_RESPONSE = "admin_no_response", _("Administrator did not respond")
    ATTACK_DATA_LEAK = "attack_data_leak", _("Attack and data leak")
    STABILITY_DEGRADED = "stability_degraded", _("Stability degraded")


# The plan's sub-causes under each category.
CAUSE_TREE: dict[str, list[str]] = {
    CauseCategory.SYSTEM_COMPATIBILITY: [
        CauseDetail.HARDWARE,
        CauseDetail.SOFTWARE_CONFLICT,
        CauseDetail.UNSTABLE_NETWORK,
    ],
    CauseCategory.DATA_MIGRATION: [
        CauseDetail.INCOMPLETE_BACKUP,
        CauseDetail.MIGRATION_ERROR,
        CauseDetail.DB_INCOMPATIBLE,
    ],
    CauseCategory.OPERATOR_ERROR: [
        CauseDetail.WRONG_STEP,
        CauseDetail.GUIDE_NOT_FOLLOWED,
        CauseDetail.ADMIN_NO_RESPONSE,
    ],
    CauseCategory.SECURITY: [CauseDetail.ATTACK_DATA_LEAK, CauseDetail.STABILITY_DEGRADED],
}


class ImpactLevel(models.TextChoices):
    NONE = "none", _("None")
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class TeamRole(models.TextChoices):
    LEADER = "leader", _("Leader")
    TECH_SUPPORT = "tech_support", _("Tech support")
    BUSINESS_SUPPORT = "business_support", _("Business support")
    LOGISTICS = "logistics", _("Logistics")


# The account roles a member must hold to take a place on the team.
TEAM_ROLE_REQUIRES: dict[str, set[str]] = {
    TeamRole.LEADER: {Role.MANAGER, Role.EMERGENCY_LEAD},
    TeamRole.TECH_SUPPORT: {Role.TECH_SUPPORT},
    TeamRole.BUSINESS_SUPPORT: {Role.BUSINESS_SUPPORT},
    TeamRole.LOGISTICS: {Role.LOGISTICS},
}
# Who may own a task that names no team role: anyone on an emergency-team role.
TASK_OWNER_ROLES = {
    Role.EMERGENCY_LEAD,
    Role.TECH_SUPPORT,
    Role.BUSINESS_SUPPORT,
    Role.LOGISTICS,
    Role.MANAGER,
}


class Phase(models.TextChoices):
    EMERGENCY_RESPONSE = "emergency_response", _("Emergency response")
    PROBLEM_FIX = "problem_fix", _("Problem location and fix")
    BUSINESS_RECOVERY = "business_recovery", _("Business recovery")
    COORDINATION = "coordination", _("Coordination and training")
    RESOURCES = "resources", _("Resource allocation")

    @classmethod
    def plan_order(cls) -> models.Case:
        """Sorts by the plan's order of phases (as declared here), not by their names."""
        return models.Case(
            *(models.When(phase=value, then=n) for n, value in enumerate(cls.values)),
            default=len(cls.values),
            output_field=models.IntegerField(),
        )


class TaskState(models.TextChoices):
    TODO = "todo", _("To do")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")

    @classmethod
    def open_states(cls) -> set[str]:
        return {cls.TODO, cls.IN_PROGRESS}


TASK_TRANSITIONS: dict[str, set[str]] = {
    TaskState.TODO: {TaskState.IN_PROGRESS, TaskState.DONE, TaskState.SKIPPED},
    TaskState.IN_PROGRESS: {TaskState.TODO, TaskState.DONE, TaskState.SKIPPED},
    TaskState.DONE: {TaskState.IN_PROGRESS},
    TaskState.SKIPPED: {TaskState.TODO},
}


class ResourceKind(models.TextChoices):
    SERVER = "server", _("Standby server")
    STORAGE = "storage", _("Storage")
    SOFTWARE = "software", _("Software tool")
    NETWORK = "network", _("Network capacity")
    PEOPLE = "people", _("People")


class ResourceState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ALLOCATED = "allocated", _("Allocated")
    RELEASED = "released", _("Released")
    CANCELLED = "cancelled", _("Cancelled")


RESOURCE_TRANSITIONS: dict[str, set[str]] = {
    ResourceState.REQUESTED: {ResourceState.ALLOCATED, ResourceState.CANCELLED},
    ResourceState.ALLOCATED: {ResourceState.RELEASED},
    ResourceState.RELEASED: set(),
    ResourceState.CANCELLED: set(),
}


class ReadinessItemKind(models.TextChoices):
    """The plan's pre-upgrade checks (section 2.3)."""

    ORDER_DB_REACHABLE = "order_db_reachable", _("The order-system database is reachable")
    RECENT_BACKUPS = "recent_backups", _("Every backup scope has a recent verified backup")
    OPERATORS_TRAINED = "operators_trained", _("Operators on duty have current training")
    HARDWARE = "hardware", _("Hardware meets the new version's requirements")
    SOFTWARE = "software", _("Software versions are compatible (trial upgrade in a test system)")
    NETWORK = "network", _("The network is stable")
    ROLLBACK_PLAN = "rollback_plan", _("The rollback plan is written and rehearsed")
    TEAM_STANDBY = "team_standby", _("The emergency team is on standby")
    CUSTOMERS_INFORMED = "customers_informed", _("Customers are told about the maintenance window")


# Items the system checks itself (training and the restore rehearsal are read from apps.drills).
AUTOMATIC_READINESS_ITEMS = {
    ReadinessItemKind.ORDER_DB_REACHABLE,
    ReadinessItemKind.RECENT_BACKUPS,
    ReadinessItemKind.OPERATORS_TRAINED,
}


class ReadinessItemState(models.TextChoices):
    PENDING = "pending", _("Not checked")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class ReadinessResult(models.TextChoices):
    PENDING = "pending", _("Not signed off")
    GO = "go", _("Go")
    NO_GO = "no_go", _("No go")
