"""报账, 出纳 and the bank (RULES §15, issue #22) in real village books (明细科目 everywhere, roles mapped):
the approval chain by the county's thresholds with the 民主理财小组 veto and no self-approval; a month of bank
statement lines matched with two 未达账项 each way and an agreeing 调节表 to the fen; a 代发 round trip with one
failed row; each new 三色预警 rule on its case and not on its neighbour."""
import datetime as dt
from decimal import Decimal

import pytest

from coop.core.errors import Forbidden, InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.ledger import roles as R
from coop.models.cash import Reconciliation
from coop.services import bank, cashier, distribution, payout, spending, users, vouchers, warnings
from tests.conftest import count
from tests.realbooks import real_books  # noqa: F401  (fixture)
from tests.test_year_end import approve_by_assembly
from tests.test_distribution import register_two_households

D = Decimal
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SCAN = [("发票.png", "image/png", PNG)]


def people(books):
    """A 民主理财小组 member, a 出纳 and a second village head for the village."""
    fg = users.create_user("licai", "民主理财组长", "password1")
    cash = users.create_user("chuna", "出纳员", "password1")
    head2 = users.create_user("fuzhuren", "副主任", "password1")
    users.assign_role(fg, "finance_group", books.org)
    users.assign_role(cash, "cashier", books.org)
    users.assign_role(head2, "reviewer", books.org)
    return fg, cash, head2


def file(books, amount, *, user=None, category=R.EXPENSE_ADMIN, purpose="购买办公用品"):
    return spending.file_request(books.org, user=user or books.accountant, handler="王会计", purpose=purpose,
                                 payee="县城文具店", amount=D(amount), category=category,
                                 spent_on=dt.date(2025, 3, 1), scans=SCAN)


# ---------------------------------------------------------------- the approval chain


def test_chain_follows_the_county_thresholds_and_ends_in_a_voucher_with_the_scans(real_books):
    books = real_books
    fg, cash, _ = people(books)
    spending.set_policy(books.county, user=books.county_admin, finance_group_above=D("2000.00"),
                        meeting_above=D("50000.00"), township_review=True, cash_payment_limit=D("1000.00"),
                        request_required_above=D("500.00"))
    assert file(books, "2000.00").steps == ["head", "township"]  # not above A
    assert file(books, "2000.01").steps == ["head", "finance_group", "township"]
    assert file(books, "50000.00").steps == ["head", "finance_group", "township"]
    big = file(books, "50000.01")
    assert big.steps == ["head", "finance_group", "meeting", "township"]
    with pytest.raises(InvalidState, match="村负责人审批"):  # in order
        spending.decide(big, user=fg, step="finance_group", decision="approve")
    with pytest.raises(Forbidden):  # the accountant is not the village head
        spending.decide(big, user=books.accountant, step="head", decision="approve")
    spending.decide(big, user=books.reviewer, step="head", decision="approve")
    spending.decide(big, user=fg, step="finance_group", decision="approve")
    with pytest.raises(ValidationFailed) as e:
        spending.decide(big, user=books.reviewer, step="meeting", decision="approve")
    assert "meeting_date" in e.value.errors
    spending.decide(big, user=books.reviewer, step="meeting", decision="approve", meeting_date=dt.date(2025, 3, 5),
                    record="四议两公开：村民代表会议 32 人到会，30 票同意")
    assert big.status == "pending"
    spending.decide(big, user=books.auditor, step="township", decision="approve")
    assert big.status == "approved"
    with pytest.raises(InvalidState):
        spending.decide(big, user=books.auditor, step="township", decision="approve")
    db.session.commit()

    bank1 = books.leaf("102", 1)
    v = spending.to_voucher(big, user=books.accountant, date=dt.date(2025, 3, 6), pay_from=bank1)
    assert sorted((l.account.code, l.debit, l.credit) for l in v.lines) == [
        (bank1, D("0.00"), D("50000.01")), ("513", D("50000.01"), D("0.00"))]
    assert v.status == "draft" and v.preparer_id == books.accountant.id
    assert [(a.filename, a.size) for a in v.attachments] == [("发票.png", len(PNG))]
    assert big.status == "vouchered" and big.voucher_id == v.id
    with pytest.raises(InvalidState, match="已生成凭证"):
        spending.to_voucher(big, user=books.accountant, date=dt.date(2025, 3, 6), pay_from=bank1)
    db.session.commit()


def test_an_unmapped_expense_category_is_refused_naming_the_role(real_books):
    books = real_books
    fg, cash, _ = people(books)
    req = file(books, "300.00", category=R.EXPENSE_OTHER)  # 515 has 明细科目 and this role is not mapped
    spending.decide(req, user=books.reviewer, step="head", decision="approve")
    spending.decide(req, user=books.auditor, step="township", decision="approve")
    with pytest.raises(ValidationFailed) as e:
        spending.to_voucher(req, user=books.accountant, date=dt.date(2025, 3, 6), pay_from=books.leaf("101", 1))
    assert "报账—其他支出" in e.value.errors["category"][0]


