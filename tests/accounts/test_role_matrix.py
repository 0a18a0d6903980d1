"""Walk every staff URL for every role and compare with the permission matrix."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.accounts.roles import ROLE_PERMISSIONS, Role
from apps.core.models import JobRecord

APP_NAMESPACES = {
    "core",
    "accounts",
    "incidents",
    "backups",
    "manual_orders",
    "inventory_counts",
    "customer_care",
    "drills",
    "evaluations",
    "monitoring",
}
# Public or POST-only endpoints, tested on their own.
NOT_STAFF_PAGES = {
    "accounts:login",
    "accounts:logout",
    "accounts:password-reset",
    "accounts:password-reset-done",
    "accounts:password-reset-confirm",
    "accounts:password-reset-complete",
    "core:switch-language",
    "drills:calendar-feed",  # signed per-user URL for calendar apps (tests/drills/test_calendar.py)
}


def _job_for(user):
    return {"pk": JobRecord.objects.create(kind="t", title="t", started_by=user).pk}


def _backup(user):
    from tests.backups.factories import BackupRunFactory

    return {"pk": BackupRunFactory(with_file=True).pk}


def _restore(user):
    from tests.backups.factories import RestoreRunFactory

    return {"pk": RestoreRunFactory().pk}


def _full_backup(user):
    from apps.backups.models import FullBackup

    return {"pk": FullBackup.objects.create(state="complete", is_active=False).pk}


def _incident(user):
    from tests.incidents.factories import IncidentFactory

    return {"pk": IncidentFactory().pk}


def _team_member(user):
    from tests.incidents.factories import TeamMemberFactory

    member = TeamMemberFactory()
    return {"pk": member.incident_id, "member_pk": member.pk}


def _incident_object(factory_name):
    def make(user):
        from tests.incidents import factories

        return {"pk": getattr(factories, factory_name)().pk}

    return make


def _count_session(user):
    """A counting session open to every clerk, so each role's access is the matrix's alone."""
    from apps.inventory_counts import services
    from tests.inventory_counts.factories import LocationFactory

    location = LocationFactory()
    session = services.create_session(name="s", warehouse=location.warehouse, by=user)
    return {"pk": services.start_session(session=session, by=user).pk}


def _count_sheet(user):
    from apps.inventory_counts.models import CountSheetImport

    session = _count_session(user)["pk"]
    sheet = CountSheetImport.objects.create(
        session_id=session, content=b"", original_name="s.csv", input_format="csv", created_by=user
    )
    return {"pk": sheet.pk}


def _manual_order(user):
    from apps.manual_orders import services
    from tests.manual_orders.factories import CustomerFactory, new_key, priced_product

    product = priced_product(by=user)
    order = services.place_order(
        idempotency_key=new_key(),
        customer=CustomerFactory(),
        channel="phone",
        delivery_address="x",
        lines=[services.LineInput(product_id=product.pk, quantity=1)],
        by=user,
    ).order
    return {"pk": order.pk}


def _reference_import(user):
    from apps.manual_orders.models import ReferenceImport

    imp = ReferenceImport.objects.create(
        kind="products",
        content=b"",
        original_name="p.csv",
        input_format="csv",
        state="checked",
        created_by=user,
    )
    return {"pk": imp.pk}


def _warehouse(user):
    from tests.inventory_counts.factories import WarehouseFactory

    return {"pk": WarehouseFactory().pk}


def _evaluation_report(user):
    from apps.evaluations.services import compute_report
    from tests.factories import UserFactory
    from tests.incidents.factories import IncidentFactory

    return {"pk": compute_report(incident=IncidentFactory(), by=UserFactory()).pk}


def _improvement_action(user):
    from tests.evaluations.factories import ImprovementActionFactory

    return {"pk": ImprovementActionFactory().pk}


def _plan_change(user):
    from apps.evaluations.services import propose_plan_change
    from tests.factories import UserFactory

    change = propose_plan_change(
        kind="add",
        fields={"phase": "emergency_response", "title_zh": "新", "title_en": "New"},
        by=UserFactory(),
    )
    return {"pk": change.pk}


def _drills(factory_name):
    def make(user):
        from tests.drills import factories

        return {"pk": getattr(factories, factory_name)().pk}

    return make


def _care_case(user):
    from apps.customer_care.models import Case
    from apps.customer_care.services.common import start_clock
    from tests.manual_orders.factories import CustomerFactory

    case = Case(customer=CustomerFactory(), channel="phone", case_type="order_query", subject="s")
    start_clock(case)
    case.save()
    return {"pk": case.pk}


def _failed_notification(user):
    from apps.core.models import Notification

    notification = Notification.objects.create(
        channel="sms", address="13800000000", language="zh-hans", body="x", state="failed"
    )
    return {"pk": notification.pk}


def _alarm(user):
    from apps.monitoring.models import Alarm
    from tests.monitoring.factories import RuleFactory

    return {"pk": Alarm.objects.create(rule=RuleFactory(), severity="warning").pk}


def _rule(user):
    from tests.monitoring.factories import RuleFactory

    return {"pk": RuleFactory().pk}


def _http_probe(user):
    from tests.monitoring.factories import HttpProbeFactory

    return {"pk": HttpProbeFactory().pk}


def _duty_shift(user):
    from tests.monitoring.factories import DutyShiftFactory

    return {"pk": DutyShiftFactory().pk}


def _problem(user):
    from apps.monitoring import services
    from tests.monitoring.images import png_bytes

    return {"pk": services.report_problem(what="x", screenshot=png_bytes(), by=user).pk}


def _care_customer(user):
    from tests.manual_orders.factories import CustomerFactory

    return {"pk": CustomerFactory().pk}


def _notice(user):
    from apps.customer_care.models import Notice

    notice = Notice.objects.create(
        title="n", audience="vip", body_zh="z", body_en="e", rate_per_second=10, created_by=user
    )
    return {"pk": notice.pk}


def _follow_up(user):
    from apps.customer_care.models import FollowUp
    from tests.customer_care.outreach.factories import resolved_case

    return {"pk": FollowUp.objects.create(case=resolved_case(user), reason="complaint").pk}


def _planned_contact(user):
    from django.utils import timezone

    from apps.customer_care.models import PlannedContact
    from tests.manual_orders.factories import CustomerFactory

    contact = PlannedContact.objects.create(
        customer=CustomerFactory(vip=True), due_at=timezone.now(), purpose="p", planned_by=user
    )
    return {"pk": contact.pk}


# URL kwargs for pages that show one object, made for the visiting user.
SAMPLE_KWARGS = {
    "manual_orders:order-detail": _manual_order,
    "manual_orders:order-confirm": _manual_order,
    "manual_orders:order-cancel": _manual_order,
    "manual_orders:order-allocate": _manual_order,
    "manual_orders:order-dispatch": _manual_order,
    "manual_orders:order-deliver": _manual_order,
    "manual_orders:pick-list": _warehouse,
    "manual_orders:reference-detail": _reference_import,
    "manual_orders:reference-confirm": _reference_import,
    "inventory_counts:session-detail": _count_session,
    "inventory_counts:session-start": _count_session,
    "inventory_counts:session-close": _count_session,
    "inventory_counts:session-approve": _count_session,
    "inventory_counts:session-cancel": _count_session,
    "inventory_counts:count-entry": _count_session,
    "inventory_counts:count-scan": _count_session,
    "inventory_counts:count-record": _count_session,
    "inventory_counts:sheet-export": _count_session,
    "inventory_counts:sheet-upload": _count_session,
    "inventory_counts:variance-report": _count_session,
    "inventory_counts:variance-export": _count_session,
    "inventory_counts:sheet-detail": _count_sheet,
    "inventory_counts:sheet-confirm": _count_sheet,
    "inventory_counts:sheet-recheck": _count_sheet,
    "backups:backup-detail": _backup,
    "backups:backup-verify": _backup,
    "backups:backup-download": _backup,
    "backups:restore-detail": _restore,
    "backups:full-backup-detail": _full_backup,
    "core:job-detail": _job_for,
    "core:job-progress": _job_for,
    "accounts:user-edit": lambda user: {"pk": user.pk},
    "incidents:incident-detail": _incident,
    "incidents:incident-live": _incident,
    "incidents:incident-assessment": _incident,
    "incidents:incident-transition": _incident,
    "incidents:team-assign": _incident,
    "incidents:team-acknowledge": _team_member,
    "incidents:note-add": _incident,
    "incidents:task-add": _incident,
    "incidents:resource-request": _incident,
    "incidents:meeting-record": _incident,
    "incidents:task-edit": _incident_object("TaskFactory"),
    "incidents:task-state": _incident_object("TaskFactory"),
    "incidents:resource-move": _incident_object("ResourceFactory"),
    "incidents:decision-task": _incident_object("MeetingDecisionFactory"),
    "incidents:template-edit": _incident_object("TaskTemplateFactory"),
    "incidents:readiness-detail": _incident_object("ReadinessCheckFactory"),
    "incidents:readiness-act": _incident_object("ReadinessCheckFactory"),
    "evaluations:incident-report": _incident,
    "evaluations:report-compute": _incident,
    "evaluations:report-detail": _evaluation_report,
    "evaluations:report-narrative": _evaluation_report,
    "evaluations:report-sign": _evaluation_report,
    "evaluations:report-pdf": _evaluation_report,
    "evaluations:report-xlsx": _evaluation_report,
    "evaluations:action-state": _improvement_action,
    "evaluations:plan-decide": _plan_change,
    "drills:plan-detail": _drills("DrillPlanFactory"),
    "drills:drill-start": _drills("DrillPlanFactory"),
    "drills:run-detail": _drills("DrillRunFactory"),
    "drills:phase-record": _drills("DrillRunFactory"),
    "drills:inject": _drills("DrillRunFactory"),
    "drills:action-add": _drills("DrillRunFactory"),
    "drills:run-close": _drills("DrillRunFactory"),
    "drills:rehearsal-detail": _drills("RestoreRehearsalFactory"),
    "drills:session-detail": _drills("TrainingSessionFactory"),
    "drills:attendance-record": _drills("TrainingSessionFactory"),
    **{
        f"customer_care:{name}": _care_case
        for name in (
            "case-detail",
            "case-message",
            "case-state",
            "case-assign",
            "case-link-order",
            "case-order-change",
            "case-order-cancel",
            "case-request",
            "case-refund",
            "case-rma",
            "case-rma-receive",
        )
    },
    "core:notification-resend": _failed_notification,
    "monitoring:alarm-detail": _alarm,
    "monitoring:alarm-acknowledge": _alarm,
    "monitoring:alarm-declare": _alarm,
    "monitoring:rule-edit": _rule,
    "monitoring:probe-edit": _http_probe,
    "monitoring:shift-remove": _duty_shift,
    "monitoring:problem-detail": _problem,
    "monitoring:problem-screenshot": _problem,
    "monitoring:problem-triage": _problem,
    "monitoring:problem-solve": _problem,
    "customer_care:customer-ledger": _care_customer,
    "customer_care:notice-detail": _notice,
    "customer_care:notice-send": _notice,
    "customer_care:notice-pause": _notice,
    "customer_care:notice-read-customers": _notice,
    "customer_care:follow-up-close": _follow_up,
    "customer_care:contact-record": _planned_contact,
}


def staff_pages():
    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and namespace in APP_NAMESPACES and p.name:
                name = f"{namespace}:{p.name}"
                if name not in NOT_STAFF_PAGES:
                    yield name, p

    return sorted(walk(get_resolver().url_patterns, None), key=lambda item: item[0])


def _allowed_status(pattern) -> int:
    """A POST-only action answers 405 to a GET from someone allowed to use it."""
    view_class = pattern.callback.view_class
    return 200 if hasattr(view_class, "get") else 405


def _required(pattern) -> set[str]:
    view_class = getattr(pattern.callback, "view_class", None)
    assert view_class is not None, f"{pattern.name}: staff pages are class-based views"
    required = view_class.permission_required
    assert required is not None, f"{pattern.name} declares no permission"
    return {required} if isinstance(required, str) else set(required)


def _url(name, pattern, user):
    if pattern.pattern.converters:
        assert name in SAMPLE_KWARGS, f"add sample kwargs for {name} to this test"
        return reverse(name, kwargs=SAMPLE_KWARGS[name](user))
    return reverse(name)


def test_every_staff_page_is_in_the_walk():
    names = {name for name, _ in staff_pages()}
    assert {"core:dashboard", "core:job-list", "accounts:user-list", "backups:backup-list"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_sees_exactly_the_pages_the_matrix_grants(client, make_user, role):
    user = make_user(role)
    client.force_login(user)
    checked = 0
    for name, pattern in staff_pages():
        url = _url(name, pattern, user)
        allowed = _required(pattern) <= ROLE_PERMISSIONS[role]
        expected = _allowed_status(pattern) if allowed else 403
        response = client.get(url)
        assert response.status_code == expected, f"{role.value} on {name} ({url})"
        checked += 1
    assert checked >= 6


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_login_from_every_staff_page(client, make_user):
    owner = make_user(Role.ADMIN)
    login = reverse("accounts:login")
    for name, pattern in staff_pages():
        response = client.get(_url(name, pattern, owner))
        assert response.status_code == 302, name
        assert response["Location"].startswith(login), name
    for url in ("/admin/", "/rq/"):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_only_admins_reach_the_django_admin_and_the_queue_dashboard(client, make_user, role):
    client.force_login(make_user(role))
    expected = 200 if role == Role.ADMIN else 403
    assert client.get("/admin/").status_code == expected
    assert client.get("/admin/accounts/user/").status_code == expected
    assert client.get("/rq/").status_code == expected


@pytest.mark.django_db
def test_a_warehouse_clerk_is_refused_the_admin_login_page_too(client, make_user):
    client.force_login(make_user(Role.WAREHOUSE_CLERK))
    assert client.get("/admin/login/").status_code == 403
