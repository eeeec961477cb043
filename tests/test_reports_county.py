"""科目余额表 from one aggregate query: the same figures as summing the movements one by one, for a village and
for a whole county (RULES §5)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from coop.ledger.balances import rollup

D = Decimal


def _two_years(books):
    books.lock_opening({"101": "500.00", "10201": "20000.00", "301": "-20500.00"})
    books.post("2025-03-10", ("10201", "1200.00", ""), ("50101", "", "1200.00"), summary="承包金")
    books.post("2025-11-02", ("51302", "80.50", ""), ("101", "", "80.50"), summary="办公用品")
    books.post("2026-01-15", ("10201", "300.00", ""), ("50102", "", "300.00"), summary="租金")
    books.post("2026-02-20", ("51304", "45.10", ""), ("10201", "", "45.10"), summary="水电费")
    books.post("2026-03-05", ("101", "1000.00", ""), ("10201", "", "1000.00"), summary="提取备用金")
    books.post("2026-03-28", ("51302", "12.00", ""), ("101", "", "12.00"), summary="打印费")


def _detail_accounts(org):
    from coop.services import accounts

    for parent, code, name in (("102", "10201", "农业银行"), ("501", "50101", "承包金"), ("501", "50102", "租赁收入"),
                               ("513", "51302", "办公费"), ("513", "51304", "水电费")):
        accounts.add_detail_account(org, parent, code, name)


def test_trial_balance_matches_movement_sums_across_years(books):
    """期初 = balances before the period (last year included), 本期 and 本年累计 = sums of the lines."""
    from coop.services import reports

    _detail_accounts(books.org)
    _two_years(books)
    for year, mf, mt in ((2026, 3, 3), (2026, 2, 3), (2026, 1, 12), (2025, 11, 11), (2025, 1, 12)):
        tb = reports.trial_balance(books.org, year, mf, mt)
        ys, start, end = dt.date(year, 1, 1), dt.date(year, mf, 1), reports.month_end(year, mt)
        opening = reports.balances_before(books.org, start)
        period = reports.movements(books.org, date_from=start, date_to=end)
        ytd = reports.movements(books.org, date_from=ys, date_to=end)
        for r in tb.rows:
            assert r.opening == rollup(opening, r.code), (year, mf, r.code)
            assert (r.debit, r.credit) == (rollup({c: d for c, (d, _) in period.items()}, r.code),
                                           rollup({c: x for c, (_, x) in period.items()}, r.code)), (year, mf, r.code)
            assert (r.ytd_debit, r.ytd_credit) == (rollup({c: d for c, (d, _) in ytd.items()}, r.code),
                                                   rollup({c: x for c, (_, x) in ytd.items()}, r.code))
        assert tb.balanced
    tb = reports.trial_balance(books.org, 2026, 3)
    row = {r.code: r for r in tb.rows}
    assert row["10201"].opening == D("21454.90")  # 20000 + 1200 (2025) + 300 - 45.10 (2026-01..02)
    assert (row["10201"].debit, row["10201"].credit) == (D("0.00"), D("1000.00"))
    assert (row["102"].ytd_debit, row["102"].ytd_credit) == (D("300.00"), D("1045.10"))


def test_county_trial_balance_adds_the_villages(books):
    """Every village's rows added code by code; a code with 明细 in one village but not another still rolls up."""
    from coop.services import opening, orgs, reports, users, vouchers

    _detail_accounts(books.org)
    _two_years(books)
    other = orgs.create_organization(books.township, name="西村股份经济合作社", books_start_year=2025)
    users.assign_role(books.accountant, "accountant", other)
    users.assign_role(books.reviewer, "reviewer", other)
    opening.set_opening_balances(other, {"102": D("700.00"), "301": D("-700.00")}, user=books.accountant)
    opening.lock_opening_balances(other, user=books.accountant)
    v = vouchers.create_draft(other, {"date": dt.date(2026, 3, 9), "lines": [
        {"summary": "补助", "account_code": "102", "debit": D("50.00"), "credit": D(0)},
        {"summary": "补助", "account_code": "503", "debit": D(0), "credit": D("50.00")}]}, user=books.accountant)
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=books.accountant)
    # a village of another county is left out
    elsewhere = orgs.create_organization(orgs.create_township(orgs.create_county("邻县"), "北镇"), name="北村",
                                         books_start_year=2025)
    users.assign_role(books.accountant, "accountant", elsewhere)
    opening.set_opening_balances(elsewhere, {"101": D("9.00"), "301": D("-9.00")}, user=books.accountant)

    for mf, mt in ((3, 3), (1, 12)):
        county = reports.county_trial_balance(books.county, 2026, mf, mt)
        parts = [reports.trial_balance(o, 2026, mf, mt) for o in (books.org, other)]
        fields = ("opening", "debit", "credit", "ytd_debit", "ytd_credit")
        want: dict[str, list[Decimal]] = {}
        for tb in parts:
            for r in tb.rows:
                acc = want.setdefault(r.code, [D(0)] * 5)
                for k, f in enumerate(fields):
                    acc[k] += getattr(r, f)
        got = {r.code: [getattr(r, f) for f in fields] for r in county.rows}
        assert got == want  # and so nothing of 邻县
        assert county.balanced
    rows = {r.code: r for r in reports.county_trial_balance(books.county, 2026, 3).rows}
    assert rows["102"].debit == D("50.00") and rows["102"].is_leaf is False  # 10201 below it in the first village
    assert rows["102"].opening == D("21454.90") + D("700.00")