def test_veto_with_a_reason_and_no_self_approval(real_books):
    books = real_books
    fg, cash, head2 = people(books)
    own = file(books, "800.00", user=books.reviewer)
    with pytest.raises(Forbidden, match="自己"):
        spending.decide(own, user=books.reviewer, step="head", decision="approve")
    spending.decide(own, user=head2, step="head", decision="approve")  # the other village head may
    for_him = spending.file_request(books.org, user=books.accountant, handler="李主任", purpose="差旅费", payee="李主任",
                                    amount=D("420.00"), category=R.EXPENSE_ADMIN, spent_on=dt.date(2025, 3, 1),
                                    scans=SCAN)  # filed by the accountant for the head's own spending
    with pytest.raises(Forbidden, match="自己"):
        spending.decide(for_him, user=books.reviewer, step="head", decision="approve")

    req = file(books, "3000.00")
    spending.decide(req, user=books.reviewer, step="head", decision="approve")
    with pytest.raises(ValidationFailed, match="只有民主理财小组"):  # the head rejects, never vetoes
        spending.decide(file(books, "100.00"), user=books.reviewer, step="head", decision="veto", reason="不需要")
    with pytest.raises(ValidationFailed) as e:
        spending.decide(req, user=fg, step="finance_group", decision="veto")
    assert "reason" in e.value.errors
    spending.decide(req, user=fg, step="finance_group", decision="veto", reason="发票抬头不是本村")
    assert req.status == "vetoed"
    assert [(a.step, a.decision, a.reason) for a in req.approvals] == [
        ("head", "approve", None), ("finance_group", "veto", "发票抬头不是本村")]
    with pytest.raises(InvalidState, match="被否决"):
        spending.decide(req, user=books.auditor, step="township", decision="approve")
    with pytest.raises(InvalidState):
        spending.to_voucher(req, user=books.accountant, date=dt.date(2025, 3, 6), pay_from=books.leaf("101", 1))
    db.session.commit()


# ---------------------------------------------------------------- bank reconciliation


HEAD = "交易日期,摘要,收入金额,支出金额,余额,流水号,对方户名\n"


def csv_of(rows, opening):
    """Statement rows (date, summary, in, out, reference) with the running balance the bank prints."""
    out, bal = [HEAD], D(opening)
    for date, summary, inn, outn, ref in rows:
        bal += D(inn or 0) - D(outn or 0)
        out.append(f"{date},{summary},{inn},{outn},{bal},{ref},\n")
    return "".join(out).encode("utf-8")


MAPPING = {"date": "交易日期", "summary": "摘要", "money_in": "收入金额", "money_out": "支出金额", "balance": "余额",
           "reference": "流水号", "counterparty": "对方户名"}


def test_a_month_reconciled_with_two_outstanding_items_each_way(real_books):
    books = real_books
    fg, cash, _ = people(books)
    b1 = books.leaf("102", 1)
    p = books.post
    # March in the books (opening 5,000,000.00 in the bank leaf)
    p("2025-03-02", (b1, "100000.00", ""), ("501", "", "100000.00"), summary="收租金 A1")
    p("2025-03-03", ("513", "999.99", ""), (b1, "", "999.99"), summary="付电费")
    p("2025-03-05", ("513", "2350.50", ""), (b1, "", "2350.50"), summary="办公用品")
    p("2025-03-10", (b1, "8800.00", ""), ("504", "", "8800.00"), summary="其他收入")
    p("2025-03-15", ("511", "12000.00", ""), (b1, "", "12000.00"), summary="经营支出")
    p("2025-03-29", (b1, "3000.00", ""), ("504", "", "3000.00"), summary="存入现金支票")  # 企业已收银行未收
    p("2025-03-30", (b1, "4500.00", ""), ("504", "", "4500.00"), summary="收场地费")  # 企业已收银行未收
    p("2025-03-30", ("513", "720.30", ""), (b1, "", "720.30"), summary="付维修费")  # 企业已付银行未付
    p("2025-03-31", ("513", "1566.66", ""), (b1, "", "1566.66"), summary="开出转账支票")  # 企业已付银行未付
    rows = [("2025-03-02", "租金", "100000.00", "", "A1"), ("2025-03-06", "转账", "", "2350.50", "B2"),
            ("2025-03-09", "电费代扣", "", "999.99", "B3"), ("2025-03-12", "转账", "8800.00", "", "B4"),
            ("2025-03-15", "转账", "", "12000.00", "B5"),
            ("2025-03-20", "结息", "1234.56", "", "B6"), ("2025-03-21", "手续费", "", "85.00", "B7"),
            ("2025-03-25", "财政拨款", "5000.00", "", "B8"), ("2025-03-28", "代扣网银年费", "", "300.00", "B9")]
    data = csv_of(rows, "5000000.00")
    with pytest.raises(ValidationFailed, match="开户银行"):
        bank.import_statement(books.org, user=cash, account_code=b1, filename="3月.csv", data=data, mapping=MAPPING)
    bank.set_account(books.org, user=cash, account_code=b1, bank_name="农商银行", account_no="6228000011112222")
    dry = bank.import_statement(books.org, user=cash, account_code=b1, filename="3月.csv", data=data,
                                mapping=MAPPING, dry_run=True)
    assert len(dry.lines) == 9 and dry.closing_balance == D("5099299.07") and dry.statement is None
    assert count(bank.BankStatement) == 0
    st = bank.import_statement(books.org, user=cash, account_code=b1, filename="3月.csv", data=data, mapping=MAPPING)
    db.session.commit()
    with pytest.raises(ValidationFailed, match="不能重复导入"):
        bank.import_statement(books.org, user=cash, account_code=b1, filename="3月-副本.csv", data=data)
    assert bank.remembered_mapping(books.org, "农商银行") == MAPPING  # next month's file needs no mapping

    assert bank.auto_match(books.org, b1, user=cash) == 4  # A1, 2350.50 (1 day), 8800 (2 days), 12000
    # 999.99 is 6 days apart: matched by hand
    left_bank, left_book = bank.unmatched(books.org, b1)
    sl = next(l for l in left_bank if l.amount == D("-999.99"))
    vl = next(l for l, v in left_book if l.credit == D("999.99"))
    with pytest.raises(ValidationFailed, match="金额不符"):
        bank.manual_match(books.org, user=cash, statement_line_id=sl.id,
                          voucher_line_id=next(l for l, v in left_book if l.credit == D("720.30")).id)
    bank.manual_match(books.org, user=cash, statement_line_id=sl.id, voucher_line_id=vl.id)
    db.session.commit()

    s = bank.statement_for(books.org, b1, 2025, 3)
    assert s.bank_balance == D("5099299.07")
    assert s.book_balance == D("5098662.55")
    assert sorted(i.amount for i in s.book_in) == [D("3000.00"), D("4500.00")]
    assert sorted(i.amount for i in s.book_out) == [D("-1566.66"), D("-720.30")]
    assert sorted(i.amount for i in s.bank_in) == [D("1234.56"), D("5000.00")]
    assert sorted(i.amount for i in s.bank_out) == [D("-300.00"), D("-85.00")]
    # 5,099,299.07 + 7,500.00 − 2,286.96 = 5,104,512.11 = 5,098,662.55 + 6,234.56 − 385.00
    assert s.adjusted_bank == s.adjusted_book == D("5104512.11")
    row = bank.save_final(books.org, b1, 2025, 3, user=cash)
    assert (row.bank_balance, row.book_balance, row.adjusted_bank) == (D("5099299.07"), D("5098662.55"), D("5104512.11"))
    db.session.commit()
    with pytest.raises(InvalidState, match="已定稿"):
        bank.save_final(books.org, b1, 2025, 3, user=cash)

    # April: a statement without a balance column, its closing balance typed one fen short → refused
    april = ("交易日期,摘要,收入金额,支出金额,流水号,对方户名\n2025-04-01,存票,3000.00,,C1,\n"
             "2025-04-02,收款,4500.00,,C2,\n2025-04-03,支票,,1566.66,C3,\n2025-04-03,转账,,720.30,C4,\n").encode("utf-8")
    mapping = {k: v for k, v in MAPPING.items() if k != "balance"}
    mapping["balance"] = ""
    with pytest.raises(ValidationFailed) as e:
        bank.import_statement(books.org, user=cash, account_code=b1, filename="4月.csv", data=april, mapping=mapping)
    assert "closing_balance" in e.value.errors
    db.session.rollback()
    bank.import_statement(books.org, user=cash, account_code=b1, filename="4月.csv", data=april, mapping=mapping,
                          closing_balance=D("5104512.10"))
    assert bank.auto_match(books.org, b1, user=cash) == 3  # 720.30 is 4 days from 03-30: left for the hand
    with pytest.raises(ValidationFailed, match="相差 -0.01"):
        bank.save_final(books.org, b1, 2025, 4, user=cash)
    assert count(Reconciliation) == 1


