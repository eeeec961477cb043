"""Daily work pages (#20) through the test client: 待办 on the home page and as badges, 成批审核 / 成批记账 from the
voucher list and the 结账 page (and what the page loads count), the sheet queues, 质询 asked, answered with a
scan and closed on the voucher page, 常用凭证 and the new-voucher form from one, 保存并新增 keeping the date, a
validation error keeping every typed cell, the 科目余额表 drilling down to the 明细账 and the voucher, 未结账."""
from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import Attachment, Voucher, VoucherQuestion, VoucherTemplate
from coop.services import disclosure, users
from tests.test_disclosure_web import page
from tests.test_distribution_web import text
from tests.test_members_web import _fast_password_hashing  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _ready(books):
    books.lock_opening({"101": "5000.00", "102": "20000.00", "301": "-25000.00"})
    for day in range(1, 4):
        books.draft(f"2025-01-{day:02d}", ("101", f"{day}00.00", ""), ("102", "", f"{day}00.00"), summary=f"提现{day}")
    db.session.commit()
    return books


def test_home_shows_todo_with_links_and_menu_badges(books, app, auth):
    _ready(books)
    html = page(auth.browser("shenhe").get("/"))
    assert "待办" in html and 'data-todo="review"' in html
    link = re.search(r'href="([^"]+)" data-todo="review"', html).group(1)
    assert link == f"/o/{books.org.id}/vouchers?status=draft&amp;year="
    assert '<span class="count-badge" id="todo-total">3</span>' in html
    html = page(auth.browser("shenhe").get(f"/o/{books.org.id}/vouchers"))
    assert re.search(r'>凭证 <span class="count-badge">3</span>', html)
    assert "成批审核" in html and "成批记账" not in html  # the reviewer reviews, does not post


def test_batch_review_then_post_and_close_from_the_summary_in_three_pages(books, app, auth):
    _ready(books)
    rev = auth.browser("shenhe")
    # the list, ticking nothing: every draft of the month shown (January: the month holding the vouchers)
    html = page(rev.get(f"/o/{books.org.id}/vouchers"))
    assert 'name="month" value="2025-01"' in html
    r = rev.post(f"/o/{books.org.id}/batch", data={"step": "review", "month": "2025-01"})
    assert r.status_code == 200 and "已审核 3 张" in text(page(r))
    acc = auth.browser("kuaiji")
    loads = 0
    r = acc.get(f"/o/{books.org.id}/periods")  # 1: the 结账 page shows the blocker with its one-click step
    loads += 1
    html = page(r)
    assert "本月还有 3 张凭证未记账（制单或已审核）" in html and 'data-blocker="post"' in html
    r = acc.post(f"/o/{books.org.id}/batch", data={"step": "post", "month": "2025-01"})  # 2: the summary
    loads += 1
    html = page(r)
    assert "已记账 3 张" in text(html) and 'id="close-month"' in html
    r = acc.post(f"/o/{books.org.id}/periods/close", data={"year": "2025", "month": "1"}, follow_redirects=True)
    loads += 1  # 3: the close and the 结账 page it lands on
    assert "2025年1月已结账" in page(r)
    assert loads == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.status == "posted")) == 3


def test_selected_vouchers_only(books, app, auth):
    _ready(books)
    ids = list(db.session.scalars(sa.select(Voucher.id).order_by(Voucher.date)))
    r = auth.browser("shenhe").post(f"/o/{books.org.id}/batch", data={"step": "review", "ids": [str(ids[2])]})
    assert "已审核 1 张" in text(page(r))
    db.session.expire_all()
    assert [db.session.get(Voucher, i).status for i in ids] == ["draft", "draft", "reviewed"]
    # the preview (GET) changes nothing and lists what would be done
    html = page(auth.browser("shenhe").get(f"/o/{books.org.id}/batch?step=review&month=2025-01"))
    assert "将审核以下 2 张凭证。" in html
    db.session.expire_all()
    assert db.session.get(Voucher, ids[0]).status == "draft"


