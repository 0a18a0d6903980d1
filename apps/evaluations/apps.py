from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    name = "apps.evaluations"
    label = "evaluations"
    verbose_name = _("Evaluation reports")

    def ready(self) -> None:
        from apps.core.schedules import register_schedule
        from apps.incidents.signals import checklist_changed, checklist_changing

        from .services import plans

        checklist_changing.connect(plans.record_checklist_before_change, weak=False)
        checklist_changed.connect(plans.record_checklist_change, weak=False)

        register_schedule(
            "evaluations.action_reminders",
            task="apps.evaluations.services.send_action_reminders",
            every=timedelta(hours=1),
            label=_("Improvement action reminders"),
        )
