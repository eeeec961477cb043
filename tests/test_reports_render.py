"""Report tables with worked numbers, and their xlsx and PDF renderings (RULES §5, §11)."""
from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from decimal import Decimal
from functools import partial

import openpyxl
import pytest
from werkzeug.security import generate_password_hash

from coop.core.money import CENT
from coop.reports import REPORTS, ReportQuery, builders
from coop.reports.pdf import render_pdf, render_voucher_pdf
from coop.reports.xlsx import MONEY_FORMAT, render_xlsx

D = Decimal


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch):
    """The `books` users need no real scrypt cost."""
    from coop.services import users

    monkeypatch.setattr(users, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1"))


def post_with_counterparty(books, date, summary, *lines):
    """lines: (code, debit, credit, counterparty)."""
    from coop.services import vouchers

    v = vouchers.create_draft(books.org, {
        "date": dt.date.fromisoformat(date),
        "lines": [{"summary": summary, "account_code": c, "debit": D(d or 0), "credit": D(cr or 0), "counterparty": cp}
                  for c, d, cr, cp in lines],
    }, user=books.accountant)
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=books.accountant)
    return v


@pytest.fixture
def village(books):
    """Opening 101 1,200 + 10201 50,000 = 301 51,200; four vouchers in January and February 2025."""
    from coop.core.extensions import db
    from coop.services import accounts

    accounts.add_detail_account(books.org, "102", "10201", "农业银行")
    books.lock_opening({"101": "1200.00", "10201": "50000.00", "301": "-51200.00"})
    books.v1 = books.post("2025-01-05", ("101", "500.00", ""), ("10201", "", "500.00"), summary="提取现金")
    books.v2 = books.post("2025-01-10", ("10201", "12345.67", ""), ("501", "", "12345.67"), summary="收到承包费")
    books.v3 = books.post("2025-01-20", ("513", "300.00", ""), ("101", "", "300.00"), summary="购买办公用品")
    books.v4 = post_with_counterparty(books, "2025-02-03", "借给张三",
                                      ("112", "2000.00", "", "张三"), ("10201", "", "2000.00", None))
    books.v5 = post_with_counterparty(books, "2025-02-04", "借给李四",
                                      ("112", "800.00", "", "李四"), ("101", "", "800.00", None))
    db.session.commit()
    return books


def q(year=2025, mf=1, mt=2, **kw) -> ReportQuery:
    return ReportQuery(year, mf, mt, **kw)


def cells(t, row) -> dict:
    return {c.key: v for c, v in zip(t.columns, row.cells)}


def pdf_text(pdf: bytes, tmp_path, layout: bool = False) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def squeeze(text: str) -> str:
    """pdftotext may split spaced-out titles; compare without whitespace."""
    return re.sub(r"\s+", "", text)


# ------------------------------------------------------------------ tables


def test_trial_balance_rows_and_totals(village):
    t = builders.trial_balance(village.org, q())
    assert t.title == "科目余额表" and t.landscape
    assert t.subtitle == ["编制单位：东村股份经济合作社", "2025年1-2月", "单位：元"]
    cash = cells(t, t.find("code", "101"))
    assert (cash["opening_debit"], cash["debit"], cash["credit"], cash["closing_debit"], cash["closing_credit"]) == (
        D("1200.00"), D("500.00"), D("1100.00"), D("600.00"), D("0.00"))
    bank = t.find("code", "10201")
    assert bank.indent == 1 and cells(t, bank)["closing_debit"] == D("59845.67")
    capital = cells(t, t.find("code", "301"))
    assert capital["opening_credit"] == capital["closing_credit"] == D("51200.00")
    total = t.rows[-1]
    assert total.style == "total" and cells(t, total)["name"] == "合计"
    tot = cells(t, total)
    assert tot["opening_debit"] == tot["opening_credit"] == D("51200.00")
    # 500 + 12,345.67 + 300 + 2,000 + 800
    assert tot["debit"] == tot["credit"] == tot["ytd_debit"] == tot["ytd_credit"] == D("15945.67")
    assert tot["closing_debit"] == tot["closing_credit"] == D("63545.67")
    assert t.notes == ["试算平衡：借贷方合计相等。"]
    # accounts with nothing at all are left out
    assert all(cells(t, r)["code"] != "111" for r in t.rows)


def test_trial_balance_level_and_period(village):
    t = builders.trial_balance(village.org, q(level=1))
    assert [cells(t, r)["code"] for r in t.rows[:-1]] == ["101", "102", "112", "301", "501", "513"]
    feb = builders.trial_balance(village.org, q(mf=2, mt=2))
    bank = cells(feb, feb.find("code", "102"))
    assert bank["opening_debit"] == D("61845.67")  # 50,000 − 500 + 12,345.67 at 1 February
    assert (bank["debit"], bank["credit"]) == (D("0.00"), D("2000.00"))
    assert (bank["ytd_debit"], bank["ytd_credit"]) == (D("12345.67"), D("2500.00"))


