"""结账 and 反结账 (RULES §4): closing a month with its preconditions, reopening the latest one, and the December
sequence — (1) 损益结转, (2) the distribution plan, (3) the close that moves 32201 各项分配 → 32202.

The domains add what a close needs from them through the registries below, filled when their module is imported
(coop/services/__init__.py imports them all): 三资 (#21) that December's depreciation is run before 损益结转 and
before the close; 财务公开 that a published sheet covers a month about to be reopened. This module knows none of
them, so the voucher path below it never reaches up into a domain.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

import sqlalchemy as sa

from coop.core import clock
from coop.core.errors import Forbidden, InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.core.money import ZERO, format_plain
from coop.core.text import N_
from coop.ledger import codes, roles
from coop.ledger.chart import CURRENT_YEAR_PROFIT, DISTRIBUTIONS, PNL, chart_account
from coop.ledger.closing import carryover_entries, distributions_entry
from coop.models import Organization, Period, User, Voucher
from coop.models.base import utcnow
from coop.services import access, audit, vouchers
from coop.services.accounts import local_code
from coop.services.periods import closed_months, first_open, last_closed, lock_books, month_closed, next_month, \
    period_row
from coop.services.reports import leaf_balances, trial_balance_is_balanced
from coop.services.roles import resolve

# ---------------------------------------------------------------- what the domains contribute

#: (org, year, month) → the reasons, if any, the month cannot be closed yet (三资: December's depreciation)
ClosePrecondition = Callable[[Organization, int, int], list[str]]
CLOSE_PRECONDITIONS: list[ClosePrecondition] = []
#: (org, year, user): a December step that comes before 损益结转 (三资: December's depreciation, RULES §14)
DecemberStep = Callable[[Organization, int, User], object]
BEFORE_CARRYOVER: list[DecemberStep] = []
#: (org, year, month) → why the closed month cannot be reopened, or None (财务公开: a published sheet covers it)
ReopenBlocker = Callable[[Organization, int, int], "str | None"]
REOPEN_BLOCKERS: list[ReopenBlocker] = []


def close_precondition(fn: ClosePrecondition) -> ClosePrecondition:
    CLOSE_PRECONDITIONS.append(fn)
    return fn


def before_carryover(fn: DecemberStep) -> DecemberStep:
    BEFORE_CARRYOVER.append(fn)
    return fn


def reopen_blocker(fn: ReopenBlocker) -> ReopenBlocker:
    REOPEN_BLOCKERS.append(fn)
    return fn


# ---------------------------------------------------------------- closing a month


def close_preconditions(org: Organization, year: int, month: int, *, today: dt.date | None = None) -> list[str]:
    """Every reason the month cannot be closed now (empty when it can)."""
    reasons = []
    today = today or clock.today()
    if not org.opening_locked:
        reasons.append(N_("期初余额尚未确认（试算平衡后锁定）"))
    if (year, month) != first_open(org):
        fy, fm = first_open(org)
        if (year, month) in closed_months(org):
            reasons.append(N_("%(y)s年%(m)s月已经结账", y=year, m=month))
        else:
            reasons.append(N_("请按顺序结账：下一个应结账的月份是 %(y)s年%(m)s月", y=fy, m=fm))
    if dt.date(*next_month(year, month), 1) > today:
        reasons.append(N_("%(y)s年%(m)s月尚未结束，不能结账", y=year, m=month))
    pending = db.session.scalar(
        sa.select(sa.func.count()).select_from(Voucher).where(
            Voucher.organization_id == org.id, Voucher.year == year, Voucher.month == month, Voucher.status != "posted"
        )
    )
    if pending:
        reasons.append(N_("本月还有 %(n)s 张凭证未记账（制单或已审核）", n=pending))
    if not trial_balance_is_balanced(org, year, month):
        reasons.append(N_("试算不平衡"))
    for precondition in CLOSE_PRECONDITIONS:
        reasons += precondition(org, year, month)
    return reasons


# ---------------------------------------------------------------- the December sequence (RULES §4)

CARRYOVER_STATES = {"not_due": N_("未到12月"), "pending": N_("待结转"), "done": N_("已结转"),
                    "stale": N_("12月有变动，需重新结转"), "closed": N_("已结账")}


def year_end_leaves(org: Organization) -> tuple[str, str]:
    """The leaves the year end posts to: 本年收益 and 未分配收益 (posting roles)."""
    return resolve(org, roles.CURRENT_YEAR_PROFIT), resolve(org, roles.UNDISTRIBUTED)


def _left_to_carry(org: Organization, year: int) -> dict:
    """损益 and 本年收益 leaves with a balance on 31 December (what a carry-over would move now)."""
    return {c: b for c, b in leaf_balances(org, until=dt.date(year, 12, 31)).items()
            if b and (chart_account(c).category == PNL or c.startswith(CURRENT_YEAR_PROFIT))}


def carryover_vouchers(org: Organization, year: int) -> list[Voucher]:
    return list(db.session.scalars(sa.select(Voucher).where(
        Voucher.organization_id == org.id, Voucher.kind == "carryover", Voucher.date == dt.date(year, 12, 31),
        Voucher.status == "posted").order_by(Voucher.number)))


def carryover_state(org: Organization, year: int) -> str:
    """Where step (1) of the year end stands: not_due (earlier months still open), pending, done, stale (December
    changed after it; it is run again before the plan posts and before 结账), closed."""
    if month_closed(org, year, 12):
        return "closed"
    if first_open(org) != (year, 12):
        return "not_due"
    left = _left_to_carry(org, year)
    if not left:
        return "done"
    return "stale" if carryover_vouchers(org, year) else "pending"


def carry_over(org: Organization, year: int, *, user: User, today: dt.date | None = None) -> list[Voucher]:
    """Step (1), 损益结转: post the carry-over of December (损益 → 321 → 32202) as vouchers of their own, dated
    31 December. Run again after December changed, it moves only what changed since (posted vouchers never change,
    so the earlier carry-over stays and the new one adds the difference). Nothing to move, nothing posted."""
    access.require(user, access.CLOSE, org)
    lock_books(org, exclusive=True)
    if month_closed(org, year, 12):
        raise InvalidState(f"{year}年12月已结账", {"year": [f"{year}年12月已结账，损益已结转"]})
    if first_open(org) != (year, 12):
        fy, fm = first_open(org)
        raise InvalidState(f"损益结转在12月进行：请先结账 {fy}年{fm}月", {"year": [f"请先结账 {fy}年{fm}月"]})
    today = today or clock.today()
    if today < dt.date(year, 12, 1):
        raise InvalidState(f"{year}年12月尚未开始，不能结转损益", {"year": [f"{year}年12月尚未开始"]})
    for step in BEFORE_CARRYOVER:  # 三资 (#21): December's depreciation comes before 损益结转 (RULES §14)
        step(org, year, user)
    return _post_carryover(org, year, user=user)


def _post_carryover(org: Organization, year: int, *, user: User) -> list[Voucher]:
    profit_leaf, undistributed_leaf = year_end_leaves(org)
    balances = leaf_balances(org, until=dt.date(year, 12, 31))
    out = [vouchers.post_system_entry(org, e, user=user, kind="carryover")
           for e in carryover_entries(year, balances, profit_leaf=profit_leaf, undistributed_leaf=undistributed_leaf)]
    if out:
        audit.log("period.carryover", user=user, org=org, target=str(year), vouchers=[v.id for v in out])
    return out


def refresh_carryover(org: Organization, year: int, *, user: User) -> list[Voucher]:
    """Re-run the carry-over when December changed after it (before the plan posts, before 结账)."""
    if carryover_state(org, year) == "stale":
        return _post_carryover(org, year, user=user)
    return []


def close_period(org: Organization, year: int, month: int, *, user: User, today: dt.date | None = None) -> list[Voucher]:
    """结账. December is step (3) of the year end: the carry-over is (re-)run if December changed since it, then
    32201 各项分配 → 32202. Returns the vouchers generated."""
    access.require(user, access.CLOSE, org)
    lock_books(org, exclusive=True)
    reasons = close_preconditions(org, year, month, today=today)
    if reasons:
        raise InvalidState("；".join(reasons), {"_schema": reasons})
    generated = []
    if month == 12:
        generated += _post_carryover(org, year, user=user)
        _, undistributed_leaf = year_end_leaves(org)
        entry = distributions_entry(year, leaf_balances(org, until=dt.date(year, 12, 31)),
                                    distributions=local_code(org, DISTRIBUTIONS), undistributed_leaf=undistributed_leaf)
        if entry is not None:
            generated.append(vouchers.post_system_entry(org, entry, user=user, kind="carryover"))
    row = period_row(org, year, month)
    if row is None:
        row = Period(organization_id=org.id, year=year, month=month)
        db.session.add(row)
    row.status, row.closed_at, row.closed_by_id = "closed", utcnow(), user.id
    db.session.flush()
    audit.log("period.close", user=user, org=org, target=f"{year}-{month:02d}")
    return generated


def reopen_period(org: Organization, year: int, month: int, *, user: User, reason: str) -> None:
    """反结账: only the latest closed month, only by a township or county supervisor, with a reason."""
    if not access.can(user, access.REOPEN, org):
        raise Forbidden("只有乡镇经管站或县级管理员可以反结账")
    if not (reason or "").strip():
        raise ValidationFailed.field("reason", "请填写反结账原因")
    # a close of the next month under way: wait for it, then see it (else January reopens under a closed February)
    lock_books(org, exclusive=True)
    if last_closed(org) != (year, month):
        raise InvalidState("只能反结账最近一个已结账的月份")
    for blocker in REOPEN_BLOCKERS:
        if (why := blocker(org, year, month)) is not None:
            raise InvalidState(why)
    row = period_row(org, year, month)
    row.status, row.closed_at, row.closed_by_id = "open", None, None
    db.session.flush()
    audit.log("period.reopen", user=user, org=org, target=f"{year}-{month:02d}", reason=reason.strip())


@vouchers.after_posting
def after_hand_posting(org: Organization, voucher: Voucher, *, user: User,
                       codes: dict[int, str] | None = None) -> list[Voucher]:
    """After a voucher is posted by hand: a distribution through 32201 may not take more than is there (RULES §7,
    no 举债分配 — refused with the numbers); and in a December whose carry-over already ran, the carry-over runs
    again for the difference, so the year-end figures stay after it (RULES §4 step 1). `codes`: account code by
    id (the chart the caller holds), else each line's account is read."""
    _check_hand_distribution(org, voucher, codes)
    if voucher.month != 12 or voucher.kind == "carryover" or not carryover_vouchers(org, voucher.year):
        return []
    return refresh_carryover(org, voucher.year, user=user)


