import base64
import json
import os
import secrets

import psycopg
import pytest

from apps.backups import demo_order_system
from tests.conftest import create_database, drop_database

# The shared helpers under their old names (other folders' conftests import them from here).
_create_db = create_database
_drop_db = drop_database


def key_spec(kid: str = "test-k1") -> str:
    return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


@pytest.fixture(autouse=True)
def default_scopes(request):
    """The plan's scopes come from a data migration; transactional tests flush them."""
    if "rq_worker" in request.fixturenames or "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        import importlib

        from django.apps import apps

        importlib.import_module("apps.backups.migrations.0002_default_scopes").create_scopes(
            apps, None
        )


@pytest.fixture(autouse=True)
def backup_settings(settings, tmp_path):
    """Every backup test gets its own stores and master key (never the developer's var/)."""
    settings.BACKUP_LOCAL_DIR = str(tmp_path / "local")
    settings.BACKUP_REMOTE_DIR = str(tmp_path / "remote")
    settings.STORAGES = {
        **settings.STORAGES,
        "backups_remote": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "remote")},
        },
    }
    settings.BACKUP_MASTER_KEYS = key_spec()
    settings.BACKUP_KEY_FILE = ""
    settings.ORDER_SYSTEM_LOG_DIR = str(tmp_path / "logs")
    settings.BACKUP_NAME_STYLE = "plan"
    return settings


@pytest.fixture
def scratch_db(settings):
    name, url = create_database("test_scratch")
    settings.BACKUP_SCRATCH_TARGETS = {"rehearsal": url}
    yield url
    drop_database(name)


def taking_an_order_after_the_orders_backup(order_db: str, perform):
    """``perform_backup`` that, right after the orders scope's backup, commits an order and its
    payment on the order system: what a backup of scope after scope would split apart."""

    def perform_then_take_an_order(**kwargs):
        from apps.backups.models import BackupRun

        result = perform(**kwargs)
        if BackupRun.objects.get(pk=kwargs["run_id"]).scope.slug == "orders":
            with psycopg.connect(order_db, autocommit=True) as conn:
                conn.execute(
                    "INSERT INTO orders VALUES (999999, 'LATE-1', 1, 'paid', 9.5, 'Shanghai',"
                    " 'Road 1', now())"
                )
                conn.execute("INSERT INTO payments VALUES (999999, 999999, 9.5, 'card', now())")
        return result

    return perform_then_take_an_order


def table_rows(url: str, table: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def fingerprint(url: str) -> dict[str, tuple]:
    """Row counts and content hashes of every demo table: equal means unchanged."""
    out = {}
    with psycopg.connect(url) as conn:
        for table in demo_order_system.TABLES:
            exists = conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0]
            if exists is None:
                out[table] = None
                continue
            out[table] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM {table} t"
            ).fetchone()
    return out


def worker_env(rq_worker, settings) -> None:
    """Hand this test's backup settings to the worker process."""
    rq_worker.env.update(
        ORDER_SYSTEM_DATABASE_URL=settings.ORDER_SYSTEM_DATABASE_URL,
        BACKUP_LOCAL_DIR=settings.BACKUP_LOCAL_DIR,
        BACKUP_REMOTE_DIR=settings.BACKUP_REMOTE_DIR,
        BACKUP_REMOTE_OPTIONS=json.dumps({"location": settings.BACKUP_REMOTE_DIR}),
        BACKUP_MASTER_KEYS=settings.BACKUP_MASTER_KEYS,
        BACKUP_KEY_FILE="",
        ORDER_SYSTEM_LOG_DIR=settings.ORDER_SYSTEM_LOG_DIR,
        BACKUP_SCRATCH_TARGETS=json.dumps(settings.BACKUP_SCRATCH_TARGETS),
    )
    os.makedirs(settings.BACKUP_LOCAL_DIR, exist_ok=True)
