"""收益分配 pages with the worked example of research-domain.md §6.2a: plans of a year, the waterfall, what-if
comparison, approvals with quorum messages beside the fields, approve, post, 分红清册 (PDF and xlsx), payments,
and the member's own dividend history. Every bad input is refused with the rule and the amount, nothing written.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coop.core.numerals import amount_in_words
from coop.core.extensions import db
from coop.models import (
    DistributionApproval,
    DistributionCadre,
    DistributionPlan,
    DividendPayment,
    HouseholdDividend,
    Voucher,
)
from coop.services import distribution, reports, users, vouchers
from tests.conftest import count
from tests.test_distribution import approve, make_plan, year_2025  # noqa: F401  (fixture)

D = Decimal


def page(r) -> str:
    return r.get_data(as_text=True)


def text(html: str) -> str:
    """Visible text with whitespace collapsed, for assertions on what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def snapshot():
    return {m.__name__: count(m) for m in (DistributionPlan, DistributionCadre, DistributionApproval,
                                            HouseholdDividend, DividendPayment, Voucher)}


EXAMPLE_FORM = {
    "name": "方案一", "record_date": "2025-12-31", "reserve_rate": "", "cadre_reward": "36000.00",
    "member_pool": "90000.00", "other": "",
    "cadres.0.name": "书记", "cadres.0.title": "党支部书记", "cadres.0.start": "2020-01-01", "cadres.0.weight": "100",
    "cadres.1.name": "", "cadres.1.start": "",  # a blank row is ignored
    "cadres.2.name": "主任", "cadres.2.title": "村委会主任", "cadres.2.start": "2021-01-01", "cadres.2.weight": "80",
    "action": "save",
}


@pytest.fixture
def village(year_2025, client, auth):
    books, (ha, hb) = year_2025
    auth.login("kuaiji")
    return books, ha, hb, f"/o/{books.org.id}/distribution"


def create(client, base, **changes):
    form = dict(EXAMPLE_FORM, **changes)
    return client.post(f"{base}/new?year=2025", data=form)


def plan_id_of(r) -> int:
    assert r.status_code == 302, page(r)
    return int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])


# ---------------------------------------------------------------- the worked example end to end


