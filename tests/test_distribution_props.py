"""Properties of the money splits of 收益分配: for random share registers and pools the household amounts (plus the
集体股 part) sum to the pool exactly, none is negative, and equal holdings differ by at most one fen. The pure split
with random registers, then the service preview (what-if, nothing written) over one real register in the
database with random pools, rates and cadre rewards, and one posting whose 分红清册 totals the pool."""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop.documents import distribution as distribution_pdf
from coop.core.extensions import db
from coop.ledger.distribution import Cadre, split_cadre_reward, split_member_pool
from coop.models import DistributionPlan
from coop.services import distribution, members, shares
from tests.test_members_web import make_id

D = Decimal
FEN = D("0.01")
CADRES = [{"name": "书记", "start": dt.date(2019, 3, 1), "weight": D("7")},
          {"name": "主任", "start": dt.date(2022, 1, 1), "weight": D("3")}]


def check_split(pool: Decimal, units: dict, households: dict, collective: Decimal) -> None:
    assert sum(households.values(), D(0)) + collective == pool
    assert all(v >= 0 for v in households.values()) and collective >= 0
    assert all(v == v.quantize(FEN) for v in households.values())
    by_units: dict = {}
    for key, u in units.items():
        by_units.setdefault(u, []).append(households[key])
    for amounts in by_units.values():
        assert max(amounts) - min(amounts) <= FEN


def check_per_share(pool: Decimal, units: dict, collective_units: Decimal, split) -> None:
    """Per share to the fen (the default): everyone gets units × per share, so equal holdings get equal money; the
    total never exceeds the pool and what is left is less than a fen a share (plus the rounding of each holder)."""
    ps = split.per_share
    assert ps == ps.quantize(FEN) and ps >= 0
    assert all(split.households[k] == (u * ps).quantize(FEN, rounding=ROUND_HALF_UP) for k, u in units.items())
    assert split.collective == (collective_units * ps).quantize(FEN, rounding=ROUND_HALF_UP)
    total = sum(split.households.values(), D(0)) + split.collective
    assert total <= pool
    holders = len(units) + (1 if collective_units else 0)
    assert pool - total <= (sum(units.values(), D(0)) + collective_units) * FEN + holders * FEN


# ---------------------------------------------------------------- pure: random registers

# a few distinct holdings drawn repeatedly, so that equal holdings are common
HOLDING = st.integers(min_value=1, max_value=2_000_000).map(lambda n: D(n) / 10000)


@settings(max_examples=80, deadline=None)
@given(pool_fen=st.integers(min_value=0, max_value=10**10),
       values=st.lists(HOLDING, min_size=1, max_size=5),
       picks=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=60),
       collective=st.integers(min_value=0, max_value=500_000))
def test_random_registers_split_exactly(pool_fen, values, picks, collective):
    pool = D(pool_fen) / 100
    units = {i: values[p % len(values)] for i, p in enumerate(picks)}
    split = split_member_pool(pool, units, D(collective) / 10000)
    check_split(pool, units, split.households, split.collective)


@settings(max_examples=60, deadline=None)
@given(total_fen=st.integers(min_value=0, max_value=10**9),
       weights=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=12))
def test_cadre_reward_split_exactly_by_weight(total_fen, weights):
    total = D(total_fen) / 100
    cadres = [Cadre(i, f"干部{i}", dt.date(2020, 1, 1), weight=D(w)) for i, w in enumerate(weights)]
    parts, issues = split_cadre_reward(total, cadres, 2025)
    assert issues == []
    assert sum(parts.values(), D(0)) == total and all(v >= 0 for v in parts.values())
    same: dict = {}
    for c in cadres:
        same.setdefault(c.weight, []).append(parts[c.key])
    assert all(max(a) - min(a) <= FEN for a in same.values())


# ---------------------------------------------------------------- through the service, on a real register


