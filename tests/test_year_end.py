"""The December sequence and what may really be distributed (RULES §3, §4, §7), over two consecutive years in a
village that keeps sub-accounts: 2025 distributed by hand in December, a 补充分配 for 2025 decided after the
close, a prior-year correction, and 2026 distributed by a plan posted in December. Every figure is worked by hand
in the comments."""
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coop.core.errors import InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.ledger import roles as R
from coop.models import Voucher
from coop.services import accounts, closing, distribution, members, reports, roles, shares, vouchers
from tests.test_distribution import register_two_households
from tests.test_shares import IDS

D = Decimal
TODAY = dt.date(2026, 11, 1)
FAR = dt.date(2100, 1, 1)

SUB_ACCOUNTS = [("102", "10201", "农业银行"), ("211", "21101", "应付收益"), ("211", "21102", "其他应付"),
                ("212", "21201", "干部奖励"), ("212", "21202", "工资"), ("311", "31101", "公积金"),
                ("311", "31102", "公益金"), ("501", "50101", "发包收入"), ("513", "51301", "办公费"),
                ("515", "51501", "利息支出")]
MAPPING = {R.BANK: "10201", R.DIVIDENDS_PAYABLE: "21101", R.PAYABLE: "21102", R.CADRE_REWARD_PAYABLE: "21201",
           R.RESERVE: "31101"}


def village(books):
    """Sub-accounts under 102, 211, 212, 311, 501, 513 and 515, the roles mapped to their leaves; opening
    2025-01-01: bank 500,000, 未分配收益 50,000 (credit), 资本 450,000; a register of 500 shares (A 308, B 192)."""
    org = books.org
    for parent, code, name in SUB_ACCOUNTS:
        accounts.add_detail_account(org, parent, code, name)
    for key, code in MAPPING.items():
        roles.set_mapping(org, key, code, user=books.accountant)
    books.lock_opening({"10201": "500000.00", "32202": "-50000.00", "301": "-450000.00"})
    return register_two_households(books)


def approve_by_assembly(plan, books, meeting, *, materials, notice):
    distribution.record_approval(plan, step="party_proposal", date=meeting - dt.timedelta(days=20),
                                 reference="党支部会议", user=books.accountant)
    distribution.record_approval(plan, step="assembly", date=meeting, reference="成员大会决议", entitled=300,
                                 present=240, votes_for=230, materials_date=materials, notice_date=notice,
                                 user=books.accountant)
    distribution.approve_plan(plan, method="assembly", user=books.reviewer)


def balance(org, code, until=None):
    return sum((b for c, b in reports.leaf_balances(org, until=until).items() if c.startswith(code)), D(0))


def lines_of(v):
    return sorted((l.account.code, l.debit, l.credit) for l in v.lines)


@pytest.fixture
def two_years(books):
    return books, village(books)


