"""The distribution waterfall and splits, with the worked example of research-domain.md §6.2a."""
import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from coop.ledger.distribution import (Cadre, Policy, Scenario, YearResult, days_in_office, split_cadre_reward,
                                      split_member_pool, waterfall)

D = Decimal


def example_year():
    # 经营性纯收益 = 600,000 + 32,000 − 310,000 − 2,000 − 120,000 = 200,000; 本年收益 210,000; 年初 −20,000
    return YearResult(net_profit=D("210000.00"), opening_undistributed=D("-20000.00"), operating_profit=D("200000.00"))


def test_worked_example_to_the_fen():
    w = waterfall(example_year(), Policy(reserve_rate=D("0.30"), cun_she_he_yi=True),
                  Scenario(member_pool=D("90000.00"), cadre_reward=D("36000.00")))
    assert w.ok, w.issues
    assert w.distributable == D("190000.00")
    assert w.loss_covered == D("20000.00")
    assert w.reserve == D("57000.00")
    assert w.cadre_cap == D("40000.00")
    assert w.closing_undistributed == D("7000.00")
    split = split_member_pool(D("90000.00"), {f"h{i}": D(1) for i in range(496)} | {"zhang": D(4)})
    assert split.per_share == D("180")
    assert split.households["zhang"] == D("720.00")
    assert sum(split.households.values()) == D("90000.00")


def test_cadre_reward_over_cap_says_by_how_much():
    w = waterfall(example_year(), Policy(reserve_rate=D("0.30"), cun_she_he_yi=True),
                  Scenario(member_pool=D("90000.00"), cadre_reward=D("40000.01")))
    assert [i.path for i in w.issues] == ["cadre_reward"]
    assert "超过上限 40,000.00" in w.issues[0].message and "超出 0.01" in w.issues[0].message


def test_cadre_reward_only_for_cun_she_he_yi_and_never_beyond_what_is_left():
    w = waterfall(example_year(), Policy(reserve_rate=D("0.30")), Scenario(cadre_reward=D("1.00")))
    assert "村社合一" in w.issues[0].message
    # a year with little left after the reserve: the cap is what remains, not 20% of the operating profit
    year = YearResult(net_profit=D("10000.00"), opening_undistributed=D("-5000.00"), operating_profit=D("200000.00"))
    w = waterfall(year, Policy(reserve_rate=D("0.30"), cun_she_he_yi=True), Scenario(cadre_reward=D("3500.01")))
    assert w.cadre_cap == D("3500.00") and "提取公积公益金后的余额" in w.issues[0].message


def test_no_distribution_when_nothing_to_distribute():
    year = YearResult(net_profit=D("10000.00"), opening_undistributed=D("-10000.00"), operating_profit=D("5000"))
    w = waterfall(year, Policy(reserve_rate=D("0.30")), Scenario(member_pool=D("1.00")))
    assert w.issues[0].path == "distributable" and "禁止举债分配" in w.issues[0].message


def test_member_pool_larger_than_left():
    w = waterfall(example_year(), Policy(reserve_rate=D("0.30"), cun_she_he_yi=True),
                  Scenario(member_pool=D("97000.01"), cadre_reward=D("36000.00")))
    assert w.issues[0].path == "member_pool" and "超出 0.01" in w.issues[0].message


def test_cadre_tenure_and_weights():
    cadres = [Cadre(1, "书记", dt.date(2020, 1, 1), weight=D("100")),
              Cadre(2, "主任", dt.date(2025, 7, 1), weight=D("90")),
              Cadre(3, "委员", dt.date(2025, 7, 3), weight=D("80"))]
    # ≥ 183 days by default: 1 July is in (184 days), 3 July is out (182 days, 1 short)
    assert [days_in_office(c, 2025) for c in cadres] == [365, 184, 182]
    parts, issues = split_cadre_reward(D("36000.00"), cadres, 2025)
    assert parts == {1: D("18947.37"), 2: D("17052.63")}
    assert [i.path for i in issues] == ["cadres.3"] and "任职 182 天，不足 183 天（差 1 天）" in issues[0].message


def test_collective_part_stays_with_the_collective():
    split = split_member_pool(D("1000.00"), {"a": D("3"), "b": D("3")}, collective_units=D("4"))
    assert split.households == {"a": D("300.00"), "b": D("300.00")}
    assert split.collective == D("400.00")


@settings(max_examples=60, deadline=None)
@given(pool=st.integers(min_value=0, max_value=10**9),
       units=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=40),
       collective=st.integers(min_value=0, max_value=10**5))
def test_member_split_sums_exactly_and_equal_holdings_differ_by_at_most_a_fen(pool, units, collective):
    amount = D(pool) / 100
    holdings = {i: D(u) / 10000 for i, u in enumerate(units)}
    split = split_member_pool(amount, holdings, D(collective) / 10000)
    assert sum(split.households.values()) + split.collective == amount
    assert all(v >= 0 for v in split.households.values())
    by_units: dict = {}
    for k, u in holdings.items():
        by_units.setdefault(u, []).append(split.households[k])
    for amounts in by_units.values():
        assert max(amounts) - min(amounts) <= D("0.01")