@pytest.fixture
def register(books):
    """2025 closed with 本年收益 480,000; nine households (three of them alike) of confirmed members, with 农龄股
    for some and 20% 集体股."""
    books.lock_opening({"102": "1000000.00", "301": "-1000000.00"})
    books.post("2025-03-01", ("102", "600000.00", ""), ("501", "", "600000.00"), summary="经营收入")
    books.post("2025-03-05", ("513", "120000.00", ""), ("102", "", "120000.00"), summary="管理费用")
    books.close_through(2025, 12)
    org, user = books.org, books.accountant
    sizes = [1, 2, 2, 2, 3, 4, 1, 5, 3]
    labour = {0: dt.date(1990, 1, 1), 4: dt.date(2001, 6, 1), 7: dt.date(2015, 3, 1)}  # by household index
    seq = 0
    people = []
    for hi, size in enumerate(sizes):
        h = members.create_household(org)
        for k in range(size):
            seq += 1
            m = members.add_member(h, name=f"成员{seq}", id_number=make_id("19800101", seq),
                                   relation="户主" if k == 0 else "子")
            members.record_membership_event(m, "confirmed", date=dt.date(2024, 1, 1), evidence="决议",
                                            today=dt.date(2026, 1, 1))
            people.append((hi, k, m))
    plan = shares.create_plan(org, name="量化", base_date=dt.date(2024, 12, 31), net_assets=D("1000000.00"),
                              rules={"population_units": "1", "labour_units_per_year": "0.1",
                                     "labour_cap_years": 20, "collective_ratio": "0.2"},
                              approval_ref="决议2", user=user)
    for hi, k, m in people:
        if k == 0 and hi in labour:
            shares.set_member_input(plan, m, labour_start=labour[hi])
    shares.issue_plan(plan, user=user)
    db.session.commit()
    return books


def _fen_floor(x: Decimal) -> Decimal:
    return x.quantize(FEN, rounding=ROUND_DOWN)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(share=st.integers(min_value=0, max_value=10_000), rate=st.integers(min_value=0, max_value=10_000),
       cadre=st.integers(min_value=0, max_value=10_000))
def test_service_preview_splits_exactly_on_a_real_register(register, share, rate, cadre):
    """A preview writes nothing, so every example can share the register."""
    org = register.org
    reserve_rate = D(rate) / 10000
    year = distribution.year_result(org, 2025)
    distributable = year.distributable
    # art. 42: the base is 本年收益 after covering losses
    reserve = (max(D(0), min(year.net_profit, distributable)) * reserve_rate).quantize(FEN)
    cap = min((D("0.20") * year.operating_profit).quantize(FEN), distributable - reserve)
    cadre_reward = _fen_floor(cap * cadre / 10000)
    pool = _fen_floor((distributable - reserve - cadre_reward) * share / 10000)
    p = distribution.preview(distribution.scenario(
        org, year=2025, record_date=dt.date(2025, 12, 31), member_pool=pool, reserve_rate=reserve_rate,
        cadre_reward=cadre_reward, cadres=CADRES if cadre_reward else []))
    assert p.ok, p.issues
    if pool:
        check_per_share(pool, p.units, p.collective_units, p.member_split)
        assert p.member_split.collective > 0 or p.member_split.per_share == 0  # the 集体股 has its own line
    if cadre_reward:
        assert sum(p.cadre_amounts.values()) == cadre_reward
    assert p.waterfall.closing_undistributed >= 0
    assert db.session.query(DistributionPlan).count() == 0  # nothing was written


def test_posted_roll_totals_the_pool_to_the_fen(register):
    books = register
    pool = D("100000.01")  # does not divide evenly over the register
    distribution.set_policy(user=books.county_admin, org=books.org, dividend_mode="pool")  # the 章程 option
    plan = distribution.create_plan(books.org, year=2025, name="方案", record_date=dt.date(2025, 12, 31),
                                    member_pool=pool, user=books.accountant)
    distribution.record_approval(plan, step="party_proposal", date=dt.date(2025, 12, 26), reference="党支部",
                                 user=books.accountant)
    distribution.record_approval(plan, step="assembly", date=dt.date(2026, 1, 10), reference="决议", entitled=24,
                                 present=20, votes_for=17, materials_date=dt.date(2025, 12, 29),
                                 notice_date=dt.date(2025, 12, 31), user=books.accountant)
    distribution.approve_plan(plan, method="assembly", user=books.reviewer)
    distribution.post_plan(plan, date=dt.date(2026, 1, 15), user=books.accountant)
    db.session.commit()
    roll = distribution_pdf.build_roll(plan)
    assert len(roll.rows) == 9 and roll.total == pool and roll.collective_amount == plan.collective_part > 0
    units = {r.household_id: r.units for r in roll.rows}
    check_split(pool, units, {r.household_id: r.amount for r in roll.rows}, roll.collective_amount)
    # three households of two people without 农龄股 hold the same units: their amounts differ by at most a fen
    same = [r.amount for r in roll.rows if r.units == roll.rows[1].units]
    assert len(same) == 3 and max(same) - min(same) <= FEN