def test_reconciliation_documents(real_books):
    from coop.documents import cash as docs

    books = real_books
    fg, cash, _ = people(books)
    b1 = books.leaf("102", 1)
    books.post("2025-03-02", (b1, "100.00", ""), ("501", "", "100.00"))
    bank.set_account(books.org, user=cash, account_code=b1, bank_name="农商银行")
    bank.import_statement(books.org, user=cash, account_code=b1, filename="s.csv", mapping=MAPPING,
                          data=csv_of([("2025-03-05", "结息", "12.34", "", "X")], "5000000.00"))
    t = docs.reconciliation_table(books.org, b1, 2025, 3)
    assert t.rows[-1].cells[1] == t.rows[-1].cells[3] == D("5000112.34")  # 5,000,100.00 + 12.34 = 5,000,012.34 + 100.00
    assert docs.reconciliation_pdf(books.org, b1, 2025, 3).startswith(b"%PDF")
    assert docs.reconciliation_xlsx(books.org, b1, 2025, 3).startswith(b"PK")


# ---------------------------------------------------------------- 分红代发


def posted_plan(books):
    """The 2025 plan of test_year_end_real_books posted: 40,000.00 to households A (24,640.00) and B (15,360.00)."""
    from coop.services import closing

    org, acc, leaf = books.org, books.accountant, books.leaf
    users.assign_role(acc, "cashier", org)  # the accountant also keeps the cash here
    ha, hb = register_two_households(books)
    books.post("2025-03-01", (leaf("102", 1), "100000.00", ""), ("501", "", "100000.00"))
    books.close_through(2025, 11)
    closing.carry_over(org, 2025, user=acc, today=dt.date(2025, 12, 1))
    plan = distribution.create_plan(org, year=2025, name="方案", record_date=dt.date(2025, 12, 31),
                                    member_pool=D("40000.00"), cadre_reward=D("0.00"), cadres=[], user=acc)
    approve_by_assembly(plan, books, dt.date(2025, 12, 26), materials=dt.date(2025, 12, 10),
                        notice=dt.date(2025, 12, 12))
    distribution.post_plan(plan, user=acc)
    db.session.commit()
    return plan, ha, hb


