"""Spreadsheets in and out (django-import-export formats), shared by every import and export.

Reading: an uploaded CSV or XLSX is streamed row by row and checked against the upload limits
(``UPLOAD_MAX_ROWS``, ``UPLOAD_MAX_COLUMNS``, ``UPLOAD_MAX_UNCOMPRESSED_BYTES``) *while* it is
read, so a hostile file (a zip bomb, millions of rows) is refused before anything large is built
in memory. Chinese Excel saves CSV as GBK, others as UTF-8 with or without a BOM: the text is
decoded here once, the same way for every app. Whatever goes wrong, the answer is one
translated message, "The file could not be read: <why>".

Writing: every export format here (and the admin's, through ``EXPORT_FORMATS``) neutralises
cells that a spreadsheet would run as a formula, in ``neutralise_cell``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

import tablib
from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Length, Substr
from django.utils.translation import gettext as _
from import_export.formats import base_formats

from .errors import CoreError, DomainError

TEXT_ENCODINGS = ("utf-8-sig", "gb18030")
# A real workbook has a dozen parts; thousands of them only make the zip directory itself large.
MAX_ZIP_MEMBERS = 1000
# Parts that openpyxl loads whole (styles, workbook, relationships…) stay small in real files.
MAX_WHOLE_PART_BYTES = 8 * 1024 * 1024
# Excel's own column count: a row with more cells than this (even empty ones) is not from Excel.
EXCEL_MAX_CELLS_PER_ROW = 16_384
PROGRESS_EVERY_ROWS = 10_000
XML_CHUNK = 1 << 16


# --- writing: formulas never leave the house ------------------------------------------------------
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``, tab, CR first)
    gets a leading apostrophe, so it is shown as the text it is. Numbers stay numbers: only
    strings change, and a string that is just a number (``-3.50``) is no formula either."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_TRIGGERS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def neutralised(dataset: tablib.Dataset) -> tablib.Dataset:
    """A copy of the dataset with every cell (and header) passed through ``neutralise_cell``."""
    safe = tablib.Dataset(title=dataset.title)
    if dataset.headers:
        safe.headers = [neutralise_cell(h) for h in dataset.headers]
    for row in dataset:
        safe.append([neutralise_cell(v) for v in row])
    return safe


class SafeExportFormat:
    """Mixed into a django-import-export format: exports neutralise formulas."""

    def export_data(self, dataset, **kwargs):
        return super().export_data(neutralised(dataset), **kwargs)  # type: ignore[misc]


class CSV(SafeExportFormat, base_formats.CSV):
    pass


class XLSX(SafeExportFormat, base_formats.XLSX):
    pass


class JSON(SafeExportFormat, base_formats.JSON):
    pass


class TSV(SafeExportFormat, base_formats.TSV):
    pass


IMPORT_FORMATS: tuple[type[base_formats.Format], ...] = (CSV, XLSX)
# What the admin offers (settings.EXPORT_FORMATS points here): every one of them is safe.
EXPORT_FORMATS: tuple[type[base_formats.Format], ...] = (CSV, XLSX, TSV, JSON)


def available_formats(
    candidates: Sequence[type[base_formats.Format]] = IMPORT_FORMATS,
) -> list[type[base_formats.Format]]:
    """The candidates whose library is installed (XLSX needs openpyxl)."""
    return [f for f in candidates if f().is_available()]


def format_by_name(
    name: str, candidates: Sequence[type[base_formats.Format]] = IMPORT_FORMATS
) -> base_formats.Format | None:
    for fmt in available_formats(candidates):
        if fmt().get_title() == name.lower():
            return fmt()
    return None


# An uploaded file is read from its row in pieces of this size (see ``stored_upload``).
STORED_UPLOAD_CHUNK_BYTES = 1024 * 1024


def stored_upload(queryset: QuerySet, field: str = "content") -> bytes:
    """The bytes of the one row's binary ``field``, read from the database in 1 MiB pieces.

    Fetched whole, a 20 MB file costs a worker five times its size at once (PostgreSQL sends a
    bytea as hex text, which the driver holds beside the decoded bytes): reading it in pieces
    keeps the fetch to the file's own size, so a check at the upload limits stays in its budget.
    """
    size = queryset.annotate(_size=Length(field)).values_list("_size", flat=True).get()
    pieces = [
        bytes(
            queryset.annotate(_piece=Substr(field, start, STORED_UPLOAD_CHUNK_BYTES))
            .values_list("_piece", flat=True)
            .get()
        )
        for start in range(1, (size or 0) + 1, STORED_UPLOAD_CHUNK_BYTES)
    ]
    return b"".join(pieces)


def export_content(resource, queryset, fmt: base_formats.Format) -> bytes:
    """The one way an app exports: the resource's rows in ``fmt``, formulas neutralised, native
    numbers and dates in binary formats (a spreadsheet then sums them), CSV with a BOM so Excel
    reads UTF-8 (Chinese) text correctly."""
    if not issubclass(type(fmt), SafeExportFormat):  # (no isinstance: keep fmt's Format type)
        raise TypeError(f"{type(fmt).__name__} is not a safe export format")
    dataset = resource.export(queryset, force_native_type=fmt.is_binary())
    content = fmt.export_data(dataset)
    if isinstance(content, str):
        bom = "\ufeff" if fmt.get_title() in ("csv", "tsv") else ""
        content = (bom + content).encode("utf-8")
    return content


# --- reading: bounded while streaming -------------------------------------------------------------
@dataclass(frozen=True)
class UploadLimits:
    max_rows: int
    max_columns: int
    max_cells: int
    max_uncompressed_bytes: int

    @classmethod
    def from_settings(cls) -> UploadLimits:
        return cls(
            max_rows=settings.UPLOAD_MAX_ROWS,
            max_columns=settings.UPLOAD_MAX_COLUMNS,
            max_cells=settings.UPLOAD_MAX_CELLS,
            max_uncompressed_bytes=settings.UPLOAD_MAX_UNCOMPRESSED_BYTES,
        )


class UnreadableFile(DomainError):
    """The uploaded file was refused; the message says why, in the user's language."""

    def __init__(self, why: Any) -> None:
        super().__init__(CoreError.UNREADABLE_FILE, params={"why": why})
        self.why = why


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f}"


