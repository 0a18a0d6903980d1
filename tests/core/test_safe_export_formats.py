"""Issue 12 §6: the admin's django-import-export exports use the same safe formats."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from import_export.mixins import BaseExportMixin

from apps.catalog.models import Product
from apps.core.tabular import SafeExportFormat

pytestmark = pytest.mark.django_db


def _export_admins():
    return [a for a in admin.site._registry.values() if isinstance(a, BaseExportMixin)]


def test_every_admin_export_format_neutralises_formulas():
    admins = _export_admins()
    assert admins, "no admin exports anything: this test guards nothing"
    for model_admin in admins:
        formats = model_admin.get_export_formats()
        assert formats
        assert all(issubclass(f, SafeExportFormat) for f in formats), model_admin


def test_an_admin_export_of_products_writes_formula_names_as_text(make_user):
    Product.objects.create(sku="X-1", name="=1+1", unit_cost=-3)
    model_admin = admin.site._registry[Product]
    request = RequestFactory().get("/")
    request.user = make_user(is_superuser=True, is_staff=True)
    csv_format = next(f for f in model_admin.get_export_formats() if f().get_title() == "csv")
    content = model_admin.get_export_data(csv_format(), request, Product.objects.all())
    text = content if isinstance(content, str) else content.decode("utf-8-sig")
    assert "'=1+1" in text and ",=1+1" not in text
    assert ",-3" in text  # a negative number stays a number
