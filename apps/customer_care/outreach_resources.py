"""The compensation hand-over file (django-import-export), loaded into the order system."""

from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from .models import Compensation


class CompensationResource(resources.ModelResource):
    customer_phone = fields.Field(attribute="customer__phone", column_name="customer_phone")
    customer_external_id = fields.Field(
        attribute="customer__external_id", column_name="customer_external_id"
    )
    customer_name = fields.Field(attribute="customer__name", column_name="customer_name")

    class Meta:
        model = Compensation
        fields = (
            "id",
            "kind",
            "code",
            "amount",
            "percent",
            "cap",
            "minimum_order",
            "valid_from",
            "valid_until",
            "points",
            "customer_phone",
            "customer_external_id",
            "customer_name",
            "granted_at",
        )
        export_order = fields
        name = _("Compensation hand-over")
