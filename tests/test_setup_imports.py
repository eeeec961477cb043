"""Set-up pieces one by one: the chart and opening-balance imports refuse bad files row by row and write nothing;
bulk portal accounts (usernames, who gets one, refusals); the first-run validation; Chinese error pages."""
from __future__ import annotations

import datetime as dt
import io
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from coop.core.errors import InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.models import Account, AuditLog, County, Member, OpeningBalance, User
from coop.services import chart_import, members, portal_accounts, setup
from tests.test_members_web import IDS, _fast_password_hashing, people  # noqa: F401
from tests.auth import browser


def xlsx(rows) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def sheet(org, rows, kind="chart", mapping=None):
    return chart_import.sheet_from(xlsx(rows), kind, org, mapping)


def n_accounts(org) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Account).where(Account.organization_id == org.id))


# ---------------------------------------------------------------- chart


def test_chart_problems_are_named_by_row_and_nothing_is_written(books):
    org, before = books.org, n_accounts(books.org)
    s, key = sheet(org, [("科目编码", "科目名称"),
                    ("10201", "农业银行"),        # 2: fine
                    ("1020101", "活期"),          # 3: fine, its parent is line 2
                    ("102001", "信用社"),         # 4: a 3-3 code in a 2-2-2 county
                    ("10201", "农行"),            # 5: repeats line 2
                    ("99901", "不存在"),          # 6: no first-level 999
                    ("1130101", "某户"),          # 7: parent 11301 neither in the books nor in the file
                    ("101", "现金"),              # 8: first-level with another name: a name the state fixed
                    ("32201", "各项分配"),        # 9: exists with that name: skipped
                    ("10202", "")])               # 10: no name
    check = chart_import.check_chart(org, s, key)
    assert [line for line, _ in check.problems] == [4, 5, 6, 7, 10]
    msgs = dict(check.problems)
    assert "不符合本县的编码方案 2-2-2" in msgs[4]
    assert msgs[5] == "科目编码 10201 与第 2 行重复"
    assert msgs[7] == "上级科目 11301 既不在账上，也不在文件中"
    assert [line for line, _ in check.skipped] == [8, 9]
    with pytest.raises(ValidationFailed) as exc:
        chart_import.import_chart(org, s, user=books.accountant, key=key)
    assert set(exc.value.errors["rows"]) == {"4", "5", "6", "7", "10"}
    db.session.rollback()
    assert n_accounts(org) == before


def test_chart_children_before_parents_in_the_file_go_in_parents_first_once(books):
    org, before = books.org, n_accounts(books.org)
    s, key = sheet(org, [("科目编码", "科目名称"), ("1020101", "活期"), ("10201", "农业银行")])
    added = chart_import.import_chart(org, s, user=books.accountant, key=key)
    db.session.commit()
    assert [a.code for a in added] == ["10201", "1020101"] and n_accounts(org) == before + 2
    with pytest.raises(InvalidState, match="不能重复导入"):
        chart_import.import_chart(org, s, user=books.accountant, key=key)


def test_3_3_county_takes_3_3_codes_only(app):
    from tests.conftest import Books

    b = Books(code_scheme="3-3")
    db.session.commit()
    s, key = sheet(b.org, [("科目编码", "科目名称"), ("10201", "农业银行"), ("102001", "农业银行")])
    check = chart_import.check_chart(b.org, s, key)
    assert check.problems == [(2, "科目编码 10201 不符合本县的编码方案 3-3（一级科目3位，下级依次为 3、3 位）")]


