"""211 应付款—应付收益 per household (RULES §7 step 4): the plan credits each household on its own line, payments
debit the same label, so 211 by counterparty and the 债权债务 sheet show what each household is still owed."""
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from coop.core.errors import InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.models import HouseholdDividend
from coop.services import disclosure, distribution, members, reports, shares, vouchers
from tests.test_certificates import needs_pdftotext, pdf_text
from tests.test_distribution import approve, build_year_2025, make_plan
from tests.test_shares import IDS

D = Decimal
TODAY = dt.date(2026, 11, 1)


def register_three_households(books):
    """A 张一 (户主, 9 whole years of 农龄 from 2015-01-01 to the base date) and 张二:
    96 + 9 + 96 = 201 units; B 李一, 李二, 李三: 3 × 96 = 288;
    C 王一 alone: 96. 585 units in all."""
    org = books.org
    ha, hb, hc = (members.create_household(org) for _ in range(3))
    people = [members.add_member(ha, name="张一", id_number=IDS[0], relation="户主"),
              members.add_member(ha, name="张二", id_number=IDS[1], relation="配偶"),
              members.add_member(hb, name="李一", id_number=IDS[2], relation="户主"),
              members.add_member(hb, name="李二", id_number=IDS[3], relation="配偶"),
              members.add_member(hb, name="李三", id_number=IDS[4], relation="子"),
              members.add_member(hc, name="王一", id_number=IDS[5], relation="户主")]
    for m in people:
        members.record_membership_event(m, "confirmed", date=dt.date(2024, 1, 1), evidence="决议", today=TODAY)
    plan = shares.create_plan(org, name="量化", base_date=dt.date(2024, 12, 31), net_assets=D("1000000.00"),
                              rules={"population_units": "96", "labour_units_per_year": "1", "labour_cap_years": 20},
                              approval_ref="决议2", user=books.accountant)
    shares.set_member_input(plan, people[0], labour_start=dt.date(2015, 1, 1))
    shares.issue_plan(plan, user=books.accountant)
    return ha, hb, hc


@pytest.fixture
def three_households(books):
    _, (ha, hb, hc) = build_year_2025(books, register=register_three_households)
    plan = make_plan(books)  # 向成员分配 90,000.00 over 585 units
    approve(plan, books)
    return books, plan, ha, hb, hc


def payable_lines(v):
    return [(l.counterparty, l.debit, l.credit) for l in v.lines if l.account.code == "211"]


