"""Customer outreach: compensation grants and their limits, progress notices and their
deliveries, opt-outs, the public status page, satisfaction surveys, follow-ups and care-plan
contacts. Imported by ``models`` so Django sees one app; written by ``outreach_services``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .outreach_choices import (
    AudienceSource,
    CompensationKind,
    DeliveryChannel,
    DeliveryState,
    FollowUpReason,
    FollowUpState,
    NoticeAudience,
    NoticeState,
    ServiceState,
)

_MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class CompensationPolicy(models.Model):
    """The one row of compensation rules managers set: the agents' approval limit and what one
    loyalty point is worth (to weigh points against that limit)."""

    agent_limit = models.DecimalField(
        _("care agents' approval limit"), default=Decimal("50.00"), **_MONEY
    )
    point_value = models.DecimalField(
        _("value of one point"), max_digits=8, decimal_places=4, default=Decimal("0.0100")
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("compensation policy")
        verbose_name_plural = _("compensation policies")

    def __str__(self) -> str:
        return str(self.agent_limit)


class Compensation(models.Model):
    """One grant to one customer: a coupon or loyalty points, and who approved it.

    ``cost`` is what the grant may cost the company (a coupon's amount, a percentage coupon's
    cap, points × their value): the figure checked against the approval limit and reported.
    A case is compensated once (a partial unique constraint) unless a manager overrides it.
    """

    customer = models.ForeignKey(
        "manual_orders.Customer",
        on_delete=models.PROTECT,
        related_name="compensations",
        verbose_name=_("customer"),
    )
    case = models.ForeignKey(
        "customer_care.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="compensations",
        verbose_name=_("case"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CompensationKind.choices)
    code = models.CharField(_("coupon code"), max_length=24, unique=True, null=True, blank=True)
    amount = models.DecimalField(_("amount off"), null=True, blank=True, **_MONEY)
    percent = models.PositiveSmallIntegerField(_("percent off"), null=True, blank=True)
    cap = models.DecimalField(_("at most"), null=True, blank=True, **_MONEY)
    minimum_order = models.DecimalField(_("minimum order"), default=Decimal("0"), **_MONEY)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    cost = models.DecimalField(_("cost"), **_MONEY)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    override_reason = models.CharField(
        _("reason for compensating again"), max_length=300, blank=True
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("granted by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approval_limit = models.DecimalField(_("limit at approval"), null=True, blank=True, **_MONEY)
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    batch = models.UUIDField(_("bulk grant"), null=True, blank=True, db_index=True)
    idempotency_key = models.UUIDField(_("idempotency key"), unique=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    handover = models.UUIDField(_("hand-over export"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("compensation")
        verbose_name_plural = _("compensations")
        ordering = ["-granted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(case__isnull=False, override_reason=""),
                name="care_one_compensation_per_case",
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="care_compensation_cost"),
        ]
        indexes = [
            models.Index(
                fields=["id"], condition=Q(handed_over_at__isnull=True), name="care_comp_not_handed"
            )
        ]
        permissions = [
            ("grant_compensation", _("Can grant compensation within the agents' limit")),
            ("approve_compensation", _("Can grant compensation above the agents' limit")),
            ("override_compensation", _("Can compensate a case again, with a reason")),
            ("set_compensation_limit", _("Can set the agents' compensation limit")),
            ("hand_over_compensation", _("Can export compensation for the order system")),
        ]

    def __str__(self) -> str:
        return self.code or f"{self.points} {_('points')}"


class Notice(models.Model):
    """A progress notice to affected customers, written in both languages."""

    title = models.CharField(_("title"), max_length=200)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("incident"),
    )
    audience = models.CharField(_("customers"), max_length=20, choices=NoticeAudience.choices)
    # The "orders in the incident window from the order system" audience: the customers read
    # (and matched to manual orders' customers) by ``load_order_system_audience``, where from
    # (``audience_source``) and how old that data was (``audience_as_of``).
    members = models.ManyToManyField(
        "manual_orders.Customer", blank=True, related_name="+", verbose_name=_("customers read")
    )
    audience_source = models.CharField(
        _("customers read from"), max_length=10, choices=AudienceSource.choices, blank=True
    )
    audience_as_of = models.DateTimeField(_("customer data as of"), null=True, blank=True)
    audience_loaded_at = models.DateTimeField(_("customers read at"), null=True, blank=True)
    audience_job = models.ForeignKey(
        "core.JobRecord",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("job reading the customers"),
    )
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=200, blank=True)
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_zh = models.TextField(_("text (Chinese)"), blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    by_sms = models.BooleanField(_("by SMS"), default=True)
    by_email = models.BooleanField(_("by e-mail"), default=False)
    rate_per_second = models.FloatField(_("messages per second"))
    state = models.CharField(
        _("state"), max_length=10, choices=NoticeState.choices, default=NoticeState.DRAFT
    )
    job = models.ForeignKey(
        "core.JobRecord",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("job"),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        permissions = [("send_notice", _("Can write and send notices to customers"))]

    def __str__(self) -> str:
        return self.title

    @property
    def channels(self) -> list[str]:
        return [
            c
            for c, on in (
                (DeliveryChannel.SMS, self.by_sms),
                (DeliveryChannel.EMAIL, self.by_email),
            )
            if on
        ]


class NoticeDelivery(models.Model):
    """One message of a notice to one customer on one channel: unique, so a notice sent again
    (or a job run again after a crash) never sends anyone a second copy."""

    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("notice")
    )
    customer = models.ForeignKey(
        "manual_orders.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=DeliveryChannel.choices)
    address = models.CharField(_("address"), max_length=254, blank=True)
    language = models.CharField(_("language"), max_length=10)
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.CharField(_("error"), max_length=300, blank=True)
    provider_reference = models.CharField(_("provider reference"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice delivery")
        verbose_name_plural = _("notice deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "customer", "channel"], name="care_one_delivery_per_channel"
            )
        ]
        indexes = [models.Index(fields=["notice", "state", "id"], name="care_delivery_queue")]

    def __str__(self) -> str:
        return f"{self.notice_id} → {self.address}"


class OptOut(models.Model):
    """A customer who asked for no more notices on a channel (through a signed link)."""

    customer = models.ForeignKey(
        "manual_orders.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=DeliveryChannel.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"], name="care_one_opt_out")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.channel}"


class UsedToken(models.Model):
    """The nonce of every one-time link (survey, opt-out) once used: a second use is refused."""

    nonce = models.CharField(max_length=40, unique=True)
    purpose = models.CharField(max_length=20)
    used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.purpose}:{self.nonce[:8]}"


class StatusPage(models.Model):
    """The one public status page: written for the public by care leads, never internal text."""

    ordering = models.CharField(
        _("ordering"), max_length=10, choices=ServiceState.choices, default=ServiceState.NORMAL
    )
    payment = models.CharField(
        _("payment"), max_length=10, choices=ServiceState.choices, default=ServiceState.NORMAL
    )
    delivery = models.CharField(
        _("delivery"), max_length=10, choices=ServiceState.choices, default=ServiceState.NORMAL
    )
    phone = models.CharField(_("order and help line"), max_length=60, blank=True)
    mailbox = models.EmailField(_("dedicated mailbox"), blank=True)
    channels_zh = models.TextField(_("social and live channels (Chinese)"), blank=True)
    channels_en = models.TextField(_("social and live channels (English)"), blank=True)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("incident"),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("status page")
        verbose_name_plural = _("status pages")
        permissions = [("edit_status_page", _("Can edit the public status page"))]

    def __str__(self) -> str:
        return f"{self.ordering}/{self.payment}/{self.delivery}"


class PublicUpdate(models.Model):
    """A public notice on the status page and its feeds, in both languages."""

    text_zh = models.TextField(_("text (Chinese)"))
    text_en = models.TextField(_("text (English)"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        verbose_name = _("public update")
        verbose_name_plural = _("public updates")
        ordering = ["-published_at", "-pk"]

    def __str__(self) -> str:
        return self.text_en[:60]


class Survey(models.Model):
    """The satisfaction survey a resolved case's customer gets (one per resolution)."""

    case = models.ForeignKey(
        "customer_care.Case",
        on_delete=models.CASCADE,
        related_name="surveys",
        verbose_name=_("case"),
    )
    nonce = models.CharField(max_length=40, unique=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-sent_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="care_survey_score",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.score or '-'}"


