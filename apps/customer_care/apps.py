from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomerCareConfig(AppConfig):
    name = "apps.customer_care"
    label = "customer_care"
    verbose_name = _("Customer care")

    def ready(self) -> None:
        from datetime import timedelta

        from apps.core.schedules import register_schedule
        from apps.manual_orders.handback import register_after_push

        from . import events, services
        from .outreach_apps import register as outreach_register

        events.register()
        outreach_register()
        # Requests to change or cancel order-system orders are applied by the hand-back.
        register_after_push("customer_care.order_requests", services.apply_order_system_requests)
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
