"""贴息 (RULES §9): eligible interest subsidy over interest periods, and the county fund allocation.

A claim covers [start, end). It is split wherever the outstanding principal or the LPR in force changes; the LPR
in force on a day is the latest one published on or before it. Each period:
    principal × min(actual rate, LPR × multiple) × share × days ÷ 360      (ACT/360)
rounded to the fen (四舍五入); the claim is the sum, never more than the interest actually paid.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Hashable, Mapping, Sequence

from coop.core.money import ZERO, format_plain, quantize_yuan
from coop.ledger.allocation import allocate
from coop.ledger.types import LedgerIssue


@dataclass(frozen=True)
class SubsidyPeriod:
    start: dt.date
    end: dt.date  # exclusive
    principal: Decimal
    actual_rate: Decimal
    lpr: Decimal
    eligible_rate: Decimal
    amount: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass
class SubsidyCalc:
    periods: list[SubsidyPeriod] = field(default_factory=list)
    computed: Decimal = ZERO  # Σ period amounts
    interest_paid: Decimal = ZERO
    eligible: Decimal = ZERO  # min(computed, interest paid)
    issues: list[LedgerIssue] = field(default_factory=list)


def lpr_on(day: dt.date, lpr_table: Sequence[tuple[dt.date, Decimal]]) -> Decimal | None:
    """The 1-year LPR in force on `day`: the latest published on or before it. The table is sorted by date."""
    dates = [d for d, _ in lpr_table]
    i = bisect_right(dates, day)
    return lpr_table[i - 1][1] if i else None


def principal_on(day: dt.date, movements: Sequence[tuple[dt.date, Decimal]]) -> Decimal:
    """Outstanding principal at the start of `day` from (date, +drawdown/−repayment) movements effective that day."""
    return sum((amount for d, amount in movements if d <= day), ZERO)


def compute_subsidy(*, start: dt.date, end: dt.date, annual_rate: Decimal,
                    movements: Sequence[tuple[dt.date, Decimal]], lpr_table: Sequence[tuple[dt.date, Decimal]],
                    lpr_multiple: Decimal = Decimal(1), share: Decimal = Decimal(1),
                    interest_paid: Decimal) -> SubsidyCalc:
    calc = SubsidyCalc(interest_paid=interest_paid)
    if end <= start:
        calc.issues.append(LedgerIssue("end", "贴息期间的结束日期必须晚于开始日期"))
        return calc
    if not (Decimal(0) < annual_rate < Decimal("0.36")):
        calc.issues.append(LedgerIssue("annual_rate", f"贷款年利率 {annual_rate:.4%} 不合理（应大于0且低于36%）"))
        return calc
    table = sorted(lpr_table)
    if lpr_on(start, table) is None:
        calc.issues.append(LedgerIssue("start", f"LPR 表中没有 {start} 或之前公布的利率"))
        return calc
    cuts = {start, end}
    cuts.update(d for d, _ in movements if start < d < end)
    cuts.update(d for d, _ in table if start < d < end)
    points = sorted(cuts)
    for a, b in zip(points, points[1:]):
        principal = principal_on(a, movements)
        lpr = lpr_on(a, table)
        eligible_rate = min(annual_rate, lpr * lpr_multiple)
        amount = quantize_yuan(principal * eligible_rate * share * (b - a).days / 360) if principal > 0 else ZERO
        calc.periods.append(SubsidyPeriod(a, b, principal, annual_rate, lpr, eligible_rate, amount))
    calc.computed = sum((p.amount for p in calc.periods), ZERO)
    calc.eligible = min(calc.computed, interest_paid)
    return calc


def allocate_fund(fund: Decimal, claims: Mapping[Hashable, Decimal], *, rule: str = "pro_rata",
                  order: Sequence[Hashable] | None = None) -> dict:
    """Split the year's fund over approved claims: everyone in full when it suffices, else pro-rata by largest
    remainder (summing exactly to the fund) or first-come in `order` until the fund runs out."""
    total = sum(claims.values(), ZERO)
    if total <= fund:
        return dict(claims)
    if rule == "pro_rata":
        return allocate(fund, claims)
    if rule == "first_come":
        left, out = fund, {}
        for key in order or sorted(claims):
            out[key] = min(claims[key], left)
            left -= out[key]
        return out
    raise ValueError(f"unknown allocation rule {rule}")


def check_fund(fund: Decimal, committed: Decimal, amount: Decimal) -> list[LedgerIssue]:
    if committed + amount > fund:
        return [LedgerIssue("amount", f"贴息资金不足：年度资金 {format_plain(fund)}，已承诺 {format_plain(committed)}，"
                                      f"本笔 {format_plain(amount)}，超出 {format_plain(committed + amount - fund)}")]
    return []
