"""Account balances and the trial balance (科目余额表), rolled up from leaf accounts to every level."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

from coop.core.money import ZERO
from coop.ledger.codes import DEFAULT, CodeScheme


@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    name: str
    level: int
    is_leaf: bool
    opening: Decimal  # signed, debit positive (期初)
    debit: Decimal  # 本期借方发生
    credit: Decimal  # 本期贷方发生
    ytd_debit: Decimal  # 本年累计借方
    ytd_credit: Decimal  # 本年累计贷方

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debit - self.credit


def rollup(leaf_values: Mapping[str, Decimal], code: str) -> Decimal:
    """Sum of the values of `code` and every account below it (codes nest by prefix)."""
    return sum((v for c, v in leaf_values.items() if c.startswith(code)), ZERO)


def build_trial_balance(
    accounts: Iterable[tuple[str, str, bool]],
    opening: Mapping[str, Decimal],
    debit: Mapping[str, Decimal],
    credit: Mapping[str, Decimal],
    ytd_debit: Mapping[str, Decimal],
    ytd_credit: Mapping[str, Decimal],
    scheme: CodeScheme = DEFAULT,
) -> list[TrialBalanceRow]:
    """`accounts` is (code, name, is_leaf) for every account, any level; the maps hold leaf values."""
    accounts = sorted(accounts)
    wanted = {code for code, _name, _leaf in accounts}
    # each leaf value added to every account code it starts with: one pass over the leaves (what `rollup` gives
    # for each account, without scanning every leaf for every account)
    sums = [_prefix_sums(m, wanted) for m in (opening, debit, credit, ytd_debit, ytd_credit)]
    return [TrialBalanceRow(code=code, name=name, level=scheme.level(code), is_leaf=is_leaf,
                            opening=sums[0].get(code, ZERO), debit=sums[1].get(code, ZERO),
                            credit=sums[2].get(code, ZERO), ytd_debit=sums[3].get(code, ZERO),
                            ytd_credit=sums[4].get(code, ZERO))
            for code, name, is_leaf in accounts]


def _prefix_sums(leaf_values: Mapping[str, Decimal], codes: set[str]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for leaf, value in leaf_values.items():
        for end in range(1, len(leaf) + 1):
            code = leaf[:end]
            if code in codes:
                out[code] = out.get(code, ZERO) + value
    return out


def trial_balance_totals(rows: Iterable[TrialBalanceRow]) -> dict[str, Decimal]:
    """Totals over first-level rows, with balances split into their debit and credit sides."""
    t = dict.fromkeys(
        ("opening_debit", "opening_credit", "debit", "credit", "ytd_debit", "ytd_credit", "closing_debit", "closing_credit"),
        ZERO,
    )
    for r in rows:
        if r.level != 1:
            continue
        t["opening_debit"] += max(r.opening, ZERO)
        t["opening_credit"] += max(-r.opening, ZERO)
        t["debit"] += r.debit
        t["credit"] += r.credit
        t["ytd_debit"] += r.ytd_debit
        t["ytd_credit"] += r.ytd_credit
        t["closing_debit"] += max(r.closing, ZERO)
        t["closing_credit"] += max(-r.closing, ZERO)
    return t


def is_balanced(totals: Mapping[str, Decimal]) -> bool:
    return (
        totals["opening_debit"] == totals["opening_credit"]
        and totals["debit"] == totals["credit"]
        and totals["closing_debit"] == totals["closing_credit"]
    )
