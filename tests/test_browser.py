"""A real Chromium (Debian's, through Playwright) on a phone-sized screen: enter a voucher, watch the live
差额, save, review as the reviewer, post, and find 记-0001 in the list.

Screenshots go to $COOP_SCREENSHOTS or $COOP_ARTIFACTS if set (CI keeps artifacts/), else to the test's tmp_path.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from coop.core.extensions import db
from coop.models import Voucher
from tests.auth import browser_login, browser_logout

pytestmark = pytest.mark.browser
# auto-waiting expect() with room for a loaded 2-core machine
expect.set_options(timeout=30000)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def chromium():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing, and CI requires the browser test")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def live_server(app, books):
    """The app on a free port, in a thread, against the test database (the books committed first)."""
    from werkzeug.serving import make_server

    books.lock_opening({"101": "500.00", "102": "20000.00", "301": "-20500.00"})
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("COOP_SCREENSHOTS") or os.environ.get("COOP_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _fits_phone(page) -> bool:
    """Nothing makes the page itself scroll sideways (wide tables scroll inside their wrapper)."""
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_enter_review_post_on_a_phone(chromium, live_server, books, shots):
    base, org = live_server, books.org.id
    page = chromium.new_page(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    page.set_default_timeout(15000)
    browser_login(page, base, "kuaiji")

    page.goto(f"{base}/o/{org}/vouchers/new")
    assert _fits_phone(page)
    page.fill("[name=date]", "2025-03-05")
    page.fill("[name=lines-0-summary]", "提取备用金")
    page.fill("[name=lines-0-account_code]", "101 库存现金")
    diff, state = page.locator("#total-diff"), page.locator("#balance-state")
    expect(diff).to_have_text("0.00")
    page.locator("[name=lines-0-debit]").press_sequentially("1,000.50")
    expect(diff).to_have_text("1,000.50")
    expect(diff).to_have_class(re.compile(r"\bunbalanced\b"))
    expect(state).to_have_text("借贷不平衡")

    page.fill("[name=lines-1-summary]", "提取备用金")
    page.fill("[name=lines-1-account_code]", "102")
    page.locator("[name=lines-1-credit]").press_sequentially("1000")
    expect(diff).to_have_text("0.50")
    expect(page.locator("#total-credit")).to_have_text("1,000.00")
    # "=" fills in the amount that balances the voucher
    page.fill("[name=lines-1-credit]", "")
    page.locator("[name=lines-1-credit]").press("=")
    expect(page.locator("[name=lines-1-credit]")).to_have_value("1000.50")
    expect(diff).to_have_text("0.00")
    expect(diff).to_have_class(re.compile(r"(^|\s)balanced(\s|$)"))
    expect(state).to_have_text("借贷平衡")

    # a new line gets the 摘要 copied down; left without account and amounts, the server skips it
    page.click("#add-line")
    assert page.evaluate("document.activeElement.name") == "lines-2-account_code"  # ready to pick an account
    page.evaluate("document.activeElement.blur()")  # closes the account suggestions, which cover the buttons
    assert page.input_value("[name=lines-2-summary]") == "提取备用金"
    assert page.locator("[data-line]").count() == 3
    assert _fits_phone(page)
    page.screenshot(path=str(shots / "voucher-form-375.png"), full_page=True)
    page.screenshot(path=str(shots / "voucher-form-375-screen.png"))  # what the phone shows: the sticky totals

    page.click("#save")
    page.wait_for_url(re.compile(r".*/vouchers/\d+$"))
    expect(page.locator(".flash.success")).to_contain_text("凭证已保存")
    voucher_url = page.url
    browser_logout(page)

    browser_login(page, base, "shenhe")
    page.goto(voucher_url)
    page.click("#btn-review")
    expect(page.locator(".flash.success")).to_have_text("凭证已审核")  # auto-waits for the page after the POST
    expect(page.locator("h1")).to_contain_text("记-0001")
    browser_logout(page)

    browser_login(page, base, "kuaiji")
    page.goto(voucher_url)
    page.click("#btn-post")
    expect(page.locator(".flash.success")).to_have_text("凭证已记账")
    assert _fits_phone(page)
    page.screenshot(path=str(shots / "voucher-detail-375.png"), full_page=True)

    page.goto(f"{base}/o/{org}/vouchers")
    row = page.locator("table.voucher-list tbody tr").first
    assert "记-0001" in row.text_content() and "已记账" in row.text_content()
    assert _fits_phone(page)
    page.screenshot(path=str(shots / "voucher-list-375.png"), full_page=True)

    v = db.session.scalar(sa.select(Voucher))
    assert (v.status, v.number, len(v.lines), str(v.total_debit)) == ("posted", 1, 2, "1000.50")
    page.close()


def test_other_pages_fit_a_phone(chromium, live_server, books, shots):
    """Chart, opening balances, periods and a voucher form full of errors, at 375px: no sideways page scroll."""
    base, org = live_server, books.org.id
    page = chromium.new_page(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    page.set_default_timeout(15000)
    browser_login(page, base, "kuaiji")
    for name, path in [("accounts", "/accounts"), ("opening", "/opening"), ("periods", "/periods"),
                       ("overview", "/")]:
        page.goto(f"{base}/o/{org}{path}")
        assert _fits_phone(page), name
        page.screenshot(path=str(shots / f"{name}-375.png"), full_page=True)

    page.goto(f"{base}/o/{org}/vouchers/new")
    page.fill("[name=lines-0-summary]", "买化肥")
    page.fill("[name=lines-0-account_code]", "322")
    page.fill("[name=lines-0-debit]", "12.345")
    page.fill("[name=lines-1-account_code]", "101")
    page.fill("[name=lines-1-credit]", "100")
    expect(page.locator("[name=lines-0-debit]")).to_have_class(re.compile(r"\binvalid\b"))  # more than two decimals
    page.click("#save")
    expect(page.locator("[data-error-for='lines.0.account_code']")).to_have_text("322 收益分配 有下级科目，只能在末级科目记账")
    expect(page.locator("[data-error-for='lines.0.debit']")).to_have_text("金额最多两位小数")
    expect(page.locator("[data-error-for='lines.1.summary']")).to_have_text("请填写摘要")
    assert page.input_value("[name=lines-0-debit]") == "12.345"  # the input comes back as typed
    assert _fits_phone(page)
    page.screenshot(path=str(shots / "voucher-errors-375.png"))  # the top of the page, footer at the bottom
    page.close()
