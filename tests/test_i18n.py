"""The English catalog: complete, up to date with the sources, and used once a user switches to English.

Message ids are the Chinese strings (scripts/i18n extracts them into coop/translations). The compiled
messages.mo is git-ignored; scripts/setup compiles it, and this module compiles it too when it is missing or
older than the .po, so the tests do not depend on having run setup.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import flask_babel
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "coop" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
#: the keywords scripts/i18n passes to `pybabel extract` (function name → positions of the message arguments)
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}
PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[sdif]|%%")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _read_catalog():
    with PO.open("rb") as fh:
        return read_po(fh)


def _compile_if_needed() -> None:
    """Compile the .po beside itself (atomically) when the .mo is missing or stale; module import time, so
    before any app loads its translations."""
    if MO.exists() and MO.stat().st_mtime >= PO.stat().st_mtime:
        return
    fd, tmp = tempfile.mkstemp(dir=MO.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write_mo(fh, _read_catalog())
        os.replace(tmp, MO)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


_compile_if_needed()


def _messages():
    return [m for m in _read_catalog() if m.id]  # the header has the empty id


def _first(msgid):
    return msgid[0] if isinstance(msgid, tuple) else msgid


# ---------------------------------------------------------------- the catalog


def test_catalog_has_no_untranslated_or_fuzzy_entries():
    messages = _messages()
    assert len(messages) > 500
    untranslated = [_first(m.id) for m in messages
                    if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [_first(m.id) for m in messages if m.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_translations_keep_placeholders():
    wrong = []
    for m in _messages():
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        want = sorted(PLACEHOLDER.findall(ids[-1]))
        wrong += [(ids[0], s) for s in strings if sorted(PLACEHOLDER.findall(s)) != want]
    assert wrong == []


def test_catalog_covers_every_extractable_string():
    """A string added to a template or marked in Python must reach the catalog: run scripts/i18n and translate."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    in_sources = {_first(msgid) for _file, _line, msgid, _comments, _context in
                  extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)}
    in_catalog = {_first(m.id) for m in _messages()}
    assert len(in_sources) > 500
    assert sorted(in_sources - in_catalog) == []


# ---------------------------------------------------------------- pages


def _switch(client, code: str):
    r = client.post(f"/locale/{code}", data={"next": "/login"})
    assert r.status_code == 302
    # The `app` fixture keeps one app context (and so one `g`, where Flask-Babel caches the locale) open for the
    # whole test; in production every request has its own. Drop the cached locale as a new request would.
    flask_babel.refresh()


def _english(client):
    _switch(client, "en")


def test_chinese_is_the_default(client):
    page = client.get("/login").text
    assert '<html lang="zh-CN">' in page
    for word in ("登录", "用户名", "密码", "记住我"):
        assert word in page
    assert "Log in" not in page and "Password" not in page


def test_login_page_in_english(client):
    _english(client)
    page = client.get("/login").text
    assert '<html lang="en">' in page
    for word in ("Log in", "Username", "Password", "Remember me"):
        assert word in page
    for word in ("登录", "用户名", "密码", "记住我"):
        assert word not in page


def test_organization_overview_in_english(client, books, auth):
    auth.login("kuaiji")
    _english(client)
    page = client.get(f"/o/{books.org.id}/").text
    for word in ("Vouchers", "Opening balances", "Overview", "Reports",
                 "Current accounting period", "Unified social credit code", "Close the period", "Log out"):
        assert word in page
    for word in ("凭证", "期初余额", "概况", "报表", "当前会计期间", "统一社会信用代码", "结账", "退出"):
        assert word not in page


def test_switching_back_to_chinese(client, books, auth):
    auth.login("kuaiji")
    _english(client)
    assert "Vouchers" in client.get(f"/o/{books.org.id}/").text
    _switch(client, "zh_CN")
    page = client.get(f"/o/{books.org.id}/").text
    assert "凭证" in page and "期初余额" in page
    assert "Vouchers" not in page


def test_translated_text_is_not_read_as_markup(client, books, auth):
    """Jinja marks translated strings safe, so a literal <token> must be written as an entity in the catalog."""
    auth.login("kuaiji")
    _english(client)
    page = client.get("/account/tokens").text
    assert "Bearer &lt;token&gt;" in page
    assert not CJK.search(re.sub(r"东村股份经济合作社|东镇|王会计|中文", "", page))


