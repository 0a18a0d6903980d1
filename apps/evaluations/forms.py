from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from apps.incidents.choices import Phase, TeamRole
from apps.incidents.models import TaskTemplate

from .choices import (
    METRIC_SPEC,
    ActionCategory,
    ActionState,
    ChangeKind,
    Dimension,
    Metric,
    PeriodKind,
)


class NarrativeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, label in Dimension.choices:
            self.fields[code] = forms.CharField(
                label=label, required=False, widget=forms.Textarea(attrs={"rows": 3})
            )


class SignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReviewForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"), choices=PeriodKind.choices, initial=PeriodKind.QUARTER
    )
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    month = forms.IntegerField(label=_("Month"), min_value=1, max_value=12, required=False)
    quarter = forms.IntegerField(label=_("Quarter"), min_value=1, max_value=4, required=False)
    start = forms.DateField(
        label=_("First day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Last day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period = data.get("period")
        if period == PeriodKind.RANGE:
            if not data.get("start") or not data.get("end"):
                raise forms.ValidationError(_("Give the first and the last day of the range."))
        else:
            if not data.get("year"):
                self.add_error("year", _("Give the year."))
            if period == PeriodKind.MONTH and not data.get("month"):
                self.add_error("month", _("Give the month."))
            if period == PeriodKind.QUARTER and not data.get("quarter"):
                self.add_error("quarter", _("Give the quarter."))
        return data


class ActionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    category = forms.ChoiceField(label=_("Category"), choices=ActionCategory.choices)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none())
    due = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    dimension = forms.ChoiceField(
        label=_("Finding (report dimension)"),
        choices=[("", "—"), *Dimension.choices],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = get_user_model().objects.filter(is_active=True).order_by("username")


class ActionStateForm(forms.Form):
    state = forms.ChoiceField(choices=ActionState.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)


class TargetForm(forms.Form):
    def __init__(self, *args, current: dict[str, float], **kwargs):
        super().__init__(*args, **kwargs)
        for metric, label in Metric.choices:
            self.fields[metric] = forms.DecimalField(
                label=label,
                max_digits=10,
                decimal_places=2,
                initial=current.get(metric, METRIC_SPEC[metric][2]),
            )


class PlanChangeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Change"), choices=ChangeKind.choices)
    template = forms.ModelChoiceField(
        label=_("Checklist item"),
        queryset=TaskTemplate.objects.filter(is_active=True),
        required=False,
    )
    phase = forms.ChoiceField(label=_("Phase"), choices=[("", "—"), *Phase.choices], required=False)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    team_role = forms.ChoiceField(
        label=_("Owned by"), choices=[("", "—"), *TeamRole.choices], required=False
    )
    due_after_minutes = forms.IntegerField(
        label=_("Due (minutes after declaration)"), min_value=0, required=False
    )
    reason = forms.CharField(
        label=_("Why"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    action = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])


def today() -> date:
    from django.utils import timezone

    return timezone.localdate()
