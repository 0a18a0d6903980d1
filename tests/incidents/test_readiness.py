from datetime import timedelta

import pytest
from django.utils import timezone, translation

from apps.accounts.roles import Role
from apps.backups.models import BackupScope
from apps.incidents import services
from apps.incidents.choices import ReadinessItemKind, ReadinessItemState, ReadinessResult
from apps.incidents.errors import IncidentsError
from tests.codes import raises_code

K = ReadinessItemKind
pytestmark = pytest.mark.django_db


@pytest.fixture
def reachable_order_db(settings, tmp_path):
    import sqlite3

    path = tmp_path / "orders.sqlite3"
    sqlite3.connect(path).close()
    settings.ORDER_SYSTEM_DATABASE_URL = f"sqlite:///{path}"


def _verified_backups(age: timedelta, *, rehearsed: bool = True):
    """Verified backups of every scope, a passing restore rehearsal (the backup item needs one)
    and operators holding current certificates (the training item, read from apps.drills)."""
    from tests.backups.factories import BackupRunFactory
    from tests.drills.factories import RestoreRehearsalFactory, certify_everyone_on_duty
    from tests.factories import UserFactory

    if rehearsed:
        RestoreRehearsalFactory()
    UserFactory(roles=[Role.TECH_SUPPORT])
    certify_everyone_on_duty()

    for scope in BackupScope.objects.all():
        BackupRunFactory(
            scope=scope,
            file_name=f"{scope.slug}-{age}.bak",
            finished_at=timezone.now() - age,
            last_verify_ok=True,
        )


def _items(check):
    return {item.kind: item for item in check.items.all()}


def test_the_automatic_items_pass_when_the_database_answers_and_backups_are_fresh(
    make_user, reachable_order_db
):
    _verified_backups(timedelta(hours=2))
    check = services.start_readiness_check(title="5.0", by=make_user(Role.MANAGER))
    items = _items(check)
    assert items[K.ORDER_DB_REACHABLE].state == ReadinessItemState.PASSED
    assert items[K.RECENT_BACKUPS].state == ReadinessItemState.PASSED
    assert items[K.ORDER_DB_REACHABLE].automatic and items[K.RECENT_BACKUPS].automatic


def test_an_unreachable_order_database_fails_its_item(make_user, settings):
    settings.ORDER_SYSTEM_DATABASE_URL = "postgresql://postgres@127.0.0.1:1/nowhere"
    check = services.start_readiness_check(title="5.0", by=make_user(Role.MANAGER))
    item = _items(check)[K.ORDER_DB_REACHABLE]
    assert item.state == ReadinessItemState.FAILED and item.detail


def test_a_stale_or_unverified_backup_fails_the_backup_item(
    make_user, reachable_order_db, settings
):
    settings.READINESS_BACKUP_MAX_AGE_HOURS = 24
    _verified_backups(timedelta(hours=30))
    check = services.start_readiness_check(title="5.0", by=make_user(Role.MANAGER))
    item = _items(check)[K.RECENT_BACKUPS]
    assert item.state == ReadinessItemState.FAILED
    assert BackupScope.objects.get(slug="orders").name in item.detail


def test_training_is_checked_automatically_from_the_drills_readiness_matrix(
    make_user, reachable_order_db
):
    _verified_backups(timedelta(hours=1))
    check = services.start_readiness_check(title="5.0", by=make_user(Role.MANAGER))
    item = _items(check)[K.OPERATORS_TRAINED]
    assert item.automatic and item.state == ReadinessItemState.PASSED
    untrained = make_user(Role.TECH_SUPPORT, username="untrained_operator")
    with translation.override("en"):
        check = services.start_readiness_check(title="5.1", by=make_user(Role.MANAGER))
    item = _items(check)[K.OPERATORS_TRAINED]
    assert item.state == ReadinessItemState.FAILED and untrained.username in item.detail


def test_the_backup_item_needs_a_passing_restore_rehearsal(make_user, reachable_order_db):
    _verified_backups(timedelta(hours=1), rehearsed=False)
    with translation.override("en"):
        check = services.start_readiness_check(title="5.0", by=make_user(Role.MANAGER))
    item = _items(check)[K.RECENT_BACKUPS]
    assert item.state == ReadinessItemState.FAILED and "rehearsal" in item.detail