def test_worked_example_through_the_pages(village, client, auth):
    books, ha, hb, base = village
    html = text(page(client.get(f"{base}/?year=2025")))
    assert "可分配收益 190,000.00" in html and "200,000.00" in html  # 经营性纯收益
    assert "干部奖励分红上限 40,000.00" in html

    pid = plan_id_of(create(client, base))
    html = text(page(client.get(f"{base}/{pid}")))
    assert "本年收益 210,000.00" in html
    assert "加：年初未分配收益 -20,000.00" in html
    assert "可分配收益 190,000.00" in html
    assert "（一）弥补以前年度亏损 20,000.00" in html
    assert "（二）提取公积公益金 57,000.00 30.00% × 提取基数 190,000.00（章程比例）" in html
    assert "干部奖励分红 36,000.00 上限 40,000.00：不超过 20% × 当年经营性纯收益 200,000.00 = 40,000.00" in html
    assert "（三）向成员分配 90,000.00 每股 180.00 元 × 500.0000 股" in html
    assert "年末未分配收益 7,000.00" in html
    # cadres: name, title, tenure, months, weight, amount (100 : 80 of 36,000)
    assert "书记 党支部书记 2020-01-01 在任 365 100 20,000.00" in html
    assert "主任 村委会主任 2021-01-01 在任 365 80 16,000.00" in html
    # households: A 308 units × 180 = 55,440.00; B 192 units = 34,560.00
    assert "0001 张一 308.0000 180.00 55,440.00" in html and "0002 李一 192.0000 180.00 34,560.00" in html

    # approval: the 村党组织 first, then the 成员大会 resolution (materials 12 days and notice 10 days before);
    # the reviewer approves and the accountant posts
    r = client.post(f"{base}/{pid}/approvals", data={"step": "party_proposal", "date": "2025-12-26",
                                                      "reference": "党支部会议记录"})
    assert r.status_code == 302, page(r)
    r = client.post(f"{base}/{pid}/approvals", data={"step": "assembly", "date": "2026-01-10",
                                                      "reference": "2026年第1号成员大会决议", "entitled": "300",
                                                      "present": "240", "votes_for": "230",
                                                      "materials_date": "2026-01-01", "notice_date": "2025-12-31"})
    assert r.status_code == 422 and "年度财务会计报告和分配方案公布距会议 2026-01-10 仅 9 天，须至少 10 天（差 1 天）" in page(r)
    r = client.post(f"{base}/{pid}/approvals", data={"step": "assembly", "date": "2026-01-10",
                                                      "reference": "2026年第1号成员大会决议", "entitled": "300",
                                                      "present": "240", "votes_for": "230",
                                                      "materials_date": "2025-12-29", "notice_date": "2025-12-31"})
    assert r.status_code == 302, page(r)
    client.post("/logout")
    auth.login("shenhe")
    r = client.post(f"{base}/{pid}/approve", data={"approval_method": "assembly"})
    assert r.status_code == 302, page(r)
    client.post("/logout")
    auth.login("kuaiji")
    r = client.post(f"{base}/{pid}/post", data={"date": "2026-01-15"})
    assert r.status_code == 302, page(r)
    plan = db.session.get(DistributionPlan, pid)
    assert plan.status == "posted"
    html = text(page(client.get(f"{base}/{pid}")))
    assert "已记账" in html and "收益分配凭证 2026-01-15 记-" in html
    # the figures as posted, frozen: 可分配收益 190,000, reserve 57,000, members 90,000, left 7,000
    assert "记账时的数字（冻结）" in html and "可分配收益 190,000.00" in html and "年末未分配收益 7,000.00" in html

    # the books after posting: balanced; 2025's plan, decided after 2025 closed, is 其他转入/调整 on 2026's
    # 收益及收益分配表 (183,000 = 57,000 + 36,000 + 90,000), whose distribution section is 2026's own
    assert reports.trial_balance(books.org, 2026, 1).balanced
    st = reports.income_statement(books.org, 2026, 1, 1)
    assert (st.value("opening_undistributed"), st.value("other_in"), st.value("reserve_appropriation"),
            st.value("member_distribution"), st.value("closing_undistributed", 1)) == (
        D("190000.00"), D("-183000.00"), D("0.00"), D("0.00"), D("7000.00"))
    html = text(page(client.get(f"/o/{books.org.id}/reports/income-statement?year=2026&month_from=1&month_to=1")))
    assert "其他转入/调整" in html and "183,000.00" in html

    # a second posting of the same plan is refused, nothing written
    before = snapshot()
    r = client.post(f"{base}/{pid}/post", data={"date": "2026-01-16"})
    assert r.status_code == 409 and "不能重复记账" in page(r)
    assert snapshot() == before


def test_dividend_roll_pdf_and_xlsx(village, client, tmp_path):
    books, ha, hb, base = village
    pid = plan_id_of(create(client, base))
    plan = db.session.get(DistributionPlan, pid)
    approve(plan, books)
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    db.session.commit()
    r = client.get(f"{base}/{pid}/dividends.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = tmp_path / "roll.pdf"
    pdf.write_bytes(r.data)
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "2025年度股份分红清册" in out and "签领" in out
    assert "55,440.00" in out and amount_in_words(D("55440.00")) in out  # 伍万伍仟肆佰肆拾元整
    assert "90,000.00" in out and "玖万元整" in out  # the total equals the member pool, with its 大写
    assert "180.00" in out and "500.0000" in out

    r = client.get(f"{base}/{pid}/dividends.xlsx")
    assert r.status_code == 200
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(r.data)).active
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    assert rows[0][1:4] == ["0001", "张一", 308] and rows[0][5] == 55440 and rows[0][6] == "伍万伍仟肆佰肆拾元整"
    assert rows[-1][0] == "合计" and rows[-1][5] == 90000 and rows[-1][6] == "玖万元整"


