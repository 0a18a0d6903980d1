import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Product, Warehouse
from apps.core.forms import MinuteField
from apps.core.tabular import refuse_oversized_upload

from .choices import NotifyBy, OrderChannel, OrderState, OrderType, PushState, ReferenceKind
from .models import MAX_LINE_QUANTITY, AllocationRule, Customer

MAX_LINES = 50
MAX_QUANTITY = MAX_LINE_QUANTITY
# Money fields are max_digits 12, 2 decimals: anything at or above 10^10 does not fit.
MAX_MONEY = Decimal("9999999999.99")


def _helper(label: str | Promise) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.add_input(Submit("submit", label))
    return helper


@dataclass
class EnteredLine:
    product: Product
    quantity: int
    unit_price: Decimal | None
    reason: str


class OrderEntryForm(forms.Form):
    """The order entry page. Lines come as parallel lists (line_product, line_sku, line_qty,
    line_price, line_reason) so a keyboard user can add rows without a round trip. A line counts
    only with the product the page resolved (line_product, a product id): text typed but never
    resolved to one product is refused, never guessed."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.all(), required=False, widget=forms.HiddenInput
    )
    new_name = forms.CharField(label=_("New customer: name"), max_length=120, required=False)
    new_phone = forms.CharField(label=_("New customer: phone"), max_length=30, required=False)
    new_email = forms.EmailField(label=_("New customer: e-mail"), required=False)
    new_language = forms.ChoiceField(
        label=_("New customer: language"), choices=settings.LANGUAGES, initial="zh-hans"
    )
    new_notify_by = forms.ChoiceField(
        label=_("Notify by"), choices=NotifyBy.choices, initial=NotifyBy.BOTH
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=OrderChannel.choices)
    order_type = forms.ChoiceField(
        label=_("Order type"), choices=OrderType.choices, initial=OrderType.STANDARD
    )
    # One text field (one Tab stop), not a datetime-local input whose parts are seven stops.
    received_at = MinuteField(label=_("Received at"))
    email_reference = forms.CharField(
        label=_("E-mail text or reference"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    delivery_city = forms.CharField(label=_("Delivery city"), max_length=60, required=False)
    delivery_address = forms.CharField(label=_("Delivery address"), max_length=300)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm_duplicate = forms.BooleanField(
        label=_("Not a duplicate: take this order as well"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())
            self.initial.setdefault(
                "received_at", timezone.localtime().replace(second=0, microsecond=0)
            )
        self.lines: list[EnteredLine] = []
        self.line_rows: list[dict] = self._raw_lines() or [{}]

    def _raw_lines(self) -> list[dict]:
        if not self.is_bound:
            return []
        get = (
            self.data.getlist if hasattr(self.data, "getlist") else (lambda k: self.data.get(k, []))
        )
        skus, qtys = get("line_sku"), get("line_qty")
        prices, reasons = get("line_price"), get("line_reason")
        product_ids = get("line_product")
        rows = []
        for i, sku in enumerate(skus[:MAX_LINES]):
            row = {
                "sku": sku.strip(),
                "product_id": product_ids[i].strip() if i < len(product_ids) else "",
                "qty": qtys[i].strip() if i < len(qtys) else "",
                "price": prices[i].strip() if i < len(prices) else "",
                "reason": reasons[i].strip() if i < len(reasons) else "",
            }
            if row["sku"] or row["product_id"]:
                rows.append(row)
        return rows

    def clean(self):
        data = super().clean() or {}
        if not data.get("customer"):
            if not data.get("new_name"):
                self.add_error("new_name", forms.Field.default_error_messages["required"])
            if not data.get("new_phone"):
                self.add_error("new_phone", forms.Field.default_error_messages["required"])
        rows = self._raw_lines()
        if not rows:
            raise forms.ValidationError(_("Add at least one line."))
        ids = [int(r["product_id"]) for r in rows if r["product_id"].isdigit()]
        products = {
            p.pk: p for p in Product.objects.filter(pk__in=ids).select_related("selling_price")
        }
        errors = []
        self.lines = []
        order_total = Decimal("0")
        for n, row in enumerate(rows, start=1):
            if not row["product_id"]:
                errors.append(
                    _(
                        "Line %(n)s: “%(sku)s” is not a chosen product; pick it from the suggestions."
                    )
                    % {"n": n, "sku": row["sku"]}
                )
                continue
            product = products.get(int(row["product_id"])) if row["product_id"].isdigit() else None
            typed = row["sku"].upper()
            if product is None or typed not in {product.sku.upper(), product.barcode.upper()} - {
                ""
            }:
                errors.append(
                    _("Line %(n)s: no product with SKU “%(sku)s”.") % {"n": n, "sku": row["sku"]}
                )
                continue
            try:
                quantity = int(row["qty"])
                if quantity < 1:
                    raise ValueError
            except ValueError:
                errors.append(_("Line %(n)s: enter a whole quantity of at least 1.") % {"n": n})
                continue
            if quantity > MAX_QUANTITY:
                errors.append(
                    _("Line %(n)s: the quantity cannot be more than %(max)s.")
                    % {"n": n, "max": f"{MAX_QUANTITY:,}"}
                )
                continue
            listed = getattr(getattr(product, "selling_price", None), "price", None)
            price = None
            if row["price"]:
                try:
                    price = Decimal(row["price"])
                    if not price.is_finite() or price < 0 or price > MAX_MONEY:
                        raise InvalidOperation
                    price = price.quantize(Decimal("0.01"))
                except (InvalidOperation, ValueError):
                    errors.append(_("Line %(n)s: enter a valid price.") % {"n": n})
                    continue
                if price == listed:
                    price = None
            effective = price if price is not None else listed
            if effective is not None:
                line_total = effective * quantity
                order_total += line_total
                if line_total > MAX_MONEY or order_total > MAX_MONEY:
                    errors.append(_("Line %(n)s: the total is too large for one order.") % {"n": n})
                    continue
            self.lines.append(EnteredLine(product, quantity, price, row["reason"]))
        if errors:
            raise forms.ValidationError(errors)
        return data


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *OrderState.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *OrderChannel.choices]
    )
    push_state = forms.ChoiceField(
        label=_("Hand-back"), required=False, choices=[("", _("Any")), *PushState.choices]
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        required=False,
        queryset=Warehouse.objects.all(),
        empty_label=_("All warehouses"),
    )
    received_from = forms.DateField(
        label=_("Received from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    received_to = forms.DateField(
        label=_("Received until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.visible_fields():
            is_select = isinstance(field.field.widget, forms.Select)
            field.field.widget.attrs["class"] = "form-select" if is_select else "form-control"


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class AllocateForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        required=False,
        queryset=Warehouse.objects.all(),
        empty_label=_("By the rules"),
    )
    carrier = forms.CharField(label=_("Carrier"), max_length=60, required=False)


class DispatchForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=60, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=60)


class AllocationRuleForm(forms.ModelForm):
    class Meta:
        model = AllocationRule
        fields = ["priority", "name", "order_type", "destination", "warehouse", "carrier", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save rule"))


class ReferenceUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ReferenceKind.choices)
    file = forms.FileField(label=_("File (CSV or XLSX)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Check the file"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if name.endswith(".csv"):
            self.input_format = "csv"
        elif name.endswith(".xlsx"):
            self.input_format = "xlsx"
        else:
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        refuse_oversized_upload(upload.size)
        return upload