# ---------------------------------------------------------------- labels kept in Python constants


def test_constant_labels_are_marked_but_stay_chinese():
    """N_ only marks: the values the API, the database, exports and PDFs carry are the Chinese ones."""
    import config
    from coop.core.i18n import translate
    from coop.core.text import N_
    from coop.ledger.statements import INCOME_LAYOUT
    from coop.models.ledger import STATUS_LABELS
    from coop.models.users import ROLES
    from coop.reports import REPORTS

    assert N_("已记账") == "已记账" and STATUS_LABELS["posted"] == "已记账"
    assert ROLES["accountant"][1] == "村会计/报账员"
    assert REPORTS["trial-balance"].title == "科目余额表"
    assert INCOME_LAYOUT[0][1] == "一、经营收入"
    assert config.Config.ORG_NAV[0][1] == "凭证"
    # the filter leaves what is not a message alone: no catalog header for "", no change to data
    assert translate("") == "" and translate(None) is None and translate("东村股份经济合作社") == "东村股份经济合作社"
    msgids = {_first(m.id) for m in _messages()}
    for label in ("已记账", "村会计/报账员", "科目余额表", "一、经营收入", "股权", "人口股", "财务公开逾期"):
        assert label in msgids, label


def _voucher_and_report_books(books):
    from coop.core.extensions import db

    books.lock_opening({"101": "1000.00", "301": "-1000.00"})
    books.post("2025-01-05", ("101", "200.00", ""), ("501", "", "200.00"), summary="收到承包费")
    books.draft("2025-01-06", ("513", "50.00", ""), ("101", "", "50.00"), summary="购买办公用品")
    db.session.commit()


def test_voucher_list_statuses_in_english(client, books, auth):
    _voucher_and_report_books(books)
    auth.login("kuaiji")
    _english(client)
    page = client.get(f"/o/{books.org.id}/vouchers").text
    assert "Posted" in page and "Prepared" in page
    assert "已记账" not in page and "制单" not in page
    # data stays as entered
    assert "收到承包费" in page


def test_role_names_on_the_users_page_in_english(client, books):
    r = client.post("/login", data={"username": "xian", "password": "password1"})
    assert r.status_code == 302
    _english(client)
    page = client.get("/admin/users").text
    assert "Village accountant" in page and "Township auditor" in page
    for chinese in ("村会计/报账员", "乡镇经管站审核员", "县级管理员", "审核人/村负责人"):
        assert chinese not in page


def test_report_page_in_english_and_its_pdf_in_chinese(client, books, tmp_path, auth):
    from tests.test_reports_render import pdf_text, squeeze

    _voucher_and_report_books(books)
    auth.login("kuaiji")
    _english(client)
    base = f"/o/{books.org.id}/reports"
    page = client.get(base + "/trial-balance?year=2025&month=1").text
    assert "Trial balance" in page and "Opening balance" in page
    assert "科目余额表" not in page and "期初余额" not in page
    page = client.get(base + "/income-statement?year=2025&month=1").text
    assert "Income and distribution statement" in page and "I. Operating revenue" in page
    assert "一、经营收入" not in page and "收益及收益分配表" not in page
    # the printed form stays Chinese, whoever asks for it
    pdf = client.get(base + "/income-statement?year=2025&month=1&format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = squeeze(pdf_text(pdf.data, tmp_path))
    assert "收益及收益分配表" in text and "一、经营收入" in text and "Operating" not in text


def test_api_keeps_chinese_labels_for_english_users(client, books):
    from coop.core.extensions import db
    from coop.services import users

    _voucher_and_report_books(books)
    books.accountant.locale = "en"
    token = users.issue_api_token(books.accountant, "test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    r = client.get(f"/api/v1/orgs/{books.org.id}/reports/income-statement?year=2025&month=1", headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["title"] == "收益及收益分配表" and body["columns"] == ["本期金额", "本年累计"]
    assert [row["label"] for row in body["rows"]][:2] == ["一、经营收入", "加：投资收益"]
