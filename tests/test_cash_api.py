"""报账/出纳 over the API: a request filed with a base64 scan, decided step by step, a refusal as the one error
envelope naming the field, the journal and the 调节表 as JSON with money as strings."""
from __future__ import annotations

import base64
from decimal import Decimal as D

from coop.core.extensions import db
from coop.models import Voucher
from coop.services import bank, users
from tests.realbooks import real_books  # noqa: F401  (fixture)
from tests.test_cash import MAPPING, PNG, csv_of


def test_request_chain_and_reconciliation_over_the_api(app, real_books, auth):
    books = real_books
    org = books.org
    fg = users.create_user("licai", "民主理财组长", "password1")
    users.assign_role(fg, "finance_group", org)
    cash = users.create_user("chuna", "出纳员", "password1")
    users.assign_role(cash, "cashier", org)
    acc, head, group, town, teller = (auth.headers(u) for u in (books.accountant, books.reviewer, fg, books.auditor, cash))
    db.session.commit()
    c = app.test_client()
    base = f"/api/v1/orgs/{org.id}"
    body = {"handler": "王会计", "purpose": "修水渠", "payee": "县水利站", "amount": "2500.00",
            "category": "expense_public", "spent_on": "2025-03-01",
            "scans": [{"filename": "票.png", "content_type": "image/png", "data": base64.b64encode(PNG).decode()}]}
    r = c.post(f"{base}/spending-requests", json={**body, "amount": 2500}, headers=acc)
    assert r.status_code == 422 and "amount" in r.json["errors"]
    r = c.post(f"{base}/spending-requests", json={**body, "scans": [{"filename": "a.png", "data": "@@"}]}, headers=acc)
    assert r.status_code == 422 and r.json["errors"]["scans"]["0"]["data"]
    r = c.post(f"{base}/spending-requests", json=body, headers=acc)
    assert r.status_code == 201, r.json
    rid = r.json["id"]
    assert r.json["steps"] == ["head", "finance_group", "township"] and r.json["amount"] == "2500.00"
    r = c.post(f"{base}/spending-requests/{rid}/decisions", json={"step": "head", "decision": "approve"}, headers=acc)
    assert r.status_code == 403 and r.json["code"] == "forbidden"
    for who, step in ((head, "head"), (group, "finance_group"), (town, "township")):
        r = c.post(f"{base}/spending-requests/{rid}/decisions", json={"step": step, "decision": "approve"}, headers=who)
        assert r.status_code == 201, r.json
    assert r.json["status"] == "approved" and r.json["next_step"] is None
    r = c.post(f"{base}/spending-requests/{rid}/voucher", json={"date": "2025-03-06", "pay_from": books.leaf("102", 1)},
               headers=acc)
    assert r.status_code == 201 and r.json["status"] == "vouchered" and r.json["voucher_id"]

    b1 = books.leaf("102", 1)
    books.post("2025-03-02", (b1, "100.00", ""), ("501", "", "100.00"), summary="收租")
    bank.set_account(org, user=cash, account_code=b1, bank_name="农商银行")
    db.session.commit()
    file = base64.b64encode(csv_of([("2025-03-03", "收租", "100.00", "", "A1")], "5000000.00")).decode()
    r = c.post(f"{base}/bank-statements", json={"account_code": b1, "filename": "s.csv", "data": file, **MAPPING,
                                               "dry_run": True}, headers=teller)
    assert r.status_code == 201 and r.json["statement_id"] is None and r.json["closing_balance"] == "5000100.00"
    r = c.post(f"{base}/bank-statements", json={"account_code": b1, "filename": "s.csv", "data": file, **MAPPING},
               headers=teller)
    assert r.status_code == 201 and r.json["statement_id"] and r.json["lines"] == 1
    r = c.post(f"{base}/bank-statements", json={"account_code": b1, "filename": "s.csv", "data": file}, headers=teller)
    assert r.status_code == 422 and "不能重复导入" in r.json["message"], r.json
    r = c.post(f"{base}/bank-matches", json={"account_code": b1, "voucher_line_id": 1}, headers=teller)
    assert r.status_code == 422 and "account_code" in r.json["errors"]
    r = c.post(f"{base}/bank-matches", json={"account_code": b1}, headers=teller)
    assert r.status_code == 201 and r.json == {"matched": 1}
    r = c.get(f"{base}/bank-reconciliation?account_code={b1}&month=2025-03", headers=teller)
    assert r.status_code == 200 and r.json["adjusted_bank"] == r.json["adjusted_book"] == "5000100.00"
    r = c.post(f"{base}/bank-reconciliation/final", json={"account_code": b1, "month": "2025-03"}, headers=teller)
    assert r.status_code == 201 and r.json["final"] is True
    r = c.get(f"{base}/cash-journal?account_code={b1}&month=2025-03", headers=teller)
    assert r.status_code == 200 and r.json["closing"] == "5000100.00" and r.json["rows"][-1]["kind"] == "month"


def test_payout_file_and_result_over_the_api(app, real_books, auth):
    from tests.test_cash import posted_plan
    from coop.services import payout

    books = real_books
    plan, ha, hb = posted_plan(books)
    org = books.org
    for hh, card in ((ha, "6228001111"), (hb, "6228002222")):
        payout.set_household_account(org, user=books.accountant, household_id=hh.id, bank_name="农商银行",
                                     account_no=card)
    db.session.commit()
    acc, town = auth.headers(books.accountant), auth.headers(books.auditor)
    c = app.test_client()
    base = f"/api/v1/orgs/{org.id}/payout-batches"
    r = c.post(base, json={"plan_id": plan.id, "pay_from": books.leaf("102", 2)}, headers=acc)
    assert r.status_code == 201 and [i["amount"] for i in r.json["items"]] == ["24640.00", "15360.00"]
    bid = r.json["id"]
    result = "序号,卡号,金额,处理结果,失败原因\n1,6228001111,24640.00,成功,\n2,6228002222,15360.00,失败,户名不符\n"
    r = c.post(f"{base}/{bid}/result", json={"filename": "回盘.csv", "date": "2026-01-05",
                                             "data": base64.b64encode(result.encode()).decode()}, headers=acc)
    assert r.status_code == 201, r.json
    assert [(i["status"], i["reason"]) for i in r.json["items"]] == [("paid", None), ("failed", "户名不符")]
    # the voucher pays the one that succeeded: Dr 应付收益 24,640.00 / Cr the bank leaf
    v = db.session.get(Voucher, r.json["voucher_id"])
    assert sorted((l.debit, l.credit) for l in v.lines) == [(D("0.00"), D("24640.00")), (D("24640.00"), D("0.00"))]
