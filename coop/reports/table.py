"""ReportTable: one neutral shape for every report, rendered as HTML, PDF and xlsx by the same layout.

Money cells hold Decimal (never str or float); formatting happens only at render time, so the xlsx gets
numbers and the HTML/PDF get '¥1,234.56' or '1,234.56'.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from coop.core.i18n import format_amount, format_yuan

ROW_STYLES = ("normal", "subtotal", "total", "header")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    type: str = "text"  # text | money
    #: money only: '¥1,234.56' (statements) or plain '1,234.56', blank for zero (ledger columns)
    currency: bool = False
    #: a label spanning several adjacent columns above their own labels, e.g. 期初余额 over 借方/贷方
    group: str = ""
    #: xlsx width in characters (CJK characters count about 2)
    width: int = 12
    #: rows are indented in this column by their `indent`
    indent: bool = False
    align: str = "left"  # text columns: left | center

    @property
    def is_money(self) -> bool:
        return self.type == "money"


@dataclass
class Row:
    cells: list[Any]
    style: str = "normal"  # normal | subtotal | total | header
    indent: int = 0
    #: the voucher behind the row, if any (the HTML page links it to its printed form)
    voucher_id: int | None = None


@dataclass(frozen=True)
class HeaderCell:
    label: str
    colspan: int = 1
    rowspan: int = 1


@dataclass
class ReportTable:
    title: str
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    #: lines under the title: 编制单位, 期间, 单位：元 (laid out left, centre, right)
    subtitle: list[str] = field(default_factory=list)
    #: lines under the table (balance checks, filters in effect)
    notes: list[str] = field(default_factory=list)
    #: signature line of the printed form
    signatures: list[str] = field(default_factory=list)
    landscape: bool = False
    #: short name for download file names, e.g. "科目余额表-2025年1月"
    filename: str = ""

    def add(self, cells: dict[str, Any] | list[Any], style: str = "normal", indent: int = 0,
            voucher_id: int | None = None) -> Row:
        if isinstance(cells, dict):
            unknown = set(cells) - {c.key for c in self.columns}
            if unknown:
                raise KeyError(f"unknown columns {unknown}")
            cells = [cells.get(c.key) for c in self.columns]
        if style not in ROW_STYLES:
            raise ValueError(style)
        row = Row(list(cells), style, indent, voucher_id)
        self.rows.append(row)
        return row

    def column_index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    def cell(self, row: Row, key: str) -> Any:
        return row.cells[self.column_index(key)]

    def find(self, key: str, value: Any) -> Row:
        """The first row whose column `key` holds `value` (for tests and callers)."""
        i = self.column_index(key)
        return next(r for r in self.rows if r.cells[i] == value)

    @property
    def has_groups(self) -> bool:
        return any(c.group for c in self.columns)

    def header_rows(self) -> list[list[HeaderCell]]:
        """One header row, or two when columns are grouped (ungrouped labels then span both rows)."""
        if not self.has_groups:
            return [[HeaderCell(c.label) for c in self.columns]]
        top: list[HeaderCell] = []
        bottom: list[HeaderCell] = []
        i = 0
        while i < len(self.columns):
            c = self.columns[i]
            if not c.group:
                top.append(HeaderCell(c.label, rowspan=2))
                i += 1
                continue
            j = i
            while j < len(self.columns) and self.columns[j].group == c.group:
                bottom.append(HeaderCell(self.columns[j].label))
                j += 1
            top.append(HeaderCell(c.group, colspan=j - i))
            i = j
        return [top, bottom]

    def display(self, row: Row, index: int) -> str:
        """The text of one cell as HTML and PDF show it."""
        col, value = self.columns[index], row.cells[index]
        if value is None:
            return ""
        if not col.is_money:
            return str(value)
        if col.currency:
            # Statements: blank item lines stay blank; subtotals and totals always show their amount.
            if value == 0 and row.style == "normal":
                return ""
            return format_yuan(value)
        return format_amount(value)

    def is_negative(self, row: Row, index: int) -> bool:
        value = row.cells[index]
        return isinstance(value, Decimal) and value < 0
