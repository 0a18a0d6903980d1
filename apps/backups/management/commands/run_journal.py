import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from apps.backups.engine import EngineError, JournalError
from apps.backups.journal.capture import JournalProcess, journal_available


class Command(BaseCommand):
    help = (
        "Journal every committed change of the real-time scopes' tables (PostgreSQL logical "
        "decoding) into encrypted segments, until stopped. Resumes exactly where it stopped. "
        "Run it as its own service in production (make worker starts one)."
    )

    def handle(self, *args, **options):
        if not journal_available():
            self.stdout.write(
                "The order system is SQLite: no change journal; its scopes keep frequent snapshots."
            )
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        process = None
        while not stop.is_set():
            try:
                process = JournalProcess()
                state = process.start()
                break
            except JournalError as exc:  # another process holds the slot: stand by
                if process is not None:
                    process.close()
                self.stdout.write(str(exc))
                self.stdout.flush()
                stop.wait(5)
            except EngineError as exc:
                raise CommandError(str(exc)) from exc
        if process is None or stop.is_set():
            return
        self.stdout.write(
            f"Journal on slot {state.slot}, durable up to position {state.written_lsn}."
        )
        self.stdout.flush()

        def report(segment):
            self.stdout.write(
                f"{segment.file_name}: {segment.transactions} transaction(s), "
                f"{segment.changes} change(s)"
            )
            self.stdout.flush()

        try:
            process.run(stop=stop, on_segment=report)
        finally:
            process.close()
        self.stdout.write("Journal stopped.")
