from __future__ import annotations

from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role
from apps.core.forms import MinuteField

from .choices import (
    TASK_OWNER_ROLES,
    TEAM_ROLE_REQUIRES,
    IncidentState,
    Phase,
    ResourceKind,
    TaskState,
    TeamRole,
)
from .models import ASSESSMENT_FIELDS, Incident, TaskTemplate


def _when(label, *, required=True, help_text=None):
    # One text box (one Tab stop), not a datetime-local input whose parts are seven stops.
    return MinuteField(label=label, required=required, help_text=help_text)


def _staff(roles):
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[str(r) for r in roles])
        .distinct()
        .order_by("username")
    )


def _helper(submit_label, *, css_class="btn-primary") -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False  # templates write the <form> (action, csrf) themselves
    helper.add_input(Submit("submit", submit_label, css_class=css_class))
    return helper


class VersionedForm(forms.Form):
    """Carries the version the user edited, so a concurrent change is detected on save."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class DeclareIncidentForm(forms.ModelForm):
    detected_at = _when(_("Detected at"))

    class Meta:
        model = Incident
        fields = ["title", "severity", "detected_at", "description", *ASSESSMENT_FIELDS]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "cause_notes": forms.Textarea(attrs={"rows": 2}),
            "impact_notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            # Most incidents are declared as they are found: start from now, to the minute.
            now = timezone.localtime().replace(second=0, microsecond=0)
            self.initial.setdefault("detected_at", now)
        self.helper = _helper(_("Declare the incident"), css_class="btn-danger")


class AssessmentForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Incident
        fields = list(ASSESSMENT_FIELDS)
        widgets = {
            "cause_notes": forms.Textarea(attrs={"rows": 3}),
            "impact_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version
        self.helper = _helper(_("Save cause and impact"))


class TransitionForm(VersionedForm):
    to = forms.ChoiceField(label=_("Next state"), choices=IncidentState.choices)
    at = _when(_("When it happened"), required=False, help_text=_("Empty: now."))
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, incident=None, allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        if allowed is not None:
            cast(forms.ChoiceField, self.fields["to"]).choices = [
                (s, IncidentState(s).label) for s in allowed
            ]
        if incident is not None:
            self.fields["version"].initial = incident.version
        self.helper = _helper(_("Change state"))


class AssignMemberForm(forms.Form):
    team_role = forms.ChoiceField(label=_("Team role"), choices=TeamRole.choices)
    user = forms.ModelChoiceField(label=_("Member"), queryset=_staff(TASK_OWNER_ROLES))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Assign and notify"))


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))
    decision = forms.BooleanField(label=_("This is a decision"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Add to the timeline"))


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    phase = forms.ChoiceField(label=_("Phase"), choices=Phase.choices)
    team_role = forms.ChoiceField(
        label=_("Team role"), choices=[("", _("Any")), *TeamRole.choices], required=False
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=_staff(TASK_OWNER_ROLES), required=False
    )
    due_at = _when(_("Due at"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Add the task"))


class TaskUpdateForm(VersionedForm):
    owner: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Owner"), queryset=None, required=False
    )
    due_at = _when(_("Due at"), required=False)
    state = forms.ChoiceField(label=_("State"), choices=TaskState.choices)

    def __init__(self, *args, task, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "owner": task.owner_id,
                "due_at": task.due_at,
                "state": task.state,
                "version": task.version,
            },
        )
        super().__init__(*args, **kwargs)
        roles = TEAM_ROLE_REQUIRES[task.team_role] if task.team_role else TASK_OWNER_ROLES
        # Everyone active is listed so a wrong pick is refused with a reason, not hidden.
        owner = cast("forms.ModelChoiceField[Any]", self.fields["owner"])
        owner.queryset = get_user_model().objects.filter(is_active=True)
        self.fields["owner"].help_text = _("Must hold the role: %(roles)s") % {
            "roles": ", ".join(str(Role(r).label) for r in sorted(roles))
        }
        self.helper = _helper(_("Save the task"))


class DecisionTaskForm(forms.Form):
    phase = forms.ChoiceField(label=_("Phase"), choices=Phase.choices)
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=_staff(TASK_OWNER_ROLES), required=False
    )
    due_at = _when(_("Due at"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Make it a task"))


class ResourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ResourceKind.choices)
    description = forms.CharField(label=_("Description"), max_length=200)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=10, decimal_places=2)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    at = _when(_("Requested at"), required=False, help_text=_("Empty: now."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Request"))


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("Subject"), max_length=200)
    held_at = _when(_("Held at"))
    attendees = forms.ModelMultipleChoiceField(
        label=_("Attendees"),
        queryset=_staff([*TASK_OWNER_ROLES, Role.CARE_AGENT, Role.WAREHOUSE_CLERK]),
        widget=forms.CheckboxSelectMultiple,
    )
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 5}))
    decisions = forms.CharField(
        label=_("Decisions"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One per line; each can become a task."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Record the meeting"))

    def decision_lines(self) -> list[str]:
        return [line for line in self.cleaned_data["decisions"].splitlines() if line.strip()]


class TaskTemplateForm(forms.ModelForm):
    class Meta:
        model = TaskTemplate
        fields = [
            "phase",
            "title_zh",
            "title_en",
            "team_role",
            "due_after_minutes",
            "position",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save the template"))


class ReadinessCheckForm(forms.Form):
    title = forms.CharField(label=_("Upgrade"), max_length=200)
    planned_for = _when(_("Planned for"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Start the readiness check"))


class SignOffForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=[("go", _("Go")), ("no_go", _("No go"))])
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Sign off"))
