"""Forms of the care desk: they parse and bound input; the services decide."""

from __future__ import annotations

import uuid
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import (
    CaseChannel,
    CaseState,
    CaseType,
    Direction,
    OrderSource,
    Priority,
    RefundMethod,
    RequestKind,
    RmaKind,
)

MAX_TEXT = 20_000


class PhoneCaseForm(forms.Form):
    """A case keyed while the customer is on the line: phone number first, then what they want."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    caller_phone = forms.CharField(
        label=_("Caller's phone"),
        max_length=30,
        widget=forms.TextInput(
            attrs={"autofocus": True, "inputmode": "tel", "autocomplete": "off"}
        ),
    )
    caller_name = forms.CharField(label=_("Caller's name"), max_length=120, required=False)
    contact_email = forms.EmailField(label=_("E-mail"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=CaseChannel.choices, initial="phone")
    case_type = forms.ChoiceField(label=_("Type"), choices=CaseType.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial="normal")
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("What the customer said"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    order_number = forms.CharField(label=_("Order number"), max_length=40, required=False)
    order_source = forms.ChoiceField(
        label=_("Order from"), choices=OrderSource.choices, initial=OrderSource.MANUAL
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())


class MessageForm(forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    direction = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (Direction.OUTBOUND, _("Reply to the customer")),
            (Direction.NOTE, _("Internal note")),
        ],
    )
    body = forms.CharField(
        label=_("Message"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())


class StateForm(forms.Form):
    to = forms.ChoiceField(label=_("New state"), choices=CaseState.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)


class AssignForm(forms.Form):
    owner: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Owner"), queryset=None, required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, agents=None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = agents


class LinkOrderForm(forms.Form):
    source = forms.ChoiceField(label=_("Order from"), choices=OrderSource.choices)
    number = forms.CharField(label=_("Order number"), max_length=40)


class LookupForm(forms.Form):
    query = forms.CharField(
        label=_("Order number, phone or e-mail"),
        max_length=120,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )


class OrderChangeForm(forms.Form):
    delivery_city = forms.CharField(label=_("Delivery city"), max_length=60, required=False)
    delivery_address = forms.CharField(label=_("Delivery address"), max_length=300)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.order_lines = list(lines)
        for line in self.order_lines:
            self.fields[f"qty_{line.pk}"] = forms.IntegerField(
                label=f"{line.sku} {line.name}",
                min_value=0,
                max_value=1_000_000,
                initial=line.quantity,
            )

    def quantities(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data[f"qty_{line.pk}"]
            for line in self.order_lines
            if self.cleaned_data.get(f"qty_{line.pk}") is not None
            and self.cleaned_data[f"qty_{line.pk}"] != line.quantity
        }


class CancelOrderForm(forms.Form):
    link = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=250)


class OrderSystemRequestForm(forms.Form):
    number = forms.CharField(label=_("Order number"), max_length=40)
    kind = forms.ChoiceField(label=_("Request"), choices=RequestKind.choices)
    ship_city = forms.CharField(label=_("New delivery city"), max_length=60, required=False)
    ship_address = forms.CharField(label=_("New delivery address"), max_length=300, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class RefundForm(forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, min_value=0.01)
    method = forms.ChoiceField(label=_("Method"), choices=RefundMethod.choices)
    order_number = forms.CharField(label=_("Order number"), max_length=40, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())


class RmaForm(forms.Form):
    """A return or exchange: up to three items by SKU, the warehouse they go back to."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Kind"), choices=RmaKind.choices)
    warehouse: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Back to warehouse"), queryset=None
    )
    order_number = forms.CharField(label=_("Order number"), max_length=40, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    ITEMS = 3

    def __init__(self, *args, **kwargs):
        from apps.catalog.models import Warehouse

        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["warehouse"]).queryset = Warehouse.objects.all()
        for n in range(1, self.ITEMS + 1):
            self.fields[f"sku_{n}"] = forms.CharField(
                label=_("SKU %(n)s") % {"n": n}, max_length=64, required=n == 1
            )
            self.fields[f"qty_{n}"] = forms.IntegerField(
                label=_("Quantity %(n)s") % {"n": n},
                min_value=1,
                max_value=100_000,
                required=False,
                initial=1 if n == 1 else None,
            )
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())

    def items(self) -> list[tuple[str, int]]:
        return [
            (self.cleaned_data[f"sku_{n}"].strip(), self.cleaned_data[f"qty_{n}"] or 1)
            for n in range(1, self.ITEMS + 1)
            if self.cleaned_data.get(f"sku_{n}", "").strip()
        ]


class ReceiveRmaForm(forms.Form):
    rma = forms.IntegerField(widget=forms.HiddenInput)


class ReassignForm(forms.Form):
    owner: forms.ModelChoiceField = forms.ModelChoiceField(label=_("Hand to"), queryset=None)
    cases = forms.TypedMultipleChoiceField(label=_("Cases"), coerce=int, choices=())

    def __init__(self, *args, agents=None, case_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = agents
        cast(forms.ChoiceField, self.fields["cases"]).choices = case_choices


class ResponseTargetForm(forms.Form):
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("", _("Every channel"))] + list(CaseChannel.choices),
        required=False,
    )
    first_response_minutes = forms.IntegerField(
        label=_("First response (minutes)"), min_value=1, max_value=525_600
    )
    resolution_minutes = forms.IntegerField(
        label=_("Resolution (minutes)"), min_value=1, max_value=525_600
    )
