"""Documents of 出纳 and the bank (RULES §15): the monthly 银行存款余额调节表 (PDF/xlsx) and the 分红代发 batch file."""
from __future__ import annotations

from coop.core import clock
from coop.core.export_safety import workbook_bytes
from coop.core.text import N_
from coop.models import Organization
from coop.reports.pdf import render_pdf
from coop.reports.table import Column, ReportTable
from coop.reports.xlsx import new_sheet, render_xlsx, set_widths
from coop.services import bank
from coop.services.accounts import chart


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
    wb, ws = new_sheet("代发")
    for row in rows:
        ws.append([str(c) for c in row])
    set_widths(ws, (6, 8, 10, 22, 24, 14))
    return workbook_bytes(wb)


def request_table(req, names: dict[int, str]) -> ReportTable:
    """村级财务支出审批单: the request and each step's decision, as it is printed and filed with the voucher."""
    from coop.models.cash import REQUEST_STATUSES, STEPS
    from coop.ledger.roles import ROLE_BY_KEY
    from coop.core.numerals import amount_in_words

    t = ReportTable(N_("村级财务支出审批单"), [Column("item", N_("项目"), width=22), Column("value", N_("内容"), width=60)],
                    subtitle=[f"编号：{req.id}", f"状态：{REQUEST_STATUSES[req.status]}"],
                    filename=f"支出审批单-{req.id}")
    for label, value in (("经办人", req.handler), ("用途", req.purpose),
                         ("收款人", req.payee + ("（个人）" if req.payee_personal else "")),
                         ("金额", f"{req.amount:,.2f}（{amount_in_words(req.amount)}）"),
                         ("支出类别", ROLE_BY_KEY[req.category].label), ("支出日期", str(req.spent_on)),
                         ("原始单据", "、".join(s.filename for s in req.scans))):
        t.add([label, value])
    decided = {a.step: a for a in req.approvals}
    words = {"approve": "同意", "veto": "否决", "reject": "退回"}
    for step in req.steps:
        a = decided.get(step)
        text = "待审批" if a is None else " ".join(x for x in (
            words[a.decision], names.get(a.user_id, ""), clock.local(a.created_at).strftime("%Y-%m-%d") if a.created_at else "",
            a.reason or "", f"{a.meeting_date} {a.record}" if a.record else "") if x)
        t.add([STEPS[step], text])
    return t
