"""Issue #16 (RULES §13), each attack on the demo as a test: nothing about a person crosses an organization boundary
(roster check, add household, masking, search), roster checks are limited; sessions end (logout, password change,
reset, deactivation, role removal) and remember cookies expire and differ per login; accounts are managed by the
county admin (township for its villages) in web, API and CLI, audit-logged, with a password policy, forced
first-login change, least-privilege default; portal access ends with membership."""
from __future__ import annotations

import datetime as dt
import io
import time

import pytest
import sqlalchemy as sa
from flask import g

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.models import ApiToken, AuditLog, Member, User
from coop.services import admin, members, orgs, users
from tests.test_members_web import IDS

DOMAIN = "coop.test"


def cookies(client) -> dict:
    return {c.key: c.value for c in client._cookies.values()}


def with_cookies(app, jar: dict):
    """A new browser holding copies of another's cookies (what an attacker who copied them has)."""
    c = app.test_client()
    for k, v in jar.items():
        c.set_cookie(k, v, domain=DOMAIN)
    return c


def opens_books(client, books) -> bool:
    """Whether the client's cookies open the books. The test's app context outlives requests, so forget the user
    flask-login cached in `g` by an earlier request: each request must load it from its own cookies."""
    g.pop("_login_user", None)
    return client.get(f"/o/{books.org.id}/").status_code == 200


def actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)))


# ---------------------------------------------------------------- privacy across organizations


@pytest.fixture
def two_counties(books):
    """张三 (IDS[0]) registered in 东村 of 测试县; an accountant of 北村 in another county."""
    other_county = orgs.create_county("外县")
    other_org = orgs.create_organization(orgs.create_township(other_county, "北镇"), name="北村股份经济合作社",
                                         books_start_year=2025)
    stranger = users.create_user("kuaiji_wai", "外县会计", "password1")
    users.assign_role(stranger, "accountant", other_org)
    h = members.create_household(books.org)
    members.add_member(h, name="张三", id_number=IDS[0], relation="户主")
    token = users.issue_api_token(stranger, "t")
    db.session.commit()
    return books, other_org, token


def roster(*ids) -> bytes:
    lines = ["户主,户主身份证,成员,身份证,与户主关系"] + [f"某人,{i},某人,{i},户主" for i in ids]
    return "\n".join(lines).encode()