def test_question_asked_answered_with_a_scan_and_closed_on_the_voucher_page(books, app, auth):
    books.lock_opening({"101": "5000.00", "301": "-5000.00"})
    v = books.post("2025-01-08", ("513", "80.00", ""), ("101", "", "80.00"), summary="买办公用品")
    db.session.commit()
    aud = auth.browser("jingguan")
    vurl = f"/o/{books.org.id}/vouchers/{v.id}"
    assert 'id="ask-form"' in page(aud.get(vurl))
    # an empty question keeps the page and says why
    r = aud.post(f"{vurl}/questions", data={"question": " "})
    assert r.status_code == 422 and "请填写问题" in page(r)
    r = aud.post(f"{vurl}/questions", data={"question": "请附发票"}, follow_redirects=True)
    assert "请附发票" in page(r)
    q = db.session.scalar(sa.select(VoucherQuestion))
    acc = auth.browser("kuaiji")
    assert 'data-todo="answer"' in page(acc.get("/"))
    import io

    r = acc.post(f"/o/{books.org.id}/questions/{q.id}/reply",
                 data={"answer": "发票已补", "files": (io.BytesIO(PDF), "发票.pdf", "application/pdf")},
                 content_type="multipart/form-data", follow_redirects=True)
    html = page(r)
    assert "发票已补" in html and "发票.pdf" in html and "答复质询时补充" in html
    assert db.session.scalar(sa.select(Attachment.filename).where(Attachment.voucher_id == v.id)) == "发票.pdf"
    r = aud.post(f"/o/{books.org.id}/questions/{q.id}/close-on-voucher", follow_redirects=True)
    assert "质询已关闭" in page(r)
    db.session.expire_all()
    assert db.session.get(VoucherQuestion, q.id).status == "closed"


def test_templates_and_keyboard_entry_details(books, app, auth):
    books.lock_opening({"101": "5000.00", "102": "20000.00", "301": "-25000.00"})
    v = books.post("2025-01-31", ("102", "1500.00", ""), ("501", "", "1500.00"), summary="收到门面房租金")
    db.session.commit()
    acc = auth.browser("kuaiji")
    r = acc.post(f"/o/{books.org.id}/templates", data={"voucher_id": v.id, "name": "门面房租金", "monthly": "1",
                                                      "day": "25"}, follow_redirects=True)
    assert "已保存为常用凭证“门面房租金”" in page(r)
    t = db.session.scalar(sa.select(VoucherTemplate))
    html = page(acc.get(f"/o/{books.org.id}/vouchers/new?template={t.id}&date=2025-02-03"))
    assert 'value="2025-02-03"' in html and 'value="收到门面房租金"' in html and 'value="1500.00"' in html
    assert 'id="account-data"' in html and '"py": "yhck"' in html.replace("\\u0026", "&")
    assert '<option value="收到门面房租金">' in html  # 常用摘要
    r = acc.post(f"/o/{books.org.id}/templates/generate", data={"month": "2025-02"})
    assert "已生成 1 张凭证草稿" in page(r)
    r = acc.post(f"/o/{books.org.id}/templates/generate", data={"month": "2025-02"})
    assert "已生成 0 张凭证草稿" in page(r) and "本月已生成过：门面房租金" in page(r)
    # 保存并新增 keeps the date
    form = {"date": "2025-02-14", "word": "记", "attachment_count": "0",
            "lines-0-summary": "买纸", "lines-0-account_code": "513 管理费用", "lines-0-debit": "12.00",
            "lines-1-summary": "买纸", "lines-1-account_code": "101", "lines-1-credit": "12.00", "again": "1"}
    r = acc.post(f"/o/{books.org.id}/vouchers/new", data=form)
    assert r.status_code == 302 and r.headers["Location"].endswith("/vouchers/new?date=2025-02-14")
    assert 'value="2025-02-14"' in page(acc.get(r.headers["Location"]))
    # unbalanced: nothing typed is lost
    bad = dict(form, **{"lines-1-credit": "11.00", "lines-2-summary": "备注", "lines-2-counterparty": "文具店"})
    bad.pop("again")
    html = page(acc.post(f"/o/{books.org.id}/vouchers/new", data=bad))
    assert 'value="2025-02-14"' in html and 'value="买纸"' in html and 'value="12.00"' in html
    assert 'value="11.00"' in html and "513 管理费用" in html
    assert 'value="文具店"' in html  # a line with only its 往来单位 typed is kept and asked for its account