def test_payments_select_households_and_link_the_voucher(village, client):
    books, ha, hb, base = village
    pid = plan_id_of(create(client, base))
    plan = db.session.get(DistributionPlan, pid)
    approve(plan, books)
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    db.session.commit()
    html = text(page(client.get(f"{base}/{pid}/dividends")))
    assert "应发 90,000.00" in html and "未发放 90,000.00" in html
    # nothing chosen: refused beside the field, nothing written
    before = snapshot()
    r = client.post(f"{base}/{pid}/dividends", data={"date": "2026-01-20", "pay_from": "102"})
    assert r.status_code == 422 and "所选的户没有未发放的分红" in page(r)
    # a closed month is refused
    r = client.post(f"{base}/{pid}/dividends", data={"date": "2025-12-20", "pay_from": "102",
                                                     "household_ids": str(ha.id)})
    assert r.status_code == 409 and "已结账" in page(r)
    assert snapshot() == before
    r = client.post(f"{base}/{pid}/dividends", data={"date": "2026-01-20", "pay_from": "101",
                                                     "household_ids": str(ha.id)})
    assert r.status_code == 302, page(r)
    v = db.session.scalars(sa.select(Voucher).where(Voucher.status == "draft")).one()
    assert v.total_debit == D("55440.00") and [(ln.account.code, ln.counterparty) for ln in v.lines] == [
        ("211", f"{ha.number} 张一"), ("101", None)]
    html = page(client.get(r.headers["Location"]))
    assert f"/o/{books.org.id}/vouchers/{v.id}" in html  # the drafted voucher is linked
    t = text(html)
    assert "发放中（凭证未记账） 55,440.00" in t and "未发放 34,560.00" in t
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=books.accountant)
    db.session.commit()
    t = text(page(client.get(f"{base}/{pid}/dividends")))
    assert "已发放（凭证已记账） 55,440.00" in t and "未发放 34,560.00" in t
    # an adjustment cannot undo a payment behind the register: the page says to reverse it instead
    r = client.get(f"/o/{books.org.id}/vouchers/{v.id}/adjust")
    assert r.status_code == 409 and "请红字冲销整张发放凭证" in page(r)
    # the money came back: the payment red-reversed pays nobody, and the list of payment vouchers says so
    red = vouchers.reverse_voucher(v, user=books.accountant, date=dt.date(2026, 1, 21))
    db.session.commit()
    # its draft's date is corrected through the form, every line sent back as the page shows it
    from coop.web.forms import voucher_values

    values = voucher_values(red)
    data = {"date": "2026-01-22", "word": values["word"], "attachment_count": "0"}
    for i, ln in enumerate(values["lines"]):
        data.update({f"lines-{i}-{k}": val for k, val in ln.items()})
    r = client.post(f"/o/{books.org.id}/vouchers/{red.id}/edit", data=data)
    assert r.status_code == 302, page(r)
    db.session.expire_all()
    red = db.session.get(Voucher, red.id)
    vouchers.review_voucher(red, user=books.reviewer)
    vouchers.post_voucher(red, user=books.accountant)
    db.session.commit()
    t = text(page(client.get(f"{base}/{pid}/dividends")))
    assert "未发放 90,000.00" in t and f"55,440.00 · 1 户 已记账 已红字冲销 2026-01-22 {red.display_number}" in t


# ---------------------------------------------------------------- what-if


def test_what_if_preview_saves_nothing_and_compare_shows_each_household(village, client):
    books, ha, hb, base = village
    before = snapshot()
    r = create(client, base, action="preview", member_pool="100000.00", reserve_rate="25")
    assert r.status_code == 200
    html = text(page(r))
    assert "试算结果" in html and "47,500.00" in html  # 25% × 190,000
    assert "每股 200.00 元" in html
    assert snapshot() == before

    p1 = plan_id_of(create(client, base))
    p2 = plan_id_of(create(client, base, name="方案二", member_pool="100000.00", cadre_reward="30000.00"))
    no_cadres = {k: "" for k in EXAMPLE_FORM if k.startswith("cadres.")}
    p3 = plan_id_of(create(client, base, name="方案三", member_pool="66666.66", reserve_rate="35", cadre_reward="0",
                           **no_cadres))
    html = text(page(client.get(f"{base}/compare?year=2025")))
    assert "方案一" in html and "方案二" in html and "方案三" in html
    # per share to the fen (RULES §7): 66,666.66 ÷ 500 = 133.33332 → 133.33 a share; A 308 × 133.33 = 41,065.64,
    # B 192 × 133.33 = 25,599.36; the 1.66 left stays in 未分配收益
    assert "每股金额 180.00 200.00 133.33" in html
    assert "0001 张一 308.0000 55,440.00 61,600.00 41,065.64" in html
    assert "0002 李一 192.0000 34,560.00 38,400.00 25,599.36" in html
    assert "合计 90,000.00 100,000.00 66,665.00" in html
    html = text(page(client.get(f"{base}/compare?year=2025&plan={p1}&plan={p3}")))
    assert "方案二" not in html and "方案三" in html
    assert p2


# ---------------------------------------------------------------- bad input: the rule and the amount, nothing written


