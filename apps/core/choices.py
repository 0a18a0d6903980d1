from django.db import models
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    WAITING = "waiting", _("Waiting for the queue")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")

    @classmethod
    def finished(cls) -> set[str]:
        return {cls.SUCCEEDED, cls.FAILED}


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class NotificationState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    WAITING = "waiting", _("Waiting for the queue")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # The worker stopped (killed, the machine restarted) between claiming it and recording the
    # gateway's answer: it may or may not have gone out. Staff decide whether to send it again.
    UNKNOWN = "unknown", _("Unknown: the worker stopped while sending")


class ScheduleOutcome(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
