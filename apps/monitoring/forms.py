from __future__ import annotations

from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role
from apps.core.forms import MinuteField
from apps.core.tabular import refuse_oversized_upload
from apps.incidents.choices import Severity
from apps.incidents.models import Incident

from .choices import ProblemCategory, ProblemPriority
from .models import AlarmRule, Probe


class DeclareFromAlarmForm(forms.Form):
    title = forms.CharField(label=_("What failed"), max_length=200)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )


class RuleForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = AlarmRule
        fields = [
            "name",
            "condition",
            "threshold",
            "consecutive",
            "severity",
            "escalate_after_minutes",
            "auto_declare",
            "enabled",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consecutive"].widget.attrs["min"] = 1


class HttpProbeForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")

    class Meta:
        model = Probe
        fields = ["name", "url", "expected_status", "timeout_ms", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timeout_ms"].widget.attrs.update({"min": 100, "max": 60000})
        self.fields["timeout_ms"].validators += [
            MinValueValidator(100),
            MaxValueValidator(60000),
        ]


class ProblemReportForm(forms.Form):
    what = forms.CharField(
        label=_("What did you see?"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    where = forms.CharField(label=_("Where (page or function)"), max_length=500, required=False)
    screenshot = forms.FileField(
        label=_("Screenshot (optional)"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}
        ),
    )

    def clean_screenshot(self):
        upload = self.cleaned_data.get("screenshot")
        if upload:
            refuse_oversized_upload(upload.size)
        return upload


class TriageForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    category = forms.ChoiceField(label=_("Category"), choices=ProblemCategory.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=ProblemPriority.choices)
    incident: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Incident"),
        queryset=Incident.objects.none(),
        required=False,
        empty_label=_("— none —"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["incident"]).queryset = Incident.objects.order_by(
            "-declared_at"
        )


class SolveForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    resolution = forms.CharField(
        label=_("How it was solved"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class DutyShiftForm(forms.Form):
    """A shift on the duty roster; only active tech-support accounts are offered."""

    person: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Person on duty"), queryset=get_user_model().objects.none()
    )
    starts_at = MinuteField(label=_("Starts at"))
    ends_at = MinuteField(label=_("Ends at"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["person"]).queryset = (
            get_user_model()
            .objects.filter(is_active=True, groups__name=Role.TECH_SUPPORT.value)
            .distinct()
            .order_by("username")
        )
