"""Reference data in: uploaded files (checked, then imported by jobs) and loads from the order
system or its latest backups.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from tablib import Dataset

from apps.backups.engine import gateway
from apps.catalog import services as catalog
from apps.core.choices import JobState
from apps.core.errors import DomainError
from apps.core.events import message as event_message
from apps.core.jobs import Progress, refresh_job_state, start_job
from apps.core.models import JobRecord

from .. import events
from ..choices import (
    ImportState,
    ReferenceKind,
)
from ..errors import OrderError
from ..models import (
    Customer,
    ProductPrice,
    ReferenceImport,
)

if TYPE_CHECKING:
    from apps.accounts.models import User


# --- reference data -------------------------------------------------------------------------------
PREVIEW_ROWS = 50
ERRORS_KEPT = 500


def _check_reference(
    imp: ReferenceImport,
    *,
    dry_run: bool,
    by: User | None = None,
    progress: Progress | None = None,
) -> tuple[Dataset, Any, list[dict[str, Any]]]:
    from apps.core.tabular import read_dataset, stored_upload

    from ..resources import REFERENCE_RESOURCES

    # Bounded while it streams; any reason it cannot be read is a DomainError naming it.
    # The bytes are held by no model instance, so they are freed once the file has been read.
    content = stored_upload(ReferenceImport.objects.filter(pk=imp.pk))
    dataset = read_dataset(content, imp.input_format, progress=progress)
    del content
    if progress:
        progress(10, _("Checking %(n)s rows") % {"n": len(dataset)})
    if dataset.headers:
        dataset.headers = [str(h or "").strip().lower() for h in dataset.headers]
    resource = REFERENCE_RESOURCES[ReferenceKind(imp.kind)](progress=progress, by=by)
    result = resource.import_data(
        dataset, dry_run=dry_run, raise_errors=False, use_transactions=True
    )
    errors: list[dict] = []
    for row in result.invalid_rows:
        for field_name, messages in row.error_dict.items():
            for message in messages:
                errors.append({"row": row.number, "field": field_name, "error": str(message)})
    for number, row_errors in result.row_errors():
        for error in row_errors:
            errors.append({"row": number, "field": "", "error": str(error.error)})
    errors.sort(key=lambda e: (e["row"], e["field"]))
    return dataset, result, errors


@transaction.atomic
def upload_reference(
    *, kind: str, content: bytes, name: str, input_format: str, by: User
) -> ReferenceImport:
    """Keep an uploaded reference file and check all of it on a worker (a tracked job that
    writes nothing); the page shows the job's progress, then the preview and row errors."""
    imp = ReferenceImport(
        kind=kind,
        content=content,
        original_name=name[:255],
        input_format=input_format,
        state=ImportState.CHECKING,
        created_by=by,
    )
    imp.full_clean(exclude=["content", "job"])
    imp.save()
    job = start_job(
        kind="manual_orders.reference_check",
        title=_("Check %(name)s") % {"name": imp.original_name},
        func="apps.manual_orders.jobs.check_reference_job",
        kwargs={"import_id": imp.pk},
        by=by,
    )
    ReferenceImport.objects.filter(pk=imp.pk).update(job=job)
    return ReferenceImport.objects.defer("content").get(pk=imp.pk)


def check_reference(*, import_id: int, progress: Progress | None = None) -> dict:
    """The dry run of an uploaded reference file, on a worker. Whatever stops it (an unreadable
    or too large file, a crash), the file ends FAILED with the reason instead of "checking"."""
    try:
        with transaction.atomic():
            imp = ReferenceImport.objects.select_for_update().defer("content").get(pk=import_id)
            if imp.state != ImportState.CHECKING:
                raise DomainError(OrderError.REFERENCE_NOT_CHECKING)
            dataset, result, errors = _check_reference(imp, dry_run=True, progress=progress)
            imp.total_rows = len(dataset)
            imp.errors = errors[:ERRORS_KEPT]
            imp.state = ImportState.HAS_ERRORS if errors else ImportState.CHECKED
            imp.preview = {
                "headers": list(dataset.headers or []),
                "rows": [
                    [str(v) if v is not None else "" for v in row] for row in dataset[:PREVIEW_ROWS]
                ],
                "actions": [str(r.import_type) for r in result.rows[:PREVIEW_ROWS]],
            }
            imp.save(update_fields=["total_rows", "errors", "state", "preview"])
    except Exception as exc:
        reason = str(exc) if isinstance(exc, DomainError) else exc.__class__.__name__
        mark_reference_failed(import_id=import_id, reason=reason)
        raise
    return {"rows": imp.total_rows, "errors": len(errors), "state": imp.state}


def mark_reference_failed(*, import_id: int, reason: str) -> bool:
    """A file whose check stopped (unreadable, too large, or its worker died) says why."""
    return bool(
        ReferenceImport.objects.filter(pk=import_id, state=ImportState.CHECKING).update(
            state=ImportState.FAILED,
            errors=[{"row": None, "field": "", "error": str(reason)}],
        )
    )


