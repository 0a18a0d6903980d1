"""The deployment modes: embedded default, production checks, migrations and catalogs."""

import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 20 + "-production-secret-for-the-check-only-" + "y" * 20,
    "ALLOWED_HOSTS": "recovery.example.com",
    # The run's own servers (make test starts private ones); the checks here never connect.
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@db.invalid/recovery_site"),
    "REDIS_URL": os.environ.get("REDIS_URL", "redis://redis.invalid/0"),
}


def _clean_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_ENV",
            "SECRET_KEY",
            "JOB_RUNNER",
            "ORDER_SYSTEM_DATABASE_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(extra)
    return env


def _manage(*args, env, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_production_mode_passes_check_deploy_without_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_clean_env(**PROD_ENV))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"])
def test_production_mode_refuses_to_start_without_required_settings(missing):
    env = _clean_env(**{k: v for k, v in PROD_ENV.items() if k != missing})
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_seed_demo_is_refused_in_production():
    result = _manage("seed_demo", env=_clean_env(**PROD_ENV))
    assert result.returncode != 0 and "production" in result.stderr


def test_no_model_change_lacks_a_migration(tmp_path):
    result = _manage(
        "makemigrations", "--check", "--dry-run", env=_clean_env(VAR_DIR=str(tmp_path))
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
def test_the_chinese_catalog_has_no_untranslated_or_fuzzy_messages():
    po = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        ["msgfmt", "--statistics", "-o", os.devnull, str(po)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr
    mo = po.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime - 1, "run make messages"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_embedded_default_starts_and_serves_the_login_page(tmp_path):
    env = _clean_env(VAR_DIR=str(tmp_path))
    migrated = _manage("migrate", "--no-input", env=env, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "recovery_site.sqlite3").exists()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def fetch():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as r:
                    return r.status, r.read().decode()
            except OSError:
                return None

        status, body = wait_for(fetch, timeout=60, interval=0.3, message="server did not answer")
        assert status == 200
        assert 'name="username"' in body
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/static/vendor/bootstrap/bootstrap.min.css"
        ) as r:
            assert r.status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.django_db
def test_demo_warehouses_are_seeded_once():
    from django.core.management import call_command

    from apps.catalog.models import Location, Warehouse

    call_command("seed_demo_warehouses")
    call_command("seed_demo_warehouses")
    assert Warehouse.objects.count() == 2 and Location.objects.count() == 20