def test_trial_balance_by_counterparty(village):
    t = builders.trial_balance(village.org, q(counterparty="张三"))
    assert "往来单位：张三" in t.subtitle
    rec = cells(t, t.find("code", "112"))
    assert rec["debit"] == D("2000.00") and rec["opening_debit"] == D("0.00")
    assert cells(t, t.rows[-1])["debit"] == D("2000.00")


def test_detail_ledger_running_balance(village):
    t = builders.detail_ledger(village.org, q(code="102"))
    assert "科目：102 银行存款" in t.subtitle
    got = [(cells(t, r)["month"], cells(t, r)["day"], cells(t, r)["voucher"], cells(t, r)["summary"],
            cells(t, r)["debit"], cells(t, r)["credit"], cells(t, r)["direction"], cells(t, r)["balance"], r.style)
           for r in t.rows]
    z = D("0.00")
    assert got == [
        (1, 1, "", "上年结转", z, z, "借", D("50000.00"), "normal"),
        (1, 5, "记-0001", "提取现金", z, D("500.00"), "借", D("49500.00"), "normal"),
        (1, 10, "记-0002", "收到承包费", D("12345.67"), z, "借", D("61845.67"), "normal"),
        (1, None, "", "本月合计", D("12345.67"), D("500.00"), "借", D("61845.67"), "subtotal"),
        (1, None, "", "本年累计", D("12345.67"), D("500.00"), "借", D("61845.67"), "total"),
        (2, 3, "记-0001", "借给张三", z, D("2000.00"), "借", D("59845.67"), "normal"),
        (2, None, "", "本月合计", z, D("2000.00"), "借", D("59845.67"), "subtotal"),
        (2, None, "", "本年累计", D("12345.67"), D("2500.00"), "借", D("59845.67"), "total"),
    ]
    assert t.rows[1].voucher_id == village.v1.id


def test_detail_ledger_credit_balance_and_later_start(village):
    t = builders.detail_ledger(village.org, q(mf=2, mt=2, code="301"))
    first = cells(t, t.rows[0])
    assert (first["summary"], first["direction"], first["balance"]) == ("期初余额", "贷", D("51200.00"))
    cash = builders.detail_ledger(village.org, q(mf=2, mt=2, code="101"))
    ytd = cells(cash, cash.rows[-1])
    # 本年累计 in February includes January: Dr 500, Cr 300 + 800
    assert (ytd["summary"], ytd["debit"], ytd["credit"], ytd["balance"]) == (
        "本年累计", D("500.00"), D("1100.00"), D("600.00"))


def test_detail_ledger_by_counterparty(village):
    t = builders.detail_ledger(village.org, q(code="112", counterparty="李四"))
    lines = [cells(t, r) for r in t.rows if r.voucher_id]
    assert [(l["summary"], l["debit"]) for l in lines] == [("借给李四", D("800.00"))]


def test_general_ledger(village):
    t = builders.general_ledger(village.org, q(code="102"))
    assert [cells(t, r)["summary"] for r in t.rows] == ["上年结转", "本月合计", "本年累计", "本月合计", "本年累计"]
    assert cells(t, t.rows[-1])["balance"] == D("59845.67")
    book = builders.general_ledger(village.org, q())
    headers = [cells(book, r)["summary"] for r in book.rows if r.style == "header"]
    assert headers == ["101 库存现金", "102 银行存款", "112 应收款", "301 资本", "501 经营收入", "513 管理费用"]


def test_journal(village):
    t = builders.journal(village.org, q())
    assert len(t.rows) == 5 * 2 + 1
    first, second = cells(t, t.rows[0]), cells(t, t.rows[1])
    assert (first["date"], first["voucher"], first["account"]) == ("2025-01-05", "记-0001", "101 库存现金")
    assert second["date"] is None and second["account"] == "10201 银行存款—农业银行"
    total = cells(t, t.rows[-1])
    assert total["debit"] == total["credit"] == D("15945.67")
    assert t.notes == ["共 5 张已记账凭证。"]


