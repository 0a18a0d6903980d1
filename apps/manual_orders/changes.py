"""Changes to a manual order after it was taken, and finding a customer by phone.

Public services customer care calls (kept out of ``services`` while that module becomes a
package): ``find_or_create_customer`` matches a caller by phone before creating anyone, and
``change_order`` changes the delivery address, the contact details or line quantities of an
order that has not left the warehouse, with an ``OrderEvent`` and a message to the customer in
their language, like every other change of an order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Channel
from apps.core.errors import DomainError, ErrorCode, full_clean_or_refuse
from apps.core.notifications import send_notification

from .choices import HOLDING_STATES, NotifyBy, OrderState
from .events import ORDER_CHANGED, ChangedField
from .models import Customer, ManualOrder, OrderEvent

if TYPE_CHECKING:
    from apps.accounts.models import User

CENT = Decimal("0.01")
# Orders in these states can still be changed: nothing has left the warehouse.
CHANGEABLE_STATES = HOLDING_STATES


class OrderChangeError(ErrorCode):
    NOT_CHANGEABLE = (
        "not_changeable",
        _("Order %(number)s is %(state)s: it can no longer be changed."),
    )
    NOTHING_CHANGED = "nothing_changed", _("Nothing was changed.")
    UNKNOWN_LINE = "unknown_line", _("Line %(line)s is not a line of order %(number)s.")
    BAD_QUANTITY = "bad_quantity", _("Quantities must be whole numbers from 0 upwards.")
    NO_LINES_LEFT = (
        "no_lines_left",
        _("An order needs at least one line: cancel the order instead."),
    )
    NO_PHONE = "no_phone", _("Enter the caller's phone number.")


def normalise_phone(phone: str) -> str:
    return "".join(ch for ch in phone.strip() if ch.isdigit() or ch == "+")


@transaction.atomic
def find_or_create_customer(
    *,
    phone: str,
    name: str = "",
    email: str = "",
    language: str = "zh-hans",
    external_id: int | None = None,
    by: User,
) -> tuple[Customer, bool]:
    """The customer with this phone number (whatever name they give), else a new one.

    A second caller with the same phone under another name is the same customer: the name on
    file stays, nobody is duplicated. Concurrent calls are serialised on the phone number.
    With ``external_id`` (the customer's id in the order system) that id is the key first: the
    customer holding it is returned; else the one with this phone and no id yet takes it.
    """
    phone = normalise_phone(phone)
    if not phone:
        raise DomainError(OrderChangeError.NO_PHONE, field="phone")
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if external_id is not None:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"customer-ext:{external_id}"]
                )
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"customer:{phone}"])
    existing = None
    if external_id is not None:
        existing = Customer.objects.filter(external_id=external_id).first()
    if existing is None:
        same_phone = Customer.objects.filter(phone=phone).order_by("pk")
        if external_id is not None:
            same_phone = same_phone.filter(external_id__isnull=True)
        existing = same_phone.first()
    if existing is not None:
        fields = []
        if email and not existing.email:
            existing.email = email.strip()
            fields.append("email")
        if external_id is not None and existing.external_id is None:
            existing.external_id = external_id
            fields.append("external_id")
        if fields:
            existing.save(update_fields=fields)
        return existing, False
    customer = Customer(
        name=(name.strip() or phone)[:120],
        phone=phone,
        email=email.strip(),
        language=language,
        notify_by=NotifyBy.BOTH,
        external_id=external_id,
    )
    full_clean_or_refuse(customer)
    customer.save()
    return customer, True


CHANGED_SUBJECT = _("Your order %(number)s has been changed")
CHANGED_BODY = _(
    "Your order %(number)s has been changed as you asked (%(fields)s). "
    "Delivery address: %(address)s. Total: %(total)s."
)


@transaction.atomic
def change_order(
    *,
    order: ManualOrder,
    by: User,
    delivery_address: str | None = None,
    delivery_city: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    quantities: dict[int, int] | None = None,
    note: str = "",
) -> ManualOrder:
    """Change what the customer asked to change on an order that has not been dispatched.

    ``quantities`` maps line ids to new quantities (0 removes the line). The order row is
    locked; the change is an ``OrderEvent`` (kind ``order.changed``) and the customer is told.
    """
    order = ManualOrder.objects.select_for_update().select_related("customer").get(pk=order.pk)
    if order.state not in CHANGEABLE_STATES:
        raise DomainError(
            OrderChangeError.NOT_CHANGEABLE,
            params={"number": order.number, "state": OrderState(order.state).label},
        )
    changed: list[str] = []
    if delivery_address is not None and delivery_address.strip() != order.delivery_address:
        order.delivery_address = delivery_address.strip()
        changed.append("address")
    if delivery_city is not None and delivery_city.strip() != order.delivery_city:
        order.delivery_city = delivery_city.strip()
        if "address" not in changed:
            changed.append("address")
    customer = order.customer
    contact_changed = False
    if phone is not None and normalise_phone(phone) and normalise_phone(phone) != customer.phone:
        customer.phone = normalise_phone(phone)
        contact_changed = True
    if email is not None and email.strip() != customer.email:
        customer.email = email.strip()
        contact_changed = True
    if contact_changed:
        full_clean_or_refuse(customer)
        customer.save()
        changed.append("contact")
    if quantities:
        lines = {line.pk: line for line in order.lines.select_for_update()}
        for line_id, quantity in quantities.items():
            if line_id not in lines:
                raise DomainError(
                    OrderChangeError.UNKNOWN_LINE, params={"line": line_id, "number": order.number}
                )
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                raise DomainError(OrderChangeError.BAD_QUANTITY)
        if all(quantities.get(pk, line.quantity) == 0 for pk, line in lines.items()):
            raise DomainError(OrderChangeError.NO_LINES_LEFT)
        for line_id, quantity in quantities.items():
            line = lines[line_id]
            if quantity == line.quantity:
                continue
            if quantity == 0:
                line.delete()
                del lines[line_id]
            else:
                line.quantity = quantity
                line.line_total = (line.unit_price * quantity).quantize(CENT)
                line.save(update_fields=["quantity", "line_total"])
            if "lines" not in changed:
                changed.append("lines")
        order.total = sum((line.line_total for line in lines.values()), Decimal("0"))
    if not changed:
        raise DomainError(OrderChangeError.NOTHING_CHANGED)
    if not order.delivery_address:
        raise DomainError(_("Enter the delivery address."), field="delivery_address")
    now = timezone.now()
    order.state_changed_at = now
    order.save()
    OrderEvent.objects.create(
        order=order,
        from_state=order.state,
        to_state=order.state,
        at=now,
        by=by,
        note=note.strip()[:300],
        kind=ORDER_CHANGED,
        params={"fields": changed},
    )
    _tell_customer(order, changed, by=by)
    return order


def _tell_customer(order: ManualOrder, changed: list[str], *, by: User) -> None:
    customer = order.customer
    targets = []
    if customer.notify_by in (NotifyBy.EMAIL, NotifyBy.BOTH) and customer.email:
        targets.append((Channel.EMAIL, customer.email))
    if customer.notify_by in (NotifyBy.SMS, NotifyBy.BOTH) and customer.phone:
        targets.append((Channel.SMS, customer.phone))
    for channel, address in targets:
        params = {
            "number": order.number,
            "fields": _LazyFields(changed),
            "address": f"{order.delivery_city} {order.delivery_address}".strip(),
            "total": order.total,
        }
        send_notification(
            channel=channel,
            address=address,
            language=customer.language,
            subject=CHANGED_SUBJECT,
            body=CHANGED_BODY,
            params=params,
            by=by,
        )


class _LazyFields:
    """The changed fields, named in whichever language is active when the message renders."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields

    def __str__(self) -> str:
        return ", ".join(str(ChangedField(f).label) for f in self.fields)