def test_bad_plans_are_refused_beside_the_fields(village, client):
    books, ha, hb, base = village
    before = snapshot()
    r = create(client, base, cadre_reward="45000.00")
    assert r.status_code == 422
    assert "干部奖励分红 45,000.00 超过上限 40,000.00（20% × 经营性纯收益 200,000.00），超出 5,000.00" in page(r)
    r = create(client, base, member_pool="100000.01")
    assert r.status_code == 422 and "向成员分配 100,000.01 超过可分配余额 97,000.00，超出 3,000.01" in page(r)
    r = create(client, base, reserve_rate="120")
    assert r.status_code == 422 and "公积公益金提取比例 120.00% 超出0到100%的范围" in page(r)
    r = create(client, base, **{"cadres.2.start": "2025-08-01"})
    assert r.status_code == 422 and "主任 2025年任职 153 天，不足 183 天（差 30 天），不能参与奖励" in page(r)
    # the rows were compacted (blank row dropped): the message sits in the second row, beside 主任
    assert re.search(r'name="cadres\.1\.name"[^>]*value="主任"[^<]*>\s*<p class="field-error">主任 2025年任职 153 天', page(r))
    r = create(client, base, member_pool="-5")
    assert r.status_code == 422 and "金额不能为负数" in page(r)
    r = client.post(f"{base}/new?year=2026", data=EXAMPLE_FORM)
    assert r.status_code == 422 and "2026年12月尚未到年终：请先结账 1–11 月，在12月结转损益后编制收益分配方案" in page(r)
    assert snapshot() == before


def test_no_distribution_without_distributable_income(app, books, client, auth):
    """A year whose 年初未分配收益 (−300,000) outweighs 本年收益 (+10,000): 可分配收益 −290,000 is refused."""
    books.lock_opening({"102": "100000.00", "32202": "300000.00", "301": "-400000.00"})
    books.post("2025-03-01", ("102", "10000.00", ""), ("501", "", "10000.00"), summary="经营收入")
    books.close_through(2025, 12)
    db.session.commit()
    auth.login("kuaiji")
    base = f"/o/{books.org.id}/distribution"
    assert "不得分配（禁止举债分配）" in page(client.get(f"{base}/?year=2025"))
    before = snapshot()
    r = client.post(f"{base}/new?year=2025", data={"name": "x", "member_pool": "1000.00", "action": "save"})
    assert r.status_code == 422 and "可分配收益为 -290,000.00 元，不大于零，不得分配（禁止举债分配）" in page(r)
    assert snapshot() == before


def test_votes_missing_the_quorum_are_shown_beside_the_fields(village, client, auth):
    books, ha, hb, base = village
    pid = plan_id_of(create(client, base))
    before = snapshot()
    r = client.post(f"{base}/{pid}/approvals", data={"step": "assembly", "date": "2026-01-10", "reference": "决议",
                                                      "entitled": "300", "present": "199", "votes_for": "199"})
    assert r.status_code == 422
    html = page(r)
    assert re.search(r'id="f-present"[^>]*>\s*<p class="field-error" id="e-present">'
                     r"成员大会须有三分之二以上成员到会：应到 300 人，至少 200 人，实到 199 人，差 1 人", html)
    r = client.post(f"{base}/{pid}/approvals", data={"step": "assembly", "date": "2026-01-10", "reference": "决议",
                                                      "entitled": "300", "present": "250", "votes_for": "199"})
    assert r.status_code == 422 and "收益分配须经全体成员三分之二以上同意：至少 200 票，实得 199 票，差 1 票" in page(r)
    r = client.post(f"{base}/{pid}/approvals", data={"step": "party_members", "date": "2026-01-05", "reference": "党员大会",
                                                      "entitled": "40", "present": "20", "votes_for": "20"})
    assert r.status_code == 422 and "党员大会须过半数党员到会" in page(r)
    r = client.post(f"{base}/{pid}/approvals", data={"step": "assembly", "date": "2026-01-10", "reference": "决议",
                                                      "entitled": "3.5", "present": "x"})
    assert r.status_code == 422 and "人数应为整数" in page(r)
    assert snapshot() == before
    # approving without the resolution: refused with what is missing
    client.post("/logout")
    auth.login("shenhe")
    r = client.post(f"{base}/{pid}/approve", data={"approval_method": "four_two"})
    assert r.status_code == 409 and "审批未完成，缺少：村党组织提议、村两委会议商议、党员大会审议" in page(r)
    assert snapshot() == before


