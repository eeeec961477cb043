"""Browser journeys (Debian's Chromium through Playwright, like tests/test_browser.py):

(2) a township auditor opens a village from the 经管站工作台, asks a question on a posted voucher, and approves a
    财务公开 sheet that the 民主理财小组 has reviewed;
(3) a member, on a 375px phone, logs in, lands on their household page (/me) with its shares, and opens the
    published sheets (公开栏) and one of them.

Each journey's final page is saved as a screenshot under $COOP_ARTIFACTS (default: the test's tmp_path).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from coop.core.extensions import db
from coop.models import Disclosure, VoucherQuestion
from coop.services import disclosure, members, shares, users
from tests.auth import browser_login, browser_logout
from tests.test_browser import PHONE, _fits_phone, chromium, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
# auto-waiting expect() with room for a loaded 2-core machine (weasyprint PDFs, two test backends)
expect.set_options(timeout=30000)

IDS = ["11010519491231002X", "110105195003150043"]


@pytest.fixture
def artifacts(tmp_path) -> Path:
    folder = Path(os.environ.get("COOP_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _reviewed_sheet(books) -> Disclosure:
    """January 2025 posted and closed; a 2025-01 收支公开 sheet reviewed by the 民主理财小组."""
    books.post("2025-01-10", ("102", "12345.67", ""), ("501", "", "12345.67"), summary="收到承包金")
    books.close_through(2025, 3)
    group = users.create_user("licai", "理财小组长", "password1")
    users.assign_role(group, "finance_group", books.org)
    d = disclosure.create_sheet(books.org, kind="income_expense", start=dt.date(2025, 1, 1),
                                end=dt.date(2025, 3, 31), user=books.accountant)
    disclosure.finance_group_review(d, user=group, approve=True)
    db.session.commit()
    return d


def test_township_auditor_asks_and_approves(chromium, live_server, books, artifacts):  # noqa: F811
    d = _reviewed_sheet(books)
    base, org = live_server, books.org.id
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.set_default_timeout(15000)
    blocked = []  # anything the Content-Security-Policy refused (an inline script or handler)
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    browser_login(page, base, "jingguan", landing=lambda url: "/login" not in url)

    # the organization switcher (app.js, no inline handler) opens the chosen village
    page.select_option("#org-switch", value=f"/o/{org}/")
    page.wait_for_url(re.compile(rf".*/o/{org}/$"))

    page.goto(f"{base}/auditor/")
    page.click(f"a[href='/o/{org}/']")  # the village's 概况 from the desk
    page.wait_for_url(re.compile(rf".*/o/{org}/$"))
    assert books.org.name in page.text_content(".orgnav")

    # 质询: pick January, then the voucher, then ask
    page.goto(f"{base}/o/{org}/questions")
    page.fill("#f-month", "2025-01")
    page.click("form[method=get] button[type=submit]")
    page.wait_for_url(re.compile(r".*month=2025-01.*"))
    page.click("table.grid a[href*='voucher_id=']")
    page.wait_for_url(re.compile(r".*voucher_id=\d+.*"))
    page.fill("#f-question", "承包金是否已全额到账？请附银行回单。")
    page.click("form[action$='/questions'] button.primary")
    expect(page.locator("article[id^='q-']")).to_contain_text("承包金是否已全额到账")  # the page after the POST
    q = db.session.scalar(sa.select(VoucherQuestion))
    assert q is not None and q.organization_id == org

    # approve the reviewed sheet
    page.goto(f"{base}/o/{org}/disclosure/{d.id}")
    page.click("form[action$='/approve'] button[value=approve]")
    expect(page.locator(".flash.success")).to_contain_text("经管站已批准")  # same URL before and after: wait on the page
    db.session.expire_all()
    assert db.session.get(Disclosure, d.id).status == "approved"
    assert "赵审核" in page.text_content("main")  # 经管站批准 by the auditor
    page.screenshot(path=str(artifacts / "journey-auditor-approved.png"), full_page=True)
    assert blocked == []
    page.close()


def _member_household(books):
    """A household of two confirmed members, the 户主 linked to the user `chengyuan`; shares issued to it."""
    org, user = books.org, books.accountant
    h = members.create_household(org)
    head = members.add_member(h, name="张大山", id_number=IDS[0], relation="户主")
    spouse = members.add_member(h, name="王秀英", id_number=IDS[1], relation="配偶")
    for m in (head, spouse):
        members.record_membership_event(m, "confirmed", date=dt.date(2024, 6, 1), evidence="2024年第1号成员大会决议",
                                        user=user, today=dt.date(2026, 11, 1))
    login = users.create_user("chengyuan", "张大山", "password1")
    users.assign_role(login, "member", org)
    head.user_id = login.id
    plan = shares.create_plan(org, name="2024年折股量化", base_date=dt.date(2024, 12, 31),
                              net_assets=Decimal("500000.00"),
                              rules={"population_units": "1", "labour_units_per_year": "0.1", "labour_cap_years": 20,
                                     "collective_ratio": "0.2"},
                              approval_ref="2024年第2号成员大会决议", user=user)
    shares.issue_plan(plan, user=user)
    db.session.commit()
    return h


def test_member_on_a_phone_finds_shares_and_published_sheets(chromium, live_server, books, artifacts):  # noqa: F811
    h = _member_household(books)
    d = _reviewed_sheet(books)
    disclosure.township_approve(d, user=books.auditor)
    disclosure.publish(d, user=books.accountant, date=dt.date(2025, 4, 10), channel="村务公开栏")
    db.session.commit()
    base, org = live_server, books.org.id
    page = chromium.new_page(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    page.set_default_timeout(15000)
    browser_login(page, base, "chengyuan", landing=lambda url: "/login" not in url)
    page.wait_for_url(re.compile(rf".*/me/households/{h.id}$"))  # /me sends them to their household
    main = page.text_content("main")
    assert "我的股权" in page.text_content("h1")
    assert "持有股份" in main and "张大山" in main and "王秀英" in main
    expect(page.locator("#org-switch")).to_have_count(0)  # no organization menu to get lost in: not theirs
    assert _fits_phone(page)
    page.screenshot(path=str(artifacts / "journey-member-household-375.png"), full_page=True)

    # 公开栏, reached from their page (members have no organization menu), then the published sheet
    page.click("main a:has-text('公开栏')")
    page.wait_for_url(re.compile(rf".*/o/{org}/disclosure/published$"))
    assert "财务公开" in page.text_content("h1")
    sheet = page.locator("ul.orglist a", has_text="收支明细公开表")
    expect(sheet).to_contain_text("2025年第一季度")
    assert _fits_phone(page)
    page.screenshot(path=str(artifacts / "journey-member-published-375.png"), full_page=True)
    sheet.click()
    page.wait_for_url(re.compile(rf".*/disclosure/published/{d.id}$"))
    expect(page.locator("main")).to_contain_text("收到承包金")
    expect(page.locator("main")).to_contain_text("12,345.67")
    expect(page.locator("main")).to_contain_text("壹万贰仟叁佰肆拾伍元陆角柒分")
    assert _fits_phone(page)
    page.screenshot(path=str(artifacts / "journey-member-sheet-375.png"), full_page=True)
    page.close()

# ---------------------------------------------------------------- (1) the accountant's month

#: January 2025, typed as a village accountant would (thousands separators, "=" to balance the last line)
JANUARY = [
    ("2025-01-08", "提取备用金", "2", [("101", "1,234.56", ""), ("102", "", "1234.56")]),
    ("2025-01-15", "收到第一季度承包金", "1", [("102", "8000", ""), ("501", "", "8,000.00")]),
    ("2025-01-20", "购买办公用品", "3", [("513", "300", ""), ("101", "", "=")]),
]


def _pdf_text(pdf: bytes) -> str:
    """pdftotext -layout: one printed line per text line, so a row's amounts stay together."""
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                         check=True, timeout=60)
    return out.stdout.decode()


