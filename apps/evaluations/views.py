"""Managers' pages: thin — a form, the permission, one service or selector, a template."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from apps.core.charts import line_chart
from apps.core.errors import DomainError, add_domain_error
from apps.core.mixins import StaffPageMixin
from apps.incidents.models import Incident, TaskTemplate

from . import action_selectors, selectors, services, sources
from .choices import ChangeKind, Dimension, Metric, PeriodKind
from .exports import report_context, report_pdf, report_xlsx
from .figures import current_targets, figures_for
from .forms import (
    ActionForm,
    ActionStateForm,
    DecideForm,
    NarrativeForm,
    PlanChangeForm,
    ReviewForm,
    SignForm,
    TargetForm,
)
from .models import EvaluationReport, ImprovementAction, PlanChange, PlanVersion
from .presentation import dimension_views, review_table_rows, show

VIEW = "evaluations.view_evaluationreport"


class DashboardView(StaffPageMixin, TemplateView):
    permission_required = VIEW
    template_name = "evaluations/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        incident = selectors.current_incident()
        if incident is not None:
            context["incident"] = incident
            context["live"] = dimension_views(figures_for(incident), charts=False)
        context["board"] = action_selectors.action_board()
        context["rehearsal"] = sources.last_rehearsal()
        context["not_measured"] = sources.NOT_MEASURED
        context["reports"] = selectors.latest_reports()
        context["incidents"] = Incident.objects.order_by("-declared_at")[:50]
        return context


class IncidentReportView(StaffPageMixin, View):
    """An incident's newest report, or the button that computes its first one."""

    permission_required = VIEW

    def get(self, request, pk):
        incident = get_object_or_404(Incident, pk=pk)
        report = incident.evaluation_reports.order_by("-number").first()
        if report is not None:
            return redirect("evaluations:report-detail", pk=report.pk)
        from django.shortcuts import render

        return render(request, "evaluations/no_report.html", {"incident": incident})


class ComputeReportView(StaffPageMixin, View):
    permission_required = "evaluations.add_evaluationreport"

    def post(self, request, pk):
        incident = get_object_or_404(Incident, pk=pk)
        report = services.compute_report(incident=incident, by=self.staff_user)
        messages.success(request, _("Figures computed (version %(n)s).") % {"n": report.number})
        return redirect("evaluations:report-detail", pk=report.pk)


class ReportDetailView(StaffPageMixin, TemplateView):
    permission_required = VIEW
    template_name = "evaluations/report_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        report = get_object_or_404(
            EvaluationReport.objects.select_related("incident", "signed_by", "computed_by"),
            pk=self.kwargs["pk"],
        )
        context = super().get_context_data(**kwargs)
        context.update(report_context(report))
        context["versions"] = report.incident.evaluation_reports.order_by("-number")
        if not report.is_signed:
            initial = {"version": report.edit_version, **report.narratives}
            context["narrative_form"] = kwargs.get("narrative_form") or NarrativeForm(
                initial=initial
            )
            context["sign_form"] = SignForm(initial={"version": report.edit_version})
        context["actions"] = ImprovementAction.objects.filter(
            source_type__model="evaluationreport", source_id=report.pk
        ).select_related("owner")
        return context