def test_payout_round_trip_with_one_failed_row(real_books):
    books = real_books
    fg, cash, _ = people(books)
    org, acc, leaf = books.org, books.accountant, books.leaf
    plan, ha, hb = posted_plan(books)
    b2 = leaf("102", 2)
    with pytest.raises(ValidationFailed, match="银行卡号"):
        payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=b2)
    payout.set_household_account(org, user=cash, household_id=ha.id, bank_name="农商银行", account_no="6228001111")
    payout.set_household_account(org, user=cash, household_id=hb.id, bank_name="农商银行", account_no="6228002222")
    with pytest.raises(ValidationFailed, match="银行存款"):
        payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=leaf("101", 1))
    batch = payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=b2)
    db.session.commit()
    assert [(i.household_id, i.amount) for i in batch.items] == [(ha.id, D("24640.00")), (hb.id, D("15360.00"))]
    with pytest.raises(InvalidState, match="待回盘"):  # a batch in flight holds its households
        payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=b2, household_ids=[hb.id])
    with pytest.raises(ValidationFailed, match="没有可代发"):
        payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=b2)
    rows = payout.batch_rows(batch, user=cash)
    assert rows[0] == ["序号", "户号", "户主", "身份证号", "卡号", "金额"]
    assert rows[1][2:] == ["张一", "11010519491231002X", "6228001111", "24640.00"]
    with pytest.raises(Forbidden):  # the township sees IDs masked only: no batch file for them
        payout.batch_rows(batch, user=books.auditor)

    result = ("序号,户号,户主,身份证号,卡号,金额,处理结果,失败原因\n"
              f"1,{rows[1][1]},张一,11010519491231002X,6228001111,24640.00,成功,\n"
              f"2,{rows[2][1]},李一,110105197807080043,6228002222,15360.00,失败,账户已销户\n").encode("utf-8")
    with pytest.raises(Forbidden):  # the 出纳 alone cannot draft the payment voucher
        payout.import_result(batch, user=cash, filename="回盘.csv", data=result, date=dt.date(2026, 1, 5))
    db.session.rollback()
    v = payout.import_result(batch, user=acc, filename="回盘.csv", data=result, date=dt.date(2026, 1, 5))
    db.session.commit()
    # the bank paid A only: 211 is debited on A's own label, the one its dividend was posted under
    assert sorted((l.account.code, l.debit, l.credit, l.counterparty) for l in v.lines) == sorted([
        (b2, D("0.00"), D("24640.00"), None), (leaf("211", 2), D("24640.00"), D("0.00"), f"{ha.number} 张一")])
    assert [(i.status, i.reason, i.in_flight) for i in batch.items] == [
        ("paid", None, None), ("failed", "账户已销户", None)]
    status = {s.dividend.household_id: s for s in distribution.dividend_status(plan)}
    assert status[ha.id].pending == D("24640.00") and status[ha.id].unpaid == 0
    assert status[hb.id].unpaid == D("15360.00")
    with pytest.raises(InvalidState, match="已回盘"):
        payout.import_result(batch, user=acc, filename="回盘.csv", data=result, date=dt.date(2026, 1, 5))
    # never twice: household A is paid (pending its voucher); B may go again in a new batch
    with pytest.raises(ValidationFailed, match="没有可代发"):
        payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=b2, household_ids=[ha.id])
    again = payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=b2)
    assert [(i.household_id, i.amount) for i in again.items] == [(hb.id, D("15360.00"))]
    db.session.commit()


# ---------------------------------------------------------------- 出纳: journal, cash count, signature


def test_cash_journal_daily_totals_count_and_signature(real_books):
    books = real_books
    fg, cash, _ = people(books)
    c1, b1 = books.leaf("101", 1), books.leaf("102", 1)
    books.post("2025-03-02", (c1, "3000.00", ""), (b1, "", "3000.00"), summary="提现")
    books.post("2025-03-02", ("513", "450.00", ""), (c1, "", "450.00"), summary="买茶叶")
    v = books.post("2025-03-04", ("513", "120.50", ""), (c1, "", "120.50"), summary="邮费")
    j = cashier.journal(books.org, c1, 2025, 3)
    assert [(r.kind, r.debit, r.credit, r.balance) for r in j.rows] == [
        ("line", D("3000.00"), D("0.00"), D("3000.00")), ("line", D("0.00"), D("450.00"), D("2550.00")),
        ("day", D("3000.00"), D("450.00"), D("2550.00")),
        ("line", D("0.00"), D("120.50"), D("2429.50")), ("day", D("0.00"), D("120.50"), D("2429.50")),
        ("month", D("3000.00"), D("570.50"), D("2429.50"))]
    assert j.rows[0].other == f"{b1} 农商银行基本户" and j.rows[1].other == "513 管理费用"
    count_row = cashier.record_count(books.org, user=cash, account_code=c1, date=dt.date(2025, 3, 4),
                                     counted=D("2429.00"))
    assert (count_row.book, count_row.difference) == (D("2429.50"), D("-0.50"))
    with pytest.raises(Forbidden):
        cashier.sign(v, user=books.accountant)  # not a cashier
    users.assign_role(books.accountant, "cashier", books.org)
    with pytest.raises(Forbidden, match="钱账分管"):
        cashier.sign(v, user=books.accountant)  # prepared and posted it
    cashier.sign(v, user=cash)
    with pytest.raises(InvalidState):
        cashier.sign(v, user=cash)
    db.session.commit()
    assert cashier.cashier_name(v.id) == "出纳员"
    from coop.reports.pdf import voucher_context

    assert voucher_context(books.org, v)["signers"].cashier == "出纳员"


# ---------------------------------------------------------------- 三色预警


def codes_of(org, code):
    return [w for w in warnings.warnings_for(org, dt.date(2026, 12, 1)) if w.code == code]