def _open_pdf(page, link, name: str, artifacts: Path) -> bytes:
    """Click a PDF link (it opens in a new tab) and fetch the same URL with the browser's cookies: Chromium's
    viewer keeps the PDF bytes from the page. Saved next to the screenshots."""
    url = urljoin(page.url, link.get_attribute("href"))
    with page.expect_popup() as popup_info:
        link.click()
    popup = popup_info.value
    expect(popup).to_have_url(url)
    popup.close()
    response = page.context.request.get(url, timeout=60000)
    assert response.ok and response.headers["content-type"] == "application/pdf", (url, response.status)
    pdf = response.body()
    assert pdf.startswith(b"%PDF-")
    (artifacts / name).write_bytes(pdf)
    return pdf


def _enter_voucher(page, date: str, summary: str, attachments: str, lines, *, again: bool, shot: Path | None = None):
    page.fill("#f-date", date)
    page.fill("#f-attachment_count", attachments)
    for i, (code, debit, credit) in enumerate(lines):
        page.fill(f"[name=lines-{i}-summary]", summary)
        # the account is chosen from the suggestions (a <datalist>, whose popup headless Chromium shows only
        # sometimes): take the offered "code name" text, as picking it would
        option = page.locator(f"#account-list option[value^='{code} ']")
        expect(option).to_have_count(1)
        page.fill(f"[name=lines-{i}-account_code]", option.get_attribute("value"))
        for side, amount in (("debit", debit), ("credit", credit)):
            box = page.locator(f"[name=lines-{i}-{side}]")
            if amount == "=":
                box.press("=")  # fills in what balances the voucher
            elif amount:
                box.press_sequentially(amount)
    expect(page.locator("#balance-state")).to_have_text("借贷平衡")
    expect(page.locator("#total-diff")).to_have_text("0.00")
    if shot:
        page.screenshot(path=str(shot), full_page=True)
    if again:
        page.click("button[name=again]")
        # back on an empty form for the next one
        expect(page.locator("[name=lines-0-summary]")).to_have_value("")
        page.wait_for_load_state()  # voucher.js (deferred) handles "=" on the next one
        expect(page.locator(".flash.success")).to_contain_text("凭证已保存")
    else:
        page.click("#save")
        page.wait_for_url(re.compile(r".*/vouchers/\d+$"))
        expect(page.locator(".flash.success")).to_contain_text("凭证已保存")


