"""收益分配 (RULES §7): the statutory order, the 村社合一 cadre-reward cap, and exact splits.

Order: 弥补亏损 (already netted in 可分配收益) → 提取公积公益金 → 干部奖励分红 (村社合一 only) → 向成员分配 → 其他
→ 年末未分配收益. Every amount is in yuan to the fen; every split uses largest remainder.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Hashable, Mapping

from coop.core.money import CENT, ZERO, format_plain, quantize_yuan
from coop.ledger.allocation import allocate
from coop.ledger.types import LedgerIssue


@dataclass(frozen=True)
class YearResult:
    """What there is to distribute for a year, from the books (RULES §7 "what is really there")."""

    net_profit: Decimal  # 本年收益
    opening_undistributed: Decimal  # 年初未分配收益 (negative: 未弥补亏损)
    operating_profit: Decimal  # 当年经营性纯收益 = 501 + 502 − 511 − 512 − 513
    other_in: Decimal = ZERO  # 其他转入/调整: 32202 moved by hand or by prior-year corrections since the year began
    distributed: Decimal = ZERO  # distributions already booked (32201) since the year began, by plans or by hand
    reserved: Decimal = ZERO  # of which 提取公积公益金 booked against this year
    rewarded: Decimal = ZERO  # of which 干部奖励分红 booked against this year (the cap is for the whole year)

    @property
    def distributable(self) -> Decimal:
        return self.net_profit + self.opening_undistributed + self.other_in - self.distributed


RESERVE_BASES = ("net_profit", "distributable")
DIVIDEND_MODES = ("per_share", "pool")
COLLECTIVE_MODES = ("reserve", "retain")


@dataclass(frozen=True)
class Policy:
    reserve_rate: Decimal  # 公积公益金 rate (章程)
    cadre_cap_rate: Decimal = Decimal("0.20")  # ≤ cap × max(0, 经营性纯收益)
    cun_she_he_yi: bool = False
    #: art. 42: the reserve is taken from 本年收益 after covering losses; the 章程 may choose 可分配收益
    reserve_base: str = "net_profit"
    #: per_share: the meeting's amount per share, to the fen (the rest stays undistributed); pool: largest remainder
    dividend_mode: str = "per_share"
    #: the 集体股 part: to 公积公益金 (reserve) or left in 未分配收益 (retain)
    collective_mode: str = "reserve"
    cadre_min_days: int = 183
    cadre_tax_rate: Decimal = ZERO  # 个税 withheld from the cadre reward (Cr 214), per 章程


@dataclass(frozen=True)
class Scenario:
    """What the meeting decides; a what-if is just another scenario."""

    member_pool: Decimal = ZERO  # 向成员分配 (per_share: at most this much)
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
    reserve_base: Decimal = ZERO
    #: after the member split: what households get, the 集体股 line, and what the per-share rounding leaves
    members: Decimal | None = None
    collective: Decimal = ZERO
    rounding_rest: Decimal = ZERO

    @property
    def ok(self) -> bool:
        return not self.issues

    def apply_split(self, split: "MemberSplit | None", policy: Policy) -> None:
        """Fix 向成员分配 at what households get; the 集体股 part is its own line (or stays, per 章程)."""
        if split is None:
            self.members = ZERO
            return
        self.members = sum(split.households.values(), ZERO)
        self.collective = split.collective
        self.rounding_rest = self.member_pool - self.members - self.collective
        self.closing_undistributed = (self.distributable - self.reserve - self.cadre_reward - self.other
                                      - self.members - (self.collective if policy.collective_mode == "reserve" else ZERO))

    @property
    def booked_total(self) -> Decimal:
        """What the plan takes out of 未分配收益 (the collective part only when it goes to 公积公益金)."""
        members = self.member_pool if self.members is None else self.members + self.collective
        return self.reserve + self.cadre_reward + members + self.other


def reserve_base(year: YearResult, policy: Policy) -> Decimal:
    """Art. 42: 本年收益 after covering losses, max(0, min(本年收益, 可分配收益)) — counted before this year's
    distributions already booked, which `YearResult.reserved` then nets; or 可分配收益 per 章程."""
    gross = year.distributable + year.distributed
    if policy.reserve_base == "distributable":
        return max(gross, ZERO)
    return max(ZERO, min(year.net_profit, gross))


def cadre_cap_by_rule(year: YearResult, policy: Policy) -> Decimal:
    """RULES §7 step 3: cap rate (章程, default 20%) × max(0, 当年经营性纯收益), less the 干部奖励分红 already booked
    for the year (the cap is for the whole year). The waterfall also holds it to what is left after the reserve."""
    return max(quantize_yuan(policy.cadre_cap_rate * max(year.operating_profit, ZERO)) - year.rewarded, ZERO)


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
    base = reserve_base(year, policy)
    if distributable <= 0:
        booked = (f"（其中已分配 {format_plain(year.distributed)}）" if year.distributed else "")
        issues.append(LedgerIssue("distributable",
                                  f"可分配收益为 {format_plain(distributable)} 元{booked}，不大于零，不得分配（禁止举债分配）"))
        return Waterfall(distributable, loss_covered, ZERO, ZERO, ZERO, ZERO, ZERO, distributable, issues, base)
    reserve = min(max(quantize_yuan(base * rate) - year.reserved, ZERO), distributable)
    after_reserve = distributable - reserve
    cadre_cap = ZERO
    if policy.cun_she_he_yi:
        by_rule = cadre_cap_by_rule(year, policy)
        cadre_cap = min(by_rule, after_reserve)
        if scenario.cadre_reward > cadre_cap:
            why = (f"{policy.cadre_cap_rate:.0%} × 经营性纯收益 {format_plain(max(year.operating_profit, ZERO))}"
                   + (f" − 本年已提 {format_plain(year.rewarded)}" if year.rewarded else "")
                   if cadre_cap == by_rule else "提取公积公益金后的余额")
            issues.append(LedgerIssue(
                "cadre_reward",
                f"干部奖励分红 {format_plain(scenario.cadre_reward)} 超过上限 {format_plain(cadre_cap)}（{why}），"
                f"超出 {format_plain(scenario.cadre_reward - cadre_cap)}"))
    elif scenario.cadre_reward:
        issues.append(LedgerIssue("cadre_reward", "只有村社合一的组织可以提取干部奖励分红"))
    left = after_reserve - scenario.cadre_reward - scenario.other
    if scenario.member_pool > max(left, ZERO):
        issues.append(LedgerIssue(
            "member_pool", f"向成员分配 {format_plain(scenario.member_pool)} 超过可分配余额 {format_plain(max(left, ZERO))}，"
                           f"超出 {format_plain(scenario.member_pool - max(left, ZERO))}"))
    total = reserve + scenario.cadre_reward + scenario.member_pool + scenario.other
    if total > distributable and not any(i.path == "member_pool" for i in issues):
        issues.append(LedgerIssue(
            "other", f"分配合计 {format_plain(total)} 超过可分配收益 {format_plain(distributable)}，超出 "
                     f"{format_plain(total - distributable)}（未分配收益不得出现借方余额，禁止举债分配）"))
    closing = after_reserve - scenario.cadre_reward - scenario.member_pool - scenario.other
    return Waterfall(distributable, loss_covered, reserve, cadre_cap, scenario.cadre_reward, scenario.member_pool,
                     scenario.other, closing, issues, base)


@dataclass(frozen=True)
class Cadre:
    key: Hashable
    name: str
    start: dt.date  # in office from
    end: dt.date | None = None  # until (None: still sitting)
    weight: Decimal = Decimal(1)  # 考核 score


def days_in_office(cadre: Cadre, year: int) -> int:
    """Days in office during the year, both ends counted."""
    start = max(cadre.start, dt.date(year, 1, 1))
    end = min(cadre.end or dt.date(year, 12, 31), dt.date(year, 12, 31))
    return max((end - start).days + 1, 0)


def split_cadre_reward(total: Decimal, cadres: list[Cadre], year: int, *, min_days: int = 183,
                       per_person_cap: Decimal | None = None) -> tuple[dict, list[LedgerIssue]]:
    """Eligible cadres (≥ min_days in office that year; 章程, default 183) share the reward by weight, to the fen."""
    issues = []
    eligible = {}
    for c in cadres:
        days = days_in_office(c, year)
        if days < min_days:
            issues.append(LedgerIssue(f"cadres.{c.key}", f"{c.name} {year}年任职 {days} 天，不足 {min_days} 天"
                                                         f"（差 {min_days - days} 天），不能参与奖励"))
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


def withholding(amount: Decimal, rate: Decimal) -> Decimal:
    """个税 withheld from a cadre's reward (章程 rate, default none), to the fen."""
    return quantize_yuan(amount * rate) if rate else ZERO


