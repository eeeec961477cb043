"""Every multi-step write is one transaction: a fault inside the service after it has already written something
(an inner helper, the audit append, a later step) leaves the database exactly as it was, through the web form and
through the API.

The fault is injected into the service; the test does no rollback of its own. Each request runs in a thread of its
own, as a request does in production: it gets its own app context and database session, which end with the
request. What the database holds afterwards is read from a new session, so only what was committed counts: a
`db.session.commit()` between two steps of a service turns these tests red (see the report of issue #18).
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from coop.core.errors import InvalidState
from coop.core.extensions import db
from coop.ledger import roles as R
from coop.models import Account, Voucher, VoucherLine
from coop.services import audit
from tests.auth import sign_in
from tests.realbooks import real_books  # noqa: F401  (fixture)
from tests.test_cash import MAPPING, SCAN, csv_of
from tests.test_cash import people as cash_people
from tests.test_distribution import approve, make_plan, year_2025  # noqa: F401  (fixture)
from tests.test_members_web import IDS, _fast_password_hashing, people  # noqa: F401  (fixtures)
from tests.test_members_web import roster_csv
from tests.test_setup_imports import xlsx

D = Decimal
#: rows that change on every API call whatever it does (the token's last use)
VOLATILE = {"api_tokens"}


class Fault(RuntimeError):
    """The injected failure (a full disk, a lost connection) — not a CoopError, so no handler expects it."""


def snapshot() -> dict:
    """Every row of every table, read in a new session: what is committed, nothing of the test's own session."""
    with Session(db.engine) as s:
        return {t.name: sorted((tuple(map(repr, row)) for row in s.execute(sa.select(t))), key=repr)
                for t in db.metadata.sorted_tables if t.name not in VOLATILE}


def balances(org_id: int) -> dict[str, Decimal]:
    """Posted balance (debit − credit) per account, read in a new session."""
    fen = sa.func.sum(sa.type_coerce(VoucherLine.debit, sa.BigInteger) - sa.type_coerce(VoucherLine.credit, sa.BigInteger))
    with Session(db.engine) as s:
        rows = s.execute(sa.select(Account.code, fen)
                         .join(VoucherLine, VoucherLine.account_id == Account.id)
                         .join(Voucher, Voucher.id == VoucherLine.voucher_id)
                         .where(Voucher.organization_id == org_id, Voucher.status == "posted")
                         .group_by(Account.code))
        return {code: D(amount) / 100 for code, amount in rows if amount}


def alone(app, send):
    """Runs send(client) in a thread of its own (no app context inherited): the request has its own app context
    and session and ends as in production."""
    out = {}

    def run():
        try:
            out["r"] = send()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            out["e"] = exc

    db.session.remove()  # the test's own session holds no transaction while the request runs
    t = threading.Thread(target=run)
    t.start()
    t.join(120)
    if "e" in out:
        raise out["e"]
    return out["r"]


class Caller:
    """A web user (session cookie) or an API client (bearer token), each request alone."""

    def __init__(self, app, auth, user, via: str):
        self.app, self.via = app, via
        self.client = app.test_client()
        if via == "web":
            name = user.username
            alone(app, lambda: sign_in(self.client, name))
            self.headers = {}
        else:
            self.headers = auth.headers(user)

    def post(self, url: str, headers: dict | None = None, **kw):
        return alone(self.app, lambda: self.client.post(url, headers=self.headers | (headers or {}), **kw))

    def send(self, web: tuple[str, dict], api: tuple[str, dict], api_headers: dict | None = None):
        """POSTs the web form or the API body, whichever this caller is."""
        if self.via == "web":
            url, form = web
            return self.post(url, data=form)
        url, body = api
        return self.post(url, json=body, headers=api_headers)

    def succeeded(self, r) -> bool:
        """The web redirects after a write; the API answers 200 or 201."""
        return r.status_code == 302 if self.via == "web" else r.status_code in (200, 201)


class Spy:
    """How often the patched function was called, and how often it failed."""

    def __init__(self):
        self.calls = self.raised = 0