def test_trial_balance_drills_down_and_marks_open_months(books, app, auth):
    books.lock_opening({"101": "5000.00", "102": "20000.00", "301": "-25000.00"})
    v = books.post("2025-01-08", ("513", "80.00", ""), ("101", "", "80.00"), summary="买办公用品")
    db.session.commit()
    acc = auth.browser("kuaiji")
    html = page(acc.get(f"/o/{books.org.id}/reports/trial-balance?year=2025&period=1"))
    link = re.search(r'<a href="([^"]+)" data-drill="account">513</a>', html).group(1).replace("&amp;", "&")
    assert "未结账" in html and "2025年1月 尚未结账" in html
    html = page(acc.get(link))
    assert "明细账" in html and "买办公用品" in html
    assert f'href="/o/{books.org.id}/vouchers/{v.id}" data-drill="voucher"' in html
    # the downloaded sheet says so too (in Chinese, like the paper forms)
    import io

    import openpyxl

    r = acc.get(f"/o/{books.org.id}/reports/trial-balance?year=2025&period=1&format=xlsx")
    cells = [c.value for row in openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows() for c in row]
    assert "2025年1月 尚未结账，数字可能还会变动。" in cells
    books.close_through(2025, 1)
    db.session.commit()
    html = page(acc.get(f"/o/{books.org.id}/reports/trial-balance?year=2025&period=1"))
    assert "尚未结账" not in html


def test_sheet_queues_of_the_finance_group_and_the_township(books, app, auth):
    books.lock_opening({"101": "5000.00", "301": "-5000.00"})
    books.post("2025-01-10", ("102", "100.00", ""), ("501", "", "100.00"))
    books.close_through(2025, 3)
    group = users.create_user("licai", "理财小组长", "password1")
    users.assign_role(group, "finance_group", books.org)
    d = disclosure.create_sheet(books.org, kind="income_expense", start=dt.date(2025, 1, 1),
                                end=dt.date(2025, 3, 31), user=books.accountant)
    db.session.commit()
    html = page(auth.browser("licai").get("/todo/sheets"))
    assert f'data-sheet="{d.id}"' in html and "待民主理财小组审查" in html
    assert "待经管站批准" not in page(auth.browser("jingguan").get("/todo/sheets"))
    assert auth.browser("kuaiji").get("/todo/sheets").status_code == 404


def test_batch_from_the_list_covers_what_the_list_shows(books, app, auth):
    """From 待办 the list shows every year's drafts: 成批审核 there takes all of them, January's and February's;
    a list of one month takes that month only."""
    _ready(books)
    books.draft("2025-02-03", ("101", "9.00", ""), ("102", "", "9.00"), summary="二月")
    books.draft("2025-03-03", ("101", "8.00", ""), ("102", "", "8.00"), summary="三月")
    db.session.commit()
    rev = auth.browser("shenhe")
    html = page(rev.get(f"/o/{books.org.id}/vouchers?year=2025&month=2"))
    assert 'name="month" value="2025-02"' in html
    r = rev.post(f"/o/{books.org.id}/batch", data={"step": "review", "month": "2025-02"})
    assert "已审核 1 张" in text(page(r))
    html = page(rev.get(f"/o/{books.org.id}/vouchers?status=draft&year="))
    assert 'name="all" value="1"' in html
    r = rev.post(f"/o/{books.org.id}/batch", data={"step": "review", "all": "1"})
    assert "已审核 4 张" in text(page(r))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.status == "draft")) == 0
