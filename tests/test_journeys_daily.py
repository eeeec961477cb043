"""Browser journeys of issue #20 (Debian's Chromium through Playwright, like tests/test_journeys.py):

(1) the accountant types ten vouchers with the keyboard only (Enter from cell to cell, the account by its pinyin
    initials, "=" to balance, 保存并新增 keeping the date); the reviewer reviews them in one step from the 待办 on
    the home page; the accountant posts them in one step and closes the month — counted: at most 8 page loads;
(2) the township auditor asks on the voucher page; the accountant finds it in 待办 and answers with a scan;
(3) the 民主理财小组 and the 经管站 each approve a sheet from their queue;
(4) a member reads the portal on a 390 px phone: nothing scrolls sideways, the menu is folded, the 大写 is whole.

Each journey's final page is saved as a screenshot under $COOP_ARTIFACTS (default: the test's tmp_path).
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from coop.core.extensions import db
from coop.models import Attachment, Disclosure, Period, Voucher, VoucherQuestion
from coop.services import disclosure, users
from tests.auth import browser_login, browser_logout
from tests.test_browser import chromium, live_server  # noqa: F401  (fixtures)
from tests.test_journeys import _member_household, _reviewed_sheet, artifacts  # noqa: F401

pytestmark = pytest.mark.browser
expect.set_options(timeout=30000)
PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _page(chromium, viewport=None):  # noqa: F811
    page = chromium.new_page(viewport=viewport or {"width": 1280, "height": 900}, locale="zh-CN")
    page.set_default_timeout(15000)
    page.blocked = []  # anything the Content-Security-Policy refused
    page.on("console", lambda m: page.blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("dialog", lambda d: d.accept())  # 结账 asks for confirmation
    return page


def _type(page, text: str):
    page.keyboard.type(text)


def _enter(page, expect_field: str | None = None):
    page.keyboard.press("Enter")
    if expect_field:
        assert page.evaluate("document.activeElement.dataset.field || document.activeElement.id") == expect_field


def test_keyboard_entry_batch_review_batch_post_and_close(chromium, live_server, books, artifacts):  # noqa: F811
    base, org = live_server, books.org.id
    page = _page(chromium)
    browser_login(page, base, "kuaiji", keyboard=True, landing=lambda url: "/login" not in url)
    page.goto(f"{base}/o/{org}/vouchers/new")
    # the first voucher starts in the date; the date typed once sticks through 保存并新增
    assert page.evaluate("document.activeElement.id") == "f-date"
    page.keyboard.type("01052025")  # headless Chromium lays the date out mm/dd/yyyy
    assert page.input_value("#f-date") == "2025-01-05"
    _enter(page)  # → 凭证字
    _enter(page)  # → 附单据数
    _enter(page, "summary")  # → the first line's 摘要
    for n in range(1, 11):
        if n > 1:
            page.wait_for_url(re.compile(r".*/vouchers/new\?date=2025-01-05$"))
            expect(page.locator(".flash.success")).to_contain_text("凭证已保存")
            assert page.evaluate("document.activeElement.dataset.field") == "summary"
            assert page.input_value("#f-date") == "2025-01-05"
        _type(page, f"提取备用金第{n}笔")
        _enter(page, "account_code")
        _type(page, "kcxj")  # 库存现金 by its pinyin initials
        expect(page.locator(".picker-menu li.active")).to_have_text("101 库存现金")
        _enter(page, "debit")
        assert page.input_value("[name=lines-0-account_code]") == "101 库存现金"
        _type(page, f"{n}00.50")
        _enter(page, "summary")  # an amount typed: straight to the next line, 摘要 copied down
        assert page.input_value("[name=lines-1-summary]") == f"提取备用金第{n}笔"
        _enter(page, "account_code")
        _type(page, "102")
        _enter(page, "debit")
        _enter(page, "credit")  # no 借方: on to 贷方
        page.keyboard.press("=")  # the amount that balances
        assert page.input_value("[name=lines-1-credit]") == f"{n}00.50"
        _enter(page, "summary")  # a new line opened
        assert page.locator("[data-line]").count() == 3
        _enter(page, "save-again")  # balanced, empty line: Enter reaches 保存并新增, never submits by itself
        assert page.url.endswith("/vouchers/new") or "date=" in page.url  # still on the form
        with page.expect_navigation():
            _enter(page)  # Enter on the button: 保存并新增
    vs = list(db.session.scalars(sa.select(Voucher).order_by(Voucher.id)))
    assert [(v.date.isoformat(), v.status, str(v.total_debit), len(v.lines)) for v in vs] == [
        ("2025-01-05", "draft", f"{n}00.50", 2) for n in range(1, 11)]
    assert page.blocked == []
    browser_logout(page)

    # the reviewer: 待办 on the home page → the drafts → 成批审核 (every draft of the month)
    browser_login(page, base, "shenhe", keyboard=True, landing=lambda url: "/login" not in url)
    page.click("a[data-todo=review]")
    page.wait_for_url(re.compile(r".*/vouchers\?status=draft.*"))
    page.click("#batch-review")
    expect(page.locator("#batch-summary")).to_contain_text("已审核 10 张")
    db.session.expire_all()
    assert sorted(v.number for v in db.session.scalars(sa.select(Voucher))) == list(range(1, 11))
    page.screenshot(path=str(artifacts / "journey-batch-reviewed.png"), full_page=True)
    browser_logout(page)

    # the accountant posts and closes: every document the browser loads from here is counted
    loads = []
    page.on("framenavigated", lambda f: loads.append(f.url) if f == page.main_frame else None)
    browser_login(page, base, "kuaiji", keyboard=True, landing=lambda url: "/login" not in url)  # 1 login page, 2 home
    page.click("a[data-todo=post]")  # 3 the reviewed vouchers
    page.click("#batch-post")  # 4 the summary, with 结账 offered
    expect(page.locator("#batch-summary")).to_contain_text("已记账 10 张")
    page.click("#close-month")  # 5 closed, on the 结账 page
    expect(page.locator(".flash.success")).to_contain_text("2025年1月已结账")
    assert len(loads) <= 8, loads
    assert db.session.scalar(sa.select(Period.status).where(Period.year == 2025, Period.month == 1)) == "closed"
    page.screenshot(path=str(artifacts / "journey-month-closed.png"), full_page=True)
    (artifacts / "journey-month-closed-loads.txt").write_text(f"{len(loads)} page loads\n" + "\n".join(loads))
    assert page.blocked == []
    page.close()


def test_auditor_asks_on_the_voucher_and_the_accountant_answers_with_a_scan(chromium, live_server, books, artifacts,  # noqa: F811
                                                                           tmp_path):
    v = books.post("2025-01-10", ("102", "12345.67", ""), ("501", "", "12345.67"), summary="收到承包金")
    db.session.commit()
    base, org = live_server, books.org.id
    page = _page(chromium)
    browser_login(page, base, "jingguan", keyboard=True, landing=lambda url: "/login" not in url)
    page.goto(f"{base}/o/{org}/vouchers/{v.id}")
    page.fill("#f-question", "承包金是否已全额到账？请附银行回单。")
    page.click("#ask-form button[type=submit]")
    expect(page.locator("#questions article")).to_contain_text("承包金是否已全额到账")
    browser_logout(page)

    browser_login(page, base, "kuaiji", keyboard=True, landing=lambda url: "/login" not in url)
    expect(page.locator("#todo-total")).to_be_visible()  # the badge in the menu (the quarters due count too)
    expect(page.locator("a[data-todo=answer] .count-badge")).to_have_text("1")
    page.click("a[data-todo=answer]")
    page.click(f"a[href='/o/{org}/vouchers/{v.id}']")
    scan = tmp_path / "银行回单.pdf"
    scan.write_bytes(PDF)
    q = db.session.scalar(sa.select(VoucherQuestion))
    page.fill(f"#f-answer-{q.id}", "已全额到账，附银行回单。")
    page.set_input_files(f"#f-files-{q.id}", str(scan))
    page.click(f"#q-{q.id} button.primary")
    expect(page.locator(".flash.success")).to_contain_text("答复已提交")
    expect(page.locator(f"#q-{q.id}")).to_contain_text("银行回单.pdf")
    db.session.expire_all()
    assert db.session.get(VoucherQuestion, q.id).status == "answered"
    assert db.session.scalar(sa.select(Attachment.filename).where(Attachment.voucher_id == v.id)) == "银行回单.pdf"
    page.screenshot(path=str(artifacts / "journey-question-answered.png"), full_page=True)
    assert page.blocked == []
    page.close()


def test_finance_group_and_township_approve_from_their_queues(chromium, live_server, books, artifacts):  # noqa: F811
    books.post("2025-01-10", ("102", "12345.67", ""), ("501", "", "12345.67"), summary="收到承包金")
    books.close_through(2025, 3)
    group = users.create_user("licai", "理财小组长", "password1")
    users.assign_role(group, "finance_group", books.org)
    d = disclosure.create_sheet(books.org, kind="income_expense", start=dt.date(2025, 1, 1),
                                end=dt.date(2025, 3, 31), user=books.accountant)
    db.session.commit()
    base = live_server
    page = _page(chromium)
    browser_login(page, base, "licai", keyboard=True, landing=lambda url: "/login" not in url)
    page.click("a[data-todo=sheet_group]")
    page.click(f"a[data-sheet='{d.id}']")
    page.click("#review-form button[value=approve]")
    expect(page.locator(".flash.success")).to_contain_text("民主理财小组审查通过")
    browser_logout(page)
    browser_login(page, base, "jingguan", keyboard=True, landing=lambda url: "/login" not in url)
    page.click("a[data-todo=sheet_township]")
    page.click(f"a[data-sheet='{d.id}']")
    page.click("form[action$='/approve'] button[value=approve]")
    expect(page.locator(".flash.success")).to_contain_text("经管站已批准")
    db.session.expire_all()
    assert db.session.get(Disclosure, d.id).status == "approved"
    page.screenshot(path=str(artifacts / "journey-sheet-approved-from-queue.png"), full_page=True)
    assert page.blocked == []
    page.close()


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_member_portal_and_voucher_on_a_390px_phone(chromium, live_server, books, artifacts):  # noqa: F811
    h = _member_household(books)
    d = _reviewed_sheet(books)
    disclosure.township_approve(d, user=books.auditor)
    disclosure.publish(d, user=books.accountant, date=dt.date(2025, 4, 10), channel="村务公开栏")
    db.session.commit()
    base, org = live_server, books.org.id
    page = _page(chromium, PHONE)
    browser_login(page, base, "chengyuan", keyboard=True, landing=lambda url: "/login" not in url)
    page.wait_for_url(re.compile(rf".*/me/households/{h.id}$"))
    assert _fits(page)
    # the top menu is folded behind its button; 待办 stays in sight
    expect(page.locator(".topbar .menu-toggle")).to_be_visible()
    expect(page.locator(".topbar a[href$='/tokens']")).to_be_hidden()
    page.click(".topbar .menu-toggle")
    expect(page.locator(".topbar a[href$='/tokens']")).to_be_visible()
    # the holdings table keeps the holder's column in sight
    assert page.evaluate("getComputedStyle(document.querySelector('.grid.sticky-first td')).position") == "sticky"
    page.goto(f"{base}/o/{org}/disclosure/published/{d.id}")
    expect(page.locator("main")).to_contain_text("壹万贰仟叁佰肆拾伍元陆角柒分")
    assert _fits(page)
    page.screenshot(path=str(artifacts / "journey-member-sheet-390.png"), full_page=True)
    page.goto(f"{base}/o/{org}/distribution/mine")
    assert _fits(page)
    page.goto(f"{base}/me")  # back to their household: the journey's last page
    page.wait_for_url(re.compile(rf".*/me/households/{h.id}$"))
    assert _fits(page)
    page.screenshot(path=str(artifacts / "journey-member-phone-390.png"), full_page=True)
    assert page.blocked == []
    browser_logout(page)

    # the accountant's voucher on the same phone: the 大写 total on one line, not a character a line
    v = db.session.scalar(sa.select(Voucher))
    browser_login(page, base, "kuaiji", keyboard=True, landing=lambda url: "/login" not in url)
    page.goto(f"{base}/o/{org}/vouchers/{v.id}")
    box = page.locator(".daxie").bounding_box()
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.daxie')).lineHeight) || 24")
    assert box["height"] <= line * 1.5 and box["width"] > box["height"] * 4
    assert _fits(page)
    page.screenshot(path=str(artifacts / "journey-voucher-phone-390.png"), full_page=True)
    page.close()


def test_auditor_desk_is_cards_on_a_phone(chromium, live_server, books, artifacts):  # noqa: F811
    books.post("2025-01-10", ("102", "300.00", ""), ("101", "", "300.00"))
    db.session.commit()
    page = _page(chromium, PHONE)
    browser_login(page, live_server, "jingguan", keyboard=True, landing=lambda url: "/login" not in url)
    page.goto(f"{live_server}/auditor/")
    assert _fits(page)
    assert page.evaluate("getComputedStyle(document.querySelector('.grid.desk tr[data-org]')).display") == "block"
    # no cell squeezed to two characters a line: each card is (nearly) the page's width
    width = page.locator(".grid.desk tr[data-org]").first.bounding_box()["width"]
    assert width > PHONE["width"] * 0.8
    page.screenshot(path=str(artifacts / "journey-auditor-desk-390.png"), full_page=True)
    assert page.blocked == []
    page.close()
