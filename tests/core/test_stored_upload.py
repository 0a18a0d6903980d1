"""An upload read back from its row in pieces is the file, byte for byte."""

import os

import pytest

from apps.accounts.roles import Role
from apps.core import tabular
from apps.manual_orders.models import ReferenceImport


@pytest.mark.django_db
@pytest.mark.parametrize("size", [0, 1, 7, 8, 23])
def test_an_upload_read_in_pieces_is_the_same_bytes(make_user, monkeypatch, size):
    monkeypatch.setattr(tabular, "STORED_UPLOAD_CHUNK_BYTES", 8)
    content = os.urandom(size) + (b"\x00\xff\xe4\xb8\xad" if size else b"")
    imp = ReferenceImport.objects.create(
        kind="products",
        content=content,
        original_name="products.csv",
        input_format="csv",
        created_by=make_user(Role.BUSINESS_SUPPORT),
    )
    assert tabular.stored_upload(ReferenceImport.objects.filter(pk=imp.pk)) == content
