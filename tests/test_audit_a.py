"""Acceptance probes of RULES §1–§8 (audit-a): each test pins a rule sentence that was found unenforced."""
from __future__ import annotations

from coop.core.extensions import db
from tests.test_api_ledger import Api, assert_refused, db_state, voucher
from tests.test_members_web import people, village  # noqa: F401  (fixtures)

import pytest


@pytest.fixture
def api(books, client):
    return Api(client, books)


def test_a_numbered_draft_keeps_its_voucher_word(api):
    """RULES §3: numbers per organization per month, gapless and never reused. 记-0001, un-reviewed, must not
    become 收-0001: 记 would keep a hole at 0001 and the next 收 voucher would be given 收-0001 again."""
    first = api.create(voucher())
    assert api.review(first["id"])["display_number"] == "记-0001"
    assert api.post(f"/vouchers/{first['id']}/unreview", who="reviewer").json["status"] == "draft"
    before = db_state()
    r = api.put(f"/vouchers/{first['id']}", {**voucher(), "word": "收"})
    assert assert_refused(r, 422, "word") == ["已编号的凭证不能改凭证字（记-0001），请保持“记”字"]
    assert db_state() == before
    # a new 收 voucher starts its own sequence at 0001, and the 记 voucher keeps 记-0001 on re-review
    other = api.create({**voucher(), "word": "收"})
    assert api.review(other["id"])["display_number"] == "收-0001"
    assert api.review(first["id"])["display_number"] == "记-0001"


# ---------------------------------------------------------------- §7 四议两公开: each step after the one before

from tests.test_distribution import year_2025  # noqa: E402,F401  (fixture)
from tests.test_distribution_api import ASSEMBLY, EXAMPLE, PARTY  # noqa: E402
from tests.test_distribution_api import Api as PlanApi  # noqa: E402
from tests.test_distribution_web import snapshot  # noqa: E402


def test_a_four_two_step_recorded_late_cannot_be_dated_after_a_later_step(year_2025, client):
    """RULES §7: 党组织提议 → 两委商议 → 党员大会审议 → 成员(代表)大会决议 → 决议公开. A 两委商议 entered after the
    成员大会 resolution but dated after it would make the order false; it is refused, naming the later step, and
    a 两委商议 dated between the two is taken."""
    books, _ = year_2025
    a = PlanApi(client, books)
    pid = a.post("", EXAMPLE).json["id"]
    assert a.post(f"/{pid}/approvals", PARTY).status_code == 201
    assert a.post(f"/{pid}/approvals", ASSEMBLY).status_code == 201  # 2026-01-10
    before = snapshot()
    r = a.post(f"/{pid}/approvals", {"step": "committee", "date": "2026-01-12", "reference": "两委会议记录"})
    assert r.status_code == 422, r.json
    assert r.json["errors"]["date"] == ["“村两委会议商议”的日期 2026-01-12 晚于后一步骤“成员（代表）大会决议”（2026-01-10）"]
    r = a.post(f"/{pid}/approvals", {"step": "party_members", "date": "2026-01-11", "reference": "党员大会",
                                     "entitled": 40, "present": 30, "votes_for": 25})
    assert r.status_code == 422 and "晚于后一步骤“成员（代表）大会决议”" in r.json["errors"]["date"][0], r.json
    assert snapshot() == before
    r = a.post(f"/{pid}/approvals", {"step": "committee", "date": "2026-01-02", "reference": "两委会议记录"})
    assert r.status_code == 201, r.json


# ---------------------------------------------------------------- §4 反结账 racing the next month's 结账