def test_go_needs_every_item_passed_and_a_signature(make_user, reachable_order_db):
    _verified_backups(timedelta(hours=1))
    manager = make_user(Role.MANAGER)
    check = services.start_readiness_check(title="5.0", by=manager)
    with raises_code(IncidentsError.NOT_ALL_PASSED):
        services.sign_off_readiness(check=check, go=True, by=manager)
    with raises_code(IncidentsError.AUTOMATIC_ITEM):
        services.record_readiness_item(
            item=_items(check)[K.RECENT_BACKUPS], passed=True, by=manager
        )
    for item in check.items.filter(automatic=False):
        services.record_readiness_item(item=item, passed=True, by=manager)
    with raises_code(IncidentsError.SIGN_OFF_ROLE):
        services.sign_off_readiness(check=check, go=True, by=make_user(Role.TECH_SUPPORT))
    check = services.sign_off_readiness(check=check, go=True, by=manager, note="Go at 02:00")
    assert check.result == ReadinessResult.GO and check.signed_off_by == manager
    with raises_code(IncidentsError.ALREADY_SIGNED_OFF):
        services.sign_off_readiness(check=check, go=False, by=manager)


def test_no_go_may_be_signed_with_items_still_open(make_user, settings):
    settings.ORDER_SYSTEM_DATABASE_URL = "sqlite:////nonexistent/dir/orders.sqlite3"
    lead = make_user(Role.EMERGENCY_LEAD)
    check = services.start_readiness_check(title="5.0", by=lead)
    check = services.sign_off_readiness(check=check, go=False, by=lead)
    assert check.result == ReadinessResult.NO_GO


def test_the_readiness_buttons_go_through_one_service_that_refuses_what_it_cannot_do(
    make_user, reachable_order_db
):
    _verified_backups(timedelta(hours=1))
    manager = make_user(Role.MANAGER)
    check = services.start_readiness_check(title="5.0", by=manager)
    other = services.start_readiness_check(title="5.1", by=manager)
    manual, *others = check.items.filter(automatic=False).order_by("pk")
    with raises_code(IncidentsError.UNKNOWN_ACTION):
        services.act_on_readiness_check(check=check, action="explode", by=manager)
    with raises_code(IncidentsError.CHOOSE_ITEM):
        services.act_on_readiness_check(check=check, action="pass", by=manager)
    with raises_code(IncidentsError.CHOOSE_ITEM):
        services.act_on_readiness_check(check=other, action="pass", item=manual, by=manager)
    with raises_code(IncidentsError.CHOOSE_GO):
        services.act_on_readiness_check(check=check, action="sign_off", by=manager)
    services.act_on_readiness_check(check=check, action="recheck", by=manager)
    services.act_on_readiness_check(
        check=check, action="pass", item=manual, detail="trained on Monday", by=manager
    )
    manual.refresh_from_db()
    assert manual.state == ReadinessItemState.PASSED and manual.detail == "trained on Monday"
    for item in others:
        services.act_on_readiness_check(check=check, action="pass", item=item, by=manager)
    check = services.act_on_readiness_check(
        check=check, action="sign_off", go=True, note="Go at 02:00", by=manager
    )
    assert check.result == ReadinessResult.GO and check.signed_off_by == manager


def test_an_unknown_readiness_button_is_answered_with_a_message_and_changes_nothing(
    client, make_user, reachable_order_db
):
    from django.contrib.messages import get_messages
    from django.urls import reverse

    manager = make_user(Role.MANAGER, language="en")
    check = services.start_readiness_check(title="5.0", by=manager)
    client.force_login(manager)
    act = reverse("incidents:readiness-act", args=[check.pk])
    response = client.post(act, {"action": "explode", "result": "go"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert any("Unknown action" in str(m) for m in get_messages(response.wsgi_request))
    check.refresh_from_db()
    assert check.result == ReadinessResult.PENDING
    response = client.post(act, {"action": "sign_off"}, HTTP_ACCEPT_LANGUAGE="en")
    assert any("Choose go or no go" in str(m) for m in get_messages(response.wsgi_request))
    response = client.post(act, {"action": "sign_off", "result": "no_go"})
    check.refresh_from_db()
    assert check.result == ReadinessResult.NO_GO and check.signed_off_by == manager


@pytest.mark.django_db(transaction=True)
def test_the_order_database_probe_never_opens_a_connection_inside_a_transaction(
    make_user, settings, monkeypatch
):
    """A slow order server must not hold the site's transaction (and its row locks) open."""
    import psycopg
    from django.db import connection

    order_db = settings.ORDER_SYSTEM_DATABASE_URL.rsplit("/", 1)[1].split("?")[0]
    real_connect = psycopg.connect
    in_transaction: list[bool] = []

    def watching_connect(conninfo="", *args, **kwargs):
        if str(conninfo).rsplit("/", 1)[-1].split("?")[0] == order_db:
            in_transaction.append(connection.in_atomic_block)
        return real_connect(conninfo, *args, **kwargs)

    monkeypatch.setattr(psycopg, "connect", watching_connect)
    manager = make_user(Role.MANAGER)
    check = services.start_readiness_check(title="5.0", by=manager)
    services.act_on_readiness_check(check=check, action="recheck", by=manager)
    assert in_transaction == [False, False]
    assert _items(check)[K.ORDER_DB_REACHABLE].state == ReadinessItemState.PASSED
