"""A real Chromium from 报账 to paid: the accountant files a request with its receipt scan, the village head and
the township approve it, the accountant turns it into a voucher draft (the scan attached), the reviewer reviews,
the accountant posts, the 出纳 signs; the printed form's 出纳 slot names them."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from coop.core.extensions import db
from coop.services import users
from tests.auth import browser_login, browser_logout
from tests.test_browser import PHONE, chromium, live_server, shots  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_request_to_paid(chromium, live_server, books, shots, tmp_path):  # noqa: F811
    cash = users.create_user("chuna", "出纳员", "password1")
    users.assign_role(cash, "cashier", books.org)
    db.session.commit()
    scan = tmp_path / "收据.png"
    scan.write_bytes(PNG)
    base, org = live_server, books.org.id
    page = chromium.new_page(viewport=PHONE)

    browser_login(page, base, "kuaiji")
    page.goto(f"{base}/o/{org}/cash/")
    page.click("text=提交报账")
    page.fill("[name=purpose]", "购买办公用品")
    page.fill("[name=payee]", "县城文具店")
    page.fill("[name=amount]", "860.00")
    page.select_option("[name=category]", "expense_admin")
    page.fill("[name=spent_on]", "2025-03-01")
    page.set_input_files("[name=scans]", str(scan))
    page.click("button[type=submit].primary")
    expect(page.locator("h1")).to_contain_text("报账单")
    request_url = page.url
    expect(page.locator("text=村负责人审批").first).to_be_visible()
    browser_logout(page)

    for who in ("shenhe", "jingguan"):  # 村负责人, then the township's 代理中心
        browser_login(page, base, who)
        page.goto(request_url)
        page.click("text=提交审批意见")
        expect(page.locator(".flash.success")).to_contain_text("已记录审批意见")
        browser_logout(page)

    browser_login(page, base, "kuaiji")
    page.goto(request_url)
    page.fill("[name=date]", "2025-03-06")
    page.select_option("[name=pay_from]", "101")
    page.click("text=生成凭证草稿")
    page.wait_for_url(re.compile(r".*/vouchers/\d+$"))
    voucher_url = page.url
    expect(page.locator("body")).to_contain_text("收据.png")
    browser_logout(page)

    browser_login(page, base, "shenhe")
    page.goto(voucher_url)
    page.click("#btn-review")
    browser_logout(page)
    browser_login(page, base, "kuaiji")
    page.goto(voucher_url)
    page.click("#btn-post")
    expect(page.locator("body")).to_contain_text("记-0001")
    browser_logout(page)

    browser_login(page, base, "chuna")
    page.goto(voucher_url)
    page.click("#btn-cashier-sign")
    expect(page.locator(".flash.success")).to_contain_text("出纳已签字")
    expect(page.locator("#btn-cashier-sign")).to_have_count(0)
    page.screenshot(path=str(shots / "cash-request-to-paid.png"), full_page=True)
