"""How many SQL statements posting costs (#24): a regression guard, not a timing (bench/bench_posting.py times it).

Counted is every statement the driver is asked to run on the app's engine — the service's, the commit's flush and
the audit sealer's after the commit (an executemany counts once). Every check still runs: the posted voucher is
refused a second time, its audit entry carries the lines' digest and is sealed into the chain, `coop verify`'s
checks pass.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coop.core.errors import PeriodClosed, VoucherPosted
from coop.core.extensions import db
from coop.models import AuditLog, Organization, User, Voucher
from coop.ledger.digest import lines_digest
from coop.services import access, closing, integrity, periods, vouchers

OPENING = {"101": "500.00", "102": "10000.00", "301": "-10500.00"}
THREE = (("101", "100.00", ""), ("102", "", "60.00"), ("501", "", "40.00"))
SIX = THREE + (("513", "10.00", ""), ("514", "6.00", ""), ("503", "", "16.00"))  # three more accounts
#: the limit of issue #24
LIMIT = 12


@contextlib.contextmanager
def statements():
    seen: list[str] = []

    def count(conn, cursor, statement, *_args):
        seen.append(" ".join(statement.split())[:120])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def _as_a_request(books, voucher_id: int | None):
    """What the 记账 page or API call has loaded before it calls the service: the user, the organization (with the
    permission check) and the voucher, in a fresh session."""
    ids = books.org.id, books.accountant.id, books.reviewer.id
    db.session.remove()
    books.org, books.accountant, books.reviewer = (db.session.get(Organization, ids[0]), db.session.get(User, ids[1]),
                                                   db.session.get(User, ids[2]))
    org = access.get_org(books.accountant, ids[0], access.POST)
    return org, books.accountant, voucher_id and vouchers.get_voucher(org, voucher_id)


def _reviewed(books, *lines) -> int:
    v = books.draft("2025-01-03", *lines)
    vouchers.review_voucher(v, user=books.reviewer)
    db.session.commit()
    return v.id


def _sealed_posting(voucher_id: int) -> AuditLog:
    return db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "voucher.post",
                                                       AuditLog.target == str(voucher_id)))


def test_posting_a_voucher_of_three_lines(books):
    books.lock_opening(OPENING)
    vid = _reviewed(books, *THREE)
    org, user, v = _as_a_request(books, vid)
    with statements() as seen:
        vouchers.post_voucher(v, user=user)
        db.session.commit()
    assert len(seen) <= LIMIT, "\n".join(seen)
    db.session.remove()
    v = db.session.get(Voucher, vid)
    assert v.status == "posted" and v.display_number == "记-0001"
    entry = _sealed_posting(vid)
    assert entry.seq is not None and lines_digest(v) in entry.detail
    assert integrity.check_books() == []


def test_no_statement_per_line(books):
    """Six lines on six accounts cost what three on three do: nothing is read or written line by line (posting read
    each line's account once)."""
    books.lock_opening(OPENING)
    counts = []
    for lines in (THREE, SIX):
        vid = _reviewed(books, *lines)
        org, user, v = _as_a_request(books, vid)
        with statements() as seen:
            vouchers.post_voucher(v, user=user)
            db.session.commit()
        counts.append(len(seen))
    assert counts[0] == counts[1]


def test_entry_review_and_posting_in_one_transaction(books, backend):
    """制单 → 审核 → 记账 of one voucher in one transaction (a batch, an import one by one) and its commit. SQLite
    cannot hand back the ids of a multi-row INSERT in order, so the ORM writes the 3 lines and the 3 audit entries
    a row at a time there (in-process calls, no round trips): 4 more; and an organization's books version is
    bumped once at its commit (the page caches' key, one upsert: PostgreSQL's 12 include it), 1 more."""
    books.lock_opening(OPENING)
    db.session.commit()
    org, acc, _ = _as_a_request(books, None)
    rev = books.reviewer
    assert access.can(acc, access.PREPARE, org) and access.can(rev, access.REVIEW, org)  # loaded, as a request has
    data = {"date": dt.date(2025, 1, 3), "lines": [
        {"summary": "测试", "account_code": c, "debit": Decimal(d or 0), "credit": Decimal(cr or 0), "counterparty": None}
        for c, d, cr in THREE]}
    with statements() as seen:
        v = vouchers.create_draft(org, data, user=acc)
        vouchers.review_voucher(v, user=rev)
        vouchers.post_voucher(v, user=acc)
        vid = v.id
        db.session.commit()
    assert len(seen) <= LIMIT + (5 if backend == "sqlite" else 0), "\n".join(seen)
    db.session.remove()
    assert db.session.get(Voucher, vid).status == "posted"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.target == str(vid), AuditLog.action.startswith("voucher."), AuditLog.seq.is_not(None))) == 3
    assert integrity.check_books() == []


def test_a_close_in_the_same_transaction_is_seen(books):
    """The open month is read once a transaction, but a close made in that transaction is read again: the next
    voucher of the month is refused, and nothing of the refused voucher is written."""
    books.lock_opening(OPENING)
    db.session.commit()
    books.post("2025-01-03", *THREE)  # January seen open (and the books lock held) in this transaction
    closing.close_period(books.org, 2025, 1, user=books.accountant, today=dt.date(2025, 2, 1))
    with pytest.raises(PeriodClosed):
        books.draft("2025-01-20", *THREE)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == 1
    assert periods.closed_months(books.org) == {(2025, 1)}


@pytest.mark.parametrize("change", ["line", "voucher"])
def test_posted_in_this_transaction_is_immutable(books, change):
    """The guard holds for a voucher written, reviewed and posted in the transaction that changes it next."""
    books.lock_opening(OPENING)
    db.session.commit()
    v = books.post("2025-01-03", *THREE)
    if change == "line":
        v.lines[0].summary = "改过的摘要"
    else:
        v.date = dt.date(2025, 1, 4)
    with pytest.raises(VoucherPosted):
        db.session.flush()
    db.session.rollback()


def test_a_line_edited_before_posting_is_written_before_it(books):
    """A draft's line changed in the session and posted in the same transaction: the change is written while the
    voucher is a draft, and the posting's digest is of the lines as written."""
    books.lock_opening(OPENING)
    db.session.commit()
    v = books.draft("2025-01-03", *THREE)
    v.lines[2].summary = "承包费"
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=books.accountant)
    vid = v.id
    db.session.commit()
    db.session.remove()
    v = db.session.get(Voucher, vid)
    assert [l.summary for l in v.lines] == ["测试", "测试", "承包费"]
    assert lines_digest(v) in _sealed_posting(vid).detail
    assert integrity.check_books() == []
