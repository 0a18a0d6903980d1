import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from apps.accounts import services
from apps.accounts.errors import AccountsError
from apps.accounts.models import User
from apps.accounts.roles import Role
from tests.codes import raises_code
from tests.factories import PASSWORD


@pytest.mark.django_db
def test_role_groups_carry_the_matrix_permissions():
    admin = Group.objects.get(name=Role.ADMIN.value)
    codes = {f"{p.content_type.app_label}.{p.codename}" for p in admin.permissions.all()}
    assert {"accounts.manage_users", "accounts.view_rq_dashboard"} <= codes
    assert (
        not Group.objects.get(name=Role.WAREHOUSE_CLERK.value)
        .permissions.filter(codename="manage_users")
        .exists()
    )


@pytest.mark.django_db
def test_login_locks_out_after_repeated_failures(client, make_user):
    user = make_user(Role.CARE_AGENT)
    url = reverse("accounts:login")
    for _ in range(5):
        response = client.post(url, {"username": user.username, "password": "wrong"})
        assert response.status_code in (200, 429)
    response = client.post(url, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_with_the_right_password_reaches_the_dashboard(client, make_user):
    user = make_user(Role.MANAGER)
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("core:dashboard")


@pytest.mark.django_db
def test_admin_creates_a_user_with_roles_and_the_change_is_audited(client, make_user):
    admin = make_user(Role.ADMIN)
    client.force_login(admin)
    response = client.post(
        reverse("accounts:user-create"),
        {
            "username": "li.lei",
            "first_name": "雷",
            "last_name": "李",
            "email": "li.lei@example.com",
            "phone": "13800001111",
            "language": "zh-hans",
            "is_active": "on",
            "roles": [Role.WAREHOUSE_CLERK.value, Role.LOGISTICS.value],
            "password1": "Stock-count-2026!",
            "password2": "Stock-count-2026!",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="li.lei")
    assert {g.name for g in user.groups.all()} == {"warehouse_clerk", "logistics"}
    assert not user.is_staff
    latest = user.history.latest()
    assert "warehouse_clerk" in latest.history_change_reason
    assert latest.history_user == admin


@pytest.mark.django_db
def test_a_weak_password_is_refused_with_a_message_in_chinese(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    response = client.post(
        reverse("accounts:user-create"),
        {
            "username": "weak",
            "language": "zh-hans",
            "password1": "123",
            "password2": "123",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="weak").exists()
    assert "密码" in response.content.decode()


@pytest.mark.django_db
def test_granting_the_admin_role_opens_the_django_admin(make_user):
    user = make_user(Role.CARE_AGENT)
    user = services.update_user(user=user, roles=[Role.ADMIN.value])
    assert user.is_staff


@pytest.mark.django_db
def test_seed_demo_is_idempotent(capsys):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")
    assert User.objects.filter(username__startswith="demo_").count() == len(Role)
    assert "demo_warehouse_clerk" in capsys.readouterr().out


@pytest.mark.django_db
def test_nobody_can_lock_the_team_out_of_user_management(make_user):
    admin = make_user(Role.ADMIN)
    with raises_code(AccountsError.OWN_ADMIN_ROLE):
        services.update_user(user=admin, roles=[Role.MANAGER.value], by=admin)
    with raises_code(AccountsError.LAST_ADMIN):  # the last administrator, changed by someone else
        services.update_user(user=admin, roles=[], by=make_user(Role.MANAGER))
    second = make_user(Role.ADMIN)
    services.update_user(user=admin, roles=[Role.MANAGER.value], by=second)
    admin.refresh_from_db()
    assert not admin.is_staff
