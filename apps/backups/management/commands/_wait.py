"""Waiting for a tracked job from the command line."""

import time

from apps.core.jobs import refresh_job_state
from apps.core.models import JobRecord


def wait_for_job(command, job_id, *, poll: float = 0.5) -> JobRecord:
    last = None
    queued_since = time.monotonic()
    while True:
        job = refresh_job_state(JobRecord.objects.get(pk=job_id))
        line = f"{job.percent:3d}% {job.step}"
        if line != last and job.step:
            command.stdout.write(line)
            last = line
        if job.is_finished:
            return job
        if job.state == "queued" and time.monotonic() - queued_since > 15:
            command.stderr.write("Still queued: is a worker running? (manage.py rqworker backups)")
            queued_since = time.monotonic()
        time.sleep(poll)
