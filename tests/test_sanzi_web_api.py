"""三资台账 pages and API (#21): the same services behind both, refusals beside the field / as a 4xx with the field
path and nothing written, ID numbers masked for supervisors, the xlsx exports."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from openpyxl import load_workbook

from coop.core.extensions import db
from coop.models import Contract, Parcel, Voucher
from coop.services import users
from tests.conftest import count
from tests.realbooks import real_books  # noqa: F401
from tests.test_loans_web import text

D = Decimal
LEASE = {"number": "ZL-2025-009", "kind": "lease", "counterparty": "绿源农业公司", "counterparty_id_no":
         "520203199001010033", "start_date": "2025-01-01", "end_date": "2034-12-31", "annual_amount": "50000.00",
         "frequency": "quarterly", "step_rate": "0.05", "step_years": 3, "democratic_kind": "assembly",
         "democratic_date": "2024-12-10", "votes_for": 41, "votes_total": 45, "publicity_days": 7}


def _api(app, who):
    token = users.issue_api_token(who, "t")
    db.session.commit()
    client = app.test_client()

    def call(method, path, body=None):
        return client.open("/api/v1" + path, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
    return call


def test_api_contract_schedule_accrual_and_refusals(app, real_books):
    b = real_books
    api = _api(app, b.accountant)
    o = b.org.id
    r = api("POST", f"/orgs/{o}/contracts", {**LEASE, "annual_amount": 50000})
    assert r.status_code == 422 and "annual_amount" in str(r.get_json())  # a JSON number is not money
    r = api("POST", f"/orgs/{o}/contracts", {**LEASE, "end_date": "2024-12-31"})
    assert r.status_code == 422 and "end_date" in str(r.get_json()) and count(Contract) == 0
    r = api("POST", f"/orgs/{o}/contracts", LEASE)
    assert r.status_code == 201, r.get_json()
    cid = r.get_json()["id"]
    r = api("POST", f"/orgs/{o}/contracts/{cid}/activate")
    assert r.status_code == 200
    inst = r.get_json()["instalments"]
    assert len(inst) == 40 and inst[-1]["amount"] == "14470.32" and inst[-2]["amount"] == "14470.31"
    r = api("POST", f"/orgs/{o}/contracts/accruals", {"on": "2025-04-01"})
    assert r.status_code == 200 and len(r.get_json()["voucher_ids"]) == 2  # 1 January and 1 April
    assert api("POST", f"/orgs/{o}/contracts/accruals", {"on": "2025-04-01"}).get_json()["voucher_ids"] == []
    r = api("POST", f"/orgs/{o}/contracts/{cid}/receipts", {"date": "2025-04-02", "amount": "25000.01"})
    assert r.status_code == 422 and "amount" in r.get_json()["errors"]
    r = api("POST", f"/orgs/{o}/contracts/{cid}/receipts", {"date": "2025-04-02", "amount": "12500.00"})
    assert r.status_code == 201
    # the township auditor reads the register with the ID number masked
    aud = _api(app, b.auditor)
    got = aud("GET", f"/orgs/{o}/contracts/{cid}").get_json()
    assert got["counterparty_id_no"] == "520203********0033"
    assert aud("POST", f"/orgs/{o}/contracts/accruals", {}).status_code == 403
    assert api("GET", f"/orgs/{o}/contracts/{cid}").get_json()["counterparty_id_no"] == "520203199001010033"


def test_api_assets_depreciation_parcels(app, real_books):
    b = real_books
    api = _api(app, b.accountant)
    o = b.org.id
    r = api("POST", f"/orgs/{o}/assets", {"number": "GD-1", "name": "冷库", "acquired_date": "2024-12-31",
                                          "cost": "120000.00", "life_months": 120, "residual_rate": "0.05",
                                          "opening_depreciation": "0.00", "use": "operating"})
    assert r.status_code == 201, r.get_json()
    # an opening card without its opening balance: the cards and the ledger disagree
    rec = api("GET", f"/orgs/{o}/assets/reconciliation").get_json()
    assert rec == [{"category": "fixed", "card_cost": "120000.00", "ledger_cost": "0.00",
                    "card_depreciation": "0.00", "ledger_depreciation": "0.00", "ok": False}]
    r = api("POST", f"/orgs/{o}/depreciation", {"year": 2025, "month": 1})
    # 120,000 × 95% / 120 = 950.00 a month
    assert r.status_code == 200 and r.get_json()["total"] == "950.00" and r.get_json()["assets"] == 1
    again = api("POST", f"/orgs/{o}/depreciation", {"year": 2025, "month": 1}).get_json()
    assert again["voucher_id"] == r.get_json()["voucher_id"]
    assert api("POST", f"/orgs/{o}/depreciation", {"year": 2025, "month": 13}).status_code == 422
    r = api("POST", f"/orgs/{o}/parcels", {"code": "DK-1", "kind": "arable", "area": "3.12345"})
    assert r.status_code == 422 and "area" in r.get_json()["errors"] and count(Parcel) == 0
    assert api("POST", f"/orgs/{o}/parcels", {"code": "DK-1", "kind": "arable", "area": "3.1234"}).status_code == 201
    assert api("GET", f"/orgs/{o}/parcels/summary").get_json() == [
        {"kind": "arable", "status": "collective", "parcels": 1, "area": "3.1234"}]


def test_pages_register_show_and_export(app, real_books, auth):
    b = real_books
    web = auth.browser("kuaiji")
    o = b.org.id
    r = web.post(f"/o/{o}/sanzi/contracts/new", data={**{k: str(v) for k, v in LEASE.items()}, "area": ""} |
                 {"annual_amount": "-1"})
    assert r.status_code == 422 and count(Contract) == 0
    r = web.post(f"/o/{o}/sanzi/contracts/new", data={k: str(v) for k, v in LEASE.items()})
    assert r.status_code == 302
    c = db.session.scalar(db.select(Contract))
    assert web.post(f"/o/{o}/sanzi/contracts/{c.id}/activate").status_code == 302
    page = text(web.get(f"/o/{o}/sanzi/contracts/{c.id}"))
    assert "14,470.32" in page and "520203199001010033" in page
    assert web.post(f"/o/{o}/sanzi/parcels/new", data={"code": "DK-1", "kind": "arable", "area": "2.5"}).status_code == 302
    assert web.post(f"/o/{o}/sanzi/assets/new", data={"number": "GD-1", "name": "冷库", "acquired_date": "2025-01-10",
                                                       "cost": "1000.00", "life_months": "10"}).status_code == 302
    page = text(web.get(f"/o/{o}/sanzi/"))
    assert "ZL-2025-009" in page and "冷库" in page and "2.5000" in page
    assert "资产卡片与总账不符" in page  # the card has no voucher behind it
    pdf = web.get(f"/o/{o}/sanzi/assets.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    r = web.get(f"/o/{o}/sanzi/contracts.xlsx")
    ws = load_workbook(io.BytesIO(r.data)).active
    assert ws.cell(1, 1).value == "合同台账"
    assert any(row[0] == "ZL-2025-009" for row in ws.iter_rows(values_only=True))
    aud = auth.browser("jingguan")
    assert "520203********0033" in text(aud.get(f"/o/{o}/sanzi/contracts/{c.id}"))


def test_disclosure_sheets_through_the_workflow_and_the_member_portal(app, real_books, auth):
    """资产, 资源 and 合同 sheets: built from closed months, reviewed, approved, published, seen by a member."""
    from coop.services import disclosure, members, sanzi

    b = real_books
    c = sanzi.create_contract(b.org, dict(number="ZL-1", kind="lease", counterparty="绿源农业公司",
                                          start_date=dt.date(2025, 1, 1), end_date=dt.date(2027, 12, 31),
                                          annual_amount=D("12000.00"), frequency="half_yearly",
                                          democratic_date=dt.date(2024, 12, 1), votes_for=30, votes_total=35),
                              user=b.accountant)
    sanzi.activate_contract(c, user=b.accountant)
    sanzi.register_parcel(b.org, dict(code="DK-1", kind="water", area=D("20.5"), status="leased"), user=b.accountant)
    c.parcel_id = db.session.scalar(db.select(Parcel.id))
    sanzi.register_asset(b.org, dict(number="GD-1", name="泵站", source="fiscal", source_ref="黔财农〔2024〕12号",
                                     acquired_date=dt.date(2024, 12, 1), cost=D("0.00"), life_months=120),
                         user=b.accountant)
    for v in sanzi.accrue_due(b.org, on=dt.date(2025, 6, 30), user=b.accountant):
        vouchers_post(b, v)
    r = sanzi.record_receipt(c, date=dt.date(2025, 2, 1), amount=D("6000.00"), user=b.accountant)
    vouchers_post(b, db.session.get(Voucher, r.voucher_id))
    b.close_through(2025, 6)
    group = users.create_user("licai", "理财小组长", "password1")
    users.assign_role(group, "finance_group", b.org)
    start, end = dt.date(2025, 1, 1), dt.date(2025, 6, 30)
    sheets = {}
    for kind in ("sanzi_contracts", "sanzi_resources", "sanzi_assets"):
        d = disclosure.create_sheet(b.org, kind=kind, start=start, end=end, user=b.accountant)
        disclosure.finance_group_review(d, user=group, approve=True)
        disclosure.township_approve(d, user=b.auditor)
        sheets[kind] = disclosure.publish(d, user=b.accountant, date=dt.date(2025, 7, 5), channel="村务公开栏")
    import json

    data = json.loads(sheets["sanzi_contracts"].data)
    # half-yearly in advance: 6,000.00 due 1 January, received 1 February; 1 July lies after the period
    assert data["rows"] == [["ZL-1", "租赁", "绿源农业公司", "", "2025-01-01至2027-12-31", "12000.00",
                             "成员（代表）大会 2024-12-01 30/35", "6000.00", "0.00"]]
    assert [t["amount"] for t in data["totals"]] == ["6000.00", "0.00"]
    assert json.loads(sheets["sanzi_resources"].data)["rows"][0][:4] == ["DK-1", "", "水面", "20.5000"]
    assert json.loads(sheets["sanzi_resources"].data)["rows"][0][6] == "ZL-1"
    assert "黔财农〔2024〕12号" in json.loads(sheets["sanzi_assets"].data)["rows"][0][7]
    # a member of the village sees the published sheets on the portal
    h = members.create_household(b.org, number="0001")
    from stdnum.cn.ric import calc_check_digit

    body = "33010019900101123"
    m = members.add_member(h, name="张一", id_number=body + calc_check_digit(body + "0"), relation="户主")
    mu = users.create_user("chengyuan", "张一", "password1")
    users.assign_role(mu, "member", b.org)
    m.user_id = mu.id
    db.session.commit()
    web = auth.browser("chengyuan")
    listing = text(web.get(f"/o/{b.org.id}/disclosure/published"))
    assert "发包租赁合同公开表" in listing and "资产公开表" in listing and "资源公开表" in listing
    page = text(web.get(f"/o/{b.org.id}/disclosure/published/{sheets['sanzi_contracts'].id}"))
    assert "绿源农业公司" in page and "6,000.00" in page


def vouchers_post(b, v):
    from coop.services import vouchers

    vouchers.review_voucher(v, user=b.reviewer)
    vouchers.post_voucher(v, user=b.accountant)


def test_import_over_the_api_and_the_page(app, real_books, auth):
    from tests.test_sanzi import _xlsx

    b = real_books
    api_token = users.issue_api_token(b.accountant, "t")
    db.session.commit()
    client = app.test_client()
    data = _xlsx([["地块编码", "类型", "面积"], ["DK-1", "耕地", "1.5"], ["DK-2", "耕地", "-1"]])

    def post(content, dry_run):
        return client.post(f"/api/v1/orgs/{b.org.id}/sanzi-imports/parcels",
                           data={"file": (io.BytesIO(content), "p.xlsx"), "dry_run": dry_run},
                           headers={"Authorization": f"Bearer {api_token}"}, content_type="multipart/form-data")
    r = post(data, "false")
    assert r.status_code == 422 and list(r.get_json()["errors"]["rows"]) == ["3"] and count(Parcel) == 0
    good = _xlsx([["地块编码", "类型", "面积"], ["DK-1", "耕地", "1.5"]])
    assert post(good, "true").get_json() == {"kind": "parcels", "rows": 1, "dry_run": True} and count(Parcel) == 0
    assert post(good, "false").status_code == 200 and count(Parcel) == 1
    assert post(good, "false").status_code == 409
    web = auth.browser("kuaiji")
    r = web.post(f"/o/{b.org.id}/sanzi/import", data={"kind": "parcels", "action": "check",
                                                       "file": (io.BytesIO(data), "p.xlsx")},
                 content_type="multipart/form-data")
    assert r.status_code == 422 and "第 3 行" in text(r) and count(Parcel) == 1


def test_inventory_over_the_api(app, real_books):
    b = real_books
    api = _api(app, b.accountant)
    o = b.org.id
    assert api("POST", f"/orgs/{o}/parcels", {"code": "DK-1", "kind": "arable", "area": "3.0000"}).status_code == 201
    assert api("GET", f"/orgs/{o}/inventories/2025").status_code == 404
    inv = api("POST", f"/orgs/{o}/inventories/2025").get_json()
    [item] = inv["items"]
    assert api("POST", f"/orgs/{o}/inventories/2025/post").status_code == 422  # not counted yet
    r = api("PUT", f"/orgs/{o}/inventories/2025/items/{item['id']}", {"result": "present"})
    assert r.status_code == 200 and r.get_json()["result"] == "present"
    r = api("POST", f"/orgs/{o}/inventories/2025/surplus", {"description": "水泵", "value": "600.00"})
    assert r.status_code == 201
    r = api("POST", f"/orgs/{o}/inventories/2025/post")
    assert r.status_code == 200 and r.get_json()["status"] == "posted" and r.get_json()["voucher_id"]
    r = api("POST", f"/orgs/{o}/inventories/2025/publish", {"publish_from": "2026-01-05", "publish_until": "2026-01-10"})
    assert r.status_code == 422 and "publish_until" in r.get_json()["errors"]
    r = api("POST", f"/orgs/{o}/inventories/2025/publish", {"publish_from": "2026-01-05", "publish_until": "2026-01-11"})
    assert r.status_code == 200 and r.get_json()["status"] == "published"


def test_signed_scan_is_checked_and_kept_by_its_digest(app, real_books):
    import hashlib

    b = real_books
    token = users.issue_api_token(b.accountant, "t")
    from coop.services import sanzi

    c = sanzi.create_contract(b.org, dict(
        number="ZL-9", kind="lease", counterparty="甲", start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31),
        annual_amount=D("100.00")), user=b.accountant)
    db.session.commit()
    client = app.test_client()

    def post(content, name):
        return client.post(f"/api/v1/orgs/{b.org.id}/contracts/{c.id}/scan", data={"file": (io.BytesIO(content), name)},
                           headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")
    r = post(b"MZ\x90\x00 not a scan", "合同.pdf")
    assert r.status_code == 422 and "file" in r.get_json()["errors"]
    pdf = b"%PDF-1.4\n% signed contract\n"
    r = post(pdf, "合同.pdf")
    assert r.status_code == 200 and r.get_json()["scan_sha256"] == hashlib.sha256(pdf).hexdigest()


def test_inventory_page(app, real_books, auth):
    from coop.models import Inventory

    b = real_books
    from coop.services import sanzi

    p = sanzi.register_parcel(b.org, dict(code="DK-1", kind="arable", area=D("2.0")), user=b.accountant)
    db.session.commit()
    web = auth.browser("kuaiji")
    url = f"/o/{b.org.id}/sanzi/inventory/2025"
    assert "清查尚未开始" in text(web.get(url))
    assert web.post(url, data={"action": "start"}).status_code == 302
    inv = db.session.scalar(db.select(Inventory))
    [item] = inv.items
    r = web.post(url, data={"action": "post"})
    assert r.status_code == 422 and "还有 1 项未清点" in text(r)
    assert web.post(url, data={"action": "count", f"result-{item.id}": "present"}).status_code == 302
    assert web.post(url, data={"action": "post"}).status_code == 302
    r = web.post(url, data={"action": "publish", "publish_from": "2026-01-05", "publish_until": "2026-01-10"})
    assert r.status_code == 422 and "不少于 7 天" in text(r)
    assert web.post(url, data={"action": "publish", "publish_from": "2026-01-05",
                               "publish_until": "2026-01-11"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Inventory, inv.id).status == "published" and p.code in text(web.get(url))
