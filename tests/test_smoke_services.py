"""Posting, numbering, closing and carry-over with worked numbers."""
import datetime as dt
from decimal import Decimal

import pytest

from coop.core.errors import Forbidden, InvalidState, PeriodClosed, ValidationFailed
from coop.services import periods, reports, vouchers


def test_post_and_trial_balance(books):
    books.lock_opening({"102": "10000.00", "301": "-10000.00"})
    v = books.post("2025-01-05", ("101", "500.00", ""), ("102", "", "500.00"), summary="提现")
    assert v.display_number == "记-0001"
    tb = reports.trial_balance(books.org, 2025, 1)
    assert tb.balanced
    row = {r.code: r for r in tb.rows}
    assert row["101"].closing == Decimal("500.00")
    assert row["102"].closing == Decimal("9500.00")


def test_carryover_zeroes_pnl(books):
    books.lock_opening({"102": "10000.00", "301": "-10000.00"})
    books.post("2025-03-01", ("102", "3000.00", ""), ("501", "", "3000.00"), summary="承包收入")
    books.post("2025-03-02", ("513", "1000.00", ""), ("102", "", "1000.00"), summary="办公费")
    books.post("2025-12-20", ("3220101", "600.00", ""), ("311", "", "600.00"), summary="提取公积公益金")
    generated = books.close_through(2025, 12)
    assert [v.lines[0].summary for v in generated] == ["结转本年损益", "结转本年收益", "结转各项分配"]
    bal = reports.leaf_balances(books.org)
    assert all(not c.startswith("5") for c in bal)
    # 102: 10,000.00 + 3,000.00 − 1,000.00; the year's 2,000.00, less the 600.00 distributed, stays undistributed
    assert bal["102"] == Decimal("12000.00") and bal["311"] == Decimal("-600.00")
    assert bal["32202"] == Decimal("-1400.00")
    assert "321" not in bal and "3220101" not in bal
    assert bal["32202"] == Decimal("-1400.00")
    inc = reports.income_statement(books.org, 2025, 1, 12)
    assert inc.value("net_profit") == Decimal("2000.00")
    assert inc.value("closing_undistributed") == Decimal("1400.00")
    bs = reports.balance_sheet(books.org, 2025, 12)
    assert bs.value("total_assets") == bs.value("total_liabilities_equity") == Decimal("12000.00")


def test_closed_month_refuses_posting(books):
    books.lock_opening()
    books.close_through(2025, 1)
    with pytest.raises(PeriodClosed):
        books.draft("2025-01-10", ("101", "1.00", ""), ("102", "", "1.00"))


def test_reviewer_cannot_review_own(books):
    from coop.services import users

    books.lock_opening()
    users.assign_role(books.accountant, "reviewer", books.org)
    v = books.draft("2025-01-10", ("101", "1.00", ""), ("102", "", "1.00"))
    with pytest.raises(Forbidden):
        vouchers.review_voucher(v, user=books.accountant)


def test_unbalanced(books):
    with pytest.raises(ValidationFailed) as e:
        books.draft("2025-01-10", ("101", "1.00", ""), ("102", "", "2.00"))
    assert e.value.errors == {"lines": ["借贷不平衡：借方合计 1.00，贷方合计 2.00，相差 -1.00"]}


def test_red_reversal_restores(books):
    books.lock_opening()
    v = books.post("2025-01-05", ("101", "500.00", ""), ("102", "", "500.00"))
    before = reports.leaf_balances(books.org, until=dt.date(2025, 1, 4))
    red = vouchers.reverse_voucher(v, user=books.accountant, date=dt.date(2025, 1, 6))
    vouchers.review_voucher(red, user=books.reviewer)
    vouchers.post_voucher(red, user=books.accountant)
    assert reports.leaf_balances(books.org) == before
    assert red.lines[0].summary == "冲销 1月5日 记-0001 号凭证"
    with pytest.raises(InvalidState):
        vouchers.reverse_voucher(v, user=books.accountant, date=dt.date(2025, 1, 6))
