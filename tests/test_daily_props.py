"""Property: whatever drafts (dates, preparers) and whatever order of 成批审核 / 成批记账 by whichever user, every
voucher of a batch is either done or skipped with a reason, nobody reviews their own, reviewed numbers are 1…k
without a gap, and within one batch they follow the dates."""
import datetime as dt
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop.core.extensions import db
from coop.models import Voucher
from coop.services import batch, opening, orgs, users, vouchers

_SERIAL = itertools.count()
DRAFT = st.tuples(st.integers(1, 28), st.booleans())  # (day of March, prepared by the user who also reviews)
STEP = st.tuples(st.sampled_from(["review", "post"]), st.booleans())  # (step, done by the user who also prepares)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(drafts=st.lists(DRAFT, min_size=1, max_size=8), steps=st.lists(STEP, min_size=1, max_size=5))
def test_batches_never_review_their_own_and_number_without_gaps(books, drafts, steps):
    n = next(_SERIAL)
    org = orgs.create_organization(books.township, name=f"村{n}", books_start_year=2025)
    both = users.create_user(f"both{n}", "兼职", "password1")
    for role in ("accountant", "reviewer"):
        users.assign_role(both, role, org)
    users.assign_role(books.reviewer, "reviewer", org)
    users.assign_role(books.accountant, "accountant", org)
    opening.lock_opening_balances(org, user=books.accountant)
    for day, by_both in drafts:
        vouchers.create_draft(org, {"date": dt.date(2025, 3, day), "lines": [
            {"summary": "x", "account_code": "101", "debit": Decimal(day), "credit": Decimal(0)},
            {"summary": "x", "account_code": "102", "debit": Decimal(0), "credit": Decimal(day)}]},
            user=both if by_both else books.accountant)
    for step, by_both in steps:
        user = both if by_both else (books.reviewer if step == "review" else books.accountant)
        chosen = batch.candidates(org, step, year=2025, month=3)
        result = batch.run(org, step, user, chosen)
        done, skipped = [v.id for v in result.done], [s.voucher.id for s in result.skipped]
        assert sorted(done + skipped) == sorted(v.id for v in chosen)  # each once, done or skipped
        assert all(s.reason for s in result.skipped)
        if step == "review":
            assert all(v.reviewer_id == user.id != v.preparer_id for v in result.done)
            assert [v.number for v in result.done] == sorted(v.number for v in result.done)
            assert [v.date for v in result.done] == sorted(v.date for v in result.done)
    rows = db.session.query(Voucher).filter(Voucher.organization_id == org.id).all()
    numbers = sorted(v.number for v in rows if v.number is not None)
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(v.reviewer_id != v.preparer_id for v in rows if v.reviewer_id)
    assert all(v.status == "draft" or v.number for v in rows)
    db.session.commit()
