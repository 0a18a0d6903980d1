"""Thin views: parse with a form, check the role's permission, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from apps.backups import services as backups
from apps.core.charts import line_chart
from apps.core.errors import DomainError, add_domain_error
from apps.core.mixins import StaffPageMixin

from . import calendar, exports, feeds, selectors, services
from .forms import (
    AttendanceForm,
    CloseDrillForm,
    ImprovementActionForm,
    InjectForm,
    PlanDrillForm,
    RecordPhaseForm,
    SessionForm,
    StartRehearsalForm,
)
from .models import DrillPlan, DrillRun, RestoreRehearsal, TrainingSession

# --- drill plans ----------------------------------------------------------------------------------


class PlanListView(StaffPageMixin, TemplateView):
    permission_required = "drills.view_drillplan"
    template_name = "drills/plan_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["plans"] = selectors.list_plans()[:50]
        ctx["runs"] = selectors.list_runs()[:50]
        actions = list(selectors.list_improvement_actions(open_only=True)[:50])
        runs = selectors.runs_by_pk(actions)
        ctx["actions"] = [(a, runs.get(a.source_id or 0)) for a in actions]
        return ctx


class PlanDrillView(StaffPageMixin, FormView):
    permission_required = "drills.add_drillplan"
    template_name = "drills/form.html"
    form_class = PlanDrillForm
    extra_context = {"heading": gettext_lazy("Plan a drill")}

    def form_valid(self, form):
        try:
            plan = services.plan_drill(by=self.staff_user, **form.service_kwargs())
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Drill planned; the people invited were told."))
        return redirect("drills:plan-detail", pk=plan.pk)


class PlanDetailView(StaffPageMixin, DetailView):
    permission_required = "drills.view_drillplan"
    template_name = "drills/plan_detail.html"
    context_object_name = "plan"

    def get_queryset(self):
        return selectors.list_plans().prefetch_related("participants", "observers", "templates")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        plan = self.object
        ctx["occurrences"] = plan.occurrences(limit=12)
        ctx["targets"] = [(p, plan.target_minutes(p.value)) for p in selectors.DrillPhase]
        ctx["runs"] = plan.runs.select_related("incident").order_by("-started_at")
        return ctx


class StartDrillView(StaffPageMixin, View):
    permission_required = "drills.add_drillrun"

    def post(self, request, pk):
        plan = get_object_or_404(DrillPlan, pk=pk)
        try:
            run = services.start_drill(plan=plan, by=self.staff_user)
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("drills:plan-detail", pk=plan.pk)
        messages.success(request, _("Drill started: an incident flagged as a drill is open."))
        return redirect("drills:run-detail", pk=run.pk)


# --- a running drill ------------------------------------------------------------------------------


class RunDetailView(StaffPageMixin, TemplateView):
    permission_required = "drills.view_drillplan"
    template_name = "drills/run_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        try:
            run = selectors.get_run(self.kwargs["pk"])
        except DrillRun.DoesNotExist:
            raise Http404 from None
        ctx.update(
            run=run,
            actions=selectors.actions_of_run(run),
            phases=selectors.phase_rows(run),
            phase_form=RecordPhaseForm(),
            inject_form=InjectForm(),
            action_form=ImprovementActionForm(),
            close_form=CloseDrillForm(initial={"version": run.version}),
            timeline=run.incident.timeline.select_related("by").order_by("-at", "-pk")[:30],
        )
        return ctx


class RunFormView(StaffPageMixin, FormView):
    """A form about one drill; ``perform`` calls the one service it is for."""

    permission_required = "drills.change_drillrun"
    template_name = "drills/form.html"
    heading: Any = ""

    def dispatch(self, request, *args, **kwargs):
        self.run = get_object_or_404(DrillRun.objects.select_related("plan"), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(heading=self.heading, run=self.run)
        return ctx

    def form_valid(self, form):
        try:
            self.perform(form)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        return redirect("drills:run-detail", pk=self.run.pk)

    def perform(self, form) -> None:
        raise NotImplementedError


class RecordPhaseView(RunFormView):
    form_class = RecordPhaseForm
    heading = gettext_lazy("Record a phase time")

    def perform(self, form):
        services.record_phase(run=self.run, by=self.staff_user, **form.cleaned_data)


class InjectView(RunFormView):
    permission_required = "drills.observe_drill"
    form_class = InjectForm
    heading = gettext_lazy("Inject an event or a remark")

    def perform(self, form):
        services.inject(run=self.run, by=self.staff_user, **form.cleaned_data)


class AddActionView(RunFormView):
    form_class = ImprovementActionForm
    heading = gettext_lazy("Add an improvement action")

    def perform(self, form):
        services.add_improvement_action(run=self.run, by=self.staff_user, **form.cleaned_data)


class CloseDrillView(RunFormView):
    form_class = CloseDrillForm
    heading = gettext_lazy("Close the drill")

    def get_initial(self):
        return {"version": self.run.version}

    def perform(self, form):
        data = form.cleaned_data
        action = services.ActionInput(
            data["action_description"] or "", data["action_owner"], data["action_due_on"]
        )
        services.close_drill(
            run=self.run,
            by=self.staff_user,
            went_wrong=data["went_wrong"],
            actions=[action],
            version=data["version"],
        )
        messages.success(self.request, _("Drill closed."))


# --- restore rehearsals ---------------------------------------------------------------------------


class RehearsalListView(StaffPageMixin, ListView):
    permission_required = "drills.view_restorerehearsal"
    template_name = "drills/rehearsal_list.html"
    context_object_name = "rehearsals"
    paginate_by = 30

    def get_queryset(self):
        return selectors.list_rehearsals()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["chart"] = rto_rpo_trend_chart(selectors.rehearsal_trend())
        ctx["form"] = StartRehearsalForm(targets=sorted(backups.scratch_targets()))
        return ctx


def rto_rpo_trend_chart(rehearsals: list[RestoreRehearsal]) -> SafeString:
    """Minutes of RTO and RPO per rehearsal, oldest first (the house chart: SVG, no script)."""

    def minutes(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds / 60, 2)  # a gap, never a zero

    return line_chart(
        title=_("RTO and RPO per rehearsal (minutes)"),
        description=_("One point per finished restore rehearsal, oldest first"),
        x_labels=[
            f"#{r.pk} {timezone.localtime(r.finished_at or r.created_at):%m-%d %H:%M}"
            for r in rehearsals
        ],
        series={
            _("RTO"): [minutes(r.rto_seconds) for r in rehearsals],
            _("RPO"): [minutes(r.rpo_seconds) for r in rehearsals],
        },
        y_title=_("minutes"),
    )


class StartRehearsalView(StaffPageMixin, View):
    permission_required = "drills.add_restorerehearsal"

    def post(self, request):
        form = StartRehearsalForm(request.POST, targets=sorted(backups.scratch_targets()))
        if not form.is_valid():
            messages.error(request, _("Choose a scratch database."))
            return redirect("drills:rehearsal-list")
        try:
            rehearsal = services.start_rehearsal(
                by=self.staff_user, target=form.cleaned_data["target"]
            )
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("drills:rehearsal-list")
        return redirect("drills:rehearsal-detail", pk=rehearsal.pk)


class RehearsalDetailView(StaffPageMixin, DetailView):
    permission_required = "drills.view_restorerehearsal"
    template_name = "drills/rehearsal_detail.html"
    context_object_name = "rehearsal"

    def get_queryset(self):
        return selectors.list_rehearsals()


# --- training -------------------------------------------------------------------------------------


class TrainingView(StaffPageMixin, TemplateView):
    permission_required = "drills.view_course"
    template_name = "drills/training.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.staff_user
        ctx["courses"] = selectors.list_courses()
        ctx["sessions"] = selectors.list_sessions()[:50]
        ctx["my_certificates"] = user.certificates.select_related("course").order_by("-expires_on")
        ctx["role_labels"] = selectors.ROLE_LABELS
        return ctx


class PlanSessionView(StaffPageMixin, FormView):
    permission_required = "drills.manage_training"
    template_name = "drills/form.html"
    form_class = SessionForm
    extra_context = {"heading": gettext_lazy("Plan a training session")}

    def form_valid(self, form):
        try:
            session = services.plan_session(by=self.staff_user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        return redirect("drills:session-detail", pk=session.pk)


class SessionDetailView(StaffPageMixin, DetailView):
    permission_required = "drills.view_course"
    template_name = "drills/session_detail.html"
    context_object_name = "session"

    def get_queryset(self):
        return selectors.list_sessions().prefetch_related("invitees")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["attendance"] = self.object.attendance.select_related("user")
        ctx["form"] = AttendanceForm(session=self.object)
        ctx["started"] = self.object.starts_at <= timezone.now()
        return ctx


class RecordAttendanceView(StaffPageMixin, FormView):
    permission_required = "drills.manage_training"
    template_name = "drills/form.html"
    form_class = AttendanceForm
    extra_context = {"heading": gettext_lazy("Record attendance and score")}

    def dispatch(self, request, *args, **kwargs):
        self.session = get_object_or_404(TrainingSession, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "session": self.session}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            services.record_attendance(
                session=self.session,
                person=data["person"],
                attended=data["attended"],
                score=data["score"],
                issued_on=data["issued_on"],
                by=self.staff_user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        return redirect("drills:session-detail", pk=self.session.pk)


CELL_MARK = {"current": "✓", "expiring": "⚠", "expired": "✗"}
CELL_CLASS = {
    "expiring": "text-warning-emphasis",
    "expired": "text-danger",
    "missing": "text-danger",
}


CELL_MARK = {"current": "✓", "expiring": "⚠", "expired": "✗"}
CELL_CLASS = {
    "expiring": "text-warning-emphasis",
    "expired": "text-danger",
    "missing": "text-danger",
}


class MatrixView(StaffPageMixin, TemplateView):
    permission_required = "drills.view_readiness_matrix"
    template_name = "drills/matrix.html"
    per_page = 100

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        matrix = selectors.readiness_matrix()
        page = Paginator(matrix.rows, self.per_page).get_page(self.request.GET.get("page"))
        missing = _("missing")
        # Each cell's text and colour are made here: the template only prints them (fast, and
        # what a cell says is decided in one place).
        rows = []
        for row in page.object_list:
            cells = []
            for status, expires in row.cells:
                if status == "missing":
                    text = missing
                elif status and expires:
                    text = f"{CELL_MARK[status]} {expires:%Y-%m-%d}"
                else:
                    text = ""
                cells.append((status, CELL_CLASS.get(status, ""), text))
            rows.append((row.user, cells))
        ctx.update(matrix=matrix, page_obj=page, rows=rows, is_paginated=page.has_other_pages())
        return ctx


class MatrixExportView(StaffPageMixin, View):
    permission_required = "drills.view_readiness_matrix"

    def get(self, request):
        content = exports.matrix_xlsx(selectors.readiness_matrix())
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="training-readiness-{stamp}.xlsx"'
        return response


# --- the calendar feed ----------------------------------------------------------------------------


class CalendarView(StaffPageMixin, TemplateView):
    permission_required = ()  # every member of staff has their own feed
    template_name = "drills/calendar.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        token = calendar.feed_token(self.staff_user)
        path = reverse("drills:calendar-feed", args=[token])
        ctx["feed_url"] = self.request.build_absolute_uri(f"{path}?lang={get_language()}")
        return ctx


class CalendarFeedView(View):
    """Public but signed: calendar apps fetch it without a session."""

    def get(self, request, token):
        from django.contrib.auth import get_user_model

        user_id = calendar.user_from_token(token)
        if user_id is None:
            raise Http404
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise Http404
        language = request.GET.get("lang") or user.language or "zh-hans"
        body = feeds.build_feed(user=user, language=language)
        return HttpResponse(body, content_type="text/calendar; charset=utf-8")


__all__ = ["RestoreRehearsal"]
