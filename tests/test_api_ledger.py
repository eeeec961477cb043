"""The ledger API under /api/v1/orgs/<id>: every bad input is a 4xx with the exact field path and leaves the
database as it was; the happy path from 制单 to 年末结账 with worked numbers.

Field paths: JSON object keys are strings, so line 2 of a voucher is errors["lines"]["1"].
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import Account, AuditLog, OpeningBalance, Organization, Period, Voucher, VoucherLine
from coop.services import reports, users

# ---------------------------------------------------------------- helpers


class Api:
    """A JSON client for one organization's books, with a Bearer token per user of the `books` fixture."""

    def __init__(self, client, books):
        self.client, self.books = client, books
        self.base = f"/api/v1/orgs/{books.org.id}"
        self.tokens = {}
        for name in ("accountant", "reviewer", "auditor", "county_admin"):
            self.tokens[name] = users.issue_api_token(getattr(books, name), "test")
        db.session.commit()

    def headers(self, who: str | None) -> dict:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def call(self, method: str, path: str, body=None, who: str | None = "accountant"):
        return self.client.open(self.base + path, method=method, json=body, headers=self.headers(who))

    def get(self, path, who="accountant"):
        return self.call("GET", path, who=who)

    def post(self, path, body=None, who="accountant"):
        return self.call("POST", path, body, who)

    def put(self, path, body, who="accountant"):
        return self.call("PUT", path, body, who)

    def delete(self, path, who="accountant"):
        return self.call("DELETE", path, who=who)

    # -- steps of the voucher life, each asserting it worked

    def create(self, body) -> dict:
        r = self.post("/vouchers", body)
        assert r.status_code == 201, r.json
        return r.json

    def review(self, vid) -> dict:
        r = self.post(f"/vouchers/{vid}/review", who="reviewer")
        assert r.status_code == 200, r.json
        return r.json

    def post_voucher(self, vid) -> dict:
        r = self.post(f"/vouchers/{vid}/post")
        assert r.status_code == 200, r.json
        return r.json

    def lock_opening(self, balances: dict[str, str]):
        r = self.put("/opening-balances", {"balances": [{"account_code": c, "amount": a} for c, a in balances.items()]})
        assert r.status_code == 200, r.json
        r = self.post("/opening-balances/lock")
        assert r.status_code == 204, r.json

    def close(self, year, month) -> dict:
        r = self.post("/periods/close", {"year": year, "month": month})
        assert r.status_code == 200, r.json
        return r.json


@pytest.fixture
def api(books, client):
    return Api(client, books)


def voucher(date="2025-01-10", *lines, summary="提现"):
    """lines: (account_code, debit, credit); None leaves the side out of the JSON."""
    lines = lines or (("101", "500.00", None), ("102", None, "500.00"))
    out = []
    for code, d, c in lines:
        line = {"summary": summary, "account_code": code}
        if d is not None:
            line["debit"] = d
        if c is not None:
            line["credit"] = c
        out.append(line)
    return {"date": date, "lines": out}


def db_state() -> dict:
    """Everything a refused request must leave as it was."""
    db.session.rollback()  # end any read transaction: look at what is committed
    q = db.session.execute
    return {
        "vouchers": q(sa.select(Voucher.id, Voucher.status, Voucher.number, Voucher.reviewer_id, Voucher.poster_id,
                                Voucher.date).order_by(Voucher.id)).all(),
        "lines": q(sa.select(VoucherLine.id, VoucherLine.voucher_id, VoucherLine.account_id, VoucherLine.debit,
                             VoucherLine.credit, VoucherLine.summary).order_by(VoucherLine.id)).all(),
        "accounts": q(sa.select(Account.id, Account.code, Account.is_leaf).order_by(Account.id)).all(),
        "opening": q(sa.select(OpeningBalance.account_id, OpeningBalance.amount).order_by(OpeningBalance.id)).all(),
        "locked": q(sa.select(Organization.id, Organization.opening_locked).order_by(Organization.id)).all(),
        "periods": q(sa.select(Period.year, Period.month, Period.status).order_by(Period.id)).all(),
    }


