"""Alarms: fire once after the rule's duration, notify (grouped), escalate, resolve, damp flapping,
and declare an incident (by itself for critical rules that say so, or by tech support)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role
from apps.core.choices import Channel
from apps.core.errors import DomainError
from apps.core.notifications import send_notification

from .. import events
from ..choices import ACTIVE_ALARM_STATES, AlarmAudience, AlarmSeverity, AlarmState, Condition
from ..errors import MonitoringError
from ..models import Alarm, AlarmRule, Sample

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.incidents.models import Incident


@dataclass
class Evaluation:
    fired: list[Alarm] = field(default_factory=list)
    refired: list[Alarm] = field(default_factory=list)
    resolved: list[Alarm] = field(default_factory=list)
    escalated: list[Alarm] = field(default_factory=list)


def breaches(rule: AlarmRule, sample: Sample) -> bool | None:
    """Does the sample meet the rule's condition? None: nothing was measured (neither way).

    A failed sample breaches every rule: a probe that cannot measure cannot vouch for health.
    """
    if not sample.ok:
        return True
    if not sample.measured or sample.value is None:
        return None if rule.condition != Condition.FAILS else False
    if rule.condition == Condition.ABOVE:
        return rule.threshold is not None and sample.value > rule.threshold
    if rule.condition == Condition.BELOW:
        return rule.threshold is not None and sample.value < rule.threshold
    return False


def _evidence(rule: AlarmRule, samples: list[Sample]) -> dict[str, Any]:
    return {
        "probe": str(rule.probe.display_name),
        "condition": rule.condition,
        "threshold": rule.threshold,
        "samples": [
            {
                "at": s.at.isoformat(),
                "ok": s.ok,
                "value": s.value,
                "error": s.error,
                "duration_ms": s.duration_ms,
            }
            for s in samples
        ],
    }


def evidence_text(evidence: dict[str, Any]) -> str:
    """The evidence as one line of figures (language-neutral: times, values, driver errors)."""
    parts = []
    for s in evidence.get("samples", []):
        at = s.get("at", "")[11:19]
        shown = s.get("error") or ("" if s.get("value") is None else f"{s['value']:g}")
        parts.append(f"{at} {'ok' if s.get('ok') else 'FAIL'} {shown}".strip())
    return f"{evidence.get('probe', '')}: " + "; ".join(parts)


def evaluate_alarms(*, now: datetime | None = None) -> Evaluation:
    """Compare each enabled rule with its probe's latest samples; fire, resolve, escalate.

    Alarms that fire in one evaluation are announced in one grouped notification per person
    (an alarm storm is one message, not one per alarm).
    """
    now = now or timezone.now()
    result = Evaluation()
    rules = AlarmRule.objects.filter(enabled=True, probe__enabled=True).select_related("probe")
    for rule in rules:
        samples = list(rule.probe.samples.order_by("-at", "-pk")[: rule.consecutive])
        if not samples:
            continue
        verdicts = [breaches(rule, s) for s in samples]
        if len(samples) >= rule.consecutive and all(v is True for v in verdicts):
            alarm, how = _fire(rule=rule, samples=samples, now=now)
            if alarm is not None and how == "fired":
                result.fired.append(alarm)
            elif alarm is not None and how == "refired":
                result.refired.append(alarm)
        elif verdicts[0] is False:
            resolved = _resolve(rule=rule, now=now)
            if resolved is not None:
                result.resolved.append(resolved)
    if result.fired:
        _notify_fired(result.fired, at=now)
    for alarm in result.fired:
        if alarm.rule.auto_declare and alarm.severity == AlarmSeverity.CRITICAL:
            _declare_automatically(alarm)
    result.escalated = escalate_alarms(now=now)
    return result


@transaction.atomic
def _fire(*, rule: AlarmRule, samples: list[Sample], now: datetime) -> tuple[Alarm | None, str]:
    # The rule row is the lock: two rounds evaluating the same rule queue here.
    AlarmRule.objects.select_for_update().filter(pk=rule.pk).first()
    active = Alarm.objects.filter(rule=rule, state__in=ACTIVE_ALARM_STATES).first()
    if active is not None:
        return active, "active"
    flap_since = now - timedelta(minutes=settings.MONITORING_FLAP_MINUTES)
    recent = (
        Alarm.objects.filter(rule=rule, state=AlarmState.RESOLVED, resolved_at__gte=flap_since)
        .order_by("-resolved_at")
        .first()
    )
    evidence = _evidence(rule, samples)
    if recent is not None:
        # Flapping: the same trouble back within minutes stays one alarm, announced once.
        recent.state = AlarmState.ACKNOWLEDGED if recent.acknowledged_at else AlarmState.FIRING
        recent.resolved_at = None
        recent.refired += 1
        recent.evidence = evidence
        recent._change_reason = "refired"  # type: ignore[attr-defined]
        recent.save()
        return recent, "refired"
    try:
        with transaction.atomic():
            alarm = Alarm.objects.create(
                rule=rule, severity=rule.severity, fired_at=now, evidence=evidence
            )
    except IntegrityError:
        return None, "active"  # another round fired it a moment ago
    from apps.core.timeline import post_to_timeline

    post_to_timeline(kind=events.ALARM_FIRED, rule=rule.name, severity=rule.severity)
    return alarm, "fired"


@transaction.atomic
def _resolve(*, rule: AlarmRule, now: datetime) -> Alarm | None:
    alarm = (
        Alarm.objects.select_for_update().filter(rule=rule, state__in=ACTIVE_ALARM_STATES).first()
    )
    if alarm is None:
        return None
    alarm.state = AlarmState.RESOLVED
    alarm.resolved_at = now
    alarm._change_reason = "resolved"  # type: ignore[attr-defined]
    alarm.save()
    from apps.core.timeline import post_to_timeline

    post_to_timeline(kind=events.ALARM_RESOLVED, rule=rule.name)
    return alarm


def _staff_with_role(role: Role) -> list[User]:
    from apps.accounts.models import User

    return list(User.objects.filter(is_active=True, groups__name=role.value).distinct())


def _send_grouped(recipients: list[User], alarms: list[Alarm], *, escalation: bool) -> int:
    """One e-mail and one SMS per person for all ``alarms``; returns how many were queued."""
    # Names as typed (the message around them is rendered in each recipient's language).
    names = ", ".join(a.rule.name for a in alarms)
    lines = "\n".join(f"- {a.rule.name}: {evidence_text(a.evidence)}" for a in alarms)
    if escalation:
        subject = _("Unacknowledged alarms: %(names)s")
        body = _(
            "Nobody has acknowledged these alarms yet:\n%(lines)s\n\n"
            "Open the monitoring page of the back-office to acknowledge them."
        )
        sms = _("Unacknowledged alarms: %(names)s")
    elif len(alarms) == 1:
        subject = _("Alarm: %(names)s")
        body = _(
            "An alarm fired:\n%(lines)s\n\n"
            "Open the monitoring page of the back-office to acknowledge it or declare an incident."
        )
        sms = _("Alarm: %(names)s")
    else:
        subject = _("%(count)s alarms fired: %(names)s")
        body = _(
            "%(count)s alarms fired at once:\n%(lines)s\n\n"
            "Open the monitoring page of the back-office to acknowledge them or declare an incident."
        )
        sms = _("%(count)s alarms fired: %(names)s")
    params = {"names": names, "lines": lines, "count": len(alarms)}
    sent = 0
    for person in recipients:
        if person.email:
            send_notification(
                channel=Channel.EMAIL, recipient=person, subject=subject, body=body, params=params
            )
            sent += 1
        if getattr(person, "phone", ""):
            send_notification(
                channel=Channel.SMS, recipient=person, subject="", body=sms, params=params
            )
            sent += 1
    return sent


def _notify_fired(alarms: list[Alarm], *, at: datetime) -> int:
    """Announce newly fired alarms to the tech-support staff on duty at ``at`` (the moment they
    fired); with nobody on duty, to every active tech-support account, and the alarm says so."""
    from ..selectors import on_duty

    recipients = on_duty(at=at)
    audience = AlarmAudience.ON_DUTY
    if not recipients:
        recipients, audience = _staff_with_role(Role.TECH_SUPPORT), AlarmAudience.ALL_TECH_SUPPORT
    for alarm in alarms:
        alarm.notified = audience
        alarm._change_reason = "notified"  # type: ignore[attr-defined]
        alarm.save(update_fields=["notified"])
    return _send_grouped(recipients, alarms, escalation=False)


def escalate_alarms(*, now: datetime | None = None) -> list[Alarm]:
    """Alarms still unacknowledged after their rule's time go to the emergency lead, once."""
    now = now or timezone.now()
    due = []
    for alarm in Alarm.objects.filter(
        state=AlarmState.FIRING, escalated_at__isnull=True
    ).select_related("rule"):
        if alarm.fired_at + timedelta(minutes=alarm.rule.escalate_after_minutes) > now:
            continue
        # Claimed by one conditional UPDATE: two evaluations never escalate the same alarm twice.
        if Alarm.objects.filter(
            pk=alarm.pk, state=AlarmState.FIRING, escalated_at__isnull=True
        ).update(escalated_at=now):
            alarm.escalated_at = now
            due.append(alarm)
    if due:
        _send_grouped(_staff_with_role(Role.EMERGENCY_LEAD), due, escalation=True)
    return due