def test_not_an_xlsx_and_a_missing_header_are_refused_at_the_file(books, client, auth):
    with pytest.raises(ValidationFailed, match="无法读取 Excel 文件"):
        chart_import.sheet_from(b"not a zip", "chart", books.org)
    with pytest.raises(ValidationFailed, match="找不到表头"):
        chart_import.sheet_from(xlsx([("a", "b"), ("1", "2")]), "chart", books.org)
    with pytest.raises(ValidationFailed, match="缺少列：科目名称"):
        chart_import.sheet_from(xlsx([("科目编码", "x"), ("10201", "2")]), "chart", books.org)
    auth.login("kuaiji")
    r = client.post(f"/o/{books.org.id}/import/chart", data={"file": (io.BytesIO(b"PK junk"), "a.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "无法读取 Excel 文件" in r.get_data(as_text=True)


# ---------------------------------------------------------------- opening balances


OPENING_HEAD = ("科目编码", "科目名称", "往来单位", "借方余额", "贷方余额")


def test_opening_refuses_to_lock_unbalanced_naming_totals_and_unusual_rows(books):
    org = books.org
    s, key = sheet(org, [OPENING_HEAD, ("101", "库存现金", "", "1000.00", ""), ("211", "应付款", "县农机站", "300.00", ""),
                    ("301", "资本", "", "", "1000.00")], "opening")
    check = chart_import.check_opening(org, s, key=key)
    # debit 1000 + 300 (应付款 on the debit side: unusual) = 1300; credit 1000
    assert check.problems == [(0, "期初余额试算不平衡：借方合计 1,300.00，贷方合计 1,000.00，相差 300.00，不能锁定"),
                              (3, "211 应付款（县农机站） 余额在借方，与科目的正常方向相反，请核对")]
    with pytest.raises(ValidationFailed):
        chart_import.import_opening(org, s, user=books.accountant, key=key)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OpeningBalance)) == 0
    # without locking, an unbalanced file is kept (the lock will refuse until it balances)
    assert chart_import.check_opening(org, s, key=key, lock=False).ok


def test_opening_row_problems(books):
    s, key = sheet(books.org, [OPENING_HEAD, ("112", "应收款", "", "800.00", ""), ("101", "库存现金", "", "12.345", ""),
                    ("32201", "各项分配", "", "", "5"), ("322", "收益分配", "", "5", ""), ("888", "", "", "1", "")],
                   "opening")
    problems = dict(chart_import.check_opening(books.org, s, key=key).problems)
    assert problems[2] == "112 应收款 的期初余额须写明往来单位或农户（辅助核算）"
    assert problems[3] == "金额：金额最多两位小数"
    assert problems[5].endswith("有下级科目，余额应录入末级科目")
    assert problems[6] == "科目 888 不存在（请先导入或增设该明细科目）"


def test_opening_direction_and_balance_layout_and_2004_codes(books):
    s, key = sheet(books.org, [("科目代码", "科目名称", "核算项目", "余额方向", "期初余额"),
                    ("101", "现金", "", "借", "500"), ("202", "应付款", "张三", "贷", "200"),
                    ("301", "资本", "", "贷", "300"), ("102", "银行存款", "", "平", "0")], "opening")
    check = chart_import.import_opening(books.org, s, user=books.accountant, key=key, system="2004")
    db.session.commit()
    assert check.items == [("101", None, Decimal("500.00")), ("211", "张三", Decimal("-200.00")),
                           ("301", None, Decimal("-300.00"))]
    assert books.org.opening_locked


# ---------------------------------------------------------------- portal accounts


def test_bulk_accounts_for_heads_then_chosen_members(people):
    org, acct = people.org, people.books.accountant
    opened = portal_accounts.open_accounts(org, user=acct)
    db.session.commit()
    assert [(o.member.name, o.username) for o in opened] == [
        ("张大山", f"v{org.id}-{people.h1.number}"), ("李四", f"v{org.id}-{people.h2.number}")]
    head = opened[0].member
    account = db.session.get(User, head.user_id)
    assert account.must_change_password and [r.role for r in account.roles] == ["member"]
    # 张小明 (third of his household) gets his own; heads are not opened twice
    xiaoming = people.p[2]
    (o,) = portal_accounts.open_accounts(org, user=acct, member_ids=[xiaoming.id])
    assert o.username == f"v{org.id}-{people.h1.number}-3"
    with pytest.raises(ValidationFailed) as exc:
        portal_accounts.open_accounts(org, user=acct, member_ids=[head.id, 10**6])
    assert exc.value.errors == {"member_ids": {"0": ["张大山 已开通账户"], "1": ["找不到该成员"]}}
    with pytest.raises(ValidationFailed, match="没有需要开通账户的成员"):
        portal_accounts.open_accounts(org, user=acct)


def test_pending_members_get_no_account_and_other_roles_may_not_open(people):
    org = people.org
    h = members.create_household(org)
    pending = members.add_member(h, name="赵新", id_number=IDS[8], relation="户主")
    db.session.commit()
    assert pending not in portal_accounts.candidates(org)
    with pytest.raises(ValidationFailed, match="不是本社成员"):
        portal_accounts.open_accounts(org, user=people.books.accountant, member_ids=[pending.id])
    from coop.core.errors import Forbidden

    with pytest.raises(Forbidden):
        portal_accounts.open_accounts(org, user=people.books.reviewer)


def test_two_bulk_openings_at_once_open_each_head_once(people, backend):
    """The organization row lock serialises them: the second waits, then finds no head without an account."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    from flask import current_app

    app = current_app._get_current_object()
    org_id, acct_id = people.org.id, people.books.accountant.id
    results = []

    def run():
        with app.app_context():
            from coop.models import Organization

            try:
                opened = portal_accounts.open_accounts(db.session.get(Organization, org_id),
                                                       user=db.session.get(User, acct_id))
                db.session.commit()
                results.append(len(opened))
            except ValidationFailed:
                db.session.rollback()
                results.append(0)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 2]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Member).where(Member.user_id.is_not(None))) == 2


# ---------------------------------------------------------------- first run, checklist, error pages


def test_setup_county_validates_everything_before_writing(app):
    with pytest.raises(ValidationFailed) as exc:
        setup.setup_county("", code_scheme="4-4", admin_username="", reserve_rate=Decimal("1.5"))
    assert set(exc.value.errors) == {"name", "code_scheme", "admin_username", "reserve_rate"}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(County)) == 0
    county, admin, pw = setup.setup_county("新县", admin_username="xx_admin", cash_limit=Decimal("3000"))
    db.session.commit()
    assert county.cash_limit == Decimal("3000.00") and county.reserve_rate == Decimal("0.30")
    assert admin.must_change_password and len(pw) == 12
    assert db.session.scalar(sa.select(AuditLog.target).where(AuditLog.action == "county.setup")) == "新县"


def test_checklist_of_a_new_village(books):
    steps = {s.key: s for s in setup.progress(books.org)}
    assert [s.key for s in setup.progress(books.org)] == ["chart", "roles", "opening", "roster", "shares", "users",
                                                          "month"]
    assert steps["roles"].done and steps["users"].done
    assert not steps["chart"].done  # the 322 details every village gets do not count
    assert not steps["opening"].done and steps["opening"].missing == ["期初余额尚未锁定"]
    assert steps["month"].missing == ["2025年1月尚未结账"]


def test_error_pages_are_chinese(books, client, auth):
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "页面不存在" in r.get_data(as_text=True)
    assert "The requested URL" not in r.get_data(as_text=True)
    auth.login("kuaiji")
    r = client.get("/me")  # an accountant with no household: said in Chinese
    assert r.status_code == 404 and "本账户尚未关联到成员" in r.get_data(as_text=True)
    r = client.post("/o/1/setup")
    assert r.status_code == 405 and "不支持的操作" in r.get_data(as_text=True)
    assert "method is not allowed" not in r.get_data(as_text=True)


def test_column_mapping_is_asked_for_then_remembered(books, client, auth):
    """A package's export with its own column names: the page offers the file's header to map; the mapping of a
    successful import is remembered, so the organization's next file of that layout needs none."""
    org = books.org
    layout = ("账户号", "账户名", "对方单位", "借方金额", "贷方金额")
    first = xlsx([layout, ("101", "现金", "", "100", ""), ("301", "资本", "", "", "100")])
    auth.login("kuaiji")
    r = client.post(f"/o/{org.id}/import/opening", data={"file": (io.BytesIO(first), "导出.xlsx"), "step": "check"},
                    content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "找不到表头" in page and '<option value="账户号"' in page
    mapping = {"map_code": "账户号", "map_name": "账户名", "map_counterparty": "对方单位", "map_debit": "借方金额",
               "map_credit": "贷方金额"}
    data = {"data": __import__("base64").b64encode(first).decode(), "filename": "导出.xlsx", "lock": "1", **mapping}
    r = client.post(f"/o/{org.id}/import/opening", data={**data, "step": "check"})
    assert r.status_code == 200 and "检查通过：2 行" in r.get_data(as_text=True)
    r = client.post(f"/o/{org.id}/import/opening", data={**data, "step": "import"})
    assert r.status_code == 302
    assert chart_import.remembered_mapping(org, "opening") == {
        "code": "账户号", "counterparty": "对方单位", "credit": "贷方金额", "debit": "借方金额", "name": "账户名"}
    # the next chart-less file of that layout reads without a mapping
    s, _ = sheet(org, [layout, ("112", "应收款", "李四", "5", "")], "opening")
    assert s.rows[0]["counterparty"] == "李四" and s.columns["debit"] == "借方金额"


def test_letters_one_a4_page_per_account_with_username_password_and_cjk_font(people, client, tmp_path, auth):
    """The web page opens the accounts and answers the 开通通知书 at once: one A4 page each, the username and the
    one-time password in the text (and that password signs in), the CJK font embedded."""
    import re
    import subprocess

    auth.login("kuaiji")
    r = client.post(f"/o/{people.org.id}/portal-accounts", data={})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = tmp_path / "letters.pdf"
    pdf.write_bytes(r.data)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+2\n", info)
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    org = people.org.id
    assert f"v{org}-{people.h1.number}" in pages[0] and "张大山" in pages[0]
    assert f"v{org}-{people.h2.number}" in pages[1] and "李四" in pages[1]
    password = re.search(r"初始密码\s+(\S+)", pages[1]).group(1)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts
    member = browser(client.application)
    r = member.post("/login", data={"username": f"v{org}-{people.h2.number}", "password": password})
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/password")


def test_cli_opens_accounts_and_writes_the_letters(people, app, tmp_path):
    out = tmp_path / "letters.pdf"
    r = app.test_cli_runner().invoke(args=["coop", "portal-accounts", "--as", "kuaiji", "--org", str(people.org.id),
                                           "--member", str(people.p[1].id), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "1 account(s) opened" in r.output and out.read_bytes().startswith(b"%PDF")
    db.session.expire_all()
    account = db.session.get(User, db.session.get(Member, people.p[1].id).user_id)
    assert account.display_name == "王秀英" and account.must_change_password
    assert [(ra.role, ra.organization_id) for ra in account.roles] == [("member", people.org.id)]
    r = app.test_cli_runner().invoke(args=["coop", "portal-accounts", "--as", "kuaiji", "--org", str(people.org.id),
                                           "--member", str(people.p[1].id), "-o", str(out)])
    assert r.exit_code != 0 and "王秀英 已开通账户" in r.output


def test_first_run_on_the_web_and_the_api_needs_an_empty_database_and_the_setup_token(app, client, monkeypatch):
    assert client.get("/setup/first-run").status_code == 404  # no token configured: the command line only
    r = client.post("/api/v1/setup/county", json={"setup_token": "", "name": "x", "admin_username": "y"})
    assert r.status_code == 404
    monkeypatch.setenv("COOP_SETUP_TOKEN", "anzhuang-kouling-2026")
    assert "安装口令" in client.get("/setup/first-run").get_data(as_text=True)
    r = client.post("/setup/first-run", data={"setup_token": "wrong", "name": "新县", "admin_username": "xin"})
    assert r.status_code == 422 and "安装口令不正确" in r.get_data(as_text=True)
    r = client.post("/setup/first-run", data={"setup_token": "anzhuang-kouling-2026", "name": "新县",
                                              "code_scheme": "9-9", "admin_username": "xin"})
    assert r.status_code == 422 and "科目编码方案不正确" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(County)) == 0
    r = client.post("/api/v1/setup/county", json={"setup_token": "anzhuang-kouling-2026", "name": "新县",
                                                  "code_scheme": "3-3", "admin_username": "xin",
                                                  "cash_limit": "3000.00"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["code_scheme"] == "3-3" and len(body["one_time_password"]) == 12
    r = client.post("/login", data={"username": "xin", "password": body["one_time_password"]})
    assert r.headers["Location"].endswith("/account/password")
    # once a county exists the first run is gone, on both
    assert browser(app).get("/setup/first-run").status_code == 404
    r = client.post("/api/v1/setup/county", json={"setup_token": "anzhuang-kouling-2026", "name": "二县",
                                                  "admin_username": "er"})
    assert r.status_code == 404


def test_2004_rows_may_name_the_new_account(books):
    """An old account that splits (132 林木资产 → 131/132/134) or goes to a 明细科目 names it in 新科目编码; a code
    outside the 对照表's choices is refused on its row."""
    from coop.services.accounts import add_detail_account

    add_detail_account(books.org, "102", "10201", "农业银行")
    db.session.commit()
    s, key = sheet(books.org, [("科目编码", "往来单位", "借方余额", "贷方余额", "新科目编码"),
                               ("132", "", "900", "", "134"), ("102", "", "100", "", "10201"),
                               ("301", "", "", "1000", ""), ("101", "", "5", "", "102")], "opening")
    check = chart_import.check_opening(books.org, s, system="2004", key=key, lock=False)
    assert check.problems == [(5, "101 现金 只能转入 101")]
    assert ("134", None, Decimal("900.00")) in check.items and ("10201", None, Decimal("100.00")) in check.items


def test_the_same_chart_file_twice_at_once_goes_in_once(books, backend):
    """lock_for_import serialises the two runs: the second waits, then finds the file imported."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    from flask import current_app

    app = current_app._get_current_object()
    content = xlsx([("科目编码", "科目名称"), ("10201", "农业银行"), ("10202", "信用社")])
    org_id, acct_id, before = books.org.id, books.accountant.id, n_accounts(books.org)
    results = []
    barrier = threading.Barrier(2)

    def run():
        with app.app_context():
            from coop.models import Organization

            org = db.session.get(Organization, org_id)
            s, key = chart_import.sheet_from(content, "chart", org)
            barrier.wait()
            try:
                chart_import.import_chart(org, s, user=db.session.get(User, acct_id), key=key)
                db.session.commit()
                results.append("imported")
            except InvalidState as exc:
                db.session.rollback()
                results.append(exc.message)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[0] == "imported" and "不能重复导入" in sorted(results)[1]
    db.session.expire_all()
    assert n_accounts(books.org) == before + 2
