"""The job pages: the last poll tells the page to show the end state, and a finished job shows
its result and links to what it produced, never internal names."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from apps.accounts.roles import Role
from apps.core.choices import JobState
from apps.core.events import message
from apps.core.jobs import start_job
from apps.core.models import JobRecord
from tests.conftest import wait_for


@pytest.mark.django_db
def test_only_the_poll_that_sees_the_end_tells_the_page_to_refresh_its_panel(client, make_user):
    user = make_user(Role.TECH_SUPPORT)
    client.force_login(user)
    job = JobRecord.objects.create(kind="t", title="t", started_by=user, state=JobState.RUNNING)
    url = reverse("core:job-progress", args=[job.pk])
    running = client.get(url)
    assert "HX-Trigger" not in running.headers
    assert 'hx-trigger="every 1s"' in running.content.decode()
    page = client.get(reverse("core:job-detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="job-finished from:body"' in page and 'hx-select="#job-panel"' in page

    JobRecord.objects.filter(pk=job.pk).update(state=JobState.SUCCEEDED, percent=100)
    finished = client.get(url)
    assert finished.headers["HX-Trigger"] == "job-finished"
    assert "every 1s" not in finished.content.decode()
    page = client.get(reverse("core:job-detail", args=[job.pk])).content.decode()
    assert "job-finished" not in page  # a finished page polls nothing


def test_a_job_run_by_the_web_process_names_no_internal_thread(
    transactional_db, settings, client, make_user
):
    settings.JOB_RUNNER = "thread"
    user = make_user(Role.TECH_SUPPORT, language="en")
    record = start_job(
        kind="t", title="Count", func="tests.core.sample_jobs.count_to", kwargs={"n": 2}, by=user
    )
    wait_for(lambda: JobRecord.objects.get(pk=record.pk).is_finished, timeout=30)
    record.refresh_from_db()
    assert record.state == JobState.SUCCEEDED and record.step == ""
    assert "Thread" not in record.worker_name
    client.force_login(user)
    page = client.get(reverse("core:job-detail", args=[record.pk])).content.decode()
    assert "Thread-" not in page and "_run_in_thread" not in page


@pytest.mark.django_db
def test_a_finished_hand_back_shows_its_figures_and_links_to_the_reconciliation(client, make_user):
    user = make_user(Role.BUSINESS_SUPPORT, Role.EMERGENCY_LEAD, language="en")
    job = JobRecord.objects.create(
        kind="manual_orders.push",
        title="Hand back",
        started_by=user,
        state=JobState.SUCCEEDED,
        percent=100,
        result={"pushed": 7, "created": 2, "conflict": 1},
    )
    client.force_login(user)
    page = client.get(
        reverse("core:job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "7 orders handed back (2 new customers), 1 in conflict." in page
    assert f'href="{reverse("manual_orders:reconciliation")}"' in page


def _job_page(client, job, language: str) -> str:
    url = reverse("core:job-detail", args=[job.pk])
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()


@pytest.mark.parametrize(
    ("starter_language", "reader_language", "title", "step", "error"),
    [
        (
            "en",
            "zh-hans",
            "将手工订单回传到订单系统",
            "正在备份数据表 orders",
            "意外错误：RuntimeError: disk on fire",
        ),
        (
            "zh-hans",
            "en",
            "Hand manual orders back to the order system",
            "Backing up table orders",
            "Unexpected error: RuntimeError: disk on fire",
        ),
    ],
)
def test_a_jobs_title_step_and_error_are_shown_in_the_readers_language(
    rq_worker, client, make_user, starter_language, reader_language, title, step, error
):
    starter = make_user(Role.TECH_SUPPORT, language=starter_language)
    with translation.override(starter_language):
        job = start_job(
            kind="t",
            title=gettext_lazy("Hand manual orders back to the order system"),
            func="tests.core.sample_jobs.stop_at_a_table",
            by=starter,
        )
    rq_worker.run_burst()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    client.force_login(make_user(Role.ADMIN, language=reader_language))  # sees all jobs
    page = _job_page(client, job, reader_language)
    assert title in page and step in page and error in page


@pytest.mark.django_db
def test_old_jobs_with_only_text_still_display(client, make_user):
    user = make_user(Role.TECH_SUPPORT)
    job = JobRecord.objects.create(
        kind="t",
        title="Backup of orders (real-time)",
        step="Backing up table orders",
        error="Scope has no tables",
        started_by=user,
        state=JobState.FAILED,
    )
    client.force_login(user)
    page = _job_page(client, job, "zh-hans")
    assert "Backup of orders (real-time)" in page and "Backing up table orders" in page
    assert "Scope has no tables" in page


@pytest.mark.django_db
def test_a_title_given_as_a_message_is_rendered_from_its_kind_and_parameters(client, make_user):
    user = make_user(Role.TECH_SUPPORT)
    with translation.override("en"):
        job = start_job(
            kind="t",
            title=message("backups.job.verify", name="20261125订单数据实时备份.bak"),
            func="tests.core.sample_jobs.count_to",
            kwargs={"n": 1},
            by=user,
        )
    job.refresh_from_db()
    assert (job.title_kind, job.title_params) == (
        "backups.job.verify",
        {"name": "20261125订单数据实时备份.bak"},
    )
    client.force_login(user)
    assert "校验 20261125订单数据实时备份.bak" in _job_page(client, job, "zh-hans")
    assert "Verify 20261125订单数据实时备份.bak" in _job_page(client, job, "en")


@pytest.mark.django_db
def test_a_failed_jobs_error_is_announced_to_screen_readers(client, make_user):
    user = make_user(Role.TECH_SUPPORT)
    job = JobRecord.objects.create(
        kind="t", title="t", error="Scope has no tables", started_by=user, state=JobState.FAILED
    )
    client.force_login(user)
    page = _job_page(client, job, "en")
    assert '<div class="alert alert-danger mt-2 mb-0" role="alert" data-testid="job-error">' in page


@pytest.mark.django_db
def test_a_log_line_and_a_coded_refusal_written_under_english_read_in_chinese(client, make_user):
    user = make_user(Role.TECH_SUPPORT, language="en")
    with translation.override("en"):
        job = start_job(
            kind="t",
            title="t",
            func="tests.core.sample_jobs.log_and_refuse_with_a_code",
            kwargs={"name": "20261125订单数据实时备份.bak"},
            by=user,
        )
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error_kind == "core.error"
    assert job.error_params["code"] == "remote_store_failed"
    assert [e["kind"] for e in job.log_entries] == ["backups.log.writing", ""]
    client.force_login(make_user(Role.ADMIN, language="zh-hans"))  # sees all jobs
    chinese = _job_page(client, job, "zh-hans")
    client.force_login(make_user(Role.ADMIN, language="en"))
    english = _job_page(client, job, "en")
    assert "Writing 20261125订单数据实时备份.bak" in english
    assert "The remote backup store failed: connection refused" in english
    assert "Writing" not in chinese and "The remote backup store failed" not in chinese
    with translation.override("zh-hans"):
        assert translation.gettext("Writing %(name)s") != "Writing %(name)s"
        written = translation.gettext("Writing %(name)s") % {"name": "20261125订单数据实时备份.bak"}
        failed = translation.gettext("The remote backup store failed: %(error)s") % {
            "error": "connection refused"
        }
    assert written in chinese and failed in chinese
    assert "a line given as plain text" in chinese  # plain text is shown as it was written


@pytest.mark.django_db
def test_a_job_logged_before_log_lines_were_data_still_shows_its_log(client, make_user):
    user = make_user(Role.TECH_SUPPORT)
    job = JobRecord.objects.create(
        kind="t", title="t", log="12:00:01 Writing x.bak\n", started_by=user
    )
    assert job.log_lines == ["12:00:01 Writing x.bak"]
