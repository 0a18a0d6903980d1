"""Choices of customer outreach: compensation, notices, the public status page and surveys."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CompensationKind(models.TextChoices):
    COUPON_AMOUNT = "coupon_amount", _("Coupon (amount off)")
    COUPON_PERCENT = "coupon_percent", _("Coupon (percentage off)")
    POINTS = "points", _("Loyalty points")


class NoticeState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    DONE = "done", _("Sent")


class NoticeAudience(models.TextChoices):
    INCIDENT_ORDERS = "incident_orders", _("Customers with manual orders in the incident window")
    ORDER_SYSTEM_ORDERS = (
        "order_system_orders",
        _("Customers with orders in the incident window (order system or its latest backup)"),
    )
    OPEN_CASES = "open_cases", _("Customers with open care cases")
    VIP = "vip", _("VIP customers")
    ALL = "all", _("Every customer")


class AudienceSource(models.TextChoices):
    LIVE = "live", _("the order system")
    BACKUP = "backup", _("the latest backup")


class DeliveryChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    OPTED_OUT = "opted_out", _("Opted out")
    UNCERTAIN = "uncertain", _("Interrupted while sending")


class ServiceState(models.TextChoices):
    NORMAL = "normal", _("Working normally")
    DEGRADED = "degraded", _("Slower than usual")
    DOWN = "down", _("Not available")


class FollowUpReason(models.TextChoices):
    LOW_SCORE = "low_score", _("Low satisfaction score")
    COMPLAINT = "complaint", _("Complaint")


class FollowUpState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
