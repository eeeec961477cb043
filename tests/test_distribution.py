"""Year-end distribution through the books: the worked example of research-domain.md §6.2a, posted and paid."""
import datetime as dt
from decimal import Decimal

import pytest

from coop.core.errors import InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.services import distribution, members, reports, shares, vouchers
from tests.test_shares import IDS

D = Decimal
TODAY = dt.date(2026, 11, 1)


@pytest.fixture
def year_2025(books):
    return build_year_2025(books)


def build_year_2025(books, register=None):
    """The example year: 经营性纯收益 200,000, 本年收益 210,000, 年初未分配收益 −20,000; 500 shares (the register
    of `register_two_households` unless another is given)."""
    books.lock_opening({"102": "1000000.00", "32202": "20000.00", "301": "-1020000.00"})
    p = books.post
    p("2025-03-01", ("102", "600000.00", ""), ("501", "", "600000.00"), summary="经营收入")
    p("2025-03-02", ("102", "32000.00", ""), ("502", "", "32000.00"), summary="飞地抱团固定收益")
    p("2025-03-03", ("511", "310000.00", ""), ("102", "", "310000.00"), summary="经营支出")
    p("2025-03-04", ("512", "2000.00", ""), ("102", "", "2000.00"), summary="税金")
    p("2025-03-05", ("513", "120000.00", ""), ("102", "", "120000.00"), summary="管理费用")
    p("2025-04-01", ("102", "58000.00", ""), ("503", "", "58000.00"), summary="补助收入")
    p("2025-04-02", ("102", "2000.00", ""), ("504", "", "2000.00"), summary="其他收入")
    p("2025-04-03", ("514", "30000.00", ""), ("102", "", "30000.00"), summary="公益支出")
    p("2025-04-04", ("515", "20000.00", ""), ("102", "", "20000.00"), summary="利息支出")
    books.close_through(2025, 12)
    if register is not None:
        households = register(books)
        db.session.commit()
        return books, households
    ha, hb = register_two_households(books)  # A: 3 × 96 + 20 农龄 = 308 units; B: 2 × 96 = 192
    db.session.commit()
    return books, (ha, hb)


def register_two_households(books):
    """The register most distribution tests use: households A (张一 with 20 years of 农龄, 张二, 张三: 3 × 96 + 20
    = 308 units) and B (李一, 李二: 2 × 96 = 192), 500 units in all, issued from a 2024 quantification."""
    org, user = books.org, books.accountant
    ha, hb = members.create_household(org), members.create_household(org)
    people = [members.add_member(ha, name="张一", id_number=IDS[0], relation="户主"),
              members.add_member(ha, name="张二", id_number=IDS[1], relation="配偶"),
              members.add_member(ha, name="张三", id_number=IDS[2], relation="子"),
              members.add_member(hb, name="李一", id_number=IDS[3], relation="户主"),
              members.add_member(hb, name="李二", id_number=IDS[4], relation="女")]
    for m in people:
        members.record_membership_event(m, "confirmed", date=dt.date(2024, 1, 1), evidence="决议", today=TODAY)
    plan = shares.create_plan(org, name="量化", base_date=dt.date(2024, 12, 31), net_assets=D("1000000.00"),
                              rules={"population_units": "96", "labour_units_per_year": "1", "labour_cap_years": 20},
                              approval_ref="决议2", user=user)
    shares.set_member_input(plan, people[0], labour_start=dt.date(1990, 1, 1))
    shares.issue_plan(plan, user=user)
    return ha, hb

def approve(plan, books, method="assembly"):
    # the 村党组织 discusses the plan first on both routes; materials out 12 days and the notice 10 days before
    distribution.record_approval(plan, step="party_proposal", date=dt.date(2025, 12, 26), reference="党支部会议记录",
                                 user=books.accountant)
    distribution.record_approval(plan, step="assembly", date=dt.date(2026, 1, 10), reference="2026年第1号成员大会决议",
                                 entitled=300, present=240, votes_for=230, materials_date=dt.date(2025, 12, 29),
                                 notice_date=dt.date(2025, 12, 31), user=books.accountant)
    distribution.approve_plan(plan, method=method, user=books.reviewer)


def make_plan(books, **kw):
    args = dict(year=2025, name="方案一", record_date=dt.date(2025, 12, 31), member_pool=D("90000.00"),
                cadre_reward=D("36000.00"),
                cadres=[{"name": "书记", "start": dt.date(2020, 1, 1), "weight": D("100")},
                        {"name": "主任", "start": dt.date(2021, 1, 1), "weight": D("80")}])
    args.update(kw)
    return distribution.create_plan(books.org, user=books.accountant, **args)


def test_worked_example_posted_to_the_fen(year_2025):
    books, (ha, hb) = year_2025
    plan = make_plan(books)
    p = distribution.preview(plan)
    assert p.ok, p.issues
    w = p.waterfall
    assert (w.distributable, w.reserve, w.cadre_cap, w.closing_undistributed) == (
        D("190000.00"), D("57000.00"), D("40000.00"), D("7000.00"))
    assert p.member_split.per_share == D("180")
    assert p.member_split.households == {ha.id: D("55440.00"), hb.id: D("34560.00")}  # 308 and 192 units
    assert p.cadre_amounts == {plan.cadres[0].id: D("20000.00"), plan.cadres[1].id: D("16000.00")}
    approve(plan, books)
    v = distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    assert v.kind == "distribution" and v.status == "posted"
    assert v.total_debit == D("183000.00")  # 57,000 + 36,000 + 90,000
    assert sum(d.amount for d in plan.dividends) == D("90000.00")
    tb = reports.trial_balance(books.org, 2026, 1)
    assert tb.balanced
    st = reports.income_statement(books.org, 2026, 1, 1)
    assert st.value("opening_undistributed") == D("190000.00")
    # decided after 2025 closed, the plan posts in 2026 and is 其他转入/调整 there: 2026's distribution section is
    # 2026's own (RULES §5 annual form)
    assert st.value("other_in") == D("-183000.00")
    assert st.value("reserve_appropriation") == st.value("member_distribution") == D("0.00")
    assert st.value("closing_undistributed", 1) == D("7000.00")
    assert distribution.figures_of(plan)["closing_undistributed"] == D("7000.00")
    with pytest.raises(InvalidState, match="不能重复记账"):
        distribution.post_plan(plan, date=dt.date(2026, 1, 16), user=books.accountant)
    from coop.documents import disclosure as disclosure_pdf
    from coop.services import disclosure

    assert disclosure.dividend_per_share(books.org) == [(2025, D("180.00"))]
    assert "每股分红" in disclosure_pdf.dividend_chart(books.org)


