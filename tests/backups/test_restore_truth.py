"""A restore tells the truth: what it depends on before it starts, why it failed, no false passes."""

import psycopg
import pytest
from django.urls import reverse
from django.utils import translation

from apps.accounts.roles import Role
from apps.backups import events, services
from apps.backups.choices import RunState
from apps.backups.errors import BackupsError
from apps.backups.models import BackupScope, RestoreRun

from .factories import RestoreRunFactory


def scope(slug):
    return BackupScope.objects.get(slug=slug)


def back_up(*slugs):
    for slug in slugs:
        run = services.start_backup(scope=scope(slug))
        run.refresh_from_db()
        assert run.state == RunState.COMPLETE, run.error


def wizard(scopes, target="rehearsal"):
    query = "&".join(f"scopes={scope(s).pk}" for s in scopes)
    return f"{reverse('backups:restore-start')}?{query}&target={target}"


@pytest.mark.django_db
def test_the_wizard_warns_that_orders_need_customers_and_products_and_offers_to_include_them(
    client, make_user, order_db, scratch_db
):
    back_up("users", "products", "orders")
    client.force_login(make_user(Role.EMERGENCY_LEAD))
    page = client.get(wizard(["orders"]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count('data-testid="restore-dependency"') == 2
    assert 'data-scope="users"' in page and 'data-scope="products"' in page
    assert "which the target does not hold" in page
    assert wizard(["orders", "users", "products"]).replace("&", "&amp;") in page
    assert "Include User data, Product data in this restore" in page
    page = client.get(
        wizard(["orders", "users", "products"]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert 'data-testid="restore-dependency"' not in page
    # Into the order system, which holds its customers and products: a note, no warning.
    page = client.get(wizard(["orders"], "order_system"), HTTP_ACCEPT_LANGUAGE="en")
    page = page.content.decode()
    assert "alert-info" in page and 'data-testid="restore-include"' not in page


@pytest.mark.django_db
def test_a_restore_that_breaks_foreign_keys_fails_in_the_readers_language_with_no_checks_passed(
    client, make_user, order_db, scratch_db
):
    back_up("users", "products", "orders")
    first = services.start_restore(scopes=[scope("users"), scope("products")], target="rehearsal")
    first.refresh_from_db()
    assert first.state == RunState.COMPLETE, first.error
    with psycopg.connect(scratch_db) as conn:  # the rehearsal lost a customer the orders need
        conn.execute("DELETE FROM customers WHERE id = 1")

    restore = services.start_restore(scopes=[scope("orders")], target="rehearsal")
    restore.refresh_from_db()
    assert restore.state == RunState.FAILED
    assert restore.error_code == BackupsError.FOREIGN_KEY
    assert restore.checks_passed is False
    assert restore.report["checks"] == []

    client.force_login(make_user(Role.EMERGENCY_LEAD))
    detail = reverse("backups:restore-detail", args=[restore.pk])
    page = client.get(detail, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "恢复已回滚，未做任何更改" in page and "customers" in page
    assert "violates" not in page  # the engine's English stays out of the Chinese page
    assert "检查未运行" in page or "未运行" in page
    page = client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "so the restore was rolled back and nothing was changed" in page
    listing = client.get(reverse("backups:restore-list"), HTTP_ACCEPT_LANGUAGE="en")
    row = listing.content.decode().split(f'href="{detail}"')[1].split("</tr>")[0]
    assert "not run: the restore failed" in row and ">passed<" not in row


@pytest.mark.django_db
def test_a_failed_restore_never_shows_checks_as_passed_even_with_passing_results_stored(
    client, make_user
):
    stored = {"tables": [], "checks": [{"name": "c", "name_en": "c", "ok": True}]}
    failed = RestoreRunFactory(state=RunState.FAILED, report=stored, error="boom")
    empty = RestoreRunFactory(state=RunState.FAILED, report={"tables": [], "checks": []})
    assert failed.checks_passed is False and empty.checks_passed is False
    assert RestoreRunFactory(state=RunState.COMPLETE, report=stored).checks_passed is True
    client.force_login(make_user(Role.EMERGENCY_LEAD))
    for run in (failed, empty):
        page = client.get(reverse("backups:restore-detail", args=[run.pk])).content.decode()
        assert "text-bg-success" not in page
    listing = client.get(reverse("backups:restore-list")).content.decode()
    assert listing.count("text-bg-success") == 1


@pytest.mark.django_db
def test_restore_step_one_without_a_scope_answers_with_a_visible_error(client, make_user):
    client.force_login(make_user(Role.EMERGENCY_LEAD))
    url = f"{reverse('backups:restore-start')}?target=order_system"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Choose at least one scope to restore." in page
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "is-invalid" in page or "invalid-feedback" in page
    assert not RestoreRun.objects.exists()


@pytest.mark.django_db
def test_postgresql_backups_record_which_tables_their_foreign_keys_reference(order_db):
    back_up("orders", "transactions")
    orders = services.referenced_tables(scope("orders").backups.get().manifest)
    assert orders == {"orders": {"customers"}, "order_items": {"orders", "products"}}
    payments = services.referenced_tables(scope("transactions").backups.get().manifest)
    assert payments == {"payments": {"orders"}}
    deps = services.restore_dependencies(scopes=[scope("transactions")], target="order_system")
    assert [(d.scope.slug, d.tables, d.in_target) for d in deps] == [("orders", ["orders"], True)]


@pytest.mark.django_db
def test_a_failed_backup_explains_itself_in_each_readers_language(client, make_user, settings):
    settings.ORDER_SYSTEM_DATABASE_URL = "postgresql://postgres@127.0.0.1:1/nowhere"
    run = services.start_backup(scope=scope("orders"))
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert run.error_code == BackupsError.SOURCE_UNREACHABLE
    client.force_login(make_user(Role.TECH_SUPPORT))
    url = reverse("backups:backup-detail", args=[run.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The order system database cannot be reached." in page
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "无法连接订单系统数据库。" in page
    assert "The order system database cannot be reached." not in page


@pytest.mark.django_db
def test_why_a_restore_used_its_backups_written_under_english_reads_in_chinese(
    client, make_user, order_db, scratch_db
):
    back_up("users", "products")
    users = scope("users").backups.get()
    lead = make_user(Role.EMERGENCY_LEAD, language="en")
    with translation.override("en"):
        restore = services.start_restore(
            scopes=[scope("users"), scope("products")],
            target="rehearsal",
            backups={"users": users},
            by=lead,
        )
    restore.refresh_from_db()
    assert [r["kind"] for r in restore.reasons] == [events.REASON_LINE, events.REASON_LINE]
    assert "chosen by staff" in restore.reason  # the text as written, kept as the fallback
    with translation.override("en"):
        products_en = services.propose_restore(scope=scope("products")).reason
    with translation.override("zh-hans"):
        chinese = restore.reason_text
        chosen = translation.gettext("chosen by staff")
        products_zh = services.propose_restore(scope=scope("products")).reason
    assert products_en in restore.reason and products_en not in chinese
    assert chosen != "chosen by staff" and chosen in chinese and products_zh in chinese
    assert "chosen by staff" not in chinese
    client.force_login(make_user(Role.EMERGENCY_LEAD, language="zh-hans"))
    page = client.get(reverse("backups:restore-detail", args=[restore.pk])).content.decode()
    assert chosen in page and "chosen by staff" not in page


@pytest.mark.django_db
def test_a_restore_recorded_before_reasons_were_data_still_shows_its_text():
    restore = RestoreRunFactory(reason="订单数据: x.bak — chosen by staff", reasons=[])
    assert restore.reason_text == "订单数据: x.bak — chosen by staff"


@pytest.mark.django_db
def test_runs_stored_with_the_old_error_codes_render_in_each_readers_language():
    from .factories import BackupRunFactory

    detail = "The master key configured as 'k1' is not the key this backup was encrypted with."
    coded = BackupRunFactory(
        state=RunState.FAILED, error_code="wrong_key", error_params={"detail": detail}
    )
    with translation.override("en"):
        english = coded.error_message
    with translation.override("zh-hans"):
        chinese = coded.error_message
    assert english == f"The master key does not open this backup (wrong key). ({detail})"
    assert chinese != english and chinese.endswith(f"({detail})")
    plain = BackupRunFactory(state=RunState.FAILED, error="Disk on fire", error_code="")
    assert plain.error_message == "Disk on fire"  # before error codes: the text as written
    message = BackupRunFactory(
        state=RunState.FAILED, error_code="message", error_params={"text": "as it was"}
    )
    assert message.error_message == "as it was"
