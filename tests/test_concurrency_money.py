"""Money and shares cannot move twice (issue #16), on SQLite and PostgreSQL: 8 requests at once through the real API
(threads, each with its own app context and database session, released together by a barrier) pay a plan's
dividends once, transfer the same units once and receive a 飞地 return once; a repeated Idempotency-Key or form
token answers the first result; `coop verify` refuses negative holdings and households paid more than allocated."""
from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import current_app

from coop.core.extensions import db
from coop.models import DividendPayment, DistributionPlan, Member, ShareAction, ShareEvent, Voucher
from coop.services import distribution, integrity_money, joint, members, shares
from tests.test_distribution import approve, make_plan, year_2025  # noqa: F401  (fixture)
from tests.test_joint import project  # noqa: F401  (fixture)

D = Decimal
N = 8


def race(app, requests: list):
    """Send the requests (callables taking a test client) from N threads at once; their responses, in order."""
    barrier, out = threading.Barrier(len(requests)), [None] * len(requests)
    db.session.remove()  # the test's own session holds nothing while the threads run

    def work(i, send):
        client = app.test_client()
        barrier.wait()
        try:
            out[i] = send(client)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            out[i] = exc

    threads = [threading.Thread(target=work, args=(i, r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not [r for r in out if isinstance(r, Exception)], out
    return out


@pytest.fixture
def posted_plan(year_2025):
    """The worked example posted: household 0001 gets 55,440.00 and 0002 34,560.00 (90,000.00 in all)."""
    books, households = year_2025
    plan = make_plan(books)
    approve(plan, books)
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    db.session.commit()
    return books, plan.id


def payment_vouchers(org_id) -> int:
    return db.session.scalar(sa.select(sa.func.count(sa.distinct(DividendPayment.voucher_id))).join(
        Voucher, Voucher.id == DividendPayment.voucher_id).where(Voucher.organization_id == org_id))


def paid_total(plan_id) -> Decimal:
    plan = db.session.get(DistributionPlan, plan_id)
    return sum((s.paid + s.pending for s in distribution.dividend_status(plan)), D("0.00"))


def test_dividends_are_paid_once_by_eight_requests_at_once(posted_plan, auth):
    books, plan_id = posted_plan
    headers, app = auth.headers(books.accountant), current_app._get_current_object()
    url = f"/api/v1/orgs/{books.org.id}/distribution-plans/{plan_id}/payments"
    body = {"date": "2026-01-20", "pay_from": "102"}
    out = race(app, [lambda c: c.post(url, json=body, headers=headers)] * N)
    codes = sorted(r.status_code for r in out)
    assert codes == [201] + [422] * (N - 1), [(r.status_code, r.get_json()) for r in out]
    [ok] = [r for r in out if r.status_code == 201]
    assert ok.get_json()["total"] == "90000.00" and ok.get_json()["households"] == 2
    assert all("没有未发放的分红" in r.get_json()["message"] for r in out if r.status_code == 422)
    assert payment_vouchers(books.org.id) == 1
    assert paid_total(plan_id) == D("90000.00")
    assert integrity_money.overpaid_households() == []
    # the one voucher debits 211 once a household, on the label its dividend was posted under
    v = db.session.get(Voucher, ok.get_json()["voucher_id"])
    assert [(l.counterparty, l.debit) for l in v.lines if l.debit] == [("0001 张一", D("55440.00")),
                                                                       ("0002 李一", D("34560.00"))]


def test_the_same_units_are_transferred_once_by_eight_requests_at_once(year_2025, auth):
    books, (ha, hb) = year_2025
    giver = db.session.scalar(sa.select(Member).where(Member.name == "张二"))  # 96 population units
    taker = db.session.scalar(sa.select(Member).where(Member.name == "李一"))
    headers, app = auth.headers(books.accountant), current_app._get_current_object()
    url = f"/api/v1/orgs/{books.org.id}/share-actions/transfer"
    body = {"from_member_id": giver.id, "to_member_id": taker.id, "share_class": "population", "units": "96",
            "date": "2025-06-01", "reference": "转让协议1号"}
    giver_id, org = giver.id, books.org
    out = race(app, [lambda c: c.post(url, json=body, headers=headers)] * N)
    codes = sorted(r.status_code for r in out)
    assert codes == [201] + [422] * (N - 1), [(r.status_code, r.get_json()) for r in out]
    assert all("不足 96" in r.get_json()["message"] for r in out if r.status_code == 422)
    held = {(h.member_id, h.share_class): h.units for h in shares.holdings(org)}
    assert held.get((giver_id, "population"), D(0)) == 0
    assert held[(taker.id, "population")] == D("192.0000")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ShareAction).where(
        ShareAction.kind == "transfer")) == 1
    assert integrity_money.negative_holdings() == []


def test_a_return_is_received_once_by_eight_requests_at_once(project, auth):
    books, p, parts, villages, operator = project
    ret = joint.declare_return(p, year=2025, profit=D("400000.00"), date=dt.date(2025, 12, 31),
                               user=books.county_admin)
    db.session.commit()
    line = next(l for l in ret.lines if l.participant_id == parts[0].id)  # 209,917.81 from the operator
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher))
    headers, app = auth.headers(books.county_admin), current_app._get_current_object()
    url = f"/api/v1/joint/projects/{p.id}/return-lines/{line.id}/receipts"
    out = race(app, [lambda c: c.post(url, json={"date": "2026-01-10"}, headers=headers)] * N)
    codes = sorted(r.status_code for r in out)
    assert codes == [200] + [409] * (N - 1), [(r.status_code, r.get_json()) for r in out]
    assert all("已经收到" in r.get_json()["message"] for r in out if r.status_code == 409)
    # one receipt: the village's Dr 102 / Cr 112 and the operator's Dr 211 / Cr 102
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == before + 2
    db.session.expire_all()
    assert db.session.get(type(line), line.id).operator_paid_on == dt.date(2026, 1, 10)


