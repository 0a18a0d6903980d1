import factory
from django.conf import settings
from django.utils import timezone

from apps.backups.choices import BackupKind, RunState
from apps.backups.models import BackupRun, BackupScope, RestoreRun


class BackupRunFactory(factory.django.DjangoModelFactory):
    """A finished backup record; ``with_file=True`` also puts bytes where its local path says."""

    class Meta:
        model = BackupRun
        skip_postgeneration_save = True

    scope = factory.LazyFunction(lambda: BackupScope.objects.get(slug="orders"))
    kind = BackupKind.REALTIME
    state = RunState.COMPLETE
    file_name = factory.Sequence(lambda n: f"20261125-orders-realtime-f{n}.bak")
    finished_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def with_file(self, create, extracted, **kwargs):
        if not extracted:
            return
        from pathlib import Path

        path = Path(settings.BACKUP_LOCAL_DIR) / self.file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not a real backup")
        self.local_path = str(path)
        self.save()


class RestoreRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RestoreRun

    target_label = "sqlite:///rehearsal.sqlite3"
    state = RunState.COMPLETE
    report = factory.LazyFunction(lambda: {"tables": [], "checks": []})
