"""贴息 calculations checked against hand-computed figures (ACT/360, period splits, caps) and the fund split."""
import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from coop.ledger.subsidy import allocate_fund, compute_subsidy, lpr_on

D = Decimal
LPR = [(dt.date(2024, 12, 20), D("0.0310")), (dt.date(2025, 5, 20), D("0.0300"))]


def test_lpr_in_force_is_the_latest_published_on_or_before_the_day():
    assert lpr_on(dt.date(2025, 5, 19), LPR) == D("0.0310")
    assert lpr_on(dt.date(2025, 5, 20), LPR) == D("0.0300")
    assert lpr_on(dt.date(2024, 12, 1), LPR) is None


def test_mid_period_repayment_and_lpr_change():
    # 1,000,000 drawn 2025-01-01 at 4.2%; 400,000 repaid 2025-04-01; claim 2025-01-01 .. 2025-07-01, multiple 1.0
    calc = compute_subsidy(start=dt.date(2025, 1, 1), end=dt.date(2025, 7, 1), annual_rate=D("0.042"),
                           movements=[(dt.date(2025, 1, 1), D("1000000")), (dt.date(2025, 4, 1), D("-400000"))],
                           lpr_table=LPR, interest_paid=D("30000.00"))
    got = [(p.start, p.end, p.principal, p.eligible_rate, p.amount) for p in calc.periods]
    assert got == [
        # 1,000,000 × 3.10% × 90/360 = 7,750.00
        (dt.date(2025, 1, 1), dt.date(2025, 4, 1), D("1000000"), D("0.0310"), D("7750.00")),
        # 600,000 × 3.10% × 49/360 = 2,531.666… → 2,531.67
        (dt.date(2025, 4, 1), dt.date(2025, 5, 20), D("600000"), D("0.0310"), D("2531.67")),
        # 600,000 × 3.00% × 42/360 = 2,100.00
        (dt.date(2025, 5, 20), dt.date(2025, 7, 1), D("600000"), D("0.0300"), D("2100.00")),
    ]
    assert calc.computed == calc.eligible == D("12381.67")


def test_actual_rate_below_lpr_and_share():
    # 500,000 at 2.8% (below LPR 3.1%), 50% share, 2025-01-01 .. 2025-04-01 (90 days): 500,000 × 2.8% × 0.5 × 90/360
    calc = compute_subsidy(start=dt.date(2025, 1, 1), end=dt.date(2025, 4, 1), annual_rate=D("0.028"),
                           movements=[(dt.date(2024, 6, 1), D("500000"))], lpr_table=LPR, share=D("0.5"),
                           interest_paid=D("4000.00"))
    assert [p.eligible_rate for p in calc.periods] == [D("0.028")]
    assert calc.eligible == D("1750.00")


def test_capped_by_interest_actually_paid():
    calc = compute_subsidy(start=dt.date(2025, 1, 1), end=dt.date(2025, 4, 1), annual_rate=D("0.05"),
                           movements=[(dt.date(2025, 1, 1), D("1000000"))], lpr_table=LPR,
                           interest_paid=D("7000.00"))
    assert calc.computed == D("7750.00") and calc.eligible == D("7000.00")


def test_absurd_rate_refused():
    calc = compute_subsidy(start=dt.date(2025, 1, 1), end=dt.date(2025, 4, 1), annual_rate=D("0.5"),
                           movements=[], lpr_table=LPR, interest_paid=D("1"))
    assert calc.issues and calc.issues[0].path == "annual_rate"


def test_first_come_stops_at_the_fund():
    out = allocate_fund(D("100.00"), {"a": D("60.00"), "b": D("60.00"), "c": D("10.00")}, rule="first_come",
                        order=["b", "a", "c"])
    assert out == {"b": D("60.00"), "a": D("40.00"), "c": D("0.00")}


@settings(max_examples=80, deadline=None)
@given(fund=st.integers(min_value=0, max_value=5 * 10**8),
       claims=st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=30))
def test_allocation_never_exceeds_the_fund_and_pro_rata_sums_exactly(fund, claims):
    fund_d = D(fund) / 100
    claim_d = {i: D(c) / 100 for i, c in enumerate(claims)}
    out = allocate_fund(fund_d, claim_d)
    assert sum(out.values()) <= fund_d
    assert all(out[k] <= claim_d[k] for k in claim_d)
    if sum(claim_d.values()) > fund_d:
        assert sum(out.values()) == fund_d
    else:
        assert out == claim_d