def test_a_repeated_idempotency_key_answers_the_first_payment(posted_plan, auth):
    """A client retry or a double click with the same key: one voucher, the same answer every time."""
    books, plan_id = posted_plan
    headers, app = auth.headers(books.accountant), current_app._get_current_object()
    url = f"/api/v1/orgs/{books.org.id}/distribution-plans/{plan_id}/payments"
    body = {"date": "2026-01-20", "pay_from": "102"}
    keyed = headers | {"Idempotency-Key": "pay-2025-dividends-1"}
    out = race(app, [lambda c: c.post(url, json=body, headers=keyed)] * 4)
    assert [r.status_code for r in out] == [201] * 4, [r.get_json() for r in out]
    assert len({r.get_json()["voucher_id"] for r in out}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in out) == 3
    again = app.test_client().post(url, json=body, headers=keyed)
    assert again.status_code == 201 and again.get_json() == out[0].get_json()
    assert payment_vouchers(books.org.id) == 1 and paid_total(plan_id) == D("90000.00")
    # another key is another request: nothing is left to pay
    r = app.test_client().post(url, json=body, headers=headers | {"Idempotency-Key": "pay-2025-dividends-2"})
    assert r.status_code == 422 and "没有未发放的分红" in r.get_json()["message"]


def test_a_double_click_on_the_payment_form_creates_one_voucher(posted_plan, auth):
    books, plan_id = posted_plan
    app = current_app._get_current_object()
    page = f"/o/{books.org.id}/distribution/{plan_id}/dividends"
    client = app.test_client()
    auth.login("kuaiji")
    form = client.get(page).get_data(as_text=True)
    token = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    households = [str(d.household_id) for d in db.session.get(DistributionPlan, plan_id).dividends]
    data = {"date": "2026-01-20", "pay_from": "102", "household_ids": households, "idempotency_key": token}
    first, second = client.post(page, data=data), client.post(page, data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert payment_vouchers(books.org.id) == 1 and paid_total(plan_id) == D("90000.00")


def test_verify_refuses_negative_holdings_and_overpaid_households(posted_plan, app):
    """What the races above used to leave behind, written past the services: verify names each."""

    books, plan_id = posted_plan
    v = distribution.pay_dividends(db.session.get(DistributionPlan, plan_id), household_ids=None,
                                   date=dt.date(2026, 1, 20), pay_from="102", user=books.accountant)
    db.session.commit()
    assert integrity_money.check() == []
    # the second payment of the unlocked code: the same households again, on the same voucher
    for p in list(db.session.scalars(sa.select(DividendPayment).where(DividendPayment.voucher_id == v.id))):
        db.session.add(DividendPayment(dividend_id=p.dividend_id, amount=p.amount, date=p.date, voucher_id=v.id))
    # the second transfer of 张二's 96 units
    giver = db.session.scalar(sa.select(Member).where(Member.name == "张二"))
    taker = db.session.scalar(sa.select(Member).where(Member.name == "李一"))
    for _ in range(2):
        a = ShareAction(organization_id=books.org.id, date=dt.date(2026, 2, 1), kind="transfer", reference="x",
                        created_by_id=books.accountant.id)
        a.events.extend([ShareEvent(share_class="population", member_id=giver.id, household_id=giver.household_id,
                                    units=D("-96")),
                         ShareEvent(share_class="population", member_id=taker.id, household_id=taker.household_id,
                                    units=D("96"))])
        db.session.add(a)
    db.session.commit()
    problems = integrity_money.check()
    assert problems == [
        "东村股份经济合作社：股权登记出现负数持股（成员 %d，户 %d，population -96 股）" % (giver.id, giver.household_id),
        "东村股份经济合作社 2025年度分红：第 0001 户应分 55440.00 元，已发放 110880.00 元，超额发放",
        "东村股份经济合作社 2025年度分红：第 0002 户应分 34560.00 元，已发放 69120.00 元，超额发放",
    ]
    result = app.test_cli_runner().invoke(args=["coop", "verify"])
    assert result.exit_code == 1
    assert "负数持股" in result.output and "超额发放" in result.output


def run_at_once(app, jobs: list):
    """Each job (a callable) in its own thread, app context and session, released together; each commits. Returns
    "ok" or the refusal's message per job."""
    from coop.core.errors import CoopError

    barrier, out = threading.Barrier(len(jobs)), [None] * len(jobs)
    db.session.remove()

    def work(i, job):
        with app.app_context():
            barrier.wait()
            try:
                job()
                db.session.commit()
                out[i] = "ok"
            except CoopError as exc:
                db.session.rollback()
                out[i] = exc.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_an_inheritance_is_recorded_once_by_eight_requests_at_once(year_2025, auth):
    """8 × 继承 of 张三's units by 张二: the first moves them; the others find nothing left to inherit."""
    books, _ = year_2025
    dead = db.session.scalar(sa.select(Member).where(Member.name == "张三"))
    heir = db.session.scalar(sa.select(Member).where(Member.name == "张二"))
    members.record_membership_event(dead, "lost_death", date=dt.date(2025, 5, 1), evidence="死亡证明")  # RULES §6
    db.session.commit()
    headers, app = auth.headers(books.accountant), current_app._get_current_object()
    url = f"/api/v1/orgs/{books.org.id}/share-actions/inherit"
    body = {"deceased_id": dead.id, "heir_id": heir.id, "date": "2025-06-01", "reference": "继承公证书1号"}
    dead_id, heir_id, org = dead.id, heir.id, books.org
    out = race(app, [lambda c: c.post(url, json=body, headers=headers)] * N)
    assert sorted(r.status_code for r in out) == [201] + [422] * (N - 1), [r.get_json() for r in out]
    held = {(h.member_id, h.share_class): h.units for h in shares.holdings(org)}
    assert held.get((dead_id, "population"), D(0)) == 0 and held[(heir_id, "population")] == D("192.0000")
    assert integrity_money.negative_holdings() == []


def test_a_buy_back_is_made_once_by_eight_requests_at_once(year_2025, auth):
    """8 × 有偿退出 of 20 of 张二's 96 units (the yearly limit is 5% of 500 = 25): one buy-back, one voucher."""
    books, _ = year_2025
    m = db.session.scalar(sa.select(Member).where(Member.name == "张二"))
    headers, app = auth.headers(books.accountant), current_app._get_current_object()
    url = f"/api/v1/orgs/{books.org.id}/share-actions/buyback"
    body = {"member_id": m.id, "share_class": "population", "units": "20", "price": "2000.00", "date": "2026-02-01",
            "reference": "退出申请1号"}
    m_id, org = m.id, books.org
    vouchers_before = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher))
    out = race(app, [lambda c: c.post(url, json=body, headers=headers)] * N)
    assert sorted(r.status_code for r in out) == [201] + [422] * (N - 1), [r.get_json() for r in out]
    assert all("回购上限" in r.get_json()["message"] for r in out if r.status_code == 422)
    held = {(h.member_id, h.share_class): h.units for h in shares.holdings(org)}
    assert held[(m_id, "population")] == D("76.0000")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == vouchers_before + 1


