"""Channels, case types, priorities and states of care cases, with the allowed moves declared once."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    MAILBOX = "mailbox", _("Care mailbox")
    SMS = "sms", _("SMS reply")
    SOCIAL = "social", _("Social media")
    LIVE_STREAM = "live_stream", _("Live stream")
    FORUM = "forum", _("Community forum")
    WALK_IN = "walk_in", _("Walk-in")
    OTHER = "other", _("Other")


class CaseType(models.TextChoices):
    ORDER_QUERY = "order_query", _("Order query")
    CHANGE = "change", _("Order change")
    CANCELLATION = "cancellation", _("Cancellation")
    COMPLAINT = "complaint", _("Complaint")
    RETURN = "return", _("Return")
    EXCHANGE = "exchange", _("Exchange")
    REFUND = "refund", _("Refund")
    SUGGESTION = "suggestion", _("Suggestion")


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


class CaseState(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# Where each state may go next; the services refuse anything else. Resolved and closed cases
# may be reopened (they go back to open and count as reopened).
TRANSITIONS: dict[str, set[str]] = {
    CaseState.NEW: {CaseState.OPEN, CaseState.WAITING, CaseState.RESOLVED},
    CaseState.OPEN: {CaseState.WAITING, CaseState.RESOLVED},
    CaseState.WAITING: {CaseState.OPEN, CaseState.RESOLVED},
    CaseState.RESOLVED: {CaseState.OPEN, CaseState.CLOSED},
    CaseState.CLOSED: {CaseState.OPEN},
}
# Cases still being worked: they are on the queue and their clocks run.
OPEN_STATES = (CaseState.NEW, CaseState.OPEN, CaseState.WAITING)


class Direction(models.TextChoices):
    INBOUND = "in", _("From the customer")
    OUTBOUND = "out", _("To the customer")
    NOTE = "note", _("Internal note")


class OrderSource(models.TextChoices):
    MANUAL = "manual", _("Manual order")
    ORDER_SYSTEM = "order_system", _("Order system")


class RequestKind(models.TextChoices):
    CHANGE = "change", _("Change")
    CANCEL = "cancel", _("Cancellation")


class RequestState(models.TextChoices):
    PENDING = "pending", _("Waiting for the hand-back")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Could not be applied")


class MailOutcome(models.TextChoices):
    OPENED = "opened", _("Opened a case")
    THREADED = "threaded", _("Added to its case")
    NOTE = "note", _("Kept as a note")
    REJECTED = "rejected", _("Rejected")


class RefundMethod(models.TextChoices):
    ORIGINAL = "original", _("Original payment method")
    BANK = "bank", _("Bank transfer")
    ALIPAY = "alipay", _("Alipay")
    WECHAT = "wechat", _("WeChat Pay")
    VOUCHER = "voucher", _("Voucher")
    CASH = "cash", _("Cash")


class RmaKind(models.TextChoices):
    RETURN = "return", _("Return")
    EXCHANGE = "exchange", _("Exchange")


class RmaState(models.TextChoices):
    OPEN = "open", _("Waiting for the goods")
    RECEIVED = "received", _("Received")


class Condition(models.TextChoices):
    RESELLABLE = "resellable", _("Re-sellable")
    DAMAGED = "damaged", _("Damaged")
    DEFECTIVE = "defective", _("Defective")
    MISSING = "missing", _("Not in the parcel")


# Lane 0 (VIP customers and urgent cases) comes before lane 1 on the queue.
FAST_LANE, NORMAL_LANE = 0, 1
