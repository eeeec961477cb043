"""Loans and 贴息 claims through the whole flow, with hand-computed amounts."""
import datetime as dt
import threading
from decimal import Decimal

import pytest

from coop.core.errors import Forbidden, InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.models import SubsidyClaim
from coop.services import loans, orgs, users

D = Decimal


@pytest.fixture
def loan_books(books):
    books.lock_opening({"102": "100000.00", "301": "-100000.00"})
    policy = loans.set_policy(books.county, 2025, fund=D("10000.00"), user=books.county_admin)
    return books, worked_loan(books, "NS-2025-001"), policy


def worked_loan(books, contract_no: str):
    """The county's LPRs (3.1 % from 2024-12-20, 3.0 % from 2025-05-20) and a special loan of 1,000,000 at 4.2 %
    from 2025-01-01, 400,000 repaid on 2025-04-01, the half-year's interest 16,000 paid with its 结息单: worked
    by hand in tests/test_subsidy_core.py, 12,381.67 eligible at 100 %."""
    county = books.county
    loans.set_lpr(county, dt.date(2024, 12, 20), D("0.031"), user=books.county_admin)
    loans.set_lpr(county, dt.date(2025, 5, 20), D("0.030"), user=books.county_admin)
    loan = loans.create_loan(books.org, lender="农商银行", contract_no=contract_no, principal=D("1000000.00"),
                             annual_rate=D("0.042"), start_date=dt.date(2025, 1, 1), maturity_date=dt.date(2026, 1, 1),
                             special=True, user=books.accountant)
    loans.record_loan_event(loan, kind="drawdown", date=dt.date(2025, 1, 1), amount=D("1000000.00"),
                            user=books.accountant)
    loans.record_loan_event(loan, kind="repayment", date=dt.date(2025, 4, 1), amount=D("400000.00"),
                            user=books.accountant)
    loans.record_loan_event(loan, kind="interest", date=dt.date(2025, 7, 1), amount=D("16000.00"),
                            period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 7, 1), evidence="结息单0701",
                            user=books.accountant)
    db.session.commit()
    return loan


def file(books, loan, claimed="9000.00", start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1)):
    return loans.file_claim(books.org, loan, start=start, end=end, claimed=D(claimed), user=books.accountant)


def test_claim_amount_is_computed_line_by_line(loan_books):
    books, loan, policy = loan_books
    calc, _ = loans.compute_claim(loan, dt.date(2025, 1, 1), dt.date(2025, 7, 1))
    # 7,750.00 + 2,531.67 + 2,100.00 (see tests/test_subsidy_core.py)
    assert [p.amount for p in calc.periods] == [D("7750.00"), D("2531.67"), D("2100.00")]
    assert calc.eligible == D("12381.67")
    with pytest.raises(ValidationFailed, match="超出 0.01"):
        file(books, loan, claimed="12381.68")


def test_flow_filed_reviewed_approved_allocated_disbursed(loan_books):
    books, loan, policy = loan_books
    claim = file(books, loan, claimed="12381.67")
    with pytest.raises(Forbidden):
        loans.review_claim(claim, user=books.accountant, approve=True)
    loans.review_claim(claim, user=books.auditor, approve=True)
    loans.approve_claim(claim, user=books.county_admin)
    assert claim.status == "approved"
    shares = loans.run_allocation(policy, user=books.county_admin)
    # the fund (10,000) is smaller than the one claim: it gets the whole fund
    assert shares == {claim.id: D("10000.00")}
    v = loans.disburse_claim(claim, date=dt.date(2025, 8, 1), user=books.county_admin)
    assert [(l.account.code, l.debit, l.credit) for l in v.lines] == [
        ("102", D("10000.00"), D("0.00")), ("503", D("0.00"), D("10000.00"))]
    assert loans.fund_summary(policy)["left"] == D("0.00")


def test_rejected_claim_corrected_and_refiled(loan_books):
    books, loan, policy = loan_books
    claim = file(books, loan)
    with pytest.raises(ValidationFailed, match="原因"):
        loans.review_claim(claim, user=books.auditor, approve=False)
    loans.review_claim(claim, user=books.auditor, approve=False, reason="结息单不清晰")
    assert claim.status == "rejected" and claim.reject_reason == "结息单不清晰"
    loans.file_claim(books.org, loan, start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1), claimed=D("8000.00"),
                     user=books.accountant, claim=claim)
    assert claim.status == "filed" and claim.claimed == D("8000.00")


