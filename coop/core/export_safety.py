"""Formula injection: text that begins with = + - @ tab or CR is a live formula (or DDE command) when a spreadsheet
opens the export. Every xlsx and CSV writer passes its cells through here, so an account name, 摘要 or member name
such as "=HYPERLINK(…)" stays the text it is.

xlsx: the cell is stored as a string (data type "s"), so the text round-trips unchanged. CSV has no cell types: the
text gets a leading apostrophe, as spreadsheets expect. Numbers, and amounts written as text ("-1234.50"), are left
alone."""
from __future__ import annotations

import io
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d[\d,]*(\.\d+)?%?$")


def risky(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.match(value)


def csv_cell(value):
    """The value to give csv.writer."""
    return "'" + value if risky(value) else value


def csv_row(values):
    return [csv_cell(v) for v in values]


def csv_dict(row: dict) -> dict:
    return {k: csv_cell(v) for k, v in row.items()}


def neutralise_workbook(wb) -> None:
    """Call right before saving: every text cell openpyxl would write as a formula is written as text."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                # openpyxl makes any text beginning with "=" a formula; other text cells are typed as strings,
                # which spreadsheets never evaluate
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.data_type = "s"


def workbook_bytes(wb) -> bytes:
    """The workbook saved as xlsx bytes, neutralised first: how every xlsx writer ends."""
    neutralise_workbook(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
