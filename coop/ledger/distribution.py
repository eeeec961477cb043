"""收益分配 (RULES §7): the statutory order, the 村社合一 cadre-reward cap, and exact splits.

Order: 弥补亏损 (already netted in 可分配收益) → 提取公积公益金 → 干部奖励分红 (村社合一 only) → 向成员分配 → 其他
→ 年末未分配收益. Every amount is in yuan to the fen; every split uses largest remainder.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Hashable, Mapping

from ..money import ZERO, format_plain, quantize_yuan
from .allocation import allocate
from .types import LedgerIssue


@dataclass(frozen=True)
class YearResult:
    """Figures from the closed books of the year."""

    net_profit: Decimal  # 本年收益
    opening_undistributed: Decimal  # 年初未分配收益 (negative: 未弥补亏损)
    operating_profit: Decimal  # 当年经营性纯收益 = 501 + 502 − 511 − 512 − 513
    other_in: Decimal = ZERO  # 其他转入

    @property
    def distributable(self) -> Decimal:
        return self.net_profit + self.opening_undistributed + self.other_in


@dataclass(frozen=True)
class Policy:
    reserve_rate: Decimal  # 公积公益金 rate of 可分配收益 (章程)
    cadre_cap_rate: Decimal = Decimal("0.20")  # ≤ cap × max(0, 经营性纯收益)
    cun_she_he_yi: bool = False


@dataclass(frozen=True)
class Scenario:
    """What the meeting decides; a what-if is just another scenario."""

    member_pool: Decimal = ZERO  # 向成员分配
    cadre_reward: Decimal = ZERO  # 干部奖励分红 requested
    other: Decimal = ZERO  # 其他分配
    reserve_rate: Decimal | None = None  # overrides the 章程 rate for this scenario


@dataclass
class Waterfall:
    distributable: Decimal
    loss_covered: Decimal
    reserve: Decimal
    cadre_cap: Decimal
    cadre_reward: Decimal
    member_pool: Decimal
    other: Decimal
    closing_undistributed: Decimal
    issues: list[LedgerIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


def waterfall(year: YearResult, policy: Policy, scenario: Scenario) -> Waterfall:
    issues: list[LedgerIssue] = []
    rate = policy.reserve_rate if scenario.reserve_rate is None else scenario.reserve_rate
    if not (0 <= rate <= 1):
        issues.append(LedgerIssue("reserve_rate", f"公积公益金提取比例 {rate:.2%} 应在0到100%之间"))
        rate = min(max(rate, Decimal(0)), Decimal(1))
    for name, value in (("member_pool", scenario.member_pool), ("cadre_reward", scenario.cadre_reward),
                        ("other", scenario.other)):
        if value < 0:
            issues.append(LedgerIssue(name, "金额不能为负数"))
    distributable = year.distributable
    loss_covered = max(-year.opening_undistributed, ZERO)
    if distributable <= 0:
        issues.append(LedgerIssue("distributable",
                                  f"可分配收益为 {format_plain(distributable)} 元，不大于零，不得分配（禁止举债分配）"))
        return Waterfall(distributable, loss_covered, ZERO, ZERO, ZERO, ZERO, ZERO, distributable, issues)
    reserve = quantize_yuan(distributable * rate)
    after_reserve = distributable - reserve
    cadre_cap = ZERO
    if policy.cun_she_he_yi:
        by_rule = quantize_yuan(policy.cadre_cap_rate * max(year.operating_profit, ZERO))
        cadre_cap = min(by_rule, after_reserve)
        if scenario.cadre_reward > cadre_cap:
            why = (f"{policy.cadre_cap_rate:.0%} × 经营性纯收益 {format_plain(max(year.operating_profit, ZERO))}"
                   if cadre_cap == by_rule else "提取公积公益金后的余额")
            issues.append(LedgerIssue(
                "cadre_reward",
                f"干部奖励分红 {format_plain(scenario.cadre_reward)} 超过上限 {format_plain(cadre_cap)}（{why}），"
                f"超出 {format_plain(scenario.cadre_reward - cadre_cap)}"))
    elif scenario.cadre_reward:
        issues.append(LedgerIssue("cadre_reward", "只有村社合一的组织可以提取干部奖励分红"))
    left = after_reserve - scenario.cadre_reward - scenario.other
    if scenario.member_pool > left:
        issues.append(LedgerIssue(
            "member_pool", f"向成员分配 {format_plain(scenario.member_pool)} 超过可分配余额 {format_plain(max(left, ZERO))}，"
                           f"超出 {format_plain(scenario.member_pool - max(left, ZERO))}"))
    closing = after_reserve - scenario.cadre_reward - scenario.member_pool - scenario.other
    return Waterfall(distributable, loss_covered, reserve, cadre_cap, scenario.cadre_reward, scenario.member_pool,
                     scenario.other, closing, issues)


@dataclass(frozen=True)
class Cadre:
    key: Hashable
    name: str
    start: dt.date  # in office from
    end: dt.date | None = None  # until (None: still sitting)
    weight: Decimal = Decimal(1)  # 考核 score


def months_in_office(cadre: Cadre, year: int) -> int:
    """Whole months in office during the year (a month counts when held on its first day or for all of it)."""
    start = max(cadre.start, dt.date(year, 1, 1))
    end = min(cadre.end or dt.date(year, 12, 31), dt.date(year, 12, 31))
    if end < start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if start.day != 1:
        months -= 1
    return max(months, 0)


def split_cadre_reward(total: Decimal, cadres: list[Cadre], year: int, *, min_months: int = 6,
                       per_person_cap: Decimal | None = None) -> tuple[dict, list[LedgerIssue]]:
    """Eligible cadres (≥ min_months in office that year) share the reward by weight, to the fen."""
    issues = []
    eligible = {}
    for c in cadres:
        m = months_in_office(c, year)
        if m < min_months:
            issues.append(LedgerIssue(f"cadres.{c.key}", f"{c.name} {year}年任职 {m} 个月，不足 {min_months} 个月，不能参与奖励"))
        elif c.weight <= 0:
            issues.append(LedgerIssue(f"cadres.{c.key}", f"{c.name} 的考核分必须大于零"))
        else:
            eligible[c.key] = c.weight
    if total and not eligible:
        issues.append(LedgerIssue("cadres", "没有符合条件的干部，不能提取干部奖励分红"))
        return {}, issues
    parts = allocate(total, eligible) if eligible else {}
    if per_person_cap is not None:
        for c in cadres:
            if parts.get(c.key, ZERO) > per_person_cap:
                issues.append(LedgerIssue(f"cadres.{c.key}", f"{c.name} 的奖励 {format_plain(parts[c.key])} 超过个人上限 "
                                                             f"{format_plain(per_person_cap)}"))
    return parts, issues


@dataclass
class MemberSplit:
    per_share: Decimal  # pool ÷ total shares, unrounded
    households: dict  # household key -> amount
    collective: Decimal  # the 集体股 part, kept by the collective (→ 311)


def split_member_pool(pool: Decimal, household_units: Mapping[Hashable, Decimal],
                      collective_units: Decimal = Decimal(0)) -> MemberSplit:
    """Per-share amount over all shares (集体股 included); households and the collective by largest remainder."""
    total_units = sum(household_units.values(), Decimal(0)) + collective_units
    if total_units <= 0:
        raise ValueError("no shares on the record date")
    weights = dict(household_units)
    key = object()
    if collective_units:
        weights[key] = collective_units
    parts = allocate(pool, weights)
    collective = parts.pop(key, ZERO)
    return MemberSplit(pool / total_units, parts, collective)