def assert_refused(r, status: int, *path: str):
    """A 4xx with the error envelope, and a message at errors[path...]."""
    assert r.status_code == status, (r.status_code, r.json)
    assert isinstance(r.json["message"], str) and r.json["message"]
    node = r.json["errors"]
    for key in path:
        assert key in node, (path, r.json["errors"])
        node = node[key]
    assert isinstance(node, list) and node and all(isinstance(m, str) for m in node), r.json["errors"]
    return node


# ---------------------------------------------------------------- bad vouchers

BAD_VOUCHERS = [
    pytest.param(voucher("2025-01-10", ("101", "500.00", None), ("102", None, "400.00")),
                 422, ("lines",), "借贷不平衡：借方合计 500.00，贷方合计 400.00，相差 100.00", id="unbalanced"),
    pytest.param(voucher("2025-01-10", ("322", "500.00", None), ("102", None, "500.00")),
                 422, ("lines", "0", "account_code"), "322 收益分配 有下级科目，只能在末级科目记账", id="non-leaf-322"),
    pytest.param(voucher("2025-01-10", ("101", "500.00", None), ("109", None, "500.00")),
                 422, ("lines", "1", "account_code"), "科目 109 不存在", id="unknown-account"),
    pytest.param(voucher("2025-01-10", ("101", "500.00", None), ("10201", None, "500.00")),
                 422, ("lines", "1", "account_code"), "科目 10201 不存在", id="unknown-detail-account"),
    pytest.param(voucher("2025-01-10", ("101", "500.00", None), ("102", None, "500.00"), ("101", "0.00", None)),
                 422, ("lines", "2", "debit"), "请填写借方或贷方金额（不能为零）", id="zero-amount"),
    pytest.param(voucher("2025-01-10", ("101", "-500.00", None), ("102", None, "-500.00")),
                 422, ("lines", "1", "credit"), "金额不能为负数（红字冲销凭证除外）", id="negative-not-red"),
    pytest.param(voucher("2025-01-10", ("101", "12.345", None), ("102", None, "12.35")),
                 422, ("lines", "0", "debit"), "金额最多两位小数", id="three-decimals"),
    pytest.param(voucher("2025-01-10", ("101", "500.00", None), ("102", None, "abc")),
                 422, ("lines", "1", "credit"), "金额格式不正确", id="not-a-number"),
    pytest.param(voucher("2025-01-10", ("101", "1e30", None), ("102", None, "1e30")),
                 422, ("lines", "0", "debit"), "金额超出允许范围", id="too-many-digits"),
    pytest.param(voucher("2025-01-10", ("101", "100000000000.00", None), ("102", None, "100000000000.00")),
                 422, ("lines", "1", "credit"), "金额超出允许范围", id="too-large"),
    pytest.param(voucher("2025-01-10", ("101", 500, None), ("102", None, "500.00")),
                 422, ("lines", "0", "debit"), '金额必须是文本，例如 "1234.50"', id="json-integer"),
    pytest.param(voucher("2025-01-10", ("101", "500.00", None), ("102", None, 500.0)),
                 422, ("lines", "1", "credit"), '金额必须是文本，例如 "1234.50"', id="json-float"),
    pytest.param(voucher("2025-01-10", ("101", "500.00", "500.00"), ("101", "100.00", None), ("102", None, "100.00")),
                 422, ("lines", "0", "debit"), "借方和贷方只能填写一方", id="both-sides"),
    pytest.param(voucher("2025-01-10", ("101", "500.00", None), ("102", None, None), ("102", None, "500.00")),
                 422, ("lines", "1", "debit"), "请填写借方或贷方金额（不能为零）", id="neither-side"),
    pytest.param(voucher("2025-01-10", ("101", "500.00", None)),
                 422, ("lines",), "凭证应有2到200行分录", id="one-line"),
    pytest.param({"date": "2025-01-10"}, 422, ("lines",), "请填写分录", id="no-lines"),
    pytest.param(voucher("2024-12-31"), 422, ("date",), "日期早于建账月份 2025年1月", id="before-books-start"),
    pytest.param(voucher("2025-02-30"), 422, ("date",), "日期格式应为 YYYY-MM-DD", id="impossible-date"),
    pytest.param({**voucher(), "memo": "x"}, 422, ("memo",), "Unknown field.", id="unknown-field"),
    pytest.param({"date": "2025-01-10", "lines": [{**voucher()["lines"][0], "tax": "1"}, voucher()["lines"][1]]},
                 422, ("lines", "0", "tax"), "Unknown field.", id="unknown-line-field"),
    pytest.param({**voucher(), "word": "借"}, 422, ("word",), "凭证字应为 记/收/付/转", id="bad-word"),
]


