"""Year-end carry-over (RULES §4): 损益 → 321 本年收益 → 32202 未分配收益; 32201 各项分配 details → 32202."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Mapping

from ..money import ZERO
from .chart import CURRENT_YEAR_PROFIT, DISTRIBUTIONS, PNL, UNDISTRIBUTED, chart_account
from .types import Entry, Line


def _zeroing_line(code: str, balance: Decimal, summary: str) -> Line:
    """The line that brings a signed (debit-positive) balance to zero."""
    if balance > 0:
        return Line(code, credit=balance, summary=summary)
    return Line(code, debit=-balance, summary=summary)


def _counter_line(code: str, amount: Decimal, summary: str) -> Line:
    """The line that receives `amount` (debit positive) moved out of other accounts."""
    if amount > 0:
        return Line(code, debit=amount, summary=summary)
    return Line(code, credit=-amount, summary=summary)


def year_end_entries(year: int, leaf_balances: Mapping[str, Decimal]) -> list[Entry]:
    """Carry-over entries for 31 December of `year`, from leaf balances before carry-over.
    Entries that would move nothing are left out."""
    date = dt.date(year, 12, 31)
    entries: list[Entry] = []
    pnl = {c: b for c, b in sorted(leaf_balances.items()) if chart_account(c).category == PNL and b != 0}
    if pnl:
        s = "结转本年损益"
        net = sum(pnl.values(), ZERO)  # debit positive: a net debit is a loss
        lines = [_zeroing_line(c, b, s) for c, b in pnl.items()]
        if net:
            lines.append(_counter_line(CURRENT_YEAR_PROFIT, net, s))
        entries.append(Entry(date, s, tuple(lines)))
    else:
        net = ZERO
    profit_balance = sum((b for c, b in leaf_balances.items() if c.startswith(CURRENT_YEAR_PROFIT)), ZERO) + net
    if profit_balance:
        s = "结转本年收益"
        entries.append(
            Entry(
                date,
                s,
                (
                    _zeroing_line(CURRENT_YEAR_PROFIT, profit_balance, s),
                    _counter_line(UNDISTRIBUTED, profit_balance, s),
                ),
            )
        )
    dist = {c: b for c, b in sorted(leaf_balances.items()) if c.startswith(DISTRIBUTIONS) and b != 0}
    if dist:
        s = "结转各项分配"
        total = sum(dist.values(), ZERO)
        lines = [_zeroing_line(c, b, s) for c, b in dist.items()]
        if total:
            lines.append(_counter_line(UNDISTRIBUTED, total, s))
        entries.append(Entry(date, s, tuple(lines)))
    return entries
