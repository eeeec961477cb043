"""飞地抱团 over /api/v1 with the project of tests/test_joint.py: preview and declare two years (the second
short, covered by the guarantor), receipts, an exit, every side agreeing; each bad input named in the issue a
4xx with its field path and nothing written; who may read and manage."""
from __future__ import annotations

from decimal import Decimal

import pytest

from coop.core.extensions import db
from coop.services import joint, opening, orgs, users
from tests.test_joint import project  # noqa: F401  (fixture)
from tests.test_joint_web import snapshot

D = Decimal


class Api:
    def __init__(self, client, books):
        self.client = client
        self.tokens = {who: users.issue_api_token(getattr(books, who), "t")
                       for who in ("accountant", "auditor", "county_admin")}
        db.session.commit()

    def call(self, method, path, body=None, who="county_admin"):
        return self.client.open("/api/v1" + path, method=method, json=body,
                                headers={"Authorization": f"Bearer {self.tokens[who]}"})

    def get(self, path, who="county_admin"):
        return self.call("GET", path, who=who)

    def post(self, path, body=None, who="county_admin"):
        return self.call("POST", path, body, who)


@pytest.fixture
def api(client, project):
    books, p, parts, villages, operator = project
    return books, p, parts, villages, operator, Api(client, books)


def test_two_years_receipts_and_exit(api):
    books, p, parts, villages, operator, a = api
    base = f"/joint/projects/{p.id}"
    [listed] = a.get("/joint/projects").json
    assert (listed["name"], listed["fixed_rate"], listed["operator_org_id"]) == ("城东标准厂房", "0.080000", operator.id)
    assert [x["capital"] for x in listed["participants"]] == ["2000000.00", "1000000.00", "500000.00", "500000.00"]
    detail = a.get(base).json
    assert [(c["kind"], c["amount"]) for c in detail["contributions"]] == [
        ("cash", "2000000.00"), ("fiscal", "1000000.00"), ("land", "500000.00"), ("cash", "500000.00")]
    assert all(c["village_voucher_id"] and c["operator_voucher_id"] for c in detail["contributions"])

    before = snapshot()
    r = a.post(f"{base}/returns/preview", {"year": 2025, "profit": "400000.00"})
    assert r.status_code == 200, r.json
    w = r.json
    assert [(l["fixed"], l["profit_part"], l["total"]) for l in w["lines"]] == [
        ("160000.00", "49917.81", "209917.81"), ("80000.00", "24958.91", "104958.91"),
        ("40000.00", "12479.45", "52479.45"), ("20164.38", "12479.45", "32643.83")]
    assert (w["fixed_total"], w["shortfall"], w["id"]) == ("300164.38", "0.00", None)
    assert snapshot() == before

    r = a.post(f"{base}/returns", {"year": 2025, "profit": "400000.00", "date": "2025-12-31"})
    assert r.status_code == 201 and [l["total"] for l in r.json["lines"]] == [l["total"] for l in w["lines"]]
    assert all(l["village_voucher_id"] and l["operator_voucher_id"] for l in r.json["lines"])
    assert len(r.json["lines"]) == 4  # one line per participating village
    for line in r.json["lines"]:
        rr = a.post(f"{base}/return-lines/{line['id']}/receipts", {"date": "2026-01-10"})
        assert rr.status_code == 200
    assert all(l["operator_paid_on"] == "2026-01-10" for l in rr.json["lines"])

    r = a.post(f"{base}/returns", {"year": 2026, "profit": "250000.00", "date": "2026-12-31"})
    assert r.status_code == 201
    y2 = r.json
    assert (y2["fixed_total"], y2["shortfall"]) == ("320000.00", "70000.00")
    assert [l["guaranteed"] for l in y2["lines"]] == ["35000.00", "17500.00", "8750.00", "8750.00"]
    first = y2["lines"][0]["id"]
    r = a.post(f"{base}/return-lines/{first}/receipts", {"date": "2027-01-05", "from_guarantor": True})
    assert r.status_code == 200
    r = a.post(f"{base}/return-lines/{first}/receipts", {"date": "2027-01-06", "from_guarantor": True})
    assert r.status_code == 409 and "已经收到" in r.json["message"]

    r = a.post(f"{base}/participants/{parts[3].id}/exit", {"date": "2026-12-31"})
    assert r.status_code == 200 and (r.json["capital"], r.json["exited_on"]) == ("0.00", "2026-12-31")
    rows = a.get(f"{base}/reconciliation").json
    assert len(rows) == 8 and all(row["difference"] == "0.00" for row in rows)
    row = next(x for x in rows if x["participant"] == villages[0].name and x["item"].startswith("长期投资"))
    assert (row["village"], row["operator"]) == ("2000000.00", "2000000.00")
    # as at the end of 2025, before the receipts of January: the 2025 returns are still receivable on both sides
    rows = a.get(f"{base}/reconciliation?until=2025-12-31").json
    row = next(x for x in rows if x["participant"] == villages[0].name and x["item"].startswith("应收"))
    assert (row["village"], row["operator"], row["difference"]) == ("209917.81", "209917.81", "0.00")


