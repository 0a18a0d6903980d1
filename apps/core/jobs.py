"""Tracked jobs: one way for every app to run long work and let staff watch it.

``start_job`` records the job and hands it to a runner chosen by settings: real RQ workers
(``rq``), a thread of the web process for the embedded default (``thread``), or the caller
itself (``sync``, used by tests that do not exercise workers). The job function receives a
``Progress`` and reports percent, step and log lines; the record keeps a heartbeat so a job
whose worker died is marked failed instead of "running" forever.
"""

from __future__ import annotations

import logging
import socket
import threading
import traceback
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy

from .choices import JobState
from .errors import DomainError, JobFailure, QueueUnavailable
from .events import as_event, message
from .models import JobRecord

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

WORKER_DIED = "worker-died"


UNEXPECTED_ERROR = "core.job.unexpected_error"


class Progress:
    """Handed to a job function: every call is one small UPDATE, safe from any process."""

    def __init__(self, record_id: uuid.UUID) -> None:
        self.record_id = record_id
        self._last_percent = -1

    def update(self, percent: int | None = None, step: Any = None) -> None:
        """``step`` is a ``message(kind, **params)``, a lazy translation or plain text."""
        fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if percent is not None:
            percent = max(0, min(100, int(percent)))
            fields["percent"] = percent
        if step is not None:
            fields.update(_event_fields("step", step, max_length=200))
        JobRecord.objects.filter(pk=self.record_id).update(**fields)

    def log(self, line: Any) -> None:
        """``line`` is a ``message(kind, **params)``, a lazy translation or plain text."""
        kind, params, text = as_event(line)
        entry = {
            "at": timezone.localtime().strftime("%H:%M:%S"),
            "kind": kind,
            "params": params,
            "text": text,
        }
        with transaction.atomic():
            # Read, append, write under the row lock: two lines logged at once both stay.
            entries = (
                JobRecord.objects.select_for_update()
                .filter(pk=self.record_id)
                .values_list("log_entries", flat=True)
                .first()
            )
            JobRecord.objects.filter(pk=self.record_id).update(
                log_entries=[*(entries or []), entry], heartbeat_at=timezone.now()
            )

    def __call__(self, percent: int | None = None, step: Any = None) -> None:
        self.update(percent, step)


def _event_fields(name: str, value: Any, *, max_length: int | None = None) -> dict[str, Any]:
    """The ``<name>``, ``<name>_kind`` and ``<name>_params`` columns for one message."""
    kind, params, text = as_event(value)
    return {
        name: text[:max_length] if max_length else text,
        f"{name}_kind": kind,
        f"{name}_params": params,
    }


def start_job(
    *,
    kind: str,
    title: Any,
    func: str,
    kwargs: dict[str, Any] | None = None,
    queue: str = "default",
    by=None,
    timeout: int | None = None,
    in_caller: bool = False,
) -> JobRecord:
    """Record a job and dispatch it once the surrounding transaction commits.

    ``title`` is best a ``message(kind, **params)`` (``apps.core.events``) so every reader sees
    it in their language; a lazy translation or plain text works too.
    ``func`` is a dotted path to ``f(*, progress: Progress, **kwargs) -> JSON-able result``;
    only ids and plain values travel through Redis. ``in_caller`` runs the job in this process
    after the commit (still recorded and watchable) for kwargs that must not go through Redis,
    such as a database URL with a password given on the command line.

    With RQ, the queue is asked first: when Redis does not answer, ``QueueUnavailable`` (a
    ``DomainError`` with a message for staff) is raised before anything is written, so the
    caller's transaction rolls back and nothing is left half-started. Should Redis fail between
    that question and the commit, the job waits in the outbox ("waiting for the queue") and
    ``sweep_outbox`` enqueues it once Redis answers.
    """
    if settings.JOB_RUNNER == "rq" and not in_caller:
        ensure_queue_available(queue)
    record = JobRecord.objects.create(
        kind=kind, queue=queue, started_by=by, **_event_fields("title", title, max_length=200)
    )
    payload = (str(record.id), func, kwargs or {})
    if settings.JOB_RUNNER == "sync":
        # "Run at once in the caller": inside the caller's transaction, as any other call.
        dispatch(*payload, queue=queue, timeout=timeout)
        record.refresh_from_db()
    elif in_caller:
        transaction.on_commit(lambda: run_tracked_job(*payload))
    else:
        transaction.on_commit(lambda: _dispatch_or_park(*payload, queue=queue, timeout=timeout))
    return record