def test_cash_payment_over_the_limit_warns_and_at_the_limit_does_not(real_books):
    books = real_books
    c1, b1 = books.leaf("101", 1), books.leaf("102", 1)
    books.post("2025-03-02", (c1, "5000.00", ""), (b1, "", "5000.00"), summary="提现")  # a deposit/withdrawal
    books.post("2025-03-03", ("513", "1000.00", ""), (c1, "", "1000.00"), summary="限额内")
    assert codes_of(books.org, "cash_payment_over_limit") == []
    books.post("2025-03-04", ("513", "1000.01", ""), (c1, "", "1000.01"), summary="超限额")
    [w] = codes_of(books.org, "cash_payment_over_limit")
    assert w.facts[1:] == ["2025-03-04 记-0003 超限额 1,000.01"]


def test_sitting_receipts_warn_only_on_the_day_receipts_were_spent(real_books):
    books = real_books
    c1, b1 = books.leaf("101", 1), books.leaf("102", 1)
    books.post("2025-03-01", (c1, "2000.00", ""), (b1, "", "2000.00"), summary="提现")
    # 3-02: 3,000 received in cash, 2,500 paid in cash with 2,000 at the start of the day: receipts spent
    books.post("2025-03-02", (c1, "3000.00", ""), ("504", "", "3000.00"), summary="收现金")
    books.post("2025-03-02", ("513", "2500.00", ""), (c1, "", "2500.00"), summary="付现金")
    # 3-03 (the neighbour): 100 received, 1,500 paid with 2,500 at the start of the day
    books.post("2025-03-03", (c1, "100.00", ""), ("504", "", "100.00"), summary="收现金")
    books.post("2025-03-03", ("513", "1500.00", ""), (c1, "", "1500.00"), summary="付现金")
    [w] = codes_of(books.org, "sitting_receipts")
    assert w.level == "red"
    assert w.facts == [f"2025-03-02 {c1}：当日收现 3,000.00，付现 2,500.00，日初余额 2,000.00"]


def test_money_in_a_personal_account_warns_and_the_collective_account_does_not(real_books):
    books = real_books
    fg, cash, _ = people(books)
    b1, b2 = books.leaf("102", 1), books.leaf("102", 2)
    bank.set_account(books.org, user=cash, account_code=b1, bank_name="农商银行", personal=False)
    bank.set_account(books.org, user=cash, account_code=b2, bank_name="邮储银行", account_no="62170000", personal=True)
    books.post("2025-03-02", (b1, "800.00", ""), ("504", "", "800.00"), summary="收入存集体户")
    assert codes_of(books.org, "personal_account") == []
    books.post("2025-03-03", (b2, "600.00", ""), ("504", "", "600.00"), summary="收入存个人户")
    [w] = codes_of(books.org, "personal_account")
    assert w.level == "red" and w.facts == [f"2025-03-03 记-0002 {b2} 收入存个人户 600.00"]


def test_spending_without_an_approved_request_warns_above_the_threshold(real_books):
    books = real_books
    fg, cash, _ = people(books)
    b1 = books.leaf("102", 1)
    req = file(books, "3000.00")
    for step, who in (("head", books.reviewer), ("finance_group", fg), ("township", books.auditor)):
        spending.decide(req, user=who, step=step, decision="approve")
    v = spending.to_voucher(req, user=books.accountant, date=dt.date(2025, 3, 6), pay_from=b1)
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=books.accountant)
    books.post("2025-03-07", ("513", "500.00", ""), (b1, "", "500.00"), summary="小额支出")  # at the threshold
    assert codes_of(books.org, "spending_without_request") == []
    books.post("2025-03-08", ("513", "500.01", ""), (b1, "", "500.01"), summary="未报账支出")
    [w] = codes_of(books.org, "spending_without_request")
    assert w.facts[1:] == ["2025-03-08 记-0003 未报账支出 500.01"]


