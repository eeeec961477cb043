"""财务公开 workflow, digests and verification; 三色预警 rules, each triggered and not."""
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coop.core.errors import Forbidden, InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.models import Disclosure, Voucher
from coop.services import closing, disclosure, users, vouchers, warnings

D = Decimal
Q1 = (dt.date(2025, 1, 1), dt.date(2025, 3, 31))


@pytest.fixture
def quarter(books):
    books.lock_opening({"101": "1000.00", "102": "50000.00", "301": "-51000.00"})
    books.post("2025-01-10", ("102", "12345.67", ""), ("501", "", "12345.67"), summary="收到承包金")
    books.post("2025-02-10", ("513", "1409.50", ""), ("102", "", "1409.50"), summary="购买办公用品")
    books.post("2025-03-10", ("514", "6007.14", ""), ("102", "", "6007.14"), summary="道路维修")
    books.close_through(2025, 3)
    group = users.create_user("licai", "理财小组长", "password1")
    users.assign_role(group, "finance_group", books.org)
    db.session.commit()
    return books, group


def publish_q1(books, group):
    d = disclosure.create_sheet(books.org, kind="income_expense", start=Q1[0], end=Q1[1], user=books.accountant)
    disclosure.finance_group_review(d, user=group, approve=True)
    disclosure.township_approve(d, user=books.auditor)
    return disclosure.publish(d, user=books.accountant, date=dt.date(2025, 4, 10), channel="村务公开栏")


def test_income_expense_sheet_totals_and_workflow(quarter):
    books, group = quarter
    with pytest.raises(ValidationFailed, match="4月尚未结账"):
        disclosure.create_sheet(books.org, kind="income_expense", start=Q1[0], end=dt.date(2025, 4, 30),
                                user=books.accountant)
    d = disclosure.create_sheet(books.org, kind="income_expense", start=Q1[0], end=Q1[1], user=books.accountant)
    data = __import__("json").loads(d.data)
    assert [t["amount"] for t in data["totals"]] == ["12345.67", "7416.64", "4929.03"]
    assert data["totals"][0]["words"] == "壹万贰仟叁佰肆拾伍元陆角柒分"
    assert len(data["rows"]) == 3
    with pytest.raises(InvalidState, match="审查"):
        disclosure.publish(d, user=books.accountant, date=dt.date(2025, 4, 10), channel="公开栏")
    with pytest.raises(ValidationFailed, match="否决时必须填写意见"):
        disclosure.finance_group_review(d, user=group, approve=False)
    disclosure.finance_group_review(d, user=group, approve=False, comment="道路维修请附合同", row=2)
    assert d.status == "vetoed" and d.comments[0].row == 2
    disclosure.finance_group_review(d, user=group, approve=True)
    with pytest.raises(Forbidden):
        disclosure.township_approve(d, user=group)
    disclosure.township_approve(d, user=books.auditor)
    disclosure.publish(d, user=books.accountant, date=dt.date(2025, 4, 10), channel="村务公开栏",
                       render_pdf=lambda d: b"%PDF-1.7 test")
    assert d.status == "published"
    assert disclosure.verify_digest(d.digest).id == d.id
    assert disclosure.verify_pdf(b"%PDF-1.7 test").id == d.id
    assert disclosure.verify_digest("0" * 64) is None
    with pytest.raises(ValidationFailed):
        disclosure.verify_digest("not a digest")
    with pytest.raises(ValidationFailed):
        disclosure.verify_pdf(b"GIF89a")


