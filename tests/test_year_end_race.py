"""Two distributions of the same money at once (RULES §7): each reads what is there and then writes, so posting
holds the books lock first — of two 补充分配 that each fit alone but not together, one posts and the other is
refused with the amounts (PostgreSQL; SQLite serialises writers anyway)."""
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import current_app

from coop.core.extensions import db
from coop.models import DistributionPlan, User, Voucher
from coop.services import distribution, reports
from tests.test_concurrency_close import _run, pg_only  # noqa: F401  (fixture)
from tests.test_distribution import approve, build_year_2025

D = Decimal


def test_two_plans_of_the_same_money_at_once_one_is_refused_with_the_amounts(app, books, pg_only):
    build_year_2025(books)  # 可分配收益 190,000; reserve 57,000; 133,000 left
    ids = []
    for name in ("甲", "乙"):
        plan = distribution.create_plan(books.org, year=2025, name=name, record_date=dt.date(2025, 12, 31),
                                        member_pool=D("100000.00"), supplementary=True, user=books.accountant)
        approve(plan, books)
        ids.append(plan.id)
    db.session.commit()
    acc_id = books.accountant.id
    app = current_app._get_current_object()

    def post(plan_id):
        def run():
            p, user = db.session.get(DistributionPlan, plan_id), db.session.get(User, acc_id)
            distribution.post_plan(p, date=dt.date(2026, 1, 15), user=user)
        return run

    results = _run(app, {"a": post(ids[0]), "b": post(ids[1])})
    assert list(results.values()).count("ok") == 1, results
    refusal = next(r for r in results.values() if r != "ok")
    # the second sees the first: 190,000 − 157,000 booked = 33,000; no reserve left to take; 100,000 is 67,000 too much
    assert "向成员分配 100,000.00 超过可分配余额 33,000.00，超出 67,000.00" in refusal, refusal
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(
        Voucher.kind == "distribution")) == 1
    assert sum((b for c, b in reports.leaf_balances(books.org).items() if c.startswith("322")), D(0)) == D("-33000.00")