def test_roster_check_across_counties_says_registered_elsewhere_and_nothing_more(two_counties, client):
    books, other_org, token = two_counties
    r = client.post(f"/api/v1/orgs/{other_org.id}/roster/check", headers={"Authorization": f"Bearer {token}"},
                    data={"file": (io.BytesIO(roster(IDS[0], IDS[1])), "名册.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 200
    problems = [p["message"] for p in r.json["problems"]]
    assert problems == [f"身份证号 {IDS[0]} 已在其他集体经济组织登记，请联系乡镇经管站"]
    assert "张三" not in r.get_data(as_text=True) and "东村" not in r.get_data(as_text=True)


def test_adding_a_household_with_a_number_of_another_county_names_nobody(two_counties, client):
    books, other_org, token = two_counties
    r = client.post(f"/api/v1/orgs/{other_org.id}/households", headers={"Authorization": f"Bearer {token}"},
                    json={"name": "冒名", "id_number": IDS[0]})
    assert r.status_code == 422
    assert r.json["errors"]["id_number"] == [f"身份证号 {IDS[0]} 已在其他集体经济组织登记，请联系乡镇经管站"]
    assert "张三" not in r.get_data(as_text=True) and "东村" not in r.get_data(as_text=True)
    # within the village the accountant is told who it is
    with pytest.raises(ValidationFailed, match="已登记在本村（张三）"):
        members.add_member(members.create_household(books.org), name="重复", id_number=IDS[0])


def test_roster_checks_are_limited_in_rows_and_rate(two_counties, client, app):
    books, other_org, token = two_counties
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/orgs/{other_org.id}/roster/check"
    app.extensions["coop_rate_limit"].clear()
    app.config.update(ROSTER_MAX_ROWS=200, ROSTER_UPLOADS_PER_HOUR=3)
    try:
        big = roster(*([IDS[1]] * 201))
        r = client.post(url, headers=auth, data={"file": (io.BytesIO(big), "x.csv")}, content_type="multipart/form-data")
        assert r.status_code == 422 and r.json["errors"]["file"] == ["名册每次最多 200 行，本文件有 201 行，请分批上传"]
        for _ in range(3):  # the refused file did not count
            r = client.post(url, headers=auth, data={"file": (io.BytesIO(roster(IDS[1])), "x.csv")},
                            content_type="multipart/form-data")
            assert r.status_code == 200
        r = client.post(url, headers=auth, data={"file": (io.BytesIO(roster(IDS[1])), "x.csv")},
                        content_type="multipart/form-data")
        assert r.status_code == 429
        assert r.json["code"] == "too_many_requests" and "名册检查过于频繁" in r.json["message"]
    finally:
        app.config.update(ROSTER_MAX_ROWS=3000, ROSTER_UPLOADS_PER_HOUR=20)
        app.extensions["coop_rate_limit"].clear()


def test_a_reviewer_cannot_recover_a_masked_number_by_searching(books, client, auth):
    h = members.create_household(books.org)
    members.add_member(h, name="张三", id_number=IDS[0], relation="户主")
    db.session.commit()
    auth.login("shenhe")
    base = f"/o/{books.org.id}/members/"
    page = client.get(f"/o/{books.org.id}/members/h/{h.id}").get_data(as_text=True)
    assert IDS[0] not in page and IDS[0][:6] + "********" + IDS[0][-4:] in page
    # the attack: guess the hidden digits one at a time against a suffix or substring match
    for guess in (IDS[0][-4:], IDS[0][-5:], IDS[0][6:], IDS[0][:-1], IDS[0][:6]):
        assert "张三" not in client.get(base, query_string={"q": guess}).get_data(as_text=True), guess
    assert "张三" in client.get(base, query_string={"q": IDS[0]}).get_data(as_text=True)


# ---------------------------------------------------------------- sessions end


def test_after_logout_the_old_session_and_remember_cookies_open_nothing(books, app, auth):
    browser = app.test_client()
    auth.login("kuaiji", remember=True, client=browser)
    copied = cookies(browser)
    assert set(copied) >= {"session", "remember_token"} and opens_books(with_cookies(app, copied), books)
    browser.post("/logout")
    assert not opens_books(browser, books)
    assert not opens_books(with_cookies(app, copied), books)  # the copied session cookie
    assert not opens_books(with_cookies(app, {"remember_token": copied["remember_token"]}), books)


def test_two_logins_never_get_the_same_remember_token(books, app, auth):
    tokens = set()
    for _ in range(2):
        c = app.test_client()
        auth.login("kuaiji", remember=True, client=c)
        tokens.add(cookies(c)["remember_token"])
    assert len(tokens) == 2


def test_remember_cookies_expire(books, app, monkeypatch, auth):
    c = app.test_client()
    auth.login("kuaiji", remember=True, client=c)
    remember = {"remember_token": cookies(c)["remember_token"]}
    cookie = next(k for k in c._cookies.values() if k.key == "remember_token")
    assert dt.timedelta(days=13) < cookie.expires - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(days=14)
    assert opens_books(with_cookies(app, remember), books)
    later = time.time() + 14 * 86400 + 60  # a copy kept past the expiry date is refused by the server too
    monkeypatch.setattr(time, "time", lambda: later)
    assert not opens_books(with_cookies(app, remember), books)


@pytest.mark.parametrize("act", ["password_change", "reset", "deactivate", "role_removal"])
def test_account_acts_end_every_session_of_the_user(books, app, act, auth):
    users.assign_role(books.accountant, "reviewer", books.org)  # a second role, so one can be removed
    db.session.commit()
    elsewhere = app.test_client()
    auth.login("kuaiji", remember=True, client=elsewhere)
    copied = cookies(elsewhere)
    assert opens_books(elsewhere, books)
    user = db.session.get(User, books.accountant.id)
    if act == "password_change":
        users.change_own_password(user, current="password1", new="Dongcun-Zhang2027", confirm="Dongcun-Zhang2027")
    elif act == "reset":
        admin.reset_password(books.county_admin, user)
    elif act == "deactivate":
        admin.set_active(books.county_admin, user, False)
    else:
        ra = next(r for r in user.roles if r.role == "reviewer")
        admin.remove_role(books.county_admin, user, ra.id)
    db.session.commit()
    assert not opens_books(elsewhere, books)
    assert not opens_books(with_cookies(app, copied), books)
    assert not opens_books(with_cookies(app, {"remember_token": copied["remember_token"]}), books)


# ---------------------------------------------------------------- accounts


@pytest.mark.parametrize("password,problem", [
    ("12345678", "密码至少10位"), ("1234567890", "密码太常见"), ("password123", "密码太常见"),
    ("Password123!", "密码太常见"), ("aaaaaaaaaaaa", "密码太常见"), ("xiaowang2026", "包含用户名"),
    ("abcdefghijkl", "至少两类"), ("98765432101234", "至少两类"),
])
def test_weak_passwords_are_refused(password, problem):
    assert problem in users.password_problem(password, username="xiaowang", display_name="小王")


def test_a_reasonable_password_passes():
    assert users.password_problem("Hetian-Yuan42", username="xiaowang") is None
    assert users.password_problem("qingshan lushui 7", username="xiaowang") is None


def test_a_new_account_gets_the_least_role_and_must_change_its_one_time_password(books, client, auth):
    auth.login("xian")
    form = client.get("/admin/users").get_data(as_text=True)
    assert '<option value="member" selected>' in form
    assert form.index('value="member"') < form.index('value="county_admin"')
    r = client.post("/admin/users", data={"username": "zhangsan", "display_name": "张三", "password": "12345678",
                                          "organization_id": str(books.org.id)})
    assert r.status_code == 422 and "密码至少10位" in r.get_data(as_text=True)
    r = client.post("/admin/users", data={"username": "zhangsan", "display_name": "张三", "password": "zhangsan2026",
                                          "organization_id": str(books.org.id)})
    assert r.status_code == 422 and "用户名" in r.get_data(as_text=True)
    r = client.post("/admin/users", data={"username": "zhangsan", "display_name": "张三", "password": "Qiaotou-Cun88",
                                          "organization_id": str(books.org.id)})
    assert r.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "zhangsan"))
    assert [r.role for r in user.roles] == ["member"] and user.must_change_password
    # the one-time password opens only the change page, and its API tokens are refused until changed
    other = client.application.test_client()
    r = auth.login("zhangsan", "Qiaotou-Cun88", client=other, expect=None)
    assert r.headers["Location"].endswith("/account/password")
    assert other.get("/").headers["Location"].endswith("/account/password")
    r = other.post("/account/password", data={"current_password": "Qiaotou-Cun88", "new_password": "Qiaotou-Cun88",
                                              "confirm_password": "Qiaotou-Cun88"})
    assert r.status_code == 422 and "新密码不能与当前密码相同" in r.get_data(as_text=True)
    r = other.post("/account/password", data={"current_password": "Qiaotou-Cun88", "new_password": "Shanxia-Lu314",
                                              "confirm_password": "Shanxia-Lu314"})
    assert r.status_code == 302 and other.get("/").status_code == 200
    db.session.expire_all()
    assert not db.session.get(User, user.id).must_change_password
    assert "user.create" in actions() and "user.password_change" in actions()


def test_county_admin_resets_deactivates_and_manages_roles_over_the_api(books, client, auth):
    token = users.issue_api_token(books.county_admin, "t")
    victim_token = users.issue_api_token(books.reviewer, "t")
    db.session.commit()
    boss = {"Authorization": f"Bearer {token}"}
    rid = books.reviewer.id
    listed = client.get("/api/v1/admin/users", headers=boss).json
    assert {u["username"] for u in listed} == {"kuaiji", "shenhe", "jingguan"}  # not the admin themself
    # a leaked token of the accountant: revoked by the county admin
    leaked = users.issue_api_token(books.accountant, "leaked")
    db.session.commit()
    vouchers_url = f"/api/v1/orgs/{books.org.id}/vouchers"
    assert client.get(vouchers_url, headers={"Authorization": f"Bearer {leaked}"}).status_code == 200
    r = client.post(f"/api/v1/admin/users/{books.accountant.id}/revoke-tokens", headers=boss)
    assert r.status_code == 200
    assert client.get(vouchers_url, headers={"Authorization": f"Bearer {leaked}"}).status_code == 401
    r = client.post(f"/api/v1/admin/users/{rid}/reset", headers=boss)
    assert r.status_code == 200 and users.password_problem(r.json["one_time_password"], username="shenhe") is None
    assert r.json["user"]["must_change_password"] is True and r.headers["Cache-Control"] == "no-store"
    # the reset revoked the user's API tokens
    assert client.get(f"/api/v1/orgs/{books.org.id}/vouchers",
                      headers={"Authorization": f"Bearer {victim_token}"}).status_code == 401
    r = client.post(f"/api/v1/admin/users/{rid}/roles", headers=boss,
                    json={"role": "finance_group", "organization_id": books.org.id})
    assert r.status_code == 201 and sorted(x["role"] for x in r.json["roles"]) == ["finance_group", "reviewer"]
    ra = next(x["id"] for x in r.json["roles"] if x["role"] == "reviewer")
    r = client.delete(f"/api/v1/admin/users/{rid}/roles/{ra}", headers=boss)
    assert r.status_code == 200 and [x["role"] for x in r.json["roles"]] == ["finance_group"]
    last = r.json["roles"][0]["id"]
    r = client.delete(f"/api/v1/admin/users/{rid}/roles/{last}", headers=boss)
    assert r.status_code == 409 and "请停用账户" in r.json["message"]
    r = client.post(f"/api/v1/admin/users/{rid}/deactivate", headers=boss)
    assert r.status_code == 200 and r.json["active"] is False
    auth.login("shenhe", "password1", client=client.application.test_client(), expect=422)
    r = client.post(f"/api/v1/admin/users/{rid}/reactivate", headers=boss)
    assert r.status_code == 200 and r.json["active"] is True
    assert [a for a in actions() if a.startswith("user.")] == [
        "user.revoke_tokens", "user.reset", "user.grant", "user.revoke_role", "user.deactivate", "user.reactivate"]
    # nobody manages themself; an accountant manages nobody
    assert client.post(f"/api/v1/admin/users/{books.county_admin.id}/deactivate", headers=boss).status_code == 404
    acc = users.issue_api_token(books.accountant, "t")
    db.session.commit()
    assert client.post(f"/api/v1/admin/users/{rid}/reset",
                       headers={"Authorization": f"Bearer {acc}"}).status_code == 404


def test_township_auditor_manages_its_villages_only(books, client, auth):
    from coop.core.errors import NotFound, ValidationFailed

    other_township = orgs.create_township(books.county, "西镇")
    far = orgs.create_organization(other_township, name="远村", books_start_year=2025)
    far_user = users.create_user("kuaiji_far", "远村会计", "password1")
    users.assign_role(far_user, "accountant", far)
    db.session.commit()
    aud = books.auditor
    assert {u.username for u in admin.manageable_users(aud)} == {"kuaiji", "shenhe"}
    admin.set_active(aud, books.accountant, False)
    with pytest.raises(NotFound):
        admin.set_active(aud, far_user, False)
    with pytest.raises(NotFound):
        admin.reset_password(aud, books.county_admin)
    with pytest.raises(ValidationFailed):
        admin.grant_role(aud, books.reviewer, "township_auditor", township_id=books.township.id)
    with pytest.raises(ValidationFailed):
        admin.grant_role(aud, books.reviewer, "accountant", organization_id=far.id)
    admin.grant_role(aud, books.reviewer, "finance_group", organization_id=books.org.id)
    db.session.commit()
    auth.login("jingguan")
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert "kuaiji" in page and "kuaiji_far" not in page and "xian" not in page


def test_web_account_page_resets_and_deactivates(books, client, auth):
    auth.login("xian")
    r = client.post(f"/admin/accounts/{books.reviewer.id}/reset")
    assert r.status_code == 200 and "一次性密码" in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    assert client.post(f"/admin/accounts/{books.reviewer.id}/deactivate").status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, books.reviewer.id).active
    auth.login("kuaiji", client=client.application.test_client())
    other = client.application.test_client()
    auth.login("kuaiji", client=other)
    assert other.get("/admin/accounts").status_code == 404