@pytest.fixture
def faulty(app, monkeypatch):
    """faulty(module, name, when=…) makes module.name raise when `when(*args)` holds (default: always). Faults
    become a 500 answer (not an exception in the test), as in production."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def fail(target, name, *, when=lambda *a, **kw: True, error=None):
        real, spy = getattr(target, name), Spy()

        def failing(*a, **kw):
            spy.calls += 1
            if when(*a, **kw):
                spy.raised += 1
                raise error or Fault("模拟故障：磁盘已满")
            return real(*a, **kw)

        monkeypatch.setattr(target, name, failing)
        return spy

    return fail


def fail_on_audit(faulty, action: str, error=None):
    """The audit append of `action` fails: everything the service wrote before it is in the session."""
    return faulty(audit, "log", when=lambda act, **kw: act == action, error=error)


def assert_failed(r, via: str):
    """A 500, as the Chinese error page or the API's envelope; no detail of the fault shown."""
    assert r.status_code == 500, r.get_data(as_text=True)[:500]
    if via == "api":
        assert r.get_json() == {"status": 500, "code": "server_error", "message": "系统错误，请稍后再试"}
    else:
        assert "系统错误" in r.get_data(as_text=True)
    assert "磁盘已满" not in r.get_data(as_text=True)


VIA = pytest.mark.parametrize("via", ["web", "api"])


# ---------------------------------------------------------------- posting a voucher and its audit entry


@VIA
@pytest.mark.parametrize("fault", ["crash", "refusal"])
def test_posting_a_voucher_is_one_transaction(app, books, auth, faulty, monkeypatch, via, fault):
    """The voucher is marked posted, then its audit entry fails: by a crash (500) or by a refusal the views
    expect (a CoopError: 409 with its message, on the voucher page or in the envelope)."""
    books.lock_opening({"101": "1000.00", "301": "-1000.00"})
    books.post("2025-03-01", ("101", "500.00", ""), ("501", "", "500.00"), summary="经营收入")
    v = books.draft("2025-03-10", ("513", "120.00", ""), ("101", "", "120.00"), summary="办公用品")
    from coop.services import vouchers

    vouchers.review_voucher(v, user=books.reviewer)
    db.session.commit()
    org_id, vid = books.org.id, v.id
    caller = Caller(app, auth, books.accountant, via)
    refusal = InvalidState("模拟：审计日志拒绝写入")
    spy = fail_on_audit(faulty, "voucher.post", error=refusal if fault == "refusal" else None)
    before = snapshot()
    web, api = (f"/o/{org_id}/vouchers/{vid}/post", {}), (f"/api/v1/orgs/{org_id}/vouchers/{vid}/post", {})
    r = caller.send(web, api)
    if fault == "crash":
        assert_failed(r, via)
    elif via == "api":
        assert r.status_code == 409 and r.get_json() == {
            "status": 409, "code": "invalid_state", "message": "模拟：审计日志拒绝写入",
            "errors": {"_schema": ["模拟：审计日志拒绝写入"]}}
    else:
        assert r.status_code == 409 and "模拟：审计日志拒绝写入" in r.get_data(as_text=True)
    assert spy.raised == 1
    assert snapshot() == before
    assert balances(org_id) == {"101": D("500.00"), "501": D("-500.00")}
    with Session(db.engine) as s:
        assert s.get(Voucher, vid).status == "reviewed"
    # without the fault the same request posts: 101 500.00 − 120.00 = 380.00
    monkeypatch.undo()
    r = caller.send(web, api)
    assert caller.succeeded(r), r.get_data(as_text=True)[:300]
    assert balances(org_id) == {"101": D("380.00"), "501": D("-500.00"), "513": D("120.00")}


# ---------------------------------------------------------------- closing December with 损益结转


@VIA
def test_closing_december_with_its_carry_over_is_one_transaction(app, books, auth, faulty, monkeypatch, via):
    """The carry-over vouchers are generated and posted, the month marked closed, then the audit append fails."""
    books.lock_opening({"101": "1000.00", "301": "-1000.00"})
    books.post("2025-12-05", ("101", "800.00", ""), ("501", "", "800.00"), summary="经营收入")
    books.post("2025-12-06", ("511", "300.00", ""), ("101", "", "300.00"), summary="经营支出")
    books.close_through(2025, 11)
    db.session.commit()
    org_id = books.org.id
    caller = Caller(app, auth, books.accountant, via)
    spy = fail_on_audit(faulty, "period.close")
    before = snapshot()
    web = (f"/o/{org_id}/periods/close", {"year": "2025", "month": "12"})
    api = (f"/api/v1/orgs/{org_id}/periods/close", {"year": 2025, "month": 12})
    r = caller.send(web, api)
    assert_failed(r, via)
    assert spy.raised == 1
    assert snapshot() == before
    assert balances(org_id) == {"101": D("500.00"), "501": D("-800.00"), "511": D("300.00")}
    monkeypatch.undo()
    r = caller.send(web, api)
    assert caller.succeeded(r), r.get_data(as_text=True)[:300]
    # 800.00 income − 300.00 expense = 500.00 carried over, the income and expense accounts emptied
    assert balances(org_id) == {"101": D("500.00"), "32202": D("-500.00")}


