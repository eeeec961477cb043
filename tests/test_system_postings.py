"""Every system posting path of issue #14 (loan events, 贴息 disbursement and receipt, 飞地抱团 contribution, return,
receipt and exit, buy-back) in a village whose 101, 102, 112, 141, 201, 211, 212, 311, 502, 503 and 515 all have
明细科目, once in a 2-2-2 county and once in a legacy 3-3 county (tests.realbooks.real_books); and the refusals
(unmapped role, non-leaf) as a 4xx naming the field, with nothing written."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.ledger import roles as R
from coop.models import LoanEvent, PostingRoleMapping, ProjectContribution, ShareAction, Voucher
from coop.services import joint, loans, members, orgs, reports, roles, shares, users, vouchers
from tests.conftest import count
from tests.realbooks import real_books, with_sub_accounts  # noqa: F401  (fixture)
from tests.test_shares import BASE, IDS, TODAY

D = Decimal


def entry(v: Voucher) -> list[tuple[str, Decimal, Decimal, str | None]]:
    return [(l.account.code, l.debit, l.credit, l.counterparty) for l in v.lines]


def post(v: Voucher, books, poster=None):
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=poster or books.accountant)


def _loan(books):
    county = books.county
    loans.set_lpr(county, dt.date(2024, 12, 20), D("0.031"), user=books.county_admin)
    loans.set_lpr(county, dt.date(2025, 5, 20), D("0.030"), user=books.county_admin)
    policy = loans.set_policy(county, 2025, fund=D("10000.00"), user=books.county_admin)
    loan = loans.create_loan(books.org, lender="农商银行", contract_no="NS-2025-001", principal=D("1000000.00"),
                             annual_rate=D("0.042"), start_date=dt.date(2025, 1, 1),
                             maturity_date=dt.date(2026, 1, 1), special=True, user=books.accountant)
    return loan, policy


def test_loan_events_post_to_the_mapped_leaves(real_books):
    b = real_books
    bank1, bank2, loan_leaf, interest = b.leaf("102", 1), b.leaf("102", 2), b.leaf("201", 1), b.leaf("515", 1)
    loan, _ = _loan(b)
    assert loan.account_code == loan_leaf and loan.bank_account is None
    e1 = loans.record_loan_event(loan, kind="drawdown", date=dt.date(2025, 1, 1), amount=D("1000000.00"),
                                 user=b.accountant)
    v1 = db.session.get(Voucher, e1.voucher_id)
    assert entry(v1) == [(bank1, D("1000000.00"), D("0.00"), "农商银行"), (loan_leaf, D("0.00"), D("1000000.00"), "农商银行")]
    assert v1.preparer_id == b.accountant.id and v1.status == "draft"
    # repaid from the second bank account: chosen on the form, remembered for the next event
    e2 = loans.record_loan_event(loan, kind="repayment", date=dt.date(2025, 4, 1), amount=D("400000.00"),
                                 bank_account=bank2, user=b.accountant)
    assert entry(db.session.get(Voucher, e2.voucher_id)) == [
        (loan_leaf, D("400000.00"), D("0.00"), "农商银行"), (bank2, D("0.00"), D("400000.00"), "农商银行")]
    assert loan.bank_account == bank2
    e3 = loans.record_loan_event(loan, kind="interest", date=dt.date(2025, 7, 1), amount=D("16000.00"),
                                 period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 7, 1),
                                 evidence="结息单0701", user=b.accountant)
    assert entry(db.session.get(Voucher, e3.voucher_id)) == [
        (interest, D("16000.00"), D("0.00"), "农商银行"), (bank2, D("0.00"), D("16000.00"), "农商银行")]
    for e in (e1, e2, e3):
        post(db.session.get(Voucher, e.voucher_id), b)
    bal = reports.leaf_balances(b.org)
    # 5,000,000 + 1,000,000 in the first account; 400,000 + 16,000 out of the second
    assert bal[bank1] == D("6000000.00") and bal[bank2] == D("-416000.00")
    assert bal[loan_leaf] == D("-600000.00") and bal[interest] == D("16000.00")
    assert reports.trial_balance(b.org, 2025, 1, 12).balanced


def test_subsidy_disbursement_waits_for_the_village_and_posts_to_503_detail(real_books):
    b = real_books
    loan, policy = _loan(b)
    loans.record_loan_event(loan, kind="drawdown", date=dt.date(2025, 1, 1), amount=D("1000000.00"), user=b.accountant)
    loans.record_loan_event(loan, kind="repayment", date=dt.date(2025, 4, 1), amount=D("400000.00"), user=b.accountant)
    loans.record_loan_event(loan, kind="interest", date=dt.date(2025, 7, 1), amount=D("16000.00"),
                            period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 7, 1), evidence="结息单",
                            user=b.accountant)
    claim = loans.file_claim(b.org, loan, start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1),
                             claimed=D("12381.67"), user=b.accountant)
    loans.review_claim(claim, user=b.auditor, approve=True)
    loans.approve_claim(claim, user=b.county_admin)
    assert loans.run_allocation(policy, user=b.county_admin) == {claim.id: D("10000.00")}
    v = loans.disburse_claim(claim, date=dt.date(2025, 8, 1), user=b.county_admin)
    assert entry(v) == [(b.leaf("102", 1), D("10000.00"), D("0.00"), None),
                        (b.leaf("503", 1), D("0.00"), D("10000.00"), "贴息")]
    # four eyes: prepared in the county admin's name, a draft for the village's reviewer
    assert v.preparer_id == b.county_admin.id and v.status == "draft"
    post(v, b)
    assert reports.leaf_balances(b.org)[b.leaf("503", 1)] == D("-10000.00")


def test_subsidy_disbursement_may_post_directly_where_the_village_allows(real_books):
    b = real_books
    b.org.county_may_post = True
    loan, policy = _loan(b)
    loans.record_loan_event(loan, kind="interest", date=dt.date(2025, 7, 1), amount=D("16000.00"),
                            period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 7, 1), evidence="结息单",
                            user=b.accountant)
    loans.record_loan_event(loan, kind="drawdown", date=dt.date(2025, 1, 1), amount=D("1000000.00"), user=b.accountant)
    claim = loans.file_claim(b.org, loan, start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1), claimed=D("5000.00"),
                             user=b.accountant)
    loans.review_claim(claim, user=b.auditor, approve=True)
    loans.approve_claim(claim, user=b.county_admin)
    loans.run_allocation(policy, user=b.county_admin)
    v = loans.disburse_claim(claim, date=dt.date(2025, 8, 1), user=b.county_admin, bank_account=b.leaf("102", 2))
    assert v.status == "posted" and v.reviewer_id == v.poster_id == b.county_admin.id
    assert entry(v)[0] == (b.leaf("102", 2), D("5000.00"), D("0.00"), None)


@pytest.fixture
def joint_books(real_books):
    b = real_books
    operator = orgs.create_organization(b.township, name="强村公司", kind="joint_company", books_start_year=2025)
    users.assign_role(b.accountant, "accountant", operator)
    users.assign_role(b.reviewer, "reviewer", operator)
    with_sub_accounts(operator, b.accountant)
    # the operator earns what it pays out (a distribution may not leave 未分配收益 in debit)
    v = vouchers.create_draft(operator, {"date": dt.date(2025, 6, 30), "lines": [
        {"summary": "厂房租金", "account_code": operator.code_scheme.child("102", 1), "debit": D("150000.00"),
         "credit": D(0)},
        {"summary": "厂房租金", "account_code": "501", "debit": D(0), "credit": D("150000.00")}]}, user=b.accountant)
    post(v, b)
    p = joint.create_project(b.county, name="城东标准厂房", operator_org_id=operator.id, guarantor="县城投公司",
                             start_date=dt.date(2025, 1, 1), fixed_rate=D("0.08"), user=b.county_admin)
    part = joint.add_participant(p, b.org, user=b.county_admin)
    db.session.commit()
    return b, p, part, operator


def _drafts(org):
    return list(db.session.scalars(sa.select(Voucher).where(Voucher.organization_id == org.id,
                                                            Voucher.status == "draft").order_by(Voucher.id)))


def test_joint_contribution_return_receipt_and_exit_on_both_sides(joint_books):
    b, p, part, op = joint_books
    village, admin = b.org, b.county_admin
    lf = lambda org, top, n: org.code_scheme.child(top, n)  # noqa: E731
    dist_members = roles.resolve(op, R.DIST_MEMBERS)
    assert dist_members == ("3220103" if b.org.code_scheme.key == "2-2-2" else "322001003")

    joint.contribute(p, part, kind="cash", amount=D("1000000.00"), date=dt.date(2025, 1, 1), user=admin)
    (vv,), (ov,) = _drafts(village), _drafts(op)
    assert entry(vv) == [(lf(village, "141", 2), D("1000000.00"), D("0.00"), "城东标准厂房"),
                         (lf(village, "102", 1), D("0.00"), D("1000000.00"), None)]
    assert entry(ov) == [(lf(op, "102", 1), D("1000000.00"), D("0.00"), None),
                         ("301", D("0.00"), D("1000000.00"), village.name)]
    # prepared by the county admin who acted; they wait for each organization's reviewer
    assert vv.preparer_id == ov.preparer_id == admin.id
    for v in (vv, ov):
        post(v, b)

    # 2025: fixed 1,000,000 × 8% × 365/365 = 80,000; the profit beyond it (20,000) is all this village's
    ret = joint.declare_return(p, year=2025, profit=D("100000.00"), date=dt.date(2025, 12, 31), user=admin)
    (line,) = ret.lines
    assert (line.fixed, line.profit_part, line.total) == (D("80000.00"), D("20000.00"), D("100000.00"))
    (vv,), (ov,) = _drafts(village), _drafts(op)
    assert entry(vv) == [(lf(village, "112", 1), D("100000.00"), D("0.00"), "城东标准厂房"),
                         (lf(village, "502", 2), D("0.00"), D("100000.00"), None)]
    assert entry(ov) == [(dist_members, D("100000.00"), D("0.00"), None),
                         (lf(op, "211", 1), D("0.00"), D("100000.00"), village.name)]
    for v in (vv, ov):
        post(v, b)

    joint.receive_return(line, date=dt.date(2026, 1, 10), user=admin, bank_account=lf(village, "102", 2))
    (vv,), (ov,) = _drafts(village), _drafts(op)
    assert entry(vv) == [(lf(village, "102", 2), D("100000.00"), D("0.00"), None),
                         (lf(village, "112", 1), D("0.00"), D("100000.00"), "城东标准厂房")]
    assert entry(ov) == [(lf(op, "211", 1), D("100000.00"), D("0.00"), village.name),
                         (lf(op, "102", 1), D("0.00"), D("100000.00"), None)]
    for v in (vv, ov):
        post(v, b)
    assert part.bank_account is None  # a receipt's account is not the contribution's

    joint.exit_participant(p, part, date=dt.date(2026, 6, 30), user=admin)
    (vv,), (ov,) = _drafts(village), _drafts(op)
    assert entry(vv) == [(lf(village, "102", 1), D("1000000.00"), D("0.00"), None),
                         (lf(village, "141", 2), D("0.00"), D("1000000.00"), "城东标准厂房")]
    assert entry(ov) == [("301", D("1000000.00"), D("0.00"), village.name),
                         (lf(op, "102", 1), D("0.00"), D("1000000.00"), None)]
    for v in (vv, ov):
        post(v, b)
    rows = joint.reconciliation(p)
    assert rows and all(r.difference == 0 for r in rows)
    bal = reports.leaf_balances(village)
    assert bal[lf(village, "502", 2)] == D("-100000.00") and lf(village, "141", 2) not in bal
    for o in (village, op):
        assert reports.trial_balance(o, 2026, 1, 12).balanced


def test_joint_refusal_names_the_village_and_writes_nothing_anywhere(joint_books):
    b, p, part, op = joint_books
    roles.set_mapping(b.org, R.BANK, None, user=b.accountant)  # 102 has sub-accounts: the role cannot resolve
    db.session.commit()
    before = count(Voucher), count(ProjectContribution)
    with pytest.raises(ValidationFailed) as e:
        joint.contribute(p, part, kind="cash", amount=D("1.00"), date=dt.date(2025, 1, 1), user=b.county_admin)
    assert e.value.message.startswith(b.org.name) and "银行存款" in e.value.message and "科目对照" in e.value.message
    assert "bank_account" in e.value.errors
    db.session.rollback()
    assert (count(Voucher), count(ProjectContribution)) == before
    # a non-leaf chosen for the operator: refused at its field
    with pytest.raises(ValidationFailed) as e:
        joint.contribute(p, part, kind="cash", amount=D("1.00"), date=dt.date(2025, 1, 1), user=b.county_admin,
                         bank_account=b.leaf("102", 1), operator_bank_account="102")
    assert "operator_bank_account" in e.value.errors and "强村公司" in e.value.message
    db.session.rollback()
    assert (count(Voucher), count(ProjectContribution)) == before


def test_buy_back_pays_from_the_chosen_leaf(real_books):
    b = real_books
    org = b.org
    h1, h2 = members.create_household(org), members.create_household(org)
    people = [members.add_member(h1, name="张大山", id_number=IDS[0], relation="户主"),
              members.add_member(h2, name="李四", id_number=IDS[3], relation="户主")]
    for m in people:
        members.record_membership_event(m, "confirmed", date=dt.date(2024, 6, 1), evidence="决议", user=b.accountant,
                                        today=TODAY)
    plan = shares.create_plan(org, name="折股量化", base_date=BASE, net_assets=D("200000.00"),
                              rules={"population_units": "10", "labour_units_per_year": "0", "labour_cap_years": 0,
                                     "collective_ratio": "0"}, approval_ref="决议", user=b.accountant)
    shares.issue_plan(plan, user=b.accountant)
    # 5% of 20 units = 1 unit a year
    action = shares.buy_back(org, member_id=people[1].id, share_class="population", units=D("0.5"),
                             price=D("10000.00"), date=dt.date(2025, 6, 1), reference="退出申请", user=b.accountant,
                             pay_from=b.leaf("101", 2), today=TODAY)
    v = db.session.get(Voucher, action.voucher_id)
    assert entry(v) == [("301", D("10000.00"), D("0.00"), "李四"), (b.leaf("101", 2), D("0.00"), D("10000.00"), None)]
    db.session.commit()
    before = count(ShareAction), count(Voucher)
    with pytest.raises(ValidationFailed) as e:
        shares.buy_back(org, member_id=people[0].id, share_class="population", units=D("0.5"), price=D("1.00"),
                        date=dt.date(2025, 6, 2), reference="退出申请", user=b.accountant, pay_from="101",
                        today=TODAY)
    assert "pay_from" in e.value.errors
    db.session.rollback()
    assert (count(ShareAction), count(Voucher)) == before


def test_api_refuses_an_unmapped_role_and_a_non_leaf_with_nothing_written(client, real_books, auth):
    b = real_books
    loan, _ = _loan(b)
    roles.set_mapping(b.org, R.INTEREST_EXPENSE, None, user=b.accountant)
    db.session.commit()
    h = auth.headers(b.accountant)
    url = f"/api/v1/orgs/{b.org.id}/loans/{loan.id}/events"
    before = count(LoanEvent), count(Voucher), count(PostingRoleMapping)
    r = client.post(url, json={"kind": "drawdown", "date": "2025-01-02", "amount": "100.00", "bank_account": "102"},
                    headers=h)
    assert r.status_code == 422 and "有下级科目" in r.get_json()["errors"]["bank_account"][0]
    r = client.post(url, json={"kind": "interest", "date": "2025-07-01", "amount": "100.00", "evidence": "结息单",
                               "period_start": "2025-01-01", "period_end": "2025-07-01"}, headers=h)
    body = r.get_json()
    assert r.status_code == 422 and "其他支出—利息支出" in body["errors"]["expense_account"][0]
    assert "科目对照" in body["message"]
    r = client.post(f"/api/v1/orgs/{b.org.id}/loans", headers=h, json={
        "lender": "信用社", "contract_no": "X-1", "principal": "100.00", "annual_rate": "0.04",
        "start_date": "2025-01-01", "maturity_date": "2025-12-31", "term": "long"})
    # 221 has no sub-accounts here: the default leaf is 221 itself
    assert r.status_code == 201 and r.get_json()["account_code"] == "221"
    r = client.post(f"/api/v1/orgs/{b.org.id}/loans", headers=h, json={
        "lender": "信用社", "contract_no": "X-2", "principal": "100.00", "annual_rate": "0.04",
        "start_date": "2025-01-01", "maturity_date": "2025-12-31", "account_code": "201"})
    assert r.status_code == 422 and "有下级科目" in r.get_json()["errors"]["account_code"][0]
    assert (count(LoanEvent), count(Voucher), count(PostingRoleMapping)) == (before[0], before[1], before[2])


def test_village_policy_lets_the_county_post_joint_vouchers_directly(client, joint_books, auth):
    b, p, part, op = joint_books
    h = auth.headers(b.county_admin)
    for org in (b.org, op):
        r = client.put(f"/api/v1/admin/orgs/{org.id}/charter", headers=h, json={"county_may_post": True})
        assert r.status_code == 200, r.get_json()
    joint.contribute(p, part, kind="cash", amount=D("300000.00"), date=dt.date(2025, 3, 1), user=b.county_admin)
    assert _drafts(b.org) == [] and _drafts(op) == []
    v = db.session.scalar(sa.select(Voucher).where(Voucher.organization_id == b.org.id))
    assert v.status == "posted" and v.reviewer_id == v.poster_id == b.county_admin.id and v.preparer_id is None
    assert reports.leaf_balances(b.org)[b.leaf("141", 2)] == D("300000.00")


def test_a_generated_draft_is_neither_edited_nor_deleted_by_hand(real_books, client, auth):
    """Its register (the loan's events here) points at it: editing or deleting it would leave the two disagreeing
    (and the database refuses the delete): a clear 409 on the page and the API, nothing changed."""
    b = real_books
    loan, _ = _loan(b)
    e = loans.record_loan_event(loan, kind="drawdown", date=dt.date(2025, 1, 2), amount=D("100.00"), user=b.accountant)
    h = auth.headers(b.accountant)
    url = f"/api/v1/orgs/{b.org.id}/vouchers/{e.voucher_id}"
    r = client.delete(url, headers=h)
    assert r.status_code == 409 and "贷款台账" in r.get_json()["message"]
    body = {"date": "2025-01-02", "lines": [
        {"summary": "x", "account_code": b.leaf("102", 1), "debit": "1.00"},
        {"summary": "x", "account_code": b.leaf("201", 1), "credit": "1.00", "counterparty": "农商银行"}]}
    r = client.put(url, json=body, headers=h)
    assert r.status_code == 409
    v = db.session.get(Voucher, e.voucher_id)
    assert v.total_debit == D("100.00") and count(LoanEvent) == 1
    # an ordinary draft is still the preparer's to change or delete
    mine = b.draft("2025-01-03", (b.leaf("101", 1), "1.00", ""), (b.leaf("102", 1), "", "1.00"))
    db.session.commit()
    assert client.delete(f"/api/v1/orgs/{b.org.id}/vouchers/{mine.id}", headers=h).status_code == 204


def test_the_voucher_page_says_where_a_generated_draft_is_corrected(real_books, client, auth):
    b = real_books
    loan, _ = _loan(b)
    e = loans.record_loan_event(loan, kind="drawdown", date=dt.date(2025, 1, 2), amount=D("100.00"), user=b.accountant)
    db.session.commit()
    auth.login("kuaiji")
    page = client.get(f"/o/{b.org.id}/vouchers/{e.voucher_id}").get_data(as_text=True)
    assert "由贷款台账生成，请在原业务中更正" in page
    assert client.get(f"/o/{b.org.id}/vouchers/{e.voucher_id}/edit").status_code == 409


def test_a_loan_whose_account_gains_sub_accounts_moves_to_the_mapped_leaf(books):
    """A loan registered on 201 itself; the village then opens 明细 under 201 and maps 短期借款: the next event
    books on the mapped leaf and the loan remembers it. Without a mapping the refusal names the role."""
    from coop.services import accounts

    books.lock_opening({"102": "1000.00", "301": "-1000.00"})
    loan = loans.create_loan(books.org, lender="信用社", contract_no="XY-1", principal=D("500.00"),
                             annual_rate=D("0.04"), start_date=dt.date(2025, 1, 1), maturity_date=dt.date(2025, 12, 31),
                             user=books.accountant)
    assert loan.account_code == "201"
    accounts.add_detail_account(books.org, "201", "20101", "信用社借款")
    accounts.add_detail_account(books.org, "201", "20102", "其他借款")
    db.session.commit()
    with pytest.raises(ValidationFailed) as e:
        loans.record_loan_event(loan, kind="drawdown", date=dt.date(2025, 2, 1), amount=D("500.00"),
                                user=books.accountant)
    assert "短期借款" in e.value.errors["account_code"][0] and "科目对照" in e.value.message
    db.session.rollback()
    roles.set_mapping(books.org, R.SHORT_LOAN, "20102", user=books.accountant)
    ev = loans.record_loan_event(loan, kind="drawdown", date=dt.date(2025, 2, 1), amount=D("500.00"),
                                 user=books.accountant)
    assert entry(db.session.get(Voucher, ev.voucher_id))[1] == ("20102", D("0.00"), D("500.00"), "信用社")
    assert loan.account_code == "20102"