def test_two_approvers_at_once_one_wins(app, real_books, backend):
    """Two village heads approve the same step at the same moment: the row lock on the request lets one through;
    the other then sees the step taken and is refused (one approval row, never two)."""
    import threading

    from coop.models import User
    from coop.models.cash import SpendingApproval, SpendingRequest

    books = real_books
    fg, cash, head2 = people(books)
    req_id = file(books, "800.00").id
    db.session.commit()
    barrier, outcomes = threading.Barrier(2), []

    def worker(user_id):
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                req = db.session.get(SpendingRequest, req_id)
                barrier.wait(timeout=30)
                spending.decide(req, user=user, step="head", decision="approve")
                db.session.commit()
                outcomes.append("ok")
            except InvalidState as exc:
                db.session.rollback()
                outcomes.append(exc.message)
            except Exception as exc:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(u,)) for u in (books.reviewer.id, head2.id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["ok", "当前应由「乡镇代理中心审核」审批"]
    assert count(SpendingApproval) == 1


# ---------------------------------------------------------------- the 调节表 arithmetic, as an invariant

from hypothesis import given, settings, strategies as st  # noqa: E402

from coop.ledger import reconcile  # noqa: E402

_moves = st.lists(st.tuples(st.integers(min_value=-10**9, max_value=10**9).filter(bool),
                            st.booleans(), st.booleans()), max_size=30)


@settings(max_examples=200, deadline=None)
@given(opening=st.integers(min_value=-10**10, max_value=10**10), moves=_moves)
def test_adjusted_balances_agree_whenever_both_sides_are_right(opening, moves):
    """Every transaction reaches the books, the bank, or both (the rest are 未达账项): both adjusted balances are the
    opening plus every transaction, to the fen."""
    open_ = Decimal(opening) / 100
    bank_balance = book_balance = open_
    bank_items, book_items, total = [], [], Decimal("0.00")
    for n, (fen, in_bank, in_book) in enumerate(moves):
        amount = Decimal(fen) / 100
        in_bank, in_book = (True, True) if not (in_bank or in_book) else (in_bank, in_book)
        total += amount
        if in_bank:
            bank_balance += amount
        if in_book:
            book_balance += amount
        item = reconcile.Item(n, dt.date(2025, 3, 1), amount)
        if in_bank and not in_book:
            bank_items.append(item)
        if in_book and not in_bank:
            book_items.append(item)
    s = reconcile.statement(bank_balance, book_balance, bank_items, book_items)
    assert s.agrees and s.adjusted_bank == open_ + total


def test_matching_prefers_the_reference_then_the_nearest_date():
    d = dt.date
    bank_lines = [reconcile.Item(1, d(2025, 3, 10), Decimal("-500.00"), "ZP123"),
                  reconcile.Item(2, d(2025, 3, 10), Decimal("-500.00"), None)]
    book = [reconcile.Item(11, d(2025, 3, 9), Decimal("-500.00"), None, "记-0003 付材料款"),
            reconcile.Item(12, d(2025, 3, 7), Decimal("-500.00"), None, "记-0002 支票 ZP123"),
            reconcile.Item(13, d(2025, 3, 1), Decimal("-500.00"), None, "记-0001 太早")]
    # the cheque number pairs 1 with 12 though 11 is nearer; 2 takes the nearest left; 13 is outside 3 days
    assert reconcile.match(bank_lines, book, window_days=3) == [(1, 12), (2, 11)]


def test_two_batches_at_once_never_hold_a_household_twice(app, real_books, backend):
    """Two cashiers make a batch for the same plan at the same moment: the plan's row lock lets one take every
    unpaid household; the other finds none left."""
    import threading

    from coop.models import User
    from coop.models.cash import PayoutItem

    books = real_books
    fg, cash, _ = people(books)
    plan, ha, hb = posted_plan(books)
    for hh, card in ((ha, "6228001111"), (hb, "6228002222")):
        payout.set_household_account(books.org, user=cash, household_id=hh.id, bank_name="农商银行", account_no=card)
    db.session.commit()
    org_id, b2 = books.org.id, books.leaf("102", 2)
    barrier, outcomes = threading.Barrier(2), []

    def worker(user_id):
        from coop.models import Organization

        with app.app_context():
            try:
                user, org = db.session.get(User, user_id), db.session.get(Organization, org_id)
                barrier.wait(timeout=30)
                payout.create_batch(org, user=user, plan_id=plan.id, pay_from=b2)
                db.session.commit()
                outcomes.append("ok")
            except (InvalidState, ValidationFailed) as exc:
                db.session.rollback()
                outcomes.append(exc.message)
            except Exception as exc:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(u,)) for u in (cash.id, books.accountant.id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["ok", "没有可代发的未发放分红"]
    assert count(PayoutItem) == 2


def test_statement_import_from_xlsx_with_a_signed_amount_column(real_books):
    import io

    from openpyxl import Workbook

    books = real_books
    fg, cash, _ = people(books)
    b1 = books.leaf("102", 1)
    bank.set_account(books.org, user=cash, account_code=b1, bank_name="邮储银行")
    wb = Workbook()
    ws = wb.active
    ws.append(["中国邮政储蓄银行账户明细"])  # the bank's title row above the header
    ws.append(["记账日期", "交易金额", "账户余额", "交易摘要"])
    ws.append([dt.datetime(2025, 3, 3, 10, 5), 1200.5, 5001200.5, "转入"])
    ws.append([dt.datetime(2025, 3, 9), -0.5, 5001200.0, "短信费"])
    ws.append(["合计", None, None, None])
    buf = io.BytesIO()
    wb.save(buf)
    r = bank.import_statement(books.org, user=cash, account_code=b1, filename="3月.xlsx", data=buf.getvalue(),
                              mapping={"date": "记账日期", "amount": "交易金额", "balance": "账户余额",
                                       "summary": "交易摘要"})
    assert [(l.date, l.amount) for l in r.lines] == [(dt.date(2025, 3, 3), D("1200.50")), (dt.date(2025, 3, 9), D("-0.50"))]
    assert r.closing_balance == D("5001200.00")
    with pytest.raises(ValidationFailed, match="第3行：日期「2025-13-01」无法识别"):  # the remembered layout, less two columns
        bank.import_statement(books.org, user=cash, account_code=b1, filename="x.csv",
                              data="记账日期,交易金额\n2025-03-01,12\n2025-13-01,5\n".encode(),
                              mapping={"balance": "", "summary": ""}, closing_balance=D("1.00"))


def test_a_loan_interest_voucher_is_not_spending_without_a_request(real_books):
    """The register's own voucher (付息 through the loan register) is approved there, not by a 报账单."""
    from coop.services import loans

    books = real_books
    fg, cash, _ = people(books)
    spending.set_policy(books.county, user=books.county_admin, finance_group_above=D("2000.00"),
                        meeting_above=D("50000.00"), township_review=True, cash_payment_limit=D("1000.00"),
                        request_required_above=D("500.00"))
    loan = loans.create_loan(books.org, user=books.accountant, lender="农商银行", contract_no="J-1",
                             principal=D("100000.00"), annual_rate=D("0.04"), start_date=dt.date(2025, 1, 1),
                             maturity_date=dt.date(2027, 1, 1), special=False, term="short")
    ev = loans.record_loan_event(loan, kind="interest", date=dt.date(2025, 4, 1), amount=D("1000.00"),
                                 period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 4, 1), evidence="结息单",
                                 user=books.accountant)
    from coop.services import roles

    roles.set_mapping(books.org, R.EXPENSE_OTHER, books.leaf("515", 1), user=books.accountant)  # where interest goes
    v = db.session.get(vouchers.Voucher, ev.voucher_id)
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=books.accountant)
    assert codes_of(books.org, "spending_without_request") == []
    books.post("2025-04-02", (books.leaf("515", 1), "600.00", ""), (books.leaf("102", 1), "", "600.00"), summary="罚款")
    [w] = codes_of(books.org, "spending_without_request")
    assert w.facts[1:] == ["2025-04-02 记-0002 罚款 600.00"]