class NarrativeView(StaffPageMixin, View):
    permission_required = "evaluations.change_evaluationreport"

    def post(self, request, pk):
        report = get_object_or_404(EvaluationReport, pk=pk)
        form = NarrativeForm(request.POST)
        if form.is_valid():
            try:
                services.save_narratives(
                    report=report,
                    narratives={d: form.cleaned_data[d] for d in Dimension.values},
                    version=form.cleaned_data["version"],
                    by=self.staff_user,
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Narrative saved."))
                return redirect("evaluations:report-detail", pk=pk)
        view = ReportDetailView.as_view()
        request.method = "GET"
        response = view(request, pk=pk, narrative_form=form)
        response.status_code = 400
        return response


class SignReportView(StaffPageMixin, View):
    permission_required = "evaluations.sign_evaluationreport"

    def post(self, request, pk):
        report = get_object_or_404(EvaluationReport, pk=pk)
        form = SignForm(request.POST)
        try:
            if not form.is_valid():
                raise DomainError(_("The form was incomplete. Reload the page and try again."))
            services.sign_report(
                report=report, version=form.cleaned_data["version"], by=self.staff_user
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Report signed off; it can no longer be edited."))
        return redirect("evaluations:report-detail", pk=pk)


class ReportPdfView(StaffPageMixin, View):
    permission_required = "evaluations.export_evaluationreport"

    def get(self, request, pk):
        report = get_object_or_404(EvaluationReport.objects.select_related("incident"), pk=pk)
        response = HttpResponse(report_pdf(report), content_type="application/pdf")
        name = f"evaluation-{report.incident_id}-v{report.number}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ReportXlsxView(StaffPageMixin, View):
    permission_required = "evaluations.export_evaluationreport"

    def get(self, request, pk):
        report = get_object_or_404(EvaluationReport.objects.select_related("incident"), pk=pk)
        response = HttpResponse(
            report_xlsx(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"evaluation-{report.incident_id}-v{report.number}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ReviewView(StaffPageMixin, TemplateView):
    permission_required = VIEW
    template_name = "evaluations/review.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = ReviewForm(self.request.GET or None)
        context["form"] = form
        if not form.is_bound or not form.is_valid():
            return context
        data = form.cleaned_data
        try:
            if data["period"] == PeriodKind.MONTH:
                start, end = selectors.month_range(data["year"], data["month"])
            elif data["period"] == PeriodKind.QUARTER:
                start, end = selectors.quarter_range(data["year"], data["quarter"])
            else:
                start, end = selectors.day_range(data["start"], data["end"])
        except DomainError as exc:
            add_domain_error(form, exc)
            return context
        review = selectors.periodic_review(start, end)
        context["review"] = review
        context["comparison"] = [
            {"label": Metric(r["metric"]).label, "real": show(r["real"]), "drill": show(r["drill"])}
            for r in review.comparison
        ]
        if not review.is_empty:
            context["review_rows"] = review_table_rows(review.rows)
            context["charts"] = [
                line_chart(
                    title=_("Time to acknowledge (minutes)"),
                    x_labels=review.buckets,
                    series={
                        _("Incidents"): review.trends[Metric.MEAN_ACKNOWLEDGEMENT]["real"],
                        _("Drills"): review.trends[Metric.MEAN_ACKNOWLEDGEMENT]["drill"],
                    },
                    description=_("Mean per period; gaps were not measured"),
                ),
                line_chart(
                    title=_("Time to recover (minutes)"),
                    x_labels=review.buckets,
                    series={
                        _("Incidents"): review.trends[Metric.DECLARED_TO_RECOVERED]["real"],
                        _("Drills"): review.trends[Metric.DECLARED_TO_RECOVERED]["drill"],
                    },
                    description=_("Declared to recovered, mean per period"),
                ),
                line_chart(
                    title=_("Rehearsal RTO (minutes) and CSAT"),
                    x_labels=review.buckets,
                    series={
                        _("Rehearsal RTO"): selectors.rehearsal_rto_by_bucket(review),
                        _("CSAT"): review.csat,
                    },
                    description=_("Gaps were not measured (no rehearsal or survey in the period)"),
                ),
            ]
        return context


class ActionBoardView(StaffPageMixin, TemplateView):
    permission_required = "evaluations.view_improvementaction"
    template_name = "evaluations/action_board.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["board"] = action_selectors.action_board()
        return context


class ActionCreateView(StaffPageMixin, TemplateView):
    permission_required = "evaluations.add_improvementaction"
    template_name = "evaluations/action_form.html"

    def _report(self) -> EvaluationReport | None:
        pk = self.request.GET.get("report") or self.request.POST.get("report")
        return EvaluationReport.objects.filter(pk=pk).first() if pk and str(pk).isdigit() else None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        report = self._report()
        context["report"] = report
        context["form"] = kwargs.get("form") or ActionForm(
            initial={"dimension": self.request.GET.get("dimension", "")}
        )
        return context

    def post(self, request):
        form = ActionForm(request.POST)
        report = self._report()
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.create_improvement_action(
                    title=data["title"],
                    description=data["description"],
                    category=data["category"],
                    owner=data["owner"],
                    due=data["due"],
                    source=report,
                    finding=data["dimension"],
                    by=self.staff_user,
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Improvement action created."))
                if report is not None:
                    return redirect("evaluations:report-detail", pk=report.pk)
                return redirect("evaluations:action-board")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ActionStateView(StaffPageMixin, View):
    permission_required = "evaluations.change_improvementaction"

    def post(self, request, pk):
        action = get_object_or_404(ImprovementAction, pk=pk)
        form = ActionStateForm(request.POST)
        try:
            if not form.is_valid():
                raise DomainError(_("The form was incomplete. Reload the page and try again."))
            services.set_action_state(
                action=action,
                state=form.cleaned_data["state"],
                version=form.cleaned_data["version"],
                by=self.staff_user,
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("evaluations:action-board")


class TargetsView(StaffPageMixin, TemplateView):
    permission_required = "evaluations.manage_targets"
    template_name = "evaluations/targets.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["form"] = kwargs.get("form") or TargetForm(current=current_targets())
        return context

    def post(self, request):
        form = TargetForm(request.POST, current=current_targets())
        if form.is_valid():
            try:
                services.set_targets(values=form.cleaned_data, by=self.staff_user)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Targets saved; new reports score against them."))
                return redirect("evaluations:targets")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PlanView(StaffPageMixin, TemplateView):
    permission_required = "evaluations.view_planversion"
    template_name = "evaluations/plan.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["versions"] = PlanVersion.objects.select_related("approved_by")
        context["changes"] = PlanChange.objects.select_related(
            "proposed_by", "decided_by", "action"
        )
        context["templates"] = {t.pk: t for t in TaskTemplate.objects.all()}
        return context


class PlanChangeView(StaffPageMixin, TemplateView):
    permission_required = "evaluations.add_planchange"
    template_name = "evaluations/plan_change_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["form"] = kwargs.get("form") or PlanChangeForm(
            initial={"action": self.request.GET.get("action"), "kind": ChangeKind.ADD}
        )
        return context

    def post(self, request):
        form = PlanChangeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            action = ImprovementAction.objects.filter(pk=data.get("action") or 0).first()
            try:
                services.propose_plan_change(
                    kind=data["kind"],
                    template=data["template"],
                    fields={k: data.get(k) for k in services.plans.ITEM_FIELDS},
                    reason=data["reason"],
                    action=action,
                    by=self.staff_user,
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Change proposed; a manager approves it."))
                return redirect("evaluations:plan")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PlanDecideView(StaffPageMixin, View):
    permission_required = "evaluations.approve_planchange"

    def post(self, request, pk):
        change = get_object_or_404(PlanChange, pk=pk)
        form = DecideForm(request.POST)
        try:
            if not form.is_valid():
                raise DomainError(_("The form was incomplete. Reload the page and try again."))
            change = services.decide_plan_change(
                change=change,
                approve=form.cleaned_data["decision"] == "approve",
                by=self.staff_user,
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            if change.plan_version:
                messages.success(
                    request,
                    _("Plan version %(n)s is in effect for new incidents and drills.")
                    % {"n": change.plan_version.number},
                )
        return redirect("evaluations:plan")


class PlanCompareView(StaffPageMixin, TemplateView):
    permission_required = "evaluations.view_planversion"
    template_name = "evaluations/plan_compare.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        versions = list(PlanVersion.objects.all())
        context["versions"] = versions
        by_number = {v.number: v for v in versions}

        def pick(name: str, default: PlanVersion | None) -> PlanVersion | None:
            value = self.request.GET.get(name, "")
            return by_number.get(int(value)) if value.isdigit() else default

        left = pick("left", versions[1] if len(versions) > 1 else None)
        right = pick("right", versions[0] if versions else None)
        context["left"], context["right"] = left, right
        if left and right:
            context["rows"] = services.compare_versions(left, right)
        return context


def report_url(report: EvaluationReport) -> str:
    return reverse("evaluations:report-detail", kwargs={"pk": report.pk})