# What a Redis that is down, restarting or unreachable raises (redis-py wraps socket errors).
def queue_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError)


# The web side talks to Redis with short timeouts: a Redis that is unreachable or hangs must cost
# a page a few seconds, not the minutes of an operating system's TCP timeout. (Workers keep their
# own connections: their blocking reads must not time out.)
QUEUE_CONNECT_TIMEOUT = 3.0
QUEUE_IO_TIMEOUT = 10.0


_connections: dict[tuple[str, float, float], Any] = {}


def _rq_queue(name: str):
    import django_rq
    import redis

    config: dict[str, Any] = settings.RQ_QUEUES[name]
    connection = None
    if "URL" in config and not config.get("SSL"):
        key = (config["URL"], QUEUE_CONNECT_TIMEOUT, QUEUE_IO_TIMEOUT)
        connection = _connections.get(key)
        if connection is None:  # one pool per URL (redis-py pools are thread- and fork-safe)
            connection = _connections[key] = redis.Redis.from_url(
                config["URL"],
                socket_connect_timeout=QUEUE_CONNECT_TIMEOUT,
                socket_timeout=QUEUE_IO_TIMEOUT,
            )
    return django_rq.get_queue(name, connection=connection)


def ensure_queue_available(queue: str = "default") -> None:
    """Raise ``QueueUnavailable`` unless the RQ queue's Redis answers a PING."""
    if settings.JOB_RUNNER != "rq":
        return
    try:
        _rq_queue(queue).connection.ping()
    except queue_errors() as exc:
        logger.warning("queue %s unavailable: %s", queue, exc)
        raise QueueUnavailable() from exc


def _dispatch_or_park(
    record_id: str, func: str, kwargs: dict, *, queue: str, timeout: int | None
) -> None:
    """After the commit: hand the job to the queue, or park it in the outbox if Redis fails."""
    try:
        dispatch(record_id, func, kwargs, queue=queue, timeout=timeout)
    except queue_errors() as exc:
        logger.warning("job %s waits for the queue: %s", record_id, exc)
        JobRecord.objects.filter(pk=record_id, state=JobState.QUEUED).update(
            state=JobState.WAITING,
            pending_dispatch={"func": func, "kwargs": kwargs, "timeout": timeout},
        )


def dispatch(record_id: str, func: str, kwargs: dict, *, queue: str, timeout: int | None) -> None:
    runner = settings.JOB_RUNNER
    if runner == "rq":
        _rq_queue(queue).enqueue(
            run_tracked_job,
            record_id,
            func,
            kwargs,
            job_id=record_id,
            job_timeout=timeout or settings.RQ_QUEUES[queue]["DEFAULT_TIMEOUT"],
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )
    elif runner == "thread":
        threading.Thread(target=_run_in_thread, args=(record_id, func, kwargs), daemon=True).start()
    elif runner == "sync":
        run_tracked_job(record_id, func, kwargs)
    else:  # pragma: no cover - a settings mistake
        raise ValueError(f"Unknown JOB_RUNNER {runner!r}")


def _run_in_thread(record_id: str, func: str, kwargs: dict) -> None:
    try:
        run_tracked_job(record_id, func, kwargs)
    finally:
        connection.close()


