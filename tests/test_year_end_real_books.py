"""The year end in real village books (#14's fixture: 明细科目 under 101/102/112/141/201/211/212/311/502/503/515, the
posting roles mapped; a 2-2-2 county and a legacy 3-3 one): the carry-over, the plan's voucher, the dividend payment
from a chosen bank leaf, 结账 and a prior-year correction all post to leaves through the roles."""
import datetime as dt
from decimal import Decimal

from coop.ledger import codes
from coop.services import closing, distribution, reports, vouchers
from tests.realbooks import real_books  # noqa: F401  (fixture)
from tests.test_distribution import register_two_households
from tests.test_year_end import approve_by_assembly

D = Decimal
TODAY = dt.date(2026, 11, 1)


def canon(org, code: str) -> str:
    return codes.CANONICAL.convert(code, org.code_scheme)


def lines_of(v):
    return sorted((l.account.code, l.debit, l.credit, l.counterparty) for l in v.lines)


def test_year_end_posts_to_leaves_in_any_code_scheme(real_books):
    books = real_books
    org, acc, leaf = books.org, books.accountant, books.leaf
    ha, hb = register_two_households(books)  # A 308, B 192
    books.post("2025-03-01", (leaf("102", 1), "100000.00", ""), ("501", "", "100000.00"))
    interest = books.post("2025-03-02", (leaf("515", 1), "20000.00", ""), (leaf("102", 1), "", "20000.00"))
    books.close_through(2025, 11)
    made = closing.carry_over(org, 2025, user=acc, today=dt.date(2025, 12, 1))
    # 本年收益 80,000 into the 未分配收益 leaf (32202, 322002 under 3-3)
    assert sorted((l.account.code, l.debit, l.credit) for l in made[1].lines) == [
        ("321", D("80000.00"), D("0.00")), (canon(org, "32202"), D("0.00"), D("80000.00"))]
    plan = distribution.create_plan(
        org, year=2025, name="方案", record_date=dt.date(2025, 12, 31), member_pool=D("40000.00"),
        cadre_reward=D("10000.00"), cadres=[{"name": "书记", "start": dt.date(2020, 1, 1)}], user=acc)
    approve_by_assembly(plan, books, dt.date(2025, 12, 26), materials=dt.date(2025, 12, 10),
                        notice=dt.date(2025, 12, 12))
    v = distribution.post_plan(plan, user=acc)
    # reserve 30% × 80,000 = 24,000; cadre 10,000; members 40,000 at 80.00 a share (A 308 × 80 = 24,640, B 192 × 80
    # = 15,360), 211 credited per household under "<户号> <户主>"
    assert lines_of(v) == sorted([
        (canon(org, "3220101"), D("24000.00"), D("0.00"), None), (leaf("311", 1), D("0.00"), D("24000.00"), None),
        (canon(org, "3220102"), D("10000.00"), D("0.00"), None),
        (leaf("212", 2), D("0.00"), D("10000.00"), "书记"),
        (canon(org, "3220103"), D("40000.00"), D("0.00"), None),
        (leaf("211", 2), D("0.00"), D("24640.00"), "0001 张一"), (leaf("211", 2), D("0.00"), D("15360.00"), "0002 李一")])
    assert {d.household_id: d.amount for d in plan.dividends} == {ha.id: D("24640.00"), hb.id: D("15360.00")}
    pay = distribution.pay_dividends(plan, household_ids=None, date=dt.date(2025, 12, 31), pay_from=leaf("102", 2),
                                     user=acc)
    assert lines_of(pay) == [(leaf("102", 2), D("0.00"), D("40000.00"), None),
                             (leaf("211", 2), D("15360.00"), D("0.00"), "0002 李一"),
                             (leaf("211", 2), D("24640.00"), D("0.00"), "0001 张一")]
    assert plan.pay_from == leaf("102", 2)
    vouchers.review_voucher(pay, user=books.reviewer)
    vouchers.post_voucher(pay, user=acc)
    books.close_through(2025, 12)
    bal = reports.leaf_balances(org)
    assert bal.get(canon(org, "32202")) == D("-6000.00") and not any(c.startswith(canon(org, "32201")) for c in bal)
    # 2026: the 2025 interest reversed — its 损益 side goes to the 未分配收益 leaf
    red = vouchers.reverse_voucher(interest, user=acc, date=dt.date(2026, 1, 10))
    assert sorted((l.account.code, l.debit, l.credit) for l in red.lines) == sorted([
        (canon(org, "32202"), D("-20000.00"), D("0.00")), (leaf("102", 1), D("0.00"), D("-20000.00"))])
