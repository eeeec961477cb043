"""飞地抱团 / 多村联营 returns (RULES §8): fixed part by days held, profit part by weight, guarantor shortfall.

Fixed part F_i = C_i × rate × days_held ÷ days_in_year, days held from the contribution date (inclusive) to
1 January of the next year (exclusive), each contribution rounded to the fen. Profit part P = max(0, profit − ΣF)
split by weight (largest remainder). When the profit does not cover ΣF the guarantor owes the shortfall.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Hashable, Sequence

from coop.core.money import ZERO, quantize_yuan
from coop.ledger.allocation import allocate
from coop.ledger.types import LedgerIssue


@dataclass(frozen=True)
class Contribution:
    participant: Hashable
    amount: Decimal  # positive: contributed; negative: returned on exit
    date: dt.date


@dataclass
class YearReturn:
    year: int
    fixed: dict = field(default_factory=dict)  # participant -> fixed part
    profit_share: dict = field(default_factory=dict)  # participant -> profit part
    shortfall: Decimal = ZERO  # owed by the guarantor
    issues: list[LedgerIssue] = field(default_factory=list)

    def total(self, participant) -> Decimal:
        return self.fixed.get(participant, ZERO) + self.profit_share.get(participant, ZERO)


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def fixed_part(amount: Decimal, rate: Decimal, start: dt.date, year: int) -> Decimal:
    """Return on one contribution (or, negative, one withdrawal) for the days it was held in `year`."""
    first, after = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    held_from = max(start, first)
    if held_from >= after:
        return ZERO
    days = (after - held_from).days
    return quantize_yuan(amount * rate * days / days_in_year(year))


def compute_year(year: int, contributions: Sequence[Contribution], *, fixed_rate: Decimal, profit: Decimal,
                 weights: dict | None = None, still_in: set | None = None) -> YearReturn:
    """`weights` fixed by contract must sum to 1; by default they are each participant's share of the capital
    held at the end of the year. `still_in`: the participants still in the project at the end of the year — the
    contract weights of those who left are shared by the rest in proportion (by default a participant who left
    holds no capital at the year's end, so the same happens)."""
    result = YearReturn(year)
    active = [c for c in contributions if c.date <= dt.date(year, 12, 31)]
    if not active:
        result.issues.append(LedgerIssue("year", f"{year}年前没有出资，不能计算收益"))
        return result
    for c in active:
        result.fixed[c.participant] = result.fixed.get(c.participant, ZERO) + fixed_part(c.amount, fixed_rate,
                                                                                        c.date, year)
    fixed_total = sum(result.fixed.values(), ZERO)
    if weights is None:
        capital: dict = {}
        for c in active:
            capital[c.participant] = capital.get(c.participant, ZERO) + c.amount
        weights = {p: v for p, v in capital.items() if v > 0}
    elif sum(weights.values(), Decimal(0)) != 1:
        result.issues.append(LedgerIssue("weights", f"合同约定的分配比例合计为 {sum(weights.values())}，应为 1"))
        return result
    elif still_in is not None:
        weights = {p: w for p, w in weights.items() if p in still_in}
    rest = profit - fixed_total
    if rest >= 0:
        result.profit_share = allocate(rest, weights) if rest and weights else {}
    else:
        result.shortfall = -rest
    return result
