"""Outreach's forms: they parse and check shapes; the services decide."""

from __future__ import annotations

import uuid
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.forms import MinuteField

from .models import REFERENCE_PREFIX, Case
from .outreach_choices import CompensationKind, NoticeAudience, ServiceState

MAX_MONEY = Decimal("9999999999.99")


def _helper(label) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.add_input(Submit("submit", label))
    return helper


def find_customer(phone: str):
    from apps.manual_orders.models import Customer

    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return Customer.objects.filter(phone=digits or phone.strip()).order_by("pk").first()


class CustomerField(forms.CharField):
    """A customer found by phone number (the way care agents find them)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Customer's phone"))
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        customer = find_customer(value)
        if customer is None:
            raise forms.ValidationError(
                _("No customer has the phone number %(phone)s."), params={"phone": value}
            )
        return customer


class CompensationForm(forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    customer = CustomerField()
    case = forms.CharField(
        label=_("Case"), required=False, max_length=20, help_text=_("For example CS-000123.")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=CompensationKind.choices)
    amount = forms.DecimalField(
        label=_("Amount off"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=MAX_MONEY,
        decimal_places=2,
    )
    percent = forms.IntegerField(label=_("Percent off"), required=False, min_value=1, max_value=100)
    cap = forms.DecimalField(
        label=_("At most"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=MAX_MONEY,
        decimal_places=2,
    )
    points = forms.IntegerField(
        label=_("Points"), required=False, min_value=1, max_value=10_000_000
    )
    minimum_order = forms.DecimalField(
        label=_("Minimum order"),
        required=False,
        min_value=Decimal("0"),
        max_value=MAX_MONEY,
        decimal_places=2,
    )
    valid_until = MinuteField(label=_("Valid until"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    override_reason = forms.CharField(
        label=_("Reason for compensating this case again"),
        max_length=300,
        required=False,
        help_text=_("Managers only, when the case has been compensated already."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())
        self.helper = _helper(_("Grant"))

    def clean_case(self):
        text = self.cleaned_data.get("case", "").strip().upper()
        if not text:
            return None
        number = text.removeprefix(REFERENCE_PREFIX)
        case = Case.objects.filter(pk=int(number)).first() if number.isdigit() else None
        if case is None:
            raise forms.ValidationError(_("No case %(reference)s."), params={"reference": text})
        return case


class LimitForm(forms.Form):
    agent_limit = forms.DecimalField(
        label=_("Care agents' approval limit"),
        min_value=Decimal("0"),
        max_value=MAX_MONEY,
        decimal_places=2,
    )
    point_value = forms.DecimalField(
        label=_("Value of one point"),
        min_value=Decimal("0.0001"),
        max_value=Decimal("1000"),
        decimal_places=4,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save"))


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label=_("Format"), choices=[("csv", "CSV"), ("xlsx", "XLSX"), ("json", "JSON")]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Export and mark handed over"))


class BulkGrantForm(forms.Form):
    audience = forms.ChoiceField(label=_("Customers"), choices=NoticeAudience.choices)
    kind = forms.ChoiceField(label=_("Kind"), choices=CompensationKind.choices)
    amount = forms.DecimalField(
        label=_("Amount off"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=MAX_MONEY,
        decimal_places=2,
    )
    percent = forms.IntegerField(label=_("Percent off"), required=False, min_value=1, max_value=100)
    cap = forms.DecimalField(
        label=_("At most"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=MAX_MONEY,
        decimal_places=2,
    )
    points = forms.IntegerField(
        label=_("Points"), required=False, min_value=1, max_value=10_000_000
    )
    valid_until = MinuteField(label=_("Valid until"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Grant to every customer in the list"))


class NoticeForm(forms.Form):
    title = forms.CharField(label=_("Title (for staff)"), max_length=200)
    audience = forms.ChoiceField(label=_("Customers"), choices=NoticeAudience.choices)
    subject_zh = forms.CharField(
        label=_("E-mail subject (Chinese)"), max_length=200, required=False
    )
    body_zh = forms.CharField(
        label=_("Text (Chinese)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("{name} is replaced by the customer's name; an opt-out link is added."),
    )
    subject_en = forms.CharField(
        label=_("E-mail subject (English)"), max_length=200, required=False
    )
    body_en = forms.CharField(
        label=_("Text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    by_sms = forms.BooleanField(label=_("By SMS"), required=False, initial=True)
    by_email = forms.BooleanField(label=_("By e-mail"), required=False)
    rate_per_second = forms.FloatField(
        label=_("Messages per second"), required=False, min_value=0.1, max_value=10_000
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save the notice"))


class PreviewForm(forms.Form):
    customer = CustomerField()


class StatusPageForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    ordering = forms.ChoiceField(label=_("Ordering"), choices=ServiceState.choices)
    payment = forms.ChoiceField(label=_("Payment"), choices=ServiceState.choices)
    delivery = forms.ChoiceField(label=_("Delivery"), choices=ServiceState.choices)
    phone = forms.CharField(label=_("Order and help line"), max_length=60, required=False)
    mailbox = forms.EmailField(label=_("Dedicated mailbox"), required=False)
    channels_zh = forms.CharField(
        label=_("Social and live channels to follow (Chinese)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    channels_en = forms.CharField(
        label=_("Social and live channels to follow (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Publish the page"))


class PublicUpdateForm(forms.Form):
    text_zh = forms.CharField(
        label=_("Public notice (Chinese)"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    text_en = forms.CharField(
        label=_("Public notice (English)"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Publish the notice"))


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        choices=[(str(i), str(i)) for i in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything to add?"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Send"))


class CarePlanForm(forms.Form):
    audience = forms.ChoiceField(label=_("Affected customers"), choices=NoticeAudience.choices)
    due_at = MinuteField(label=_("Contact on"))
    purpose = forms.CharField(label=_("Purpose"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Plan the contacts"))


class ContactForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), max_length=2000)


class FollowUpForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)