# --- staff acting on an alarm ------------------------------------------------------------------
def _lock_alarm(alarm: Alarm) -> Alarm:
    return (
        Alarm.objects.select_for_update(of=("self",))
        .select_related("rule", "acknowledged_by")
        .get(pk=alarm.pk)
    )


@transaction.atomic
def acknowledge_alarm(*, alarm: Alarm, by: User) -> Alarm:
    """Someone is on it: stops the escalation."""
    alarm = _lock_alarm(alarm)
    if alarm.state == AlarmState.RESOLVED:
        raise DomainError(MonitoringError.ALARM_RESOLVED)
    if alarm.state == AlarmState.ACKNOWLEDGED:
        raise DomainError(
            MonitoringError.ALARM_ACKNOWLEDGED, params={"who": str(alarm.acknowledged_by or "")}
        )
    alarm.state = AlarmState.ACKNOWLEDGED
    alarm.acknowledged_at = timezone.now()
    alarm.acknowledged_by = by
    alarm._history_user = by  # type: ignore[attr-defined]
    alarm._change_reason = "acknowledged"  # type: ignore[attr-defined]
    alarm.save()
    return alarm


def _post_evidence(incident: Incident, alarm: Alarm, by: User | None) -> None:
    from apps.incidents import services as incidents

    incidents.post_event(
        incident=incident,
        kind=events.ALARM_EVIDENCE,
        params={"rule": alarm.rule.name, "evidence": evidence_text(alarm.evidence)},
        data={"alarm": alarm.pk, "evidence": alarm.evidence},
        by=by,
    )