def refuse_oversized_upload(size: int) -> None:
    """The upload forms' size check: the same limit the checking job applies.

    A file above it would only be stored and then refused by the job, so the form answers at once.
    """
    from django.core.exceptions import ValidationError

    limit = settings.UPLOAD_MAX_UNCOMPRESSED_BYTES
    if size > limit:
        raise ValidationError(
            _("The file is larger than %(max)s MB, the limit for an upload.")
            % {"max": _megabytes(limit)}
        )


def detect_encoding(content: bytes) -> str:
    """UTF-8 (with or without a BOM), else GB18030 (a superset of GBK/GB2312), found by
    decoding in chunks without keeping the text."""
    for encoding in TEXT_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            view = memoryview(content)
            for start in range(0, len(view), 1 << 20):
                decoder.decode(view[start : start + (1 << 20)])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnreadableFile(
        _("its text encoding is not recognised. Save it as CSV UTF-8 (or GBK) and retry.")
    )


def decode_text(content: bytes) -> str:
    """The whole text of a small CSV (UTF-8 or GB18030)."""
    return content.decode(detect_encoding(content))


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    stream = io.TextIOWrapper(io.BytesIO(content), encoding=detect_encoding(content), newline="")
    try:
        yield from csv.reader(stream)
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise UnreadableFile(
                _("a cell holds more than %(max)s characters.") % {"max": csv.field_size_limit()}
            ) from exc
        raise UnreadableFile(_("it is not valid CSV (%(detail)s).") % {"detail": exc}) from exc


def _zip_member_count(content: bytes) -> int | None:
    """The member count from the zip's end record, read before the directory is parsed."""
    tail = content[-(65536 + 22) :]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    return int.from_bytes(tail[at + 10 : at + 12], "little")


def _too_many_rows(limits: UploadLimits) -> UnreadableFile:
    return UnreadableFile(
        _("it has more than %(max)s rows, the limit for an upload. Split it into smaller files.")
        % {"max": f"{limits.max_rows:,}"}
    )


