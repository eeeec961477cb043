"""飞地抱团: four villages and an in-system operator; every side agrees after contributions, two years of returns
(one short, covered by the guarantor) and an exit; a failure mid-way books nothing anywhere."""
import datetime as dt
from decimal import Decimal

import pytest

from coop.core.errors import InvalidState, PeriodClosed, ValidationFailed
from coop.core.extensions import db
from coop.models import ProjectReturn, Voucher
from coop.services import joint, opening, orgs, reports
from tests.conftest import count

D = Decimal


@pytest.fixture
def project(books):
    admin = books.county_admin
    villages = [books.org] + [orgs.create_organization(books.township, name=f"{n}村", books_start_year=2025)
                              for n in ("南", "西", "北")]
    operator = orgs.create_organization(books.township, name="强村公司", kind="joint_company", books_start_year=2025)
    for o in villages + [operator]:
        opening.set_opening_balances(o, {"102": D("5000000.00"), "301": D("-5000000.00")}, user=books.accountant) \
            if o.id == books.org.id else None
    from coop.services import users

    for o in villages[1:] + [operator]:
        users.assign_role(books.accountant, "accountant", o)
        opening.set_opening_balances(o, {"102": D("5000000.00"), "301": D("-5000000.00")}, user=books.accountant)
    for o in villages + [operator]:
        opening.lock_opening_balances(o, user=books.accountant)
        o.county_may_post = True  # these books let the county post (the draft path: tests/test_system_postings.py)
    p = joint.create_project(books.county, name="城东标准厂房", operator_org_id=operator.id, guarantor="县城投公司",
                             start_date=dt.date(2025, 1, 1), fixed_rate=D("0.08"), user=admin)
    parts = [joint.add_participant(p, v, user=admin) for v in villages]
    joint.contribute(p, parts[0], kind="cash", amount=D("2000000.00"), date=dt.date(2025, 1, 1), user=admin)
    joint.contribute(p, parts[1], kind="fiscal", amount=D("1000000.00"), date=dt.date(2025, 1, 1), user=admin)
    joint.contribute(p, parts[2], kind="land", amount=D("500000.00"), date=dt.date(2025, 1, 1), user=admin)
    joint.contribute(p, parts[3], kind="cash", amount=D("500000.00"), date=dt.date(2025, 7, 1), user=admin)
    db.session.commit()
    return books, p, parts, villages, operator


def assert_sides_agree(p, until=None):
    rows = joint.reconciliation(p, until)
    assert rows and all(r.difference == 0 for r in rows), [(r.participant, r.item, r.village, r.operator) for r in rows]


def test_two_years_and_an_exit_keep_every_side_agreeing(project):
    books, p, parts, villages, operator = project
    admin = books.county_admin
    assert_sides_agree(p)
    r1 = joint.declare_return(p, year=2025, profit=D("400000.00"), date=dt.date(2025, 12, 31), user=admin)
    fixed = {l.participant_id: l.fixed for l in r1.lines}
    # 8% a year; the fourth village held its 500,000 for 184 of 365 days: 40,000 × 184/365 = 20,164.38
    assert fixed == {parts[0].id: D("160000.00"), parts[1].id: D("80000.00"), parts[2].id: D("40000.00"),
                     parts[3].id: D("20164.38")}
    # profit beyond ΣF (99,835.62) split by capital 4:2:1:1
    assert sum(l.profit_part for l in r1.lines) == D("99835.62")
    assert r1.shortfall == 0
    assert_sides_agree(p)
    for line in r1.lines:
        joint.receive_return(line, date=dt.date(2026, 1, 10), user=admin)
    assert_sides_agree(p)
    # a bad year: profit 250,000 does not cover ΣF = 320,000; the guarantor owes 70,000
    r2 = joint.declare_return(p, year=2026, profit=D("250000.00"), date=dt.date(2026, 12, 31), user=admin)
    assert r2.shortfall == D("70000.00")
    assert sum(l.guaranteed for l in r2.lines) == D("70000.00")
    assert all(l.profit_part == 0 for l in r2.lines)
    assert_sides_agree(p)
    with pytest.raises(InvalidState, match="不能重复登记"):
        joint.declare_return(p, year=2026, profit=D("1.00"), date=dt.date(2026, 12, 31), user=admin)
    joint.exit_participant(p, parts[3], date=dt.date(2026, 12, 31), user=admin)
    assert_sides_agree(p)
    bal = reports.leaf_balances(villages[3])
    assert bal.get("141", D(0)) == 0
    # 502 in the village's books equals the returns declared to it
    assert -bal["502"] == sum(l.total for r in (r1, r2) for l in r.lines if l.participant_id == parts[3].id)
    for o in villages + [operator]:
        assert reports.trial_balance(o, 2026, 1, 12).balanced


