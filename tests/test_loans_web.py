"""贷款贴息 pages: the claim flow by the three roles with the worked figures of tests/test_loans.py (7,750.00 +
2,531.67 + 2,100.00 = 12,381.67 against a fund of 10,000.00), every refusal shown beside its field with nothing
written, and who may see and do what."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coop.core.extensions import db
from coop.models import Loan, LoanEvent, LprRate, SubsidyClaim, SubsidyPolicy, Voucher
from coop.services import loans, opening, orgs, users
from tests.conftest import count
from tests.test_loans import loan_books  # noqa: F401  (fixture)

D = Decimal
PERIOD = {"period_start": "2025-01-01", "period_end": "2025-07-01"}


def text(r) -> str:
    return r.get_data(as_text=True)


@pytest.fixture
def web(app, loan_books, auth):
    books, loan, policy = loan_books
    return books, loan, policy, {who: auth.browser(getattr(books, who).username)
                                 for who in ("accountant", "auditor", "county_admin")}


def snapshot() -> tuple:
    return tuple(count(m) for m in (Loan, LoanEvent, SubsidyClaim, Voucher, LprRate, SubsidyPolicy))


def test_claim_flow_by_village_township_and_county(web):
    books, loan, policy, c = web
    org = books.org
    base = f"/o/{org.id}"

    # the register: outstanding today is 1,000,000 − 400,000
    r = c["accountant"].get(f"{base}/loans/")
    assert r.status_code == 200 and "NS-2025-001" in text(r) and "600,000.00" in text(r) and "4.2%" in text(r)
    r = c["accountant"].get(f"{base}/loans/{loan.id}")
    page = text(r)
    assert "结息单0701" in page and all(f"/vouchers/{e.voucher_id}" in page for e in loan.events)

    # preview: the working line by line, nothing written
    before = snapshot()
    r = c["accountant"].post(f"{base}/loans/{loan.id}/claims/new", data={**PERIOD, "action": "preview"})
    page = text(r)
    assert r.status_code == 200, page
    for figure in ("7,750.00", "2,531.67", "2,100.00", "12,381.67", "16,000.00", "3.1%", "3%"):
        assert figure in page, figure
    assert 'value="12381.67"' in page  # the amount defaults to the eligible amount
    assert snapshot() == before

    # one fen above the eligible amount: refused beside the field
    r = c["accountant"].post(f"{base}/loans/{loan.id}/claims/new",
                             data={**PERIOD, "claimed": "12381.68", "action": "file"})
    assert r.status_code == 422 and "超出 0.01" in text(r) and "field-error" in text(r)
    assert snapshot() == before

    r = c["accountant"].post(f"{base}/loans/{loan.id}/claims/new",
                             data={**PERIOD, "claimed": "12381.67", "action": "file"})
    assert r.status_code == 302
    claim = db.session.query(SubsidyClaim).one()
    assert (claim.status, claim.claimed, claim.eligible) == ("filed", D("12381.67"), D("12381.67"))

    # the township: the queue shows it; county steps are not theirs; a rejection needs a reason
    r = c["auditor"].get("/county/subsidy/review")
    assert r.status_code == 200 and f"#{claim.id}" in text(r)
    r = c["auditor"].post(f"/county/subsidy/claims/{claim.id}/approve", data={"decision": "approve"})
    assert r.status_code == 403
    r = c["auditor"].post(f"/county/subsidy/claims/{claim.id}/review", data={"decision": "reject", "reason": ""})
    assert r.status_code == 422 and "退回时请填写原因" in text(r)
    db.session.expire_all()
    assert claim.status == "filed"
    r = c["auditor"].post(f"/county/subsidy/claims/{claim.id}/review",
                          data={"decision": "reject", "reason": "结息单不清晰"})
    assert r.status_code == 302
    db.session.expire_all()
    assert (claim.status, claim.reject_reason) == ("rejected", "结息单不清晰")

    # the village sees the reason, corrects and refiles
    r = c["accountant"].get(f"{base}/claims/{claim.id}")
    assert "结息单不清晰" in text(r) and "修改后重新申报" in text(r)
    r = c["accountant"].post(f"{base}/claims/{claim.id}/refile", data={**PERIOD, "action": "preview"})
    assert r.status_code == 200 and "12,381.67" in text(r) and "结息单不清晰" in text(r)
    r = c["accountant"].post(f"{base}/claims/{claim.id}/refile",
                             data={**PERIOD, "claimed": "12000.00", "action": "file"})
    assert r.status_code == 302
    db.session.expire_all()
    assert (claim.status, claim.claimed, claim.reject_reason) == ("filed", D("12000.00"), None)
    assert count(SubsidyClaim) == 1

    r = c["auditor"].post(f"/county/subsidy/claims/{claim.id}/review",
                          data={"decision": "approve", "next": "/county/subsidy/review"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/county/subsidy/review")

    # the county approves, allocates (pro-rata: the one claim gets the whole 10,000.00) and pays
    admin = c["county_admin"]
    assert admin.post(f"/county/subsidy/claims/{claim.id}/approve", data={"decision": "approve"}).status_code == 302
    r = admin.get("/county/subsidy/claims?year=2025&status=approved")
    assert f"#{claim.id}" in text(r) and "12,000.00" in text(r)
    assert admin.post("/county/subsidy/2025/allocate").status_code == 302
    db.session.expire_all()
    assert (claim.status, claim.allocated) == ("allocated", D("10000.00"))
    r = admin.post("/county/subsidy/2025/allocate")
    assert r.status_code == 409 and "已分配" in text(r)
    r = admin.post(f"/county/subsidy/claims/{claim.id}/disburse", data={"date": ""})
    assert r.status_code == 422 and "请填写日期" in text(r)
    r = admin.post(f"/county/subsidy/claims/{claim.id}/disburse", data={"date": "2025-08-01"})
    assert r.status_code == 302
    db.session.expire_all()
    v = db.session.get(Voucher, claim.voucher_id)
    assert v.organization_id == org.id and [(l.account.code, l.debit, l.credit) for l in v.lines] == [
        ("102", D("10000.00"), D("0.00")), ("503", D("0.00"), D("10000.00"))]

    # the dashboard: all used, nothing left; a chart; the fund report as PDF and xlsx
    r = admin.get("/county/subsidy/?year=2025")
    page = text(r)
    assert r.status_code == 200 and "<svg" in page and "东镇" in page
    assert page.count("¥10,000.00") >= 3 and "¥0.00" in page
    r = admin.get("/county/subsidy/2025/report.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet") and r.data[:2] == b"PK"
    r = admin.get("/county/subsidy/2025/report.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data[:4] == b"%PDF"
    # the village sees the payout and its voucher
    r = c["accountant"].get(f"{base}/claims/{claim.id}")
    assert "2025-08-01" in text(r) and f"/vouchers/{v.id}" in text(r)


def test_fund_report_rows(web):
    books, loan, policy, c = web
    claim = loans.file_claim(books.org, loan, start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1),
                             claimed=D("9000.00"), user=books.accountant)
    db.session.commit()
    from coop.web.loans import fund_report

    t = fund_report(books.county, policy)
    assert t.cell(t.rows[0], "claimed") == D("9000.00") and t.cell(t.rows[0], "status") == "村级已申报"
    assert t.cell(t.rows[-1], "claimed") == D("9000.00") and t.rows[-1].style == "total"
    assert "剩余 10,000.00 元" in t.notes[0] and "审批中 9,000.00 元" in t.notes[0]
    assert claim.id


def test_events_and_loans_refused_beside_fields(web):
    books, loan, policy, c = web
    base = f"/o/{books.org.id}"
    before = snapshot()
    # interest without its 结息单
    r = c["accountant"].post(f"{base}/loans/{loan.id}/events", data={
        "kind": "interest", "date": "2025-10-01", "amount": "5000.00", "period_start": "2025-07-01",
        "period_end": "2025-10-01", "evidence": ""})
    assert r.status_code == 422 and "付息必须附银行结息单" in text(r) and 'id="e-evidence"' in text(r)
    # a repayment above what is owed that day
    r = c["accountant"].post(f"{base}/loans/{loan.id}/events", data={
        "kind": "repayment", "date": "2025-10-01", "amount": "700000.00"})
    assert r.status_code == 422 and "超过 2025-10-01 的贷款余额 600,000.00" in text(r)
    # an absurd rate, a bad amount, maturity before start
    r = c["accountant"].post(f"{base}/loans/new", data={
        "lender": "农商银行", "contract_no": "NS-X", "principal": "12.345", "annual_rate": "90%",
        "start_date": "2025-01-01", "maturity_date": "2024-01-01"})
    assert r.status_code == 422
    assert "金额最多两位小数" in text(r)
    r = c["accountant"].post(f"{base}/loans/new", data={
        "lender": "农商银行", "contract_no": "NS-X", "principal": "100000.00", "annual_rate": "90%",
        "start_date": "2025-01-01", "maturity_date": "2024-01-01"})
    assert r.status_code == 422 and "年利率 90.0000% 不合理" in text(r) and "到期日必须晚于起始日" in text(r)
    assert snapshot() == before

    # the good path: a drawdown drafts Dr 102 / Cr 201
    r = c["accountant"].post(f"{base}/loans/new", data={
        "lender": "建设银行", "contract_no": "JH-1", "principal": "200000.00", "annual_rate": "3.85%",
        "start_date": "2025-03-01", "maturity_date": "2026-03-01", "special": "1"})
    assert r.status_code == 302
    new = db.session.query(Loan).filter_by(contract_no="JH-1").one()
    assert (new.annual_rate, new.special) == (D("0.038500"), True)
    r = c["accountant"].post(f"{base}/loans/{new.id}/events", data={
        "kind": "drawdown", "date": "2025-03-01", "amount": "200000.00"})
    assert r.status_code == 302
    v = db.session.get(Voucher, new.events[0].voucher_id)
    assert [(l.account.code, l.debit, l.credit) for l in v.lines] == [
        ("102", D("200000.00"), D("0.00")), ("201", D("0.00"), D("200000.00"))]


def _preview(client, org, loan, **period):
    return client.post(f"/o/{org.id}/loans/{loan.id}/claims/new", data={**PERIOD, **period, "action": "preview"})


def test_bad_claims_refused_with_the_rule_named(web):
    books, loan, policy, c = web
    org, acc = books.org, c["accountant"]
    before = snapshot()
    r = _preview(acc, org, loan, period_start="2024-12-01", period_end="2025-01-01")
    assert r.status_code == 422 and "贴息期间应在贷款期限 2025-01-01 至 2026-01-01 之内" in text(r)
    r = _preview(acc, org, loan, period_start="2025-07-01", period_end="2025-10-01")
    assert r.status_code == 422 and "没有已付利息的记录" in text(r)
    r = _preview(acc, org, loan, period_start="2025-07-01", period_end="2025-06-01")
    assert r.status_code == 422 and "贷款期限" in text(r)
    plain = loans.create_loan(org, lender="建行", contract_no="JH-9", principal=D("1000.00"), annual_rate=D("0.04"),
                              start_date=dt.date(2025, 1, 1), maturity_date=dt.date(2025, 12, 31),
                              user=books.accountant)
    db.session.commit()
    before = snapshot()
    r = _preview(acc, org, plain)
    assert r.status_code == 422 and "该贷款未登记为专项贷款，不能申请贴息" in text(r)
    # overlapping loan-days
    loans.file_claim(org, loan, start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1), claimed=D("9000.00"),
                     user=books.accountant)
    db.session.commit()
    before = snapshot()
    r = acc.post(f"/o/{org.id}/loans/{loan.id}/claims/new",
                 data={"period_start": "2025-06-01", "period_end": "2025-07-01", "claimed": "1.00", "action": "file"})
    assert r.status_code == 422 and "同一贷款的同一天只能申报一次" in text(r)
    # not 村社合一
    books.org.cun_she_he_yi = False
    db.session.commit()
    r = _preview(acc, org, loan, period_start="2025-07-01", period_end="2025-09-01")
    assert r.status_code == 422 and "本组织不是村社合一" in text(r)
    assert snapshot() == before


def test_first_come_beyond_the_fund_refused_on_approval(web):
    books, loan, policy, c = web
    loans.set_policy(books.county, 2025, fund=D("10000.00"), rule="first_come", user=books.county_admin)
    claim = loans.file_claim(books.org, loan, start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1),
                             claimed=D("12000.00"), user=books.accountant)
    loans.review_claim(claim, user=books.auditor, approve=True)
    db.session.commit()
    r = c["county_admin"].post(f"/county/subsidy/claims/{claim.id}/approve", data={"decision": "approve"})
    assert r.status_code == 422 and "贴息资金不足" in text(r) and "超出 2,000.00" in text(r)
    db.session.expire_all()
    assert claim.status == "reviewed" and claim.allocated is None
    # the county sends it back instead; the reason is required
    r = c["county_admin"].post(f"/county/subsidy/claims/{claim.id}/approve", data={"decision": "reject"})
    assert r.status_code == 422 and "退回时请填写原因" in text(r)
    r = c["county_admin"].post(f"/county/subsidy/claims/{claim.id}/approve",
                               data={"decision": "reject", "reason": "资金不足，请按 10,000 元重报"})
    assert r.status_code == 302
    db.session.expire_all()
    assert claim.status == "rejected"


def test_policy_and_lpr_pages(web):
    books, loan, policy, c = web
    admin = c["county_admin"]
    r = admin.get("/county/subsidy/policy/2026")
    assert r.status_code == 200 and 'value="5000000.00"' in text(r)
    before = snapshot()
    r = admin.post("/county/subsidy/policy/2026", data={"fund": "-1", "lpr_multiple": "5", "share": "1.5",
                                                         "rule": "lottery"})
    page = text(r)
    assert r.status_code == 422 and "金额不能为负数" in page and "分配方式应为" in page and "比例应在0到1之间" in page
    r = admin.post("/county/subsidy/policy/2026", data={"fund": "1000", "lpr_multiple": "5", "share": "1"})
    assert r.status_code == 422 and "LPR 倍数应大于0且不超过3" in text(r)
    assert snapshot() == before
    r = admin.post("/county/subsidy/policy/2026", data={"fund": "3000000.00", "lpr_multiple": "1.2", "share": "0.8",
                                                         "org_cap": "50000", "rule": "first_come"})
    assert r.status_code == 302
    p = db.session.query(SubsidyPolicy).filter_by(year=2026).one()
    assert (p.fund, p.lpr_multiple, p.share, p.org_cap, p.rule) == (
        D("3000000.00"), D("1.2"), D("0.8"), D("50000.00"), "first_come")

    r = admin.post("/county/subsidy/lpr", data={"published_on": "2025-06-20", "rate": "-0.01"})
    assert r.status_code == 422 and "不合理" in text(r)
    r = admin.post("/county/subsidy/lpr", data={"published_on": "2025-06-20", "rate": "2.9%"})
    assert r.status_code == 302
    r = admin.get("/county/subsidy/lpr")
    assert "2025-06-20" in text(r) and "2.9%" in text(r)
    # the village accountant and the township auditor cannot change county settings
    assert c["accountant"].get("/county/subsidy/lpr").status_code == 404
    assert c["auditor"].post("/county/subsidy/policy/2026", data={"fund": "1.00"}).status_code == 404
    assert c["auditor"].get("/county/subsidy/").headers["Location"].endswith("/county/subsidy/review")


def test_who_sees_what(web, app, auth):
    books, loan, policy, c = web
    claim = loans.file_claim(books.org, loan, start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1),
                             claimed=D("9000.00"), user=books.accountant)
    other = orgs.create_organization(books.township, name="西村", books_start_year=2025, cun_she_he_yi=True)
    stranger = users.create_user("xicun", "西村会计", "password1")
    users.assign_role(stranger, "accountant", other)
    opening.lock_opening_balances(other, user=stranger)
    db.session.commit()
    s = auth.browser("xicun")
    base = f"/o/{books.org.id}"
    for path in (f"{base}/loans/", f"{base}/loans/{loan.id}", f"{base}/claims/{claim.id}",
                 f"{base}/loans/{loan.id}/claims/new", "/county/subsidy/", "/county/subsidy/claims",
                 "/county/subsidy/review"):
        assert s.get(path).status_code == 404, path
    assert s.post(f"/county/subsidy/claims/{claim.id}/review", data={"decision": "approve"}).status_code == 404
    # a loan of another organization is not found under this one
    assert s.get(f"/o/{other.id}/loans/{loan.id}").status_code == 404
    # the village accountant may not review; the township auditor may not approve or pay
    assert c["accountant"].post(f"/county/subsidy/claims/{claim.id}/review",
                                data={"decision": "approve"}).status_code == 403
    loans.review_claim(claim, user=books.auditor, approve=True)
    db.session.commit()
    assert c["auditor"].post(f"/county/subsidy/claims/{claim.id}/approve",
                             data={"decision": "approve"}).status_code == 403
    assert c["auditor"].post(f"/county/subsidy/claims/{claim.id}/disburse",
                             data={"date": "2025-08-01"}).status_code == 403
    assert c["auditor"].post("/county/subsidy/2025/allocate").status_code == 404
    # the township auditor reads the village's loan pages but gets no forms
    r = c["auditor"].get(f"{base}/loans/{loan.id}")
    assert r.status_code == 200 and "记录放款" not in text(r)
    assert c["auditor"].get(f"{base}/loans/new").status_code == 403
    db.session.expire_all()
    assert claim.status == "reviewed"
