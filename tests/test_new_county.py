"""The README's "新县建账" walkthrough, from an empty database to a first closed month, through public interfaces
only: the CLI (click's runner), the API (Bearer tokens the users issue themselves on the web) and the web pages
(the test client). No service is called and no demo is built.

Two counties, because the 明细科目 code scheme is the county's (one scheme per county's books): 青山县 (2-2-2) has two
townships and two villages — 东岭村 starting fresh with a 500-row roster and member portal accounts, 西河村 importing
2004-system books — and 绿水县 (3-3) has 南坪村, which imports its chart of sub-accounts and opening balances.
"""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import Workbook
from stdnum.cn import ric, uscc as uscc_std

from coop.core import clock
from tests.auth import browser
from tests.test_browser import chromium  # noqa: F401  (fixture)

NEW_PASSWORD = "Xinmima#2026kj"


def xlsx(rows) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def make_uscc(seq: int) -> str:
    """A valid 统一社会信用代码 of a 农村集体经济组织 (N2…) in 浙江 330100."""
    base = f"N2330100MA{seq:07d}"
    return base + uscc_std.calc_check_digit(base)


def make_id(birth: str, seq: int) -> str:
    base = f"110105{birth}{seq:03d}"
    return base + ric.calc_check_digit(base + "0")


def roster_500() -> tuple[bytes, int]:
    """500 people in 125 households of four (户主, 配偶, 子, 女); 身份证 check digits valid."""
    rows = [("户号", "户主", "户主身份证", "成员", "身份证", "与户主关系")]
    for h in range(125):
        head = make_id(f"1960{1 + h % 12:02d}{1 + h % 28:02d}", h + 1)
        number = f"{h + 1:04d}"
        rows.append((number, f"户主{h}", head, f"户主{h}", head, "户主"))
        rows.append((number, f"户主{h}", head, f"配偶{h}", make_id(f"1962{1 + h % 12:02d}{1 + h % 28:02d}", h + 1), "配偶"))
        rows.append((number, f"户主{h}", head, f"儿子{h}", make_id(f"1988{1 + h % 12:02d}{1 + h % 28:02d}", h + 1), "子"))
        rows.append((number, f"户主{h}", head, f"女儿{h}", make_id(f"1990{1 + h % 12:02d}{1 + h % 28:02d}", h + 1), "女"))
    return xlsx(rows), 125


def cli(app, *args) -> str:
    r = app.test_cli_runner().invoke(args=["coop", *args])
    assert r.exit_code == 0, r.output
    return r.output


def one_time(output: str) -> str:
    return re.search(r"one-time password for \S+: (\S+)", output).group(1)