def test_two_years_hand_booked_then_supplementary_after_close_then_a_december_plan(two_years):
    books, (ha, hb) = two_years
    org, acc = books.org, books.accountant
    p = books.post
    # ---- 2025: 经营收益 300,000 − 100,000 − 5,000 = 195,000; 补助 20,000; 利息 20,000
    p("2025-03-01", ("10201", "300000.00", ""), ("50101", "", "300000.00"))
    p("2025-03-02", ("51301", "100000.00", ""), ("10201", "", "100000.00"))
    p("2025-04-01", ("10201", "20000.00", ""), ("503", "", "20000.00"))
    p("2025-04-02", ("51501", "20000.00", ""), ("10201", "", "20000.00"))
    wrong = p("2025-06-10", ("51301", "5000.00", ""), ("10201", "", "5000.00"), summary="误记的办公费")
    books.close_through(2025, 11)
    assert closing.carryover_state(org, 2025) == "pending"
    with pytest.raises(ValidationFailed, match="尚未结转损益"):
        distribution.year_result(org, 2025)
    # (1) 损益结转 as its own step: 本年收益 195,000 → 32202
    made = closing.carry_over(org, 2025, user=acc, today=dt.date(2025, 12, 5))
    assert [v.kind for v in made] == ["carryover", "carryover"] and {v.date for v in made} == {dt.date(2025, 12, 31)}
    assert balance(org, "32202") == D("-245000.00")  # 50,000 + 195,000, credit
    # 2025's distribution booked by hand in December: reserve 60,000 and members 100,000
    hand = p("2025-12-20", ("3220101", "60000.00", ""), ("31101", "", "60000.00"), ("3220103", "100000.00", ""),
             ("21101", "", "100000.00"), summary="2025年度收益分配（手工）")
    # December changes after the carry-over: an expense of 10,000 → the carry-over runs again for the difference
    p("2025-12-28", ("51301", "10000.00", ""), ("10201", "", "10000.00"))
    assert closing.carryover_state(org, 2025) == "done"
    assert len(closing.carryover_vouchers(org, 2025)) == 4
    assert balance(org, "5") == 0 and balance(org, "321") == 0
    # 2025: 本年收益 185,000; 可分配 = 185,000 + 50,000 − 160,000 booked by hand = 75,000
    y = distribution.year_result(org, 2025)
    assert (y.net_profit, y.opening_undistributed, y.other_in, y.distributed, y.distributable) == (
        D("185000.00"), D("50000.00"), D("0.00"), D("160000.00"), D("75000.00"))
    # a second distribution of the same money: the hand-booked one is found in the books
    again = distribution.create_plan(org, year=2025, name="再分一次", record_date=dt.date(2025, 12, 31),
                                     member_pool=D("90000.00"), user=acc)
    issues = {i.path: i.message for i in distribution.preview(again).issues}
    assert "账上已有分配 160,000.00 元" in issues["supplementary"] and "12月 记-" in issues["supplementary"]
    # as an explicit 补充分配: the reserve is already taken (30% × 185,000 = 55,500 ≤ 60,000), 90,000 > 75,000
    distribution.update_plan(again, supplementary=True, user=acc)
    p_again = distribution.preview(again)
    assert p_again.waterfall.reserve == 0
    assert [(i.path, i.message) for i in p_again.issues] == [
        ("member_pool", "向成员分配 90,000.00 超过可分配余额 75,000.00，超出 15,000.00")]
    distribution.delete_plan(again, user=acc)
    # (3) 结账: 32201 → 32202; 年末未分配收益 75,000
    books.close_through(2025, 12)
    assert balance(org, "32201") == 0 and balance(org, "32202") == D("-75000.00")
    st = reports.income_statement(org, 2025, 1, 12)
    assert [st.value(k, 1) for k in ("net_profit", "opening_undistributed", "distributable", "reserve_appropriation",
                                     "member_distribution", "closing_undistributed")] == [
        D("185000.00"), D("50000.00"), D("235000.00"), D("60000.00"), D("100000.00"), D("75000.00")]

    # ---- 2026
    p("2026-01-08", ("21101", "100000.00", ""), ("10201", "", "100000.00"), summary="支付2025年成员分红")
    # a 补充分配 for 2025 decided after its close: 可分配 75,000; 30,000 at 60.00 a share (A 308, B 192)
    supp = distribution.create_plan(org, year=2025, name="2025年度补充分配", record_date=dt.date(2025, 12, 31),
                                    member_pool=D("30000.00"), supplementary=True, user=acc)
    distribution.record_approval(supp, step="party_proposal", date=dt.date(2026, 1, 15), reference="党支部会议",
                                 user=acc)
    with pytest.raises(ValidationFailed) as e:  # notice 7 days before the meeting, materials missing
        distribution.record_approval(supp, step="assembly", date=dt.date(2026, 2, 8), reference="决议", entitled=300,
                                     present=240, votes_for=230, notice_date=dt.date(2026, 2, 1), user=acc)
    assert e.value.errors == {"materials_date": ["请填写年度财务会计报告和分配方案公布日期（须在会议 2026-02-08 前至少 10 天）"],
                              "notice_date": ["会议通知距会议 2026-02-08 仅 7 天，须至少 10 天（差 3 天）"]}
    distribution.record_approval(supp, step="assembly", date=dt.date(2026, 2, 8), reference="决议", entitled=300,
                                 present=240, votes_for=230, materials_date=dt.date(2026, 1, 25),
                                 notice_date=dt.date(2026, 1, 28), user=acc)
    distribution.approve_plan(supp, method="assembly", user=books.reviewer)
    with pytest.raises(ValidationFailed, match="记入以后年度"):
        distribution.post_plan(supp, date=dt.date(2025, 12, 31), user=acc)
    v = distribution.post_plan(supp, date=dt.date(2026, 2, 10), user=acc)
    # 211 a line per household: A 308 × 60 = 18,480, B 192 × 60 = 11,520
    assert lines_of(v) == [("21101", D("0.00"), D("11520.00")), ("21101", D("0.00"), D("18480.00")),
                           ("3220103", D("30000.00"), D("0.00"))]
    assert {d.household_id: d.amount for d in supp.dividends} == {ha.id: D("18480.00"), hb.id: D("11520.00")}
    assert distribution.figures_of(supp)["per_share"] == D("60.00")
    assert distribution.figures_of(supp)["distributable"] == D("75000.00")
    # nothing more can go for 2025 than the 45,000 left
    more = distribution.create_plan(org, year=2025, name="第三次", record_date=dt.date(2025, 12, 31),
                                    member_pool=D("45000.01"), supplementary=True, user=acc)
    assert distribution.preview(more).issues[0].message.endswith("超出 0.01")
    distribution.delete_plan(more, user=acc)

    # a 2025 voucher reversed in 2026: its 损益 side goes to 32202, not to 2026's 办公费
    red = vouchers.reverse_voucher(wrong, user=acc, date=dt.date(2026, 3, 5))
    assert lines_of(red) == [("10201", D("0.00"), D("-5000.00")), ("32202", D("-5000.00"), D("0.00"))]
    assert red.lines[0].summary.endswith("（以前年度损益调整）")
    vouchers.review_voucher(red, user=books.reviewer)
    vouchers.post_voucher(red, user=acc)
    p("2026-04-01", ("10201", "400000.00", ""), ("50101", "", "400000.00"))
    p("2026-05-01", ("51301", "150000.00", ""), ("10201", "", "150000.00"))
    books.close_through(2026, 11)
    closing.carry_over(org, 2026, user=acc, today=dt.date(2026, 12, 2))
    # 2026: 经营收益 = 本年收益 = 400,000 − 150,000 = 250,000 (the correction is not in it)
    # 可分配 = 250,000 + 年初 75,000 + 其他转入 5,000 − 30,000 paid out of 32202 this year = 300,000
    y = distribution.year_result(org, 2026)
    assert (y.net_profit, y.operating_profit, y.opening_undistributed, y.other_in, y.distributed, y.distributable) == (
        D("250000.00"), D("250000.00"), D("75000.00"), D("5000.00"), D("30000.00"), D("300000.00"))
    distribution.set_policy(user=books.county_admin, org=org, cadre_tax_rate=D("0.10"))
    plan = distribution.create_plan(
        org, year=2026, name="2026年度收益分配方案", record_date=dt.date(2026, 12, 31), member_pool=D("100000.00"),
        cadre_reward=D("40000.00"), user=acc,
        cadres=[{"name": "书记", "start": dt.date(2020, 1, 1), "weight": D("100")},
                {"name": "主任", "start": dt.date(2026, 7, 1), "weight": D("60")}])
    pv = distribution.preview(plan)
    assert pv.ok, pv.issues
    w = pv.waterfall
    # reserve 30% × min(250,000, 330,000) = 75,000; cap min(20% × 250,000, 225,000) = 50,000; 200.00 a share
    assert (w.reserve_base, w.reserve, w.cadre_cap, w.members, w.closing_undistributed) == (
        D("250000.00"), D("75000.00"), D("50000.00"), D("100000.00"), D("85000.00"))
    # 四议两公开 route, materials 12 days and notice exactly 10 days before the meeting
    for step, day in (("party_proposal", 1), ("committee", 3)):
        distribution.record_approval(plan, step=step, date=dt.date(2026, 12, day), reference=step, user=acc)
    distribution.record_approval(plan, step="party_members", date=dt.date(2026, 12, 5), reference="党员大会",
                                 entitled=30, present=25, votes_for=20, user=acc)
    distribution.record_approval(plan, step="assembly", date=dt.date(2026, 12, 20), reference="成员代表大会",
                                 entitled=60, present=50, votes_for=45, materials_date=dt.date(2026, 12, 8),
                                 notice_date=dt.date(2026, 12, 10), user=acc)
    distribution.record_approval(plan, step="resolution_public", date=dt.date(2026, 12, 21), reference="公告",
                                 user=acc)
    distribution.approve_plan(plan, method="four_two", user=books.reviewer)
    with pytest.raises(ValidationFailed, match="记入 2026年12月"):
        distribution.post_plan(plan, date=dt.date(2027, 1, 5), user=acc)
    v = distribution.post_plan(plan, user=acc)  # (2) dated 31 December, after the carry-over
    assert v.date == dt.date(2026, 12, 31) and v.kind == "distribution"
    assert lines_of(v) == sorted([
        ("3220101", D("75000.00"), D("0.00")), ("31101", D("0.00"), D("75000.00")),
        ("3220102", D("25000.00"), D("0.00")), ("21201", D("0.00"), D("22500.00")), ("214", D("0.00"), D("2500.00")),
        ("3220102", D("15000.00"), D("0.00")), ("21201", D("0.00"), D("13500.00")), ("214", D("0.00"), D("1500.00")),
        ("3220103", D("100000.00"), D("0.00")),
        ("21101", D("0.00"), D("61600.00")), ("21101", D("0.00"), D("38400.00"))])  # A 308 × 200, B 192 × 200
    assert {d.household_id: d.amount for d in plan.dividends} == {ha.id: D("61600.00"), hb.id: D("38400.00")}
    assert distribution.year_end_status(org, 2026).step == "close"
    # the same money again: a second plan is refused; a 补充分配 only gets what is left (85,000)
    second = distribution.create_plan(org, year=2026, name="再分", record_date=dt.date(2026, 12, 31),
                                      member_pool=D("10000.00"), user=acc)
    assert "已有记账的收益分配方案" in {i.path: i.message for i in distribution.preview(second).issues}["supplementary"]
    distribution.update_plan(second, supplementary=True, member_pool=D("90000.00"), cadre_reward=D("10000.01"),
                             cadres=[{"name": "书记", "start": dt.date(2020, 1, 1)}], user=acc)
    issues = {i.path: i.message for i in distribution.preview(second).issues}
    assert issues["cadre_reward"] == ("干部奖励分红 10,000.01 超过上限 10,000.00（20% × 经营性纯收益 250,000.00 − "
                                      "本年已提 40,000.00），超出 0.01")
    assert issues["member_pool"] == "向成员分配 90,000.00 超过可分配余额 74,999.99，超出 15,000.01"
    distribution.delete_plan(second, user=acc)
    books.close_through(2026, 12)
    assert balance(org, "32202") == D("-85000.00") and balance(org, "32201") == 0
    # the statement: the 2025 补充分配 paid in 2026 is 其他转入/调整, the distribution section is 2026's own
    st = reports.income_statement(org, 2026, 1, 12)
    assert [st.value(k, 1) for k in ("operating_profit", "net_profit", "opening_undistributed", "other_in",
                                     "distributable", "reserve_appropriation", "cadre_reward", "member_distribution",
                                     "closing_undistributed")] == [
        D("250000.00"), D("250000.00"), D("75000.00"), D("-25000.00"), D("300000.00"), D("75000.00"),
        D("40000.00"), D("100000.00"), D("85000.00")]
    assert distribution.overdistributed_years(org) == []