def _worker_name() -> str:
    """The RQ worker's name; a job run by the web process itself names only the host (a
    thread's internal name means nothing to staff)."""
    try:
        from rq import get_current_job

        job = get_current_job()
        if job is not None and job.worker_name:
            return job.worker_name
    except Exception:  # noqa: BLE001 - best effort: the name is only informative
        pass
    return socket.gethostname()


class _Heartbeat(threading.Thread):
    """Touches the record while the job runs, so silence means the worker is gone."""

    def __init__(self, record_id: str, interval: float) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{record_id[:8]}")
        self.record_id = record_id
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                # One failed beat (a database blip) must neither kill the job nor end the beats:
                # a silent heartbeat gets a job that is still working declared dead.
                try:
                    JobRecord.objects.filter(pk=self.record_id, state=JobState.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:  # noqa: BLE001
                    logger.exception("heartbeat failed for job %s", self.record_id)
                    connection.close()  # the next beat opens a fresh connection
        finally:
            connection.close()


def run_tracked_job(record_id: str, func: str, kwargs: dict) -> Any:
    """The RQ entry point for every tracked job."""
    if not connection.in_atomic_block:  # a worker: drop connections a previous job broke
        close_old_connections()
    now = timezone.now()
    # One conditional UPDATE claims the job: a copy enqueued twice (the original enqueue that
    # reached Redis after all, and the outbox sweeper) runs once.
    claimed = JobRecord.objects.filter(
        pk=record_id, state__in=[JobState.QUEUED, JobState.WAITING]
    ).update(state=JobState.RUNNING, started_at=now, heartbeat_at=now, worker_name=_worker_name())
    if not claimed:
        logger.warning("job %s is not queued any more; not running it twice", record_id)
        return None
    record = JobRecord.objects.select_related("started_by").get(pk=record_id)
    language = getattr(record.started_by, "language", None) or settings.LANGUAGE_CODE
    heartbeat = _Heartbeat(record_id, settings.JOB_HEARTBEAT_SECONDS)
    heartbeat.start()
    progress = Progress(record.id)
    try:
        with translation.override(language):
            target: Callable[..., Any] = import_string(func)
            result = target(progress=progress, **kwargs)
    except DomainError as exc:
        with translation.override(language):
            result = exc.result if isinstance(exc, JobFailure) else None
            _finish(record_id, JobState.FAILED, error=exc.message, result=result)
        return None
    except Exception as exc:  # noqa: BLE001 - recorded for staff, logged in full for admins
        logger.exception("job %s failed", record_id)
        with translation.override(language):
            error = message(UNEXPECTED_ERROR, error=f"{type(exc).__name__}: {exc}")
            _finish(record_id, JobState.FAILED, error=error, log=traceback.format_exc(limit=5))
        return None
    finally:
        heartbeat.stopped.set()
    _finish(record_id, JobState.SUCCEEDED, result=result)
    return result


def _finish(
    record_id: str, state: str, *, result: Any = None, error: Any = "", log: str = ""
) -> None:
    fields: dict[str, Any] = {
        "state": state,
        "finished_at": timezone.now(),
        "heartbeat_at": timezone.now(),
        "result": result,
        **_event_fields("error", error),
    }
    if state == JobState.SUCCEEDED:
        # The end state replaces the last step ("copying to the remote store" at 100 %).
        fields["percent"] = 100
        fields.update(_event_fields("step", ""))
    if log:
        fields["log"] = Concat(F("log"), Value(log))
    JobRecord.objects.filter(pk=record_id, state=JobState.RUNNING).update(**fields)


def refresh_job_state(record: JobRecord, *, now=None) -> JobRecord:
    """Mark a job failed when its worker is gone; cheap enough to call on every poll.

    A job waiting for the queue is not failed: no worker has it yet, the outbox sweeper will
    enqueue it when Redis answers."""
    if record.is_finished or record.state == JobState.WAITING:
        return record
    now = now or timezone.now()
    reason: StrOrPromise = ""
    stale_after = timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    if record.state == JobState.RUNNING and (record.heartbeat_at or record.created_at) < (
        now - stale_after
    ):
        reason = gettext_lazy(
            "The worker running this job stopped responding (it was killed or crashed); "
            "the job did not finish. Start it again."
        )
    elif settings.JOB_RUNNER == "rq":
        reason = _rq_failure_reason(record)
    if reason:
        JobRecord.objects.filter(
            pk=record.pk, state__in=[JobState.QUEUED, JobState.RUNNING]
        ).update(state=JobState.FAILED, finished_at=now, **_event_fields("error", reason))
        record.refresh_from_db()
    return record


def _rq_failure_reason(record: JobRecord) -> Any:
    """RQ knows first when a work-horse died or a queued job vanished from Redis."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(str(record.id), connection=_rq_queue(record.queue).connection)
    except NoSuchJobError:
        if record.created_at < timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS):
            return gettext_lazy("The job was lost by the queue before it finished. Start it again.")
        return ""
    except Exception:  # noqa: BLE001 - Redis down: say nothing rather than guess
        return ""
    status = job.get_status(refresh=False)
    if status in {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}:
        # The work-horse was killed (or crashed) before our wrapper could record the outcome.
        return gettext_lazy(
            "The worker running this job stopped before it finished (killed or crashed). "
            "Start it again."
        )
    return ""


def reconcile_stale_jobs(*, now=None) -> int:
    """Fail every unfinished job whose worker is gone; returns how many were marked."""
    count = 0
    for record in JobRecord.objects.filter(state__in=[JobState.QUEUED, JobState.RUNNING]):
        if refresh_job_state(record, now=now).state == JobState.FAILED:
            count += 1
    return count


def sweep_waiting_jobs() -> int:
    """Enqueue the jobs waiting in the outbox; returns how many reached the queue.

    Each is claimed waiting → queued by a conditional UPDATE first, so two sweepers never
    enqueue one job twice; if Redis fails again it goes back to waiting.
    """
    sent = 0
    for record in JobRecord.objects.filter(state=JobState.WAITING).order_by("created_at"):
        if not JobRecord.objects.filter(pk=record.pk, state=JobState.WAITING).update(
            state=JobState.QUEUED
        ):
            continue
        pending = record.pending_dispatch or {}
        try:
            dispatch(
                str(record.pk),
                pending["func"],
                pending.get("kwargs") or {},
                queue=record.queue,
                timeout=pending.get("timeout"),
            )
        except queue_errors() as exc:
            logger.warning("job %s still waits for the queue: %s", record.pk, exc)
            JobRecord.objects.filter(pk=record.pk, state=JobState.QUEUED).update(
                state=JobState.WAITING
            )
            break
        sent += 1
    return sent


def enqueue_now(func: str, *args: Any, queue: str = "default") -> None:
    """Hand fire-and-forget work to the configured runner now; raises if Redis fails."""
    runner = settings.JOB_RUNNER
    if runner == "rq":
        _rq_queue(queue).enqueue(func, *args, result_ttl=600)
    elif runner == "thread":

        def target() -> None:
            try:
                import_string(func)(*args)
            finally:
                connection.close()

        threading.Thread(target=target, daemon=True).start()
    else:
        import_string(func)(*args)


def enqueue(
    func: str,
    *args: Any,
    queue: str = "default",
    on_queue_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Fire-and-forget work (no progress record) after the commit, honouring the runner.

    ``on_queue_error`` is called instead of raising when Redis refuses the work: the caller's
    transaction has committed by then, and its page must not fail for it.
    """

    def go() -> None:
        try:
            enqueue_now(func, *args, queue=queue)
        except queue_errors() as exc:
            if on_queue_error is None:
                raise
            logger.warning("could not enqueue %s%r: %s", func, args, exc)
            on_queue_error(exc)

    if settings.JOB_RUNNER == "sync":
        go()
    else:
        transaction.on_commit(go)