@dataclass
class MemberSplit:
    per_share: Decimal  # per_share mode: the amount per share, to the fen; pool mode: pool ÷ shares, unrounded
    households: dict  # household key -> amount (保底 included)
    collective: Decimal  # the 集体股 part
    floors: dict = field(default_factory=dict)  # 扶贫优先股 保底 by household

    @property
    def total(self) -> Decimal:
        return sum(self.households.values(), ZERO) + self.collective


def _floors_first(pool: Decimal, floors: Mapping[Hashable, Decimal]) -> tuple[dict, Decimal]:
    """扶贫优先股 保底 come first, capped by the pool (shared by largest remainder when it is short)."""
    floors = {k: v for k, v in floors.items() if v > 0}
    need = sum(floors.values(), ZERO)
    if need <= pool:
        return dict(floors), pool - need
    return (allocate(pool, floors) if floors else {}), ZERO


def split_member_pool(pool: Decimal, household_units: Mapping[Hashable, Decimal],
                      collective_units: Decimal = Decimal(0), floors: Mapping[Hashable, Decimal] | None = None
                      ) -> MemberSplit:
    """Pool mode (章程 option): 保底 first, then the rest over all shares (集体股 included) by largest remainder."""
    total_units = sum(household_units.values(), Decimal(0)) + collective_units
    if total_units <= 0:
        raise ValueError("no shares on the record date")
    paid, rest = _floors_first(pool, floors or {})
    weights = dict(household_units)
    key = object()
    if collective_units:
        weights[key] = collective_units
    parts = allocate(rest, weights)
    collective = parts.pop(key, ZERO)
    households = {k: parts.get(k, ZERO) + paid.get(k, ZERO) for k in set(parts) | set(paid)}
    return MemberSplit(rest / total_units, households, collective, paid)