def _too_many_cells(limits: UploadLimits) -> UnreadableFile:
    return UnreadableFile(
        _(
            "it has more than %(max)s cells (rows × columns), the limit for an upload. "
            "Split it into smaller files."
        )
        % {"max": f"{limits.max_cells:,}"}
    )


def _scan_xml(archive: zipfile.ZipFile, name: str, start: Callable[[str], None]) -> None:
    """Stream one part through expat (constant memory), calling ``start`` with each tag."""
    import xml.parsers.expat

    def no_doctype(*_args) -> None:  # a spreadsheet part never declares entities
        raise UnreadableFile(
            _("the workbook is damaged or incomplete (%(detail)s).") % {"detail": "DOCTYPE"}
        )

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = lambda tag, _attrs: start(tag.rpartition(":")[2])
    parser.StartDoctypeDeclHandler = no_doctype
    with archive.open(name) as part:
        while chunk := part.read(XML_CHUNK):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _check_workbook_archive(content: bytes, limits: UploadLimits) -> None:
    """Before openpyxl builds anything: the zip's declared sizes (Python's zipfile never returns
    more than a member declares), then a streaming pass over the sheets and shared strings that
    counts rows, cells and strings, so one giant row or a million tiny strings is refused too."""
    count = _zip_member_count(content)
    if count is None or not zipfile.is_zipfile(io.BytesIO(content)):
        raise UnreadableFile(
            _("it is not an Excel workbook (.xlsx). Save it from Excel as .xlsx or as CSV.")
        )
    if count >= min(MAX_ZIP_MEMBERS, 0xFFFF):
        raise UnreadableFile(
            _("the workbook has more than %(max)s parts; it is not a normal Excel file.")
            % {"max": MAX_ZIP_MEMBERS}
        )
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        members = archive.infolist()
        unpacked = sum(info.file_size for info in members)
        if unpacked > limits.max_uncompressed_bytes:
            raise UnreadableFile(
                _(
                    "it unpacks to more than %(max)s MB, the limit for an upload. "
                    "Split it into smaller files."
                )
                % {"max": _megabytes(limits.max_uncompressed_bytes)}
            )
        for info in members:
            name = info.filename.lower()
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                _scan_sheet(archive, info.filename, limits)
            elif name.endswith("sharedstrings.xml"):
                _scan_shared_strings(archive, info.filename, limits)
            elif name.endswith((".xml", ".rels", ".vml")) and info.file_size > (
                MAX_WHOLE_PART_BYTES
            ):
                raise UnreadableFile(
                    _("its part %(name)s is larger than %(max)s MB; it is not a normal Excel file.")
                    % {"name": info.filename, "max": _megabytes(MAX_WHOLE_PART_BYTES)}
                )


def _scan_sheet(archive: zipfile.ZipFile, name: str, limits: UploadLimits) -> None:
    state = {"rows": 0, "cells": 0, "in_row": 0}

    def start(tag: str) -> None:
        if tag == "row":
            state["rows"] += 1
            state["in_row"] = 0
            if state["rows"] > limits.max_rows + 1:  # + the header row
                raise _too_many_rows(limits)
        elif tag == "c":
            state["in_row"] += 1
            state["cells"] += 1
            if state["in_row"] > EXCEL_MAX_CELLS_PER_ROW:
                raise UnreadableFile(
                    _("row %(row)s has more than %(max)s cells; it is not a normal Excel file.")
                    % {"row": f"{state['rows']:,}", "max": f"{EXCEL_MAX_CELLS_PER_ROW:,}"}
                )
            if state["cells"] > limits.max_cells + EXCEL_MAX_CELLS_PER_ROW:
                raise _too_many_cells(limits)

    _scan_xml(archive, name, start)


def _scan_shared_strings(archive: zipfile.ZipFile, name: str, limits: UploadLimits) -> None:
    state = {"strings": 0}

    def start(tag: str) -> None:
        if tag == "si":
            state["strings"] += 1
            if state["strings"] > limits.max_cells + EXCEL_MAX_CELLS_PER_ROW:
                raise _too_many_cells(limits)

    _scan_xml(archive, name, start)


