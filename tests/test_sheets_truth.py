"""财务公开 sheets that tell the truth (RULES §10): 收支明细 lists capital spending and the uses of 专项应付款,
一事一议资金 and 生产成本 with their own totals; 债权债务 lists loans by lender and 应付工资/应交税费/专项应付款
with the opening balances; 一事一议 says what the money was spent on; 收益分配 shows the frozen posted figures."""
import datetime as dt
import json
from decimal import Decimal

import pytest

from coop.services import closing, disclosure, distribution, vouchers
from tests.test_year_end import approve_by_assembly, village

D = Decimal


def sheet(books, kind, start, end):
    d = disclosure.create_sheet(books.org, kind=kind, start=start, end=end, user=books.accountant)
    return json.loads(d.data)


@pytest.fixture
def year(books):
    ha, hb = village(books)  # opening: bank 500,000; 未分配收益 50,000; register A 308, B 192 shares
    p = books.post
    loan = vouchers.create_draft(books.org, {"date": dt.date(2025, 1, 5), "lines": [
        {"summary": "借款", "account_code": "10201", "debit": D("200000.00"), "credit": D(0)},
        {"summary": "借款", "account_code": "201", "debit": D(0), "credit": D("200000.00"),
         "counterparty": "农商银行"}]}, user=books.accountant)
    vouchers.review_voucher(loan, user=books.reviewer)
    vouchers.post_voucher(loan, user=books.accountant)
    p("2025-01-06", ("10201", "6000.00", ""), ("231", "", "6000.00"), summary="收取一事一议筹资款（村道）")
    p("2025-01-07", ("10201", "80000.00", ""), ("241", "", "80000.00"), summary="一事一议财政奖补资金")
    p("2025-02-01", ("153", "86000.00", ""), ("10201", "", "86000.00"), summary="支付村道硬化工程款")
    p("2025-03-01", ("151", "86000.00", ""), ("153", "", "86000.00"), summary="村道硬化工程竣工转固定资产")
    p("2025-03-02", ("231", "6000.00", ""), ("241", "80000.00", ""), ("31101", "", "86000.00"),
      summary="一事一议资金形成资产转入公积公益金")
    p("2025-03-10", ("10201", "50000.00", ""), ("50101", "", "50000.00"), summary="发包收入")
    p("2025-03-11", ("401", "3000.00", ""), ("10201", "", "3000.00"), summary="育苗人工")
    p("2025-03-12", ("51301", "1000.00", ""), ("21202", "", "1000.00"), summary="计提3月报酬")
    p("2025-03-13", ("512", "500.00", ""), ("214", "", "500.00"), summary="计提房产税")
    books.close_through(2025, 11)
    return books, ha, hb


def test_income_expense_lists_capital_spending_and_fund_uses(year):
    books, *_ = year
    data = sheet(books, "income_expense", dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    totals = {t["label"]: t["amount"] for t in data["totals"]}
    # income 50,000; expenses 1,000 + 500; capital spending is the 86,000 paid into 在建工程 (the transfer to
    # 固定资产 is not new spending); 专项资金使用 = 6,000 (231) + 80,000 (241); 生产成本 3,000
    assert totals == {"收入合计": "50000.00", "支出合计": "1500.00", "收支相抵": "48500.00",
                      "资本性支出合计": "86000.00", "专项资金使用合计": "86000.00", "生产(劳务)成本合计": "3000.00"}
    accounts = [r[3] for r in data["rows"]]
    assert "153 在建工程（资本性支出）" in accounts and not any(a.startswith("151") for a in accounts)
    assert "231 一事一议资金（专项资金使用）" in accounts and "401 生产(劳务)成本（生产成本）" in accounts


def test_debts_list_loans_by_lender_and_other_liabilities_with_openings(year):
    books, *_ = year
    data = sheet(books, "debts", dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    rows = [(r[0], r[1], r[3]) for r in data["rows"]]
    # 201 loan 200,000 by lender; 212 wages owed 1,000; 214 tax owed 500; 241 all used (0, not shown)
    assert ["债务", "201 短期借款", "农商银行", "200000.00"] in data["rows"]
    assert ("债务", "21202 工资", "1000.00") in rows and ("债务", "214 应交税费", "500.00") in rows
    assert not any(r[1].startswith("241") for r in rows)
    assert {t["label"]: t["amount"] for t in data["totals"]} == {"债权合计": "0.00", "债务合计": "201500.00"}


def test_yishiyiyi_says_what_the_money_was_spent_on(year):
    books, *_ = year
    data = sheet(books, "yishiyiyi", dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    raised, used = data["rows"]
    assert raised[3:5] == ["6000.00", ""]
    assert used[4] == "6000.00"
    assert used[5].startswith("形成资产：村道硬化工程竣工转固定资产（2025-03-01 记-") and used[5].endswith("86000.00）")


def test_distribution_sheet_shows_the_frozen_posted_figures(year):
    books, ha, hb = year
    org, acc = books.org, books.accountant
    closing.carry_over(org, 2025, user=acc, today=dt.date(2025, 12, 1))
    # 本年收益 = 50,000 − 1,000 − 500 = 48,500; 可分配 = 48,500 + 50,000 = 98,500; reserve 30% × 48,500 = 14,550
    plan = distribution.create_plan(org, year=2025, name="2025年度方案", record_date=dt.date(2025, 12, 31),
                                    member_pool=D("50000.00"), user=acc)
    approve_by_assembly(plan, books, dt.date(2025, 12, 25), materials=dt.date(2025, 12, 12),
                        notice=dt.date(2025, 12, 15))
    distribution.post_plan(plan, user=acc)
    books.close_through(2025, 12)
    data = sheet(books, "distribution", dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    rows = {r[0]: r[3] for r in data["rows"]}
    assert (rows["本年收益"], rows["可分配收益"], rows["提取公积公益金"], rows["向成员分配"], rows["每股分红"],
            rows["年末未分配收益"]) == ("48500.00", "98500.00", "14550.00", "50000.00", "100.00", "33950.00")
    # later entries do not change what the sheet shows: a prior-year correction in 2026 moves 32202, not the plan
    before = json.dumps({k: v for k, v in data.items() if k != "version"}, sort_keys=True)
    books.post("2026-01-05", ("10201", "100.00", ""), ("32202", "", "100.00"), summary="以前年度多计费用调整")
    again = disclosure.build_sheet(books.org, "distribution", dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    assert json.dumps(again, sort_keys=True) == before
