"""辅助核算 (RULES §2): every line on 112/113/201/211/221 names a counterparty; balances by counterparty are gross."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.models import Voucher
from coop.services import reports, vouchers
from tests.conftest import count

D = Decimal


def _data(*lines):
    return {"date": dt.date(2025, 3, 1), "lines": [
        {"summary": "往来", "account_code": c, "debit": D(d or 0), "credit": D(cr or 0), "counterparty": cp}
        for c, d, cr, cp in lines]}


@pytest.mark.parametrize("code", ["112", "113", "201", "211", "221"])
def test_lines_on_counterparty_accounts_need_one(books, code):
    books.lock_opening({"102": "1000.00", "301": "-1000.00"})
    with pytest.raises(ValidationFailed) as e:
        vouchers.create_draft(books.org, _data((code, "10.00", "", "  "), ("102", "", "10.00", None)),
                              user=books.accountant)
    assert list(e.value.errors["lines"]) == [0] and "往来单位" in e.value.errors["lines"][0]["counterparty"][0]
    db.session.rollback()
    assert count(Voucher) == 0
    v = vouchers.create_draft(books.org, _data((code, "10.00", "", "青山农资站"), ("102", "", "10.00", None)),
                              user=books.accountant)
    assert v.lines[0].counterparty == "青山农资站"


def test_api_and_web_name_the_line_field(books, client, auth):
    books.lock_opening({"102": "1000.00", "301": "-1000.00"})
    r = client.post(f"/api/v1/orgs/{books.org.id}/vouchers", headers=auth.headers(books.accountant), json={
        "date": "2025-03-01", "lines": [{"summary": "借支", "account_code": "112", "debit": "5.00"},
                                        {"summary": "借支", "account_code": "102", "credit": "5.00"}]})
    assert r.status_code == 422 and "counterparty" in r.get_json()["errors"]["lines"]["0"]
    auth.login("kuaiji")
    r = client.post(f"/o/{books.org.id}/vouchers/new", data={
        "date": "2025-03-01", "word": "记", "attachment_count": "0",
        "lines-0-summary": "借支", "lines-0-account_code": "112", "lines-0-debit": "5", "lines-0-credit": "",
        "lines-0-counterparty": "", "lines-1-summary": "借支", "lines-1-account_code": "102", "lines-1-debit": "",
        "lines-1-credit": "5", "lines-1-counterparty": ""})
    assert r.status_code == 422 and 'data-error-for="lines.0.counterparty"' in r.get_data(as_text=True)
    assert count(Voucher) == 0


def test_balance_sheet_shows_receivables_and_payables_gross_by_counterparty(books):
    books.lock_opening({"102": "10000.00", "301": "-10000.00"})
    # 张三 owes 800.00 (112 debit); 李四 paid 300.00 in advance (112 credit); 农资站 is owed 500.00 (211 credit)
    # and 建工公司 was overpaid 200.00 (211 debit)
    books.post("2025-03-01", ("112", "800.00", "", "张三"), ("102", "", "800.00"))
    books.post("2025-03-02", ("102", "300.00", ""), ("112", "", "300.00", "李四"))
    books.post("2025-03-03", ("121", "500.00", ""), ("211", "", "500.00", "农资站"))
    books.post("2025-03-04", ("211", "200.00", "", "建工公司"), ("102", "", "200.00"))
    bs = reports.balance_sheet(books.org, 2025, 3)
    # never netted: 800 + 200 receivable, 500 + 300 payable (netted they would read 500 and 300)
    assert bs.value("receivables", 1) == D("1000.00")
    assert bs.value("payables", 1) == D("800.00")
    assert bs.value("total_assets", 1) == bs.value("total_liabilities_equity", 1) == D("10800.00")
    # the same counterparty on both sides of one account nets: it is one balance with one party
    books.post("2025-03-05", ("102", "800.00", ""), ("112", "", "800.00", "张三"))
    assert reports.balance_sheet(books.org, 2025, 3).value("receivables", 1) == D("200.00")


def test_opening_balances_by_counterparty_typed_api_and_gross(books, client, auth):
    from coop.models import OpeningBalance
    from coop.services import opening

    with pytest.raises(ValidationFailed) as e:
        opening.set_opening_balances(books.org, {"112": D("500.00"), "301": D("-500.00")}, user=books.accountant)
    assert "往来单位" in e.value.errors["balances"]["112"][0]
    db.session.rollback()
    assert count(OpeningBalance) == 0
    h = auth.headers(books.accountant)
    url = f"/api/v1/orgs/{books.org.id}/opening-balances"
    body = {"balances": [{"account_code": "112", "amount": "800.00", "counterparty": "张三"},
                         {"account_code": "112", "amount": "-300.00", "counterparty": "李四"},
                         {"account_code": "301", "amount": "-500.00"}]}
    r = client.put(url, json=body, headers=h)
    assert r.status_code == 200, r.get_json()
    assert client.get(url, headers=h).get_json()["balances"] == [
        {"account_code": "112", "amount": "800.00", "counterparty": "张三"},
        {"account_code": "112", "amount": "-300.00", "counterparty": "李四"},
        {"account_code": "301", "amount": "-500.00", "counterparty": None}]
    assert opening.opening_balances(books.org) == {"112": D("500.00"), "301": D("-500.00")}
    opening.lock_opening_balances(books.org, user=books.accountant)
    # 年初 column: 800 receivable from 张三 and 300 received in advance from 李四, not 500 net
    bs = reports.balance_sheet(books.org, 2025, 1)
    assert (bs.value("receivables", 0), bs.value("payables", 0)) == (D("800.00"), D("300.00"))
    assert reports.trial_balance(books.org, 2025, 1).balanced


def test_opening_grid_asks_the_counterparty(books, client, auth):
    auth.login("kuaiji")
    url = f"/o/{books.org.id}/opening"
    assert 'name="cp-112"' in client.get(url).get_data(as_text=True)
    r = client.post(url, data={"amt-112": "500", "dir-112": "借", "amt-301": "500", "dir-301": "贷"})
    assert r.status_code == 422 and "须按往来单位或农户录入" in r.get_data(as_text=True)
    r = client.post(url, data={"amt-112": "500", "dir-112": "借", "cp-112": "张三", "amt-301": "500", "dir-301": "贷"})
    assert r.status_code == 302
    from coop.services import opening

    assert opening.opening_lines(books.org) == [("112", "张三", D("500.00")), ("301", None, D("-500.00"))]


def test_reports_for_one_counterparty_start_from_its_own_balance(books):
    from coop.services import opening

    opening.set_opening_balances(books.org, {("112", "张三"): D("800.00"), ("112", "李四"): D("-300.00"),
                                             "301": D("-500.00")}, user=books.accountant)
    opening.lock_opening_balances(books.org, user=books.accountant)
    books.post("2025-06-01", ("102", "500.00", ""), ("112", "", "500.00", "张三"))
    books.post("2026-01-10", ("112", "40.00", "", "张三"), ("102", "", "40.00"))
    # 2026 for 张三: 800 opening − 500 received in 2025 = 300 brought forward; 40 lent in January
    row = next(r for r in reports.trial_balance(books.org, 2026, 1, counterparty="张三").rows if r.code == "112")
    assert (row.opening, row.debit, row.credit, row.closing) == (D("300.00"), D("40.00"), D("0.00"), D("340.00"))
    rows = reports.detail_ledger(books.org, "112", 2026, 1, 1, counterparty="张三")
    assert rows[0].balance == D("300.00") and rows[-1].balance == D("340.00")
    row = next(r for r in reports.trial_balance(books.org, 2025, 1, counterparty="李四").rows if r.code == "112")
    assert row.opening == D("-300.00")


def test_opening_typed_by_counterparty_on_the_page(books, client, auth):
    from coop.services import opening

    auth.login("kuaiji")
    url = f"/o/{books.org.id}/opening"
    client.post(url, data={"amt-301": "500", "dir-301": "贷"})
    r = client.post(url + "/counterparties", data={"details": "112,张三,abc\n"})
    assert r.status_code == 422 and "第 1 行" in r.get_data(as_text=True)
    r = client.post(url + "/counterparties", data={"details": "112,张三,800.00,借\n112,李四,300.00,贷\n"})
    assert r.status_code == 302
    assert opening.opening_lines(books.org) == [("112", "张三", D("800.00")), ("112", "李四", D("-300.00")),
                                                ("301", None, D("-500.00"))]
    page = client.get(url).get_data(as_text=True)
    assert "112,张三,800.00,借" in page and "张三 800.00" in page  # listed, and the grid row read-only