def first_login(app, username: str, password: str):
    """A fresh browser: the one-time password works once, then a new one is forced. Returns the client."""
    c = browser(app)
    r = c.post("/login", data={"username": username, "password": password})
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/password")
    assert c.get("/").status_code == 302  # nothing else until the password is changed
    r = c.post("/account/password", data={"current_password": password, "new_password": NEW_PASSWORD,
                                          "confirm_password": NEW_PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)
    return c


def api_token(c) -> dict:
    html = c.post("/account/tokens", data={"name": "建账"}).get_data(as_text=True)
    return {"Authorization": "Bearer " + re.search(r'id="new-token">([^<]+)<', html).group(1)}


def staff(app, admin_api, org_id: int, username: str, role: str) -> tuple:
    """An account with a role on the village (one-time password), signed in once; returns (client, token)."""
    r = browser(app).post("/api/v1/admin/users", headers=admin_api, json={
        "username": username, "display_name": username, "password": "Chushi#2026ab", "role": role,
        "organization_id": org_id})
    assert r.status_code == 201, r.get_json()
    c = first_login(app, username, "Chushi#2026ab")
    return c, api_token(c)


def test_new_county_from_empty_database_to_first_closed_month(app, monkeypatch):
    walkthrough(app, monkeypatch)


def walkthrough(app, monkeypatch) -> list[dict]:
    """The README's steps; returns the member accounts opened over the API (their one-time passwords unused but
    the first's)."""
    api = browser(app)
    today = clock.today()
    start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # last month: it can be closed today
    ym = {"books_start_year": start.year, "books_start_month": start.month}

    # ---- 1. the counties and their first admins: the first in the browser with the installer's setup token,
    #         the second on the server
    monkeypatch.setenv("COOP_SETUP_TOKEN", "anzhuang-2026-qingshan")
    r = browser(app).post("/setup/first-run", data={
        "setup_token": "anzhuang-2026-qingshan", "name": "青山县", "code_scheme": "2-2-2", "admin_username": "qs_admin",
        "admin_display_name": "青山县农经站", "reserve_rate": "0.25", "cash_limit": "3000"})
    assert r.status_code == 200, r.get_data(as_text=True)
    qs_admin = first_login(app, "qs_admin", re.search(r'id="one-time-password">([^<]+)<', r.get_data(as_text=True)).group(1))
    assert browser(app).get("/setup/first-run").status_code == 404  # once only
    out = cli(app, "setup-county", "--name", "绿水县", "--code-scheme", "3-3", "--admin", "ls_admin")
    ls_pw = one_time(out)
    r = app.test_cli_runner().invoke(args=["coop", "setup-county", "--name", "青山县", "--admin", "x2"])
    assert r.exit_code != 0 and "已存在" in r.output  # a second 青山县 is refused

    # ---- 2. townships: on the web page and over the API
    assert qs_admin.post("/admin/townships", data={"name": "东岭镇"}).status_code == 302
    r = qs_admin.post("/admin/townships", data={"name": "东岭镇"})
    assert r.status_code == 422 and "本县已有乡镇“东岭镇”" in r.get_data(as_text=True)
    qs_api = api_token(qs_admin)
    r = api.post("/api/v1/setup/townships", headers=qs_api, json={"name": "西河乡"})
    assert r.status_code == 201
    xihe_township = r.get_json()["id"]
    html = qs_admin.get("/admin/townships").get_data(as_text=True)
    dongling_township = int(re.search(r'<option value="(\d+)"[^>]*>东岭镇', qs_admin.get("/admin/").get_data(as_text=True)).group(1))
    assert "东岭镇" in html and "西河乡" in html

    # ---- 3. organizations: USCC checked (a wrong check digit is named beside the field, nothing written)
    bad = make_uscc(1)[:-1] + ("0" if make_uscc(1)[-1] != "0" else "1")
    r = qs_admin.post("/admin/", data={"township_id": dongling_township, "name": "东岭村", "kind": "village_shareholding",
                                       "uscc": bad, **ym})
    assert r.status_code == 422 and "校验码不正确" in r.get_data(as_text=True)
    r = qs_admin.post("/admin/", data={"township_id": dongling_township, "name": "东岭村", "kind": "village_shareholding",
                                       "uscc": make_uscc(1), **ym})
    assert r.status_code == 302
    orgs = {o["name"]: o["id"] for o in api.get("/api/v1/orgs", headers=qs_api).get_json()}
    dongling = orgs["东岭村"]
    assert api.get(f"/api/v1/orgs/{dongling}", headers=qs_api).get_json()["cash_limit"] == "3000.00"  # the county's
    r = api.post("/api/v1/admin/orgs", headers=qs_api, json={"township_id": xihe_township, "name": "西河村",
                                                             "kind": "village_economic", "uscc": make_uscc(2), **ym})
    assert r.status_code == 201
    xihe = r.get_json()["id"]
    # 绿水县 on the server, as its admin
    cli(app, "setup-township", "--as", "ls_admin", "--name", "南坪镇")
    out = cli(app, "setup-org", "--as", "ls_admin", "--township", "南坪镇", "--name", "南坪村",
              "--uscc", make_uscc(3), "--start", f"{start.year}-{start.month:02d}")
    nanping = int(re.search(r"\(id (\d+)\)", out).group(1))
    ls_admin = first_login(app, "ls_admin", ls_pw)
    ls_api = api_token(ls_admin)

    # ---- 4. village staff: accountant (and a reviewer) per village, each with a one-time password
    dl_web, dl_api = staff(app, qs_api, dongling, "dl_kuaiji", "accountant")
    staff(app, qs_api, dongling, "dl_shenhe", "reviewer")
    xh_web, xh_api = staff(app, qs_api, xihe, "xh_kuaiji", "accountant")
    np_web, np_api = staff(app, ls_api, nanping, "np_kuaiji", "accountant")

    # the checklist names what is missing, for the accountant and for the county
    steps = {s["key"]: s for s in api.get(f"/api/v1/setup/orgs/{dongling}/progress", headers=dl_api).get_json()}
    assert not steps["opening"]["done"] and not steps["roster"]["done"] and not steps["month"]["done"]
    assert not steps["chart"]["done"]
    assert steps["users"]["done"]  # 会计 and 审核 exist
    assert "尚无成员" in steps["roster"]["missing"]
    page = dl_web.get(f"/o/{dongling}/setup").get_data(as_text=True)
    assert "期初余额已锁定" in page, re.findall(r"class=\"error\">(.*?)<", page)
    assert "东岭村" in qs_admin.get("/setup/progress").get_data(as_text=True)

    # ---- 5. 南坪村 (3-3): chart of sub-accounts, then opening balances by counterparty, from xlsx
    assert np_web.get(f"/o/{nanping}/import/chart-template.xlsx").status_code == 200
    wrong = xlsx([("科目编码", "科目名称"), ("102", "银行存款"), ("10201", "农业银行")])  # a 2-2-2 code
    r = api.post(f"/api/v1/setup/orgs/{nanping}/chart/import", headers=np_api,
                 data={"file": (io.BytesIO(wrong), "科目.xlsx"), "dry_run": "true"})
    assert r.status_code == 200 and not r.get_json()["ok"]
    assert r.get_json()["problems"][0]["line"] == 3 and "3-3" in r.get_json()["problems"][0]["message"]
    chart = xlsx([("某软件导出的科目表",), ("科目代码", "科目名称", "余额方向"),
                  ("112001001", "张三", "借"), ("102", "银行存款", "借"), ("102001", "农业银行", "借"),
                  ("112001", "应收农户款", "借"), ("112002", "应收单位款", "借")])
    r = np_web.post(f"/o/{nanping}/import/chart", data={"file": (io.BytesIO(chart), "科目.xlsx"), "step": "check"},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "检查通过：4 行" in r.get_data(as_text=True)
    r = np_web.post(f"/o/{nanping}/import/chart", data={"file": (io.BytesIO(chart), "科目.xlsx"), "step": "import"},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    codes = {a["code"] for a in api.get(f"/api/v1/orgs/{nanping}/accounts", headers=np_api).get_json()}
    assert {"102001", "112001", "112001001", "112002"} <= codes
    r = np_web.post(f"/o/{nanping}/import/chart", data={"file": (io.BytesIO(chart), "科目.xlsx"), "step": "check"},
                    content_type="multipart/form-data")
    assert "不能重复导入" in r.get_data(as_text=True)  # once per file

    unbalanced = [("科目编码", "科目名称", "往来单位", "借方余额", "贷方余额"),
                  ("101", "库存现金", "", "1200.00", ""), ("102001", "农业银行", "", "50000.00", ""),
                  ("112001001", "张三", "张三", "800.00", ""), ("112002", "应收单位款", "县供销社", "1000.50", ""),
                  ("301", "资本", "", "", "50000.00")]
    r = api.post(f"/api/v1/setup/orgs/{nanping}/opening/import", headers=np_api,
                 data={"file": (io.BytesIO(xlsx(unbalanced)), "期初.xlsx")})
    assert r.status_code == 422
    assert "借方合计 53,000.50，贷方合计 50,000.00" in r.get_json()["message"] + str(r.get_json()["errors"])
    balanced = unbalanced + [("311", "公积公益金", "", "", "3000.50")]
    r = api.post(f"/api/v1/setup/orgs/{nanping}/opening/import", headers=np_api,
                 data={"file": (io.BytesIO(xlsx(balanced)), "期初.xlsx")})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["debit_total"] == "53000.50" == r.get_json()["credit_total"]
    assert api.get(f"/api/v1/orgs/{nanping}", headers=np_api).get_json()["opening_locked"]

    # ---- 6. 西河村: 2004-system books (old codes mapped by the 对照表; 202 应付款 → 211)
    old = [("科目编码", "科目名称", "往来单位", "借方余额", "贷方余额"),
           ("101", "现金", "", "800.00", ""), ("102", "银行存款", "", "20000.00", ""),
           ("202", "应付款", "县农机站", "", "3000.00"), ("301", "资本", "", "", "15000.00"),
           ("311", "公积公益金", "", "", "2800.00")]
    r = xh_web.post(f"/o/{xihe}/import/opening", data={"file": (io.BytesIO(xlsx(old)), "余额表.xlsx"),
                                                       "system": "2004", "lock": "1", "step": "check"},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "检查通过：5 行" in r.get_data(as_text=True)
    r = xh_web.post(f"/o/{xihe}/import/opening", data={"file": (io.BytesIO(xlsx(old)), "余额表.xlsx"),
                                                       "system": "2004", "lock": "1", "step": "import"},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    lines = api.get(f"/api/v1/orgs/{xihe}/opening-balances", headers=xh_api).get_json()["balances"]
    assert {"account_code": "211", "amount": "-3000.00", "counterparty": "县农机站"} in lines

    # ---- 7. 东岭村 starts fresh: nothing to bring in, lock the (empty) opening balances
    assert api.post(f"/api/v1/orgs/{dongling}/opening-balances/lock", headers=dl_api).status_code == 204

    # ---- 8. 东岭村's roster: 500 people, confirmed by the 成员大会, over the API
    roster, households = roster_500()
    r = api.post(f"/api/v1/orgs/{dongling}/roster/check", headers=dl_api, data={"file": (io.BytesIO(roster), "名册.xlsx")})
    assert r.get_json()["ok"] and r.get_json()["rows"] == 500, r.get_json()["problems"][:3]
    r = api.post(f"/api/v1/orgs/{dongling}/roster/import", headers=dl_api,
                 data={"file": (io.BytesIO(roster), "名册.xlsx"), "confirm_date": start.isoformat(),
                       "evidence": "第1号成员大会决议"})
    assert r.status_code == 201, r.get_json()

    # ---- 9. member accounts: every household head over the API, one more member on the web page (with letters)
    r = api.post(f"/api/v1/setup/orgs/{dongling}/portal-accounts", headers=dl_api, json={})
    assert r.status_code == 201
    opened = r.get_json()
    assert len(opened) == households and opened[0]["username"] == f"v{dongling}-0001"
    page = dl_web.get(f"/o/{dongling}/portal-accounts").get_data(as_text=True)
    spouse_id = int(re.search(r'name="member_id" value="(\d+)" aria-label="配偶0"', page).group(1))
    r = dl_web.post(f"/o/{dongling}/portal-accounts", data={"member_id": [str(spouse_id)]})
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    r = dl_web.post(f"/o/{dongling}/portal-accounts", data={"member_id": [str(spouse_id)]})
    assert r.status_code == 422 and "配偶0 已开通账户" in r.get_data(as_text=True)

    # a member signs in with the letter's password, must change it, and lands on their household
    head = opened[0]
    member = browser(app)
    r = member.post("/login", data={"username": head["username"], "password": head["one_time_password"]})
    assert r.headers["Location"].endswith("/account/password")
    r = member.post("/account/password", data={"current_password": head["one_time_password"],
                                               "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
                    follow_redirects=True)
    assert r.status_code == 200 and "户主0" in r.get_data(as_text=True)
    assert re.search(r"/me/households/\d+$", r.request.path)
    # another household is a Chinese 404, never Werkzeug's English
    r = member.get("/me/households/999999")
    assert r.status_code == 404 and "页面不存在" in r.get_data(as_text=True)
    assert "The requested URL" not in r.get_data(as_text=True)

    # membership ends → the bulk-created account's portal access ends
    r = api.post(f"/api/v1/orgs/{dongling}/members/{head['member_id']}/events", headers=dl_api,
                 json={"kind": "lost_voluntary", "date": today.isoformat(), "evidence": "本人书面申请"})
    assert r.status_code == 201, r.get_json()
    r = member.get("/me")  # the session ended with the membership
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = member.post("/login", data={"username": head["username"], "password": NEW_PASSWORD})
    assert member.get("/me").status_code == 404  # the account stays (for the audit trail) but opens nothing

    # ---- 10. the first month closed in each village
    for org, token in ((dongling, dl_api), (xihe, xh_api), (nanping, np_api)):
        r = api.post(f"/api/v1/orgs/{org}/periods/close", headers=token, json={"year": start.year, "month": start.month})
        assert r.status_code == 200, (org, r.get_json())
    steps = {s["key"]: s for s in api.get(f"/api/v1/setup/orgs/{dongling}/progress", headers=dl_api).get_json()}
    assert steps["opening"]["done"] and steps["roster"]["done"] and steps["month"]["done"]
    assert not steps["shares"]["done"] and steps["shares"]["missing"] == ["股权量化方案尚未发布"]
    np_steps = {s["key"]: s for s in api.get(f"/api/v1/setup/orgs/{nanping}/progress", headers=np_api).get_json()}
    assert np_steps["chart"]["done"] and np_steps["month"]["done"]
    return opened


@pytest.fixture
def empty_live_server(app):
    """The app on a free port, in a thread, against the (empty) test database."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.mark.browser
def test_a_member_of_the_new_county_signs_in_on_a_phone(app, chromium, empty_live_server, tmp_path,  # noqa: F811
                                                        monkeypatch):
    """After the walkthrough, a household head opens the letter's login page on a 375px phone, signs in with the
    one-time password, is made to choose a new one, and lands on their household."""
    from playwright.sync_api import expect

    from tests.test_browser import PHONE, _fits_phone

    opened = walkthrough(app, monkeypatch)
    letter = opened[1]  # 户主1 (户主0 left the collective in the walkthrough)
    page = chromium.new_page(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    page.set_default_timeout(30000)
    page.goto(f"{empty_live_server}/login")
    page.fill("#username", letter["username"])
    page.fill("#password", letter["one_time_password"])
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/account/password$"))
    assert _fits_phone(page)
    page.fill("#current_password", letter["one_time_password"])
    page.fill("#new_password", "Shouji#2026xy")
    page.fill("#confirm_password", "Shouji#2026xy")
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/me/households/\d+$"))
    expect(page.locator("main")).to_contain_text("户主1")
    assert _fits_phone(page)
    page.screenshot(path=str(tmp_path / "new-county-member-phone.png"), full_page=True)
    page.close()
