import signal
import threading

from django.core.management.base import BaseCommand

from apps.core.scheduler import run_due_schedules, run_forever, scheduler_name


class Command(BaseCommand):
    help = (
        "Run the registered schedules (backups due by policy, the outbox sweeper, dead-job "
        "reconciliation, retention, the journal's health) when each is due, until stopped. "
        "Any number of schedulers may run: each schedule is claimed once per interval. "
        "--once runs one tick and returns."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run what is due now, then exit")
        parser.add_argument(
            "--tick", type=float, default=1.0, help="seconds between looks (default 1)"
        )

    def handle(self, *args, once, tick, **options):
        if once:
            for run in run_due_schedules():
                self._report(run)
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"Scheduler {scheduler_name()} running (tick {tick:g} s).")
        self.stdout.flush()
        run_forever(stop=stop, tick_seconds=tick, on_run=self._report)
        self.stdout.write("Scheduler stopped.")

    def _report(self, run) -> None:
        line = f"{run.started_at:%Y-%m-%d %H:%M:%S} {run.name}: {run.outcome}"
        if run.detail:
            line += f" ({run.detail})"
        if run.error:
            line += f" — {run.error}"
        self.stdout.write(line)
        self.stdout.flush()
