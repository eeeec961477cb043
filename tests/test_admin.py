"""County administration: organizations with validated USCC, 章程 defaults, users and roles."""
from decimal import Decimal

import pytest

from coop.core.extensions import db
from coop.models import Organization
from tests.conftest import count

VALID_USCC = "91110000600037341L"


def test_policy_falls_back_to_county_defaults(books):
    p = books.org.policy()
    assert p["reserve_rate"] == Decimal("0.3000")
    assert p["cadre_reward_cap"] == Decimal("0.2000")
    assert p["cash_limit"] == Decimal("5000.00")
    books.org.reserve_rate = Decimal("0.25")
    assert books.org.policy()["reserve_rate"] == Decimal("0.25")


def test_create_org_via_api_checks_uscc(books, client, auth):
    h = auth.headers(books.county_admin)
    body = {"township_id": books.township.id, "name": "西村股份经济合作社", "kind": "village_shareholding",
            "books_start_year": 2025, "uscc": "91110000600037341X"}
    before = count(Organization)
    r = client.post("/api/v1/admin/orgs", json=body, headers=h)
    assert r.status_code == 422
    assert r.json["errors"]["uscc"] == ["统一社会信用代码无效：校验码不正确"]
    assert count(Organization) == before
    body["uscc"] = VALID_USCC
    r = client.post("/api/v1/admin/orgs", json=body, headers=h)
    assert r.status_code == 201, r.json
    assert r.json["reserve_rate"] == "0.3000" and r.json["cash_limit"] == "5000.00"
    org = db.session.get(Organization, r.json["id"])
    from coop.services.accounts import accounts_of

    codes = [a.code for a in accounts_of(org)]
    assert len([c for c in codes if len(c) == 3]) == 42
    assert "32202" in codes and "3220103" in codes
    r = client.post("/api/v1/admin/orgs", json=body, headers=h)
    assert r.status_code == 422 and "已被其他组织使用" in r.json["errors"]["uscc"][0]


def test_only_county_admin_creates(books, client, auth):
    h = auth.headers(books.accountant)
    r = client.post("/api/v1/admin/orgs", json={"township_id": books.township.id, "name": "X", "kind": "group",
                                               "books_start_year": 2025}, headers=h)
    # the accountant is told no more than that there is no such township for them
    assert r.status_code == 422 and r.json["errors"] == {"township_id": ["乡镇不存在"]}


def test_charter_web_form_shows_errors_and_saves(books, client, auth):
    auth.login("xian")
    r = client.post(f"/admin/orgs/{books.org.id}/charter", data={"reserve_rate": "1.5", "cash_limit": "abc"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "比例应在0到1之间" in html and "金额格式不正确" in html
    r = client.post(f"/admin/orgs/{books.org.id}/charter", data={"reserve_rate": "0.25", "cash_limit": "8000"})
    assert r.status_code == 302
    db.session.expire_all()
    assert books.org.policy()["reserve_rate"] == Decimal("0.2500")
    assert books.org.policy()["cash_limit"] == Decimal("8000.00")


def test_admin_pages_hidden_from_others(books, client, auth):
    auth.login("kuaiji")
    assert client.get("/admin/").status_code == 404


@pytest.mark.parametrize("role,scope_field", [("accountant", "organization_id"), ("township_auditor", "township_id")])
def test_create_user_with_role(books, client, role, scope_field, auth):
    auth.login("xian")
    scope = books.org.id if scope_field == "organization_id" else books.township.id
    r = client.post("/admin/users", data={"username": "new.user", "display_name": "新用户", "password": "Ziyou-Shan7",
                                          "role": role, scope_field: str(scope)})
    assert r.status_code == 302, r.get_data(as_text=True)
    client.post("/logout")
    # a one-time password: the first login must choose a new one before anything else opens
    r = auth.login("new.user", "Ziyou-Shan7")
    assert r.headers["Location"].endswith("/account/password")
    assert client.get(f"/o/{books.org.id}/").headers["Location"].endswith("/account/password")
    r = client.post("/account/password", data={"current_password": "Ziyou-Shan7", "new_password": "Hetian-Yuan42",
                                               "confirm_password": "Hetian-Yuan42"})
    assert r.status_code == 302
    assert client.get(f"/o/{books.org.id}/").status_code == 200


def test_collective_codes_starting_with_n2_are_accepted():
    from coop.core.errors import ValidationFailed
    from coop.services.orgs import validate_uscc

    # 农村集体经济组织 codes start with N2 (登记管理部门 N, 机构类别 2); the check digit is still verified
    assert validate_uscc("n2330102ma2h000001") == "N2330102MA2H000001"
    with pytest.raises(ValidationFailed, match="校验码不正确"):
        validate_uscc("N2330102MA2H000002")
    with pytest.raises(ValidationFailed, match="行政区划码"):
        validate_uscc("N23301A2MA2H000001")
