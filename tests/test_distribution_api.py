"""收益分配 over /api/v1 with the worked example of research-domain.md §6.2a: plans CRUD, what-if preview of a
saved plan and of an unsaved scenario, approvals with quorum checks, approve, post, dividends with status and
payments. Every bad input is a 4xx naming the field, with the rule and the amount, and nothing is written."""
from __future__ import annotations

from decimal import Decimal

import pytest

from coop.core.extensions import db
from coop.models import DistributionPlan
from coop.services import reports, users, vouchers
from tests.test_distribution import year_2025  # noqa: F401  (fixture)
from tests.test_distribution_web import snapshot

D = Decimal
EXAMPLE = {"year": 2025, "name": "方案一", "member_pool": "90000.00", "cadre_reward": "36000.00",
           "cadres": [{"name": "书记", "title": "党支部书记", "start": "2020-01-01", "weight": "100"},
                      {"name": "主任", "start": "2021-01-01", "weight": "80"}]}
# the 村党组织 discusses the plan first on both routes; materials out 12 days, the notice 10 days before the meeting
PARTY = {"step": "party_proposal", "date": "2025-12-26", "reference": "党支部会议记录"}
ASSEMBLY = {"step": "assembly", "date": "2026-01-10", "reference": "2026年第1号成员大会决议",
            "entitled": 300, "present": 240, "votes_for": 230, "materials_date": "2025-12-29",
            "notice_date": "2025-12-31"}


class Api:
    def __init__(self, client, books):
        self.client, self.base = client, f"/api/v1/orgs/{books.org.id}/distribution-plans"
        self.tokens = {name: users.issue_api_token(getattr(books, name), "t")
                       for name in ("accountant", "reviewer", "auditor")}
        db.session.commit()

    def call(self, method, path="", body=None, who="accountant"):
        return self.client.open(self.base + path, method=method, json=body,
                                headers={"Authorization": f"Bearer {self.tokens[who]}"})

    def get(self, path="", who="accountant"):
        return self.call("GET", path, who=who)

    def post(self, path="", body=None, who="accountant"):
        return self.call("POST", path, body, who)


@pytest.fixture
def api(year_2025, client):
    books, households = year_2025
    return Api(client, books), books, households


