from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.monitoring import services


class Command(BaseCommand):
    help = "Run one round of the monitoring probes now and evaluate the alarm rules."

    def handle(self, *args, **options):
        result = services.run_probes()
        for sample in result.samples:
            state = "ok" if sample.ok else "FAILED"
            if not sample.measured:
                state = "not measured"
            value = "" if sample.value is None else f" {sample.value:g}"
            self.stdout.write(
                f"{sample.probe.display_name}: {state}{value} {sample.error}".rstrip()
            )
        self.stdout.write(
            _("%(fired)s alarm(s) fired, %(resolved)s resolved, %(escalated)s escalated.")
            % {
                "fired": len(result.fired),
                "resolved": len(result.resolved),
                "escalated": len(result.escalated),
            }
        )
