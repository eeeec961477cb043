"""Code schemes per county (RULES §2): one module (coop.ledger.codes) owns code structure; a legacy 3-3 county
gets 322001/322001001…, adds 3-digit 明细, reports levels by its scheme, and the 2004 import maps into it."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.ledger import codes, roles as R
from coop.services import accounts, opening, orgs, reports, roles
from tests.conftest import Books

D = Decimal


def test_scheme_structure():
    s = codes.scheme("3-3")
    assert [s.level(c) for c in ("112", "112001", "112001001", "11201", "1120010")] == [1, 2, 3, 0, 0]
    assert s.parent("112001001") == "112001" and s.ancestors("112001001") == ["112", "112001"]
    assert s.is_valid_child("112", "112001") and not s.is_valid_child("112", "11201")
    assert not s.is_valid_child("112", "112000") and not s.is_valid_child("112001001", "112001001001")
    assert codes.DEFAULT.convert("3220103", s) == "322001003" and s.convert("322002", codes.DEFAULT) == "32202"
    with pytest.raises(ValidationFailed):
        orgs.create_county("错县", code_scheme="9-9")


@pytest.fixture
def legacy(app):
    b = Books(code_scheme="3-3")
    db.session.commit()
    return b


def test_a_3_3_county_keeps_its_codes_everywhere(legacy):
    org = legacy.org
    chart = accounts.chart(org).infos
    assert {"322001", "322001001", "322001004", "322002"} <= set(chart) and "32202" not in chart
    assert roles.resolve(org, R.UNDISTRIBUTED) == "322002" and roles.resolve(org, R.DIST_CADRE) == "322001002"
    with pytest.raises(ValidationFailed, match="加三位数字（如 102001）"):
        accounts.add_detail_account(org, "102", "10201", "农业银行")
    accounts.add_detail_account(org, "102", "102001", "农业银行")
    accounts.add_detail_account(org, "102001", "102001001", "基本户")
    with pytest.raises(ValidationFailed, match="最末一级"):
        accounts.add_detail_account(org, "102001001", "102001001001", "子户")
    # the 2004 import maps 322 收益分配 to 322002 未分配收益 of this scheme
    mapped = opening.import_2004_opening(org, [("102", D("1000.00")), ("301", D("-800.00")), ("322", D("-200.00"))],
                                         user=legacy.accountant, choices={"102": "102001001"})
    assert mapped == {"102001001": D("1000.00"), "301": D("-800.00"), "322002": D("-200.00")}
    legacy.post("2025-01-10", ("102001001", "", "100.00"), ("513", "100.00", ""))
    tb = reports.trial_balance(org, 2025, 1)
    levels = {r.code: r.level for r in tb.rows}
    assert levels["102"] == 1 and levels["102001"] == 2 and levels["102001001"] == 3 and tb.balanced
    bs = reports.balance_sheet(org, 2025, 1)
    assert bs.value("cash", 1) == D("900.00") and bs.value("undistributed", 0) == D("200.00")
    legacy.close_through(2025, 12)
    bal = reports.leaf_balances(org, until=dt.date(2025, 12, 31))
    # the carry-over went to this scheme's 未分配收益: 200 brought forward − 100 of expense
    assert bal["322002"] == D("-100.00") and "513" not in bal


def test_county_admin_sets_the_scheme_before_the_first_organization(app, client, auth):
    from coop.models import County
    from coop.services import admin, users

    county = orgs.create_county("新县")
    boss = users.create_user("xin_admin", "新县管理员", "password1")
    users.assign_role(boss, "county_admin", county)
    h = auth.headers(boss)
    r = client.put("/api/v1/admin/code-scheme", json={"code_scheme": "4-4"}, headers=h)
    assert r.status_code == 422 and "code_scheme" in r.get_json()["errors"]
    r = client.put("/api/v1/admin/code-scheme", json={"code_scheme": "3-3"}, headers=h)
    assert r.status_code == 200 and db.session.get(County, county.id).code_scheme == "3-3"
    org = orgs.create_organization(orgs.create_township(county, "新镇"), name="新村", books_start_year=2025)
    db.session.commit()
    assert "322001001" in accounts.chart(org).infos
    auth.login("xin_admin")
    r = client.post("/admin/code-scheme", data={"code_scheme": "2-2-2"})
    assert r.status_code == 422 and "不能再改" in r.get_data(as_text=True)
    assert db.session.get(County, county.id).code_scheme == "3-3"
    with pytest.raises(ValidationFailed):
        admin.set_code_scheme(boss, county, "2-2-2")


def test_pages_of_a_3_3_county(legacy, client, auth):
    auth.login("kuaiji")
    base = f"/o/{legacy.org.id}"
    page = client.get(base + "/accounts").get_data(as_text=True)
    assert "本县编码方案 3-3" in page and 'maxlength="9"' in page and "322001001" in page
    r = client.post(base + "/accounts", data={"parent_code": "102", "code": "10201", "name": "农业银行"})
    assert r.status_code == 422 and "加三位数字（如 102001）" in r.get_data(as_text=True)
    assert client.post(base + "/accounts", data={"parent_code": "102", "code": "102001", "name": "农业银行"}
                       ).status_code == 302
    page = client.get(base + "/accounts/roles").get_data(as_text=True)
    assert "322001003" in page and "非末级，请指定" in page  # 102 now has a child: 银行存款 needs mapping
    assert client.post(base + "/accounts/roles/bank", data={"account_code": "102001"}).status_code == 302
    assert roles.resolve(legacy.org, R.BANK) == "102001"
