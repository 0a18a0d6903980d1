"""Redis down: the front office keeps working, work that could not be queued waits in the
outbox and is delivered once when Redis answers again, and a job that cannot start says so.

Each test runs its own redis-server on a free loopback port and stops it: the shared Redis is
never touched.
"""

import importlib
import io
import socket
import subprocess
import time

import django_rq
import pytest
import redis
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse

from apps.accounts.roles import Role
from apps.backups.choices import BackupKind, RunState
from apps.backups.models import BackupRun, BackupScope
from apps.core.choices import JobState, NotificationState
from apps.core.errors import CoreError
from apps.core.jobs import dispatch, refresh_job_state, start_job
from apps.core.models import JobRecord, Notification
from apps.core.notifications import DELIVER
from apps.inventory_counts.models import CountSession, CountSheetImport
from apps.manual_orders.models import ManualOrder, ReferenceImport
from tests.conftest import WorkerHandle, subprocess_env, wait_for
from tests.inventory_counts.factories import WarehouseFactory
from tests.manual_orders.factories import priced_product
from tests.manual_orders.test_views import entry_data

QUEUE_DOWN_EN = "The job queue is not answering"
QUEUE_DOWN_ZH = "后台作业队列没有响应"


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError:
        return False


class PrivateRedis:
    """A redis-server of the test's own, on a free port, without persistence."""

    def __init__(self, workdir) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _answers(client), timeout=20, message="redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: not _answers(client), timeout=20, message="redis-server did not stop")


