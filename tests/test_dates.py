"""Dates and times in Beijing time (RULES §0, §3): the voucher-date window, "today", and times shown to people."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coop.core import clock
from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.models import LoanEvent, Voucher
from coop.services import loans, vouchers
from tests.conftest import count

D = Decimal


def test_window_ends_with_next_month():
    assert clock.latest_voucher_date(dt.date(2026, 12, 7)) == dt.date(2027, 1, 31)
    assert clock.latest_voucher_date(dt.date(2027, 1, 31)) == dt.date(2027, 2, 28)
    assert clock.latest_voucher_date(dt.date(2028, 1, 1)) == dt.date(2028, 2, 29)


def test_stored_utc_reads_as_beijing_time():
    # 16:30 UTC on the 6th is half past midnight on the 7th in Beijing
    assert clock.local(dt.datetime(2026, 12, 6, 16, 30)).strftime("%Y-%m-%d %H:%M") == "2026-12-07 00:30"
    assert clock.local(None) is None
    assert clock.today() == dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


def test_voucher_dated_beyond_next_month_is_refused_everywhere(books, client, auth):
    books.lock_opening({"101": "1000.00", "301": "-1000.00"})
    latest = clock.latest_voucher_date()
    v = books.draft(latest, ("101", "1.00", ""), ("301", "", "1.00"))
    assert v.date == latest
    db.session.commit()
    before = count(Voucher)
    for day in (latest + dt.timedelta(days=1), dt.date(2062, 3, 1)):
        with pytest.raises(ValidationFailed) as e:
            books.draft(day, ("101", "1.00", ""), ("301", "", "1.00"))
        assert list(e.value.errors) == ["date"] and "最晚为下月底" in e.value.message
        db.session.rollback()
    r = client.post(f"/api/v1/orgs/{books.org.id}/vouchers", headers=auth.headers(books.accountant), json={
        "date": "2062-03-01", "lines": [{"summary": "x", "account_code": "101", "debit": "1.00"},
                                        {"summary": "x", "account_code": "301", "credit": "1.00"}]})
    assert r.status_code == 422 and "2062-03-01" in r.get_json()["errors"]["date"][0]
    # a system voucher too: a loan event dated 2062
    loan = loans.create_loan(books.org, lender="农商银行", contract_no="L-1", principal=D("100.00"),
                             annual_rate=D("0.04"), start_date=dt.date(2025, 1, 1), maturity_date=dt.date(2070, 1, 1),
                             user=books.accountant)
    db.session.commit()
    with pytest.raises(ValidationFailed) as e:
        loans.record_loan_event(loan, kind="drawdown", date=dt.date(2062, 1, 1), amount=D("100.00"),
                                user=books.accountant)
    assert "date" in e.value.errors
    db.session.rollback()
    assert count(Voucher) == before and count(LoanEvent) == 0


def test_voucher_before_the_books_start_is_refused(books):
    with pytest.raises(ValidationFailed, match="早于建账月份") as e:
        books.draft("2024-12-31", ("101", "1.00", ""), ("301", "", "1.00"))
    assert e.value.errors == {"date": ["日期早于建账月份 2025年1月"]}


def test_voucher_page_shows_beijing_times(books, client, auth):
    books.lock_opening({"101": "1000.00", "301": "-1000.00"})
    v = books.draft("2025-01-15", ("101", "1.00", ""), ("301", "", "1.00"))
    v.created_at = dt.datetime(2026, 12, 6, 16, 30)
    vouchers.review_voucher(v, user=books.reviewer)
    v.reviewed_at = dt.datetime(2026, 12, 6, 15, 59)
    db.session.commit()
    auth.login("kuaiji")
    page = client.get(f"/o/{books.org.id}/vouchers/{v.id}").get_data(as_text=True)
    assert "2026-12-07 00:30" in page and "2026-12-06 23:59" in page