def test_statements(village):
    bs = builders.balance_sheet(village.org, q())
    assert bs.subtitle[1] == "2025年2月28日"
    cash = bs.find("label", "货币资金")
    assert cells(bs, cash)["line_no"] == 1
    assert (cells(bs, cash)["v0"], cells(bs, cash)["v1"]) == (D("51200.00"), D("60445.67"))
    assert bs.display(cash, 3) == "¥60,445.67"
    total = bs.find("label", "资产总计")
    claims = bs.find("label", "负债和所有者权益总计")
    assert cells(bs, total)["v1"] == cells(bs, claims)["v1"] == D("63245.67")
    assert total.style == "total" and bs.find("label", "流动资产：").style == "header"
    # an empty item line stays blank; a nil subtotal still shows ¥0.00
    assert bs.display(bs.find("label", "短期投资"), 3) == ""
    assert bs.display(bs.find("label", "负债合计"), 3) == "¥0.00"
    assert bs.notes == []

    inc = builders.income_statement(village.org, q(mf=1, mt=1))
    assert [c.label for c in inc.columns] == ["项目", "行次", "本期金额", "本年累计"]
    assert cells(inc, inc.find("label", "二、经营收益"))["v0"] == D("12045.67")
    assert inc.display(inc.find("label", "管理费用"), 2) == "¥300.00"


def test_red_voucher_amounts_are_negative_in_the_journal(village):
    from coop.services import vouchers

    red = vouchers.reverse_voucher(village.v3, user=village.accountant, date=dt.date(2025, 2, 6))
    vouchers.review_voucher(red, user=village.reviewer)
    vouchers.post_voucher(red, user=village.accountant)
    t = builders.journal(village.org, q(mf=2, mt=2))
    row = next(r for r in t.rows if r.voucher_id == red.id)
    assert cells(t, row)["debit"] == D("-300.00")
    assert t.is_negative(row, t.column_index("debit"))
    assert t.display(row, t.column_index("debit")) == "-300.00"


def test_every_report_is_registered(village):
    assert set(REPORTS) == {"trial-balance", "general-ledger", "detail-ledger", "journal", "balance-sheet",
                            "income-statement"}
    for spec in REPORTS.values():
        t = spec.build(village.org, q(code="102" if spec.takes("code") else None))
        assert t.rows and t.title == spec.title


# ------------------------------------------------------------------ xlsx


def money(x) -> Decimal:
    return Decimal(str(x)).quantize(CENT)  # openpyxl reads numbers back as float


def test_xlsx_trial_balance_reads_back(village):
    t = builders.trial_balance(village.org, q())
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(t)))
    ws = wb.active
    assert ws["A1"].value == "科目余额表" and ws["A1"].font.bold
    assert ws["A2"].value == "编制单位：东村股份经济合作社"
    assert ws.cell(2, len(t.columns)).value == "单位：元"
    # grouped header: 期初余额 over 借方/贷方, merged
    assert ws["C3"].value == "期初余额" and ws["C4"].value == "借方" and ws["D4"].value == "贷方"
    assert "C3:D3" in {str(r) for r in ws.merged_cells.ranges}
    rows = {ws.cell(r, 1).value: r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value}
    r = rows["10201"]
    assert ws.cell(r, 2).value == "农业银行" and ws.cell(r, 2).alignment.indent == 1
    assert money(ws.cell(r, 3).value) == D("50000.00")
    assert money(ws.cell(r, 5).value) == D("12345.67")
    assert money(ws.cell(r, 9).value) == D("59845.67")
    assert ws.cell(r, 9).data_type == "n" and ws.cell(r, 9).number_format == MONEY_FORMAT
    assert ws.cell(r, 4).value is None  # no credit opening balance: blank, as on the paper book
    total = next(i for i in range(5, ws.max_row + 1) if ws.cell(i, 2).value == "合计")
    assert ws.cell(total, 5).font.bold
    assert [money(ws.cell(total, c).value) for c in range(3, 11)] == [
        D("51200.00"), D("51200.00"), D("15945.67"), D("15945.67"), D("15945.67"), D("15945.67"),
        D("63545.67"), D("63545.67")]
    assert ws.column_dimensions["B"].width == 24
    assert ws.page_setup.orientation == "landscape"


def test_xlsx_statement_and_ledger(village):
    bs = builders.balance_sheet(village.org, q())
    ws = openpyxl.load_workbook(io.BytesIO(render_xlsx(bs))).active
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "资产总计")
    assert money(ws.cell(row, 4).value) == D("63245.67") and ws.cell(row, 1).font.bold
    dl = builders.detail_ledger(village.org, q(code="102"))
    ws = openpyxl.load_workbook(io.BytesIO(render_xlsx(dl))).active
    assert ws["A3"].value == "2025年" and ws["A4"].value == "月"
    balances = [money(ws.cell(r, 8).value) for r in range(5, ws.max_row + 1) if ws.cell(r, 7).value == "借"]
    assert balances[:3] == [D("50000.00"), D("49500.00"), D("61845.67")]


def test_xlsx_refuses_float_money():
    from coop.reports.table import Column, ReportTable

    t = ReportTable("x", [Column("a", "金额", "money")])
    t.add([1.5])
    with pytest.raises(TypeError):
        render_xlsx(t)


# ------------------------------------------------------------------ PDF