def test_payments_track_paid_pending_and_unpaid(year_2025):
    books, (ha, hb) = year_2025
    plan = make_plan(books)
    approve(plan, books)
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    pay = distribution.pay_dividends(plan, household_ids=[ha.id], date=dt.date(2026, 1, 20), pay_from="102",
                                     user=books.accountant)
    status = {s.dividend.household_id: s for s in distribution.dividend_status(plan)}
    assert status[ha.id].pending == D("55440.00") and status[ha.id].unpaid == 0
    vouchers.review_voucher(pay, user=books.reviewer)
    vouchers.post_voucher(pay, user=books.accountant)
    status = {s.dividend.household_id: s for s in distribution.dividend_status(plan)}
    assert status[ha.id].paid == D("55440.00")
    assert status[hb.id].unpaid == D("34560.00")
    with pytest.raises(ValidationFailed, match="没有未发放"):
        distribution.pay_dividends(plan, household_ids=[ha.id], date=dt.date(2026, 1, 21), pay_from="102",
                                   user=books.accountant)


def test_a_reversed_payment_leaves_the_household_unpaid_and_the_plan_cannot_be_reversed(year_2025):
    """A payment voucher red-reversed (the money went back) pays nobody: once the red voucher is posted, household
    A owes 55,440.00 again and is paid anew — once. The 收益分配 voucher itself cannot be reversed on its own: the
    plan, its 分红清册 and the payments stand on it."""
    from coop.services import integrity_money

    books, (ha, hb) = year_2025
    plan = make_plan(books)
    approve(plan, books)
    posted = distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    with pytest.raises(InvalidState, match="不能单独冲销"):
        vouchers.reverse_voucher(posted, user=books.accountant, date=dt.date(2026, 1, 16))
    pay = distribution.pay_dividends(plan, household_ids=[ha.id], date=dt.date(2026, 1, 20), pay_from="102",
                                     user=books.accountant)
    vouchers.review_voucher(pay, user=books.reviewer)
    vouchers.post_voucher(pay, user=books.accountant)
    red = vouchers.reverse_voucher(pay, user=books.accountant, date=dt.date(2026, 1, 22))
    status = {s.dividend.household_id: s for s in distribution.dividend_status(plan)}
    assert status[ha.id].paid == D("55440.00")  # the red voucher is only a draft: still paid
    vouchers.review_voucher(red, user=books.reviewer)
    vouchers.post_voucher(red, user=books.accountant)
    status = {s.dividend.household_id: s for s in distribution.dividend_status(plan)}
    assert (status[ha.id].paid, status[ha.id].unpaid) == (D("0.00"), D("55440.00"))
    again = distribution.pay_dividends(plan, household_ids=[ha.id], date=dt.date(2026, 1, 23), pay_from="102",
                                       user=books.accountant)
    assert again.total_debit == D("55440.00")
    vouchers.review_voucher(again, user=books.reviewer)
    vouchers.post_voucher(again, user=books.accountant)
    assert [y.paid for y in distribution.household_dividends(ha.id)] == [D("55440.00")]
    assert integrity_money.overpaid_households() == []  # 55,440 paid, 55,440 undone, 55,440 paid: once
    with pytest.raises(ValidationFailed, match="没有未发放"):
        distribution.pay_dividends(plan, household_ids=[ha.id], date=dt.date(2026, 1, 24), pay_from="102",
                                   user=books.accountant)


def test_bad_plans_refused_with_the_rule_and_the_amount(year_2025):
    books, _ = year_2025
    with pytest.raises(ValidationFailed, match="12月尚未到年终"):
        make_plan(books, year=2026)
    plan = make_plan(books, cadre_reward=D("45000.00"))
    issues = distribution.preview(plan).issues
    assert "超出 5,000.00" in issues[0].message
    with pytest.raises(InvalidState, match="缺少"):
        distribution.approve_plan(plan, method="four_two", user=books.reviewer)
    with pytest.raises(ValidationFailed, match="差 1 票"):
        distribution.record_approval(plan, step="assembly", date=dt.date(2026, 1, 10), reference="决议",
                                     entitled=300, present=250, votes_for=199, user=books.accountant)
    with pytest.raises(ValidationFailed, match="差 1 人"):
        distribution.record_approval(plan, step="assembly", date=dt.date(2026, 1, 10), reference="决议",
                                     entitled=300, present=199, votes_for=199, user=books.accountant)
    plan2 = make_plan(books, cadres=[{"name": "新委员", "start": dt.date(2025, 8, 1), "weight": D("1")}])
    assert any("任职 153 天，不足 183 天（差 30 天）" in i.message for i in distribution.preview(plan2).issues)
