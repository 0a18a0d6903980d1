"""The scheduler that ships with the project: due work runs without cron, once per interval."""

import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from apps.accounts.roles import Role
from apps.core import schedules
from apps.core.choices import ScheduleOutcome
from apps.core.errors import CoreError
from apps.core.models import ScheduleRun, ScheduleState
from apps.core.scheduler import run_due_schedules, schedule_overview
from tests.conftest import ROOT, subprocess_env, wait_for

from . import sample_tasks


@pytest.fixture
def only_schedules():
    """Replace the registry with the test's own schedules; the real ones come back after."""
    saved = dict(schedules._REGISTRY)
    schedules._REGISTRY.clear()
    sample_tasks.CALLS.clear()

    def register(name, task, seconds=60):
        return schedules.register_schedule(
            name, task=task, every=timedelta(seconds=seconds), label=name
        )

    yield register
    schedules._REGISTRY.clear()
    schedules._REGISTRY.update(saved)


def test_the_existing_periodic_work_is_registered():
    names = {s.name for s in schedules.registered_schedules()}
    assert {"backups.due", "core.outbox", "core.dead_jobs"} <= names


@pytest.mark.django_db
def test_a_due_schedule_runs_once_per_interval_and_records_its_outcome(only_schedules):
    only_schedules("t.count", "tests.core.sample_tasks.count_call", seconds=60)
    now = timezone.now()

    first = run_due_schedules(now=now)
    again = run_due_schedules(now=now + timedelta(seconds=30))
    later = run_due_schedules(now=now + timedelta(seconds=61))

    assert [r.name for r in first] == ["t.count"] and again == [] and len(later) == 1
    assert sample_tasks.CALLS == ["count", "count"]
    run = first[0]
    run.refresh_from_db()
    assert run.outcome == ScheduleOutcome.SUCCEEDED and run.detail == "1" and run.finished_at
    state = ScheduleState.objects.get(name="t.count")
    assert state.next_run_at == now + timedelta(seconds=61 + 60)
    assert state.last_run == later[0]


@pytest.mark.django_db
def test_a_failing_task_is_recorded_failed_and_runs_again_next_interval(only_schedules):
    only_schedules("t.explode", "tests.core.sample_tasks.explode", seconds=10)
    now = timezone.now()

    [run] = run_due_schedules(now=now)
    [again] = run_due_schedules(now=now + timedelta(seconds=11))

    assert run.outcome == ScheduleOutcome.FAILED
    assert "the task broke" in run.error
    assert again.outcome == ScheduleOutcome.FAILED


@pytest.mark.django_db
def test_a_run_s_error_is_shown_in_the_reader_s_language(only_schedules):
    only_schedules("t.refuse", "tests.core.sample_tasks.refuse")
    only_schedules("t.explode", "tests.core.sample_tasks.explode")
    with translation.override("en"):
        runs = {run.name: run for run in run_due_schedules(now=timezone.now())}
    refused = ScheduleRun.objects.get(pk=runs["t.refuse"].pk)
    exploded = ScheduleRun.objects.get(pk=runs["t.explode"].pk)

    with translation.override("zh-hans"):
        zh_refusal = str(CoreError.QUEUE_UNAVAILABLE.label)
        assert refused.display_error == zh_refusal != refused.error
        assert exploded.display_error.startswith(gettext("Unexpected error: %(error)s")[:4])
        assert "RuntimeError: the task broke" in exploded.display_error
    with translation.override("en"):
        assert refused.display_error == str(CoreError.QUEUE_UNAVAILABLE.label) == refused.error
        assert exploded.display_error == "Unexpected error: RuntimeError: the task broke"


@pytest.mark.django_db
def test_a_changed_interval_from_settings_applies(only_schedules, settings):
    only_schedules("t.count", "tests.core.sample_tasks.count_call", seconds=60)
    settings.SCHEDULE_INTERVALS = {"t.count": 5}
    now = timezone.now()
    run_due_schedules(now=now)
    assert len(run_due_schedules(now=now + timedelta(seconds=6))) == 1


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_the_same_moment_run_a_schedule_once(only_schedules):
    only_schedules("t.count", "tests.core.sample_tasks.count_call", seconds=60)
    now = timezone.now()
    run_due_schedules(now=now)  # the state row exists; the race is on the claim
    sample_tasks.CALLS.clear()
    barrier = threading.Barrier(4)
    results = []

    def scheduler():
        try:
            barrier.wait()
            results.append(len(run_due_schedules(now=now + timedelta(seconds=61))))
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(results) == [0, 0, 0, 1]
    assert sample_tasks.CALLS == ["count"]
    assert ScheduleRun.objects.filter(name="t.count").count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_process_starts_due_backups_without_cron(settings):
    """A real `manage.py run_scheduler` process finds the orders policy due and queues a backup."""
    from apps.backups.models import BackupPolicy, BackupRun, BackupScope

    scope = BackupScope.objects.create(
        slug="orders-sched", name_zh="订单", name_en="Orders", tables=["orders"]
    )
    BackupPolicy.objects.create(scope=scope, kind="realtime", interval_minutes=15)
    env = subprocess_env(JOB_RUNNER="sync" if not settings.REDIS_URL else "rq")
    if env["JOB_RUNNER"] == "sync":
        pytest.skip("needs Redis: run through scripts/testservers.py")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_scheduler", "--tick", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(
            lambda: BackupRun.objects.filter(scope=scope).exists(),
            timeout=60,
            message="the scheduler did not start the due backup",
        )
        wait_for(
            lambda: ScheduleRun.objects.filter(
                name="backups.due", outcome=ScheduleOutcome.SUCCEEDED
            ).exists(),
            timeout=30,
        )
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Scheduler stopped." in out
    assert BackupRun.objects.filter(scope=scope).count() == 1
    assert {"core.outbox", "core.dead_jobs"} <= set(
        ScheduleRun.objects.values_list("name", flat=True)
    )


@pytest.mark.django_db
def test_run_scheduler_once_runs_what_is_due(only_schedules, capsys):
    only_schedules("t.count", "tests.core.sample_tasks.count_call")
    call_command("run_scheduler", "--once")
    assert "t.count: succeeded (1)" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_schedules_page_shows_last_and_next_run_and_outcome(client, make_user, only_schedules):
    only_schedules("t.count", "tests.core.sample_tasks.count_call")
    only_schedules("t.explode", "tests.core.sample_tasks.explode")
    only_schedules("t.never", "tests.core.sample_tasks.count_call")
    now = timezone.now()
    run_due_schedules(now=now)
    ScheduleState.objects.filter(name="t.never").delete()
    client.force_login(make_user(Role.TECH_SUPPORT, language="en"))

    page = client.get(reverse("core:schedule-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "t.count" in page and "Succeeded" in page
    assert "Failed" in page and "the task broke" in page
    assert "Never" in page and "Overdue" in page
    rows = {r.schedule.name: r for r in schedule_overview(now=now)}
    assert rows["t.count"].next_run_at == now + timedelta(seconds=60)
    assert not rows["t.count"].overdue and rows["t.never"].overdue


@pytest.mark.django_db
def test_a_warehouse_clerk_cannot_see_the_schedules(client, make_user):
    client.force_login(make_user(Role.WAREHOUSE_CLERK))
    assert client.get(reverse("core:schedule-list")).status_code == 403