def _act_on_each(page, base: str, org: int, status: str, button: str, flash: str) -> list[str]:
    """Open the list filtered by `status`, and press `button` on each voucher in turn (oldest first)."""
    done = []
    page.goto(f"{base}/o/{org}/vouchers")
    page.select_option("#f-status", status)
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(rf".*status={status}.*"))
    rows = page.locator("table.voucher-list tbody tr")
    expect(rows).to_have_count(3)
    list_url = page.url
    for _ in range(3):
        rows.first.locator("a").first.click()
        page.wait_for_url(re.compile(r".*/vouchers/\d+$"))
        page.click(button)
        expect(page.locator(".flash.success")).to_have_text(flash)
        done.append(page.text_content("h1"))
        page.goto(list_url)
    expect(page.locator("table.voucher-list")).to_have_count(0)  # none left in that state
    return done


def test_accountant_month_enter_review_post_close_print(chromium, live_server, books, artifacts):  # noqa: F811
    """(1) The accountant enters three January vouchers, the reviewer reviews them, the accountant posts them,
    closes January and prints 记-0001 and the 科目余额表; the printed numbers are the ones typed in."""
    if not shutil.which("pdftotext"):
        if os.environ.get("CI") == "true":
            pytest.fail("pdftotext (poppler-utils) is missing, and CI requires this journey")
        pytest.skip("pdftotext not installed")
    base, org = live_server, books.org.id
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.set_default_timeout(30000)  # a PDF on a loaded 2-core machine
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    # the accountant types the vouchers in
    browser_login(page, base, "kuaiji", landing=lambda url: "/login" not in url)
    page.goto(f"{base}/o/{org}/")
    page.click(".orgnav a:text-is('凭证')")
    page.wait_for_url(re.compile(r".*/vouchers$"))
    page.click("a:has-text('新建凭证')")
    page.wait_for_url(re.compile(r".*/vouchers/new$"))
    for n, (date, summary, att, lines) in enumerate(JANUARY):
        last = n == len(JANUARY) - 1
        _enter_voucher(page, date, summary, att, lines, again=not last,
                       shot=artifacts / "journey-accountant-voucher-form.png" if last else None)
    assert "制单" in page.text_content("main") and "300.00" in page.text_content("main")
    page.click(".orgnav a:text-is('凭证')")
    page.wait_for_url(re.compile(r".*/vouchers$"))
    expect(page.locator(".summary-line")).to_contain_text("共 3 张凭证")
    expect(page.locator(".summary-line")).to_contain_text("9,534.56")
    browser_logout(page)

    # the reviewer reviews them; numbers are given in date order
    browser_login(page, base, "shenhe", landing=lambda url: "/login" not in url)
    reviewed = _act_on_each(page, base, org, "draft", "#btn-review", "凭证已审核")
    assert [re.search(r"记-\d{4}", h).group() for h in reviewed] == ["记-0001", "记-0002", "记-0003"]
    browser_logout(page)

    # the accountant posts them and closes January
    browser_login(page, base, "kuaiji", landing=lambda url: "/login" not in url)
    _act_on_each(page, base, org, "reviewed", "#btn-post", "凭证已记账")
    page.click(".orgnav a:text-is('结账')")
    page.wait_for_url(re.compile(r".*/periods$"))
    expect(page.locator("h2").first).to_have_text("下一个结账月份：2025年1月")
    page.once("dialog", lambda d: d.accept())  # 结账后该月不能再记账，确定吗？
    page.click("button:has-text('结账 2025年1月')")
    expect(page.locator(".flash.success")).to_have_text("2025年1月已结账")
    expect(page.locator("h2").first).to_have_text("下一个结账月份：2025年2月")
    page.screenshot(path=str(artifacts / "journey-accountant-closed.png"), full_page=True)

    # print 记-0001: the paper form with the amounts and the 大写 total
    page.click(".orgnav a:text-is('凭证')")
    page.wait_for_url(re.compile(r".*/vouchers$"))
    page.click("table.voucher-list a:has-text('记-0001')")
    page.wait_for_url(re.compile(r".*/vouchers/\d+$"))
    expect(page.locator("h1")).to_contain_text("记-0001")
    text = _pdf_text(_open_pdf(page, page.locator("#actions a:has-text('打印')"), "journey-accountant-voucher.pdf",
                               artifacts))
    assert "记账凭证" in text and "记字第 0001 号" in text and "2025 年 01 月 08 日" in text
    assert re.search(r"提取备用金\s+101 库存现金\s+1,234\.56", text), text
    assert re.search(r"提取备用金\s+102 银行存款\s+1,234\.56", text), text
    assert re.search(r"合计：人民币壹仟贰佰叁拾肆元伍角陆分\s+¥1,234\.56\s+¥1,234\.56", text), text
    assert re.search(r"附\s+单\s+据\s+2\s+张", text), text  # 附单据数 as typed
    assert "审核：李主任" in text and "制单：王会计" in text and "记账：王会计" in text

    # the 科目余额表 of January: the page, then its PDF
    page.click(".orgnav a:text-is('报表')")
    page.wait_for_url(re.compile(r".*/reports/$"))
    page.select_option("select[name=year]", "2025")
    page.select_option("select[name=period]", "1")
    page.click("button:has-text('科目余额表')")
    page.wait_for_url(re.compile(r".*/reports/trial-balance\?.*"))
    expect(page.locator(".report-sub")).to_contain_text("2025年1月")
    rows = page.locator("table.report tbody tr")

    def row(code_or_name: str) -> list[str]:
        r = rows.filter(has=page.locator("td", has_text=re.compile(rf"^{code_or_name}$")))
        expect(r).to_have_count(1)
        return [c.strip() for c in r.locator("td").all_text_contents()]

    # code, name; 期初 借/贷; 本期 借/贷; 本年累计 借/贷; 期末 借/贷
    expected = {
        "101": ["101", "库存现金", "500.00", "", "1,234.56", "300.00", "1,234.56", "300.00", "1,434.56", ""],
        "102": ["102", "银行存款", "20,000.00", "", "8,000.00", "1,234.56", "8,000.00", "1,234.56", "26,765.44", ""],
        "501": ["501", "经营收入", "", "", "", "8,000.00", "", "8,000.00", "", "8,000.00"],
        "513": ["513", "管理费用", "", "", "300.00", "", "300.00", "", "300.00", ""],
    }
    for code, cells in expected.items():
        assert row(code) == cells, code
    assert row("合计")[2:] == ["20,500.00", "20,500.00", "9,534.56", "9,534.56", "9,534.56", "9,534.56",
                               "28,500.00", "28,500.00"]
    expect(page.locator(".report-note")).to_have_text("试算平衡：借贷方合计相等。")
    assert blocked == []
    page.screenshot(path=str(artifacts / "journey-accountant-trial-balance.png"), full_page=True)

    text = _pdf_text(_open_pdf(page, page.locator(".report-actions a:has-text('打印 PDF')"),
                               "journey-accountant-trial-balance.pdf", artifacts))
    assert "科目余额表" in text and "2025年1月" in text
    for code, cells in expected.items():
        assert re.search(r"\s+".join(re.escape(c) for c in cells if c), text), (code, text)
    assert re.search(r"合计\s+20,500\.00\s+20,500\.00\s+(9,534\.56\s+){4}28,500\.00\s+28,500\.00", text), text
    page.close()
