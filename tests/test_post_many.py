"""vouchers.post_many, the bulk path of imports: the same books, numbers and audit trail as 制单 → 审核 → 记账 one
voucher at a time, and the same refusals."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coop.core.errors import Forbidden, PeriodClosed, ValidationFailed
from coop.core.extensions import db
from coop.models import AuditLog, Voucher
from coop.ledger.digest import lines_digest
from coop.services import integrity, reports, vouchers

OPENING = {"102": "10000.00", "301": "-10000.00"}


def entry(date, *lines, summary="批量"):
    return ({"date": dt.date.fromisoformat(date), "lines": [
        {"summary": summary, "account_code": code, "debit": Decimal(d or 0), "credit": Decimal(c or 0),
         "counterparty": cp} for code, d, c, cp in lines]}, "normal")


ENTRIES = [
    entry("2025-01-03", ("101", "1234.56", "", None), ("102", "", "1234.56", None), summary="提现"),
    entry("2025-01-09", ("102", "800.00", "", None), ("501", "", "800.00", None), summary="承包费"),
    entry("2025-02-01", ("513", "66.60", "", None), ("101", "", "66.60", None), summary="办公用品"),
    entry("2025-02-01", ("113", "300.00", "", "张三"), ("101", "", "300.00", None), summary="借款"),
]


def test_same_books_numbers_and_digests_as_one_by_one(books):
    books.lock_opening(OPENING)
    books.post("2025-01-02", ("101", "10.00", ""), ("102", "", "10.00"))  # 记-0001 of January is taken
    db.session.commit()
    ids = vouchers.post_many(books.org, ENTRIES, preparer=books.accountant, reviewer=books.reviewer,
                             poster=books.accountant)
    db.session.commit()
    got = [db.session.get(Voucher, i) for i in ids]
    assert [(v.month, v.display_number, v.status) for v in got] == [
        (1, "记-0002", "posted"), (1, "记-0003", "posted"), (2, "记-0001", "posted"), (2, "记-0002", "posted")]
    assert got[0].preparer_id == books.accountant.id and got[0].reviewer_id == books.reviewer.id
    assert got[3].lines[0].counterparty == "张三" and got[3].total_debit == Decimal("300.00")
    # 101: +10 + 1234.56 − 66.60 − 300 ; 102: 10000 − 10 − 1234.56 + 800
    leaf = reports.leaf_balances(books.org)
    assert leaf["101"] == Decimal("877.96") and leaf["102"] == Decimal("9555.44")
    assert leaf["501"] == Decimal("-800.00") and leaf["113"] == Decimal("300.00")
    # a posting audit entry per voucher carrying its lines' digest, as the one-by-one path writes
    posts = dict(db.session.execute(sa.select(AuditLog.target, AuditLog.detail)
                                    .where(AuditLog.action == "voucher.post")).all())
    for v in got:
        assert lines_digest(v) in posts[str(v.id)]
    assert integrity.check_books() == []
    # the next voucher through the normal path continues the numbering without a gap
    nxt = books.post("2025-02-20", ("101", "1.00", ""), ("102", "", "1.00"))
    assert nxt.display_number == "记-0003"


def test_refusals_write_nothing(books):
    books.lock_opening(OPENING)
    db.session.commit()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher))
    with pytest.raises(Forbidden):
        vouchers.post_many(books.org, ENTRIES, preparer=books.accountant, reviewer=books.accountant,
                           poster=books.accountant)
    bad = entry("2025-01-05", ("101", "1.00", "", None), ("102", "", "2.00", None))
    with pytest.raises(ValidationFailed):
        vouchers.post_many(books.org, ENTRIES + [bad], preparer=books.accountant, reviewer=books.reviewer,
                           poster=books.accountant)
    db.session.rollback()
    books.close_through(2025, 1)
    db.session.commit()
    with pytest.raises(PeriodClosed):
        vouchers.post_many(books.org, ENTRIES, preparer=books.accountant, reviewer=books.reviewer,
                           poster=books.accountant)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == before
