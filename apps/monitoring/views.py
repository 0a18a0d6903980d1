"""Monitoring pages: thin (form → permission → one service → render)."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from apps.core.errors import DomainError, add_domain_error
from apps.core.mixins import StaffPageMixin

from . import presentation, selectors, services
from .forms import (
    DeclareFromAlarmForm,
    DutyShiftForm,
    HttpProbeForm,
    ProblemReportForm,
    RuleForm,
    SolveForm,
    TriageForm,
)
from .health import health_report, metrics_text
from .models import Alarm, AlarmRule, DutyShift, Probe, ProblemReport


class OverviewView(StaffPageMixin, TemplateView):
    permission_required = "monitoring.view_alarm"
    template_name = "monitoring/overview.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["probes"] = selectors.probes_with_latest_sample()
        ctx["active"] = selectors.active_alarms()
        ctx["recent"] = list(selectors.list_alarms()[:20])
        return ctx


class AlarmDetailView(StaffPageMixin, DetailView):
    permission_required = "monitoring.view_alarm"
    template_name = "monitoring/alarm_detail.html"
    context_object_name = "alarm"

    def get_queryset(self):
        return selectors.list_alarms()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["evidence_text"] = services.evidence_text(self.object.evidence)
        ctx["samples"] = self.object.evidence.get("samples", [])
        return ctx


class AcknowledgeAlarmView(StaffPageMixin, View):
    permission_required = "monitoring.acknowledge_alarm"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        alarm = get_object_or_404(Alarm, pk=pk)
        try:
            services.acknowledge_alarm(alarm=alarm, by=self.staff_user)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Alarm acknowledged: escalation stopped."))
        return redirect("monitoring:alarm-detail", pk=pk)


class DeclareFromAlarmView(StaffPageMixin, FormView):
    permission_required = ("monitoring.acknowledge_alarm", "incidents.add_incident")
    template_name = "monitoring/declare.html"
    form_class = DeclareFromAlarmForm

    def dispatch(self, request, *args, **kwargs):
        self.alarm = get_object_or_404(selectors.list_alarms(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        from apps.incidents.choices import Severity

        return {
            "title": self.alarm.rule.name,
            "severity": Severity.CRITICAL if self.alarm.severity == "critical" else Severity.HIGH,
            "description": services.incident_description(self.alarm),
        }

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "alarm": self.alarm}

    def form_valid(self, form):
        try:
            incident = services.declare_incident_from_alarm(
                alarm=self.alarm, by=self.staff_user, **form.cleaned_data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Incident declared from the alarm, with its evidence."))
        return redirect("incidents:incident-detail", pk=incident.pk)


class RuleListView(StaffPageMixin, ListView):
    permission_required = "monitoring.change_alarmrule"
    template_name = "monitoring/rule_list.html"
    context_object_name = "rules"

    def get_queryset(self):
        return selectors.list_rules()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["probes"] = Probe.objects.order_by("kind", "name")
        return ctx


class RuleEditView(StaffPageMixin, FormView):
    permission_required = "monitoring.change_alarmrule"
    template_name = "monitoring/rule_form.html"
    form_class = RuleForm

    def dispatch(self, request, *args, **kwargs):
        self.rule = get_object_or_404(AlarmRule.objects.select_related("probe"), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = AlarmRule.objects.get(pk=self.rule.pk)
        kwargs["initial"] = {"version": self.rule.version}
        return kwargs

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "rule": self.rule}

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.save_rule(rule=self.rule, version=version, by=self.staff_user, **data)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Rule saved."))
        return redirect("monitoring:rule-list")


class HttpProbeView(StaffPageMixin, FormView):
    permission_required = "monitoring.add_probe"
    template_name = "monitoring/probe_form.html"
    form_class = HttpProbeForm
    probe: Probe | None = None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.probe is not None:
            kwargs["instance"] = Probe.objects.get(pk=self.probe.pk)
        return kwargs

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "probe": self.probe}

    def form_valid(self, form):
        try:
            services.save_http_probe(by=self.staff_user, probe=self.probe, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("HTTP probe saved; it runs from the next round."))
        return redirect("monitoring:rule-list")


class HttpProbeEditView(HttpProbeView):
    permission_required = "monitoring.change_probe"

    def dispatch(self, request, *args, **kwargs):
        self.probe = get_object_or_404(Probe, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class RosterView(StaffPageMixin, TemplateView):
    permission_required = "monitoring.view_dutyshift"
    template_name = "monitoring/roster.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        now = timezone.now()
        ctx["now"] = now
        ctx["on_duty"] = selectors.on_duty(at=now)
        ctx["shifts"] = selectors.list_shifts(now=now)
        return ctx


class AddDutyShiftView(StaffPageMixin, FormView):
    permission_required = "monitoring.add_dutyshift"
    template_name = "monitoring/shift_form.html"
    form_class = DutyShiftForm

    def form_valid(self, form):
        try:
            services.add_duty_shift(by=self.staff_user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Duty shift added to the roster."))
        return redirect("monitoring:roster")


class RemoveDutyShiftView(StaffPageMixin, View):
    permission_required = "monitoring.delete_dutyshift"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        shift = get_object_or_404(DutyShift, pk=pk)
        services.remove_duty_shift(shift=shift, by=self.staff_user)
        messages.success(request, _("Duty shift removed from the roster."))
        return redirect("monitoring:roster")


class FiguresView(StaffPageMixin, TemplateView):
    permission_required = "monitoring.view_figures"
    template_name = "monitoring/figures.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        figures = selectors.business_figures()
        ctx["figures"] = figures
        ctx["charts"] = presentation.figure_charts(figures)
        return ctx


class ReportProblemView(StaffPageMixin, FormView):
    permission_required = "monitoring.add_problemreport"
    template_name = "monitoring/problem_report.html"
    form_class = ProblemReportForm

    def get_initial(self):
        return {"where": self.request.GET.get("where", "")[:500]}

    def form_valid(self, form):
        upload = form.cleaned_data.get("screenshot")
        try:
            report = services.report_problem(
                what=form.cleaned_data["what"],
                where=form.cleaned_data["where"],
                screenshot=upload.read() if upload else None,
                by=self.staff_user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _(
                "Thank you: problem #%(id)s is with tech support. You will be told when it is solved."
            )
            % {"id": report.pk},
        )
        return redirect("core:dashboard")


class ProblemListView(StaffPageMixin, ListView):
    permission_required = "monitoring.triage_problemreport"
    template_name = "monitoring/problem_list.html"
    context_object_name = "problems"
    paginate_by = 50

    def get_queryset(self):
        return selectors.list_problems()


class ProblemDetailView(StaffPageMixin, DetailView):
    permission_required = "monitoring.triage_problemreport"
    template_name = "monitoring/problem_detail.html"
    context_object_name = "problem"

    def get_queryset(self):
        return selectors.list_problems()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        p = self.object
        ctx.setdefault(
            "triage_form",
            TriageForm(
                initial={
                    "version": p.version,
                    "category": p.category,
                    "priority": p.priority,
                    "incident": p.incident_id,
                }
            ),
        )
        ctx.setdefault("solve_form", SolveForm(initial={"version": p.version}))
        ctx["has_screenshot"] = bool(p.screenshot_type)
        return ctx


class ProblemScreenshotView(StaffPageMixin, View):
    permission_required = "monitoring.triage_problemreport"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        problem = get_object_or_404(ProblemReport, pk=pk)
        if not problem.screenshot_type:
            return HttpResponse(status=404)
        response = HttpResponse(bytes(problem.screenshot), content_type=problem.screenshot_type)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'"
        return response


class _ProblemActionView(StaffPageMixin, View):
    permission_required = "monitoring.triage_problemreport"
    form_class: type = TriageForm
    context_name = "triage_form"

    def act(self, problem: ProblemReport, data: dict) -> None:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        problem = get_object_or_404(selectors.list_problems(), pk=pk)
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                self.act(problem, dict(form.cleaned_data))
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                return redirect("monitoring:problem-detail", pk=pk)
        view = ProblemDetailView()
        view.setup(request, pk=pk)
        view.object = problem
        response = view.render_to_response(view.get_context_data(**{self.context_name: form}))
        response.status_code = 200
        return response


class TriageProblemView(_ProblemActionView):
    form_class = TriageForm
    context_name = "triage_form"

    def act(self, problem, data):
        services.triage_problem(problem=problem, by=self.staff_user, **data)
        messages.success(self.request, _("Problem classified."))


class SolveProblemView(_ProblemActionView):
    form_class = SolveForm
    context_name = "solve_form"

    def act(self, problem, data):
        services.solve_problem(problem=problem, by=self.staff_user, **data)
        messages.success(self.request, _("Problem solved; the reporter is told."))


# --- machine endpoints --------------------------------------------------------------------------
def health(request: HttpRequest) -> HttpResponse:
    """The back-office's own health (for a load balancer or uptime checker); no sign-in."""
    with translation.override("en"):
        ok, body = health_report()
    body["at"] = timezone.now().isoformat()
    return JsonResponse(body, status=200 if ok else 503, json_dumps_params={"indent": 1})


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.MONITORING_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; a bearer token (``MONITORING_METRICS_TOKEN``) or loopback only."""
    if not _metrics_allowed(request):
        return HttpResponseForbidden("forbidden\n", content_type="text/plain")
    from prometheus_client import CONTENT_TYPE_LATEST

    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