@transaction.atomic
def declare_incident_from_alarm(
    *, alarm: Alarm, title: str, severity: str, description: str, by: User
) -> Incident:
    """Tech support declares the incident an alarm points to; the evidence goes on its timeline."""
    from apps.incidents import services as incidents

    alarm = _lock_alarm(alarm)
    if alarm.incident_id:
        raise DomainError(MonitoringError.ALARM_HAS_INCIDENT, params={"id": alarm.incident_id})
    incident = incidents.declare_incident(
        title=title,
        severity=severity,
        detected_at=alarm.fired_at,
        description=description,
        by=by,
    )
    alarm.incident = incident
    if alarm.state == AlarmState.FIRING:
        alarm.state = AlarmState.ACKNOWLEDGED
        alarm.acknowledged_at, alarm.acknowledged_by = timezone.now(), by
    alarm._history_user = by  # type: ignore[attr-defined]
    alarm.save()
    _post_evidence(incident, alarm, by)
    return incident


def incident_description(alarm: Alarm) -> str:
    return str(
        _("Raised by alarm %(rule)s. Evidence: %(evidence)s")
        % {"rule": alarm.rule.name, "evidence": evidence_text(alarm.evidence)}
    )


@transaction.atomic
def _declare_automatically(alarm: Alarm) -> Incident:
    """A critical rule with auto-declare: declare (or join the open incident) with the evidence."""
    from django.utils import translation

    from apps.incidents import selectors as incident_selectors
    from apps.incidents import services as incidents
    from apps.incidents.choices import Severity

    alarm = _lock_alarm(alarm)
    incident = incident_selectors.get_open_incident()
    if incident is None:
        with translation.override(settings.LANGUAGE_CODE):
            description = incident_description(alarm)
        first = min((s["at"] for s in alarm.evidence.get("samples", [])), default=None)
        detected = datetime.fromisoformat(first) if first else alarm.fired_at
        # Declared by the monitoring itself: no person (the timeline shows the alarm).
        incident = incidents.declare_incident(
            title=alarm.rule.name,
            severity=Severity.CRITICAL,
            detected_at=detected,
            description=description,
            by=cast("User", None),
        )
    alarm.incident = incident
    alarm.save(update_fields=["incident"])
    _post_evidence(incident, alarm, None)
    return incident


@transaction.atomic
def save_rule(*, by: User, rule: AlarmRule, version: int | None, **fields: Any) -> AlarmRule:
    """Administrators change a rule's threshold, duration, severity and what it does."""
    from apps.core.errors import StaleRecord, full_clean_or_refuse

    locked = AlarmRule.objects.select_for_update().get(pk=rule.pk)
    if version is not None and locked.version != version:
        raise StaleRecord()
    for name, value in fields.items():
        setattr(locked, name, value)
    if locked.condition != Condition.FAILS and locked.threshold is None:
        raise DomainError(MonitoringError.THRESHOLD_NEEDED, field="threshold")
    if locked.auto_declare and locked.severity != AlarmSeverity.CRITICAL:
        raise DomainError(MonitoringError.AUTO_DECLARE_NOT_CRITICAL, field="auto_declare")
    full_clean_or_refuse(locked)
    locked.version += 1
    locked._history_user = by  # type: ignore[attr-defined]
    locked.save()
    return locked