@pytest.mark.parametrize("body,status,path,message", BAD_VOUCHERS)
def test_bad_voucher_is_refused_and_nothing_is_written(api, body, status, path, message):
    before = db_state()
    r = api.post("/vouchers", body)
    assert message in assert_refused(r, status, *path)
    assert db_state() == before
    # the same body is refused as an edit of an existing draft, which stays as it was
    draft = api.create(voucher("2025-01-11"))
    before = db_state()
    r = api.put(f"/vouchers/{draft['id']}", body)
    assert message in assert_refused(r, status, *path)
    assert db_state() == before


def test_every_issue_is_reported_at_once(api):
    """An unbalanced voucher with a bad line: the line's error and the balance error come back together."""
    before = db_state()
    r = api.post("/vouchers", voucher("2025-01-10", ("322", "500.00", None), ("102", None, "0"),
                                      ("101", "-1.00", None)))
    errors = r.json["errors"]
    assert r.status_code == 422
    assert errors["lines"]["0"]["account_code"] == ["322 收益分配 有下级科目，只能在末级科目记账"]
    assert errors["lines"]["1"]["debit"] == ["请填写借方或贷方金额（不能为零）"]
    assert errors["lines"]["2"]["debit"] == ["金额不能为负数（红字冲销凭证除外）"]
    # Σ借 499.00 vs Σ贷 0.00: a message about the lines as a whole sits at their _schema
    assert errors["lines"]["_schema"] == ["借贷不平衡：借方合计 499.00，贷方合计 0.00，相差 499.00"]
    assert db_state() == before


def test_date_in_closed_month_is_refused(api):
    api.lock_opening({"102": "1000.00", "301": "-1000.00"})
    api.close(2025, 1)
    before = db_state()
    r = api.post("/vouchers", voucher("2025-01-31"))
    assert assert_refused(r, 409, "date") == ["2025年1月已结账，不能在该期间记账"]
    assert db_state() == before
    assert api.post("/vouchers", voucher("2025-02-01")).status_code == 201


def test_posted_voucher_cannot_be_edited_or_deleted(api):
    api.lock_opening({})
    v = api.create(voucher())
    api.review(v["id"])
    api.post_voucher(v["id"])
    before = db_state()
    r = api.put(f"/vouchers/{v['id']}", voucher("2025-01-10", ("101", "400.00", None), ("102", None, "400.00")))
    assert_refused(r, 409, "_schema")
    r = api.delete(f"/vouchers/{v['id']}")
    assert assert_refused(r, 409, "_schema") == ["只有未审核的凭证可以删除"]
    # a second 记账 or 审核 of it is refused too
    assert_refused(api.post(f"/vouchers/{v['id']}/post"), 409, "_schema")
    assert_refused(api.post(f"/vouchers/{v['id']}/review", who="reviewer"), 409, "_schema")
    assert_refused(api.post(f"/vouchers/{v['id']}/unreview", who="reviewer"), 409, "_schema")
    assert db_state() == before
    assert api.get(f"/vouchers/{v['id']}").json["status"] == "posted"


def test_numbered_draft_cannot_be_deleted_but_unnumbered_can(api):
    first = api.create(voucher())
    api.review(first["id"])
    assert api.post(f"/vouchers/{first['id']}/unreview", who="reviewer").json["status"] == "draft"
    before = db_state()
    assert_refused(api.delete(f"/vouchers/{first['id']}"), 409, "_schema")  # 记-0001 must not leave a gap
    assert db_state() == before
    second = api.create(voucher())
    assert api.delete(f"/vouchers/{second['id']}").status_code == 204
    assert api.get(f"/vouchers/{second['id']}").status_code == 404