def test_a_plan_never_posts_more_than_is_there_and_refusals_name_the_numbers(two_years):
    books, _ = two_years
    org, acc = books.org, books.accountant
    books.post("2025-03-01", ("10201", "10000.00", ""), ("50101", "", "10000.00"))
    books.close_through(2025, 11)
    with pytest.raises(InvalidState, match="尚未开始"):
        closing.carry_over(org, 2025, user=acc, today=dt.date(2025, 11, 30))
    closing.carry_over(org, 2025, user=acc, today=dt.date(2025, 12, 1))
    # 可分配 = 10,000 + 50,000 = 60,000; reserve 30% × min(10,000, 60,000) = 3,000 (art. 42: 本年收益)
    plan = distribution.create_plan(org, year=2025, name="一", record_date=dt.date(2025, 12, 31),
                                    member_pool=D("57000.00"), user=acc)
    w = distribution.preview(plan).waterfall
    assert (w.distributable, w.reserve_base, w.reserve, w.closing_undistributed) == (
        D("60000.00"), D("10000.00"), D("3000.00"), D("0.00"))
    # the 章程 may take 可分配收益 as the base: 18,000, and then 57,000 is 15,000 too much
    distribution.set_policy(user=books.county_admin, org=org, reserve_base="distributable")
    issues = distribution.preview(plan).issues
    assert [(i.path, i.message) for i in issues] == [
        ("member_pool", "向成员分配 57,000.00 超过可分配余额 42,000.00，超出 15,000.00")]
    with pytest.raises(ValidationFailed):
        distribution.set_policy(user=books.county_admin, org=org, notice_days=9)
    # by hand, no more than is there either: 60,000 left, 70,000 refused with the numbers, nothing posted (the
    # request's transaction is rolled back, as the web and API do on any error)
    db.session.commit()
    posted = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.status == "posted"))
    with pytest.raises(ValidationFailed) as e:
        books.post("2025-12-30", ("3220104", "70000.00", ""), ("21102", "", "70000.00"), summary="手工多分")
    assert e.value.errors == {"lines": ["本凭证分配 70,000.00，超过可分配的 60,000.00，记账后未分配收益将为借方 "
                                        "10,000.00（禁止举债分配）"]}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.status == "posted")) == posted
    # books imported from elsewhere that already did it are flagged by the integrity check (coop verify)
    line = {"summary": "手工多分", "counterparty": "其他"}
    vouchers.post_many(org, [({"date": dt.date(2025, 12, 30), "lines": [
        dict(line, account_code="3220104", debit=D("70000.00"), credit=D(0)),
        dict(line, account_code="21102", debit=D(0), credit=D("70000.00"))]}, "normal")],
        preparer=acc, reviewer=books.reviewer, poster=acc)
    books.close_through(2025, 12)
    (flag,) = distribution.overdistributed_years(org)
    assert (flag.year, flag.closing, flag.distributed) == (2025, D("-10000.00"), D("70000.00"))
    assert flag.message.startswith("2025-12-30 记-") and "分配后未分配收益为借方 10,000.00" in flag.message
    from coop.services import warnings

    (w,) = [w for w in warnings.warnings_for(org, dt.date(2026, 1, 5)) if w.code == "distribution_into_debt"]
    assert w.level == "red" and w.facts == [flag.message]


