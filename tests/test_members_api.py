"""Members, roster, plans and the share register over /api/v1/orgs/<id>: happy paths with worked numbers; every
bad input a 4xx naming the field, with nothing written."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from coop.core.extensions import db
from coop.models import Member, MembershipEvent, QuantificationPlan, ShareAction, Voucher
from coop.services import members, shares, users
from tests.conftest import count
from tests.test_members_web import (IDS, _fast_password_hashing, bad_check_digit, people,  # noqa: F401
                                    roster_csv, snapshot_counts, village)

TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


class Api:
    def __init__(self, client, books):
        self.client, self.base = client, f"/api/v1/orgs/{books.org.id}"
        self.tokens = {name: users.issue_api_token(getattr(books, name), "t") for name in ("accountant", "reviewer")}
        db.session.commit()

    def call(self, method, path, body=None, who="accountant", **kw):
        return self.client.open(self.base + path, method=method, json=body,
                                headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kw)

    def get(self, path, who="accountant"):
        return self.call("GET", path, who=who)

    def post(self, path, body=None, who="accountant"):
        return self.call("POST", path, body, who)

    def put(self, path, body, who="accountant"):
        return self.call("PUT", path, body, who)

    def upload(self, path, data: bytes, filename="名册.csv", **form):
        return self.client.post(self.base + path, data={"file": (io.BytesIO(data), filename), **form},
                                headers={"Authorization": f"Bearer {self.tokens['accountant']}"},
                                content_type="multipart/form-data")


@pytest.fixture
def api(client, books):
    return Api(client, books)


def D(x):
    return Decimal(x)


# ---------------------------------------------------------------- households and members


def test_households_create_list_and_detail(people, api):
    before = snapshot_counts()
    r = api.post("/households", {"name": "赵六", "id_number": bad_check_digit(IDS[5])})
    assert r.status_code == 422 and "校验码不正确" in r.json["errors"]["id_number"][0]
    r = api.post("/households", {"name": "赵六", "id_number": IDS[0]})
    assert r.status_code == 422 and r.json["errors"]["id_number"] == [f"身份证号 {IDS[0]} 已登记在本村（张大山）"]
    r = api.post("/households", {"name": "赵六", "id_number": IDS[5], "nickname": "x"})
    assert r.status_code == 422 and "nickname" in r.json["errors"]
    assert snapshot_counts() == before
    r = api.post("/households", {"name": "赵六", "id_number": IDS[5], "address": "东村三组"})
    assert r.status_code == 201, r.json
    assert r.json["number"] == "0003" and r.json["head_name"] == "赵六" and r.json["people"] == 1
    hid = r.json["id"]
    r = api.post(f"/households/{hid}/members", {"name": "赵小六", "id_number": IDS[6], "relation": "子"})
    assert r.status_code == 201 and r.json["birth_date"] == "1985-03-03" and r.json["sex"] == "F"
    r = api.post(f"/households/{hid}/members", {"name": "错", "id_number": IDS[7], "relation": "表哥"})
    assert r.status_code == 422 and r.json["errors"]["relation"] == ["与户主关系不正确"]
    assert [h["number"] for h in api.get("/households?q=赵").json] == ["0003"]
    detail = api.get(f"/households/{hid}", who="reviewer").json
    assert [m["id_number"] for m in detail["members"]] == [IDS[5][:6] + "*" * 8 + IDS[5][-4:], IDS[6][:6] + "*" * 8 + IDS[6][-4:]]
    assert api.get(f"/households/{hid}").json["members"][0]["id_number"] == IDS[5]
    assert api.post("/households", {"name": "x", "id_number": IDS[8]}, who="reviewer").status_code == 403
    assert api.get("/households/9999").status_code == 404


def test_membership_events_api(people, api):
    m = members.add_member(people.h2, name="新女婿", id_number=IDS[6], relation="女婿")
    db.session.commit()
    before = count(MembershipEvent)
    r = api.post(f"/members/{m.id}/events", {"kind": "benefit_granted", "date": "2025-01-05", "evidence": "决议",
                                             "votes_for": 74, "votes_total": 100})
    assert r.status_code == 422
    assert r.json["errors"]["votes_for"] == ["非成员享有权益须经全体成员四分之三以上同意：需要 75 票，实际 74 票"]
    r = api.post(f"/members/{m.id}/events", {"kind": "confirmed", "date": TOMORROW, "evidence": "决议"})
    assert r.status_code == 422 and r.json["errors"]["date"] == ["日期不能晚于今天"]
    r = api.post(f"/members/{m.id}/events", {"kind": "lost_death", "date": "2025-01-05", "evidence": "证明"})
    assert r.status_code == 409 and "当前不是成员" in r.json["message"]
    r = api.post(f"/members/{m.id}/events", {"kind": "married", "date": "2025-01-05", "evidence": "x"})
    assert r.status_code == 422 and "kind" in r.json["errors"]
    assert count(MembershipEvent) == before
    r = api.post(f"/members/{m.id}/events", {"kind": "benefit_granted", "date": "2025-01-05", "evidence": "决议",
                                             "votes_for": 75, "votes_total": 100})
    assert r.status_code == 201 and r.json["label"].startswith("经全体成员四分之三")
    got = api.get(f"/members/{m.id}").json
    assert got["status"] == "benefit" and len(got["events"]) == 1


# ---------------------------------------------------------------- roster


def test_roster_check_import_and_export(people, api):
    bad = roster_csv([
        ("0101", "钱七", IDS[5], "钱七", IDS[5], "户主", ""),
        ("0103", "王五", IDS[9], "王小五", IDS[8], "子", ""),  # line 3: the head is not in the file
    ])
    r = api.upload("/roster/check", bad)
    assert r.status_code == 200 and r.json["ok"] is False and r.json["rows"] == 2
    assert r.json["problems"] == [{"line": 3, "message": f"户主 王五（{IDS[9]}）不在名册中"}]
    before = snapshot_counts()
    r = api.upload("/roster/import", bad)
    assert r.status_code == 422 and r.json["errors"]["rows"]["3"] == [f"户主 王五（{IDS[9]}）不在名册中"]
    assert snapshot_counts() == before
    r = api.client.post(api.base + "/roster/check", data={},
                        headers={"Authorization": f"Bearer {api.tokens['accountant']}"},
                        content_type="multipart/form-data")
    assert r.status_code == 422 and r.json["errors"]["file"] == ["请上传名册文件（xlsx 或 CSV）"]
    good = roster_csv([("0101", "钱七", IDS[5], "钱七", IDS[5], "户主", ""),
                       ("0101", "钱七", IDS[5], "钱小七", IDS[6], "子", "")])
    r = api.upload("/roster/import", good, confirm_date=TOMORROW, evidence="决议")
    assert r.status_code == 422 and r.json["errors"]["confirm_date"] == ["确认日期不能晚于今天"]
    assert snapshot_counts() == before
    r = api.upload("/roster/import", good, confirm_date="2025-02-01", evidence="2025年第1号成员大会决议")
    assert r.status_code == 201 and r.json == {"households": 1, "members": 2}
    assert db.session.query(Member).filter_by(id_number=IDS[6]).one().status == "member"
    roster = api.get("/roster").json
    assert roster["columns"][:6] == ["户号", "户主", "户主身份证", "成员", "身份证", "与户主关系"]
    assert roster["rows"][-1][:6] == ["0101", "钱七", IDS[5], "钱小七", IDS[6], "子"]
    masked = api.get("/roster", who="reviewer").json["rows"][-1]
    assert masked[2] == IDS[5][:6] + "*" * 8 + IDS[5][-4:] and masked[4] == IDS[6][:6] + "*" * 8 + IDS[6][-4:]
    assert masked[3] == "钱小七"


# ---------------------------------------------------------------- plans


PLAN = {"name": "2024年折股量化", "base_date": "2024-12-31", "net_assets": "500000.00", "population_units": "1",
        "labour_units_per_year": "0.1", "labour_cap_years": 20, "collective_ratio": "0.2"}


def test_plan_lifecycle_api(people, api):
    r = api.post("/plans", PLAN | {"collective_ratio": "0.35"})
    assert r.status_code == 422 and "超过30%上限" in r.json["errors"]["collective_ratio"][0]
    r = api.post("/plans", PLAN | {"net_assets": 500000})
    assert r.status_code == 422 and "net_assets" in r.json["errors"]
    assert count(QuantificationPlan) == 0
    r = api.post("/plans", PLAN)
    assert r.status_code == 201 and r.json["status"] == "draft" and r.json["rules"]["collective_ratio"] == "0.2"
    pid = r.json["id"]
    zhang, li = people.p[0], people.p[3]
    r = api.put(f"/plans/{pid}/inputs", {"inputs": [{"member_id": zhang.id, "labour_start": "1990-01-01"},
                                                    {"member_id": 9999, "cash": "1.00"}]})
    assert r.status_code == 422 and r.json["errors"] == {"inputs": {"1": {"member_id": ["成员不存在"]}}}
    r = api.put(f"/plans/{pid}/inputs", {"inputs": [{"member_id": li.id, "labour_start": "2010-01-01",
                                                     "labour_end": "2009-01-01"}]})
    assert r.status_code == 422 and r.json["errors"]["inputs"]["0"]["labour_end"] == ["农龄截止日期早于开始日期"]
    assert api.get(f"/plans/{pid}").json["inputs"] == []
    r = api.put(f"/plans/{pid}/inputs", {"inputs": [{"member_id": zhang.id, "labour_start": "1990-01-01"},
                                                    {"member_id": li.id, "labour_start": "2010-01-01"}]})
    assert r.status_code == 200 and len(r.json["inputs"]) == 2
    for _ in range(2):
        p = api.get(f"/plans/{pid}/preview").json
        assert p["ok"] and p["total_units"] == "10.5000" and p["face_value"] == "47619.0476"
        assert p["collective_units"] == "2.1000"
        assert {c["share_class"]: c["units"] for c in p["classes"]} == {
            "population": "5.0000", "labour": "3.4000", "collective": "2.1000"}
        assert {h["number"]: h["units"] for h in p["households"]} == {"0001": "5.0000", "0002": "3.4000"}
        assert next(m for m in p["members"] if m["member_id"] == zhang.id)["classes"] == {
            "population": "1.0000", "labour": "2.0000"}
    assert count(ShareAction) == 0
    r = api.post(f"/plans/{pid}/issue", {})
    assert r.status_code == 422 and r.json["errors"]["approval_ref"] == ["发行前请填写批准文号（成员大会决议）"]
    assert count(ShareAction) == 0
    r = api.post(f"/plans/{pid}/issue", {"approval_ref": "2024年第2号成员大会决议"})
    assert r.status_code == 200, r.json
    assert r.json["plan"]["status"] == "issued" and r.json["plan"]["total_units"] == "10.5000"
    assert [c["verify_url"].startswith("http://coop.test/verify/") for c in r.json["certificates"]] == [True, True]
    r = api.put(f"/plans/{pid}", PLAN | {"net_assets": "1.00"})
    assert r.status_code == 409 and "已发行" in r.json["message"]
    assert api.get(f"/plans/{pid}/preview").status_code == 409


# ---------------------------------------------------------------- register and events


def test_register_as_of_api(village, api):
    r = api.get("/register?as_of=2025-01-01", who="reviewer")
    assert r.status_code == 200
    assert r.json["total_units"] == "10.5000" and r.json["face_value"] == "47619.0476"
    assert [(h["number"], h["units"]) for h in r.json["households"]] == [("0001", "5.0000"), ("0002", "3.4000")]
    assert api.get("/register?as_of=2024-12-30").json["total_units"] == "0.0000"
    assert api.get("/register?as_of=2025-13-01").status_code == 422


def test_transfer_bad_inputs_then_reverse(village, api):
    org, p = village.org, village.p
    outsider = members.add_member(village.h2, name="外嫁女", id_number=IDS[5], relation="其他")
    db.session.commit()
    body = {"from_member_id": p[0].id, "to_member_id": p[3].id, "share_class": "labour", "units": "0.5",
            "date": "2025-03-02", "reference": "转让协议1"}
    before = snapshot_counts()
    cases = [
        ({"to_member_id": outsider.id}, "to_member_id", "外嫁女 不是本集体经济组织成员，股权只能在本组织成员之间转让"),
        ({"units": "2.5"}, "units", "张大山持有农龄股 2.0000 股，不足 2.5000 股"),
        ({"units": 0.5}, "units", "股数必须是文本，例如 \"1.5\""),
        ({"units": "-1"}, "units", "股数必须大于零"),
        ({"share_class": "gold"}, "share_class", "股种不正确"),
        ({"date": "2024-12-01"}, "date", "日期早于折股量化基准日 2024-12-31"),
        ({"date": TOMORROW}, "date", "日期不能晚于今天"),
        ({"from_member_id": 9999}, "member_id", "成员不存在"),
    ]
    for change, field, message in cases:
        r = api.post("/share-actions/transfer", body | change)
        assert r.status_code == 422, (change, r.json)
        assert r.json["errors"][field] == [message], r.json
    r = api.post("/share-actions/transfer", {k: v for k, v in body.items() if k != "reference"})
    assert r.status_code == 422 and r.json["errors"]["reference"] == ["请填写依据（协议、决议或证明文件编号）"]
    assert snapshot_counts() == before
    r = api.post("/share-actions/transfer", body)
    assert r.status_code == 201 and r.json["kind"] == "transfer"
    assert [(e["member_id"], e["units"]) for e in r.json["events"]] == [(p[0].id, "-0.5000"), (p[3].id, "0.5000")]
    aid = r.json["id"]
    assert api.post(f"/share-actions/{aid}/reverse", {"date": "2025-03-05"}).json["errors"]["reason"]
    r = api.post(f"/share-actions/{aid}/reverse", {"date": "2025-03-05", "reason": "录错"})
    assert r.status_code == 201 and r.json["reverses_id"] == aid
    r = api.post(f"/share-actions/{aid}/reverse", {"date": "2025-03-06", "reason": "再冲"})
    assert r.status_code == 409 and r.json["message"] == "该变动已经冲正"
    assert shares.household_units(org) == {village.h1.id: D("5.0000"), village.h2.id: D("3.4000")}
    assert [a["kind"] for a in api.get("/share-actions").json] == ["issue", "transfer", "reversal"]
    assert api.post("/share-actions/transfer", body, who="reviewer").status_code == 403


def test_every_event_kind_api(village, api):
    org, p, h1, h2 = village.org, village.p, village.h1, village.h2
    village.books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    db.session.commit()
    # buy-back: 5% of 10.5 = 0.525 units a year; the payment voucher is drafted
    body = {"member_id": p[1].id, "share_class": "population", "units": "1", "price": "40000.00",
            "date": "2025-06-01", "reference": "退出申请"}
    before = snapshot_counts()
    r = api.post("/share-actions/buyback", body)
    assert r.status_code == 422 and "本次 1.0000 股将超出 0.4750 股" in r.json["errors"]["units"][0]
    assert snapshot_counts() == before
    r = api.post("/share-actions/buyback", body | {"units": "0.5", "price": "23809.52"})
    assert r.status_code == 201 and r.json["voucher_id"] and r.json["amount"] == "23809.52"
    assert db.session.get(Voucher, r.json["voucher_id"]).status == "draft"
    # inheritance by a non-member heir: income rights only
    outsider = members.add_member(h2, name="外嫁女", id_number=IDS[5], relation="其他")
    members.record_membership_event(p[0], "lost_death", date=dt.date(2025, 4, 1), evidence="死亡证明")
    db.session.commit()
    r = api.post("/share-actions/inherit", {"deceased_id": p[0].id, "heir_id": outsider.id, "date": "2025-07-01",
                                            "reference": "继承公证书"})
    assert r.status_code == 201
    heirs = [e for e in r.json["events"] if e["member_id"] == outsider.id]
    assert heirs and all(e["income_only"] for e in heirs)
    # split and merge
    r = api.post("/share-actions/split", {"household_id": h1.id, "member_ids": [p[2].id], "date": "2025-07-02",
                                          "reference": "分户申请"})
    assert r.status_code == 201 and r.json["number"] == "0003" and r.json["units"] == "1.0000"
    new_id = r.json["id"]
    r = api.post("/share-actions/split", {"household_id": h1.id, "member_ids": [p[3].id], "date": "2025-07-02",
                                          "reference": "分户申请"})
    assert r.status_code == 422 and r.json["errors"]["member_ids"] == ["请选择本户的成员"]
    r = api.post("/share-actions/merge", {"source_id": new_id, "target_id": h2.id, "date": "2025-07-03",
                                          "reference": "合户申请"})
    assert r.status_code == 201 and r.json["number"] == "0002"
    # 李 3.4 + 外嫁女's inherited 3.0 + 张小明 1.0; 张's household keeps 王秀英's 0.5 left after the buy-back
    assert r.json["units"] == "7.4000"
    assert shares.household_units(org) == {h1.id: D("0.5000"), h2.id: D("7.4000")}
    # 代持 by a member for another, then released
    r = api.post("/share-actions/nominee", {"holder_id": p[3].id, "beneficiary_id": p[4].id, "share_class": "labour",
                                            "units": "0.4", "date": "2025-08-01", "reference": ""})
    assert r.status_code == 422 and "reference" in r.json["errors"]
    r = api.post("/share-actions/nominee", {"holder_id": p[3].id, "beneficiary_id": p[3].id, "share_class": "labour",
                                            "units": "0.4", "date": "2025-08-01", "reference": "代持协议2"})
    assert r.status_code == 422 and r.json["errors"]["beneficiary_id"] == ["代持人与被代持人不能是同一人"]
    r = api.post("/share-actions/nominee", {"holder_id": p[3].id, "beneficiary_id": p[4].id, "share_class": "labour",
                                            "units": "0.4", "date": "2025-08-01", "reference": "代持协议2"})
    assert r.status_code == 201
    held = [h for h in api.get("/register").json["holdings"] if h["beneficiary_id"] == p[4].id]
    assert held == [{"member_id": p[3].id, "household_id": h2.id, "share_class": "labour", "beneficiary_id": p[4].id,
                     "income_only": False, "units": "0.4000"}]
    r = api.post("/share-actions/nominee-release", {"holder_id": p[3].id, "beneficiary_id": p[4].id,
                                                    "share_class": "labour", "date": "2025-09-01",
                                                    "reference": "解除协议"})
    assert r.status_code == 201
    r = api.post("/share-actions/nominee-release", {"holder_id": p[3].id, "beneficiary_id": p[4].id,
                                                    "share_class": "labour", "date": "2025-09-02",
                                                    "reference": "再解除"})
    assert r.status_code == 422 and "没有为 李小红 代持的农龄股" in r.json["errors"]["beneficiary_id"][0]
    # the register total never drifts, and the past is reproduced
    assert shares.register_total(org) == D("10.5000")
    assert api.get("/register?as_of=2025-01-01").json["households"][0]["units"] == "5.0000"


def test_certificate_api(village, api):
    cert = shares.current_certificate(village.h1)
    r = api.get(f"/certificates/{cert.id}", who="reviewer")
    assert r.status_code == 200 and r.json["number"] == cert.number and r.json["revoked_on"] is None
    r = api.get(f"/certificates/{cert.id}/pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")


def test_other_village_and_member_users_see_nothing(village, api, books, client):
    from coop.services import orgs

    other = orgs.create_organization(books.township, name="西村股份经济合作社", books_start_year=2025)
    stranger = users.create_user("xicun", "西村会计", "password1")
    users.assign_role(stranger, "accountant", other)
    member = users.create_user("zhangds", "张大山", "password1")
    users.assign_role(member, "member", village.org)
    village.p[0].user_id = member.id
    tokens = {u: users.issue_api_token(u, "t") for u in (stranger, member)}
    db.session.commit()
    before = snapshot_counts()
    for path in ("/households", f"/households/{village.h1.id}", "/register", "/plans"):
        r = client.get(api.base + path, headers={"Authorization": f"Bearer {tokens[stranger]}"})
        assert r.status_code == 404, path
        r = client.get(api.base + path, headers={"Authorization": f"Bearer {tokens[member]}"})
        assert r.status_code == 403, path
    r = client.post(api.base + "/share-actions/transfer", json={},
                    headers={"Authorization": f"Bearer {tokens[stranger]}"})
    assert r.status_code == 404
    assert snapshot_counts() == before
