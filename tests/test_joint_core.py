"""飞地抱团 returns against hand-computed figures."""
import datetime as dt
from decimal import Decimal

from coop.ledger.joint import Contribution, compute_year, fixed_part

D = Decimal


def test_fixed_part_prorated_by_days_held():
    # 1,000,000 at 10% from 2025-07-01: 184 days of 365 → 100,000 × 184/365 = 50,410.958… → 50,410.96
    assert fixed_part(D("1000000"), D("0.10"), dt.date(2025, 7, 1), 2025) == D("50410.96")
    # a whole year, and a leap year from 2024-03-01: 306 days of 366 → 83,606.557… → 83,606.56
    assert fixed_part(D("1000000"), D("0.10"), dt.date(2024, 1, 1), 2025) == D("100000.00")
    assert fixed_part(D("1000000"), D("0.10"), dt.date(2024, 3, 1), 2024) == D("83606.56")


def test_profit_split_and_guarantor_shortfall():
    cs = [Contribution("A", D("2000000"), dt.date(2024, 1, 1)), Contribution("B", D("1000000"), dt.date(2024, 1, 1)),
          Contribution("C", D("1000000"), dt.date(2025, 7, 1))]
    r = compute_year(2025, cs, fixed_rate=D("0.08"), profit=D("400000.00"))
    assert r.fixed == {"A": D("160000.00"), "B": D("80000.00"), "C": D("40328.77")}  # 80,000 × 184/365
    # rest 11,967,123 fen split 2:1:1: exact 5,983,561.5 / 2,991,780.75 / 2,991,780.75 fen; the two spare fen go
    # to the largest remainders (B and C)
    assert r.profit_share == {"A": D("59835.61"), "B": D("29917.81"), "C": D("29917.81")}
    assert sum(r.profit_share.values()) == D("119671.23")
    bad = compute_year(2025, cs, fixed_rate=D("0.08"), profit=D("200000.00"))
    assert bad.profit_share == {} and bad.shortfall == D("80328.77")


def test_contract_weights_must_sum_to_one_and_year_needs_capital():
    cs = [Contribution("A", D("100"), dt.date(2025, 1, 1))]
    assert compute_year(2025, cs, fixed_rate=D("0.1"), profit=D("50"), weights={"A": D("0.9")}).issues
    assert compute_year(2024, cs, fixed_rate=D("0.1"), profit=D("50")).issues[0].path == "year"
