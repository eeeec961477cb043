"""The xlsx writer: a ReportTable → xlsx (render_xlsx), and the few pieces the row-by-row workbooks (register,
roll, roster, bank file) share. Amounts are numeric cells (Decimal written as is, never float) formatted
'#,##0.00'; every workbook is saved through coop.core.export_safety.workbook_bytes (formula-like text stays text)."""
from __future__ import annotations

from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from coop.core.export_safety import workbook_bytes
from coop.reports.table import ReportTable

MONEY_FORMAT = "#,##0.00"
UNITS_FORMAT = "#,##0.0000"
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="EEEEEE")


def new_sheet(title: str):
    """A workbook and its one sheet, named `title`."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    return wb, ws


def style_head(cells) -> None:
    """A header row as on the printed forms: bold, grey, centred."""
    for cell in cells:
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(horizontal="center")


def set_widths(ws, widths) -> None:
    """Column widths from column A on."""
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _text(value):
    """Control characters (possible in typed-in 摘要 or filters) are not allowed in xlsx cells."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def render_xlsx(t: ReportTable) -> bytes:
    wb, ws = new_sheet(_text(t.title)[:31])
    ncols = len(t.columns)

    # header block: title, then the subtitle spread left / centre / right as on the printed form
    ws.cell(1, 1, _text(t.title)).font = Font(size=16, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    for i, text in enumerate(t.subtitle):
        if i == 0:
            col, align = 1, "left"
        elif i == len(t.subtitle) - 1:
            col, align = ncols, "right"
        else:
            col, align = max(2, min(ncols - 1, round(ncols * i / (len(t.subtitle) - 1)))), "center"
        c = ws.cell(2, col, _text(text))
        c.alignment = Alignment(horizontal=align)
    row = 3

    # column headers, grouped columns over two rows with merged cells
    header_rows = t.header_rows()
    for r_i, hrow in enumerate(header_rows):
        col = 1
        for h in hrow:
            while _is_merged_below(ws, row + r_i, col):
                col += 1
            c = ws.cell(row + r_i, col, _text(h.label))
            if h.colspan > 1 or h.rowspan > 1:
                ws.merge_cells(start_row=row + r_i, start_column=col,
                               end_row=row + r_i + h.rowspan - 1, end_column=col + h.colspan - 1)
            col += h.colspan
    for r_i in range(len(header_rows)):
        for col in range(1, ncols + 1):
            c = ws.cell(row + r_i, col)
            c.font = Font(bold=True)
            c.fill = HEAD_FILL
            c.border = BORDER
            c.alignment = Alignment(horizontal="center", vertical="center")
    first_data = row + len(header_rows)

    for n, r in enumerate(t.rows):
        excel_row = first_data + n
        bold = r.style in ("subtotal", "total", "header")
        for i, col in enumerate(t.columns):
            value = r.cells[i]
            if col.is_money:
                # plain ledger columns leave zero blank, as the HTML and the paper books do
                if value is not None and not isinstance(value, Decimal):
                    raise TypeError(f"money cell {col.key} must be Decimal")
                if value == 0 and (not col.currency or r.style == "normal"):
                    value = None
            c = ws.cell(excel_row, i + 1, _text(value))
            c.border = BORDER
            c.font = Font(bold=bold)
            if col.is_money:
                c.number_format = MONEY_FORMAT
                c.alignment = Alignment(horizontal="right")
            elif col.indent and r.indent:
                c.alignment = Alignment(indent=r.indent)
            elif col.align == "center":
                c.alignment = Alignment(horizontal="center")

    row = first_data + len(t.rows) + 1
    for text in t.notes:
        ws.cell(row, 1, _text(text))
        row += 1
    if t.signatures:
        ws.cell(row, 1, _text("        ".join(t.signatures)))

    set_widths(ws, [col.width for col in t.columns])
    ws.freeze_panes = ws.cell(first_data, 1)
    ws.print_title_rows = f"{3}:{first_data - 1}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if t.landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return workbook_bytes(wb)


def _is_merged_below(ws, row: int, col: int) -> bool:
    """True if (row, col) is covered by a merge that started in an earlier row (a rowspan header)."""
    return any(m.min_row < row <= m.max_row and m.min_col <= col <= m.max_col for m in ws.merged_cells.ranges)
