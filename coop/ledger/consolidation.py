"""Consolidation over a township or the county (RULES §16), pure: statement lines summed village by village,
飞地抱团 items between villages and the operator eliminated, 经营收益 bands and the 倍增 target.

Every column — a village, the eliminations, the sum — is computed by the same line formulas of
`coop.ledger.statements`, so subtotals of the eliminations column come out of the formulas, not by hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

from coop.core.text import N_
from coop.core.money import ZERO
from coop.ledger import statements


def sum_values(columns: Iterable[Mapping[str, Decimal]]) -> dict[str, Decimal]:
    """Line-by-line sum of statement columns (every line of these statements is linear in its accounts)."""
    out: dict[str, Decimal] = {}
    for col in columns:
        for k, v in col.items():
            out[k] = out.get(k, ZERO) + v
    return out


def minus(a: Mapping[str, Decimal], b: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {k: a[k] - b.get(k, ZERO) for k in a}


@dataclass(frozen=True)
class JointItem:
    """One 飞地抱团 pair inside the scope: what a village holds against the operator and what the operator
    owes the village, each as recorded in its own books (signed, debit positive)."""
    village_id: int
    operator_id: int
    project: str
    investment: Decimal  # village 141 for the project (debit)
    capital: Decimal  # operator 301 from the village (credit: negative)
    receivable: Decimal  # village 112 for the project (debit)
    payable: Decimal  # operator 211 to the village (credit: negative)

    @property
    def difference(self) -> Decimal:
        """What the two books disagree by (zero when the reconciliation holds)."""
        return (self.investment + self.capital) + (self.receivable + self.payable)


def balance_eliminations(items: Iterable[JointItem], tops: Mapping[str, str]) -> dict[str, Decimal]:
    """Leaf-like balances of everything eliminated; `tops` names the first-level code of each side
    (investment, capital, receivable, payable — from the posting roles). Each side eliminates its own recorded
    amount, so a pair the books disagree on leaves its difference visible in the consolidated totals."""
    bal: dict[str, Decimal] = {}
    for it in items:
        for side, amount in (("investment", it.investment), ("capital", it.capital),
                             ("receivable", it.receivable), ("payable", it.payable)):
            if amount:
                # keyed by counterparty like services.reports.gross_balances: 应收 and 应付 never net
                key = f"{tops[side]}|{it.project}|{it.village_id}"
                bal[key] = bal.get(key, ZERO) + amount
    return bal


def balance_sheet_eliminations(items: Iterable[JointItem], tops: Mapping[str, str]) -> dict[str, Decimal]:
    return statements.balance_sheet_values(balance_eliminations(items, tops))


def income_eliminations(investment_income: Decimal, operator_distribution: Decimal,
                        income_top: str, distribution_code: str) -> dict[str, Decimal]:
    """The villages' 投资收益 from in-scope operators and the operators' 向成员分配 declared to those villages."""
    mov = {income_top: -investment_income} if investment_income else {}
    appr = {distribution_code: operator_distribution} if operator_distribution else {}
    return statements.income_values(mov, ZERO, ZERO, appr)


# ---------------------------------------------------------------- 经营收益 bands and the 倍增 target

WAN = Decimal(10000)

#: (key, label, lower bound inclusive or None, upper bound exclusive or None); 无 is ≤ 0
BANDS: tuple[tuple[str, str, Decimal | None, Decimal | None], ...] = (
    ("none", N_("无"), None, Decimal("0.01")),
    ("lt5", N_("5万元以下"), Decimal("0.01"), 5 * WAN),
    ("5to10", N_("5万–10万元"), 5 * WAN, 10 * WAN),
    ("10to50", N_("10万–50万元"), 10 * WAN, 50 * WAN),
    ("50to100", N_("50万–100万元"), 50 * WAN, 100 * WAN),
    ("ge100", N_("100万元以上"), 100 * WAN, None),
)
BAND_LABELS = {k: label for k, label, _, _ in BANDS}


def band_of(operating_profit: Decimal) -> str:
    """The 经营收益 band: 无 at zero or a loss, then < 5万, 5–10万, 10–50万, 50–100万, ≥ 100万 (lower bounds in)."""
    for key, _, lo, hi in BANDS:
        if (lo is None or operating_profit >= lo) and (hi is None or operating_profit < hi):
            return key
    raise AssertionError(operating_profit)


def band_counts(values: Iterable[Decimal]) -> dict[str, int]:
    out = {k: 0 for k, *_ in BANDS}
    for v in values:
        out[band_of(v)] += 1
    return out


def doubling_target(base: Decimal | None, factor: int) -> Decimal | None:
    """factor × the base year's 经营收益; none when the base year is unknown or had none (≤ 0: nothing to double,
    the village is counted among 无 instead)."""
    if base is None or base <= 0:
        return None
    return base * factor


def progress(actual: Decimal | None, base: Decimal | None, target: Decimal | None) -> Decimal | None:
    """Share of the way from the base to the target, 0 … 1 and beyond (None without figures)."""
    if actual is None or base is None or target is None or target == base:
        return None
    return (actual - base) / (target - base)


#: the accounts of 经营收益 (RULES §5: 501 + 502 − 511 − 512 − 513), first level
OPERATING_ACCOUNTS = ("501", "502", "511", "512", "513")


def operating_profit(movements: Mapping[str, Decimal]) -> Decimal:
    """经营收益 from signed (debit-positive) movements of the year, by the statement's own formula."""
    return statements.income_values(movements, ZERO, ZERO, {})["operating_profit"]


def doubling_path(base: Decimal, factor: int, base_year: int, years: int, year: int) -> Decimal:
    """The straight path from the base year's amount to factor × it `years` later, at `year` (to the fen)."""
    return (base + base * (factor - 1) * (year - base_year) / years).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
