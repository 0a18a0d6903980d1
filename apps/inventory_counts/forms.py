from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role
from apps.catalog.models import Location, Product, Warehouse
from apps.core.tabular import refuse_oversized_upload

from .resources import available_formats
from .services import recount_threshold_pct


class SessionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=Warehouse.objects.all())
    locations = forms.ModelMultipleChoiceField(
        label=_("Locations"),
        queryset=Location.objects.select_related("warehouse"),
        required=False,
        help_text=_("Leave empty to count every location of the warehouse."),
    )
    categories = forms.MultipleChoiceField(
        label=_("Product categories"),
        required=False,
        help_text=_("Leave empty to count every category."),
    )
    clerks = forms.ModelMultipleChoiceField(
        label=_("Clerks"),
        queryset=get_user_model().objects.none(),
        required=False,
        help_text=_("Leave empty to let every warehouse clerk count."),
    )
    blind = forms.BooleanField(
        label=_("Blind count (clerks do not see expected quantities)"), required=False, initial=True
    )
    recount_threshold = forms.DecimalField(
        label=_("Recount threshold (%)"), min_value=Decimal("0"), max_digits=6, decimal_places=2
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recount_threshold"].initial = recount_threshold_pct()
        cast(forms.ChoiceField, self.fields["categories"]).choices = [
            (c, c)
            for c in Product.objects.exclude(category="")
            .order_by("category")
            .values_list("category", flat=True)
            .distinct()
        ]
        cast("forms.ModelChoiceField[Any]", self.fields["clerks"]).queryset = (
            get_user_model()
            .objects.filter(groups__name=Role.WAREHOUSE_CLERK.value, is_active=True)
            .order_by("username")
            .distinct()
        )

    def clean(self):
        data = super().clean() or {}
        warehouse = data.get("warehouse")
        if warehouse and any(loc.warehouse_id != warehouse.pk for loc in data.get("locations", [])):
            self.add_error("locations", _("Choose locations of the selected warehouse."))
        return data


class EntryForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.all())
    product = forms.ModelChoiceField(queryset=Product.objects.all())
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal("0"), max_digits=14, decimal_places=3
    )
    confirm = forms.BooleanField(required=False)
    confirm_implausible = forms.BooleanField(required=False)


class ApproveForm(forms.Form):
    note = forms.CharField(
        label=_("Approval note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000, "class": "form-control"}),
        help_text=_("Required when lines differ beyond the recount threshold."),
    )


class SheetUploadForm(forms.Form):
    file = forms.FileField(label=_("Count sheet"))
    input_format = forms.ChoiceField(label=_("Format"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["input_format"]).choices = [
            (f().get_title(), f().get_title().upper()) for f in available_formats()
        ]

    def clean_file(self):
        file = self.cleaned_data["file"]
        refuse_oversized_upload(file.size)
        return file