def test_cadre_reward_past_the_years_cap_is_a_red_warning(two_years):
    """三色预警 holds a posted plan's 干部奖励分红 to the cap the distribution checks (RULES §7 step 3): 20% ×
    当年经营性纯收益 for the whole year, less what else was booked as 干部奖励分红, and never more than is left
    after 提取公积公益金 — not 20% of the statement's figure alone, as the warning once did."""
    from coop.services import warnings

    books, _ = two_years
    org, acc = books.org, books.accountant
    books.post("2025-03-01", ("10201", "300000.00", ""), ("50101", "", "300000.00"))
    books.post("2025-03-02", ("51301", "100000.00", ""), ("10201", "", "100000.00"))
    books.close_through(2025, 11)
    closing.carry_over(org, 2025, user=acc, today=dt.date(2025, 12, 1))
    # 经营性纯收益 300,000 − 100,000 = 200,000: cap 20% = 40,000 (after the reserve 30% × 200,000 = 60,000, of
    # 可分配 200,000 + 年初 50,000 = 250,000, 190,000 is left: the 20% binds)
    plan = distribution.create_plan(org, year=2025, name="2025年度收益分配方案", record_date=dt.date(2025, 12, 31),
                                    member_pool=D("0.00"), cadre_reward=D("40000.00"), user=acc,
                                    cadres=[{"name": "书记", "start": dt.date(2020, 1, 1)}])
    assert distribution.preview(plan).waterfall.cadre_cap == D("40000.00")
    approve_by_assembly(plan, books, dt.date(2025, 12, 20), materials=dt.date(2025, 12, 5),
                        notice=dt.date(2025, 12, 8))
    distribution.post_plan(plan, user=acc)

    def cadre_warnings():
        return [w for w in warnings.warnings_for(org, dt.date(2026, 1, 5)) if w.code == "cadre_over_cap"]

    assert cadre_warnings() == []  # 40,000 is the cap itself
    # 5,000 more 干部奖励分红 booked by hand that December: the year's 40,000 is shared, so the plan's 40,000 now
    # stands against 40,000 − 5,000 = 35,000 (the statement's 20% × 200,000 would still say 40,000)
    books.post("2025-12-30", ("3220102", "5000.00", ""), ("21201", "", "5000.00"), summary="补发干部奖励")
    (w,) = cadre_warnings()
    assert w.level == "red" and w.facts == ["2025年度 干部奖励 40,000.00，上限 35,000.00"]


