"""Back up everything before the upgrade: one button, `backup_now --all`, every scope verified."""

import contextlib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from apps.accounts.roles import Role
from apps.backups import engine, full_backup, services
from apps.backups.choices import RunState
from apps.backups.errors import BackupsError
from apps.backups.full_backup import start_full_backup
from apps.backups.models import BackupScope, FullBackup
from apps.backups.services import get_keyring
from apps.core.choices import JobState
from apps.core.errors import DomainError
from apps.core.events import render_event
from apps.incidents.services import start_readiness_check
from tests.conftest import create_database, drop_database
from tests.drills.factories import RestoreRehearsalFactory

from .conftest import taking_an_order_after_the_orders_backup

pytestmark = pytest.mark.django_db


def test_backup_now_all_backs_up_and_verifies_every_scope(order_db, capsys):
    call_command("backup_now", "--all", "--wait")

    out = capsys.readouterr().out
    full = FullBackup.objects.get()
    assert full.state == RunState.COMPLETE and full.all_verified and not full.is_active
    slugs = set(BackupScope.objects.values_list("slug", flat=True))
    assert {item["scope"] for item in full.report} == slugs
    for run in full.backups.all():
        assert run.state == RunState.COMPLETE and run.last_verify_ok is True
        assert Path(run.local_path).exists()
        assert run.audit.filter(action="verify").exists()  # verified end to end, and audited
    assert "every scope backed up and verified" in out


@pytest.mark.parametrize("one_moment", [True, False], ids=["one moment", "scope by scope"])
def test_a_full_backup_taken_while_orders_come_in_restores_as_a_whole(
    order_db, monkeypatch, one_moment
):
    """An order and its payment committed between the orders backup and the transactions
    backup: with every scope reading one held moment, neither backup has them and the two
    restore together; scope by scope (as before), the payment's order is missing."""
    monkeypatch.setattr(
        full_backup.services,
        "perform_backup",
        taking_an_order_after_the_orders_backup(order_db, services.perform_backup),
    )
    if not one_moment:
        monkeypatch.setattr(engine, "shared_snapshot", lambda url: contextlib.nullcontext())
    call_command("backup_now", "--all", "--wait")

    runs = {r.scope.slug: r for r in FullBackup.objects.get().backups.select_related("scope")}
    moment = {
        slug: r.manifest["source"]["txid_snapshot"] for slug, r in runs.items() if r.scope.tables
    }
    assert len(moment) == 4
    assert (len(set(moment.values())) == 1) is one_moment
    assert (moment["orders"] == moment["transactions"]) is one_moment
    name, url = create_database("test_whole")
    try:
        paths = [runs["orders"].local_path, runs["transactions"].local_path]
        if one_moment:
            reports = engine.restore_files(paths, target_url=url, keyring=get_keyring())
            assert all(r.ok for r in reports)
        else:
            with pytest.raises(engine.ForeignKeyError, match="payments_order_fk"):
                engine.restore_files(paths, target_url=url, keyring=get_keyring())
    finally:
        drop_database(name)


def test_a_scope_that_fails_fails_the_full_backup_but_not_the_other_scopes(
    order_db, settings, capsys
):
    BackupScope.objects.create(
        slug="ghost", name_zh="幽灵", name_en="Ghost", tables=["no_such_table"], position=99
    )
    with pytest.raises(CommandError, match="failed"):
        call_command("backup_now", "--all", "--wait")

    full = FullBackup.objects.get()
    assert full.state == RunState.FAILED
    outcome = {item["scope"]: item["ok"] for item in full.report}
    assert outcome.pop("ghost") is False
    assert all(outcome.values()) and len(outcome) == 5
    assert "ghost: - FAILED" in capsys.readouterr().out
    # The job's lines and the report keep each scope's outcome as data, not as English text.
    ghost = next(item for item in full.report if item["scope"] == "ghost")
    with translation.override("zh-hans"):
        failure = render_event(ghost["message"]["kind"], ghost["message"]["params"])
        lines = full.job.log_lines
    with translation.override("en"):
        english = render_event(ghost["message"]["kind"], ghost["message"]["params"])
    assert english.startswith("The backup could not be written") and english != failure
    with translation.override("zh-hans"):
        line_of = gettext("%(scope)s: %(outcome)s")
        intact = gettext("Intact: %(tables)s tables, %(rows)s rows, %(size)s bytes.")
    assert any(line.endswith(line_of % {"scope": "ghost", "outcome": failure}) for line in lines)
    orders_ok = line_of % {"scope": "orders", "outcome": intact.split("%")[0]}
    assert any(orders_ok in line for line in lines)


def test_a_second_click_while_one_runs_gets_the_run_under_way(settings, make_user):
    settings.JOB_RUNNER = "rq"  # queued, not run: nothing drains the queue in this test
    user = make_user(Role.TECH_SUPPORT)
    first, created = start_full_backup(by=user)
    again, created_again = start_full_backup(by=user)
    assert created and not created_again and again.pk == first.pk
    assert FullBackup.objects.count() == 1


def test_a_full_backup_whose_job_died_no_longer_blocks_a_new_one(settings, make_user):
    settings.JOB_RUNNER = "rq"
    first, _ = start_full_backup()
    first.job.state = JobState.FAILED
    first.job.error = "killed"
    first.job.save()
    second, created = start_full_backup()
    first.refresh_from_db()
    assert created and second.pk != first.pk
    assert first.state == RunState.FAILED and not first.is_active


def test_the_button_starts_it_and_the_readiness_check_links_to_the_run(client, make_user, order_db):
    lead = make_user(Role.EMERGENCY_LEAD)
    client.force_login(lead)
    list_page = client.get(reverse("backups:backup-list")).content.decode()
    assert reverse("backups:full-backup-start") in list_page

    response = client.post(reverse("backups:full-backup-start"))
    full = FullBackup.objects.get()
    assert response.url == reverse("backups:full-backup-detail", args=[full.pk])
    page = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Complete" in page and page.count("intact") == BackupScope.objects.count()

    # The backup item also asks for a passing restore rehearsal within its age (drills, #16).
    RestoreRehearsalFactory(started_by=lead)
    check = start_readiness_check(title="Upgrade 3.2", by=lead)
    readiness = client.get(reverse("incidents:readiness-detail", args=[check.pk])).content.decode()
    assert reverse("backups:full-backup-detail", args=[full.pk]) in readiness
    assert check.items.get(kind="recent_backups").state == "passed"


def test_a_clerk_cannot_start_a_full_backup(client, make_user):
    client.force_login(make_user(Role.BUSINESS_SUPPORT))
    assert client.post(reverse("backups:full-backup-start")).status_code == 403
    assert not FullBackup.objects.exists()


def test_a_full_backup_without_scopes_is_refused_with_its_code():
    BackupScope.objects.all().delete()
    with pytest.raises(DomainError) as exc:
        start_full_backup()
    assert exc.value.code == BackupsError.NO_SCOPES
    assert not FullBackup.objects.exists()
