"""The job pages: the last poll tells the page to show the end state, and a finished job shows
its result and links to what it produced, never internal names."""

import pytest
from django.urls import reverse

from apps.accounts.roles import Role
from apps.core.choices import JobState
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
