"""贷款贴息 over /api/v1 with the worked figures of tests/test_loans.py: the claim flow by the three roles, every
bad input a 4xx naming the field and the rule with nothing written, and who may do what."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coop.core.extensions import db
from coop.models import SubsidyClaim, Voucher
from coop.services import loans, orgs, users
from tests.conftest import count
from tests.test_loans import loan_books  # noqa: F401  (fixture)
from tests.test_loans_web import snapshot

D = Decimal
PERIOD = {"period_start": "2025-01-01", "period_end": "2025-07-01"}


class Api:
    def __init__(self, client, books):
        self.client = client
        self.tokens = {who: users.issue_api_token(getattr(books, who), "t")
                       for who in ("accountant", "auditor", "county_admin")}
        db.session.commit()

    def call(self, method, path, body=None, who="accountant"):
        return self.client.open("/api/v1" + path, method=method, json=body,
                                headers={"Authorization": f"Bearer {self.tokens[who]}"})

    def get(self, path, who="accountant"):
        return self.call("GET", path, who=who)

    def post(self, path, body=None, who="accountant"):
        return self.call("POST", path, body, who)

    def put(self, path, body, who="accountant"):
        return self.call("PUT", path, body, who)


@pytest.fixture
def api(client, loan_books):
    books, loan, policy = loan_books
    return books, loan, policy, Api(client, books)


def test_claim_flow_over_the_api(api):
    books, loan, policy, a = api
    org, county = books.org.id, books.county.id

    r = a.get(f"/orgs/{org}/loans")
    assert r.status_code == 200
    [body] = r.json
    assert (body["principal"], body["annual_rate"], body["outstanding"], body["special"]) == (
        "1000000.00", "0.042000", "600000.00", True)
    assert [e["kind"] for e in body["events"]] == ["drawdown", "repayment", "interest"]
    assert all(e["voucher_id"] for e in body["events"]) and body["events"][2]["evidence"] == "结息单0701"

    before = snapshot()
    r = a.post(f"/orgs/{org}/loans/{loan.id}/claim-preview", PERIOD)
    assert r.status_code == 200, r.json
    w = r.json
    assert [(p["start"], p["end"], p["days"], p["principal"], p["lpr"], p["eligible_rate"], p["amount"])
            for p in w["periods"]] == [
        ("2025-01-01", "2025-04-01", 90, "1000000.00", "0.031000", "0.031000", "7750.00"),
        ("2025-04-01", "2025-05-20", 49, "600000.00", "0.031000", "0.031000", "2531.67"),
        ("2025-05-20", "2025-07-01", 42, "600000.00", "0.030000", "0.030000", "2100.00")]
    assert (w["computed"], w["interest_paid"], w["eligible"]) == ("12381.67", "16000.00", "12381.67")
    assert snapshot() == before

    r = a.post(f"/orgs/{org}/claims", {"loan_id": loan.id, **PERIOD, "claimed": "12381.68"})
    assert r.status_code == 422 and "超出 0.01" in r.json["errors"]["claimed"][0]
    assert snapshot() == before
    r = a.post(f"/orgs/{org}/claims", {"loan_id": loan.id, **PERIOD, "claimed": "12381.67"})
    assert r.status_code == 201, r.json
    claim = r.json
    assert (claim["status"], claim["eligible"], claim["interest_paid"], claim["filed_by"], claim["year"]) == (
        "filed", "12381.67", "16000.00", "王会计", 2025)
    cid = claim["id"]

    # township: rejects with a reason; the village refiles; township passes it on
    assert a.post(f"/subsidy/claims/{cid}/approve", {"approve": True}, who="auditor").status_code == 403
    r = a.post(f"/subsidy/claims/{cid}/review", {"approve": False}, who="auditor")
    assert r.status_code == 422 and r.json["errors"] == {"reason": ["退回时请填写原因"]}
    r = a.post(f"/subsidy/claims/{cid}/review", {"approve": False, "reason": "结息单不清晰"}, who="auditor")
    assert r.status_code == 200 and (r.json["status"], r.json["reject_reason"]) == ("rejected", "结息单不清晰")
    r = a.put(f"/orgs/{org}/claims/{cid}", {**PERIOD, "claimed": "12000.00"})
    assert r.status_code == 200 and (r.json["status"], r.json["claimed"]) == ("filed", "12000.00")
    r = a.get(f"/counties/{county}/subsidy/claims?status=filed", who="auditor")
    assert [c["id"] for c in r.json] == [cid]
    r = a.post(f"/subsidy/claims/{cid}/review", {"approve": True}, who="auditor")
    assert r.status_code == 200 and r.json["status"] == "reviewed" and r.json["reviewed_by"] == "赵审核"

    # county: approve, allocate pro-rata (the fund of 10,000 is less than the claim), pay
    r = a.post(f"/subsidy/claims/{cid}/approve", {"approve": True}, who="county_admin")
    assert r.status_code == 200 and r.json["status"] == "approved"
    r = a.get(f"/counties/{county}/subsidy/2025/fund", who="county_admin")
    assert r.json == {"year": 2025, "rule": "pro_rata", "fund": "10000.00", "used": "0.00", "committed": "0.00",
                      "left": "10000.00", "awaiting": "12000.00", "allocated_at": None}
    assert a.post(f"/counties/{county}/subsidy/2025/allocate", who="auditor").status_code == 403
    r = a.post(f"/counties/{county}/subsidy/2025/allocate", who="county_admin")
    assert r.status_code == 200 and r.json == [{"claim_id": cid, "allocated": "10000.00"}]
    r = a.post(f"/counties/{county}/subsidy/2025/allocate", who="county_admin")
    assert r.status_code == 409 and "已分配" in r.json["message"]
    r = a.post(f"/subsidy/claims/{cid}/disburse", {"date": "2025-08-01"}, who="county_admin")
    assert r.status_code == 200 and r.json["status"] == "disbursed" and r.json["disbursed_on"] == "2025-08-01"
    v = db.session.get(Voucher, r.json["voucher_id"])
    assert [(l.account.code, l.debit, l.credit) for l in v.lines] == [
        ("102", D("10000.00"), D("0.00")), ("503", D("0.00"), D("10000.00"))]
    r = a.get(f"/counties/{county}/subsidy/2025/fund", who="county_admin")
    assert (r.json["used"], r.json["committed"], r.json["left"]) == ("10000.00", "10000.00", "0.00")


def test_loans_events_policy_and_lpr(api):
    books, loan, policy, a = api
    org, county = books.org.id, books.county.id
    r = a.post(f"/orgs/{org}/loans", {"lender": "建设银行", "contract_no": "JH-1", "principal": "200000.00",
                                      "annual_rate": "0.0385", "start_date": "2025-03-01",
                                      "maturity_date": "2026-03-01", "special": True})
    assert r.status_code == 201 and r.json["outstanding"] == "0.00"
    lid = r.json["id"]
    r = a.post(f"/orgs/{org}/loans/{lid}/events", {"kind": "drawdown", "date": "2025-03-01", "amount": "200000.00"})
    assert r.status_code == 201 and r.json["voucher_id"]
    assert a.get(f"/orgs/{org}/loans/{lid}").json["outstanding"] == "200000.00"

    r = a.put(f"/counties/{county}/subsidy/2026/policy", {"fund": "3000000.00", "share": "0.8",
                                                          "rule": "first_come"}, who="county_admin")
    assert r.status_code == 200 and (r.json["fund"], r.json["share"], r.json["lpr_multiple"], r.json["org_cap"]) == (
        "3000000.00", "0.8000", "1.000000", None)
    assert a.get(f"/counties/{county}/subsidy/2026/policy", who="auditor").json["rule"] == "first_come"
    assert a.get(f"/counties/{county}/subsidy/2030/policy", who="county_admin").status_code == 404
    r = a.post(f"/counties/{county}/lpr", {"published_on": "2025-06-20", "rate": "0.029"}, who="county_admin")
    assert r.status_code == 200 and r.json == {"published_on": "2025-06-20", "rate": "0.029000"}
    assert [x["rate"] for x in a.get(f"/counties/{county}/lpr", who="auditor").json] == [
        "0.031000", "0.030000", "0.029000"]


def test_bad_input_is_refused_with_field_paths_and_nothing_written(api):
    books, loan, policy, a = api
    org, county = books.org.id, books.county.id
    plain = loans.create_loan(books.org, lender="建行", contract_no="JH-9", principal=D("1000.00"),
                              annual_rate=D("0.04"), start_date=dt.date(2025, 1, 1),
                              maturity_date=dt.date(2025, 12, 31), user=books.accountant)
    db.session.commit()
    before = snapshot()

    def refused(method, path, body, status, field, words, who="accountant"):
        r = a.call(method, path, body, who)
        assert r.status_code == status, r.json
        messages = r.json["errors"][field] if field else [r.json["message"]]
        assert any(words in m for m in messages), r.json
        assert snapshot() == before

    loan_body = {"lender": "x", "contract_no": "X-1", "principal": "1000.00", "start_date": "2025-01-01",
                 "maturity_date": "2025-12-31"}
    refused("POST", f"/orgs/{org}/loans", {**loan_body, "annual_rate": "0.9"}, 422, "annual_rate", "不合理")
    refused("POST", f"/orgs/{org}/loans", {**loan_body, "annual_rate": "-0.01"}, 422, "annual_rate", "应大于0且低于36%")
    refused("POST", f"/orgs/{org}/loans", {**loan_body, "annual_rate": 0.04}, 422, "annual_rate", "利率必须是文本")
    refused("POST", f"/orgs/{org}/loans", {**loan_body, "annual_rate": "0.04", "principal": 1000}, 422, "principal",
            "金额必须是文本")
    refused("POST", f"/orgs/{org}/loans", {**loan_body, "annual_rate": "0.04", "extra": 1}, 422, "extra", "Unknown")
    refused("POST", f"/orgs/{org}/loans/{loan.id}/events",
            {"kind": "interest", "date": "2025-10-01", "amount": "5000.00", "period_start": "2025-07-01",
             "period_end": "2025-10-01"}, 422, "evidence", "结息单")
    claim = {"loan_id": loan.id, **PERIOD, "claimed": "100.00"}
    refused("POST", f"/orgs/{org}/claims", {**claim, "loan_id": plain.id}, 422, "loan_id", "未登记为专项贷款")
    refused("POST", f"/orgs/{org}/claims", {**claim, "period_start": "2024-12-01"}, 422, "period_start",
            "贷款期限 2025-01-01 至 2026-01-01")
    refused("POST", f"/orgs/{org}/claims", {**claim, "period_end": "2025-06-01"}, 422, "period_start",
            "没有已付利息的记录")
    refused("POST", f"/orgs/{org}/claims", {**claim, "claimed": "12381.68"}, 422, "claimed", "超过可贴息金额 12,381.67")
    refused("POST", f"/orgs/{org}/claims", {**claim, "loan_id": 999999}, 422, "loan_id", "找不到该贷款")
    refused("POST", f"/orgs/{org}/loans/{loan.id}/claim-preview", {"period_start": "2025-01-01"}, 422, "period_end",
            "请填写日期")
    refused("PUT", f"/counties/{county}/subsidy/2026/policy", {"lpr_multiple": "9"}, 422, "lpr_multiple", "不超过3",
            who="county_admin")
    refused("POST", f"/counties/{county}/lpr", {"published_on": "2025-06-20", "rate": "0.5"}, 422, "rate", "不合理",
            who="county_admin")

    # overlapping loan-days
    a.post(f"/orgs/{org}/claims", claim)
    before = snapshot()
    refused("POST", f"/orgs/{org}/claims", {**claim, "period_start": "2025-06-01"}, 422, "period_start", "重叠")
    refused("POST", f"/orgs/{org}/loans/{loan.id}/claim-preview", PERIOD, 422, "period_start", "重叠")
    # not 村社合一
    books.org.cun_she_he_yi = False
    db.session.commit()
    refused("POST", f"/orgs/{org}/loans/{loan.id}/claim-preview", {"period_start": "2025-07-01",
                                                                   "period_end": "2025-09-01"},
            422, "loan_id", "村社合一")


def test_first_come_beyond_the_fund(api):
    books, loan, policy, a = api
    county = books.county.id
    r = a.put(f"/counties/{county}/subsidy/2025/policy", {"fund": "10000.00", "rule": "first_come"}, who="county_admin")
    assert r.status_code == 200
    cid = a.post(f"/orgs/{books.org.id}/claims", {"loan_id": loan.id, **PERIOD, "claimed": "12000.00"}).json["id"]
    assert a.post(f"/subsidy/claims/{cid}/review", {"approve": True}, who="auditor").status_code == 200
    r = a.post(f"/subsidy/claims/{cid}/approve", {"approve": True}, who="county_admin")
    assert r.status_code == 422 and "贴息资金不足" in r.json["message"] and "超出 2,000.00" in r.json["message"]
    db.session.expire_all()
    assert db.session.get(SubsidyClaim, cid).status == "reviewed"
    r = a.post(f"/counties/{county}/subsidy/2025/allocate", who="county_admin")
    assert r.status_code == 409 and "先到先得" in r.json["message"]


def test_who_may_do_what(api, client):
    books, loan, policy, a = api
    org, county = books.org.id, books.county.id
    cid = a.post(f"/orgs/{org}/claims", {"loan_id": loan.id, **PERIOD, "claimed": "9000.00"}).json["id"]
    other = orgs.create_organization(books.township, name="西村", books_start_year=2025, cun_she_he_yi=True)
    stranger = users.create_user("xicun", "西村会计", "password1")
    users.assign_role(stranger, "accountant", other)
    a.tokens["stranger"] = users.issue_api_token(stranger, "t")
    db.session.commit()
    before = snapshot()
    # another village's accountant: nothing of this village exists
    for path in (f"/orgs/{org}/loans", f"/orgs/{org}/loans/{loan.id}", f"/orgs/{org}/claims/{cid}",
                 f"/subsidy/claims/{cid}", f"/counties/{county}/lpr", f"/counties/{county}/subsidy/claims",
                 f"/counties/{county}/subsidy/2025/fund"):
        assert a.get(path, who="stranger").status_code == 404, path
    assert a.post(f"/orgs/{org}/claims", {"loan_id": loan.id, **PERIOD, "claimed": "1.00"},
                  who="stranger").status_code == 404
    assert a.post(f"/subsidy/claims/{cid}/review", {"approve": True}, who="stranger").status_code == 404
    # a loan of this village is not found under the stranger's own village
    assert a.get(f"/orgs/{other.id}/loans/{loan.id}", who="stranger").status_code == 404
    # the township auditor reads but does not prepare, approve or pay
    assert a.post(f"/orgs/{org}/loans/{loan.id}/events", {"kind": "drawdown", "date": "2025-03-01",
                                                          "amount": "1.00"}, who="auditor").status_code == 403
    assert a.post(f"/subsidy/claims/{cid}/review", {"approve": True}, who="accountant").status_code == 403
    assert a.put(f"/counties/{county}/subsidy/2025/policy", {"fund": "1.00"}, who="auditor").status_code == 403
    assert a.post(f"/counties/{county}/lpr", {"published_on": "2025-06-20", "rate": "0.029"},
                  who="auditor").status_code == 403
    assert snapshot() == before
    assert client.get(f"/api/v1/orgs/{org}/loans").status_code == 401
    assert count(SubsidyClaim) == 1
