import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from apps.accounts.roles import Role
from apps.core.choices import JobState
from apps.core.jobs import reconcile_stale_jobs, refresh_job_state, start_job
from apps.core.models import JobRecord
from tests.conftest import wait_for


def test_a_job_runs_through_a_real_rq_worker_and_records_its_progress(rq_worker, make_user):
    user = make_user(Role.TECH_SUPPORT)
    record = start_job(
        kind="test",
        title="Count",
        func="tests.core.sample_jobs.count_to",
        kwargs={"n": 4},
        by=user,
    )
    assert JobRecord.objects.get(pk=record.pk).state == JobState.QUEUED
    rq_worker.run_burst()
    record.refresh_from_db()
    assert record.state == JobState.SUCCEEDED
    assert record.percent == 100
    assert record.step == ""  # the end state replaces the last step
    assert record.log_lines[-1].endswith("did item 4")
    assert record.result == {"counted": 4}
    assert record.started_at and record.finished_at and record.started_at <= record.finished_at
    assert record.worker_name


def test_a_refused_job_shows_its_reason_and_a_crash_shows_the_error(rq_worker):
    refused = start_job(
        kind="t",
        title="r",
        func="tests.core.sample_jobs.refuse",
        kwargs={"reason": "Scope has no tables"},
    )
    crashed = start_job(kind="t", title="c", func="tests.core.sample_jobs.crash")
    rq_worker.run_burst()
    refused.refresh_from_db()
    crashed.refresh_from_db()
    assert (refused.state, refused.error) == (JobState.FAILED, "Scope has no tables")
    assert crashed.state == JobState.FAILED
    assert "disk on fire" in crashed.error


def test_a_job_whose_worker_is_killed_is_marked_failed_not_running_forever(rq_worker, settings):
    record = start_job(
        kind="t",
        title="slow",
        func="tests.core.sample_jobs.count_to",
        kwargs={"n": 600, "delay": 0.1},
    )
    rq_worker.start()
    wait_for(
        lambda: JobRecord.objects.get(pk=record.pk).percent >= 1,
        timeout=60,
        message="the worker never started the job",
    )
    rq_worker.kill()
    settings.JOB_STALE_AFTER_SECONDS = 3
    frozen = JobRecord.objects.get(pk=record.pk)
    assert frozen.state == JobState.RUNNING
    wait_for(
        lambda: refresh_job_state(JobRecord.objects.get(pk=record.pk)).is_finished,
        timeout=30,
        interval=0.5,
        message="the dead job stayed running",
    )
    record.refresh_from_db()
    assert record.state == JobState.FAILED
    assert record.percent < 100
    assert record.error


@pytest.mark.django_db
def test_reconcile_fails_only_jobs_whose_heartbeat_went_silent(settings):
    settings.JOB_RUNNER = "sync"
    now = timezone.now()
    silent = JobRecord.objects.create(
        kind="t", title="silent", state=JobState.RUNNING, heartbeat_at=now - dt.timedelta(minutes=5)
    )
    alive = JobRecord.objects.create(
        kind="t", title="alive", state=JobState.RUNNING, heartbeat_at=now
    )
    with translation.override("en"):
        assert reconcile_stale_jobs(now=now) == 1
    silent.refresh_from_db()
    alive.refresh_from_db()
    assert silent.state == JobState.FAILED and "stopped responding" in silent.error
    assert alive.state == JobState.RUNNING


@pytest.mark.django_db
def test_the_progress_partial_polls_while_running_and_stops_when_done(client, make_user):
    user = make_user(Role.TECH_SUPPORT)
    client.force_login(user)
    job = JobRecord.objects.create(
        kind="t",
        title="x",
        state=JobState.RUNNING,
        percent=40,
        step="copying orders",
        started_by=user,
        heartbeat_at=timezone.now(),
    )
    url = reverse("core:job-progress", args=[job.pk])
    body = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in body and "copying orders" in body and "40%" in body
    JobRecord.objects.filter(pk=job.pk).update(state=JobState.SUCCEEDED, percent=100)
    body = client.get(url).content.decode()
    assert "hx-trigger" not in body and "100%" in body


@pytest.mark.django_db
def test_staff_cannot_see_someone_elses_job_without_the_all_jobs_permission(client, make_user):
    owner = make_user(Role.TECH_SUPPORT)
    other = make_user(Role.TECH_SUPPORT)
    job = JobRecord.objects.create(kind="t", title="mine", started_by=owner)
    client.force_login(other)
    assert client.get(reverse("core:job-detail", args=[job.pk])).status_code == 404
    client.force_login(make_user(Role.ADMIN))
    assert client.get(reverse("core:job-detail", args=[job.pk])).status_code == 200
