"""The books version (#24): every write that changes what the ledger pages and report PDFs show bumps
the organization's books version (books_versions) in its own transaction; a rolled-back write does not; other books keep theirs."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.test_reports_render import _fast_password_hashing, village  # noqa: F401  (fixtures)


def version(org) -> int:
    from coop.services import books

    return books.version(org.id)


@pytest.fixture
def other(village):
    from coop.core.extensions import db
    from coop.services import orgs

    o = orgs.create_organization(village.township, name="西村经济合作社", books_start_year=2025)
    db.session.commit()
    return o


def committed(fn):
    """Run `fn` and commit; the version after."""
    from coop.core.extensions import db

    out = fn()
    db.session.commit()
    return out


def test_each_kind_of_change_bumps_once_per_transaction(village, other):
    from coop.core.extensions import db
    from coop.models import Voucher
    from coop.services import accounts, closing, periods, vouchers

    org = village.org
    seen = [version(org)]
    theirs = version(other)

    def step(fn):
        committed(fn)
        now = version(org)
        assert now == seen[-1] + 1, fn  # one transaction, one bump, however many rows it wrote
        seen.append(now)

    step(lambda: village.draft("2025-03-02", ("101", "10.00", ""), ("501", "", "10.00")))  # a draft saved
    v = db.session.scalars(sa.select(Voucher).where(Voucher.status == "draft")).one()
    step(lambda: vouchers.update_draft(v, {"date": dt.date(2025, 3, 3), "lines": [
        {"summary": "改", "account_code": "101", "debit": Decimal("11.00"), "credit": Decimal(0)},
        {"summary": "改", "account_code": "501", "debit": Decimal(0), "credit": Decimal("11.00")}]},
        user=village.accountant))  # edited
    step(lambda: vouchers.review_voucher(v, user=village.reviewer))  # reviewed
    step(lambda: vouchers.post_voucher(v, user=village.accountant))  # posted
    step(lambda: vouchers.reverse_voucher(v, user=village.accountant, date=dt.date(2025, 3, 9)))  # reversed
    d = village.draft("2025-03-04", ("101", "1.00", ""), ("501", "", "1.00"))
    db.session.commit()
    seen.append(version(org))
    step(lambda: vouchers.delete_draft(d, user=village.accountant))  # a draft deleted
    step(lambda: accounts.add_detail_account(org, "102", "10202", "信用社"))  # accounts
    step(lambda: accounts.rename_account(org, "10202", "农村信用社"))
    step(lambda: village.close_through(2025, 1))  # a close (损益结转 and the period row)
    step(lambda: closing.reopen_period(org, 2025, 1, user=village.auditor, reason="补记漏账"))  # a reopen
    step(lambda: vouchers.post_many(org, [({"date": dt.date(2025, 3, 5), "lines": [
        {"summary": "批量", "account_code": "101", "debit": Decimal("5.00"), "credit": Decimal(0)},
        {"summary": "批量", "account_code": "501", "debit": Decimal(0), "credit": Decimal("5.00")}]}, "normal")],
        preparer=village.accountant, reviewer=village.reviewer, poster=village.accountant))  # bulk posting
    assert version(other) == theirs  # another organization's books did not change


def test_rolled_back_write_does_not_bump(village):
    from coop.core.extensions import db

    before = version(village.org)
    village.draft("2025-03-02", ("101", "10.00", ""), ("501", "", "10.00"))
    db.session.flush()
    db.session.rollback()
    assert version(village.org) == before
    committed(lambda: None)  # nothing pending survives the rollback
    assert version(village.org) == before


def test_the_bump_is_in_the_writers_transaction(village, app):
    """Another connection sees neither the new voucher nor the new version until the commit, then both."""
    from coop.core.extensions import db

    before = version(village.org)
    village.draft("2025-03-02", ("101", "10.00", ""), ("501", "", "10.00"))
    db.session.flush()
    with db.engine.connect() as other:
        read = sa.text("SELECT coalesce(max(version), 0) FROM books_versions WHERE organization_id = :o")
        assert other.scalar(read, {"o": village.org.id}) == before
        other.rollback()
        db.session.commit()
        assert other.scalar(read, {"o": village.org.id}) == before + 1


def test_bulk_statements_bump(village):
    """Writes through session.execute (no ORM unit of work) are seen too: an opening-balance delete by WHERE."""
    from coop.core.extensions import db
    from coop.models import OpeningBalance

    before = version(village.org)
    db.session.execute(sa.update(OpeningBalance).where(OpeningBalance.organization_id == village.org.id)
                       .values(counterparty=None).execution_options(synchronize_session=False))
    db.session.commit()
    assert version(village.org) == before + 1


@pytest.fixture
def pg_only(backend):
    if backend != "postgresql":
        pytest.skip("SQLite serializes writers: there is no concurrent commit to race")


def test_bump_does_not_wait_for_a_lock_on_the_organization_row(app, village, pg_only):
    """Services lock the organizations row FOR UPDATE early (shares, sanzi, imports); a draft saved meanwhile
    commits at once, bump included, instead of queueing behind that lock (which could close a deadlock cycle)."""
    import threading

    from coop.core.extensions import db
    from coop.models import Organization, User

    org_id, user_id = village.org.id, village.accountant.id
    before = version(village.org)
    locked, saved = threading.Event(), threading.Event()
    errors = []

    def holder():
        with app.app_context():
            try:
                db.session.execute(sa.select(Organization.id).where(Organization.id == org_id).with_for_update())
                locked.set()
                saved.wait(timeout=10)  # hold the row lock until the writer is through (or gives up)
                db.session.commit()
            finally:
                db.session.remove()

    def writer():
        from coop.services import vouchers

        with app.app_context():
            try:
                locked.wait(timeout=10)
                vouchers.create_draft(db.session.get(Organization, org_id), {"date": dt.date(2025, 3, 2), "lines": [
                    {"summary": "并发", "account_code": "101", "debit": Decimal("3.00"), "credit": Decimal(0)},
                    {"summary": "并发", "account_code": "501", "debit": Decimal(0), "credit": Decimal("3.00")}]},
                    user=db.session.get(User, user_id))
                db.session.commit()
                saved.set()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=holder), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors and saved.is_set()  # committed while the row lock was still held
    db.session.rollback()
    assert version(village.org) == before + 1


def test_concurrent_writers_each_bump(app, village, pg_only):
    """Six drafts saved at the same moment in six transactions: six bumps, none lost."""
    import threading

    from coop.core.extensions import db
    from coop.models import Organization, User
    from coop.services import vouchers

    org_id, user_id = village.org.id, village.accountant.id
    before = version(village.org)
    barrier = threading.Barrier(6)
    errors = []

    def writer(i):
        with app.app_context():
            try:
                org, user = db.session.get(Organization, org_id), db.session.get(User, user_id)
                barrier.wait(timeout=10)
                vouchers.create_draft(org, {"date": dt.date(2025, 3, 2), "lines": [
                    {"summary": f"并发{i}", "account_code": "101", "debit": Decimal("1.00"), "credit": Decimal(0)},
                    {"summary": f"并发{i}", "account_code": "501", "debit": Decimal(0), "credit": Decimal("1.00")}]},
                    user=user)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    db.session.rollback()
    assert version(village.org) == before + 6


def test_bulk_line_insert_bumps_the_vouchers_organization_only(village, other):
    """Lines inserted by a bulk statement name only their voucher: the voucher's organization is bumped."""
    from coop.core.extensions import db
    from coop.models import Account, VoucherLine

    d = village.draft("2025-03-02", ("101", "10.00", ""), ("501", "", "10.00"))
    db.session.commit()
    mine, theirs = version(village.org), version(other)
    cash = db.session.scalars(sa.select(Account.id).where(Account.organization_id == village.org.id,
                                                          Account.code == "101")).one()
    db.session.execute(sa.insert(VoucherLine), [
        {"voucher_id": d.id, "seq": 9, "summary": "补", "account_id": cash, "debit": Decimal("1.00"),
         "credit": Decimal(0)}])
    db.session.commit()
    assert (version(village.org), version(other)) == (mine + 1, theirs)