class FollowUp(models.Model):
    """A task for the lead: a complaint or a low score to follow up."""

    case = models.ForeignKey(
        "customer_care.Case",
        on_delete=models.CASCADE,
        related_name="follow_ups",
        verbose_name=_("case"),
    )
    survey = models.OneToOneField(
        Survey, on_delete=models.CASCADE, null=True, blank=True, related_name="follow_up"
    )
    reason = models.CharField(_("reason"), max_length=10, choices=FollowUpReason.choices)
    state = models.CharField(
        _("state"), max_length=6, choices=FollowUpState.choices, default=FollowUpState.OPEN
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["state", "created_at"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.reason}"


class PlannedContact(models.Model):
    """A care-plan contact with an affected VIP customer: when, and what came of it."""

    customer = models.ForeignKey(
        "manual_orders.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    due_at = models.DateTimeField(_("contact on"))
    purpose = models.CharField(_("purpose"), max_length=200)
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    contacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contacted by"),
    )
    outcome = models.TextField(_("outcome"), blank=True)
    reminded_at = models.DateTimeField(_("lead reminded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("planned contact")
        verbose_name_plural = _("planned contacts")
        ordering = ["contacted_at", "due_at"]

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.due_at:%Y-%m-%d}"


__all__ = [
    "CompensationPolicy",
    "Compensation",
    "Notice",
    "NoticeDelivery",
    "OptOut",
    "UsedToken",
    "StatusPage",
    "PublicUpdate",
    "Survey",
    "FollowUp",
    "PlannedContact",
]