def test_reopening_a_month_while_the_next_one_closes_never_leaves_a_gap(app, books, monkeypatch):
    """RULES §4: a month closes only after the one before it, and only the latest closed month reopens. 反结账 of
    January racing the 结账 of February must not end with January open and February closed: the reopen waits for
    the close (the books lock), then finds February the latest closed month and is refused."""
    import datetime as dt
    import time

    from flask import current_app

    from coop.core.extensions import db
    from coop.models import Organization, User
    from coop.services import closing, periods
    from tests.test_concurrency_close import _run

    books.lock_opening({"102": "1000.00", "301": "-1000.00"})
    books.close_through(2025, 1)
    db.session.commit()
    org_id, acc_id, sup_id = books.org.id, books.accountant.id, books.auditor.id

    def slow_close(org, year, month):  # holds the close's transaction open while the reopen comes in
        time.sleep(0.4)
        return []

    monkeypatch.setattr(closing, "CLOSE_PRECONDITIONS", [*closing.CLOSE_PRECONDITIONS, slow_close])

    def close_february():
        org, user = db.session.get(Organization, org_id), db.session.get(User, acc_id)
        closing.close_period(org, 2025, 2, user=user, today=dt.date(2100, 1, 1))

    def reopen_january():
        time.sleep(0.15)
        org, user = db.session.get(Organization, org_id), db.session.get(User, sup_id)
        closing.reopen_period(org, 2025, 1, user=user, reason="凭证录错")

    results = _run(current_app._get_current_object(), {"close": close_february, "reopen": reopen_january})
    db.session.expire_all()
    closed = periods.closed_months(db.session.get(Organization, org_id))
    assert results == {"close": "ok", "reopen": "只能反结账最近一个已结账的月份"}, results
    assert {(2025, 1), (2025, 2)} <= closed


# ---------------------------------------------------------------- §1/§6 the 章程's 集体股 in the quantification


def test_a_plan_without_its_own_collective_ratio_takes_the_charters(people, client, books, auth):
    """RULES §1: the 章程 says whether a 集体股 exists and its share; §6: 集体股 optional, ≤ 30%. A 折股量化方案 that
    does not state its own ratio takes the 章程's (five confirmed members, 1 人口股 each, 章程 集体股 20%: total
    5 ÷ 0.8 = 6.25 units, of which 1.25 集体股); one that states it keeps its own."""
    from coop.services import users
    from tests.test_members_api import Api as MembersApi

    api = MembersApi(client, books)
    admin = {"Authorization": f"Bearer {users.issue_api_token(books.county_admin, 't')}"}
    db.session.commit()
    plan = {"name": "折股量化", "base_date": "2024-12-31", "net_assets": "500000.00"}
    r = api.post("/plans", plan)  # the 章程 has no 集体股 yet
    assert r.status_code == 201 and r.json["rules"]["collective_ratio"] == "0", r.json
    r = client.put(f"/api/v1/admin/orgs/{books.org.id}/charter", headers=admin,
                   json={"has_collective_share": True, "collective_share_ratio": "0.20"})
    assert r.status_code == 200, r.json
    r = api.post("/plans", plan)
    assert r.status_code == 201 and r.json["rules"]["collective_ratio"] == "0.2000", r.json
    p = api.get(f"/plans/{r.json['id']}/preview").json
    assert (p["total_units"], p["collective_units"]) == ("6.2500", "1.2500"), p
    r = api.post("/plans", plan | {"collective_ratio": "0.1"})
    assert r.status_code == 201 and r.json["rules"]["collective_ratio"] == "0.1", r.json
    # the page's new-plan form starts from the 章程's share
    auth.login(books.accountant)
    html = client.get(f"/o/{books.org.id}/shares/plans/new").get_data(as_text=True)
    assert 'name="collective_ratio" type="text" value="0.2000"' in html


# ---------------------------------------------------------------- §6 有偿退出 reversed


def test_a_reversed_buy_back_no_longer_counts_against_the_years_limit(village, client, books):
    """RULES §6: buy-back at most 5% of all shares a year; a 冲正 undoes a recorded event. 10.5 units: 5% is 0.525
    a year. A buy-back of 0.5 reversed no longer counts, so another 0.5 is taken; a third 0.5 is refused with the
    numbers (0.5 bought back, 0.475 over)."""
    from tests.test_members_api import Api as MembersApi

    books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    db.session.commit()
    api = MembersApi(client, books)
    body = {"member_id": village.p[1].id, "share_class": "population", "units": "0.5", "price": "23809.52",
            "date": "2025-06-01", "reference": "退出申请"}
    r = api.post("/share-actions/buyback", body)
    assert r.status_code == 201, r.json
    r = api.post(f"/share-actions/{r.json['id']}/reverse", {"date": "2025-06-02", "reason": "申请撤回"})
    assert r.status_code == 201, r.json
    r = api.post("/share-actions/buyback", body | {"date": "2025-06-03"})
    assert r.status_code == 201, r.json
    r = api.post("/share-actions/buyback", body | {"date": "2025-06-04"})
    assert r.status_code == 422
    assert r.json["errors"]["units"] == ["2025年回购上限为总股本的 5%（0.5250 股），已回购 0.5000 股，"
                                         "本次 0.5000 股将超出 0.4750 股"]