def test_preparer_cannot_review_own_voucher(api, books):
    users.assign_role(books.accountant, "reviewer", books.org)  # one person holding both roles
    db.session.commit()
    v = api.create(voucher())
    before = db_state()
    r = api.post(f"/vouchers/{v['id']}/review", who="accountant")
    assert assert_refused(r, 403, "_schema") == ["制单人不能审核自己编制的凭证"]
    assert db_state() == before
    assert api.get(f"/vouchers/{v['id']}").json["number"] is None


def test_draft_cannot_be_posted(api):
    api.lock_opening({})
    v = api.create(voucher())
    before = db_state()
    assert assert_refused(api.post(f"/vouchers/{v['id']}/post"), 409, "_schema") == ["只有已审核的凭证可以记账"]
    assert db_state() == before


def test_reviewer_cannot_prepare_and_accountant_cannot_review(api):
    before = db_state()
    assert_refused(api.post("/vouchers", voucher(), who="reviewer"), 403, "_schema")
    # refused before the body is read: an invalid body from the wrong role is a 403 too, not a 422
    assert_refused(api.post("/vouchers", {"lines": "garbage"}, who="reviewer"), 403, "_schema")
    assert db_state() == before
    v = api.create(voucher())
    before = db_state()
    assert_refused(api.post(f"/vouchers/{v['id']}/review", who="accountant"), 403, "_schema")
    assert db_state() == before


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer coop_not-a-real-token", "Basic a2Vpamk6cGFzc3dvcmQx",
                                    "bearer {token}", "{token}"])
def test_missing_or_invalid_token_is_401(api, header):
    if header:
        header = header.format(token=api.tokens["accountant"])
    before = db_state()
    for method, path, body in [("GET", "/vouchers", None), ("POST", "/vouchers", voucher()),
                               ("POST", "/vouchers", {"garbage": True}), ("GET", "/accounts", None)]:
        r = api.client.open(api.base + path, method=method, json=body,
                            headers={"Authorization": header} if header else {})
        assert r.status_code == 401, (method, path, r.json)
        assert r.json["message"].startswith("需要有效的 API 令牌")
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.client.get("/api/v1/orgs").status_code == 401
    assert db_state() == before


def test_revoked_token_is_401(api, books):
    from coop.models import ApiToken

    tok = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == books.accountant.id))
    users.revoke_api_token(books.accountant, tok.id)
    db.session.commit()
    assert api.get("/vouchers").status_code == 401


# ---------------------------------------------------------------- opening balances and accounts


def test_unbalanced_opening_balances_cannot_be_locked(api):
    r = api.put("/opening-balances", {"balances": [{"account_code": "102", "amount": "10000.00"},
                                                   {"account_code": "301", "amount": "-9000.00"}]})
    assert r.status_code == 200
    before = db_state()
    r = api.post("/opening-balances/lock")
    assert assert_refused(r, 422, "balances") == ["期初余额试算不平衡：借方比贷方多 1,000.00，不能锁定"]
    assert db_state() == before
    # fix 301 to −10,000.00 and it locks; then it can no longer be replaced
    api.lock_opening({"102": "10000.00", "301": "-10000.00"})
    before = db_state()
    r = api.put("/opening-balances", {"balances": [{"account_code": "102", "amount": "1.00"}]})
    assert_refused(r, 409, "_schema")
    assert db_state() == before


@pytest.mark.parametrize("balances,path,message", [
    ([{"account_code": "322", "amount": "5.00"}], ("balances", "322"), "322 收益分配 不是末级科目"),
    ([{"account_code": "999", "amount": "5.00"}], ("balances", "999"), "科目 999 不存在"),
    ([{"account_code": "102", "amount": 5}], ("balances", "0", "amount"), "金额必须是文本"),
    ([{"account_code": "102", "amount": "5.001"}], ("balances", "0", "amount"), "金额最多两位小数"),
])
def test_bad_opening_balances(api, balances, path, message):
    before = db_state()
    r = api.put("/opening-balances", {"balances": balances})
    assert any(m.startswith(message) for m in assert_refused(r, 422, *path))
    assert db_state() == before


