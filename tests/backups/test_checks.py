"""Scope verification checks are untrusted SQL: one SELECT, read-only, with a time limit."""

import json
import sqlite3

import pytest
from django.urls import reverse

from apps.accounts.roles import ROLE_PERMISSIONS, Role
from apps.backups import demo_order_system, services
from apps.backups.choices import RunState
from apps.backups.errors import BackupsError
from apps.backups.models import BackupScope
from tests.conftest import create_database, drop_database

from .conftest import fingerprint

DESTRUCTIVE = "DELETE FROM order_items; DELETE FROM orders; COMMIT; SELECT 0"
WRITING = [
    DESTRUCTIVE,
    "WITH gone AS (DELETE FROM order_items RETURNING 1) SELECT count(*) FROM gone",
    "SELECT count(*) FROM orders; DELETE FROM orders",
    "UPDATE orders SET total = 0",
]


def sqlite_counts(path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in demo_order_system.TABLES
        }
    finally:
        conn.close()


@pytest.fixture
def rehearsal_pg(settings):
    name, url = create_database("test_rehearsal")
    demo_order_system.seed_postgres(url, orders=40)
    settings.BACKUP_SCRATCH_TARGETS = {"rehearsal": url}
    yield url
    drop_database(name)


@pytest.fixture
def rehearsal_sqlite(tmp_path):
    path = tmp_path / "rehearsal.sqlite3"
    demo_order_system.seed_sqlite(str(path), orders=40)
    return path


def with_checks(slug: str, *sqls: str) -> BackupScope:
    """Store checks as they could have been saved before checks were validated."""
    checks = [{"name": f"c{i}", "name_en": f"c{i}", "sql": sql} for i, sql in enumerate(sqls)]
    BackupScope.objects.filter(slug=slug).update(checks=checks)
    return BackupScope.objects.get(slug=slug)


@pytest.mark.django_db
def test_checks_cannot_write_to_a_postgresql_rehearsal_database(rehearsal_pg):
    before = fingerprint(rehearsal_pg)
    assert before["orders"][0] == 40
    results = services.run_checks(url=rehearsal_pg, scopes=[with_checks("orders", *WRITING)])
    assert fingerprint(rehearsal_pg) == before
    assert [r["ok"] for r in results] == [False] * len(WRITING)
    assert {r["error_code"] for r in results} <= {
        BackupsError.CHECK_WRITES,
        BackupsError.CHECK_NOT_SELECT,
        BackupsError.CHECK_SEVERAL,
    }
    assert all(r["error"] for r in results)


@pytest.mark.django_db
def test_checks_cannot_write_to_a_sqlite_rehearsal_database(rehearsal_sqlite):
    before = sqlite_counts(rehearsal_sqlite)
    url = f"sqlite:///{rehearsal_sqlite}"
    results = services.run_checks(url=url, scopes=[with_checks("orders", *WRITING)])
    assert sqlite_counts(rehearsal_sqlite) == before and before["orders"] == 40
    assert [r["ok"] for r in results] == [False] * len(WRITING)


@pytest.mark.django_db
@pytest.mark.parametrize("engine", ["postgresql", "sqlite"])
def test_good_checks_still_count_the_rows_that_break_the_rule(
    engine, rehearsal_pg, rehearsal_sqlite
):
    url = rehearsal_pg if engine == "postgresql" else f"sqlite:///{rehearsal_sqlite}"
    scope = BackupScope.objects.get(slug="orders")  # the plan's checks, as migrated
    assert [r["ok"] for r in services.run_checks(url=url, scopes=[scope])] == [True, True]
    bad = with_checks("orders", "SELECT count(*) FROM orders WHERE total > 0 -- 100%")
    [result] = services.run_checks(url=url, scopes=[bad])
    assert result["violations"] == 40 and not result["ok"]


@pytest.mark.django_db
@pytest.mark.parametrize("engine", ["postgresql", "sqlite"])
def test_a_check_that_runs_too_long_is_stopped_and_reported(
    engine, rehearsal_pg, rehearsal_sqlite, settings
):
    settings.BACKUP_CHECK_TIMEOUT_MS = 300
    if engine == "postgresql":
        url, slow = rehearsal_pg, "SELECT count(*) FROM pg_sleep(5)"
    else:
        url = f"sqlite:///{rehearsal_sqlite}"
        slow = (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000)"
            " SELECT count(*) FROM n"
        )
    [result] = services.run_checks(url=url, scopes=[with_checks("orders", slow)])
    assert not result["ok"] and result["error_code"] == BackupsError.CHECK_TIMEOUT


@pytest.mark.django_db
def test_a_restore_into_the_rehearsal_database_runs_checks_read_only(
    settings, order_db, scratch_db
):
    for slug in ("users", "products", "orders"):
        services.start_backup(scope=BackupScope.objects.get(slug=slug))
    with_checks("orders", DESTRUCTIVE)
    restore = services.start_restore(
        scopes=list(BackupScope.objects.filter(slug__in=["users", "products", "orders"])),
        target="rehearsal",
    )
    restore.refresh_from_db()
    assert restore.state == RunState.COMPLETE, restore.error
    assert fingerprint(scratch_db)["orders"] == fingerprint(order_db)["orders"]
    assert restore.checks_passed is False
    [check] = restore.report["checks"]
    assert check["error_code"] == "check_several"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql, message",
    [
        (DESTRUCTIVE, "single statement"),
        ("DELETE FROM orders", "SELECT"),
        ("SELECT id FROM orders", "one row with one whole number"),
        ("SELECT count(*) FROM no_such_table", "no_such_table"),
    ],
)
def test_the_admin_refuses_a_check_that_is_not_one_select_returning_one_number(
    client, make_user, settings, rehearsal_pg, sql, message
):
    settings.ORDER_SYSTEM_DATABASE_URL = rehearsal_pg
    client.force_login(make_user(Role.ADMIN))
    scope = BackupScope.objects.get(slug="users")
    url = reverse("admin:backups_backupscope_change", args=[scope.pk])
    data = {
        "slug": scope.slug,
        "name_zh": scope.name_zh,
        "name_en": scope.name_en,
        "tables": '["customers"]',
        "log_dir": "",
        "log_pattern": "",
        "checks": json.dumps([{"name": "x", "sql": sql}]),
        "position": scope.position,
        "policies-TOTAL_FORMS": 0,
        "policies-INITIAL_FORMS": 0,
    }
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    scope.refresh_from_db()
    assert scope.checks == []
    data["checks"] = json.dumps([{"name": "x", "sql": "SELECT count(*) FROM customers"}])
    response = client.post(url, data)
    assert response.status_code == 302
    scope.refresh_from_db()
    assert scope.checks[0]["name"] == "x"


@pytest.mark.django_db
def test_only_roles_the_matrix_grants_may_edit_checks(client, make_user):
    editors = {r for r, perms in ROLE_PERMISSIONS.items() if "backups.change_scope_checks" in perms}
    assert editors == {Role.ADMIN}
    admin = make_user(Role.ADMIN)
    assert admin.has_perm("backups.change_scope_checks")
    scope = BackupScope.objects.get(slug="orders")
    client.force_login(admin)
    page = client.get(reverse("admin:backups_backupscope_change", args=[scope.pk]))
    assert 'name="checks"' in page.content.decode()
    for role in Role:
        if role not in editors:
            assert not make_user(role).has_perm("backups.change_scope_checks"), role