# ---------------------------------------------------------------- a distribution plan: its posting and its 分红清册


@VIA
def test_posting_a_distribution_plan_with_its_household_rows_is_one_transaction(app, year_2025, auth, faulty,
                                                                                 monkeypatch, via):
    """The 收益分配 voucher is posted and the per-household rows written, then a later step fails."""
    from coop.models import DistributionPlan, HouseholdDividend
    from coop.services import distribution

    books, (ha, hb) = year_2025
    plan = make_plan(books)
    approve(plan, books)
    db.session.commit()
    org_id, pid, ha_id, hb_id = books.org.id, plan.id, ha.id, hb.id
    caller = Caller(app, auth, books.accountant, via)
    spy = faulty(distribution, "dividends_digest")  # called once the voucher and the rows are written
    before, books_before = snapshot(), balances(org_id)
    web = (f"/o/{org_id}/distribution/{pid}/post", {"date": "2026-01-15"})
    api = (f"/api/v1/orgs/{org_id}/distribution-plans/{pid}/post", {"date": "2026-01-15"})
    r = caller.send(web, api)
    assert_failed(r, via)
    assert spy.raised == 1
    assert snapshot() == before and balances(org_id) == books_before
    monkeypatch.undo()
    r = caller.send(web, api)
    assert caller.succeeded(r), r.get_data(as_text=True)[:300]
    with Session(db.engine) as s:
        assert s.get(DistributionPlan, pid).status == "posted"
        # the worked example: 90,000.00 over 500 units, 180.00 a unit: A 308 units, B 192
        assert dict(s.execute(sa.select(HouseholdDividend.household_id, HouseholdDividend.amount)).all()) == {
            ha_id: D("55440.00"), hb_id: D("34560.00")}


# ---------------------------------------------------------------- paying dividends


@VIA
def test_paying_dividends_is_one_transaction(app, year_2025, auth, faulty, monkeypatch, via):
    """The payment voucher and the payment rows are written (and the idempotency key claimed), then the audit
    append fails; the same key then pays once."""
    from coop.models import DividendPayment
    from coop.services import distribution

    books, (ha, hb) = year_2025
    plan = make_plan(books)
    approve(plan, books)
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    db.session.commit()
    org_id, pid, households = books.org.id, plan.id, [str(ha.id), str(hb.id)]
    caller = Caller(app, auth, books.accountant, via)
    spy = fail_on_audit(faulty, "distribution.pay")
    before = snapshot()
    web = (f"/o/{org_id}/distribution/{pid}/dividends",
           {"date": "2026-01-20", "pay_from": "102", "household_ids": households, "idempotency_key": "pay-2025-1"})
    api = (f"/api/v1/orgs/{org_id}/distribution-plans/{pid}/payments", {"date": "2026-01-20", "pay_from": "102"})
    key = {"Idempotency-Key": "pay-2025-1"}
    r = caller.send(web, api, key)
    assert_failed(r, via)
    assert spy.raised == 1
    assert snapshot() == before
    monkeypatch.undo()
    r = caller.send(web, api, key)
    assert caller.succeeded(r), r.get_data(as_text=True)[:300]
    with Session(db.engine) as s:
        paid = s.scalars(sa.select(DividendPayment.amount)).all()
    assert sorted(paid) == [D("34560.00"), D("55440.00")]  # 90,000.00 in one draft voucher


# ---------------------------------------------------------------- a share transfer


@VIA
def test_a_share_transfer_is_one_transaction(app, year_2025, auth, faulty, monkeypatch, via):
    """The action and its two register rows are written, then reissuing the certificates fails."""
    from coop.models import Member
    from coop.services import shares

    books, _ = year_2025
    giver = db.session.scalar(sa.select(Member).where(Member.name == "张二"))  # 96 population units
    taker = db.session.scalar(sa.select(Member).where(Member.name == "李一"))  # 96 population units
    org_id, giver_id, taker_id = books.org.id, giver.id, taker.id
    caller = Caller(app, auth, books.accountant, via)
    spy = faulty(shares, "_reissue")
    before = snapshot()
    fields = {"from_member_id": giver_id, "to_member_id": taker_id, "share_class": "population", "units": "40",
              "date": "2025-06-01", "reference": "转让协议1号"}
    web = (f"/o/{org_id}/shares/events/transfer", {k: str(v) for k, v in fields.items()})
    api = (f"/api/v1/orgs/{org_id}/share-actions/transfer", fields)
    r = caller.send(web, api)
    assert_failed(r, via)
    assert spy.raised == 1
    assert snapshot() == before
    monkeypatch.undo()
    r = caller.send(web, api)
    assert caller.succeeded(r), r.get_data(as_text=True)[:300]
    with app.app_context():
        held = {h.member_id: h.units for h in shares.holdings(db.session.get(type(books.org), org_id))
                if h.share_class == "population"}
    assert held[giver_id] == D("56.0000") and held[taker_id] == D("136.0000")  # 96 − 40, 96 + 40


