"""Issue #14 in a real Chromium, in the demo county (villages with bank, loan and expense 明细科目): the accountant
registers a loan and records a drawdown through the loan pages, choosing the bank account; the county records a
飞地抱团 contribution; each village's reviewer reviews and its accountant posts the drafts — all through the UI."""
from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from coop.core.extensions import db
from coop.models import JointProject, Loan, LoanEvent, Organization, ProjectContribution, Voucher
from coop.demo import PASSWORD
from tests.auth import browser_login, browser_logout
from tests.test_browser import PHONE, chromium, shots  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect.set_options(timeout=30000)


@pytest.fixture
def demo_server(app):
    from werkzeug.serving import make_server

    from coop.demo import build_demo

    build_demo(progress=False)
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


def _review_and_post(page, base, org_id, voucher_id, reviewer, poster):
    url = f"{base}/o/{org_id}/vouchers/{voucher_id}"
    browser_login(page, base, reviewer, PASSWORD)
    page.goto(url)
    page.click("#btn-review")
    expect(page.locator(".flash.success")).to_have_text("凭证已审核")
    browser_logout(page)
    browser_login(page, base, poster, PASSWORD)
    page.goto(url)
    page.click("#btn-post")
    expect(page.locator(".flash.success")).to_have_text("凭证已记账")
    browser_logout(page)


def _org(name_start):
    return db.session.scalar(sa.select(Organization).where(Organization.name.startswith(name_start)))


def test_loan_and_joint_pages_post_through_the_ui_in_a_demo_village(chromium, demo_server, shots):
    base = demo_server
    qingshi, liuxi = _org("青石村"), _org("柳溪村")
    page = chromium.new_page(viewport=PHONE)

    # the accountant registers a loan: term and bank account chosen on the form
    browser_login(page, base, "kj_wang", PASSWORD)
    page.goto(f"{base}/o/{qingshi.id}/loans/new")
    page.fill("[name=lender]", "青山农商银行")
    page.fill("[name=contract_no]", "QSNS-2026-1105")
    page.fill("[name=principal]", "80000")
    page.fill("[name=annual_rate]", "3.6%")
    page.fill("[name=start_date]", "2026-11-05")
    page.fill("[name=maturity_date]", "2027-11-04")
    page.select_option("[name=term]", "short")
    page.select_option("[name=bank_account]", "10202")
    page.click("form button.primary")
    page.wait_for_url(re.compile(r".*/loans/\d+$"))
    expect(page.locator(".flash.success")).to_contain_text("QSNS-2026-1105")
    # a drawdown of 80,000.00 into the 农村信用社 account remembered from the loan
    page.select_option("[name=kind]", "drawdown")
    page.fill("[name=date]", "2026-11-06")
    page.fill("[name=amount]", "80000")
    expect(page.locator("[name=bank_account]")).to_have_value("10202")
    page.click("form[action$='/events#event'] button.primary")
    expect(page.locator(".flash.success")).to_contain_text("凭证草稿已生成")
    page.screenshot(path=str(shots / "demo-loan-375.png"), full_page=True)
    browser_logout(page)
    loan = db.session.scalar(sa.select(Loan).where(Loan.contract_no == "QSNS-2026-1105"))
    event = db.session.scalar(sa.select(LoanEvent).where(LoanEvent.loan_id == loan.id))
    _review_and_post(page, base, qingshi.id, event.voucher_id, "sh_qingshi", "kj_wang")
    db.session.expire_all()
    v = db.session.get(Voucher, event.voucher_id)
    assert v.status == "posted"
    assert [(l.account.code, str(l.debit), str(l.credit)) for l in v.lines] == [
        ("10202", "80000.00", "0.00"), ("20102", "0.00", "80000.00")]

    # the county records a further contribution of 柳溪村 to the 飞地抱团 project: a draft in the village's books
    project = db.session.scalar(sa.select(JointProject))
    part = next(p for p in project.participants if p.organization_id == liuxi.id)
    browser_login(page, base, "qs_admin", PASSWORD)
    page.goto(f"{base}/joint/{project.id}/contributions/new")
    page.select_option("[name=participant_id]", str(part.id))
    page.select_option("[name=kind]", "cash")
    page.fill("[name=amount]", "20000")
    page.fill("[name=date]", "2026-11-10")
    page.click("form button.primary")
    page.wait_for_url(re.compile(rf".*/joint/{project.id}$"))
    expect(page.locator(".flash.success")).to_contain_text("20,000.00")
    browser_logout(page)
    c = db.session.scalar(sa.select(ProjectContribution).order_by(ProjectContribution.id.desc()))
    drafted = db.session.get(Voucher, c.village_voucher_id)
    assert drafted.status == "draft" and drafted.preparer.username == "qs_admin"
    _review_and_post(page, base, liuxi.id, c.village_voucher_id, "sh_liuxi", "kj_wang")
    db.session.expire_all()
    v = db.session.get(Voucher, c.village_voucher_id)
    assert v.status == "posted"
    assert [(l.account.code, l.counterparty) for l in v.lines] == [("14102", project.name), ("10201", None)]
    page.close()