def test_a_cash_count_that_differs_warns_until_a_later_count_agrees(real_books):
    books = real_books
    fg, cash, _ = people(books)
    c1, b1 = books.leaf("101", 1), books.leaf("102", 1)
    v = books.post("2025-03-02", (c1, "800.00", ""), (b1, "", "800.00"), summary="提现")
    assert [x.id for x in cashier.awaiting_signature(books.org)] == [v.id]
    cashier.sign(v, user=cash)
    assert cashier.awaiting_signature(books.org) == []
    cashier.record_count(books.org, user=cash, account_code=c1, date=dt.date(2025, 3, 2), counted=D("800.00"))
    assert codes_of(books.org, "cash_count_difference") == []
    cashier.record_count(books.org, user=cash, account_code=c1, date=dt.date(2025, 3, 3), counted=D("799.90"))
    [w] = codes_of(books.org, "cash_count_difference")
    assert w.facts == [f"2025-03-03 {c1}：实存 799.90，账存 800.00，差额 -0.10"]
    cashier.record_count(books.org, user=cash, account_code=c1, date=dt.date(2025, 3, 4), counted=D("800.00"))
    assert codes_of(books.org, "cash_count_difference") == []


def test_a_household_in_a_batch_in_flight_is_not_paid_by_hand_too(real_books):
    """分红代发 never twice: while the bank holds A's 24,640.00, a hand payment of A is refused and "pay all" pays
    only B's 15,360.00; the bank's result then settles A once (24,640.00 paid in all, not 49,280.00)."""
    books = real_books
    _, cash, _ = people(books)
    org, acc, leaf = books.org, books.accountant, books.leaf
    plan, ha, hb = posted_plan(books)
    b2 = leaf("102", 2)
    payout.set_household_account(org, user=cash, household_id=ha.id, bank_name="农商银行", account_no="6228001111")
    batch = payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=b2, household_ids=[ha.id])
    db.session.commit()
    with pytest.raises(ValidationFailed, match="待回盘") as e:
        distribution.pay_dividends(plan, household_ids=[ha.id], date=dt.date(2026, 1, 4), pay_from=leaf("101", 1),
                                   user=acc)
    assert "household_ids" in e.value.errors
    db.session.rollback()
    v = distribution.pay_dividends(plan, household_ids=None, date=dt.date(2026, 1, 4), pay_from=leaf("101", 1), user=acc)
    db.session.commit()
    assert sum(l.credit for l in v.lines) == D("15360.00")
    rows = payout.batch_rows(batch, user=cash)
    result = ("序号,户号,户主,身份证号,卡号,金额,处理结果,失败原因\n"
              f"1,{rows[1][1]},张一,11010519491231002X,6228001111,24640.00,成功,\n").encode("utf-8")
    payout.import_result(batch, user=acc, filename="回盘.csv", data=result, date=dt.date(2026, 1, 5))
    db.session.commit()
    status = {s.dividend.household_id: s for s in distribution.dividend_status(plan)}
    assert (status[ha.id].paid + status[ha.id].pending, status[ha.id].unpaid) == (D("24640.00"), 0)
    assert (status[hb.id].paid + status[hb.id].pending, status[hb.id].unpaid) == (D("15360.00"), 0)


def test_a_month_reconciled_after_the_next_is_matched_keeps_what_was_outstanding_at_its_end(real_books):
    """The 调节表 of March stands as at 31 March: a cheque written 31 March that the bank paid 2 April, and interest
    the bank credited 31 March that the books took 1 April, both matched once April's statement is in, are still
    未达账项 in March's table."""
    books = real_books
    _, cash, _ = people(books)
    b1 = books.leaf("102", 1)
    books.post("2025-03-02", (b1, "100000.00", ""), ("501", "", "100000.00"), summary="收租金 A1")
    books.post("2025-03-31", ("513", "1566.66", ""), (b1, "", "1566.66"), summary="开出转账支票")
    books.post("2025-04-01", (b1, "1234.56", ""), ("504", "", "1234.56"), summary="结息")
    bank.set_account(books.org, user=cash, account_code=b1, bank_name="农商银行", account_no="6228000011112222")
    march = csv_of([("2025-03-02", "租金", "100000.00", "", "A1"), ("2025-03-31", "结息", "1234.56", "", "B1")],
                   "5000000.00")
    april = csv_of([("2025-04-02", "支票", "", "1566.66", "C1")], "5101234.56")
    bank.import_statement(books.org, user=cash, account_code=b1, filename="3月.csv", data=march, mapping=MAPPING)
    bank.import_statement(books.org, user=cash, account_code=b1, filename="4月.csv", data=april, mapping=MAPPING)
    assert bank.auto_match(books.org, b1, user=cash) == 3
    db.session.commit()
    s = bank.statement_for(books.org, b1, 2025, 3)
    assert (s.bank_balance, s.book_balance) == (D("5101234.56"), D("5098433.34"))
    assert [i.amount for i in s.book_out] == [D("-1566.66")] and [i.amount for i in s.bank_in] == [D("1234.56")]
    assert not s.book_in and not s.bank_out
    # 5,101,234.56 − 1,566.66 = 5,099,667.90 = 5,098,433.34 + 1,234.56
    assert s.adjusted_bank == s.adjusted_book == D("5099667.90")
    bank.save_final(books.org, b1, 2025, 3, user=cash)
    s = bank.statement_for(books.org, b1, 2025, 4)  # April: nothing outstanding, both 5,099,667.90
    assert s.adjusted_bank == s.adjusted_book == s.bank_balance == D("5099667.90")
    assert not (s.book_in or s.book_out or s.bank_in or s.bank_out)
    db.session.commit()