def test_bad_claims_refused(loan_books):
    books, loan, policy = loan_books
    file(books, loan)
    with pytest.raises(ValidationFailed, match="重叠"):
        file(books, loan, start=dt.date(2025, 6, 1), end=dt.date(2025, 7, 1))
    with pytest.raises(ValidationFailed, match="贷款期限"):
        file(books, loan, start=dt.date(2024, 12, 1), end=dt.date(2025, 1, 1))
    plain = loans.create_loan(books.org, lender="建行", contract_no="JH-1", principal=D("1000.00"),
                              annual_rate=D("0.04"), start_date=dt.date(2025, 1, 1),
                              maturity_date=dt.date(2025, 12, 31), user=books.accountant)
    with pytest.raises(ValidationFailed, match="专项贷款"):
        file(books, plain)
    books.org.cun_she_he_yi = False
    with pytest.raises(ValidationFailed, match="村社合一"):
        file(books, loan, start=dt.date(2025, 7, 1), end=dt.date(2025, 9, 1))
    with pytest.raises(ValidationFailed, match="结息单"):
        loans.record_loan_event(loan, kind="interest", date=dt.date(2025, 9, 1), amount=D("1.00"),
                                period_start=dt.date(2025, 7, 1), period_end=dt.date(2025, 9, 1), evidence="",
                                user=books.accountant)
    with pytest.raises(ValidationFailed, match="不合理"):
        loans.create_loan(books.org, lender="x", contract_no="X-1", principal=D("1"), annual_rate=D("0.9"),
                          start_date=dt.date(2025, 1, 1), maturity_date=dt.date(2025, 2, 1), user=books.accountant)


def test_first_come_refuses_beyond_the_fund(loan_books):
    books, loan, policy = loan_books
    loans.set_policy(books.county, 2025, fund=D("10000.00"), rule="first_come", user=books.county_admin)
    claim = file(books, loan, claimed="12000.00")
    loans.review_claim(claim, user=books.auditor, approve=True)
    with pytest.raises(ValidationFailed, match="超出 2,000.00"):
        loans.approve_claim(claim, user=books.county_admin)


def test_two_approvers_at_once_cannot_overspend(loan_books, backend):
    if backend != "postgresql":
        pytest.skip("row locks are what is tested; SQLite serialises writers anyway")
    books, loan, policy = loan_books
    loans.set_policy(books.county, 2025, fund=D("10000.00"), rule="first_come", user=books.county_admin)
    second = orgs.create_organization(books.township, name="西村", books_start_year=2025, cun_she_he_yi=True)
    users.assign_role(books.accountant, "accountant", second)
    from coop.services import opening

    opening.lock_opening_balances(second, user=books.accountant)
    loan2 = loans.create_loan(second, lender="农商银行", contract_no="NS-2", principal=D("1000000.00"),
                              annual_rate=D("0.042"), start_date=dt.date(2025, 1, 1),
                              maturity_date=dt.date(2026, 1, 1), special=True, user=books.accountant)
    loans.record_loan_event(loan2, kind="drawdown", date=dt.date(2025, 1, 1), amount=D("1000000.00"),
                            user=books.accountant)
    loans.record_loan_event(loan2, kind="interest", date=dt.date(2025, 7, 1), amount=D("20000.00"),
                            period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 7, 1), evidence="结息单",
                            user=books.accountant)
    c1 = file(books, loan, claimed="6000.00")
    c2 = loans.file_claim(second, loan2, start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1), claimed=D("6000.00"),
                          user=books.accountant)
    for c in (c1, c2):
        loans.review_claim(c, user=books.auditor, approve=True)
    admin2 = users.create_user("xian2", "县管理员二", "password1")
    users.assign_role(admin2, "county_admin", books.county)
    db.session.commit()
    ids = {c1.id: books.county_admin.id, c2.id: admin2.id}
    barrier, results = threading.Barrier(2), {}
    from flask import current_app

    app = current_app._get_current_object()

    def approve(claim_id, user_id):
        with app.app_context():
            from coop.models import User

            claim, user = db.session.get(SubsidyClaim, claim_id), db.session.get(User, user_id)
            barrier.wait()
            try:
                loans.approve_claim(claim, user=user)
                db.session.commit()
                results[claim_id] = "ok"
            except (ValidationFailed, InvalidState) as exc:
                db.session.rollback()
                results[claim_id] = exc.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(cid, uid)) for cid, uid in ids.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = sorted(results.values(), key=lambda r: r != "ok")
    assert outcomes[0] == "ok" and "超出 2,000.00" in outcomes[1], results
    db.session.expire_all()
    assert loans.committed_amount(policy) == D("6000.00")


