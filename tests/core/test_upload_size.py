"""Upload forms refuse a file the checking job would refuse anyway, naming the same limit."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from apps.accounts.roles import Role
from apps.manual_orders.models import ReferenceImport


@pytest.mark.django_db
def test_a_reference_file_over_the_upload_limit_is_refused_by_the_form(client, make_user, settings):
    settings.UPLOAD_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    client.force_login(make_user(Role.TECH_SUPPORT, language="en"))
    big = SimpleUploadedFile("products.csv", b"sku,name\n" + b"x" * (1024 * 1024 + 1))
    with translation.override("en"):
        page = client.post(
            reverse("manual_orders:reference-upload"),
            {"kind": "products", "file": big},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert "The file is larger than 1 MB, the limit for an upload." in page.content.decode()
    assert not ReferenceImport.objects.exists()
