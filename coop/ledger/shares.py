"""折股量化 (RULES §6): from member data and class rules to share units per member, household and class.

Pure: plain records in, plain records out. Units are Decimal to 4 places (ROUND_HALF_UP per member and class).
Face value = quantified net assets ÷ total shares. Cash, resource and poverty-fund classes convert money into
shares at that face value, so their share of all units equals their share of the assets:
    T = S0 / (1 − r − (C + R + P) / A)
where S0 are the population and labour units, r the collective ratio, C/R/P the money put into the classes
and A the quantified net assets.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Hashable, Iterable
from coop.core.text import N_

UNIT = Decimal("0.0001")
ZERO_UNITS = Decimal("0.0000")
COLLECTIVE_LIMIT = Decimal("0.30")

POPULATION, LABOUR, COLLECTIVE, CASH, RESOURCE, POVERTY = (
    "population", "labour", "collective", "cash", "resource", "poverty")
CLASS_LABELS = {POPULATION: N_("人口股"), LABOUR: N_("农龄股"), COLLECTIVE: N_("集体股"), CASH: N_("资金股"), RESOURCE: N_("资源股"),
                POVERTY: N_("扶贫优先股")}
CLASS_ORDER = (POPULATION, LABOUR, CASH, RESOURCE, POVERTY, COLLECTIVE)


def q_units(x: Decimal) -> Decimal:
    return Decimal(x).quantize(UNIT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class MemberBasis:
    """What the plan needs to know about one person at the 基准日."""

    key: Hashable  # member id
    household: Hashable
    confirmed: bool = True  # a confirmed member (成员) at the 基准日; others get only cash/resource shares
    labour_start: dt.date | None = None
    labour_end: dt.date | None = None
    cash: Decimal = Decimal(0)  # money invested (资金股)
    resource: Decimal = Decimal(0)  # valued land/forest/water contributed (资源股)
    poverty: Decimal = Decimal(0)  # fiscal-fund assets quantified to this person (扶贫优先股)


@dataclass(frozen=True)
class PlanRules:
    population_units: Decimal = Decimal(1)  # units per confirmed member
    labour_units_per_year: Decimal = Decimal(0)
    labour_cap_years: int | None = None
    collective_ratio: Decimal = Decimal(0)  # share of ALL units kept by the collective
    collective_override: bool = False  # allow > 30% (must be flagged)
    poverty_floor_rate: Decimal = Decimal(0)  # 保底 rate of 扶贫优先股, used by the distribution


@dataclass
class QuantIssue:
    path: str
    message: str


@dataclass
class Quantification:
    base_date: dt.date
    net_assets: Decimal
    per_member: dict = field(default_factory=dict)  # key -> {class: units}
    collective_units: Decimal = ZERO_UNITS
    face_value: Decimal = Decimal(0)  # yuan per share, 4 places
    issues: list[QuantIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    households: dict = field(default_factory=dict)  # household -> [member keys]

    @property
    def member_total(self) -> Decimal:
        return sum((sum(c.values(), ZERO_UNITS) for c in self.per_member.values()), ZERO_UNITS)

    @property
    def total_units(self) -> Decimal:
        return self.member_total + self.collective_units

    def member_units(self, key) -> Decimal:
        return sum(self.per_member.get(key, {}).values(), ZERO_UNITS)

    def household_units(self, household) -> Decimal:
        return sum((self.member_units(k) for k in self.households.get(household, [])), ZERO_UNITS)

    def class_totals(self) -> dict[str, Decimal]:
        out = {c: ZERO_UNITS for c in CLASS_ORDER}
        for classes in self.per_member.values():
            for c, u in classes.items():
                out[c] += u
        out[COLLECTIVE] = self.collective_units
        return {c: u for c, u in out.items() if u}


def labour_years(start: dt.date | None, end: dt.date | None, base_date: dt.date, cap: int | None) -> int:
    """Completed years of labour from `start` to the earlier of `end` and the 基准日, capped."""
    if start is None:
        return 0
    stop = min(end or base_date, base_date)
    if stop <= start:
        return 0
    years = stop.year - start.year - ((stop.month, stop.day) < (start.month, start.day))
    return min(years, cap) if cap is not None else years


def quantify(members: Iterable[MemberBasis], rules: PlanRules, net_assets: Decimal, base_date: dt.date) -> Quantification:
    members = list(members)
    result = Quantification(base_date=base_date, net_assets=Decimal(net_assets))
    if net_assets <= 0:
        result.issues.append(QuantIssue("net_assets", "量化的经营性净资产必须大于零"))
    if not (0 <= rules.collective_ratio < 1):
        result.issues.append(QuantIssue("collective_ratio", "集体股比例应在0到100%之间"))
    elif rules.collective_ratio > COLLECTIVE_LIMIT:
        if not rules.collective_override:
            result.issues.append(QuantIssue(
                "collective_ratio",
                f"集体股占总股本 {rules.collective_ratio:.2%} 超过30%上限，需经成员大会决议并勾选特别批准"))
        else:
            result.warnings.append(f"集体股占总股本 {rules.collective_ratio:.2%}，超过30%（已特别批准）")
    for m in members:
        result.households.setdefault(m.household, []).append(m.key)
        for name in ("cash", "resource", "poverty"):
            if getattr(m, name) < 0:
                result.issues.append(QuantIssue(f"members.{m.key}.{name}", "金额不能为负数"))
    s0: dict = {}
    for m in members:
        units = {}
        if m.confirmed and rules.population_units:
            units[POPULATION] = q_units(rules.population_units)
        years = labour_years(m.labour_start, m.labour_end, base_date, rules.labour_cap_years) if m.confirmed else 0
        if years and rules.labour_units_per_year:
            units[LABOUR] = q_units(rules.labour_units_per_year * years)
        s0[m.key] = units
    s0_total = sum((sum(u.values(), ZERO_UNITS) for u in s0.values()), ZERO_UNITS)
    money_total = sum((m.cash + m.resource + m.poverty for m in members), Decimal(0))
    if result.issues:
        return result
    denominator = 1 - rules.collective_ratio - money_total / net_assets
    if s0_total == 0 and money_total == 0:
        result.issues.append(QuantIssue("members", "没有可折股的成员：至少需要人口股、农龄股或出资"))
        return result
    if s0_total == 0:
        # only money classes: one share per yuan is the natural unit
        total = money_total / (1 - rules.collective_ratio) if rules.collective_ratio < 1 else Decimal(0)
        face = net_assets / total if total else Decimal(0)
    else:
        if denominator <= 0:
            result.issues.append(QuantIssue("net_assets", "出资与集体股合计已达到或超过全部量化资产，无法折股"))
            return result
        total = s0_total / denominator
        face = net_assets / total
    for m in members:
        units = dict(s0[m.key])
        for cls, amount in ((CASH, m.cash), (RESOURCE, m.resource), (POVERTY, m.poverty)):
            if amount:
                units[cls] = q_units(amount / face)
        result.per_member[m.key] = units
    result.collective_units = q_units(total * rules.collective_ratio)
    result.face_value = (net_assets / result.total_units).quantize(UNIT, rounding=ROUND_HALF_UP)
    return result
