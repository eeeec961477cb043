"""Browser journeys (Debian's Chromium through Playwright, like tests/test_browser.py):

(2) a township auditor opens a village from the 经管站工作台, asks a question on a posted voucher, and approves a
    财务公开 sheet that the 民主理财小组 has reviewed;
(3) a member, on a 375px phone, logs in, lands on their household page (/me) with its shares, and opens the
    published sheets (公开栏).

Each journey's final page is saved as a screenshot under $COOP_ARTIFACTS (default: the test's tmp_path).
"""
from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from coop.extensions import db
from coop.models import Disclosure, VoucherQuestion
from coop.services import disclosure, members, shares, users
from tests.test_browser import PHONE, _fits_phone, chromium, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

IDS = ["11010519491231002X", "110105195003150043"]


@pytest.fixture
def artifacts(tmp_path) -> Path:
    folder = Path(os.environ.get("COOP_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _login(page, base: str, username: str):
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "password1")
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: "/login" not in url)


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
    _login(page, base, "jingguan")

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
    page.click("table.grid a[href*='voucher_id=']")
    page.fill("#f-question", "承包金是否已全额到账？请附银行回单。")
    page.click("form[action$='/questions'] button.primary")
    page.wait_for_load_state()
    assert "承包金是否已全额到账" in page.text_content("main")
    q = db.session.scalar(sa.select(VoucherQuestion))
    assert q is not None and q.organization_id == org

    # approve the reviewed sheet
    page.goto(f"{base}/o/{org}/disclosure/{d.id}")
    page.click("form[action$='/approve'] button[value=approve]")
    page.wait_for_url(re.compile(rf".*/disclosure/{d.id}$"))
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
    base, org = live_server, books.org.id
    page = chromium.new_page(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    page.set_default_timeout(15000)
    _login(page, base, "chengyuan")
    page.wait_for_url(re.compile(rf".*/me/households/{h.id}$"))  # /me sends them to their household
    main = page.text_content("main")
    assert "我的股权" in page.text_content("h1")
    assert "持有股份" in main and "张大山" in main and "王秀英" in main
    assert _fits_phone(page)
    page.screenshot(path=str(artifacts / "journey-member-household-375.png"), full_page=True)

    page.goto(f"{base}/o/{org}/disclosure/published")
    assert "财务公开" in page.text_content("h1")
    assert _fits_phone(page)
    page.screenshot(path=str(artifacts / "journey-member-published-375.png"), full_page=True)
    page.close()
