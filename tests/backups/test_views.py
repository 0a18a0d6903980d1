import psycopg
import pytest
from django.urls import reverse

from apps.accounts.roles import Role
from apps.backups.choices import RunState
from apps.backups.models import BackupRun, BackupScope, RestoreRun

from .conftest import fingerprint


@pytest.mark.django_db
def test_staff_start_a_backup_from_the_page_and_watch_its_progress(client, make_user, order_db):
    client.force_login(make_user(Role.TECH_SUPPORT))
    scope = BackupScope.objects.get(slug="products")
    response = client.post(reverse("backups:backup-start"), {"scope": scope.pk, "kind": ""})
    run = BackupRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "backups:backup-detail", args=[run.pk]
    )
    page = client.get(response["Location"]).content.decode()
    assert run.file_name in page and 'data-state="succeeded"' in page
    progress = client.get(reverse("core:job-progress", args=[run.job_id])).content.decode()
    assert "100%" in progress


@pytest.mark.django_db
def test_the_restore_wizard_proposes_confirms_and_restores(client, make_user, order_db):
    client.force_login(make_user(Role.EMERGENCY_LEAD))
    client.post(
        reverse("backups:backup-start"), {"scope": BackupScope.objects.get(slug="orders").pk}
    )
    backup = BackupRun.objects.get()
    orders = BackupScope.objects.get(slug="orders")
    step2 = f"{reverse('backups:restore-start')}?scopes={orders.pk}&target=order_system"
    page = client.get(step2, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Newest intact real-time backup" in page and backup.file_name in page

    response = client.post(step2, {"backup_orders": backup.pk})
    assert response.status_code == 200  # the confirmation box was not ticked
    assert not RestoreRun.objects.exists()

    before = fingerprint(order_db)
    with psycopg.connect(order_db) as conn:  # the live data drifts after the backup
        conn.execute("UPDATE orders SET status = 'changed since the backup' WHERE id <= 5")
    assert fingerprint(order_db) != before
    response = client.post(step2, {"backup_orders": backup.pk, "confirm": "on"})
    restore = RestoreRun.objects.get()
    assert response.status_code == 302
    assert restore.state == RunState.COMPLETE, restore.error
    assert fingerprint(order_db) == before
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "订单金额等于明细金额之和" in page


@pytest.mark.django_db
def test_a_business_support_member_sees_backups_but_cannot_start_one(client, make_user):
    client.force_login(make_user(Role.BUSINESS_SUPPORT))
    page = client.get(reverse("backups:backup-list")).content.decode()
    assert reverse("backups:backup-start") not in page
    scope = BackupScope.objects.get(slug="orders")
    assert client.post(reverse("backups:backup-start"), {"scope": scope.pk}).status_code == 403
    assert not BackupRun.objects.exists()


@pytest.mark.django_db
def test_the_dashboard_shows_the_order_system_status_to_the_emergency_team(client, make_user):
    client.force_login(make_user(Role.EMERGENCY_LEAD))
    page = client.get(reverse("core:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="scope-status"' in page and "订单数据" in page
    client.force_login(make_user(Role.WAREHOUSE_CLERK))
    page = client.get(reverse("core:dashboard")).content.decode()
    assert 'id="scope-status"' not in page


@pytest.mark.django_db
def test_verify_now_runs_as_a_job_and_is_audited(client, make_user, order_db):
    from apps.backups.models import BackupAudit
    from apps.core.models import JobRecord

    user = make_user(Role.TECH_SUPPORT)
    client.force_login(user)
    client.post(
        reverse("backups:backup-start"), {"scope": BackupScope.objects.get(slug="users").pk}
    )
    run = BackupRun.objects.get()
    response = client.post(reverse("backups:backup-verify", args=[run.pk]))
    job = JobRecord.objects.get(kind="backup.verify")
    assert response["Location"] == reverse("core:job-detail", args=[job.pk])
    assert job.state == "succeeded", job.error
    assert BackupAudit.objects.get(backup=run, action="verify").by == user