def test_a_year_without_a_county_policy_runs_on_the_rules_defaults(books):
    """RULES §9's defaults (fund 5,000,000.00, LPR × 1.0, 100 %, no cap, pro-rata) hold for a year the county has
    not set: a preview writes nothing, the first claim saves the defaults, and the allocation pays it whole."""
    import sqlalchemy as sa

    from coop.models import SubsidyPolicy

    county = books.county
    loan = worked_loan(books, "NS-2025-009")
    calc, policy = loans.compute_claim(loan, dt.date(2025, 1, 1), dt.date(2025, 7, 1))
    # LPR 3.1 % then 3.0 % (the cap, below the loan's 4.2 %), on 1,000,000 then 600,000: 7,750.00 + 2,531.67 + 2,100.00
    assert calc.eligible == D("12381.67") and policy.id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubsidyPolicy)) == 0
    claim = file(books, loan, claimed="12381.67")
    db.session.commit()
    saved = db.session.scalar(sa.select(SubsidyPolicy).where(SubsidyPolicy.county_id == county.id,
                                                             SubsidyPolicy.year == 2025))
    assert (saved.fund, saved.lpr_multiple, saved.share, saved.org_cap, saved.rule) == (
        D("5000000.00"), D("1"), D("1"), None, "pro_rata")
    assert claim.policy_id == saved.id
    loans.review_claim(claim, user=books.auditor, approve=True)
    loans.approve_claim(claim, user=books.county_admin)
    assert loans.run_allocation(saved, user=books.county_admin) == {claim.id: D("12381.67")}


def test_a_claim_filed_on_the_defaults_is_not_paid_beyond_the_policy_the_county_sets_later(books):
    """The first claim saves RULES §9's defaults (100 %, LPR × 1.0): 12,381.67 asked. The county then sets its
    own 2025 policy, 50 %: the same working gives 3,875.00 + 1,265.83 (2,531.67 ÷ 2 = 1,265.835 → per period
    600,000 × 3.1 % × 50 % × 49 ÷ 360 = 1,265.83) + 1,050.00 = 6,190.83. The county cannot approve the claim for
    12,381.67 under that policy; it sends it back and the village refiles within 6,190.83. Once a claim is
    approved, the parameters it was worked on no longer change."""
    county = books.county
    loan = worked_loan(books, "NS-2025-010")
    claim = file(books, loan, claimed="12381.67")
    policy = loans.set_policy(county, 2025, share=D("0.5"), user=books.county_admin)
    db.session.commit()
    loans.review_claim(claim, user=books.auditor, approve=True)
    db.session.commit()
    with pytest.raises(ValidationFailed, match="6,190.83"):
        loans.approve_claim(claim, user=books.county_admin)
    loans.approve_claim(claim, user=books.county_admin, approve=False, reason="按县定贴息比例50%重新申报")
    claim = loans.file_claim(books.org, loan, start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1), claimed=D("6190.83"),
                             user=books.accountant, claim=claim)
    loans.review_claim(claim, user=books.auditor, approve=True)
    loans.approve_claim(claim, user=books.county_admin)
    db.session.commit()
    with pytest.raises(InvalidState, match="已有批准的申报"):
        loans.set_policy(county, 2025, share=D("1"), user=books.county_admin)
    loans.set_policy(county, 2025, fund=D("6000.00"), share=D("0.5"), user=books.county_admin)  # the fund may change
    assert loans.run_allocation(policy, user=books.county_admin) == {claim.id: D("6000.00")}


def test_the_defaults_saved_with_a_claim_do_not_seal_the_audit_of_an_open_transaction(books):
    """The first claim of a year saves the defaults inside the request's transaction, after other audited writes
    (the loan and its interest here). Saving them must not end a savepoint: SQLAlchemy fires after_commit on a
    savepoint's release, and the audit sealer would then run on a second connection while this one holds the
    write lock (SQLite: "database is locked"), or seal nothing and drop the mark (PostgreSQL: the transaction's
    audit rows left unsealed). After the commit every audit row is sealed."""
    import sqlalchemy as sa

    from coop.models import AuditLog, SubsidyPolicy

    county = books.county
    loans.set_lpr(county, dt.date(2024, 12, 20), D("0.031"), user=books.county_admin)
    db.session.commit()
    loan = loans.create_loan(books.org, lender="农商银行", contract_no="NS-2025-011", principal=D("600000.00"),
                             annual_rate=D("0.042"), start_date=dt.date(2025, 1, 1), maturity_date=dt.date(2026, 1, 1),
                             special=True, user=books.accountant)
    loans.record_loan_event(loan, kind="drawdown", date=dt.date(2025, 1, 1), amount=D("600000.00"),
                            user=books.accountant)
    loans.record_loan_event(loan, kind="interest", date=dt.date(2025, 4, 1), amount=D("6300.00"),
                            period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 4, 1), evidence="结息单0401",
                            user=books.accountant)
    # 600,000 × 3.1 % × 90 ÷ 360 = 4,650.00, below the 6,300.00 paid
    claim = file(books, loan, claimed="4650.00", end=dt.date(2025, 4, 1))
    db.session.commit()
    assert db.session.scalar(sa.select(SubsidyPolicy.share).where(SubsidyPolicy.id == claim.policy_id)) == D("1")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.seq.is_(None))) == 0