def test_report_pdf(village, app, tmp_path):
    with app.test_request_context():
        pdf = render_pdf(builders.balance_sheet(village.org, q()))
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    assert "资产负债表" in squeeze(text)
    assert "编制单位：东村股份经济合作社" in text
    assert "¥60,445.67" in text and "¥63,245.67" in text
    assert "第1页/共1页" in squeeze(text)


def test_ledger_pdf_is_landscape_with_plain_amounts(village, app, tmp_path):
    with app.test_request_context():
        pdf = render_pdf(builders.trial_balance(village.org, q()))
    text = pdf_text(pdf, tmp_path)
    assert "科目余额表" in squeeze(text)
    assert "15,945.67" in text and "¥" not in text
    path = tmp_path / "out.pdf"
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert width > height  # A4 landscape


def test_long_report_repeats_header_on_every_page(village, app, tmp_path):
    from coop.reports.table import Column, ReportTable

    t = ReportTable("测试长表", [Column("a", "摘要"), Column("b", "金额", "money")])
    for i in range(150):
        t.add([f"第{i}行", D("1.00")])
    with app.test_request_context():
        pdf = render_pdf(t)
    text = pdf_text(pdf, tmp_path)
    pages = text.split("\f")
    assert len([p for p in pages if p.strip()]) >= 3
    assert all("摘要" in p for p in pages if p.strip())
    assert "共3页" in squeeze(text) or "共4页" in squeeze(text)


def test_voucher_pdf(village, app, tmp_path):
    with app.test_request_context():
        pdf = render_voucher_pdf(village.org, village.v2)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    flat = squeeze(text)
    assert "记账凭证" in flat
    assert "单位：东村股份经济合作社" in flat
    assert "2025年01月10日" in flat and "记字第0002号" in flat
    assert "合计：人民币壹万贰仟叁佰肆拾伍元陆角柒分" in flat
    assert "10201银行存款—农业银行" in flat and "501经营收入" in flat
    assert "¥12,345.67" in text and "12,345.67" in text
    assert "记账：王会计" in flat and "审核：李主任" in flat and "制单：王会计" in flat
    assert "红字" not in flat


def test_a_generated_voucher_names_who_acted(village, app, tmp_path):
    """RULES §3: a system voucher (the year-end carry-over) is printed in the name of the person who acted,
    never "系统生成" alone — as the voucher page shows it."""
    from coop.services import closing

    village.close_through(2025, 11)
    made = closing.carry_over(village.org, 2025, user=village.accountant, today=dt.date(2025, 12, 5))
    with app.test_request_context():
        pdf = render_voucher_pdf(village.org, made[0])
    flat = squeeze(pdf_text(pdf, tmp_path))
    assert "制单：王会计（系统生成）" in flat and "记账：王会计" in flat


def test_red_voucher_pdf(village, app, tmp_path):
    from coop.services import vouchers

    red = vouchers.reverse_voucher(village.v3, user=village.accountant, date=dt.date(2025, 2, 6))
    vouchers.review_voucher(red, user=village.reviewer)
    with app.test_request_context():
        pdf = render_voucher_pdf(village.org, red)
    flat = squeeze(pdf_text(pdf, tmp_path))
    assert "红字" in flat and "-300.00" in flat
    assert "合计：人民币负叁佰元整" in flat
    assert "已审核" in flat  # not yet posted: the status is printed


def test_xlsx_drops_control_characters():
    from coop.reports.table import Column, ReportTable

    t = ReportTable("测试", [Column("a", "摘要")], subtitle=["编制单位：东村\x1b"])
    t.add(["收到\x07承包费"])
    ws = openpyxl.load_workbook(io.BytesIO(render_xlsx(t))).active
    assert (ws["A2"].value, ws["A4"].value) == ("编制单位：东村", "收到承包费")


@pytest.mark.parametrize("months", [(1, 12), (1, 1), (2, 2), (2, 12), (3, 5)])
def test_general_ledgers_are_the_detail_ledgers_without_their_lines(village, months):
    """The 总账 of every account, read once for them all, is each account's 明细账 without the line rows."""
    from coop.services import accounts
    from coop.services import reports as data

    codes = [a.code for a in accounts.accounts_of(village.org)]
    got = data.general_ledgers(village.org, codes, 2025, *months)
    assert set(got) == set(codes)
    for code in codes:
        expected = [r for r in data.detail_ledger(village.org, code, 2025, *months) if r.kind != "line"]
        assert got[code] == expected, code
    # worked: 102 银行存款 in January — opening 50,000; debit 12,345.67 (承包费), credit 500 (提取现金)
    if months == (1, 1):
        opening, month, year = got["102"]
        assert (opening.balance, month.debit, month.credit, month.balance) == (
            D("50000.00"), D("12345.67"), D("500.00"), D("61845.67"))
        assert (year.debit, year.credit) == (D("12345.67"), D("500.00"))