# ---------------------------------------------------------------- §3 dates: a plan decided after the close


def test_a_plan_posted_after_the_close_cannot_be_dated_years_ahead(books, client):
    """RULES §3: a voucher date lies no later than the current month (Beijing time) + 1 month — a typo like 2062
    must not hide a posted voucher from every report; §4: a plan decided after the year's close posts in a later
    year. The 收益分配 voucher is refused at `date` like any other, and nothing is written."""
    import datetime as dt
    from decimal import Decimal as D

    from coop.core import clock
    from coop.models import DistributionPlan, Voucher
    from coop.services import distribution, users
    from tests.conftest import count
    from tests.test_year_end import approve_by_assembly

    books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    books.post("2025-03-01", ("102", "10000.00", ""), ("501", "", "10000.00"))
    books.close_through(2025, 12)
    acc = books.accountant
    plan = distribution.create_plan(books.org, year=2025, name="2025年度收益分配", record_date=dt.date(2025, 12, 31),
                                    member_pool=D("0.00"), user=acc)  # 公积公益金 30% × 10,000 = 3,000 only
    approve_by_assembly(plan, books, dt.date(2026, 2, 8), materials=dt.date(2026, 1, 25), notice=dt.date(2026, 1, 28))
    token = users.issue_api_token(acc, "t")
    db.session.commit()
    vouchers_before = count(Voucher)
    latest = clock.latest_voucher_date()
    r = client.post(f"/api/v1/orgs/{books.org.id}/distribution-plans/{plan.id}/post", json={"date": "2062-01-10"},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422, r.json
    assert r.json["errors"] == {"date": [f"凭证日期 2062-01-10 晚于 {latest}（最晚为下月底），请检查年份和月份"]}
    db.session.expire_all()
    assert count(Voucher) == vouchers_before and db.session.get(DistributionPlan, plan.id).status == "approved"
    r = client.post(f"/api/v1/orgs/{books.org.id}/distribution-plans/{plan.id}/post", json={"date": "2026-02-10"},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.json


# ---------------------------------------------------------------- §3 four eyes: whoever rewrites a draft prepared it


def test_whoever_rewrites_a_draft_cannot_review_it(api, books):
    """RULES §3: the reviewer must not be the preparer. A reviewer who also keeps books rewrote 王会计's draft (a
    different amount) and then reviewed it: nobody else ever saw that entry. Rewriting a draft makes the editor its
    preparer, so the original preparer (or another reviewer) reviews it."""
    from coop.services import users

    users.assign_role(books.reviewer, "accountant", books.org)  # 李主任 holds both roles
    db.session.commit()
    v = api.create(voucher())
    r = api.put(f"/vouchers/{v['id']}", voucher("2025-01-10", ("101", "800.00", None), ("102", None, "800.00")),
                who="reviewer")
    assert r.status_code == 200 and r.json["preparer"] == "李主任", r.json
    before = db_state()
    r = api.post(f"/vouchers/{v['id']}/review", who="reviewer")
    assert assert_refused(r, 403, "_schema") == ["制单人不能审核自己编制的凭证"]
    assert db_state() == before


# ---------------------------------------------------------------- §6 继承 needs a death


def test_inheritance_needs_the_holders_recorded_death(village, client, books):
    """RULES §6: the register changes only through recorded events — transfer *within the collective*, inheritance
    (a non-member heir gets income rights only). "Inheriting" from a living member would hand shares to a
    non-member, which a transfer may not: refused at `deceased_id` until the death is recorded (membership lost by
    death, art. 17), on or before the inheritance date."""
    import datetime as dt

    from coop.models import ShareAction
    from coop.services import members
    from tests.conftest import count
    from tests.test_members_api import Api as MembersApi
    from tests.test_members_web import IDS

    p, h2 = village.p, village.h2
    outsider = members.add_member(h2, name="外嫁女", id_number=IDS[5], relation="其他")
    db.session.commit()
    api = MembersApi(client, books)
    body = {"deceased_id": p[0].id, "heir_id": outsider.id, "date": "2025-07-01", "reference": "继承公证书"}
    before = count(ShareAction)
    r = api.post("/share-actions/inherit", body)
    assert r.status_code == 422, r.json
    assert r.json["errors"] == {"deceased_id": [f"{p[0].name} 在 2025-07-01 前没有登记死亡，不能继承其股份"
                                                "（在世成员的股份只能在本组织成员之间转让）"]}
    members.record_membership_event(p[0], "lost_death", date=dt.date(2025, 8, 1), evidence="死亡证明")
    db.session.commit()
    r = api.post("/share-actions/inherit", body)  # dated before the death
    assert r.status_code == 422 and "deceased_id" in r.json["errors"], r.json
    assert count(ShareAction) == before
    r = api.post("/share-actions/inherit", body | {"date": "2025-08-02"})
    assert r.status_code == 201 and all(e["income_only"] for e in r.json["events"] if e["units"][0] != "-"), r.json


# ---------------------------------------------------------------- §5 the distribution section under 明细科目


def test_distribution_lines_of_the_income_statement_count_the_details_below_them(books):
    """RULES §5: 年末未分配收益 = 可分配收益 − 提取公积公益金 − 干部奖励分红 − 向成员分配 − 其他, and §2: organizations add
    明细科目 under the 32201 details. A village that splits 向成员分配 into 按股分红 / 扶贫优先股保底 still shows its
    member dividends on the 向成员分配 line, not under 其他."""
    from decimal import Decimal as D

    from coop.services import accounts, reports

    org = books.org
    accounts.add_detail_account(org, "3220103", "322010301", "按股分红")
    accounts.add_detail_account(org, "3220101", "322010101", "提取公积金")
    books.lock_opening({"102": "100000.00", "32202": "-100000.00"})
    books.post("2025-06-30", ("322010301", "30000.00", ""), ("211", "", "30000.00", "应付收益"),
               ("322010101", "10000.00", ""), ("311", "", "10000.00"), summary="2024年度收益分配")
    st = reports.income_statement(org, 2025, 1, 12)
    assert [st.value(k, 1) for k in ("opening_undistributed", "distributable", "reserve_appropriation",
                                     "member_distribution", "other_distribution", "closing_undistributed")] == [
        D("100000.00"), D("100000.00"), D("10000.00"), D("30000.00"), D("0.00"), D("60000.00")]


# ---------------------------------------------------------------- bad input on the periods page


def test_a_tampered_close_or_reopen_button_is_a_400_not_a_500(books, client, auth):
    """Standards: bad input is never a 500. The periods page's buttons post year and month; month 13 or year
    99999999 made the close build an impossible date."""
    from coop.models import Period
    from tests.conftest import count

    books.lock_opening({"102": "1000.00", "301": "-1000.00"})
    db.session.commit()
    auth.login(books.accountant)
    for y, m in (("2025", "13"), ("99999999", "1"), ("2025", "0"), ("2025", "99999999999999999999")):
        assert client.post(f"/o/{books.org.id}/periods/close", data={"year": y, "month": m}).status_code == 400
    auth.login(books.auditor)
    r = client.post(f"/o/{books.org.id}/periods/reopen", data={"year": "2025", "month": "13", "reason": "录错"})
    assert r.status_code == 400
    assert count(Period) == 0


def test_the_split_form_with_an_impossible_household_number_answers_the_form(village, client, auth):
    """Standards: bad input is never a 500. The 分户 form shown again after an error looked the posted household up
    even when its number cannot be an id (OverflowError on SQLite, DataError on PostgreSQL)."""
    auth.login(village.books.accountant)
    r = client.post(f"/o/{village.org.id}/shares/events/split",
                    data={"household_id": "9" * 20, "member_ids": str(village.p[2].id), "date": "2025-03-01",
                          "reference": "分户申请"})
    assert r.status_code == 422 and "编号不正确" in r.get_data(as_text=True)
