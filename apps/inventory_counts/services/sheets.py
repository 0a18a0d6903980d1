"""Count sheets: uploaded, checked in full by a job, imported all or nothing by another."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from tablib import Dataset

from apps.core.choices import JobState
from apps.core.errors import DomainError
from apps.core.events import message
from apps.core.jobs import Progress, refresh_job_state, start_job
from apps.core.models import JobRecord
from apps.core.tabular import stored_upload

from .. import events
from ..choices import (
    ENTRY_STATES,
    ImportState,
)
from ..errors import InventoryError
from ..models import (
    CountSession,
    CountSheetImport,
)
from ..resources import CountSheetResource, format_by_name, read_dataset
from .common import ERRORS_KEPT, PREVIEW_ROWS

if TYPE_CHECKING:
    from apps.accounts.models import User


# --- count sheets --------------------------------------------------------------------------------
@transaction.atomic
def upload_count_sheet(
    *, session: CountSession, content: bytes, file_name: str, input_format: str, by: User
) -> CountSheetImport:
    """Keep the uploaded sheet and check every row of it (a dry run, as a tracked job)."""
    session.refresh_from_db(fields=["state"])
    if session.state not in ENTRY_STATES:
        raise DomainError(InventoryError.NOT_OPEN)
    if format_by_name(input_format) is None:
        raise DomainError(InventoryError.FORMAT_UNSUPPORTED, field="input_format")
    sheet = CountSheetImport.objects.create(
        session=session,
        content=content,
        original_name=file_name[:255],
        input_format=input_format.lower(),
        created_by=by,
    )
    job = start_job(
        kind="inventory.check_sheet",
        title=message(events.CHECK_SHEET_TITLE, name=sheet.original_name),
        func="apps.inventory_counts.jobs.check_count_sheet_job",
        kwargs={"sheet_id": sheet.pk},
        queue="default",
        by=by,
    )
    CountSheetImport.objects.filter(pk=sheet.pk).update(job=job)
    sheet.refresh_from_db()
    return sheet


@transaction.atomic
def confirm_count_sheet(*, sheet: CountSheetImport, by: User) -> CountSheetImport:
    """Import a checked sheet (a tracked job); it is imported entirely or not at all."""
    sheet = CountSheetImport.objects.select_for_update().get(pk=sheet.pk)
    if sheet.state != ImportState.VALID:
        raise DomainError(InventoryError.SHEET_NOT_CHECKED)
    sheet.state = ImportState.IMPORTING
    sheet.save(update_fields=["state"])
    job = start_job(
        kind="inventory.import_sheet",
        title=message(events.IMPORT_SHEET_TITLE, name=sheet.original_name),
        func="apps.inventory_counts.jobs.import_count_sheet_job",
        kwargs={"sheet_id": sheet.pk},
        queue="default",
        by=by,
    )
    CountSheetImport.objects.filter(pk=sheet.pk).update(job=job)
    sheet.refresh_from_db()
    return sheet


@contextmanager
def _failing_sheet(sheet_id: int, running: str) -> Iterator[None]:
    """Whatever stops the job (not only a DomainError), a sheet still in ``running`` becomes
    FAILED with the reason, written outside the rolled-back transaction, so staff can check it
    again or upload a new one. Outcomes the job already recorded (INVALID, IMPORTED) stay."""
    try:
        yield
    except Exception as exc:
        reason = str(exc) if isinstance(exc, DomainError) else exc.__class__.__name__
        mark_sheet_failed(sheet_id=sheet_id, running=(running,), reason=reason)
        raise


def mark_sheet_failed(
    *,
    sheet_id: int,
    reason: str,
    running: tuple[str, ...] = (ImportState.VALIDATING, ImportState.IMPORTING),
) -> bool:
    """A sheet whose job stopped (crashed, or its worker died) becomes FAILED with the reason."""
    return bool(
        CountSheetImport.objects.filter(pk=sheet_id, state__in=running).update(
            state=ImportState.FAILED,
            errors=[
                {
                    "row": None,
                    "errors": [str(_("The job stopped: %(reason)s") % {"reason": reason})],
                }
            ],
            error_count=0,
        )
    )


@transaction.atomic
def recheck_count_sheet(*, sheet: CountSheetImport, by: User) -> CountSheetImport:
    """Check a sheet whose job failed once more (a new tracked job)."""
    sheet = CountSheetImport.objects.select_for_update().get(pk=sheet.pk)
    if sheet.state != ImportState.FAILED:
        raise DomainError(InventoryError.SHEET_NOT_FAILED)
    sheet.session.refresh_from_db(fields=["state"])
    if sheet.session.state not in ENTRY_STATES:
        raise DomainError(InventoryError.NOT_OPEN)
    CountSheetImport.objects.filter(pk=sheet.pk).update(
        state=ImportState.VALIDATING, errors=[], error_count=0, preview=[]
    )
    job = start_job(
        kind="inventory.check_sheet",
        title=message(events.CHECK_SHEET_TITLE, name=sheet.original_name),
        func="apps.inventory_counts.jobs.check_count_sheet_job",
        kwargs={"sheet_id": sheet.pk},
        queue="default",
        by=by,
    )
    CountSheetImport.objects.filter(pk=sheet.pk).update(job=job)
    sheet.refresh_from_db()
    return sheet


def _sheet_content(sheet_id: int) -> bytes:
    """The file's bytes, held by no model instance: freed as soon as it has been read."""
    return stored_upload(CountSheetImport.objects.filter(pk=sheet_id))