def test_per_share_to_the_fen_floors_and_pool_option(books):
    from coop.ledger.distribution import split_member_pool, split_per_share

    # 100.00 over 3 equal holdings: 33.33 each, 0.01 stays undistributed; the pool option gives one 33.34
    s = split_per_share(D("100.00"), {"a": D(1), "b": D(1), "c": D(1)})
    assert (s.per_share, s.households, s.total) == (D("33.33"), {"a": D("33.33"), "b": D("33.33"), "c": D("33.33")},
                                                    D("99.99"))
    assert split_member_pool(D("100.00"), {"a": D(1), "b": D(1), "c": D(1)}).households["a"] == D("33.34")
    # 扶贫优先股 保底 first: household p holds 10 poverty shares with a 保底 of 50.00; the rest, 950.00 over 20
    # shares (集体股 5), is 47.50 a share: a 10 × 47.50 + 50 = 525.00, b 5 × 47.50 = 237.50, collective 237.50
    s = split_per_share(D("1000.00"), {"p": D(10), "b": D(5)}, D(5), floors={"p": D("50.00")})
    assert (s.per_share, s.households, s.collective) == (D("47.50"), {"p": D("525.00"), "b": D("237.50")}, D("237.50"))
    # 保底 larger than the pool: the pool is shared by the floors alone
    s = split_per_share(D("30.00"), {"p": D(10), "q": D(10)}, floors={"p": D("40.00"), "q": D("20.00")})
    assert s.households == {"p": D("20.00"), "q": D("10.00")}


