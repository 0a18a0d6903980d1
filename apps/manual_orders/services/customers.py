"""Customers taken down with an order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from apps.core.errors import full_clean_or_refuse

from ..choices import (
    NotifyBy,
)
from ..models import (
    Customer,
)

if TYPE_CHECKING:
    from apps.accounts.models import User


# --- customers ---------------------------------------------------------------------------------------
@transaction.atomic
def create_customer(
    *,
    name: str,
    phone: str,
    email: str = "",
    city: str = "",
    address: str = "",
    vip: bool = False,
    language: str = "zh-hans",
    notify_by: str = NotifyBy.BOTH,
    by: User,
) -> Customer:
    customer = Customer(
        name=name.strip(),
        phone=phone.strip().replace(" ", ""),
        email=email.strip(),
        city=city.strip(),
        address=address.strip(),
        vip=vip,
        language=language,
        notify_by=notify_by,
    )
    full_clean_or_refuse(customer)
    customer.save()
    return customer