def test_four_two_steps_then_approve_and_post_in_an_open_month_only(village, client, auth):
    books, ha, hb, base = village
    pid = plan_id_of(create(client, base))
    steps = [("party_proposal", "2026-01-02", {}), ("committee", "2026-01-03", {}),
             ("party_members", "2026-01-05", {"entitled": "40", "present": "30", "votes_for": "25"}),
             ("assembly", "2026-01-10", {"entitled": "300", "present": "240", "votes_for": "230",
                                         "materials_date": "2025-12-30", "notice_date": "2025-12-31"}),
             ("resolution_public", "2026-01-11", {})]
    for step, date, votes in steps:
        r = client.post(f"{base}/{pid}/approvals", data={"step": step, "date": date, "reference": f"{step}-1", **votes})
        assert r.status_code == 302, page(r)
    assert "党员大会审议 2026-01-05 party_members-1 40 30 25" in text(page(client.get(f"{base}/{pid}/approvals")))
    # the accountant may not approve; the reviewer may not post
    assert client.post(f"{base}/{pid}/approve", data={"approval_method": "four_two"}).status_code == 403
    client.post("/logout")
    auth.login("shenhe")
    assert client.post(f"{base}/{pid}/approve", data={"approval_method": "four_two"}).status_code == 302
    assert client.post(f"{base}/{pid}/post", data={"date": "2026-01-15"}).status_code == 403
    client.post("/logout")
    auth.login("kuaiji")
    before = snapshot()
    r = client.post(f"{base}/{pid}/post", data={"date": "2025-12-31"})  # decided after the close: a later year
    assert r.status_code == 422 and "2025年已结账：方案记入以后年度的未结账月份" in page(r)
    r = client.post(f"{base}/{pid}/post", data={})
    assert r.status_code == 422 and "请填写记账日期（本年度已结账，记入以后的未结账月份）" in page(r)
    assert snapshot() == before
    assert client.post(f"{base}/{pid}/post", data={"date": "2026-02-01"}).status_code == 302
    # a second plan of the same year is refused once one is posted: a 补充分配 must say so, and the money is gone
    r = create(client, base, name="方案二")
    assert r.status_code == 422 and "2025年度已有记账的收益分配方案（方案一）；再次分配须作为补充分配，单独审批" in page(r)
    r = create(client, base, name="方案二", supplementary="1", cadre_reward="0", member_pool="7000.01",
               **{k: "" for k in EXAMPLE_FORM if k.startswith("cadres.")})
    assert r.status_code == 422 and "向成员分配 7,000.01 超过可分配余额 7,000.00，超出 0.01" in page(r)
    assert db.session.get(DistributionPlan, pid).approval_method == "four_two"


def test_pages_are_404_for_other_organizations(village, client, app, auth):
    books, ha, hb, base = village
    pid = plan_id_of(create(client, base))
    from coop.services import orgs

    other = orgs.create_organization(books.township, name="西村股份经济合作社", books_start_year=2025)
    u = users.create_user("xicun", "西村会计", "password1")
    users.assign_role(u, "accountant", other)
    db.session.commit()
    client.post("/logout")
    auth.login("xicun")
    for path in ("/", f"/{pid}", f"/{pid}/approvals", f"/{pid}/dividends.pdf", "/compare?year=2025", "/mine"):
        assert client.get(base + path).status_code == 404, path
    # an existing plan under the user's own organization's URL is a 404 too
    assert client.get(f"/o/{other.id}/distribution/{pid}").status_code == 404


# ---------------------------------------------------------------- the member's own view


