"""Reading uploaded spreadsheets (django-import-export formats), shared by every import.

Chinese Excel saves CSV as GBK, others as UTF-8 with or without a BOM: the text is decoded
here once, the same way for every app, and an unreadable file becomes a translated message.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _
from import_export.formats import base_formats

from .errors import DomainError

IMPORT_FORMATS: tuple[type[base_formats.Format], ...] = (base_formats.CSV, base_formats.XLSX)
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")


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


def decode_text(content: bytes) -> str:
    """UTF-8 (with or without a BOM), else GB18030 (a superset of GBK/GB2312)."""
    for encoding in TEXT_ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError(
        _("The file's text encoding is not recognised. Save it as CSV UTF-8 (or GBK) and retry.")
    )


def read_dataset(content: bytes, input_format: str):
    """A tablib Dataset from an uploaded file in one of the import formats."""
    fmt = format_by_name(input_format)
    if fmt is None:
        raise ValueError(input_format)
    if fmt.is_binary():
        return fmt.create_dataset(content)
    return fmt.create_dataset(decode_text(content))
