"""Posted vouchers never change (RULES §3): the ORM guard refuses it even when code bypasses the services, and the
database triggers refuse it even when SQL bypasses the ORM. Concurrent reviewers never share a number and leave
no gap (PostgreSQL; SQLite serializes writers and is skipped)."""
from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coop.core.errors import InvalidState, NotFound, VoucherPosted
from coop.core.extensions import db
from coop.models import Account, Voucher, VoucherLine, VoucherSequence
from coop.services import users, vouchers


@pytest.fixture
def posted(books):
    """记-0001 of 5 January 2025, posted: 101 Dr 500.00 / 102 Cr 500.00; and a draft beside it."""
    books.lock_opening({"102": "10000.00", "301": "-10000.00"})
    v = books.post("2025-01-05", ("101", "500.00", ""), ("102", "", "500.00"), summary="提现")
    draft = books.draft("2025-01-06", ("101", "20.00", ""), ("102", "", "20.00"), summary="提现")
    db.session.commit()
    return v.id, draft.id


def snapshot():
    db.session.rollback()
    return (
        db.session.execute(sa.select(Voucher.id, Voucher.status, Voucher.number, Voucher.date, Voucher.attachment_count)
                           .order_by(Voucher.id)).all(),
        db.session.execute(sa.select(VoucherLine.id, VoucherLine.voucher_id, VoucherLine.account_id,
                                     VoucherLine.debit, VoucherLine.credit, VoucherLine.summary)
                           .order_by(VoucherLine.id)).all(),
    )


# ---------------------------------------------------------------- ORM guard


def _change_header(v):
    v.attachment_count = 3


def _change_date(v):
    v.date = dt.date(2025, 1, 7)


def _back_to_draft(v):
    v.status = "draft"


def _change_line_amount(v):
    v.lines[0].debit = Decimal("5000.00")
    v.lines[1].credit = Decimal("5000.00")


def _change_line_account(v):
    v.lines[0].account_id = db.session.scalar(sa.select(Account.id).where(Account.code == "111"))


def _change_line_summary(v):
    v.lines[1].summary = "改过的摘要"


def _remove_line(v):
    v.lines.pop()


def _delete_line(v):
    db.session.delete(v.lines[0])


def _add_line(v):
    v.lines.append(VoucherLine(seq=3, summary="加一行", account_id=v.lines[0].account_id, debit=Decimal("1.00"),
                               credit=Decimal("0.00")))


def _delete_voucher(v):
    db.session.delete(v)


ORM_CHANGES = [_change_header, _change_date, _back_to_draft, _change_line_amount, _change_line_account,
               _change_line_summary, _remove_line, _delete_line, _add_line, _delete_voucher]


@pytest.mark.parametrize("change", ORM_CHANGES, ids=[f.__name__.lstrip("_") for f in ORM_CHANGES])
def test_orm_guard_refuses_changing_a_posted_voucher(posted, change):
    posted_id, draft_id = posted
    before = snapshot()
    v = db.session.get(Voucher, posted_id)
    change(v)
    with pytest.raises(VoucherPosted):
        db.session.flush()
    db.session.rollback()
    assert snapshot() == before
    # the same change to a draft goes through: the guard is about posted vouchers only
    if change is not _back_to_draft:
        change(db.session.get(Voucher, draft_id))
        db.session.flush()
        db.session.rollback()


# ---------------------------------------------------------------- database triggers

RAW_SQL = {
    "update line amount": "UPDATE voucher_lines SET debit = debit * 10 WHERE voucher_id = :vid AND debit <> 0",
    "update line summary": "UPDATE voucher_lines SET summary = 'x' WHERE voucher_id = :vid",
    "delete lines": "DELETE FROM voucher_lines WHERE voucher_id = :vid",
    "insert line": ("INSERT INTO voucher_lines (voucher_id, seq, summary, account_id, debit, credit) "
                    "SELECT voucher_id, 9, 'x', account_id, 100, 0 FROM voucher_lines WHERE voucher_id = :vid "
                    "AND seq = 1"),
    "update voucher": "UPDATE vouchers SET attachment_count = 9 WHERE id = :vid",
    "unpost voucher": "UPDATE vouchers SET status = 'reviewed' WHERE id = :vid",
    "delete voucher": "DELETE FROM vouchers WHERE id = :vid",
}


@pytest.mark.parametrize("sql", RAW_SQL.values(), ids=RAW_SQL.keys())
def test_database_trigger_refuses_raw_sql_on_a_posted_voucher(posted, sql):
    posted_id, draft_id = posted
    before = snapshot()
    with pytest.raises(sa.exc.DBAPIError, match="posted voucher is immutable"):
        db.session.execute(sa.text(sql), {"vid": posted_id})
    db.session.rollback()
    assert snapshot() == before


def test_database_trigger_lets_drafts_change(posted):
    _, draft_id = posted
    result = db.session.execute(sa.text("UPDATE voucher_lines SET summary = 'ok' WHERE voucher_id = :vid"),
                                {"vid": draft_id})
    assert result.rowcount == 2
    db.session.rollback()