@pytest.mark.parametrize("body,path,message", [
    ({"parent_code": "102", "code": "10301", "name": "农商银行"}, "code", "下级科目编码应为上级编码 102 加两位数字（如 10201）"),
    ({"parent_code": "102", "code": "10200", "name": "农商银行"}, "code", "下级科目编码应为上级编码 102 加两位数字（如 10201）"),
    ({"parent_code": "102", "code": "1020101", "name": "农商银行"}, "code", "下级科目编码应为上级编码 102 加两位数字（如 10201）"),
    ({"parent_code": "102", "code": "102A1", "name": "农商银行"}, "code", "科目编码应为4到20位数字"),
    ({"parent_code": "109", "code": "10901", "name": "农商银行"}, "parent_code", "上级科目 109 不存在"),
    ({"parent_code": "321", "code": "32101", "name": "本年收益明细"}, "parent_code", "321 本年收益 用于年末结转，不能增设下级科目"),
    ({"parent_code": "322", "code": "32201", "name": "重复"}, "code", "科目编码 32201 已存在"),
    ({"parent_code": "102", "code": "10201", "name": ""}, "name", "Length must be between 1 and 100."),
])
def test_bad_detail_account(api, body, path, message):
    before = db_state()
    r = api.post("/accounts", body)
    assert assert_refused(r, 422, path) == [message]
    assert db_state() == before


def test_detail_account_makes_parent_non_postable(api):
    r = api.post("/accounts", {"parent_code": "102", "code": "10201", "name": "农商银行"})
    assert r.status_code == 201
    assert r.json == {"code": "10201", "name": "农商银行", "category": "asset", "normal_side": "debit", "level": 2,
                      "is_leaf": True, "active": True}
    accounts = {a["code"]: a for a in api.get("/accounts").json}
    assert accounts["102"]["is_leaf"] is False
    r = api.post("/vouchers", voucher("2025-01-10", ("101", "500.00", None), ("102", None, "500.00")))
    assert assert_refused(r, 422, "lines", "1", "account_code") == ["102 银行存款 有下级科目，只能在末级科目记账"]
    assert api.post("/vouchers", voucher("2025-01-10", ("101", "500.00", None), ("10201", None, "500.00"))
                    ).status_code == 201


# ---------------------------------------------------------------- the happy path, with worked numbers