def test_carry_over_is_refused_out_of_order(two_years):
    books, _ = two_years
    org = books.org
    with pytest.raises(InvalidState, match="请先结账 2025年1月"):
        closing.carry_over(org, 2025, user=books.accountant, today=FAR)
    assert distribution.year_end_status(org, 2025).step == "months"


def test_where_a_village_stands_in_the_year_end_over_the_api_and_the_page(two_years, client, auth):
    from coop.services import users
    from tests.test_distribution_web import page

    books, _ = two_years
    org = books.org
    books.post("2025-03-01", ("10201", "1000.00", ""), ("50101", "", "1000.00"))
    books.close_through(2025, 11)
    token = users.issue_api_token(books.accountant, "t")
    auditor = users.issue_api_token(books.auditor, "t")
    db.session.commit()
    base = f"/api/v1/orgs/{org.id}/year-end/2025"
    h = {"Authorization": f"Bearer {token}"}
    r = client.get(base, headers=h)
    assert r.status_code == 200 and (r.json["step"], r.json["carryover"], r.json["closed"]) == (
        "carryover", "pending", False)
    # the township auditor reads but may not carry over
    assert client.post(f"{base}/carry-over", headers={"Authorization": f"Bearer {auditor}"}).status_code == 403
    r = client.post(f"{base}/carry-over", headers=h)
    assert r.status_code == 200 and (r.json["step"], r.json["carryover"], r.json["posts_in"]) == (
        "distribution", "done", "december")
    assert [v["summary"] for v in r.json["carryover_vouchers"]] == ["结转本年损益", "结转本年收益"]
    r = client.post(f"/api/v1/orgs/{org.id}/year-end/2026/carry-over", headers=h)
    assert r.status_code == 409 and "请先结账 2025年12月" in r.json["message"]
    auth.login("kuaiji")
    html = page(client.get(f"/o/{org.id}/distribution/?year=2025"))
    assert "年终进度" in html and "下一步：（二）收益分配" in html and "结转本年损益" not in html.split("下一步")[1]


