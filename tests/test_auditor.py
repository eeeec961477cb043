"""经管站工作台: every organization of the auditor's township with its 三色预警 and the facts, closing and
disclosure status, open questions; questions on vouchers asked, answered and closed through the pages; who sees
what.

Today is the real date here (the desk shows today's warnings): the clean village starts its books this month, so
no quarter of it is due yet; 东村 (books from 2025) has quarters long overdue and 20,000.00 cash against a 5,000.00
limit — more than twice the limit, so red.
"""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import Voucher, VoucherQuestion
from coop.services import orgs, users
from tests.test_disclosure_web import page
from tests.test_members_web import _fast_password_hashing  # noqa: F401


@pytest.fixture
def county(books):
    today = dt.date.today()
    books.lock_opening({"101": "20000.00", "301": "-20000.00"})
    books.post("2025-01-10", ("102", "300.00", ""), ("101", "", "300.00"), summary="现金存入银行")
    clean = orgs.create_organization(books.township, name="南村股份经济合作社", books_start_year=today.year,
                                     books_start_month=today.month)
    west = orgs.create_township(books.county, "西镇")
    far = orgs.create_organization(west, name="远村股份经济合作社", books_start_year=2025)
    other_acc = users.create_user("kuaiji2", "南村会计", "password1")
    users.assign_role(other_acc, "accountant", clean)
    member = users.create_user("chengyuan", "张成员", "password1")
    users.assign_role(member, "member", books.org)
    db.session.commit()
    books.clean, books.far = clean, far
    return books


def desk_row(html: str, org) -> str:
    """The desk's table row of one organization."""
    start = html.index(f'data-org="{org.id}"')
    return html[start:html.index("</tr>", start)]


def test_desk_shows_red_for_cash_over_limit_and_green_for_a_clean_village(county, app, auth):
    html = page(auth.browser("jingguan").get("/auditor/"))
    red = desk_row(html, county.org)
    assert 'data-level="red"' in red
    assert "库存现金超过限额" in red and "库存现金余额 19,700.00，限额 5,000.00，超出 14,700.00" in red
    assert "财务公开逾期" in red and "2025年第1季度收支明细应于 2025-04-15 前公开" in red
    assert "凭证无原始单据" in red and "2025-01-10 记-0001" in red  # yellow beside the reds
    assert "逾期" in red and "2025Q1" in red
    green = desk_row(html, county.clean)
    assert 'data-level="green"' in green and "badge lv-green" in green and "lv-red" not in green
    assert "未结账" in green
    # red first; the other township's village is not this auditor's
    assert html.index(f'data-org="{county.org.id}"') < html.index(f'data-org="{county.clean.id}"')
    assert f'data-org="{county.far.id}"' not in html
    # links into the books, read-only pages that auditors may open
    assert f"/o/{county.org.id}/vouchers" in red and f"/o/{county.org.id}/reports/" in red
    assert auth.browser("jingguan").get(f"/o/{county.org.id}/vouchers").status_code == 200


def test_desk_filters_by_level_and_county_admin_sees_the_county(county, app, auth):
    html = page(auth.browser("jingguan").get("/auditor/?level=green"))
    assert f'data-org="{county.clean.id}"' in html and f'data-org="{county.org.id}"' not in html
    html = page(auth.browser("xian").get("/auditor/"))
    assert all(f'data-org="{o.id}"' in html for o in (county.org, county.clean, county.far))


def test_cash_within_limit_is_not_a_warning(books, app, auth):
    books.lock_opening({"101": "5000.00", "301": "-5000.00"})
    db.session.commit()
    row = desk_row(page(auth.browser("jingguan").get("/auditor/")), books.org)
    assert "库存现金超过限额" not in row  # 5,000.00 is the county's limit itself
    books.post("2025-01-05", ("101", "0.01", ""), ("501", "", "0.01"), summary="利息")
    db.session.commit()
    row = desk_row(page(auth.browser("jingguan").get("/auditor/")), books.org)
    assert "库存现金超过限额" in row and "库存现金余额 5,000.01，限额 5,000.00，超出 0.01" in row


def test_desk_is_for_supervisors_only(county, app, auth):
    for who in ("kuaiji", "shenhe", "chengyuan"):
        assert auth.browser(who).get("/auditor/").status_code == 404, who


def test_questions_asked_answered_and_closed_through_the_pages(county, app, auth):
    org = county.org
    v = db.session.scalar(sa.select(Voucher))
    auditor, acc = auth.browser("jingguan"), auth.browser("kuaiji")
    base = f"/o/{org.id}/questions"

    # the auditor picks a month's vouchers, then one voucher
    html = page(auditor.get(base + "?month=2025-01"))
    assert "记-0001" in html and f"voucher_id={v.id}" in html
    html = page(auditor.get(base + f"?voucher_id={v.id}"))
    assert "现金存入银行" in html and f"/o/{org.id}/vouchers/{v.id}" in html
    r = auditor.post(base, data={"voucher_id": v.id, "question": "  "})
    assert r.status_code == 422 and "请填写问题" in page(r)
    assert auditor.post(base, data={"voucher_id": "abc", "question": "?"}).status_code == 404
    r = auditor.post(base, data={"voucher_id": v.id, "question": "存款回单在哪里？"})
    assert r.status_code == 302
    q = db.session.scalar(sa.select(VoucherQuestion))
    assert (q.status, q.question) == ("open", "存款回单在哪里？")
    # the desk counts it
    assert ">1</a>" in desk_row(page(auditor.get("/auditor/")), org)

    # the accountant cannot ask, and answers; an empty answer is shown beside the question
    assert acc.post(base, data={"voucher_id": v.id, "question": "?"}).status_code == 403
    r = acc.post(f"{base}/{q.id}/answer", data={"answer": "", "qid": q.id})
    assert r.status_code == 422 and "请填写答复" in page(r)
    assert acc.post(f"{base}/{q.id}/answer", data={"answer": "回单已上传为附件"}).status_code == 302
    # only the auditor closes
    assert acc.post(f"{base}/{q.id}/close").status_code == 403
    assert auditor.post(f"{base}/{q.id}/close").status_code == 302
    db.session.expire_all()
    assert db.session.get(VoucherQuestion, q.id).status == "closed"
    html = page(acc.get(base + "?status=closed"))
    assert "存款回单在哪里？" in html and "回单已上传为附件" in html and "已关闭" in html
    r = acc.post(f"{base}/{q.id}/answer", data={"answer": "再补充"})
    assert r.status_code == 409 and "已关闭" in page(r)


def test_questions_of_another_village_are_404(county, app, auth):
    v = db.session.scalar(sa.select(Voucher))
    stranger = auth.browser("kuaiji2")  # 南村's accountant
    assert stranger.get(f"/o/{county.org.id}/questions").status_code == 404
    assert stranger.post(f"/o/{county.org.id}/questions/1/answer", data={"answer": "x"}).status_code == 404
    # a voucher of 东村 asked about under 南村
    r = auth.browser("jingguan").post(f"/o/{county.clean.id}/questions", data={"voucher_id": v.id, "question": "?"})
    assert r.status_code == 404
    # members do not read the books
    assert auth.browser("chengyuan").get(f"/o/{county.org.id}/questions").status_code == 403