def test_refusals_leave_every_book_unchanged(project, monkeypatch):
    books, p, parts, villages, operator = project
    admin = books.county_admin
    other_county = orgs.create_county("邻县")
    stranger = orgs.create_organization(orgs.create_township(other_county, "邻镇"), name="外县村",
                                        books_start_year=2025)
    with pytest.raises(ValidationFailed, match="不属于本项目所在县"):
        joint.add_participant(p, stranger, user=admin)
    with pytest.raises(ValidationFailed, match="前没有出资"):
        joint.declare_return(p, year=2024, profit=D("1.00"), date=dt.date(2024, 12, 31), user=admin)
    db.session.commit()
    before = count(Voucher)
    # a failure while booking the third participant: nothing is booked anywhere
    real_post = joint._post
    calls = {"n": 0}

    def failing_post(org, *a, **kw):
        calls["n"] += 1
        if org.id == villages[2].id:
            raise RuntimeError("disk full")
        return real_post(org, *a, **kw)

    monkeypatch.setattr(joint, "_post", failing_post)
    with pytest.raises(RuntimeError):
        joint.declare_return(p, year=2025, profit=D("400000.00"), date=dt.date(2025, 12, 31), user=admin)
    db.session.rollback()
    assert calls["n"] >= 3
    assert count(Voucher) == before and count(ProjectReturn) == 0
    monkeypatch.setattr(joint, "_post", real_post)
    # a participant whose December is closed refuses the whole declaration
    books.close_through(2025, 12)
    with pytest.raises(PeriodClosed):
        joint.declare_return(p, year=2025, profit=D("400000.00"), date=dt.date(2025, 12, 31), user=admin)
    db.session.rollback()
    assert count(Voucher) == before


def test_contract_weights_must_sum_to_one(project):
    books, p, parts, villages, operator = project
    p.contract_weights = True
    for part, w in zip(parts, ("0.4", "0.3", "0.2", "0.05")):
        part.weight = D(w)
    with pytest.raises(ValidationFailed, match="合计为 0.95"):
        joint.declare_return(p, year=2025, profit=D("400000.00"), date=dt.date(2025, 12, 31),
                             user=books.county_admin)


def test_contract_weights_after_an_exit_are_shared_by_those_still_in(project):
    """Weights by contract 0.5 / 0.3 / 0.1 / 0.1. The fourth village leaves on 2026-06-30: 2026's profit part goes
    to the other three in proportion 5 : 3 : 1 (it keeps the fixed part for the days it held); 2025, declared
    after the exit, still counts it — it was in at the end of 2025."""
    books, p, parts, villages, operator = project
    admin = books.county_admin
    p.contract_weights = True
    for part, w in zip(parts, ("0.5", "0.3", "0.1", "0.1")):
        part.weight = D(w)
    joint.exit_participant(p, parts[3], date=dt.date(2026, 6, 30), user=admin)
    r1 = joint.declare_return(p, year=2025, profit=D("400000.00"), date=dt.date(2025, 12, 31), user=admin)
    # ΣF 2025 = 160,000 + 80,000 + 40,000 + 20,164.38 = 300,164.38; 99,835.62 by 0.5 / 0.3 / 0.1 / 0.1
    assert {l.participant_id: l.profit_part for l in r1.lines} == {
        parts[0].id: D("49917.81"), parts[1].id: D("29950.69"), parts[2].id: D("9983.56"), parts[3].id: D("9983.56")}
    r2 = joint.declare_return(p, year=2026, profit=D("400000.00"), date=dt.date(2026, 12, 31), user=admin)
    fixed = {l.participant_id: l.fixed for l in r2.lines}
    # the fourth held 500,000 from 1 January to 30 June 2026 (exclusive): 180 days × 8 % = 19,726.03
    assert fixed[parts[3].id] == D("19726.03")
    # 400,000 − (160,000 + 80,000 + 40,000 + 19,726.03) = 100,273.97 over 5 : 3 : 1
    assert {l.participant_id: l.profit_part for l in r2.lines} == {
        parts[0].id: D("55707.76"), parts[1].id: D("33424.66"), parts[2].id: D("11141.55"), parts[3].id: D("0.00")}
    assert_sides_agree(p)