def test_distribution_choices_over_the_api_county_admin_only(books, client):
    from coop.services import users

    tokens = {u: users.issue_api_token(getattr(books, u), "t") for u in ("accountant", "county_admin")}
    db.session.commit()
    url = f"/api/v1/orgs/{books.org.id}/distribution-policy"

    def call(method, who, body=None):
        return client.open(url, method=method, json=body, headers={"Authorization": f"Bearer {tokens[who]}"})

    r = call("GET", "accountant")
    assert r.status_code == 200 and r.json == {
        "reserve_base": "net_profit", "dividend_mode": "per_share", "collective_mode": "reserve",
        "cadre_min_days": 183, "cadre_tax_rate": "0.0000", "materials_days": 10, "notice_days": 10}
    assert call("PUT", "accountant", {"dividend_mode": "pool"}).status_code == 403
    r = call("PUT", "county_admin", {"notice_days": 7, "dividend_mode": "lottery"})
    assert r.status_code == 422 and r.json["errors"] == {"notice_days": ["法定至少提前10天"], "dividend_mode": [
        "应为 per_share（每股金额取到分）或 pool（总额按最大余额法）"]}
    r = call("PUT", "county_admin", {"dividend_mode": "pool", "cadre_min_days": 200, "cadre_tax_rate": "0.20"})
    assert r.status_code == 200 and (r.json["dividend_mode"], r.json["cadre_min_days"], r.json["cadre_tax_rate"]) == (
        "pool", 200, "0.2000")
    assert call("PUT", "county_admin", {"dividend_mode": None}).json["dividend_mode"] == "per_share"


def test_the_carry_over_button_and_the_charter_form_on_the_page(two_years, client, auth):
    from tests.test_distribution_web import page

    books, _ = two_years
    org = books.org
    books.post("2025-03-01", ("10201", "1000.00", ""), ("50101", "", "1000.00"))
    books.close_through(2025, 11)
    db.session.commit()
    auth.login("kuaiji")
    base = f"/o/{org.id}/distribution"
    html = page(client.get(f"{base}/?year=2025"))
    assert "（一）损益结转" in html and "待结转" in html and "结转本年损益</button>" in html
    r = client.post(f"{base}/carry-over?year=2025")
    assert r.status_code == 302 and closing.carryover_state(org, 2025) == "done"
    assert "已结转损益：2 张凭证" in page(client.get(r.headers["Location"]))
    # the accountant may not change the 章程 choices; the county admin may
    client.post(f"{base}/policy?year=2025", data={"dividend_mode": "pool"})
    assert distribution.policy_settings(org)["dividend_mode"] == "per_share"
    client.post("/logout")
    auth.login("xian")
    r = client.post(f"{base}/policy?year=2025", data={"dividend_mode": "pool", "cadre_tax_rate": "20",
                                                      "materials_days": "15"})
    assert r.status_code == 302
    s = distribution.policy_settings(org)
    assert (s["dividend_mode"], s["cadre_tax_rate"], s["materials_days"]) == ("pool", D("0.2000"), 15)
    r = client.post(f"{base}/policy?year=2025", data={"notice_days": "5"})
    assert "法定至少提前10天" in page(client.get(r.headers["Location"]))


