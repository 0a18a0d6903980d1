"""Forms of the drill and training pages (they parse; the services decide)."""

from __future__ import annotations

from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role
from apps.core.forms import MinuteField
from apps.incidents.choices import CauseCategory, CauseDetail, Severity
from apps.incidents.models import TaskTemplate

from .choices import DrillPhase, Repeat
from .models import Course


def _helper(submit_label, *, css_class="btn-primary") -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False  # templates write the <form> (action, csrf) themselves
    helper.add_input(Submit("submit", submit_label, css_class=css_class))
    return helper


def _staff():
    return get_user_model().objects.filter(is_active=True).order_by("username")


def _date(label, *, required=True):
    return forms.DateField(
        label=label, required=required, widget=forms.DateInput(attrs={"type": "date"})
    )


class PlanDrillForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    scenario_category = forms.ChoiceField(
        label=_("Scenario: cause"), choices=CauseCategory.choices, required=False
    )
    scenario_detail = forms.ChoiceField(
        label=_("Scenario: sub-cause"), choices=CauseDetail.choices, required=False
    )
    severity = forms.ChoiceField(label=_("Severity played"), choices=Severity.choices)
    objectives = forms.CharField(
        label=_("Objectives"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    scheduled_at = MinuteField(label=_("First drill at"))
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=5, initial=120)
    repeat = forms.ChoiceField(label=_("Repeats"), choices=Repeat.choices, initial=Repeat.NONE)
    repeat_until = _date(_("Repeats until"), required=False)
    participants = forms.ModelMultipleChoiceField(
        label=_("Participants"), queryset=_staff(), widget=forms.SelectMultiple(attrs={"size": 6})
    )
    observers = forms.ModelMultipleChoiceField(
        label=_("Observers"),
        queryset=_staff(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    templates = forms.ModelMultipleChoiceField(
        label=_("Checklist templates"),
        queryset=TaskTemplate.objects.filter(is_active=True),
        required=False,
        help_text=_("Leave empty to use every active checklist template."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    confirm_overlap = forms.BooleanField(
        label=_("Plan it anyway, even if it overlaps another drill for the same people"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for phase in DrillPhase:
            self.fields[f"target_{phase.value}"] = forms.IntegerField(
                label=_("Target for “%(phase)s” (minutes from the start)") % {"phase": phase.label},
                min_value=0,
                required=phase != DrillPhase.DECLARED,
            )
        if not self.is_bound:
            start = timezone.localtime() + timedelta(days=7)
            self.initial.setdefault("scheduled_at", start.replace(second=0, microsecond=0))
            for value, minutes in zip(DrillPhase.values, (5, 30, 90, 120, 240), strict=True):
                self.initial.setdefault(f"target_{value}", minutes)
        self.helper = _helper(_("Plan the drill"))

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        targets = {p: data.pop(f"target_{p}", None) for p in DrillPhase.values}
        return {**data, "phase_targets": targets}


class RecordPhaseForm(forms.Form):
    phase = forms.ChoiceField(label=_("Phase"), choices=DrillPhase.choices)
    at = MinuteField(label=_("Reached at"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("at", timezone.localtime().replace(second=0, microsecond=0))
        self.helper = _helper(_("Record the phase time"))


class InjectForm(forms.Form):
    text = forms.CharField(label=_("Event or remark"), widget=forms.Textarea(attrs={"rows": 2}))
    remark = forms.BooleanField(
        label=_("A remark (not an event injected into the drill)"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Post to the drill's timeline"))


class ImprovementActionForm(forms.Form):
    description = forms.CharField(
        label=_("Improvement action"), widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=_staff())
    due_on = _date(_("Due on"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Add the action"))


class CloseDrillForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    went_wrong = forms.CharField(
        label=_("What went wrong"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    action_description = forms.CharField(
        label=_("Improvement action"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional; more can be added on the drill's page later."),
    )
    action_owner = forms.ModelChoiceField(
        label=_("Owner of the action"), queryset=_staff(), required=False
    )
    action_due_on = _date(_("Action due on"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Close the drill"), css_class="btn-danger")


class StartRehearsalForm(forms.Form):
    target = forms.ChoiceField(label=_("Scratch database"))

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["target"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(t, t) for t in targets]


class SessionForm(forms.Form):
    course = forms.ModelChoiceField(
        label=_("Course"), queryset=Course.objects.filter(is_active=True)
    )
    starts_at = MinuteField(label=_("Starts at"))
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=5, initial=90)
    location = forms.CharField(label=_("Where"), max_length=200, required=False)
    trainer = forms.ModelChoiceField(label=_("Trainer"), queryset=_staff(), required=False)
    invitees = forms.ModelMultipleChoiceField(
        label=_("Invited"), queryset=_staff(), widget=forms.SelectMultiple(attrs={"size": 8})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Plan the session"))


class AttendanceForm(forms.Form):
    person = forms.ModelChoiceField(label=_("Person"), queryset=_staff())
    attended = forms.BooleanField(label=_("Attended"), required=False, initial=True)
    score = forms.IntegerField(label=_("Assessment score"), required=False)
    issued_on = _date(_("Certificate issued on"), required=False)

    def __init__(self, *args, session=None, **kwargs):
        super().__init__(*args, **kwargs)
        if session is not None:
            field = self.fields["person"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = session.invitees.order_by("username")
        self.helper = _helper(_("Record"))


ROLE_CHOICES = Role.choices