def test_voucher_life_from_draft_to_year_end(api, books):
    api.lock_opening({"102": "10000.00", "301": "-10000.00"})

    # 制单: three drafts, no numbers yet
    v1 = api.create(voucher("2025-01-05", ("101", "500.00", None), ("102", None, "500.00"), summary="提现"))
    v2 = api.create(voucher("2025-01-20", ("513", "120.50", None), ("102", None, "120.50"), summary="购办公用品"))
    v3 = api.create(voucher("2025-02-03", ("102", "3000.00", None), ("501", None, "3000.00"), summary="收取承包费"))
    assert (v1["status"], v1["number"], v1["display_number"], v1["preparer"]) == ("draft", None, "（未编号）", "王会计")
    assert v1["lines"][0] == {"seq": 1, "summary": "提现", "account_code": "101", "account_name": "库存现金",
                              "debit": "500.00", "credit": "0.00", "counterparty": None}
    assert (v1["total_debit"], v1["total_credit"]) == ("500.00", "500.00")

    # 审核 assigns the numbers: per month, in review order, restarting at 0001 in February
    r1 = api.review(v1["id"])
    assert (r1["display_number"], r1["number"], r1["status"], r1["reviewer"]) == ("记-0001", 1, "reviewed", "李主任")
    assert api.review(v3["id"])["display_number"] == "记-0001"  # February
    assert api.review(v2["id"])["display_number"] == "记-0002"

    # 记账
    for v in (v1, v2, v3):
        assert api.post_voucher(v["id"])["status"] == "posted"
    assert api.get(f"/vouchers/{v1['id']}").json["poster"] == "王会计"

    # 红字冲销 of 1月5日 记-0001: a red draft with every line negated, linked to the original
    r = api.post(f"/vouchers/{v1['id']}/reverse", {"date": "2025-01-25"})
    assert r.status_code == 201, r.json
    red = r.json
    assert (red["kind"], red["status"], red["corrects_id"]) == ("red", "draft", v1["id"])
    assert [(l["account_code"], l["debit"], l["credit"], l["summary"]) for l in red["lines"]] == [
        ("101", "-500.00", "0.00", "冲销 1月5日 记-0001 号凭证"),
        ("102", "0.00", "-500.00", "冲销 1月5日 记-0001 号凭证"),
    ]
    assert api.review(red["id"])["display_number"] == "记-0003"
    api.post_voucher(red["id"])
    assert api.get(f"/vouchers/{v1['id']}").json["reversed_by_id"] == red["id"]
    # the list loads the page's reversals in one query: the same links, either way round
    listed = {v["id"]: (v["reversed_by_id"], v["corrects_id"]) for v in api.get("/vouchers?year=2025").json["items"]}
    assert listed == {v1["id"]: (red["id"], None), v2["id"]: (None, None), v3["id"]: (None, None),
                      red["id"]: (None, v1["id"])}
    assert_refused(api.post(f"/vouchers/{v1['id']}/reverse", {"date": "2025-01-26"}), 409, "_schema")

    # 102: 10,000.00 − 500.00 − 120.50 + 500.00 (red) + 3,000.00 = 12,879.50; 101 back to zero
    bal = reports.leaf_balances(books.org)
    assert bal == {"102": Decimal("12879.50"), "301": Decimal("-10000.00"), "501": Decimal("-3000.00"),
                   "513": Decimal("120.50")}

    # the January list
    page = api.get("/vouchers?year=2025&month=1").json
    assert page["total"] == 3
    assert [v["display_number"] for v in page["items"]] == ["记-0001", "记-0002", "记-0003"]

    # 结账 January to November: nothing generated
    for month in range(1, 12):
        assert api.close(2025, month) == {"closed": {"year": 2025, "month": month, "status": "closed"},
                                          "generated_vouchers": []}
    # 结账 December: the carry-over vouchers come back, numbered and posted
    dec = api.close(2025, 12)
    gen = dec["generated_vouchers"]
    assert [(g["display_number"], g["kind"], g["status"], g["date"]) for g in gen] == [
        ("记-0001", "carryover", "posted", "2025-12-31"),
        ("记-0002", "carryover", "posted", "2025-12-31"),
    ]
    # 结转本年损益: 501 Dr 3,000.00, 513 Cr 120.50, 321 Cr 2,879.50 (经营收益 = 3,000.00 − 120.50)
    assert [(l["account_code"], l["debit"], l["credit"], l["summary"]) for l in gen[0]["lines"]] == [
        ("501", "3000.00", "0.00", "结转本年损益"),
        ("513", "0.00", "120.50", "结转本年损益"),
        ("321", "0.00", "2879.50", "结转本年损益"),
    ]
    # 结转本年收益: 321 Dr 2,879.50 / 32202 未分配收益 Cr 2,879.50
    assert [(l["account_code"], l["debit"], l["credit"]) for l in gen[1]["lines"]] == [
        ("321", "2879.50", "0.00"), ("32202", "0.00", "2879.50"),
    ]
    assert reports.leaf_balances(books.org) == {"102": Decimal("12879.50"), "301": Decimal("-10000.00"),
                                                 "32202": Decimal("-2879.50")}
    closed = api.get("/periods").json
    assert [(p["year"], p["month"]) for p in closed] == [(2025, m) for m in range(1, 13)]


