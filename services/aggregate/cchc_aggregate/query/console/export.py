"""Tables as files: CSV in UTF-8 with a byte-order mark (so Excel reads Vietnamese correctly)
and XLSX (openpyxl). Numbers stay numbers: the CSV writes them plainly ("1972", "10.09"), the
XLSX as numeric cells with a display format, so a spreadsheet can add them up."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from cchc_aggregate.query.console.i18n import Lang
from cchc_aggregate.query.console.page import Table

BOM = "\ufeff"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def to_csv(table: Table, lang: Lang) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers(lang))
    for row in table.rows:
        writer.writerow(["" if v is None else _plain(v) for v in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Table, lang: Lang) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.name[:31]
    sheet.append(table.headers(lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_plain(v) for v in row])
    for index, column in enumerate(table.columns, start=1):
        if column.numeric:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "#,##0.##"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
