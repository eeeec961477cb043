"""Batch steps and monthly generation under real concurrency (threads, each with its own session and connection,
released together): two reviewers batch-reviewing the same month give every voucher one gapless number, and each
voucher is reviewed by exactly one of them; two generations of the same month make one draft. On PostgreSQL the
row locks are what is tested; SQLite serializes writers and must give the same result."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import User, Voucher, VoucherTemplate, VoucherTemplateRun
from coop.services import batch, users
from coop.services import voucher_templates as templates
from tests.test_concurrency import run_together


@pytest.fixture
def file_db(backend, app):
    if backend == "sqlite" and app.config["SQLALCHEMY_DATABASE_URI"] in ("sqlite://", "sqlite:///:memory:"):
        pytest.skip("an in-memory SQLite database is one connection: no concurrency to test")


class BatchReview:
    def __init__(self, org_id, reviewer_id):
        self.org_id, self.reviewer_id = org_id, reviewer_id

    def prepare(self):
        from coop.models import Organization

        org, user = db.session.get(Organization, self.org_id), db.session.get(User, self.reviewer_id)
        return org, user, batch.candidates(org, "review", year=2025, month=3)

    def run(self, prepared):
        org, user, chosen = prepared
        result = batch.run(org, "review", user, chosen)
        return [v.id for v in result.done], [(s.voucher.id, str(s.reason)) for s in result.skipped]


@pytest.mark.parametrize("round_", range(2))
def test_two_batch_reviews_of_one_month(app, books, file_db, round_):
    books.lock_opening()
    second = users.create_user("shenhe2", "审核二", "password1")
    users.assign_role(second, "reviewer", books.org)
    drafts = [books.draft(f"2025-03-{i + 1:02d}", ("101", f"{i + 1}.00", ""), ("102", "", f"{i + 1}.00"))
              for i in range(6)]
    db.session.commit()
    results, errors = run_together(app, [BatchReview(books.org.id, books.reviewer.id),
                                         BatchReview(books.org.id, second.id)])
    assert errors == {}
    done = results[0][0] + results[1][0]
    assert sorted(done) == sorted(d.id for d in drafts)  # each reviewed once, by one of them
    skipped = results[0][1] + results[1][1]
    assert {why for _, why in skipped} <= {"不是待审核的凭证", "只有未审核的凭证可以审核"}
    assert len(skipped) == 6  # what one did, the other found done
    db.session.rollback()
    numbers = db.session.execute(sa.select(Voucher.number).where(Voucher.month == 3)
                                 .order_by(Voucher.number)).scalars().all()
    assert numbers == [1, 2, 3, 4, 5, 6]


class Generate:
    def __init__(self, org_id, user_id):
        self.org_id, self.user_id = org_id, user_id

    def prepare(self):
        from coop.models import Organization

        return db.session.get(Organization, self.org_id), db.session.get(User, self.user_id)

    def run(self, prepared):
        org, user = prepared
        made, done = templates.generate_month(org, 2025, 2, user=user)
        return len(made), done


def test_two_generations_of_one_month_make_one_draft(app, books, file_db):
    books.lock_opening({"102": "10000.00", "301": "-10000.00"})
    rent = books.post("2025-01-31", ("102", "1500.00", ""), ("501", "", "1500.00"), summary="房租")
    templates.save_template(books.org, name="房租", voucher=rent, monthly=True, user=books.accountant)
    db.session.commit()
    results, errors = run_together(app, [Generate(books.org.id, books.accountant.id)] * 2)
    assert errors == {}
    assert sorted(n for n, _ in results.values()) == [0, 1]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoucherTemplateRun)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.month == 2)) == 1
    assert db.session.scalar(sa.select(VoucherTemplate.name)) == "房租"
    assert dt.date(2025, 2, 28) == db.session.scalar(sa.select(Voucher.date).where(Voucher.month == 2))
