"""RQ entry points: take ids, call one service, report progress."""

from django.contrib.auth import get_user_model

from . import services


def _user(user_id: int | None):
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


def push_to_order_system_job(*, user_id: int, progress=None) -> dict:
    from .handback import run_after_push

    by = get_user_model().objects.get(pk=user_id)
    result = services.push_to_order_system(by=by, progress=progress)
    result.update(run_after_push(by=by))
    return result


def load_reference_job(*, user_id: int | None = None, progress=None) -> dict:
    return services.load_reference_from_order_system(by=_user(user_id), progress=progress)


def load_reference_from_backup_job(*, user_id: int | None = None, progress=None) -> dict:
    return services.load_reference_from_latest_backup(by=_user(user_id), progress=progress)


def check_reference_job(*, progress=None, import_id: int) -> dict:
    progress(1, "…")
    return services.check_reference(import_id=import_id, progress=progress)


def confirm_reference_import_job(
    *, progress=None, import_id: int, user_id: int | None = None
) -> dict:
    from .models import ReferenceImport

    imp = ReferenceImport.objects.defer("content").get(pk=import_id)
    progress.update(percent=5, step=str(imp))
    imp = services.confirm_reference_import(imp=imp, by=_user(user_id), progress=progress)
    return {"import_id": imp.pk, "rows": imp.total_rows, "state": imp.state}
