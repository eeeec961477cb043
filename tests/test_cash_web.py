"""报账/出纳 pages: a request filed with its scan, approved step by step by the village head, the 民主理财小组 and the
township, turned into a voucher draft; a refusal shown beside its field with nothing written; the journal, bank and
代发 pages, the 调节表 as PDF and xlsx, the county's policy form."""
from __future__ import annotations

import io
from decimal import Decimal

from coop.core.extensions import db
from coop.models.cash import SpendingRequest
from coop.services import bank, users
from tests.conftest import count
from tests.realbooks import real_books  # noqa: F401  (fixture)
from tests.test_cash import MAPPING, PNG, csv_of

D = Decimal


def test_request_to_voucher_through_the_pages(app, real_books, auth):
    books = real_books
    org = books.org
    fg = users.create_user("licai", "民主理财组长", "password1")
    users.assign_role(fg, "finance_group", org)
    cash = users.create_user("chuna", "出纳员", "password1")
    users.assign_role(cash, "cashier", org)
    db.session.commit()
    acc, head, group, town = (auth.browser(u) for u in ("kuaiji", "shenhe", "licai", "jingguan"))
    base = f"/o/{org.id}/cash"
    assert "报账审批" in acc.get(f"{base}/").get_data(as_text=True)
    form = {"handler": "王会计", "purpose": "修水渠", "payee": "县水利站", "amount": "3,000.00",
            "category": "expense_public", "spent_on": "2025-03-01"}
    r = acc.post(f"{base}/requests/new", data={**form, "amount": "abc",
                                                "scans": (io.BytesIO(PNG), "票.png", "image/png")},
                 content_type="multipart/form-data")
    assert r.status_code == 422 and count(SpendingRequest) == 0
    r = acc.post(f"{base}/requests/new", data={**form, "scans": (io.BytesIO(PNG), "票.png", "image/png")},
                 content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)
    req = db.session.query(SpendingRequest).one()
    url = f"{base}/requests/{req.id}"
    assert "村负责人审批" in acc.get(url).get_data(as_text=True)
    r = acc.post(f"{url}/decide", data={"step": "head", "decision": "approve"})
    assert r.status_code == 403
    assert head.post(f"{url}/decide", data={"step": "head", "decision": "approve"}).status_code == 302
    r = group.post(f"{url}/decide", data={"step": "finance_group", "decision": "veto"})
    assert r.status_code == 422 and "请写明否决或退回的理由" in r.get_data(as_text=True)
    assert group.post(f"{url}/decide", data={"step": "finance_group", "decision": "approve"}).status_code == 302
    queue = town.get("/cash/queue").get_data(as_text=True)
    assert "修水渠" in queue and f"/cash/requests/{req.id}" in queue
    assert town.post(f"{url}/decide", data={"step": "township", "decision": "approve"}).status_code == 302
    assert "修水渠" not in town.get("/cash/queue").get_data(as_text=True)
    assert "生成凭证草稿" in acc.get(url).get_data(as_text=True)
    r = acc.post(f"{url}/voucher", data={"date": "2025-03-06", "pay_from": books.leaf("102", 1)})
    assert r.status_code == 302 and "/vouchers/" in r.headers["Location"]
    db.session.expire_all()
    assert db.session.get(SpendingRequest, req.id).status == "vouchered"
    assert acc.get(f"{url}.pdf").data.startswith(b"%PDF")
    from coop.documents import cash as docs

    t = docs.request_table(db.session.get(SpendingRequest, req.id), {books.reviewer.id: "李主任"})
    assert [r.cells for r in t.rows][3] == ["金额", "3,000.00（叁仟元整）"]
    assert [r.cells for r in t.rows][-3][1].startswith("同意 李主任 ")
    scan = db.session.get(SpendingRequest, req.id).scans[0]
    assert acc.get(f"{base}/scans/{scan.id}").data == PNG


def test_cashier_pages_render(app, real_books, auth):
    books = real_books
    org = books.org
    cash = users.create_user("chuna", "出纳员", "password1")
    users.assign_role(cash, "cashier", org)
    b1 = books.leaf("102", 1)
    books.post("2025-03-02", (b1, "100.00", ""), ("501", "", "100.00"), summary="收租")
    bank.set_account(org, user=cash, account_code=b1, bank_name="农商银行")
    db.session.commit()
    c = auth.browser("chuna")
    base = f"/o/{org.id}/cash"
    r = c.get(f"{base}/journal?code={b1}&month=2025-03")
    assert r.status_code == 200 and "本日合计" in r.get_data(as_text=True) and "501 经营收入" in r.get_data(as_text=True)
    data = csv_of([("2025-03-03", "收租", "100.00", "", "A1"), ("2025-03-20", "结息", "1.23", "", "B")], "5000000.00")
    r = c.post(f"{base}/bank/import", data={"account_code": b1, "dry_run": "1", **MAPPING,
                                            "file": (io.BytesIO(data), "3月.csv")}, content_type="multipart/form-data")
    assert r.status_code == 200 and "试导入：2 笔" in r.get_data(as_text=True)
    assert count(bank.BankStatement) == 0
    r = c.post(f"{base}/bank/import", data={"account_code": b1, **MAPPING, "file": (io.BytesIO(data), "3月.csv")},
               content_type="multipart/form-data")
    assert r.status_code == 302
    assert c.post(f"{base}/bank/{b1}/match").status_code == 302
    r = c.get(f"{base}/bank/{b1}/2025/3")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "5,000,101.23" in page and "两方调节后余额一致" in page
    assert c.get(f"{base}/bank/{b1}/2025/3?format=pdf").data.startswith(b"%PDF")
    assert c.get(f"{base}/bank/{b1}/2025/3?format=xlsx").data.startswith(b"PK")
    assert c.post(f"{base}/bank/{b1}/2025/3/final").status_code == 302
    assert "已定稿" in c.get(f"{base}/bank/{b1}/2025/3").get_data(as_text=True)
    assert c.get(f"{base}/payouts").status_code == 200
    county = auth.browser("xian")
    assert "报账审批设置" in county.get("/county/spending-policy").get_data(as_text=True)
    r = county.post("/county/spending-policy", data={"finance_group_above": "5000.00", "meeting_above": "1000.00",
                                                     "cash_payment_limit": "1000.00", "request_required_above": "0"})
    assert r.status_code == 422 and "不能低于" in r.get_data(as_text=True)


def test_the_cashier_signs_from_the_voucher_page(app, real_books, auth):
    books = real_books
    cash = users.create_user("chuna", "出纳员", "password1")
    users.assign_role(cash, "cashier", books.org)
    v = books.post("2025-03-02", ("513", "50.00", ""), (books.leaf("101", 1), "", "50.00"), summary="邮费")
    db.session.commit()
    url = f"/o/{books.org.id}/vouchers/{v.id}"
    assert "btn-cashier-sign" not in auth.browser("kuaiji").get(url).get_data(as_text=True)
    c = auth.browser("chuna")
    assert "btn-cashier-sign" in c.get(url).get_data(as_text=True)
    assert c.post(f"/o/{books.org.id}/cash/sign/{v.id}").status_code == 302
    page = c.get(url).get_data(as_text=True)
    assert "btn-cashier-sign" not in page and "出纳员" in page
