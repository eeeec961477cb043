"""Documents of 出纳 and the bank (RULES §15): the monthly 银行存款余额调节表 (PDF/xlsx) and the 分红代发 batch file."""
from __future__ import annotations

import io

from ..i18n import N_
from ..models import Organization
from ..reports.pdf import render_pdf
from ..reports.table import Column, ReportTable
from ..reports.xlsx import render_xlsx
from ..services import bank
from ..services.accounts import chart


def reconciliation_table(org: Organization, code: str, year: int, month: int) -> ReportTable:
    """The 调节表 in its paper layout: the books on the left, the bank on the right, the 未达账项 under each."""
    s = bank.statement_for(org, code, year, month)
    name = chart(org).infos[code].name
    t = ReportTable(N_("银行存款余额调节表"), [
        Column("book_item", N_("项目（银行存款日记账）"), width=34), Column("book", N_("金额"), "money", width=16),
        Column("bank_item", N_("项目（银行对账单）"), width=34), Column("bank", N_("金额"), "money", width=16)],
        subtitle=[f"编制单位：{org.name}", f"{code} {name}　{year}年{month}月", "单位：元"],
        signatures=["会计主管：", "出纳：", "复核："], filename=f"银行存款余额调节表-{code}-{year}年{month}月")

    def items(rows):
        return [(f"　{i.date} {i.summary or i.reference or ''}".rstrip(), abs(i.amount)) for i in rows]

    t.add(["银行存款日记账余额", s.book_balance, "银行对账单余额", s.bank_balance], style="subtotal")
    for (left_title, left), (right_title, right) in (
            (("加：银行已收、企业未收", items(s.bank_in)), ("加：企业已收、银行未收", items(s.book_in))),
            (("减：银行已付、企业未付", items(s.bank_out)), ("减：企业已付、银行未付", items(s.book_out)))):
        t.add([left_title, None, right_title, None])
        for n in range(max(len(left), len(right))):
            l = left[n] if n < len(left) else ("", None)
            r = right[n] if n < len(right) else ("", None)
            t.add([l[0], l[1], r[0], r[1]])
    t.add(["调节后余额", s.adjusted_book, "调节后余额", s.adjusted_bank], style="total")
    t.notes.append("两方调节后余额一致。" if s.agrees else
                   f"两方调节后余额不一致，相差 {s.adjusted_bank - s.adjusted_book:.2f}，不能定稿。")
    return t


def reconciliation_pdf(org: Organization, code: str, year: int, month: int) -> bytes:
    return render_pdf(reconciliation_table(org, code, year, month))


def reconciliation_xlsx(org: Organization, code: str, year: int, month: int) -> bytes:
    return render_xlsx(reconciliation_table(org, code, year, month))


def batch_xlsx(rows: list[list]) -> bytes:
    """The 代发 file as the bank takes it: every cell text, so 身份证号 and 卡号 keep their digits."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "代发"
    for row in rows:
        ws.append([str(c) for c in row])
    for col, width in zip("ABCDEF", (6, 8, 10, 22, 24, 14)):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
