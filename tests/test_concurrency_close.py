"""PostgreSQL: a close racing a voucher write never closes around it; a plan cannot be posted twice at once."""
import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import current_app

from coop.core.errors import CoopError
from coop.core.extensions import db
from coop.models import Organization, User, Voucher
from coop.services import closing, periods, vouchers


@pytest.fixture
def pg_only(backend):
    if backend != "postgresql":
        pytest.skip("row locks are what is tested; SQLite serialises writers anyway")


def _run(app, jobs):
    """Run each job in its own thread, app context and session, all starting together; return their outcomes."""
    barrier, results = threading.Barrier(len(jobs)), {}

    def work(name, fn):
        with app.app_context():
            barrier.wait()
            try:
                fn()
                db.session.commit()
                results[name] = "ok"
            except CoopError as exc:
                db.session.rollback()
                results[name] = exc.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=item) for item in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("round_", range(3))
def test_close_never_closes_around_a_voucher_being_written(app, books, pg_only, round_):
    books.lock_opening({"102": "1000.00", "301": "-1000.00"})
    books.close_through(2025, 2)
    db.session.commit()
    org_id, acc_id = books.org.id, books.accountant.id
    app = current_app._get_current_object()

    def write_draft():
        org, user = db.session.get(Organization, org_id), db.session.get(User, acc_id)
        vouchers.create_draft(org, {"date": dt.date(2025, 3, 10), "lines": [
            {"summary": "收现", "account_code": "101", "debit": Decimal("5.00"), "credit": Decimal("0")},
            {"summary": "收现", "account_code": "102", "debit": Decimal("0"), "credit": Decimal("5.00")},
        ]}, user=user)
        time.sleep(0.3)  # hold the transaction open while the close tries to run

    def close_march():
        time.sleep(0.05 * round_)
        org, user = db.session.get(Organization, org_id), db.session.get(User, acc_id)
        closing.close_period(org, 2025, 3, user=user, today=dt.date(2100, 1, 1))

    results = _run(app, {"draft": write_draft, "close": close_march})
    db.session.expire_all()
    closed = (2025, 3) in periods.closed_months(books.org)
    unposted = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(
        Voucher.organization_id == org_id, Voucher.month == 3, Voucher.status != "posted"))
    assert not (closed and unposted), results
    assert results["draft"] == "ok" or "已结账" in results["draft"]


def test_a_plan_cannot_be_posted_twice_at_once(app, books, pg_only):
    from coop.models import DistributionPlan
    from coop.services import distribution
    from tests.test_distribution import approve, build_year_2025, make_plan

    build_year_2025(books)
    plan = make_plan(books)
    approve(plan, books)
    db.session.commit()
    plan_id, acc_id = plan.id, books.accountant.id
    app = current_app._get_current_object()

    def post():
        p, user = db.session.get(DistributionPlan, plan_id), db.session.get(User, acc_id)
        distribution.post_plan(p, date=dt.date(2026, 1, 15), user=user)

    results = _run(app, {"a": post, "b": post})
    assert list(results.values()).count("ok") == 1, results
    assert any("不能重复记账" in r for r in results.values()), results
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(
        Voucher.kind == "distribution")) == 1