# ---------------------------------------------------------------- concurrent numbering (PostgreSQL)


def run_together(app, jobs):
    """Run each job(i) in its own thread with its own app context (so its own session and connection), all
    released at once by a barrier; commit each. Returns (results, errors) by job index."""
    barrier = threading.Barrier(len(jobs))
    results, errors = {}, {}

    def worker(i, job):
        with app.app_context():
            try:
                prepared = job.prepare()  # load what the job needs before the start line
                barrier.wait(timeout=30)
                results[i] = job.run(prepared)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                errors[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results, errors


class Review:
    def __init__(self, voucher_id, reviewer_id):
        self.voucher_id, self.reviewer_id = voucher_id, reviewer_id

    def prepare(self):
        from coop.models import User

        return db.session.get(Voucher, self.voucher_id), db.session.get(User, self.reviewer_id)

    def run(self, prepared):
        voucher, reviewer = prepared
        return vouchers.review_voucher(voucher, user=reviewer).number


@pytest.fixture
def pg_only(backend):
    if backend != "postgresql":
        pytest.skip("SQLite serializes writers; concurrent numbering is tested on PostgreSQL")


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_reviews_get_distinct_gapless_numbers(app, books, pg_only, round_):
    """Four drafts of March, reviewed at the same moment by four reviewers: 记-0001 … 记-0004, each once."""
    books.lock_opening()
    reviewers = [books.reviewer] + [users.create_user(f"shenhe{i}", f"审核{i}", "password1") for i in range(3)]
    for r in reviewers[1:]:
        users.assign_role(r, "reviewer", books.org)
    drafts = [books.draft(f"2025-03-{i + 1:02d}", ("101", f"{i + 1}.00", ""), ("102", "", f"{i + 1}.00"))
              for i in range(4)]
    # one earlier review in another month, so the March sequence starts fresh while another row exists
    feb = books.draft("2025-02-01", ("101", "9.00", ""), ("102", "", "9.00"))
    vouchers.review_voucher(feb, user=books.reviewer)
    db.session.commit()  # the threads see only committed data

    results, errors = run_together(app, [Review(d.id, r.id) for d, r in zip(drafts, reviewers)])
    assert errors == {}
    assert sorted(results.values()) == [1, 2, 3, 4]
    db.session.rollback()
    numbers = db.session.execute(sa.select(Voucher.number).where(Voucher.month == 3).order_by(Voucher.number)).scalars()
    assert list(numbers) == [1, 2, 3, 4]
    seq = db.session.get(VoucherSequence, (books.org.id, 2025, 3, "记"))
    assert seq.last_number == 4


def test_two_reviewers_of_the_same_draft_take_one_number(app, books, pg_only):
    """Both load the draft, then review it at once: one wins with 记-0001, the other is told it is no longer a
    draft — it must not overwrite the number with 记-0002 and leave 0001 unused."""
    books.lock_opening()
    second = users.create_user("shenhe2", "审核二", "password1")
    users.assign_role(second, "reviewer", books.org)
    draft = books.draft("2025-03-01", ("101", "1.00", ""), ("102", "", "1.00"))
    db.session.commit()

    results, errors = run_together(app, [Review(draft.id, books.reviewer.id), Review(draft.id, second.id)])
    assert list(results.values()) == [1]
    assert [type(e) for e in errors.values()] == [InvalidState]
    db.session.rollback()
    assert db.session.get(Voucher, draft.id).number == 1
    assert db.session.get(VoucherSequence, (books.org.id, 2025, 3, "记")).last_number == 1


class Delete:
    def __init__(self, voucher_id, user_id):
        self.voucher_id, self.user_id = voucher_id, user_id

    def prepare(self):
        from coop.models import User

        return db.session.get(Voucher, self.voucher_id), db.session.get(User, self.user_id)

    def run(self, prepared):
        voucher, user = prepared
        vouchers.delete_draft(voucher, user=user)
        return "deleted"


def test_review_and_delete_of_the_same_draft_leave_no_gap(app, books, pg_only):
    """One reviews the draft while the other deletes it: either it is deleted before it gets a number, or it
    keeps 记-0001 — never a deleted voucher that had taken 记-0001."""
    books.lock_opening()
    draft_id = books.draft("2025-03-01", ("101", "1.00", ""), ("102", "", "1.00")).id
    db.session.commit()

    results, errors = run_together(app, [Review(draft_id, books.reviewer.id), Delete(draft_id, books.accountant.id)])
    assert len(results) == 1 and len(errors) == 1
    db.session.rollback()
    seq = db.session.get(VoucherSequence, (books.org.id, 2025, 3, "记"))
    kept = db.session.get(Voucher, draft_id)
    if kept is None:  # deleted first: the review finds nothing, and no number was taken
        assert results == {1: "deleted"} and isinstance(errors[0], NotFound)
        assert seq is None or seq.last_number == 0
    else:  # reviewed first: the delete is refused
        assert results == {0: 1} and isinstance(errors[1], InvalidState)
        assert kept.number == 1 and seq.last_number == 1