def _run_sheet(
    sheet: CountSheetImport, *, dry_run: bool, progress: Progress | None
) -> tuple[Dataset | None, list[dict[str, Any]], int]:
    session = sheet.session
    try:
        # Bounded while it streams (apps.core.tabular): "The file could not be read: <why>".
        dataset = read_dataset(_sheet_content(sheet.pk), sheet.input_format, progress=progress)
    except DomainError as exc:
        return None, [{"row": None, "errors": [str(exc)]}], 0
    resource = CountSheetResource(
        session=session, clerk=sheet.created_by, sheet=sheet, progress=progress
    )
    result = resource.import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
    )
    errors: list[dict] = []
    for base in result.base_errors:
        errors.append({"row": None, "errors": [str(base.error)]})
    for number, row_errors in result.row_errors():
        errors.append({"row": number, "errors": [str(e.error) for e in row_errors]})
    for invalid in result.invalid_rows:
        messages = [str(m) for ms in invalid.error_dict.values() for m in ms]
        errors.append({"row": invalid.number, "errors": messages, "values": list(invalid.values)})
    errors.sort(key=lambda e: (e["row"] is not None, e["row"] or 0))
    return dataset, errors, len(dataset)


def check_count_sheet(*, sheet_id: int, progress: Progress | None = None) -> dict:
    """The dry run; a crash marks the sheet FAILED instead of leaving it checking forever."""
    with _failing_sheet(sheet_id, ImportState.VALIDATING):
        return _check_count_sheet(sheet_id=sheet_id, progress=progress)


def _check_count_sheet(*, sheet_id: int, progress: Progress | None = None) -> dict:
    """The dry run: every row checked, row errors kept with their row numbers, nothing written."""
    sheet = (
        CountSheetImport.objects.select_related("session", "created_by")
        .defer("content")
        .get(pk=sheet_id)
    )
    with transaction.atomic():
        dataset, errors, total = _run_sheet(sheet, dry_run=True, progress=progress)
    preview = []
    if dataset is not None:
        for row in dataset[:PREVIEW_ROWS]:
            preview.append([str(v) if v is not None else "" for v in row])
        preview = [list(dataset.headers or []), *preview]
    # Only a sheet still being checked takes the result: a late or repeated check job must never
    # turn an importing or imported sheet back into a valid one (it could be imported twice).
    CountSheetImport.objects.filter(pk=sheet.pk, state=ImportState.VALIDATING).update(
        state=ImportState.INVALID if errors else ImportState.VALID,
        total_rows=total,
        errors=errors[:ERRORS_KEPT],
        error_count=len(errors),
        preview=preview,
    )
    return {"rows": total, "errors": len(errors)}


def import_count_sheet(*, sheet_id: int, progress: Progress | None = None) -> dict:
    """The real run; a crash marks the sheet FAILED instead of leaving it importing forever."""
    with _failing_sheet(sheet_id, ImportState.IMPORTING):
        return _import_count_sheet(sheet_id=sheet_id, progress=progress)


def _import_count_sheet(*, sheet_id: int, progress: Progress | None = None) -> dict:
    """The real run, in one transaction: any wrong row (the session may have changed since the
    check) rolls everything back and the sheet is marked as having errors."""
    errors: list[dict] = []
    with transaction.atomic():
        sheet = CountSheetImport.objects.select_for_update().defer("content").get(pk=sheet_id)
        session = CountSession.objects.select_for_update().get(pk=sheet.session_id)
        if sheet.state != ImportState.IMPORTING:
            raise DomainError(InventoryError.SHEET_NOT_IMPORTING)
        if session.state not in ENTRY_STATES:
            errors = [{"row": None, "errors": [str(DomainError(InventoryError.NOT_OPEN))]}]
        else:
            _dataset, errors, total = _run_sheet(sheet, dry_run=False, progress=progress)
        if not errors:
            sheet.state = ImportState.IMPORTED
            sheet.imported_at = timezone.now()
            sheet.save(update_fields=["state", "imported_at"])
            return {"rows": total}
        transaction.set_rollback(True)
    CountSheetImport.objects.filter(pk=sheet_id).update(
        state=ImportState.INVALID, errors=errors[:ERRORS_KEPT], error_count=len(errors)
    )
    raise DomainError(InventoryError.SHEET_HAS_ERRORS, params={"n": len(errors)})


def refresh_count_sheet(*, sheet: CountSheetImport) -> JobRecord | None:
    """The sheet's job as it stands now; a sheet whose job died says so (FAILED, with why)."""
    if sheet.job is None:
        return None
    job = refresh_job_state(sheet.job)
    if job.state == JobState.FAILED and mark_sheet_failed(
        sheet_id=sheet.pk, reason=job.error or _("Failed")
    ):
        sheet.refresh_from_db(fields=["state", "errors", "error_count"])
    return job