def split_per_share(pool: Decimal, household_units: Mapping[Hashable, Decimal],
                    collective_units: Decimal = Decimal(0), floors: Mapping[Hashable, Decimal] | None = None
                    ) -> MemberSplit:
    """Per-share mode (default, RULES §7 Rounding): 保底 first; then the largest amount per share, to the fen, that
    the rest covers when every holder gets units × per share rounded to the fen. Equal holdings get equal money;
    what is left over stays in 未分配收益."""
    total_units = sum(household_units.values(), Decimal(0)) + collective_units
    if total_units <= 0:
        raise ValueError("no shares on the record date")
    paid, rest = _floors_first(pool, floors or {})
    per_share = (rest / total_units).quantize(CENT, rounding=ROUND_DOWN)

    def amounts(ps: Decimal) -> tuple[dict, Decimal]:
        return ({k: quantize_yuan(u * ps) for k, u in household_units.items()}, quantize_yuan(collective_units * ps))

    parts, collective = amounts(per_share)
    while per_share > 0 and sum(parts.values(), ZERO) + collective > rest:
        per_share -= CENT
        parts, collective = amounts(per_share)
    households = {k: parts.get(k, ZERO) + paid.get(k, ZERO) for k in set(parts) | set(paid)}
    return MemberSplit(per_share, households, collective, paid)