def _check_hand_distribution(org: Organization, voucher: Voucher, account_codes: dict[int, str] | None) -> None:
    """A hand-made voucher debiting 32201 各项分配 must leave 未分配收益 (with December's result, when made in
    December) out of debit. Corrections (red, adjusting), system vouchers (飞地抱团's operator declares returns
    through 322) and imported history are not refused here; `coop verify` flags what went too far."""
    if voucher.kind != "normal":
        return
    line_codes = [(account_codes[l.account_id] if account_codes else l.account.code, l) for l in voucher.lines]
    equity = codes.top(DISTRIBUTIONS)
    if not any(c.startswith(equity) for c, _ in line_codes):  # the usual voucher: no need for the code scheme
        return
    prefix = local_code(org, DISTRIBUTIONS)
    amount = sum((l.debit - l.credit for c, l in line_codes if c.startswith(prefix)), ZERO)
    if amount <= 0:
        return
    december = voucher.month == 12
    left = -sum((b for c, b in leaf_balances(org).items() if c.startswith(equity) or (december and (
        c.startswith(CURRENT_YEAR_PROFIT) or chart_account(c).category == PNL))), ZERO)
    if left < 0:
        raise ValidationFailed.field(
            "lines", f"本凭证分配 {format_plain(amount)}，超过可分配的 {format_plain(left + amount)}，"
                     f"记账后未分配收益将为借方 {format_plain(-left)}（禁止举债分配）")