def test_two_villages_filing_the_first_claims_of_a_year_at_once_share_one_saved_policy(books, backend):
    """No 2025 policy yet: two villages file at once, each saving RULES §9's defaults with its claim. One row is
    saved, both claims stand on it (600,000 × 3.1 % × 90 ÷ 360 = 4,650.00 each), nobody gets an error."""
    import sqlalchemy as sa
    from flask import current_app

    from coop.models import SubsidyPolicy
    from coop.services import opening

    loans.set_lpr(books.county, dt.date(2024, 12, 20), D("0.031"), user=books.county_admin)
    second = orgs.create_organization(books.township, name="西村", books_start_year=2025, cun_she_he_yi=True)
    users.assign_role(books.accountant, "accountant", second)
    opening.lock_opening_balances(second, user=books.accountant)
    made = []
    for org, no in ((books.org, "NS-A"), (second, "NS-B")):
        loan = loans.create_loan(org, lender="农商银行", contract_no=no, principal=D("600000.00"),
                                 annual_rate=D("0.042"), start_date=dt.date(2025, 1, 1),
                                 maturity_date=dt.date(2026, 1, 1), special=True, user=books.accountant)
        loans.record_loan_event(loan, kind="drawdown", date=dt.date(2025, 1, 1), amount=D("600000.00"),
                                user=books.accountant)
        loans.record_loan_event(loan, kind="interest", date=dt.date(2025, 4, 1), amount=D("6300.00"),
                                period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 4, 1), evidence="结息单",
                                user=books.accountant)
        made.append((org.id, loan.id))
    db.session.commit()
    app, user_id = current_app._get_current_object(), books.accountant.id
    barrier, errors = threading.Barrier(2), []

    def file_one(org_id, loan_id):
        with app.app_context():
            from coop.models import Loan, Organization, User

            try:
                barrier.wait(timeout=30)
                loans.file_claim(db.session.get(Organization, org_id), db.session.get(Loan, loan_id),
                                 start=dt.date(2025, 1, 1), end=dt.date(2025, 4, 1), claimed=D("4650.00"),
                                 user=db.session.get(User, user_id))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=file_one, args=pair) for pair in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert errors == []
    db.session.expire_all()
    policies = db.session.scalars(sa.select(SubsidyPolicy.id)).all()
    claims = db.session.execute(sa.select(SubsidyClaim.policy_id, SubsidyClaim.claimed)).all()
    assert len(policies) == 1 and sorted(claims) == [(policies[0], D("4650.00"))] * 2


def test_the_rule_and_the_fund_stay_within_what_is_already_committed(loan_books):
    """Fund 10,000.00, first come: the claim of 6,000.00 is committed on approval. Switched to pro-rata, the
    allocation would split the whole 10,000.00 again over the next claims (6,000 + 8,000 committed > 10,000), and
    a fund cut to 5,000.00 would sit below the 6,000.00 already committed: both are refused, the rule while any
    claim is approved or funded, the fund below what is committed (by 1,000.00)."""
    books, loan, policy = loan_books
    loans.set_policy(books.county, 2025, fund=D("10000.00"), rule="first_come", user=books.county_admin)
    claim = file(books, loan, claimed="6000.00")
    loans.review_claim(claim, user=books.auditor, approve=True)
    loans.approve_claim(claim, user=books.county_admin)
    db.session.commit()
    assert (claim.status, loans.committed_amount(policy)) == ("allocated", D("6000.00"))
    with pytest.raises(InvalidState, match="已有批准的申报"):
        loans.set_policy(books.county, 2025, fund=D("10000.00"), rule="pro_rata", user=books.county_admin)
    with pytest.raises(ValidationFailed, match="少 1,000.00"):
        loans.set_policy(books.county, 2025, fund=D("5000.00"), rule="first_come", user=books.county_admin)
    loans.set_policy(books.county, 2025, fund=D("6000.00"), rule="first_come", user=books.county_admin)
    db.session.commit()
    assert (policy.fund, policy.rule) == (D("6000.00"), "first_come")