# ---------------------------------------------------------------- imports: roster, chart, opening balances


def _upload(caller, web_url: str, api_url: str, content: bytes, filename: str, **fields):
    """The web page's import step (the checked file carried over as base64) or the API's multipart upload."""
    if caller.via == "web":
        form = {"step": "import", "data": base64.b64encode(content).decode(), "filename": filename, **fields}
        return caller.post(web_url, data=form)
    return caller.post(api_url, data={"file": (io.BytesIO(content), filename), **fields},
                       content_type="multipart/form-data")


@VIA
def test_a_roster_import_is_one_transaction(app, people, auth, faulty, monkeypatch, via):
    """The second person of the file fails: the first household and its head were already written."""
    from coop.models import Household, Member
    from coop.services import members

    org_id = people.org.id
    caller = Caller(app, auth, people.books.accountant, via)
    spy = faulty(members, "add_member", when=lambda *a, **kw: spy.calls == 2)
    before = snapshot()
    content = roster_csv([("0101", "钱七", IDS[5], "钱七", IDS[5], "户主", "13800000000"),
                          ("0101", "钱七", IDS[5], "钱小七", IDS[6], "子", ""),
                          ("", "孙八", IDS[7], "孙八", IDS[7], "户主", "")])
    web, api = f"/o/{org_id}/members/import", f"/api/v1/orgs/{org_id}/roster/import"
    r = _upload(caller, web, api, content, "名册.csv")
    assert_failed(r, via)
    assert (spy.calls, spy.raised) == (2, 1)
    assert snapshot() == before
    monkeypatch.undo()
    r = _upload(caller, web, api, content, "名册.csv")
    assert caller.succeeded(r), r.get_data(as_text=True)[:300]
    after = snapshot()
    # 2 households (钱七 with his son, 孙八 alone), 3 people — and the same file is not taken twice
    assert len(after[Household.__tablename__]) == len(before[Household.__tablename__]) + 2
    assert len(after[Member.__tablename__]) == len(before[Member.__tablename__]) + 3


@VIA
def test_a_chart_import_is_one_transaction(app, books, auth, faulty, monkeypatch, via):
    """The parent 10201 is added, then adding its child fails."""
    from coop.services import chart_import

    org_id = books.org.id
    caller = Caller(app, auth, books.accountant, via)
    spy = faulty(chart_import, "add_detail_account", when=lambda *a, **kw: spy.calls == 2)
    before = snapshot()
    content = xlsx([("科目编码", "科目名称"), ("1020101", "活期"), ("10201", "农业银行")])
    web, api = f"/o/{org_id}/import/chart", f"/api/v1/setup/orgs/{org_id}/chart/import"
    r = _upload(caller, web, api, content, "科目.xlsx")
    assert_failed(r, via)
    assert (spy.calls, spy.raised) == (2, 1)
    assert snapshot() == before
    monkeypatch.undo()
    r = _upload(caller, web, api, content, "科目.xlsx")
    assert caller.succeeded(r), r.get_data(as_text=True)[:300]
    with Session(db.engine) as s:
        added = s.scalars(sa.select(Account.code).where(Account.organization_id == org_id,
                                                        Account.code.in_(["10201", "1020101"]))).all()
    assert sorted(added) == ["10201", "1020101"]


@VIA
def test_an_opening_balance_import_is_one_transaction(app, books, auth, faulty, monkeypatch, via):
    """The balances are replaced, then locking them fails."""
    from coop.models import Organization
    from coop.services import chart_import

    org_id = books.org.id
    caller = Caller(app, auth, books.accountant, via)
    spy = faulty(chart_import, "lock_opening_balances")  # as the import looks it up
    before = snapshot()
    content = xlsx([("科目编码", "科目名称", "往来单位", "借方余额", "贷方余额"), ("101", "库存现金", "", "1000.00", ""),
                    ("112", "应收款", "张三", "300.00", ""), ("301", "资本", "", "", "1300.00")])
    web, api = f"/o/{org_id}/import/opening", f"/api/v1/setup/orgs/{org_id}/opening/import"
    r = _upload(caller, web, api, content, "期初.xlsx", system="2023", lock="1")
    assert_failed(r, via)
    assert spy.raised == 1
    assert snapshot() == before
    monkeypatch.undo()
    r = _upload(caller, web, api, content, "期初.xlsx", system="2023", lock="1")
    assert caller.succeeded(r), r.get_data(as_text=True)[:300]
    with Session(db.engine) as s:
        assert s.get(Organization, org_id).opening_locked
    with app.app_context():
        from coop.services.balances import opening_balances

        got = opening_balances(db.session.get(Organization, org_id))
    assert {k: v for k, v in got.items() if v} == {"101": D("1000.00"), "112": D("300.00"), "301": D("-1300.00")}


