"""Care cases from every channel, their conversation and history, response targets, the mail
taken from the care mailbox, order requests for the order system and refunds.

Customers are manual orders' ``Customer`` (found or created through its services); manual
orders are changed through manual orders' services; the order system is read through the
backups gateway. A case's clock (``first_response_due``/``resolution_due``) is set when it is
opened and kept when it changes hands; breach times are written once and never rewritten.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.core.events import render_event

from .choices import (
    NORMAL_LANE,
    OPEN_STATES,
    CaseChannel,
    CaseState,
    CaseType,
    Condition,
    Direction,
    MailOutcome,
    OrderSource,
    Priority,
    RefundMethod,
    RequestKind,
    RequestState,
    RmaKind,
    RmaState,
)

REFERENCE_PREFIX = "CS-"


def default_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


class Team(models.Model):
    """A care team: its members, its lead (told about cases close to breach) and its hours."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lead"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="care_teams", verbose_name=_("members")
    )
    opens_at = models.TimeField(_("opens at"), default=time(9, 0))
    closes_at = models.TimeField(_("closes at"), default=time(18, 0))
    weekdays = models.JSONField(
        _("working days"),
        default=default_weekdays,
        help_text=_("Days of the week the team works: 0 is Monday, 6 is Sunday."),
    )
    round_the_clock = models.BooleanField(
        _("24-hour service"),
        default=False,
        help_text=_("Clocks run day and night (also switched on by any open incident)."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("care team")
        verbose_name_plural = _("care teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ResponseTarget(models.Model):
    """First-response and resolution targets for a priority (and optionally one channel)."""

    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    channel = models.CharField(
        _("channel"),
        max_length=12,
        choices=CaseChannel.choices,
        blank=True,
        help_text=_("Empty: every channel without a target of its own."),
    )
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("response target")
        verbose_name_plural = _("response targets")
        ordering = ["priority", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["priority", "channel"], name="care_target_unique")
        ]

    def __str__(self) -> str:
        return f"{self.priority}/{self.channel or '*'}"


class Case(models.Model):
    customer = models.ForeignKey(
        "manual_orders.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_cases",
        verbose_name=_("customer"),
    )
    # Who wrote when no customer is known yet (mail from an unknown address).
    contact_name = models.CharField(_("contact name"), max_length=120, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    channel = models.CharField(_("channel"), max_length=12, choices=CaseChannel.choices)
    case_type = models.CharField(_("type"), max_length=14, choices=CaseType.choices)
    subject = models.CharField(_("subject"), max_length=200)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    vip = models.BooleanField(_("VIP"), default=False)
    # 0: VIP or urgent (the priority lane), 1: everyone else; kept by the services.
    lane = models.PositiveSmallIntegerField(_("lane"), default=NORMAL_LANE)
    state = models.CharField(
        _("state"), max_length=10, choices=CaseState.choices, default=CaseState.NEW
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_cases",
        verbose_name=_("owner"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("team"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # The clock: set when the case is opened, kept when it changes hands.
    first_response_due = models.DateTimeField(_("first response due"))
    resolution_due = models.DateTimeField(_("resolution due"))
    # The next deadline the queue sorts by: first response until answered, then resolution.
    due_at = models.DateTimeField(_("due"))
    first_responded_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Written once (conditional UPDATE … WHERE … IS NULL), never rewritten.
    first_response_breached_at = models.DateTimeField(
        _("first response target missed at"), null=True, blank=True
    )
    resolution_breached_at = models.DateTimeField(
        _("resolution target missed at"), null=True, blank=True
    )
    breach_warned_at = models.DateTimeField(_("lead warned at"), null=True, blank=True)
    reopened_count = models.PositiveIntegerField(_("reopened"), default=0)
    version = models.PositiveIntegerField(_("version"), default=1)
    # A phone case's form carries a key made when it is rendered: a double submit opens one case.
    idempotency_key = models.UUIDField(_("idempotency key"), unique=True, null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("care case")
        verbose_name_plural = _("care cases")
        ordering = ["-pk"]
        indexes = [
            # The queue: open cases, priority lane first, then by time left.
            models.Index(
                fields=["lane", "due_at", "id"],
                condition=Q(state__in=OPEN_STATES),
                name="care_case_queue",
            ),
            models.Index(
                fields=["owner", "lane", "due_at", "id"],
                condition=Q(state__in=OPEN_STATES),
                name="care_case_owner_queue",
            ),
            models.Index(fields=["customer", "-id"], name="care_case_customer"),
            models.Index(fields=["state", "-id"], name="care_case_state"),
        ]
        permissions = [
            ("work_case", _("Can answer and change care cases")),
            ("lead_care", _("Can reassign cases and see the care team's figures")),
            ("manage_targets", _("Can edit response targets and care teams")),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """What customers quote (and mail subjects carry): ``CS-000123``."""
        return f"{REFERENCE_PREFIX}{self.pk:06d}" if self.pk else ""

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def customer_name(self) -> str:
        customer = self.customer
        return customer.name if customer else self.contact_name or self.contact_email

    @property
    def reply_address(self) -> str:
        customer = self.customer
        if customer and customer.email:
            return customer.email
        return self.contact_email


class CaseOrder(models.Model):
    """An order a case is about: a manual order, or one of the order system by its number."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="orders", verbose_name=_("case")
    )
    source = models.CharField(_("source"), max_length=14, choices=OrderSource.choices)
    number = models.CharField(_("order number"), max_length=40)
    manual_order = models.ForeignKey(
        "manual_orders.ManualOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_links",
        verbose_name=_("manual order"),
    )

    class Meta:
        verbose_name = _("order of a case")
        verbose_name_plural = _("orders of cases")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "source", "number"], name="care_case_order")
        ]

    def __str__(self) -> str:
        return self.number


class CaseMessage(models.Model):
    """One message in or out, or an internal note; never edited, never lost."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="messages", verbose_name=_("case")
    )
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    channel = models.CharField(_("channel"), max_length=12, choices=CaseChannel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    sender = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"))
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    # E-mail: the Message-ID taken (never twice) or sent, and what it answered.
    message_id = models.CharField(
        _("Message-ID"), max_length=300, null=True, blank=True, unique=True
    )
    in_reply_to = models.CharField(_("in reply to"), max_length=300, blank=True)
    notification = models.ForeignKey(
        "core.Notification",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivery"),
    )
    idempotency_key = models.UUIDField(_("idempotency key"), unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("case message")
        verbose_name_plural = _("case messages")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["case", "created_at"], name="care_message_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.direction}"


class CaseEvent(models.Model):
    """The case's timeline: what happened as a kind + parameters, rendered when shown."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="events", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=60)
    params = models.JSONField(_("parameters"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="care_event_case")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"

    @property
    def message(self) -> str:
        return render_event(self.kind, self.params, fallback=self.kind)


class OrderSystemRequest(models.Model):
    """A change or cancellation of an order-system order, applied once by the hand-back."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="order_requests", verbose_name=_("case")
    )
    order_number = models.CharField(_("order number"), max_length=40)
    kind = models.CharField(_("kind"), max_length=8, choices=RequestKind.choices)
    # What to change: {"ship_city": …, "ship_address": …}; empty for a cancellation.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    state = models.CharField(
        _("state"), max_length=8, choices=RequestState.choices, default=RequestState.PENDING
    )
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("order-system request")
        verbose_name_plural = _("order-system requests")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["created_at", "id"],
                condition=Q(state="pending"),
                name="care_request_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.order_number}"


class IngestedMail(models.Model):
    """Every message taken from the care mailbox, once (by Message-ID), with what became of it."""

    message_id = models.CharField(_("Message-ID"), max_length=300, unique=True)
    uid = models.BigIntegerField(_("IMAP UID"), null=True, blank=True)
    sender = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=MailOutcome.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    case = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)

    class Meta:
        verbose_name = _("mail taken")
        verbose_name_plural = _("mail taken")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return self.message_id


class MailboxState(models.Model):
    """Where the poller got to in one mailbox (UIDVALIDITY + the highest UID taken)."""

    mailbox = models.CharField(_("mailbox"), max_length=300, unique=True)
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), default=0)
    last_uid = models.BigIntegerField(_("last UID"), default=0)
    polled_at = models.DateTimeField(_("polled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mailbox state")
        verbose_name_plural = _("mailbox states")

    def __str__(self) -> str:
        return self.mailbox


class Refund(models.Model):
    """A refund promised on a case, recorded for the finance hand-back."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("case")
    )
    order_number = models.CharField(_("order number"), max_length=40, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    method = models.CharField(_("method"), max_length=10, choices=RefundMethod.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    idempotency_key = models.UUIDField(_("idempotency key"), unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    handed_to_finance_at = models.DateTimeField(_("handed to finance at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="care_refund_positive")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.amount}"


class Rma(models.Model):
    """A return or exchange (RMA): what comes back, why, and the warehouse it goes back to."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="rmas", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=RmaKind.choices)
    order_number = models.CharField(_("order number"), max_length=40, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    warehouse = models.ForeignKey(
        "catalog.Warehouse", on_delete=models.PROTECT, related_name="+", verbose_name=_("warehouse")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=RmaState.choices, default=RmaState.OPEN
    )
    idempotency_key = models.UUIDField(_("idempotency key"), unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"RMA-{self.pk:06d}" if self.pk else ""


class RmaLine(models.Model):
    rma = models.ForeignKey(
        Rma, on_delete=models.CASCADE, related_name="lines", verbose_name=_("return")
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    condition = models.CharField(
        _("condition on receipt"), max_length=10, choices=Condition.choices, blank=True
    )
    restocked = models.PositiveIntegerField(_("back in stock"), default=0)

    class Meta:
        verbose_name = _("returned item")
        verbose_name_plural = _("returned items")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="care_rma_line_positive")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"


from .outreach_models import *  # noqa: E402, F403