@pytest.fixture
def private_redis(transactional_db, settings, tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    settings.JOB_RUNNER = "rq"
    settings.RQ_QUEUES = {
        name: {**config, "URL": server.url} for name, config in settings.RQ_QUEUES.items()
    }
    yield server
    server.stop()


@pytest.fixture
def worker(private_redis, settings):
    """A real RQ worker on the private Redis (same database, SMS into files)."""
    handle = WorkerHandle(
        tuple(settings.RQ_QUEUES),
        subprocess_env(REDIS_URL=private_redis.url, JOB_HEARTBEAT_SECONDS="1"),
    )
    yield handle
    handle.kill()


def _sweep() -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("sweep_outbox", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def _default_scopes() -> None:
    """The plan's scopes and policies come from a data migration that a flush removed."""
    migration = importlib.import_module("apps.backups.migrations.0002_default_scopes")
    migration.create_scopes(django_apps, None)


def _order_for_a_new_customer(client, product, name: str, phone: str, quantity: int = 1):
    """Key a phone order for a new customer who wants SMS notices, as the order page posts it."""
    data = entry_data(
        new_name=name,
        new_phone=phone,
        new_notify_by="sms",
        line_sku=[product.sku],
        line_product=[str(product.pk)],
        line_qty=[str(quantity)],
    )
    return client.post("/orders/new/", data, HTTP_ACCEPT_LANGUAGE="en", follow=True)


def test_with_redis_down_an_order_is_saved_shown_and_its_notice_sent_once_when_redis_returns(
    private_redis, worker, sms_dir, client, make_user
):
    operator = make_user(Role.BUSINESS_SUPPORT, language="en")
    product = priced_product(price="25.50", stock="10", by=operator)
    private_redis.stop()

    client.force_login(operator)
    response = _order_for_a_new_customer(client, product, "李雷", "139 0000 1234", quantity=2)

    assert response.status_code == 200
    order = ManualOrder.objects.get()
    assert f">{order.number}<" in response.content.decode()
    notice = Notification.objects.get()
    assert notice.state == NotificationState.WAITING
    admin = make_user(Role.ADMIN)
    client.force_login(admin)
    page = client.get(reverse("core:notification-list"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Waiting for the queue" in page.content.decode()

    # The sweeper while Redis is still down keeps the notice waiting, and says why.
    assert QUEUE_DOWN_EN in _sweep()
    notice.refresh_from_db()
    assert notice.state == NotificationState.WAITING

    private_redis.start()
    # The original enqueue reached Redis after all: a second copy of the delivery is queued.
    django_rq.get_queue("default").enqueue(DELIVER, notice.pk)
    _sweep()
    _sweep()
    worker.run_burst()

    notice.refresh_from_db()
    assert notice.state == NotificationState.SENT, notice.error
    assert notice.attempts == 1
    assert len(list(sms_dir.glob("*.json"))) == 1


def test_with_redis_down_starting_a_job_says_so_and_leaves_nothing_half_started(
    private_redis, client, make_user
):
    _default_scopes()
    staff = make_user(Role.ADMIN, Role.MANAGER, Role.BUSINESS_SUPPORT, Role.EMERGENCY_LEAD)
    scope = BackupScope.objects.get(slug="orders")
    backup = BackupRun.objects.create(
        scope=scope, kind=BackupKind.DAILY, state=RunState.COMPLETE, file_name="x.bak"
    )
    session = CountSession.objects.create(
        name="count", warehouse=WarehouseFactory(), created_by=staff, state="counting"
    )
    reference = ReferenceImport.objects.create(
        kind="products",
        content=b"sku,name\n",
        original_name="p.csv",
        input_format="csv",
        state="checked",
        created_by=staff,
    )
    private_redis.stop()
    client.force_login(staff)

    response = client.post(
        reverse("backups:backup-start"), {"scope": scope.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert QUEUE_DOWN_EN in response.content.decode()
    response = client.post(
        reverse("backups:backup-start"), {"scope": scope.pk}, HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    assert QUEUE_DOWN_ZH in response.content.decode()
    assert list(BackupRun.objects.all()) == [backup]

    detail = reverse("backups:backup-detail", args=[backup.pk])
    response = client.post(
        reverse("backups:backup-verify", args=[backup.pk]),
        HTTP_REFERER=f"http://testserver{detail}",
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith(detail)
    assert QUEUE_DOWN_EN in response.content.decode()

    response = client.post(
        reverse("inventory_counts:sheet-upload", args=[session.pk]),
        {"file": SimpleUploadedFile("s.csv", b"location,sku,quantity\n"), "input_format": "csv"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert QUEUE_DOWN_EN in response.content.decode()
    assert not CountSheetImport.objects.exists()

    for url, data in [
        (reverse("manual_orders:reference-confirm", args=[reference.pk]), {}),
        (reverse("manual_orders:reference-load"), {"source": "backup"}),
        (reverse("manual_orders:order-push"), {}),
    ]:
        response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en", follow=True)
        assert response.status_code == 200, url
        assert QUEUE_DOWN_EN in response.content.decode(), url
    reference.refresh_from_db()
    assert reference.state == "checked"
    assert not JobRecord.objects.exists()


def test_a_job_the_queue_refused_at_commit_waits_and_runs_once_when_redis_returns(
    private_redis, worker, settings, client, make_user
):
    user = make_user(Role.TECH_SUPPORT, language="en")
    with transaction.atomic():
        record = start_job(
            kind="test",
            title="Count",
            func="tests.core.sample_jobs.count_to",
            kwargs={"n": 3},
            by=user,
        )
        private_redis.stop()  # Redis answered the question, then went away before the commit

    record.refresh_from_db()
    assert record.state == JobState.WAITING
    settings.JOB_STALE_AFTER_SECONDS = 0
    assert refresh_job_state(record).state == JobState.WAITING  # not failed: nobody ran it
    client.force_login(user)
    page = client.get(reverse("core:job-detail", args=[record.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Waiting for the queue" in page.content.decode()
    settings.JOB_STALE_AFTER_SECONDS = 60

    private_redis.start()
    assert "1 job(s)" in _sweep()
    # A second copy (the first enqueue arriving late) must not run the job again.
    dispatch(
        str(record.pk), "tests.core.sample_jobs.count_to", {"n": 3}, queue="default", timeout=None
    )
    worker.run_burst()

    record.refresh_from_db()
    assert record.state == JobState.SUCCEEDED, record.error
    assert record.result == {"counted": 3}
    assert sum("did item 1" in line for line in record.log_lines) == 1


def test_the_periodic_command_refuses_clearly_while_redis_is_down_then_sweeps_the_outbox(
    private_redis, worker, sms_dir, make_user
):
    from apps.core.notifications import send_notification

    _default_scopes()
    private_redis.stop()
    notice = send_notification(
        channel="sms", recipient=make_user(Role.LOGISTICS), subject="", body="hello"
    )
    notice.refresh_from_db()
    assert notice.state == NotificationState.WAITING

    with pytest.raises(CommandError) as refused:
        call_command("run_due_backups", stdout=io.StringIO(), stderr=io.StringIO())
    assert refused.value.__cause__.code == CoreError.QUEUE_UNAVAILABLE
    assert not BackupRun.objects.exists()
    assert not JobRecord.objects.exists()

    private_redis.start()
    call_command("run_due_backups", stdout=io.StringIO(), stderr=io.StringIO())
    assert BackupRun.objects.exists()
    assert set(JobRecord.objects.values_list("state", flat=True)) == {JobState.QUEUED}
    notice.refresh_from_db()
    assert notice.state == NotificationState.QUEUED
    django_rq.get_queue("backups").empty()  # the backups themselves are not this test's point
    worker.run_burst()
    notice.refresh_from_db()
    assert notice.state == NotificationState.SENT, notice.error
    assert len(list(sms_dir.glob("*.json"))) == 1


def test_a_redis_that_accepts_but_never_answers_costs_a_page_seconds_not_minutes(
    transactional_db, settings, client, make_user, monkeypatch, sms_dir
):
    from apps.core import jobs

    monkeypatch.setattr(jobs, "QUEUE_IO_TIMEOUT", 1.0)
    _default_scopes()
    operator = make_user(Role.BUSINESS_SUPPORT, Role.TECH_SUPPORT, language="en")
    product = priced_product(price="9.90", stock="5", by=operator)
    with socket.socket() as silent:  # listens, so connecting works, but never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        settings.JOB_RUNNER = "rq"
        settings.RQ_QUEUES = {
            name: {**config, "URL": url} for name, config in settings.RQ_QUEUES.items()
        }
        client.force_login(operator)

        started = time.monotonic()
        response = client.post(
            reverse("backups:backup-start"),
            {"scope": BackupScope.objects.get(slug="orders").pk},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert time.monotonic() - started < 8
        assert QUEUE_DOWN_EN in response.content.decode()
        assert not BackupRun.objects.exists()

        started = time.monotonic()
        response = _order_for_a_new_customer(client, product, "韩梅梅", "139 0000 5678")
        assert time.monotonic() - started < 8
        order = ManualOrder.objects.get()
        assert f">{order.number}<" in response.content.decode()
        assert Notification.objects.get().state == NotificationState.WAITING


def test_a_notice_whose_queue_entry_was_lost_is_sent_once_by_the_sweeper(
    private_redis, worker, sms_dir, make_user
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.core.notifications import send_notification

    notice = send_notification(
        channel="sms", recipient=make_user(Role.LOGISTICS), subject="", body="hello"
    )
    # Redis restarted without persistence: the delivery it held is gone, the row says "queued".
    django_rq.get_queue("default").empty()
    Notification.objects.filter(pk=notice.pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    _sweep()
    _sweep()
    worker.run_burst()

    notice.refresh_from_db()
    assert notice.state == NotificationState.SENT, notice.error
    assert len(list(sms_dir.glob("*.json"))) == 1
