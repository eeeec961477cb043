"""`flask coop verify`: exits 0 on intact books, non-zero with the problem listed when one fen of a published
sheet, a byte of its PDF, or an audit log entry was changed in the database."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import AuditLog, Disclosure
from coop.services import disclosure, users
from tests.test_members_web import _fast_password_hashing  # noqa: F401

Q1 = (dt.date(2025, 1, 1), dt.date(2025, 3, 31))


@pytest.fixture
def published(books, app):
    """Q1 2025 (income 12,345.67) published with its PDF, and a correction of it published too."""
    from coop.documents import disclosure as disclosure_pdf
    books.lock_opening({"101": "1000.00", "102": "50000.00", "301": "-51000.00"})
    books.post("2025-01-10", ("102", "12345.67", ""), ("501", "", "12345.67"), summary="收到承包金")
    books.close_through(2025, 3)
    group = users.create_user("licai", "理财小组长", "password1")
    users.assign_role(group, "finance_group", books.org)

    def run(d):
        disclosure.finance_group_review(d, user=group, approve=True)
        disclosure.township_approve(d, user=books.auditor)
        with app.test_request_context():
            disclosure.publish(d, user=books.accountant, date=dt.date(2025, 4, 10), channel="村务公开栏",
                               render_pdf=disclosure_pdf.render_sheet_pdf)
        return d

    first = run(disclosure.create_sheet(books.org, kind="income_expense", start=Q1[0], end=Q1[1],
                                        user=books.accountant))
    second = run(disclosure.create_sheet(books.org, kind="income_expense", start=Q1[0], end=Q1[1],
                                         user=books.accountant, supersedes=first))
    db.session.commit()
    return first, second


def verify(app):
    return app.test_cli_runner().invoke(args=["coop", "verify"])


def test_intact_books_pass(published, app):
    r = verify(app)
    assert r.exit_code == 0, r.output
    assert "通过" in r.output and "2 张" in r.output


def test_one_fen_changed_in_a_published_sheet_fails(published, app):
    first, second = published
    db.session.execute(sa.update(Disclosure).where(Disclosure.id == second.id)
                       .values(data=second.data.replace("12345.67", "12345.68")))
    db.session.commit()
    r = verify(app)
    assert r.exit_code == 1
    assert f"公开表 {second.id}（收支明细公开表 2025-01-01至2025-03-31 第2版）的数据与公开时的摘要不符" in r.stderr
    assert "发现 1 处问题" in r.stderr


def test_superseded_sheet_and_pdf_are_checked_too(published, app):
    first, _ = published
    assert first.status == "superseded"
    db.session.execute(sa.update(Disclosure).where(Disclosure.id == first.id).values(pdf=first.pdf + b" "))
    db.session.commit()
    r = verify(app)
    assert r.exit_code == 1 and f"公开表 {first.id} 的 PDF 与公开时不符" in r.stderr


def test_edited_audit_log_fails(published, app):
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "disclosure.publish")).first()
    db.session.execute(sa.update(AuditLog).where(AuditLog.id == entry.id).values(detail='{"digest": "forged"}'))
    db.session.commit()
    r = verify(app)
    assert r.exit_code == 1 and "内容与哈希不符" in r.stderr