def test_one_fen_changed_is_detected_and_reopen_needs_a_correction(quarter):
    books, group = quarter
    d = publish_q1(books, group)
    db.session.commit()
    assert disclosure.verify_published() == []
    db.session.execute(sa.update(Disclosure).where(Disclosure.id == d.id)
                       .values(data=d.data.replace("12345.67", "12345.68")))
    db.session.commit()
    assert "不符" in disclosure.verify_published()[0]
    db.session.execute(sa.update(Disclosure).where(Disclosure.id == d.id)
                       .values(data=d.data.replace("12345.68", "12345.67")))
    db.session.commit()
    with pytest.raises(InvalidState, match="更正版本"):
        closing.reopen_period(books.org, 2025, 3, user=books.auditor, reason="补记")
    fix = disclosure.create_sheet(books.org, kind="income_expense", start=Q1[0], end=Q1[1], user=books.accountant,
                                  supersedes=d)
    closing.reopen_period(books.org, 2025, 3, user=books.auditor, reason="补记一笔收入")
    books.post("2025-03-20", ("102", "100.00", ""), ("504", "", "100.00"), summary="补记其他收入")
    books.close_through(2025, 3)
    disclosure.rebuild_sheet(fix, user=books.accountant)
    disclosure.finance_group_review(fix, user=group, approve=True)
    disclosure.township_approve(fix, user=books.auditor)
    disclosure.publish(fix, user=books.accountant, date=dt.date(2025, 4, 20), channel="村务公开栏")
    assert (d.status, fix.status, fix.version) == ("superseded", "published", 2)
    assert disclosure.verify_digest(d.digest).status == "superseded"


def test_voucher_questions(quarter):
    books, _ = quarter
    v = db.session.scalars(sa.select(Voucher)).first()
    with pytest.raises(Forbidden):
        disclosure.ask_question(books.org, v, text="?", user=books.accountant)
    q = disclosure.ask_question(books.org, v, text="承包合同在哪里？", user=books.auditor)
    disclosure.answer_question(q, text="已上传附件", user=books.accountant)
    disclosure.close_question(q, user=books.auditor)
    assert q.status == "closed"


# ---------------------------------------------------------------- 三色预警


def codes(org, today):
    return {w.code: w for w in warnings.warnings_for(org, today)}


def test_cash_over_limit(books):
    books.lock_opening({"101": "5000.00", "301": "-5000.00"})
    assert "cash_over_limit" not in codes(books.org, dt.date(2025, 1, 31))
    books.post("2025-01-05", ("101", "0.01", ""), ("504", "", "0.01"), summary="收现")
    w = codes(books.org, dt.date(2025, 1, 31))["cash_over_limit"]
    assert w.level == "yellow" and "超出 0.01" in w.facts[0]


def test_officer_receivable(books):
    books.lock_opening({"102": "5000.00", "301": "-5000.00"})
    books.post("2025-01-05", ("112", "300.00", ""), ("102", "", "300.00"), summary="借款")
    assert "officer_receivable" not in codes(books.org, dt.date(2025, 1, 31))
    v = books.draft("2025-01-06", ("112", "200.00", ""), ("102", "", "200.00"), summary="王会计借款")
    v.lines[0].counterparty = "王会计"
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=books.accountant)
    w = codes(books.org, dt.date(2025, 1, 31))["officer_receivable"]
    assert w.level == "red" and w.facts == ["王会计 欠款 200.00"]


def test_vouchers_without_attachments_and_old_drafts(books):
    books.lock_opening({"102": "5000.00", "301": "-5000.00"})
    today = dt.date.today()
    assert "no_attachment" not in codes(books.org, today) and "old_drafts" not in codes(books.org, today)
    books.post("2025-01-05", ("101", "10.00", ""), ("102", "", "10.00"))
    assert codes(books.org, today)["no_attachment"].facts == ["2025-01-05 记-0001"]
    books.draft("2025-02-05", ("101", "10.00", ""), ("102", "", "10.00"))
    assert "old_drafts" not in codes(books.org, today)
    assert "old_drafts" in codes(books.org, today + dt.timedelta(days=31))


def test_disclosure_overdue(quarter):
    books, group = quarter
    assert "disclosure_overdue" not in codes(books.org, dt.date(2025, 4, 15))
    assert codes(books.org, dt.date(2025, 4, 16))["disclosure_overdue"].level == "red"
    publish_q1(books, group)
    assert "disclosure_overdue" not in codes(books.org, dt.date(2025, 4, 16))