def confirm_reference_import(
    *, imp: ReferenceImport, by: User | None, progress: Progress | None = None
) -> ReferenceImport:
    """Write a checked file: every row or, if any row turned out wrong, none."""
    with transaction.atomic():
        imp = ReferenceImport.objects.select_for_update().defer("content").get(pk=imp.pk)
        if imp.state != ImportState.CHECKED:
            raise DomainError(OrderError.REFERENCE_NOT_CHECKED)
        _dataset, _result, errors = _check_reference(
            imp, dry_run=False, by=by or imp.created_by, progress=progress
        )
        if errors:
            transaction.set_rollback(True)
            raise DomainError(OrderError.REFERENCE_HAS_ERRORS)
        imp.state = ImportState.IMPORTED
        imp.imported_at = timezone.now()
        imp.save(update_fields=["state", "imported_at"])
    return imp


def load_reference_from_order_system(
    *, url: str | None = None, by: User | None = None, progress: Progress | None = None
) -> dict[str, int]:
    """Products (with prices) and customers straight from the order system's database."""
    from ..handback import read_reference

    url = url or settings.ORDER_SYSTEM_DATABASE_URL
    try:
        products, customers = read_reference(url)
    except gateway.DB_ERRORS as exc:
        if not gateway.is_missing_table(exc):
            raise DomainError(
                OrderError.ORDER_SYSTEM_UNREADABLE, params={"error": str(exc)}
            ) from exc
        raise DomainError(OrderError.ORDER_SYSTEM_EMPTY) from exc
    if progress:
        progress(
            40,
            _("Read %(p)s products and %(c)s customers.")
            % {"p": len(products), "c": len(customers)},
        )
    with transaction.atomic():
        ids = catalog.upsert_products(
            products=[
                catalog.ProductData(
                    sku=p["sku"],
                    name=p["name"],
                    category=p["category"] or "",
                    unit=p["unit"] or "pcs",
                    active=bool(p["active"]),
                )
                for p in products
            ],
            by=by,
            reason="order system reference",
        ).ids
        ProductPrice.objects.bulk_create(
            [
                ProductPrice(product_id=ids[p["sku"]], price=Decimal(str(p["price"])))
                for p in products
            ],
            update_conflicts=True,
            unique_fields=["product"],
            update_fields=["price", "updated_at"],
            batch_size=2000,
        )
        Customer.objects.bulk_create(
            [
                Customer(
                    external_id=c["external_id"],
                    name=c["name"],
                    phone=c["phone"],
                    email=c["email"] or "",
                    city=c["city"] or "",
                    address=c["address"] or "",
                    vip=bool(c["vip"]),
                )
                for c in customers
            ],
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=["name", "phone", "email", "city", "address", "vip"],
            batch_size=2000,
        )
    return {"products": len(products), "customers": len(customers)}


def load_reference_from_latest_backup(
    *, by: User | None = None, progress: Progress | None = None
) -> dict[str, int]:
    """The same load, from the newest intact products and users backups (the backups app
    restores them into a throw-away database first), for when the order system is down."""
    from apps.backups.services import latest_backups_opened

    with latest_backups_opened(slugs=["products", "users"], progress=progress) as url:
        return load_reference_from_order_system(url=url, by=by, progress=progress)


class ReferenceSource(models.TextChoices):
    ORDER_SYSTEM = "order_system", _("the order system")
    BACKUP = "backup", _("the latest backups")


def start_reference_load(*, source: str, by: User) -> JobRecord:
    """Load products and customers on a worker, from the order system or its latest backups."""
    if source == ReferenceSource.BACKUP:
        return start_job(
            kind="manual_orders.load_reference",
            title=_("Load products and customers from the latest backups"),
            func="apps.manual_orders.jobs.load_reference_from_backup_job",
            kwargs={"user_id": by.pk},
            by=by,
        )
    return start_job(
        kind="manual_orders.load_reference",
        title=_("Load products and customers from the order system"),
        func="apps.manual_orders.jobs.load_reference_job",
        kwargs={"user_id": by.pk},
        by=by,
    )


def start_reference_import(*, imp: ReferenceImport, by: User) -> JobRecord:
    """Import a checked reference file on a worker (a whole catalogue can take a while)."""
    return start_job(
        kind="manual_orders.reference_import",
        title=event_message(events.IMPORT_TITLE, name=imp.original_name),
        func="apps.manual_orders.jobs.confirm_reference_import_job",
        kwargs={"import_id": imp.pk, "user_id": by.pk},
        by=by,
    )


def refresh_reference_import(*, imp: ReferenceImport) -> JobRecord | None:
    """The file's job as it stands now; a file whose job died says so (FAILED, with why)."""
    if imp.job is None:
        return None
    job = refresh_job_state(imp.job)
    if job.state == JobState.FAILED and mark_reference_failed(
        import_id=imp.pk, reason=job.error or str(_("Failed"))
    ):
        imp.refresh_from_db(fields=["state", "errors"])
    return job
