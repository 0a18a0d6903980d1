"""Thin views: parse with a form, check the role's permission, call one service, render."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView
from django.views.generic.base import ContextMixin

from apps.core.errors import CoreError, DomainError, add_domain_error
from apps.core.mixins import StaffPageMixin

from . import selectors, services
from .choices import ReadinessResult, ResourceState, TaskState
from .errors import IncidentsError
from .forms import (
    AssessmentForm,
    AssignMemberForm,
    DecisionTaskForm,
    DeclareIncidentForm,
    MeetingForm,
    NoteForm,
    ReadinessCheckForm,
    ResourceForm,
    SignOffForm,
    TaskForm,
    TaskTemplateForm,
    TaskUpdateForm,
    TransitionForm,
)
from .models import (
    Incident,
    MeetingDecision,
    ReadinessCheck,
    ReadinessItem,
    ResourceAllocation,
    Task,
    TaskTemplate,
    TeamMember,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class IncidentMixin(ContextMixin, View):
    """Views under /incidents/<pk>/: loads the incident once."""

    def dispatch(self, request, *args, **kwargs):
        self.incident = get_object_or_404(Incident, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["incident"] = self.incident
        return ctx

    def incident_url(self) -> str:
        return reverse("incidents:incident-detail", args=[self.incident.pk])


class IncidentFormView(StaffPageMixin, IncidentMixin, FormView):
    """A form about one incident; ``perform`` calls the service."""

    permission_required = "incidents.change_incident"
    template_name = "incidents/incident_form.html"
    heading: StrOrPromise = ""
    success_message: StrOrPromise = ""

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["heading"] = self.heading
        return ctx

    def form_valid(self, form):
        try:
            self.perform(form)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return redirect(self.get_success_url())

    def perform(self, form: Any) -> None:
        """Call the one service this form is for (each view says which)."""
        raise NotImplementedError

    def get_success_url(self):
        return self.incident_url()


# --- incidents ------------------------------------------------------------------------------------


class IncidentListView(StaffPageMixin, ListView):
    permission_required = "incidents.view_incident"
    template_name = "incidents/incident_list.html"
    context_object_name = "incidents"
    paginate_by = 30

    def get_queryset(self):
        return selectors.list_incidents()


class DeclareIncidentView(StaffPageMixin, FormView):
    permission_required = "incidents.add_incident"
    template_name = "incidents/declare.html"
    form_class = DeclareIncidentForm

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        try:
            incident = services.declare_incident(by=self.staff_user, **data)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Incident declared. Now staff the emergency team."))
        return redirect("incidents:incident-detail", pk=incident.pk)


class IncidentDetailView(StaffPageMixin, DetailView):
    permission_required = "incidents.view_incident"
    template_name = "incidents/incident_detail.html"
    context_object_name = "incident"

    def get_queryset(self):
        return selectors.list_incidents()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        incident, user = self.object, self.request.user
        ctx.update(selectors.live_summary(incident))
        ctx["tasks"] = selectors.list_tasks(incident)
        ctx["timeline"] = selectors.list_timeline(incident)
        ctx["transitions"] = incident.transitions.select_related("by")
        ctx["resources"] = incident.resources.select_related("requested_by")
        ctx["meetings"] = selectors.list_meetings(incident)
        ctx["my_memberships"] = [
            m for m in ctx["team"] if m.user_id == user.pk and m.acknowledged_at is None
        ]
        if user.has_perm("incidents.change_incident"):
            allowed = services.allowed_next_states(incident)
            if allowed:
                ctx["transition_form"] = TransitionForm(incident=incident, allowed=allowed)
            ctx["note_form"] = NoteForm()
        if user.has_perm("incidents.assign_team") and incident.is_open:
            ctx["assign_form"] = AssignMemberForm()
        return ctx


class LiveBlockView(StaffPageMixin, TemplateView):
    """The live block of one incident (htmx polls it every few seconds)."""

    permission_required = "incidents.view_incident"
    template_name = "incidents/_live.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        incident = get_object_or_404(Incident, pk=self.kwargs["pk"])
        ctx.update(selectors.live_summary(incident))
        return ctx


class OpenIncidentLiveView(StaffPageMixin, TemplateView):
    """The dashboard card's body: whichever incident is open right now."""

    permission_required = "incidents.view_incident"
    template_name = "incidents/_open_incident.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(selectors.live_summary(selectors.get_open_incident()))
        return ctx


