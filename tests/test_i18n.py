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
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
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


def _login(client):
    r = client.post("/login", data={"username": "kuaiji", "password": "password1"})
    assert r.status_code == 302, r.text


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


def test_organization_overview_in_english(client, books):
    _login(client)
    _english(client)
    page = client.get(f"/o/{books.org.id}/").text
    for word in ("Vouchers", "Opening balances", "Overview", "Reports",
                 "Current accounting period", "Unified social credit code", "Close the period", "Log out"):
        assert word in page
    for word in ("凭证", "期初余额", "概况", "报表", "当前会计期间", "统一社会信用代码", "结账", "退出"):
        assert word not in page


def test_switching_back_to_chinese(client, books):
    _login(client)
    _english(client)
    assert "Vouchers" in client.get(f"/o/{books.org.id}/").text
    _switch(client, "zh_CN")
    page = client.get(f"/o/{books.org.id}/").text
    assert "凭证" in page and "期初余额" in page
    assert "Vouchers" not in page


def test_translated_text_is_not_read_as_markup(client, books):
    """Jinja marks translated strings safe, so a literal <token> must be written as an entity in the catalog."""
    _login(client)
    _english(client)
    page = client.get("/account/tokens").text
    assert "Bearer &lt;token&gt;" in page
    assert not CJK.search(re.sub(r"东村股份经济合作社|东镇|王会计|中文", "", page))
