"""The S3 and SFTP remote stores against real servers started by the test (moto, OpenSSH)."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.storage import storages

from apps.backups import services
from apps.backups.choices import CopyState, RunState
from apps.backups.models import BackupRun, BackupScope
from apps.core.errors import DomainError

from .remote_servers import start_s3, start_sftp

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["s3", "sftp"])
def remote_store(request, settings, tmp_path, backup_settings):
    server = (start_s3 if request.param == "s3" else start_sftp)(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "backups_remote": server.storage}
    yield server
    server.stop()


def backup(slug="users") -> BackupRun:
    run = services.start_backup(scope=BackupScope.objects.get(slug=slug))
    run.refresh_from_db()
    return run


def test_a_backup_is_uploaded_and_read_back_from_the_real_server(order_db, remote_store):
    run = backup()

    assert run.state == RunState.COMPLETE, run.error
    assert run.remote_state == CopyState.VERIFIED and run.remote_name
    stored = remote_store.read(run.remote_name)
    assert hashlib.sha256(stored).hexdigest() == run.sha256
    assert stored == Path(run.local_path).read_bytes()


def test_a_lost_local_copy_is_fetched_back_from_the_server_and_verified(order_db, remote_store):
    run = backup()
    Path(run.local_path).unlink()

    outcome = services.verify_backup(name=run.file_name)

    assert outcome.ok, outcome.message
    fetched = Path(BackupRun.objects.get(pk=run.pk).local_path)
    assert hashlib.sha256(fetched.read_bytes()).hexdigest() == run.sha256


def test_a_damaged_local_copy_is_replaced_by_the_servers_copy(order_db, remote_store):
    run = backup()
    data = bytearray(Path(run.local_path).read_bytes())
    data[len(data) // 2] ^= 0xFF
    Path(run.local_path).write_bytes(bytes(data))

    path = services.verified_file_for(run)

    assert hashlib.sha256(path.read_bytes()).hexdigest() == run.sha256


def test_a_server_that_is_down_fails_the_backup_with_the_reason(order_db, remote_store, settings):
    remote_store.stop()
    storages._storages.pop("backups_remote", None)  # no connection kept from before

    run = backup()

    assert run.state == RunState.FAILED
    assert run.remote_state == CopyState.NONE
    assert "remote" in run.error.lower() or "远程" in run.error
    assert Path(run.local_path).exists()  # the local copy is kept: nothing is lost


def test_with_the_server_down_a_lost_local_copy_is_refused_with_the_reason(order_db, remote_store):
    run = backup()
    Path(run.local_path).unlink()
    remote_store.stop()
    storages._storages.pop("backups_remote", None)

    with pytest.raises(DomainError) as exc:
        services.local_file_for(run)

    assert "remote" in str(exc.value.message).lower() or "远程" in str(exc.value.message)