def test_worked_example_through_the_api(api):
    a, books, (ha, hb) = api
    r = a.post("", EXAMPLE)
    assert r.status_code == 201, r.json
    pid = r.json["id"]
    assert r.headers["Location"].endswith(f"/distribution-plans/{pid}")
    assert r.json["record_date"] == "2025-12-31" and r.json["status"] == "draft" and r.json["reserve_rate"] is None
    assert [c["days"] for c in r.json["cadres"]] == [365, 365]

    p = a.get(f"/{pid}/preview").json
    assert p["ok"] and p["errors"] == {}
    w = p["waterfall"]
    assert (w["net_profit"], w["opening_undistributed"], w["operating_profit"]) == (
        "210000.00", "-20000.00", "200000.00")
    assert (w["distributable"], w["loss_covered"], w["reserve_rate"], w["reserve"]) == (
        "190000.00", "20000.00", "0.3000", "57000.00")
    assert (w["cadre_cap_rate"], w["cadre_cap"], w["cadre_reward"]) == ("0.2000", "40000.00", "36000.00")
    assert (w["member_pool"], w["per_share"], w["total_units"]) == ("90000.00", "180.00", "500.0000")
    assert w["closing_undistributed"] == "7000.00"
    assert [(c["name"], c["amount"]) for c in p["cadres"]] == [("书记", "20000.00"), ("主任", "16000.00")]
    assert [(h["number"], h["head_name"], h["units"], h["amount"]) for h in p["households"]] == [
        ("0001", "张一", "308.0000", "55440.00"), ("0002", "李一", "192.0000", "34560.00")]

    assert a.post(f"/{pid}/approvals", PARTY).status_code == 201
    assert a.post(f"/{pid}/approvals", ASSEMBLY).status_code == 201
    assert a.post(f"/{pid}/approve", {"approval_method": "assembly"}, who="accountant").status_code == 403
    r = a.post(f"/{pid}/approve", {"approval_method": "assembly"}, who="reviewer")
    assert r.status_code == 200 and r.json["status"] == "approved"
    assert a.post(f"/{pid}/post", {"date": "2026-01-15"}, who="reviewer").status_code == 403
    r = a.post(f"/{pid}/post", {"date": "2026-01-15"})
    assert r.status_code == 200, r.json
    plan = r.json["plan"]
    assert plan["status"] == "posted" and (plan["distributable"], plan["reserve"], plan["collective_part"]) == (
        "190000.00", "57000.00", "0.00")
    assert [c["amount"] for c in plan["cadres"]] == ["20000.00", "16000.00"]
    assert r.json["voucher_url"].endswith(f"/vouchers/{r.json['voucher_id']}")

    assert reports.trial_balance(books.org, 2026, 1).balanced
    st = reports.income_statement(books.org, 2026, 1, 1)
    # 2025's plan, decided after 2025 closed, is 其他转入/调整 on 2026's statement (its distribution section is 2026's own)
    assert (st.value("other_in"), st.value("reserve_appropriation"), st.value("member_distribution"),
            st.value("closing_undistributed", 1)) == (D("-183000.00"), D("0.00"), D("0.00"), D("7000.00"))

    # second posting: refused, nothing written
    before = snapshot()
    r = a.post(f"/{pid}/post", {"date": "2026-01-16"})
    assert r.status_code == 409 and "不能重复记账" in r.json["message"]
    assert snapshot() == before

    # dividends with status, then a payment for household A from the bank
    rows = a.get(f"/{pid}/dividends").json
    assert [(x["number"], x["payee"], x["amount"], x["paid"], x["unpaid"]) for x in rows] == [
        ("0001", "0001 张一", "55440.00", "0.00", "55440.00"), ("0002", "0002 李一", "34560.00", "0.00", "34560.00")]
    r = a.post(f"/{pid}/payments", {"household_ids": [ha.id], "date": "2026-01-20", "pay_from": "102"})
    assert r.status_code == 201 and r.json["total"] == "55440.00" and r.json["households"] == 1
    v = vouchers.get_voucher(books.org, r.json["voucher_id"])
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=books.accountant)
    db.session.commit()
    rows = a.get(f"/{pid}/dividends").json
    assert [(x["paid"], x["unpaid"]) for x in rows] == [("55440.00", "0.00"), ("0.00", "34560.00")]
    r = a.post(f"/{pid}/payments", {"date": "2026-01-21", "pay_from": "101"})  # all the unpaid ones
    assert r.status_code == 201 and r.json["total"] == "34560.00"
    r = a.get(f"/{pid}/dividends.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"


def test_what_if_scenario_in_the_body_is_not_saved(api):
    a, books, _ = api
    before = snapshot()
    r = a.post("/preview", dict(EXAMPLE, member_pool="100000.00", reserve_rate="0.25"), who="auditor")
    assert r.status_code == 200, r.json
    w = r.json["waterfall"]
    assert (w["reserve"], w["per_share"], w["closing_undistributed"]) == ("47500.00", "200.00", "6500.00")
    assert [h["amount"] for h in r.json["households"]] == ["61600.00", "38400.00"]
    # a scenario that breaks rules is still previewed, with each rule and amount by field path
    r = a.post("/preview", dict(EXAMPLE, member_pool="100000.00", cadre_reward="45000.00",
                                cadres=[{"name": "新委员", "start": "2025-08-01"}]))
    assert r.status_code == 200 and r.json["ok"] is False
    e = r.json["errors"]
    assert e["cadre_reward"] == ["干部奖励分红 45,000.00 超过上限 40,000.00（20% × 经营性纯收益 200,000.00），超出 5,000.00"]
    assert e["member_pool"] == ["向成员分配 100,000.00 超过可分配余额 88,000.00，超出 12,000.00"]
    assert e["cadres"]["0"] == ["新委员 2025年任职 153 天，不足 183 天（差 30 天），不能参与奖励"]
    assert snapshot() == before
    # bad input: 4xx with the field path
    r = a.post("/preview", dict(EXAMPLE, reserve_rate="1.5"))
    assert r.status_code == 422 and r.json["errors"] == {"reserve_rate": ["公积公益金提取比例 150.00% 超出0到100%的范围"]}
    r = a.post("/preview", dict(EXAMPLE, year=2026))
    assert r.status_code == 422 and r.json["errors"] == {"year": ["2026年12月尚未到年终：请先结账 1–11 月，在12月结转损益后编制收益分配方案"]}
    r = a.post("/preview", dict(EXAMPLE, member_pool=90000))
    assert r.status_code == 422 and "member_pool" in r.json["errors"]
    assert snapshot() == before


def test_plans_crud_and_bad_input_writes_nothing(api):
    a, books, _ = api
    before = snapshot()
    bad = [
        (dict(EXAMPLE, cadre_reward="45000.00"), "cadre_reward", "超出 5,000.00"),
        (dict(EXAMPLE, member_pool="97000.01"), "member_pool", "向成员分配 97,000.01 超过可分配余额 97,000.00，超出 0.01"),
        (dict(EXAMPLE, reserve_rate="-0.1"), "reserve_rate", "公积公益金提取比例 -10.00% 超出0到100%的范围"),
        (dict(EXAMPLE, record_date="2025-06-30"), "record_date", "股权登记日不应早于 2025年12月31日"),
        (dict(EXAMPLE, year=2026), "year", "2026年12月尚未到年终"),
        (dict(EXAMPLE, nickname="x"), "nickname", "Unknown field."),
        (dict(EXAMPLE, cadres=[{"name": "主任", "start": "2025-08-01", "weight": "1"}]), "cadres", "不足 183 天"),
        (dict(EXAMPLE, cadres=[{"name": "主任", "start": "2021-01-01", "end": "2020-01-01"}]), "cadres", "离任日期早于任职日期"),
    ]
    for body, path, message in bad:
        r = a.post("", body)
        assert r.status_code == 422, (body, r.json)
        assert path in r.json["errors"] and message in str(r.json["errors"][path]), r.json
    r = a.post("", dict(EXAMPLE, cadres=[{"name": "主任", "start": "2025-08-01", "weight": "1"}]))
    assert r.json["errors"]["cadres"] == {"0": ["主任 2025年任职 153 天，不足 183 天（差 30 天），不能参与奖励"],
                                          "_schema": ["没有符合条件的干部，不能提取干部奖励分红"]}
    assert a.post("", EXAMPLE, who="reviewer").status_code == 403
    assert snapshot() == before

    pid = a.post("", EXAMPLE).json["id"]
    pid2 = a.post("", dict(EXAMPLE, name="方案二", member_pool="80000.00")).json["id"]
    assert [p["name"] for p in a.get("?year=2025").json] == ["方案一", "方案二"]
    assert a.get("?year=2024").json == []
    assert a.get("?year=abc").status_code == 422
    r = a.call("PUT", f"/{pid2}", {"member_pool": "97000.01"})
    assert r.status_code == 422 and "超出 0.01" in r.json["errors"]["member_pool"][0]
    assert db.session.get(DistributionPlan, pid2).member_pool == D("80000.00")
    r = a.call("PUT", f"/{pid2}", {"reserve_rate": "0.35", "cadres": []})
    assert r.status_code == 422 and "没有符合条件的干部" in r.json["errors"]["cadres"][0]
    r = a.call("PUT", f"/{pid2}", {"reserve_rate": "0.35", "cadre_reward": "0.00", "cadres": []})
    assert r.status_code == 200 and r.json["reserve_rate"] == "0.3500" and r.json["cadres"] == []
    assert a.get(f"/{pid2}/preview").json["waterfall"]["reserve"] == "66500.00"
    assert a.call("DELETE", f"/{pid2}").status_code == 204
    assert a.get(f"/{pid2}").status_code == 404
    # approved plans are neither changed nor deleted
    a.post(f"/{pid}/approvals", PARTY)
    a.post(f"/{pid}/approvals", ASSEMBLY)
    a.post(f"/{pid}/approve", {"approval_method": "assembly"}, who="reviewer")
    assert a.call("PUT", f"/{pid}", {"name": "改"}).status_code == 409
    assert a.call("DELETE", f"/{pid}").status_code == 409
    assert a.get(f"/{pid}/dividends").status_code == 409  # no roll before posting


def test_approvals_quorum_and_order(api):
    a, books, _ = api
    pid = a.post("", EXAMPLE).json["id"]
    before = snapshot()
    cases = [
        (dict(ASSEMBLY, present=199, votes_for=199), "present", "应到 300 人，至少 200 人，实到 199 人，差 1 人"),
        (dict(ASSEMBLY, votes_for=199), "votes_for", "至少 200 票，实得 199 票，差 1 票"),
        (dict(ASSEMBLY, votes_for=None), "votes_for", "请填写应到人数、实到人数和同意票数"),
        (dict(ASSEMBLY, votes_for=241), "votes_for", "同意票数 ≤ 实到人数 ≤ 应到人数"),
        (dict(ASSEMBLY, entitled=3.5), "entitled", "人数应为整数"),
        (dict(ASSEMBLY, step="vote"), "step", "审批步骤不正确"),
        (dict(ASSEMBLY, reference=""), "reference", "会议记录编号为1到200个字"),
        ({"step": "party_members", "date": "2026-01-05", "reference": "x", "entitled": 40, "present": 20,
          "votes_for": 20}, "votes_for", "党员大会须过半数党员到会、到会过半数同意"),
    ]
    for body, path, message in cases:
        r = a.post(f"/{pid}/approvals", body)
        assert r.status_code == 422, (body, r.json)
        assert message in r.json["errors"][path][0], r.json
    assert a.post(f"/{pid}/approvals", ASSEMBLY, who="reviewer").status_code == 403
    r = a.post(f"/{pid}/approve", {"approval_method": "assembly"}, who="reviewer")
    assert r.status_code == 409 and "缺少：村党组织提议、成员（代表）大会决议" in r.json["message"]
    r = a.post(f"/{pid}/approve", {"approval_method": "vote"}, who="reviewer")
    assert r.status_code == 422 and "approval_method" in r.json["errors"]
    assert snapshot() == before
    # 四议两公开 in order; a step dated before the previous one is refused
    step = {"step": "party_proposal", "date": "2026-01-05", "reference": "提议"}
    assert a.post(f"/{pid}/approvals", step).status_code == 201
    r = a.post(f"/{pid}/approvals", {"step": "committee", "date": "2026-01-04", "reference": "商议"})
    assert r.status_code == 422 and "早于前一步骤" in r.json["errors"]["date"][0]
    assert a.post(f"/{pid}/approvals", dict(step, date="2026-01-06")).status_code == 409  # recorded once
    plan = a.get(f"/{pid}").json
    assert [(x["step"], x["label"]) for x in plan["approvals"]] == [("party_proposal", "村党组织提议")]


def test_posting_needs_an_open_month_and_other_orgs_see_nothing(api, client):
    a, books, _ = api
    pid = a.post("", EXAMPLE).json["id"]
    assert a.post(f"/{pid}/post", {"date": "2026-01-15"}).status_code == 409  # not approved
    a.post(f"/{pid}/approvals", PARTY)
    a.post(f"/{pid}/approvals", ASSEMBLY)
    a.post(f"/{pid}/approve", {"approval_method": "assembly"}, who="reviewer")
    before = snapshot()
    r = a.post(f"/{pid}/post", {"date": "2025-12-31"})  # decided after the close: posts in a later year
    assert r.status_code == 422 and r.json["errors"] == {"date": ["2025年已结账：方案记入以后年度的未结账月份"]}
    r = a.post(f"/{pid}/post", {})
    assert r.status_code == 422 and r.json["errors"] == {"date": ["请填写记账日期（本年度已结账，记入以后的未结账月份）"]}
    r = a.post(f"/{pid}/post", {"date": "2026-13-01"})
    assert r.status_code == 422 and r.json["errors"] == {"date": ["日期格式应为 YYYY-MM-DD"]}
    assert snapshot() == before

    from coop.services import orgs

    other = orgs.create_organization(books.township, name="西村股份经济合作社", books_start_year=2025)
    u = users.create_user("xicun", "西村会计", "password1")
    users.assign_role(u, "accountant", other)
    token = users.issue_api_token(u, "t")
    db.session.commit()
    h = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{a.base}/{pid}", headers=h).status_code == 404
    assert client.post(f"{a.base}/preview", json=EXAMPLE, headers=h).status_code == 404
    assert client.get(f"/api/v1/orgs/{other.id}/distribution-plans/{pid}", headers=h).status_code == 404
    assert client.get(a.base).status_code == 401
