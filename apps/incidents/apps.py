from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "apps.incidents"
    label = "incidents"
    verbose_name = _("Incidents")

    def ready(self) -> None:
        from apps.core.dashboard import Widget, register_widget
        from apps.core.timeline import timeline_event

        from . import events
        from .services import on_timeline_event

        events.register()

        # Other apps call apps.core.timeline.post_to_timeline(); the open incident records it.
        timeline_event.connect(on_timeline_event, dispatch_uid="incidents.timeline")

        def context(user):
            from .selectors import get_open_incident, live_summary

            return live_summary(get_open_incident())

        register_widget(
            Widget("incidents/_dashboard_card.html", "incidents.view_incident", context, order=5)
        )