def test_new_project_participants_and_contributions(api):
    books, p, parts, villages, operator, a = api
    r = a.post("/joint/projects", {"name": "西山光伏", "operator_name": "县国资公司", "guarantor": "县国资公司",
                                   "start_date": "2025-03-01", "fixed_rate": "0.06"})
    assert r.status_code == 201, r.json
    q = r.json["id"]
    assert (r.json["county_id"], r.json["profit_sharing"], r.json["contract_weights"]) == (books.county.id, True, False)
    r = a.post(f"/joint/projects/{q}/participants", {"organization_id": villages[1].id})
    assert r.status_code == 201 and r.json["organization"] == "南村"
    pid = r.json["id"]
    r = a.post(f"/joint/projects/{q}/contributions", {"participant_id": pid, "kind": "cash", "amount": "300000.00",
                                                      "date": "2025-03-01"})
    assert r.status_code == 201 and r.json["operator_voucher_id"] is None  # the operator is outside the system
    rows = a.get(f"/joint/projects/{q}/reconciliation").json
    assert rows[0]["village"] == "300000.00" and rows[0]["operator"] is None and rows[0]["difference"] is None
    # 6% on 300,000 for 306 of 365 days (1 March to year end) = 15,090.41; no profit beyond it
    r = a.post(f"/joint/projects/{q}/returns/preview", {"year": 2025, "profit": "0.00"})
    assert [(l["fixed"], l["guaranteed"]) for l in r.json["lines"]] == [("15090.41", "15090.41")]


def test_bad_input_refused_with_field_paths_and_nothing_written(api):
    books, p, parts, villages, operator, a = api
    base = f"/joint/projects/{p.id}"
    other_county = orgs.create_county("邻县")
    stranger = orgs.create_organization(orgs.create_township(other_county, "邻镇"), name="外县村",
                                        books_start_year=2025)
    db.session.commit()
    before = snapshot()

    def refused(path, body, status, field, words):
        r = a.post(path, body)
        assert r.status_code == status, r.json
        assert any(words in m for m in r.json["errors"][field]), r.json
        assert snapshot() == before

    refused(f"{base}/participants", {"organization_id": stranger.id}, 422, "organization_id", "不属于本项目所在县")
    refused(f"{base}/participants", {"organization_id": villages[1].id}, 422, "organization_id", "已是参与方")
    refused(f"{base}/contributions", {"participant_id": 999999, "kind": "cash", "amount": "1.00",
                                      "date": "2025-02-01"}, 422, "participant_id", "没有这个参与方")
    refused(f"{base}/contributions", {"participant_id": parts[0].id, "kind": "cash", "amount": 100,
                                      "date": "2025-02-01"}, 422, "amount", "金额必须是文本")
    refused(f"{base}/contributions", {"participant_id": parts[0].id, "kind": "cash", "amount": "100.00",
                                      "date": "2024-12-31"}, 422, "date", "早于项目开始日期")
    refused(f"{base}/returns/preview", {"year": 2024, "profit": "1.00"}, 422, "year", "2024年前没有出资")
    refused(f"{base}/returns/preview", {"year": 1900, "profit": "1.00"}, 422, "year", "年度应在2000到2100之间")
    refused(f"{base}/returns", {"year": 2025, "profit": "-1.00", "date": "2025-12-31"}, 422, "profit", "不能为负数")
    refused("/joint/projects", {"name": "坏项目", "operator_name": "x", "start_date": "2025-01-01",
                                "fixed_rate": "1.5"}, 422, "fixed_rate", "保底收益率应在0到100%之间")
    refused("/joint/projects", {"name": "坏项目", "operator_org_id": villages[1].id, "start_date": "2025-01-01"},
            422, "operator_org_id", "联营公司")

    # a second return for the same year
    assert a.post(f"{base}/returns", {"year": 2025, "profit": "400000.00", "date": "2025-12-31"}).status_code == 201
    before = snapshot()
    r = a.post(f"{base}/returns", {"year": 2025, "profit": "400000.00", "date": "2026-01-05"})
    assert r.status_code == 409 and "不能重复登记" in r.json["message"]
    assert snapshot() == before

    # a participant's closed month refuses the whole booking; the message says whose
    books.close_through(2026, 1)  # (December's close books the year-end carry-over)
    db.session.commit()
    before = snapshot()
    refused(f"{base}/contributions", {"participant_id": parts[0].id, "kind": "cash", "amount": "1.00",
                                      "date": "2026-01-15"}, 409, "date", "东村股份经济合作社：2026年1月已结账")

    # weights by contract that do not sum to 1
    p.contract_weights = True
    for part, w in zip(parts, ("0.4", "0.3", "0.2", "0.05")):
        part.weight = D(w)
    db.session.commit()
    before = snapshot()
    refused(f"{base}/returns/preview", {"year": 2026, "profit": "1.00"}, 422, "weights", "合计为 0.95")


def test_who_reads_and_manages(api, client):
    books, p, parts, villages, operator, a = api
    base = f"/joint/projects/{p.id}"
    outsider = orgs.create_organization(books.township, name="东山村", books_start_year=2025)
    someone = users.create_user("dongshan", "东山会计", "password1")
    users.assign_role(someone, "accountant", outsider)
    opening.lock_opening_balances(outsider, user=someone)
    a.tokens["outsider"] = users.issue_api_token(someone, "t")
    db.session.commit()
    before = snapshot()
    # the township auditor and a participating village's accountant read; neither manages
    for who in ("auditor", "accountant"):
        assert a.get(base, who=who).status_code == 200
        assert a.get(f"{base}/reconciliation", who=who).status_code == 200
        r = a.post(f"{base}/returns", {"year": 2025, "profit": "1.00", "date": "2025-12-31"}, who=who)
        assert r.status_code == 403, r.json
    assert a.post("/joint/projects", {"name": "x", "operator_name": "x", "start_date": "2025-01-01"},
                  who="auditor").status_code == 403
    # an accountant of a village outside the project: it does not exist
    assert a.get(base, who="outsider").status_code == 404
    assert a.get("/joint/projects", who="outsider").json == []
    assert a.post(f"{base}/participants/{parts[0].id}/exit", {"date": "2025-12-31"}, who="outsider").status_code == 404
    assert client.get("/api/v1/joint/projects").status_code == 401
    assert snapshot() == before
    assert joint.get_project(books.county_admin, p.id) is p