def test_poverty_shares_get_their_floor_first_through_the_service(books):
    """扶贫优先股 保底 (RULES §7 step 4) on a real register: A holds 2 人口股 and 1 扶贫优先股 (2,000.00 of fiscal
    funds at a face value of 2,000.00, 保底 5%: 100.00), B 2 人口股. A pool of 1,000.00: 100.00 to A first, the
    other 900.00 over all 5 shares at 180.00 — A 3 × 180 + 100 = 640.00, B 360.00."""
    books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    books.post("2025-03-01", ("102", "10000.00", ""), ("501", "", "10000.00"))
    books.close_through(2025, 12)
    org, acc = books.org, books.accountant
    ha, hb = members.create_household(org), members.create_household(org)
    people = [members.add_member(ha, name="贫一", id_number=IDS[0], relation="户主"),
              members.add_member(ha, name="贫二", id_number=IDS[1], relation="配偶"),
              members.add_member(hb, name="富一", id_number=IDS[2], relation="户主"),
              members.add_member(hb, name="富二", id_number=IDS[3], relation="子")]
    for m in people:
        members.record_membership_event(m, "confirmed", date=dt.date(2024, 1, 1), evidence="决议", today=TODAY)
    qp = shares.create_plan(org, name="量化", base_date=dt.date(2024, 12, 31), net_assets=D("10000.00"),
                            rules={"population_units": "1", "poverty_floor_rate": "0.05"}, approval_ref="决议",
                            user=acc)
    shares.set_member_input(qp, people[0], poverty=D("2000.00"))
    shares.issue_plan(qp, user=acc)
    assert qp.face_value == D("2000.0000")
    assert distribution.poverty_floors(org, dt.date(2025, 12, 31)) == {ha.id: D("100.00")}
    plan = distribution.create_plan(org, year=2025, name="方案", record_date=dt.date(2025, 12, 31),
                                    member_pool=D("1000.00"), user=acc)
    p = distribution.preview(plan)
    assert p.ok, p.issues
    assert (p.member_split.per_share, p.member_split.households) == (D("180.00"), {ha.id: D("640.00"), hb.id: D("360.00")})


def test_county_defaults_and_the_organizations_own_choice(books, client):
    from coop.services import users

    tokens = {u: users.issue_api_token(getattr(books, u), "t") for u in ("accountant", "county_admin")}
    db.session.commit()
    url = f"/api/v1/counties/{books.county.id}/distribution-policy"
    h = {"Authorization": f"Bearer {tokens['county_admin']}"}
    assert client.get(url, headers={"Authorization": f"Bearer {tokens['accountant']}"}).status_code == 404
    r = client.put(url, json={"cadre_min_days": 240, "reserve_base": "distributable"}, headers=h)
    assert r.status_code == 200 and (r.json["cadre_min_days"], r.json["reserve_base"]) == (240, "distributable")
    # the village follows the county default until it has its own choice
    assert distribution.policy_settings(books.org)["cadre_min_days"] == 240
    distribution.set_policy(user=books.county_admin, org=books.org, cadre_min_days=200)
    assert distribution.policy_settings(books.org)["cadre_min_days"] == 200
    assert distribution.policy_settings(books.org)["reserve_base"] == "distributable"


def test_a_reserve_booked_by_hand_in_a_sibling_sub_account_is_found(two_years):
    """The village keeps 提取公积公益金 in two sub-accounts (322010101 公积金, 322010102 公益金), the posting role on
    the first. 60,000 booked by hand in the second is a reserve all the same: a 补充分配 takes none again."""
    books, _ = two_years
    org, acc, p = books.org, books.accountant, books.post
    accounts.add_detail_account(org, "3220101", "322010101", "提取公积金")
    accounts.add_detail_account(org, "3220101", "322010102", "提取公益金")
    roles.set_mapping(org, R.DIST_RESERVE, "322010101", user=acc)
    p("2025-03-01", ("10201", "300000.00", ""), ("50101", "", "300000.00"))
    p("2025-03-02", ("51301", "100000.00", ""), ("10201", "", "100000.00"))
    books.close_through(2025, 11)
    closing.carry_over(org, 2025, user=acc, today=dt.date(2025, 12, 5))
    # 本年收益 200,000; the 章程's 30 % reserve is 60,000, booked by hand in the sibling 公益金 account
    p("2025-12-20", ("322010102", "60000.00", ""), ("31102", "", "60000.00"), summary="提取公益金（手工）")
    assert distribution.booked_distributions(org, 2025).reserved == D("60000.00")
    plan = distribution.create_plan(org, year=2025, name="补充分配", record_date=dt.date(2025, 12, 31),
                                    member_pool=D("10000.00"), supplementary=True, user=acc)
    assert distribution.preview(plan).waterfall.reserve == D("0.00")