def _xlsx_rows(content: bytes, limits: UploadLimits) -> Iterator[Sequence[Any]]:
    import openpyxl
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    _check_workbook_archive(content, limits)
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheet = book.active
        if not isinstance(sheet, ReadOnlyWorksheet):
            sheet = next((s for s in book.worksheets if isinstance(s, ReadOnlyWorksheet)), None)
        if sheet is None:
            raise UnreadableFile(_("the workbook has no worksheet."))
        # The declared dimension may claim 16,384 columns: rows are read as they are instead.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True)
    finally:
        book.close()


def _is_blank(value: Any) -> bool:
    return value is None or value == ""


def _trimmed(values: Sequence[Any]) -> list[Any]:
    end = len(values)
    while end and _is_blank(values[end - 1]):
        end -= 1
    return list(values[:end])


def read_dataset(
    content: bytes,
    input_format: str,
    *,
    limits: UploadLimits | None = None,
    progress: Callable[..., Any] | None = None,
) -> tablib.Dataset:
    """A tablib Dataset from an uploaded file in one of the import formats, within the limits.

    The first row is the header; blank rows are skipped; rows are numbered from the first line
    under the header, as the pages show them. Raises ``UnreadableFile`` (a ``DomainError``).
    """
    limits = limits or UploadLimits.from_settings()
    fmt = format_by_name(input_format)
    if fmt is None:
        raise UnreadableFile(_("this file format is not supported (CSV or XLSX)."))
    if len(content) == 0:
        raise UnreadableFile(_("it is empty."))
    try:
        if fmt.is_binary():
            rows: Iterator[Sequence[Any]] = _xlsx_rows(content, limits)
            filler: Any = None
        else:
            if len(content) > limits.max_uncompressed_bytes:
                raise UnreadableFile(
                    _("it is larger than %(max)s MB, the limit for an upload.")
                    % {"max": _megabytes(limits.max_uncompressed_bytes)}
                )
            rows = _csv_rows(content)
            filler = ""
        return _bounded_dataset(rows, limits, filler=filler, progress=progress)
    except DomainError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, EOFError, ExpatError) as exc:
        raise UnreadableFile(
            _("the workbook is damaged or incomplete (%(detail)s).")
            % {"detail": str(exc) or type(exc).__name__}
        ) from exc
    except MemoryError as exc:  # pragma: no cover - the limits are there to avoid it
        raise UnreadableFile(_("it needs more memory than the server has.")) from exc
    except Exception as exc:  # noqa: BLE001 - any other reason is still named
        raise UnreadableFile(str(exc) or type(exc).__name__) from exc


def _bounded_dataset(
    rows: Iterator[Sequence[Any]],
    limits: UploadLimits,
    *,
    filler: Any,
    progress: Callable[..., Any] | None,
) -> tablib.Dataset:
    dataset = tablib.Dataset()
    width: int | None = None
    for number, raw in enumerate(rows):  # 0 is the header row
        if number > limits.max_rows:
            raise _too_many_rows(limits)
        values = _trimmed(raw)
        if len(values) > limits.max_columns:
            where = (
                _("The header row") if number == 0 else _("Row %(row)s") % {"row": f"{number:,}"}
            )
            raise UnreadableFile(
                _("%(where)s has more than %(max)s columns, the limit for an upload.")
                % {"where": where, "max": limits.max_columns}
            )
        if width is None:
            if not values:
                raise UnreadableFile(_("its first row (the header) is empty."))
            dataset.headers = ["" if h is None else h for h in values]
            width = len(values)
            continue
        if all(_is_blank(v) for v in values):
            continue
        if len(values) > width:
            raise UnreadableFile(
                _("row %(row)s has more cells (%(n)s) than the header row (%(width)s).")
                % {"row": f"{number:,}", "n": len(values), "width": width}
            )
        values.extend([filler] * (width - len(values)))
        if (len(dataset) + 1) * width > limits.max_cells:
            raise _too_many_cells(limits)
        dataset.append(values)
        if progress is not None and number % PROGRESS_EVERY_ROWS == 0:
            progress(None, _("Reading the file: %(n)s rows") % {"n": f"{number:,}"})
    if width is None:
        raise UnreadableFile(_("it is empty."))
    return dataset