# ---------------------------------------------------------------- 出纳: a bank statement


@VIA
def test_a_bank_statement_import_is_one_transaction(app, real_books, auth, faulty, monkeypatch, via):
    """The statement, its lines and the remembered columns are written, then the audit append fails."""
    from coop.models.cash import BankStatementLine
    from coop.services import bank, users

    books = real_books
    cash = users.create_user("chuna", "出纳员", "password1")
    users.assign_role(cash, "cashier", books.org)
    b1 = books.leaf("102", 1)
    bank.set_account(books.org, user=cash, account_code=b1, bank_name="农商银行")
    db.session.commit()
    org_id = books.org.id
    caller = Caller(app, auth, cash, via)
    spy = fail_on_audit(faulty, "bank.import")
    before = snapshot()
    content = csv_of([("2025-03-03", "收租", "100.00", "", "A1"), ("2025-03-20", "结息", "1.23", "", "B")],
                     "5000000.00")

    def send():
        if via == "web":
            return caller.post(f"/o/{org_id}/cash/bank/import", content_type="multipart/form-data",
                               data={"account_code": b1, **MAPPING, "file": (io.BytesIO(content), "3月.csv")})
        return caller.post(f"/api/v1/orgs/{org_id}/bank-statements", json={
            "account_code": b1, "filename": "3月.csv", "data": base64.b64encode(content).decode(), **MAPPING})

    assert_failed(send(), via)
    assert spy.raised == 1
    assert snapshot() == before
    monkeypatch.undo()
    r = send()
    assert caller.succeeded(r), r.get_data(as_text=True)[:300]
    with Session(db.engine) as s:
        amounts = s.scalars(sa.select(BankStatementLine.amount).order_by(BankStatementLine.seq)).all()
    assert amounts == [D("100.00"), D("1.23")]  # closing 5,000,000.00 + 100.00 + 1.23


# ---------------------------------------------------------------- 报账: an approved request becomes a draft


@VIA
def test_a_spending_request_becoming_a_draft_is_one_transaction(app, real_books, auth, faulty, monkeypatch, via):
    """The draft voucher is written, then attaching the request's scan to it fails."""
    from coop.models.cash import SpendingRequest
    from coop.services import attachments, spending

    books = real_books
    fg, _, _ = cash_people(books)
    req = spending.file_request(books.org, user=books.accountant, handler="王会计", purpose="购买办公用品",
                                payee="县城文具店", amount=D("300.00"), category=R.EXPENSE_ADMIN,
                                spent_on=dt.date(2025, 3, 1), scans=SCAN)
    deciders = {"head": books.reviewer, "finance_group": fg, "township": books.auditor}
    while (step := spending.next_step(req)) is not None:
        spending.decide(req, user=deciders[step], step=step, decision="approve")
    db.session.commit()
    assert req.status == "approved"
    org_id, rid, b1 = books.org.id, req.id, books.leaf("102", 1)
    caller = Caller(app, auth, books.accountant, via)
    spy = faulty(attachments, "add_attachment")
    before, books_before = snapshot(), balances(org_id)
    body = {"date": "2025-03-06", "pay_from": b1}
    r = caller.send((f"/o/{org_id}/cash/requests/{rid}/voucher", body),
                    (f"/api/v1/orgs/{org_id}/spending-requests/{rid}/voucher", body))
    assert_failed(r, via)
    assert spy.raised == 1
    assert snapshot() == before and balances(org_id) == books_before
    monkeypatch.undo()
    r = caller.send((f"/o/{org_id}/cash/requests/{rid}/voucher", body),
                    (f"/api/v1/orgs/{org_id}/spending-requests/{rid}/voucher", body))
    assert caller.succeeded(r), r.get_data(as_text=True)[:300]
    with Session(db.engine) as s:
        req = s.get(SpendingRequest, rid)
        v = s.get(Voucher, req.voucher_id)
        assert req.status == "vouchered" and v.status == "draft" and len(v.attachments) == 1
        assert sorted((l.debit, l.credit) for l in v.lines) == [(D("0.00"), D("300.00")), (D("300.00"), D("0.00"))]