def test_a_payout_undone_by_its_red_reversal_is_paid_anew_by_a_new_batch(real_books):
    """The bank paid A (24,640.00) and failed B; the payout voucher is posted, then red-reversed (the money came
    back): A is unpaid again, B still is, and one new batch holds both — A paid once in all."""
    from coop.services import integrity_money, vouchers

    books = real_books
    fg, cash, _ = people(books)
    org, acc, leaf = books.org, books.accountant, books.leaf
    plan, ha, hb = posted_plan(books)
    b2 = leaf("102", 2)
    payout.set_household_account(org, user=cash, household_id=ha.id, bank_name="农商银行", account_no="6228001111")
    payout.set_household_account(org, user=cash, household_id=hb.id, bank_name="农商银行", account_no="6228002222")
    batch = payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=b2)
    rows = payout.batch_rows(batch, user=cash)
    result = ("序号,户号,户主,身份证号,卡号,金额,处理结果,失败原因\n"
              f"1,{rows[1][1]},张一,11010519491231002X,6228001111,24640.00,成功,\n"
              f"2,{rows[2][1]},李一,110105197807080043,6228002222,15360.00,失败,账户已销户\n").encode("utf-8")
    v = payout.import_result(batch, user=acc, filename="回盘.csv", data=result, date=dt.date(2026, 1, 5))
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=acc)
    red = vouchers.reverse_voucher(v, user=acc, date=dt.date(2026, 1, 8))
    vouchers.review_voucher(red, user=books.reviewer)
    vouchers.post_voucher(red, user=acc)
    db.session.commit()
    status = {s.dividend.household_id: s for s in distribution.dividend_status(plan)}
    assert (status[ha.id].paid, status[ha.id].unpaid, status[hb.id].unpaid) == (
        D("0.00"), D("24640.00"), D("15360.00"))
    again = payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=b2)
    assert [(i.household_id, i.amount) for i in again.items] == [(ha.id, D("24640.00")), (hb.id, D("15360.00"))]
    both = ("序号,户号,户主,身份证号,卡号,金额,处理结果,失败原因\n"
            f"1,{rows[1][1]},张一,11010519491231002X,6228001111,24640.00,成功,\n"
            f"2,{rows[2][1]},李一,110105197807080043,6228002222,15360.00,成功,\n").encode("utf-8")
    paid = payout.import_result(again, user=acc, filename="回盘2.csv", data=both, date=dt.date(2026, 1, 12))
    assert paid.total_debit == D("40000.00")  # 24,640.00 + 15,360.00
    vouchers.review_voucher(paid, user=books.reviewer)
    vouchers.post_voucher(paid, user=acc)
    db.session.commit()
    assert [s.unpaid for s in distribution.dividend_status(plan)] == [D("0.00"), D("0.00")]
    assert integrity_money.overpaid_households() == []
    # 211 by household: the plan's credit, the payment, its red reversal, the payment anew — nothing owed
    assert sum((l.debit - l.credit for l in paid.lines if l.counterparty == f"{ha.number} 张一"), D(0)) == D("24640.00")


def test_the_same_household_paid_again_after_a_reversal_settles_with_the_bank_s_identical_result(real_books):
    """A alone is paid by the bank (24,640.00), the money comes back, the payout voucher is red-reversed, and A
    goes again in a new batch to the same card: the batch file is the same and so is the bank's result file, byte
    for byte (the template carries no batch number or date). The new batch must settle with it; the result
    already imported is recognised by its batch (settled once), not by its bytes across batches."""
    from coop.services import vouchers

    books = real_books
    fg, cash, _ = people(books)
    org, acc, leaf = books.org, books.accountant, books.leaf
    plan, ha, hb = posted_plan(books)
    b2 = leaf("102", 2)
    payout.set_household_account(org, user=cash, household_id=ha.id, bank_name="农商银行", account_no="6228001111")
    first = payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=b2, household_ids=[ha.id])
    rows = payout.batch_rows(first, user=cash)
    result = ("序号,户号,户主,身份证号,卡号,金额,处理结果,失败原因\n"
              f"1,{rows[1][1]},张一,11010519491231002X,6228001111,24640.00,成功,\n").encode("utf-8")
    v = payout.import_result(first, user=acc, filename="回盘.csv", data=result, date=dt.date(2026, 1, 5))
    vouchers.review_voucher(v, user=books.reviewer)
    vouchers.post_voucher(v, user=acc)
    red = vouchers.reverse_voucher(v, user=acc, date=dt.date(2026, 1, 8))
    vouchers.review_voucher(red, user=books.reviewer)
    vouchers.post_voucher(red, user=acc)
    db.session.commit()
    again = payout.create_batch(org, user=cash, plan_id=plan.id, pay_from=b2, household_ids=[ha.id])
    assert payout.batch_rows(again, user=cash) == rows
    paid = payout.import_result(again, user=acc, filename="回盘.csv", data=result, date=dt.date(2026, 1, 12))
    assert paid.total_debit == D("24640.00")