def test_a_participant_exits_once_and_a_subsidy_is_disbursed_once(project):
    """飞地 exit (capital returned) and 贴息 payout, each 4 times at once: once each."""
    from coop.models import ProjectParticipant, SubsidyClaim, User
    from coop.services import loans

    books, p, parts, villages, operator = project
    app = current_app._get_current_object()
    # 贴息: an allocated claim of the first village
    org = villages[0]
    loans.set_lpr(books.county, dt.date(2024, 12, 20), D("0.031"), user=books.county_admin)
    policy = loans.set_policy(books.county, 2025, fund=D("10000.00"), user=books.county_admin)
    loan = loans.create_loan(org, lender="农商银行", contract_no="NS-1", principal=D("1000000.00"),
                             annual_rate=D("0.042"), start_date=dt.date(2025, 1, 1), maturity_date=dt.date(2026, 1, 1),
                             special=True, user=books.accountant)
    loans.record_loan_event(loan, kind="drawdown", date=dt.date(2025, 1, 1), amount=D("1000000.00"),
                            user=books.accountant)
    loans.record_loan_event(loan, kind="interest", date=dt.date(2025, 7, 1), amount=D("21000.00"),
                            period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 7, 1), evidence="结息单",
                            user=books.accountant)
    claim = loans.file_claim(org, loan, start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1), claimed=D("5000.00"),
                             user=books.accountant)
    loans.review_claim(claim, user=books.auditor, approve=True)
    loans.approve_claim(claim, user=books.county_admin)
    loans.run_allocation(policy, user=books.county_admin)
    db.session.commit()
    admin_id, part_id, project_id, claim_id = books.county_admin.id, parts[3].id, p.id, claim.id
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher))

    def leave():
        from coop.models import JointProject

        joint.exit_participant(db.session.get(JointProject, project_id), db.session.get(ProjectParticipant, part_id),
                               date=dt.date(2025, 12, 31), user=db.session.get(User, admin_id))

    out = run_at_once(app, [leave] * 4)
    assert sorted(out, key=lambda r: r != "ok") == ["ok"] + ["该参与方已退出"] * 3, out
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == before + 2  # village + operator
    before += 2

    def pay():
        loans.disburse_claim(db.session.get(SubsidyClaim, claim_id), date=dt.date(2025, 8, 1),
                             user=db.session.get(User, admin_id))

    out = run_at_once(app, [pay] * 4)
    assert sorted(out, key=lambda r: r != "ok") == ["ok"] + ["只有已分配资金的申报可以拨付"] * 3, out
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == before + 1


def test_a_malformed_idempotency_key_is_refused_and_documented(posted_plan, auth):
    books, plan_id = posted_plan
    headers, app = auth.headers(books.accountant), current_app._get_current_object()
    url = f"/api/v1/orgs/{books.org.id}/distribution-plans/{plan_id}/payments"
    for bad in ("", "has space", "x" * 101):
        r = app.test_client().post(url, json={"date": "2026-01-20", "pay_from": "102"},
                                   headers=headers | {"Idempotency-Key": bad})
        assert r.status_code == 422 and r.get_json()["errors"] == {
            "Idempotency-Key": ["幂等键应为1到100个可见ASCII字符（不含空格）"]}, bad
    assert payment_vouchers(books.org.id) == 0
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    params = spec["paths"]["/api/v1/orgs/{org_id}/distribution-plans/{plan_id}/payments"]["post"]["parameters"]
    assert any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in params)
