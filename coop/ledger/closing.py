"""Year-end entries (RULES §4), in the order the year end runs in December:

1. 损益结转 — every 损益 leaf → 本年收益 → 未分配收益 (`carryover_entries`), its own step; run again after a
   change to December it moves only what changed (the 损益 leaves are zero again after it).
2. the distribution plan posts (Dr 32201 details) — not here.
3. 结账 — the 32201 各项分配 details → 32202 未分配收益 (`distributions_entry`).

The core is pure: the leaf codes to post to (what the posting roles resolve to) are passed in.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Mapping

from coop.core.money import ZERO
from coop.ledger.chart import CURRENT_YEAR_PROFIT, PNL, chart_account
from coop.ledger.types import Entry, Line

PNL_SUMMARY = "结转本年损益"
PROFIT_SUMMARY = "结转本年收益"
DISTRIBUTIONS_SUMMARY = "结转各项分配"


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


def carryover_entries(year: int, leaf_balances: Mapping[str, Decimal], *, profit_leaf: str,
                      undistributed_leaf: str) -> list[Entry]:
    """损益结转 for 31 December of `year` from the leaf balances at that date: 损益 → `profit_leaf` (321), then
    every 321 leaf → `undistributed_leaf` (32202). Nothing to move, no entry."""
    date = dt.date(year, 12, 31)
    entries: list[Entry] = []
    pnl = {c: b for c, b in sorted(leaf_balances.items()) if chart_account(c).category == PNL and b != 0}
    profit = {c: b for c, b in leaf_balances.items() if c.startswith(CURRENT_YEAR_PROFIT) and b != 0}
    if pnl:
        net = sum(pnl.values(), ZERO)  # debit positive: a net debit is a loss
        lines = [_zeroing_line(c, b, PNL_SUMMARY) for c, b in pnl.items()]
        if net:
            lines.append(_counter_line(profit_leaf, net, PNL_SUMMARY))
            profit[profit_leaf] = profit.get(profit_leaf, ZERO) + net
        entries.append(Entry(date, PNL_SUMMARY, tuple(lines)))
    profit = {c: b for c, b in sorted(profit.items()) if b != 0}
    total = sum(profit.values(), ZERO)
    if profit:
        lines = [_zeroing_line(c, b, PROFIT_SUMMARY) for c, b in profit.items()]
        if total:
            lines.append(_counter_line(undistributed_leaf, total, PROFIT_SUMMARY))
        entries.append(Entry(date, PROFIT_SUMMARY, tuple(lines)))
    return entries


def distributions_entry(year: int, leaf_balances: Mapping[str, Decimal], *, distributions: str,
                        undistributed_leaf: str) -> Entry | None:
    """结账 of December: the leaves under `distributions` (32201 各项分配, in the books' code scheme) →
    `undistributed_leaf` (32202)."""
    dist = {c: b for c, b in sorted(leaf_balances.items()) if c.startswith(distributions) and b != 0}
    if not dist:
        return None
    total = sum(dist.values(), ZERO)
    lines = [_zeroing_line(c, b, DISTRIBUTIONS_SUMMARY) for c, b in dist.items()]
    if total:
        lines.append(_counter_line(undistributed_leaf, total, DISTRIBUTIONS_SUMMARY))
    return Entry(dt.date(year, 12, 31), DISTRIBUTIONS_SUMMARY, tuple(lines))


def year_end_entries(year: int, leaf_balances: Mapping[str, Decimal], *, profit_leaf: str, undistributed_leaf: str,
                     distributions: str) -> list[Entry]:
    """All of the year end at once (the carry-over, then the distributions), from balances before either."""
    entries = carryover_entries(year, leaf_balances, profit_leaf=profit_leaf, undistributed_leaf=undistributed_leaf)
    d = distributions_entry(year, leaf_balances, distributions=distributions, undistributed_leaf=undistributed_leaf)
    return entries + ([d] if d else [])
