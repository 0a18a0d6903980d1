from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = _("Monitoring and alarms")

    def ready(self) -> None:
        from django.conf import settings

        from apps.core.dashboard import Widget, register_widget
        from apps.core.navigation import NAV_ITEMS, NavItem
        from apps.core.schedules import register_schedule

        from . import events

        events.register()
        register_schedule(
            "monitoring.probes",
            task="apps.monitoring.services.run_probes_task",
            every=timedelta(seconds=settings.MONITORING_PROBE_SECONDS),
            label=_("Monitoring probes and alarms"),
        )

        def alarms_context(user):
            from .selectors import active_alarms

            return {"alarms": active_alarms()}

        def figures_context(user):
            from .presentation import figure_charts
            from .selectors import business_figures

            return {"charts": figure_charts(business_figures())}

        register_widget(
            Widget("monitoring/_alarms_card.html", "monitoring.view_alarm", alarms_context, order=5)
        )
        register_widget(
            Widget(
                "monitoring/_figures_card.html",
                "monitoring.view_figures",
                figures_context,
                order=60,
            )
        )
        item = NavItem(_("Monitoring"), "monitoring:overview", "monitoring.view_alarm", "activity")
        if item not in NAV_ITEMS:
            NAV_ITEMS.insert(2, item)