def test_cli_manages_accounts_with_audit(books, app):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["coop", "user", "reset", "shenhe"])
    assert r.exit_code == 0 and "one-time password for shenhe" in r.output
    r = runner.invoke(args=["coop", "user", "deactivate", "shenhe"])
    assert r.exit_code == 0
    r = runner.invoke(args=["coop", "user", "reactivate", "shenhe"])
    assert r.exit_code == 0
    r = runner.invoke(args=["coop", "user", "revoke-tokens", "shenhe"])
    assert r.exit_code == 0 and "revoked" in r.output
    r = runner.invoke(args=["coop", "user", "grant", "shenhe", "finance_group", "--org", str(books.org.id)])
    assert r.exit_code == 0
    r = runner.invoke(args=["coop", "user", "remove-role", "shenhe", "finance_group"])
    assert r.exit_code == 0
    r = runner.invoke(args=["coop", "create-user", "--username", "weak", "--password", "12345678"])
    assert r.exit_code != 0 and "密码至少10位" in r.output
    db.session.expire_all()
    assert {"user.reset", "user.deactivate", "user.reactivate", "user.grant", "user.revoke_role"} <= set(actions())


def test_portal_access_ends_with_membership(books, client, auth):
    h = members.create_household(books.org)
    m = members.add_member(h, name="张三", id_number=IDS[0], relation="户主")
    members.record_membership_event(m, "confirmed", date=dt.date(2025, 1, 1), evidence="决议")
    person = users.create_user("zhangsan", "张三", "password1")
    users.assign_role(person, "member", books.org)
    m.user_id = person.id
    db.session.commit()
    auth.login("zhangsan")
    g.pop("_login_user", None)
    assert client.get(f"/me/households/{h.id}").status_code == 200
    members.record_membership_event(db.session.get(Member, m.id), "lost_other_collective",
                                    date=dt.date(2025, 6, 1), evidence="迁出证明", user=books.accountant)
    db.session.commit()
    g.pop("_login_user", None)
    r = client.get(f"/me/households/{h.id}")  # membership lost: signed out
    assert r.status_code == 302 and r.headers["Location"] == f"/login?next=%2Fme%2Fhouseholds%2F{h.id}"
    fresh = client.application.test_client()
    auth.login("zhangsan", client=fresh)
    g.pop("_login_user", None)
    assert fresh.get(f"/me/households/{h.id}").status_code == 404