class AssessmentView(IncidentFormView):
    heading = gettext_lazy("Cause and impact")

    def get_form(self, form_class=None):
        return AssessmentForm(self.request.POST or None, instance=self.incident)

    def form_valid(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        # ModelForm validation wrote the values onto the instance; the service reloads the row.
        self.incident.refresh_from_db()
        try:
            services.update_assessment(
                incident=self.incident,
                version=form.cleaned_data["version"],
                by=self.staff_user,
                **data,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Cause and impact saved."))
        return redirect(self.incident_url())


class TransitionView(IncidentFormView):
    heading = gettext_lazy("Change state")

    def get_form(self, form_class=None):
        return TransitionForm(self.request.POST or None, incident=self.incident)

    def perform(self, form):
        services.transition(
            incident=self.incident,
            to=form.cleaned_data["to"],
            at=form.cleaned_data["at"],
            note=form.cleaned_data["note"],
            version=form.cleaned_data["version"],
            by=self.staff_user,
        )


class AssignMemberView(IncidentFormView):
    permission_required = "incidents.assign_team"
    form_class = AssignMemberForm
    heading = gettext_lazy("Staff the emergency team")

    def perform(self, form):
        member = services.assign_member(
            incident=self.incident,
            user=form.cleaned_data["user"],
            team_role=form.cleaned_data["team_role"],
            by=self.staff_user,
            incident_url=self.request.build_absolute_uri(self.incident_url()),
        )
        messages.success(self.request, _("%(user)s assigned and notified.") % {"user": member.user})


class AcknowledgeView(StaffPageMixin, View):
    permission_required = "incidents.view_incident"

    def post(self, request, pk, member_pk):
        member = get_object_or_404(TeamMember, pk=member_pk, incident_id=pk)
        try:
            services.acknowledge_assignment(member=member, by=self.staff_user)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Assignment acknowledged."))
        return redirect("incidents:incident-detail", pk=pk)


class NoteView(IncidentFormView):
    form_class = NoteForm
    heading = gettext_lazy("Add to the timeline")

    def perform(self, form):
        services.add_note(
            incident=self.incident,
            text=form.cleaned_data["text"],
            decision=form.cleaned_data["decision"],
            by=self.staff_user,
        )


# --- tasks ----------------------------------------------------------------------------------------


class AddTaskView(IncidentFormView):
    form_class = TaskForm
    heading = gettext_lazy("New task")
    success_message = gettext_lazy("Task added.")

    def perform(self, form):
        services.add_task(incident=self.incident, by=self.staff_user, **form.cleaned_data)


class TaskMixin(View):
    def dispatch(self, request, *args, **kwargs):
        self.task = get_object_or_404(Task.objects.select_related("incident"), pk=kwargs["pk"])
        self.incident = self.task.incident
        return super().dispatch(request, *args, **kwargs)

    def incident_url(self) -> str:
        return reverse("incidents:incident-detail", args=[self.incident.pk])


class TaskUpdateView(StaffPageMixin, TaskMixin, FormView):
    permission_required = "incidents.change_incident"
    template_name = "incidents/incident_form.html"

    def get_form(self, form_class=None):
        return TaskUpdateForm(self.request.POST or None, task=self.task)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(incident=self.incident, heading=self.task.title)
        return ctx

    def form_valid(self, form):
        try:
            services.update_task(task=self.task, by=self.staff_user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Task saved."))
        return redirect(self.incident_url())


class TaskStateView(StaffPageMixin, TaskMixin, View):
    """The one-click buttons next to a task (start, done)."""

    permission_required = "incidents.change_incident"

    def post(self, request, pk):
        state = request.POST.get("state", "")
        version = request.POST.get("version") or None
        try:
            # Tampered buttons get a message, not a 500.
            if state not in TaskState.values:
                raise DomainError(IncidentsError.UNKNOWN_STATE)
            if version is not None and not version.isdigit():
                raise DomainError(CoreError.INCOMPLETE_FORM)
            services.set_task_state(
                task=self.task, state=state, version=version, by=self.staff_user
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect(self.incident_url() + "#tasks")


# --- resources and meetings -----------------------------------------------------------------------


class RequestResourceView(IncidentFormView):
    form_class = ResourceForm
    heading = gettext_lazy("Request a resource")
    success_message = gettext_lazy("Resource requested.")

    def perform(self, form):
        services.request_resource(incident=self.incident, by=self.staff_user, **form.cleaned_data)


class ResourceActionView(StaffPageMixin, View):
    permission_required = "incidents.change_incident"

    def post(self, request, pk):
        resource = get_object_or_404(ResourceAllocation, pk=pk)
        to = request.POST.get("to", "")
        try:
            if to not in ResourceState.values:
                raise DomainError(IncidentsError.UNKNOWN_STATE)
            services.move_resource(resource=resource, to=to, by=self.staff_user)
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect(
            reverse("incidents:incident-detail", args=[resource.incident_id]) + "#resources"
        )


class RecordMeetingView(IncidentFormView):
    form_class = MeetingForm
    heading = gettext_lazy("Record a coordination meeting")
    success_message = gettext_lazy("Meeting recorded.")

    def perform(self, form):
        data = form.cleaned_data
        services.record_meeting(
            incident=self.incident,
            held_at=data["held_at"],
            title=data["title"],
            attendees=data["attendees"],
            minutes=data["minutes"],
            decisions=form.decision_lines(),
            by=self.staff_user,
        )

    def get_success_url(self):
        return self.incident_url() + "#meetings"


class DecisionTaskView(StaffPageMixin, FormView):
    permission_required = "incidents.change_incident"
    template_name = "incidents/incident_form.html"
    form_class = DecisionTaskForm

    def dispatch(self, request, *args, **kwargs):
        self.decision = get_object_or_404(
            MeetingDecision.objects.select_related("meeting__incident"), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(incident=self.decision.meeting.incident, heading=self.decision.text)
        return ctx

    def form_valid(self, form):
        try:
            services.task_from_decision(
                decision=self.decision, by=self.staff_user, **form.cleaned_data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Task added."))
        return redirect("incidents:incident-detail", pk=self.decision.meeting.incident_id)


# --- checklist templates --------------------------------------------------------------------------


class TemplateListView(StaffPageMixin, ListView):
    permission_required = "incidents.manage_templates"
    template_name = "incidents/template_list.html"
    context_object_name = "templates"

    def get_queryset(self):
        return selectors.list_templates()


class TemplateEditView(StaffPageMixin, FormView):
    permission_required = "incidents.manage_templates"
    template_name = "incidents/template_form.html"

    def get_form(self, form_class=None):
        instance = None
        if "pk" in self.kwargs:
            instance = get_object_or_404(TaskTemplate, pk=self.kwargs["pk"])
        return TaskTemplateForm(self.request.POST or None, instance=instance)

    def form_valid(self, form):
        try:
            services.save_task_template(template=form.instance, by=self.staff_user)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Template saved."))
        return redirect("incidents:template-list")


# --- upgrade readiness ----------------------------------------------------------------------------


class ReadinessListView(StaffPageMixin, ListView):
    permission_required = "incidents.check_readiness"
    template_name = "incidents/readiness_list.html"
    context_object_name = "checks"
    paginate_by = 30

    def get_queryset(self):
        return selectors.list_readiness_checks()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["form"] = ReadinessCheckForm()
        return ctx


class StartReadinessView(StaffPageMixin, FormView):
    permission_required = "incidents.check_readiness"
    template_name = "incidents/template_form.html"
    form_class = ReadinessCheckForm

    def form_valid(self, form):
        check = services.start_readiness_check(by=self.staff_user, **form.cleaned_data)
        return redirect("incidents:readiness-detail", pk=check.pk)


class ReadinessDetailView(StaffPageMixin, DetailView):
    permission_required = "incidents.check_readiness"
    template_name = "incidents/readiness_detail.html"
    context_object_name = "check"

    def get_queryset(self):
        return selectors.list_readiness_checks()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["items"] = self.object.items.select_related("checked_by")
        ctx["pending"] = self.object.result == ReadinessResult.PENDING
        ctx["sign_off_form"] = SignOffForm()
        return ctx


class ReadinessActionView(StaffPageMixin, View):
    """Re-run the automatic items, tick a manual item, or sign off as go / no-go."""

    permission_required = "incidents.check_readiness"

    def post(self, request, pk):
        check = get_object_or_404(ReadinessCheck, pk=pk)
        action = request.POST.get("action", "")
        item = None
        if action in ("pass", "fail"):
            item_pk = request.POST.get("item", "")
            if not item_pk.isdigit():
                raise Http404("No such readiness item.")
            item = get_object_or_404(ReadinessItem, pk=item_pk, readiness=check)
        form = SignOffForm(request.POST)
        signed = form.is_valid()
        try:
            services.act_on_readiness_check(
                check=check,
                action=action,
                item=item,
                detail=request.POST.get("detail", ""),
                go=form.cleaned_data["result"] == "go" if signed else None,
                note=form.cleaned_data["note"] if signed else "",
                by=self.staff_user,
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            if action == "sign_off":
                messages.success(request, _("Readiness check signed off."))
        return redirect("incidents:readiness-detail", pk=pk)