def test_member_sees_only_their_own_household_history(village, client, auth):
    books, ha, hb, base = village
    pid = plan_id_of(create(client, base))
    plan = db.session.get(DistributionPlan, pid)
    approve(plan, books)
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    v = distribution.pay_dividends(plan, household_ids=[hb.id], date=dt.date(2026, 1, 20), pay_from="102",
                                   user=books.accountant)
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=books.accountant)
    zhang = ha.head
    u = users.create_user("zhangyi", "张一", "password1")
    users.assign_role(u, "member", books.org)
    zhang.user_id = u.id
    li_user = users.create_user("liyi", "李一", "password1")
    users.assign_role(li_user, "member", books.org)
    hb.head.user_id = li_user.id
    db.session.commit()
    client.post("/logout")
    auth.login("zhangyi")
    html = text(page(client.get(f"{base}/mine")))
    assert "2025年度 未发放 股数 308.0000 分红金额 55,440.00 大写 伍万伍仟肆佰肆拾元整" in html  # one card a year
    assert "34,560.00" not in html and "李一" not in html
    # the portal home shows the same year, what is unpaid, and the chart
    home = page(client.get(f"/me/households/{ha.id}"))
    assert "2025年度 ¥55,440.00 未发放 ¥55,440.00" in text(home) and "本户历年分红（元）" in home
    # the ledger pages stay closed to a member
    assert client.get(f"{base}/").status_code == 403
    assert client.get(f"{base}/{pid}/dividends.pdf").status_code == 403
    client.post("/logout")
    auth.login("liyi")
    html = text(page(client.get(f"{base}/mine")))
    assert "2025年度 已发放 股数 192.0000 分红金额 34,560.00 大写 叁万肆仟伍佰陆拾元整" in html and "55,440.00" not in html
    assert "2025年度 ¥34,560.00 已发放" in text(page(client.get(f"/me/households/{hb.id}")))
    # a member account without the member role, or a user not linked to a member: 404
    users.assign_role(users.create_user("nobody", "无关", "password1"), "member", books.org)
    db.session.commit()
    client.post("/logout")
    auth.login("nobody")
    assert client.get(f"{base}/mine").status_code == 404


def test_edit_and_delete_a_draft(village, client):
    books, ha, hb, base = village
    pid = plan_id_of(create(client, base))
    html = page(client.get(f"{base}/{pid}/edit"))
    assert 'value="90000.00"' in html and 'name="cadres.1.name" type="text" value="主任"' in html
    # the edit form comes back compacted: 主任 now in row 1, row 2 blank
    form = dict(EXAMPLE_FORM, member_pool="80000.00", reserve_rate="32.5")
    form.update({"cadres.0.title": "", "cadres.1.name": "主任", "cadres.1.start": "2021-01-01", "cadres.1.weight": "80",
                 "cadres.2.name": "", "cadres.2.title": "", "cadres.2.start": "", "cadres.2.weight": ""})
    r = client.post(f"{base}/{pid}/edit", data=form)
    assert r.status_code == 302, page(r)
    plan = db.session.get(DistributionPlan, pid)
    assert (plan.member_pool, plan.reserve_rate, [c.name for c in plan.cadres]) == (
        D("80000.00"), D("0.3250"), ["书记", "主任"])
    assert "（二）提取公积公益金 61,750.00 32.50% × 提取基数 190,000.00（本方案比例）" in text(page(client.get(f"{base}/{pid}")))
    before = snapshot()
    r = client.post(f"{base}/{pid}/edit", data=dict(form, member_pool="92250.01"))  # 190,000 − 61,750 − 36,000
    assert r.status_code == 422 and "超出 0.01" in page(r)
    assert snapshot() == before and db.session.get(DistributionPlan, pid).member_pool == D("80000.00")
    r = client.post(f"{base}/{pid}/delete")
    assert r.status_code == 302 and db.session.get(DistributionPlan, pid) is None


def test_a_saved_plan_that_no_longer_fits_shows_each_rule_and_cannot_be_approved(village, client, auth):
    """The service keeps a scenario as drafted; the page says which rule it breaks and by how much."""
    books, ha, hb, base = village
    plan = make_plan(books, cadre_reward=D("45000.00"), member_pool=D("90000.00"))
    distribution.record_approval(plan, step="party_proposal", date=dt.date(2025, 12, 26), reference="党支部",
                                 user=books.accountant)
    distribution.record_approval(plan, step="assembly", date=dt.date(2026, 1, 10), reference="决议",
                                 entitled=300, present=240, votes_for=230, materials_date=dt.date(2025, 12, 29),
                                 notice_date=dt.date(2025, 12, 31), user=books.accountant)
    db.session.commit()
    html = page(client.get(f"{base}/{plan.id}"))
    t = text(html)
    assert "本方案不符合分配规则，不能批准或记账" in t
    assert "干部奖励分红 45,000.00 超过上限 40,000.00（20% × 经营性纯收益 200,000.00），超出 5,000.00" in t
    assert "向成员分配 90,000.00 超过可分配余额 88,000.00，超出 2,000.00" in t
    client.post("/logout")
    auth.login("shenhe")
    r = client.post(f"{base}/{plan.id}/approve", data={"approval_method": "assembly"})
    assert r.status_code == 422 and db.session.get(DistributionPlan, plan.id).status == "draft"
