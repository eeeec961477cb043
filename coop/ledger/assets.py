"""三资 arithmetic (RULES §14), pure: payment schedules with step-ups, monthly depreciation to the fen (年限平均法
and 工作量法), receivable ageing buckets. No Flask, no database; amounts are Decimal yuan."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from coop.core.text import N_
from coop.core.money import ZERO

CENT = Decimal("0.01")

#: payment frequency → months between instalments (one-off: a single instalment on the start date)
FREQUENCIES = {"annual": 12, "half_yearly": 6, "quarterly": 3, "one_off": 0}


def fen(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(date: dt.date, months: int) -> dt.date:
    """The same day `months` later; the 31st becomes the month's last day (a lease from 31 January pays on 28/29
    February)."""
    y, m = divmod(date.month - 1 + months, 12)
    year, month = date.year + y, m + 1
    return dt.date(year, month, min(date.day, calendar.monthrange(year, month)[1]))


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from `start` to `end` (the contract term in months; end exclusive)."""
    n = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day and not (end.day == calendar.monthrange(end.year, end.month)[1]):
        n -= 1
    return n


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_date: dt.date
    #: the period the instalment pays for [period_start, period_end)
    period_start: dt.date
    period_end: dt.date
    amount: Decimal


def annual_rent(base: Decimal, year_index: int, step_pct: Decimal, step_years: int) -> Decimal:
    """The rent of contract year `year_index` (0-based): the base raised by `step_pct` (5 for +5%) every
    `step_years` years, compounding, rounded to the fen at each step (the contract says 第4年起 52,500.00, not
    52,500.004…)."""
    rent = base
    if step_pct and step_years:
        for _ in range(year_index // step_years):
            rent = fen(rent * (1 + step_pct / 100))
    return rent


def schedule(start: dt.date, end: dt.date, annual_amount: Decimal, frequency: str, *, step_pct: Decimal = ZERO,
             step_years: int = 0, in_advance: bool = True) -> list[Instalment]:
    """The instalments of a contract running [start, end) at `annual_amount` a year (the base rent of the first
    years). Each contract year's rent (after step-ups) is split over its instalments, each ROUND_HALF_UP to the fen
    and the year's last instalment taking the remainder, so every year sums exactly. A part year at the end pays
    pro rata by months. In advance (the usual 先交后用): due on the first day of the period it pays for; else on
    its last day. One-off: the whole term's rent on the start date. An instalment is capped at what is left of the
    year's rent, so none is negative however small the rent."""
    if frequency not in FREQUENCIES:
        raise ValueError(frequency)
    if end <= start:
        raise ValueError("end before start")
    months_total = months_between(start, end)
    if frequency == "one_off":
        total = ZERO
        for y in range((months_total + 11) // 12):
            months = min(12, months_total - 12 * y)
            total += fen(annual_rent(annual_amount, y, step_pct, step_years) * months / 12)
        return [Instalment(1, start, start, end, total)]
    step = FREQUENCIES[frequency]
    out: list[Instalment] = []
    seq = 0
    for y in range((months_total + 11) // 12):
        rent = annual_rent(annual_amount, y, step_pct, step_years)
        months_in_year = min(12, months_total - 12 * y)
        year_rent = fen(rent * months_in_year / 12)
        periods = []
        m = 0
        while m < months_in_year:
            length = min(step, months_in_year - m)
            periods.append((12 * y + m, length))
            m += length
        paid = ZERO
        for i, (offset, length) in enumerate(periods):
            # never past the year's rent (a rent of a few fen over four quarters rounds up more than it has)
            amount = year_rent - paid if i == len(periods) - 1 else min(fen(year_rent * length / months_in_year),
                                                                         year_rent - paid)
            paid += amount
            seq += 1
            p_start = add_months(start, offset)
            p_end = min(add_months(start, offset + length), end)
            due = p_start if in_advance else p_end - dt.timedelta(days=1)
            out.append(Instalment(seq, due, p_start, p_end, amount))
    return out


# ---------------------------------------------------------------- depreciation (年限平均法)


def monthly_depreciation(cost: Decimal, residual_rate: Decimal, life_months: int) -> Decimal:
    """(cost × (1 − residual rate)) ÷ life months, to the fen (ROUND_HALF_UP); the last month takes the remainder."""
    return fen(depreciable(cost, residual_rate) / life_months)


def depreciable(cost: Decimal, residual_rate: Decimal) -> Decimal:
    """What is depreciated over the life: cost less the residual value (residual value rounded to the fen)."""
    return cost - fen(cost * residual_rate)


def first_depreciation_month(acquired: dt.date) -> tuple[int, int]:
    """Depreciation starts the month after acquisition (当月增加的固定资产当月不提折旧)."""
    return (acquired.year + 1, 1) if acquired.month == 12 else (acquired.year, acquired.month + 1)


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def depreciation_for_month(cost: Decimal, residual_rate: Decimal, life_months: int, acquired: dt.date,
                           accumulated: Decimal, year: int, month: int) -> Decimal:
    """This month's charge for one asset, given what is depreciated so far: the monthly amount, or the remainder
    when that would exceed the depreciable amount (the last month); zero before the first month, or once fully
    depreciated. `accumulated` includes opening (imported) depreciation."""
    if life_months <= 0 or month_index(year, month) < month_index(*first_depreciation_month(acquired)):
        return ZERO
    left = depreciable(cost, residual_rate) - accumulated
    if left <= 0:
        return ZERO
    months_used = month_index(year, month) - month_index(*first_depreciation_month(acquired))
    if months_used >= life_months - 1:  # the last month of the life (or later, catching up): all that is left
        return left
    return min(monthly_depreciation(cost, residual_rate, life_months), left)


# ---------------------------------------------------------------- depreciation (工作量法)


def workload_depreciation_for_month(cost: Decimal, residual_rate: Decimal, total_workload: Decimal,
                                    acquired: dt.date, used: Decimal, workload: Decimal, accumulated: Decimal,
                                    year: int, month: int) -> Decimal:
    """This month's 工作量法 charge: (cost × (1 − residual rate)) ÷ total workload × the month's workload, to the fen
    (ROUND_HALF_UP), never more than what is left (depreciable − accumulated). `used` is the workload of the months
    before; once used + this month's workload reaches the total, the month takes all that is left, so the charges
    sum exactly to the depreciable amount. Zero before the month after acquisition or once fully depreciated.
    `accumulated` includes opening (imported) depreciation."""
    if total_workload <= 0 or workload <= 0:
        return ZERO
    if month_index(year, month) < month_index(*first_depreciation_month(acquired)):
        return ZERO
    base = depreciable(cost, residual_rate)
    left = base - accumulated
    if left <= 0:
        return ZERO
    if used + workload >= total_workload:
        return left
    # multiply before dividing: 57,000 × 570 / 10,000 is exact where 57,000 / 3 × … would not be
    return min(fen(base * workload / total_workload), left)


# ---------------------------------------------------------------- ageing

#: (label, first day overdue, last day overdue or None)
AGEING_BUCKETS = ((N_("未到期"), None, 0), (N_("1-30天"), 1, 30), (N_("31-90天"), 31, 90),
                  (N_("91-365天"), 91, 365), (N_("1年以上"), 366, None))


def ageing_bucket(due: dt.date, on: dt.date) -> int:
    """Index into AGEING_BUCKETS of an amount due on `due`, seen on `on`."""
    days = (on - due).days
    if days <= 0:
        return 0
    for i, (_, lo, hi) in enumerate(AGEING_BUCKETS[1:], start=1):
        if days >= lo and (hi is None or days <= hi):
            return i
    return len(AGEING_BUCKETS) - 1


def allocate_receipts(open_items: list[tuple[object, Decimal]], amount: Decimal) -> list[tuple[object, Decimal]]:
    """A receipt clears the oldest instalments first (FIFO): (key, part applied) for each item it touches."""
    out = []
    left = amount
    for key, due in open_items:
        if left <= 0:
            break
        part = min(due, left)
        if part > 0:
            out.append((key, part))
            left -= part
    return out
