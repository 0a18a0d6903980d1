"""Spreadsheets an attacker (or a bad export) would upload, made in memory for tests and bench."""

from __future__ import annotations

import io
import zipfile

import openpyxl

ROW_XML = (
    b'<row><c t="inlineStr"><is><t>A-01</t></is></c>'
    b'<c t="inlineStr"><is><t>TEA-1</t></is></c><c><v>1</v></c></row>'
)


def zip_bomb_xlsx(rows: int = 3_000_000, row_xml: bytes = ROW_XML) -> bytes:
    """A valid workbook whose one sheet repeats a row ``rows`` times: 3,000,000 rows are
    ~1.1 MB zipped and ~330 MB of XML unpacked (the shape of the file in issue 12 §4)."""
    book = openpyxl.Workbook()
    book.active.append(["location", "sku", "quantity"])
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(info, data)
                continue
            head, _sep, rest = data.partition(b"<sheetData>")
            tail = rest.partition(b"</sheetData>")[2]
            with archive.open(info.filename, "w", force_zip64=True) as sheet:
                sheet.write(head + b"<sheetData>")
                block = row_xml * 10_000
                for _ in range(rows // 10_000):
                    sheet.write(block)
                sheet.write(row_xml * (rows % 10_000))
                sheet.write(b"</sheetData>" + tail)
    return out.getvalue()


def giant_row_xlsx(cells: int) -> bytes:
    """A workbook whose only row has ``cells`` empty cells (a few KB zipped)."""
    return zip_bomb_xlsx(1, row_xml=b"<row>" + b"<c/>" * cells + b"</row>")


def wide_xlsx(columns: int) -> bytes:
    """A workbook whose header row has ``columns`` columns."""
    book = openpyxl.Workbook()
    book.active.append([f"c{i}" for i in range(columns)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count_sheet_csv(
    rows: int, *, locations: list[str], skus: list[str], extra_columns: int = 0
) -> bytes:
    """``location,sku,quantity`` rows over every (location, sku) pair in turn, with
    ``extra_columns`` more columns of notes (which the import ignores)."""
    extra = [f"note{i}" for i in range(extra_columns)]
    lines = [",".join(["location", "sku", "quantity", *extra])]
    pairs = ((loc, sku) for loc in locations for sku in skus)
    for n, (loc, sku) in zip(range(rows), pairs, strict=False):
        notes = [f"n{n}-{i}" for i in range(extra_columns)]
        lines.append(",".join([loc, sku, str(n % 97), *notes]))
    return ("\n".join(lines) + "\n").encode()


def large_products_csv(megabytes: int = 21) -> bytes:
    """A products reference CSV of about ``megabytes`` MB (about 45,000 rows per MB)."""
    out = io.StringIO()
    out.write("sku,name,price,unit,active\n")
    n = 0
    while out.tell() < megabytes * 1024 * 1024:
        out.write(f"P-{n:07d},Tea {n},{n % 500}.50,box,1\n")
        n += 1
    return out.getvalue().encode()
