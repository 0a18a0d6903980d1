"""The readiness matrix as a spreadsheet, through core's formula-neutralising XLSX format."""

from __future__ import annotations

import tablib
from django.utils.translation import gettext as _

from apps.core import tabular

from .choices import CertificateStatus
from .selectors import Matrix


def matrix_dataset(matrix: Matrix) -> tablib.Dataset:
    labels = dict(CertificateStatus.choices)
    headers = [_("Person"), _("User name"), *[c.title for c in matrix.courses]]
    data = tablib.Dataset(headers=[str(h) for h in headers], title=str(_("Training readiness")))
    for row in matrix.rows:
        cells = []
        for status, expires in row.cells:
            if not status:
                cells.append("")
            elif expires is None:
                cells.append(str(labels[status]))
            else:
                cells.append(f"{labels[status]} ({expires.isoformat()})")
        data.append([row.user.get_full_name() or row.user.username, row.user.username, *cells])
    return data


def matrix_xlsx(matrix: Matrix) -> bytes:
    content = tabular.XLSX().export_data(matrix_dataset(matrix))
    return content if isinstance(content, bytes) else content.encode("utf-8")