def test_reopen_rules(api, books):
    api.lock_opening({})
    api.close(2025, 1)
    api.close(2025, 2)
    before = db_state()
    # the accountant may not reopen, whatever the reason
    r = api.post("/periods/reopen", {"year": 2025, "month": 2, "reason": "漏记凭证"}, who="accountant")
    assert assert_refused(r, 403, "_schema") == ["只有乡镇经管站或县级管理员可以反结账"]
    # a reason is required
    r = api.post("/periods/reopen", {"year": 2025, "month": 2}, who="auditor")
    assert_refused(r, 422, "reason")
    r = api.post("/periods/reopen", {"year": 2025, "month": 2, "reason": ""}, who="auditor")
    assert assert_refused(r, 422, "reason") == ["请填写反结账原因"]
    r = api.post("/periods/reopen", {"year": 2025, "month": 2, "reason": "   "}, who="auditor")
    assert assert_refused(r, 422, "reason") == ["请填写反结账原因"]
    # only the most recent closed month
    r = api.post("/periods/reopen", {"year": 2025, "month": 1, "reason": "漏记凭证"}, who="auditor")
    assert assert_refused(r, 409, "_schema") == ["只能反结账最近一个已结账的月份"]
    r = api.post("/periods/reopen", {"year": 2025, "month": 3, "reason": "漏记凭证"}, who="auditor")
    assert_refused(r, 409, "_schema")
    assert db_state() == before

    # the township auditor reopens February, with the reason logged; then January is the latest
    r = api.post("/periods/reopen", {"year": 2025, "month": 2, "reason": "漏记2月凭证"}, who="auditor")
    assert r.status_code == 200 and r.json == {"year": 2025, "month": 2, "status": "open"}
    log = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "period.reopen"))
    assert (log.user_id, log.target) == (books.auditor.id, "2025-02") and "漏记2月凭证" in log.detail
    assert [(p["year"], p["month"]) for p in api.get("/periods").json] == [(2025, 1)]
    assert api.post("/vouchers", voucher("2025-02-10")).status_code == 201
    # the county admin may reopen too
    r = api.post("/periods/reopen", {"year": 2025, "month": 1, "reason": "更正"}, who="county_admin")
    assert r.status_code == 200
    assert api.get("/periods").json == []


def test_close_refused_with_unposted_vouchers_or_out_of_order(api):
    api.lock_opening({})
    api.create(voucher("2025-01-10"))
    before = db_state()
    r = api.post("/periods/close", {"year": 2025, "month": 1})
    assert assert_refused(r, 409, "_schema") == ["本月还有 1 张凭证未记账（制单或已审核）"]
    r = api.post("/periods/close", {"year": 2025, "month": 2})
    assert "请按顺序结账：下一个应结账的月份是 2025年1月" in assert_refused(r, 409, "_schema")
    r = api.post("/periods/close", {"year": 2025, "month": 13})
    assert_refused(r, 422, "month")
    r = api.post("/periods/close", {"year": "2025", "month": 1})
    assert_refused(r, 422, "year")
    r = api.post("/periods/close", {"year": dt.date.today().year + 1, "month": 1})
    assert_refused(r, 409, "_schema")
    assert db_state() == before


def test_list_query_is_validated(api):
    assert_refused(api.get("/vouchers?month=13"), 422, "month")
    assert_refused(api.get("/vouchers?status=deleted"), 422, "status")
    assert_refused(api.get("/vouchers?limit=0"), 422, "limit")
    assert_refused(api.get("/vouchers?offset=-1"), 422, "offset")
    assert_refused(api.get(f"/vouchers?offset={2**70}"), 422, "offset")  # once an OverflowError from SQLite
    assert api.get("/vouchers?limit=5").json == {"total": 0, "items": []}


def test_unknown_voucher_is_404(api):
    for method, path in [("GET", "/vouchers/999999"), ("DELETE", "/vouchers/999999"),
                         ("POST", "/vouchers/999999/review"), ("POST", "/vouchers/999999/post")]:
        r = api.call(method, path, who="reviewer" if path.endswith("review") else "accountant")
        assert r.status_code == 404, (method, path, r.json)
        assert r.json["message"] == "找不到该凭证"