def test_each_household_owed_on_its_own_line_until_paid(three_households):
    books, plan, ha, hb, hc = three_households
    assert [ha.number, hb.number, hc.number] == ["0001", "0002", "0003"]
    # 90,000 / 585 = 153.846… → 153.84 a share: A 201 × 153.84 = 30,921.84, B 288 × 153.84 = 44,305.92,
    # C 96 × 153.84 = 14,768.64; 向成员分配 89,996.40, the 3.60 the rounding leaves stays in 未分配收益
    v = distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    members_debit = [l for l in v.lines if l.summary == "2025年度向成员分配"]
    assert [(l.debit, l.credit) for l in members_debit] == [(D("89996.40"), D("0.00"))]
    assert payable_lines(v) == [("0001 张一", D("0.00"), D("30921.84")), ("0002 李一", D("0.00"), D("44305.92")),
                                ("0003 王一", D("0.00"), D("14768.64"))]
    assert [l.summary for l in v.lines if l.account.code == "211"][0] == "2025年度向成员分配—0001 张一"
    assert {d.household_id: (d.amount, d.payee) for d in plan.dividends} == {
        ha.id: (D("30921.84"), "0001 张一"), hb.id: (D("44305.92"), "0002 李一"), hc.id: (D("14768.64"), "0003 王一")}
    # C's head changes after posting: the payment still nets against the label the plan was posted with
    members.add_member(hc, name="王二", id_number=IDS[6], relation="子", head=True)
    db.session.commit()

    pay = distribution.pay_dividends(plan, household_ids=[ha.id, hb.id], date=dt.date(2026, 1, 20), pay_from="102",
                                     user=books.accountant)
    assert payable_lines(pay) == [("0001 张一", D("30921.84"), D("0.00")), ("0002 李一", D("44305.92"), D("0.00"))]
    assert [(l.account.code, l.counterparty, l.debit, l.credit) for l in pay.lines][-1] == (
        "102", None, D("0.00"), D("75227.76"))  # 30,921.84 + 44,305.92
    vouchers.review_voucher(pay, user=books.reviewer)
    vouchers.post_voucher(pay, user=books.accountant)
    db.session.commit()
    owed = {k: v for k, v in reports.gross_balances(books.org, dt.date(2026, 1, 31)).items() if k.startswith("211")}
    assert owed == {"211|0003 王一": D("-14768.64")}  # credit: still owed to C, and nothing else on 211

    books.close_through(2026, 1)
    sheet = disclosure.build_sheet(books.org, "debts", dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert [r for r in sheet["rows"] if r[1].startswith("211")] == [["债务", "211 应付款", "0003 王一", "14768.64"]]

    # C paid later, under its posted label even though 王二 is its head now
    pay_c = distribution.pay_dividends(plan, household_ids=None, date=dt.date(2026, 2, 3), pay_from="102",
                                       user=books.accountant)
    assert payable_lines(pay_c) == [("0003 王一", D("14768.64"), D("0.00"))]


def test_a_plan_posted_with_the_one_legacy_line_pays_against_it(three_households):
    """Rows the migration gave the legacy label ("应付收益") pay in one 211 line under it, like the plan's line."""
    books, plan, ha, hb, hc = three_households
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    db.session.execute(sa.update(HouseholdDividend).where(HouseholdDividend.plan_id == plan.id)
                       .values(payee=distribution.LEGACY_PAYEE))
    db.session.commit()
    pay = distribution.pay_dividends(plan, household_ids=[ha.id, hc.id], date=dt.date(2026, 1, 20), pay_from="102",
                                     user=books.accountant)
    assert payable_lines(pay) == [("应付收益", D("45690.48"), D("0.00"))]  # 30,921.84 + 14,768.64
    assert pay.lines[0].summary == "发放2025年度分红（2户）"


@needs_pdftotext
def test_a_system_voucher_of_250_households_posts_shows_and_prints(books, client, auth):
    """No line cap on what the system writes (a plan of 250 households is a voucher of 251+ lines); the page and the
    PDF show every line. A hand-entered voucher keeps its cap of 200 lines."""
    from coop.ledger.types import Entry, Line

    books.lock_opening({"102": "30000.00", "301": "-30000.00"})
    lines = [Line("102", debit=D("25000.00"), summary="发放分红")] + [
        Line("211", credit=D("100.00"), counterparty=f"{i:04d} 户主{i}", summary=f"向成员分配—{i:04d} 户主{i}")
        for i in range(1, 251)]
    v = vouchers.post_system_entry(books.org, Entry(dt.date(2025, 1, 10), "收益分配", tuple(lines)),
                                   user=books.accountant, kind="distribution")
    db.session.commit()
    assert (len(v.lines), v.status, v.total_credit) == (251, "posted", D("25000.00"))
    auth.login(books.accountant)
    html = client.get(f"/o/{books.org.id}/vouchers/{v.id}").text
    assert "0001 户主1" in html and "0250 户主250" in html
    r = client.get(f"/o/{books.org.id}/reports/vouchers/{v.id}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = pdf_text(r.data)
    assert "211应付款（0250户主250）" in text and "（续）" in text and "¥25,000.00" in text

    typed = {"date": "2025-01-11", "lines": [
        {"summary": l.summary, "account_code": l.account_code, "debit": str(l.debit), "credit": str(l.credit),
         "counterparty": l.counterparty} for l in lines]}
    r = client.post(f"/api/v1/orgs/{books.org.id}/vouchers", json=typed, headers=auth.headers(books.accountant))
    assert r.status_code == 422 and r.json["errors"]["lines"] == ["凭证应有2到200行分录"]


def test_an_adjustment_cannot_undo_a_payment_or_the_plan_behind_the_register(three_households):
    """An all-red 调整凭证 of a payment voucher takes household A's 30,921.84 back onto 211 in the books while the
    register still has A paid, so A could never be paid again; one of the 收益分配 voucher takes A's 211 credit away
    while the 分红清册 still owes it. Both are refused: a payment is undone by its red reversal (A is unpaid again),
    the plan by a supplementary plan."""
    books, plan, ha, hb, hc = three_households
    posted = distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    pay = distribution.pay_dividends(plan, household_ids=[ha.id], date=dt.date(2026, 1, 20), pay_from="102",
                                     user=books.accountant)
    vouchers.review_voucher(pay, user=books.reviewer)
    vouchers.post_voucher(pay, user=books.accountant)
    db.session.commit()
    back = {"date": dt.date(2026, 1, 22), "lines": [
        {"summary": "调整", "account_code": "211", "debit": D("-30921.84"), "credit": D("0"),
         "counterparty": "0001 张一"},
        {"summary": "调整", "account_code": "102", "debit": D("0"), "credit": D("-30921.84")}]}
    with pytest.raises(InvalidState, match="红字冲销"):
        vouchers.create_adjustment(pay, back, user=books.accountant)
    taken = {"date": dt.date(2026, 1, 22), "lines": [
        {"summary": "调整", "account_code": "3220103", "debit": D("-30921.84"), "credit": D("0")},
        {"summary": "调整", "account_code": "211", "debit": D("0"), "credit": D("-30921.84"),
         "counterparty": "0001 张一"}]}
    with pytest.raises(InvalidState, match="补充分配"):
        vouchers.create_adjustment(posted, taken, user=books.accountant)
    status = {s.dividend.household_id: s for s in distribution.dividend_status(plan)}
    assert (status[ha.id].paid, status[hb.id].unpaid) == (D("30921.84"), D("44305.92"))
    # nor the red reversal that undid the payment: A is unpaid again in the register, so the books stay so too
    red = vouchers.reverse_voucher(pay, user=books.accountant, date=dt.date(2026, 1, 23))
    vouchers.review_voucher(red, user=books.reviewer)
    vouchers.post_voucher(red, user=books.accountant)
    db.session.commit()
    repaid = {"date": dt.date(2026, 1, 24), "lines": [
        {"summary": "调整", "account_code": "211", "debit": D("30921.84"), "credit": D("0"),
         "counterparty": "0001 张一"},
        {"summary": "调整", "account_code": "102", "debit": D("0"), "credit": D("30921.84")}]}
    with pytest.raises(InvalidState, match="红字冲销"):
        vouchers.create_adjustment(red, repaid, user=books.accountant)
    assert distribution.dividend_status(plan)[0].unpaid == D("30921.84")


def test_a_red_reversal_of_a_payment_keeps_the_payment_s_lines(three_households):
    """Paying A and B is one voucher of 75,227.76. Its red reversal undoes the payment of both, so it must undo
    all of it: edited down to B's line pair (-44,305.92), it would leave A's 30,921.84 paid in the books while
    the register took both households for unpaid, and A would be paid a second time. The draft's date and
    summaries may change; its accounts, counterparties and amounts may not."""
    books, plan, ha, hb, hc = three_households
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    pay = distribution.pay_dividends(plan, household_ids=[ha.id, hb.id], date=dt.date(2026, 1, 20), pay_from="102",
                                     user=books.accountant)
    vouchers.review_voucher(pay, user=books.reviewer)
    vouchers.post_voucher(pay, user=books.accountant)
    red = vouchers.reverse_voucher(pay, user=books.accountant, date=dt.date(2026, 1, 22))
    db.session.commit()
    only_b = {"date": dt.date(2026, 1, 22), "lines": [
        {"summary": "退回", "account_code": "211", "debit": D("-44305.92"), "credit": D("0"),
         "counterparty": "0002 李一"},
        {"summary": "退回", "account_code": "102", "debit": D("0"), "credit": D("-44305.92")}]}
    with pytest.raises(ValidationFailed, match="红字冲销"):
        vouchers.update_draft(red, only_b, user=books.accountant)
    redated = {"date": dt.date(2026, 1, 23), "lines": [
        {"summary": "银行退回", "account_code": l.account.code, "debit": l.debit, "credit": l.credit,
         "counterparty": l.counterparty} for l in red.lines]}
    vouchers.update_draft(red, redated, user=books.accountant)
    vouchers.review_voucher(red, user=books.reviewer)
    vouchers.post_voucher(red, user=books.accountant)
    db.session.commit()
    assert red.date == dt.date(2026, 1, 23) and red.total_debit == D("-75227.76")  # 30,921.84 + 44,305.92
    status = {s.dividend.household_id: s for s in distribution.dividend_status(plan)}
    assert (status[ha.id].unpaid, status[hb.id].unpaid) == (D("30921.84"), D("44305.92"))
