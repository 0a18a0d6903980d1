from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomerCareConfig(AppConfig):
    name = "apps.customer_care"
    label = "customer_care"
    verbose_name = _("Customer care")

    def ready(self) -> None:
        from datetime import timedelta

        from apps.core.schedules import register_schedule

        from . import events

        events.register()
        register_schedule(
            "customer_care.poll_mailbox",
            task="apps.customer_care.services.start_mailbox_poll",
            every=timedelta(minutes=1),
            label=_("Take new mail from the care mailbox"),
        )
        register_schedule(
            "customer_care.breaches",
            task="apps.customer_care.services.check_response_targets",
            every=timedelta(minutes=1),
            label=_("Flag and record cases missing their response targets"),
        )
