"""Monthly periods: which months are open, 结账 and 反结账 (RULES §4)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ..errors import Forbidden, InvalidState, PeriodClosed, ValidationFailed
from ..extensions import db
from ..i18n import N_
from ..ledger.closing import year_end_entries
from ..models import Organization, Period, User, Voucher
from ..models.base import utcnow
from . import access, audit


def month_key(year: int, month: int) -> int:
    return year * 12 + (month - 1)


def prev_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def closed_months(org: Organization) -> set[tuple[int, int]]:
    rows = db.session.execute(
        sa.select(Period.year, Period.month).where(Period.organization_id == org.id, Period.status == "closed")
    )
    return {(y, m) for y, m in rows}


def _is_closed(org: Organization, year: int, month: int) -> bool:
    """One month's state: the hot path of every voucher write, so not the whole list of closed months."""
    return db.session.scalar(sa.select(Period.id).where(
        Period.organization_id == org.id, Period.year == year, Period.month == month, Period.status == "closed")
    ) is not None


def last_closed(org: Organization) -> tuple[int, int] | None:
    closed = closed_months(org)
    return max(closed, key=lambda ym: month_key(*ym)) if closed else None


def first_open(org: Organization) -> tuple[int, int]:
    lc = last_closed(org)
    return next_month(*lc) if lc else (org.books_start_year, org.books_start_month)


def is_open(org: Organization, date: dt.date) -> bool:
    if month_key(date.year, date.month) < month_key(org.books_start_year, org.books_start_month):
        return False
    return not _is_closed(org, date.year, date.month)


#: first key of the PostgreSQL advisory lock on an organization's books ("coop"); the second is the org id
BOOKS_LOCK = 0x636F6F70


def _lock_books(org: Organization, *, exclusive: bool) -> None:
    """Writers of vouchers hold the books lock shared, 结账 holds it exclusively: a close waits for postings under
    way and then sees them, and a posting waiting behind a close then sees the month closed. On PostgreSQL it is
    an advisory lock, whose queue lets no new writer jump ahead of a waiting close (shared row locks would, and
    a steady stream of postings starved the close). SQLite has one writer at a time: the FOR UPDATE makes the
    engine hook take its write lock (see coop/__init__.py)."""
    if db.session.get_bind().dialect.name == "postgresql":
        fn = sa.func.pg_advisory_xact_lock if exclusive else sa.func.pg_advisory_xact_lock_shared
        db.session.execute(sa.select(fn(BOOKS_LOCK, org.id)))
    else:
        db.session.execute(sa.select(Organization.id).where(Organization.id == org.id).with_for_update())


def ensure_open(org: Organization, date: dt.date, path: str = "date") -> None:
    """Raise if `date` falls in a closed month or before the books start. The month's state is read in a
    statement after the lock is held, so under READ COMMITTED it sees a close that committed while we waited."""
    _lock_books(org, exclusive=False)
    if month_key(date.year, date.month) < month_key(org.books_start_year, org.books_start_month):
        raise ValidationFailed.field(
            path, f"日期早于建账月份 {org.books_start_year}年{org.books_start_month}月"
        )
    if _is_closed(org, date.year, date.month):
        raise PeriodClosed(
            f"{date.year}年{date.month}月已结账，不能记账", {path: [f"{date.year}年{date.month}月已结账，不能在该期间记账"]}
        )


def _period_row(org: Organization, year: int, month: int) -> Period | None:
    return db.session.scalar(
        sa.select(Period).where(Period.organization_id == org.id, Period.year == year, Period.month == month)
    )


def close_preconditions(org: Organization, year: int, month: int, *, today: dt.date | None = None) -> list[str]:
    """Every reason the month cannot be closed now (empty when it can)."""
    from .reports import trial_balance_is_balanced

    reasons = []
    today = today or dt.date.today()
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
    return reasons


def close_period(org: Organization, year: int, month: int, *, user: User, today: dt.date | None = None) -> list[Voucher]:
    """结账. In December the carry-over vouchers are generated and posted first. Returns them."""
    access.require(user, access.CLOSE, org)
    _lock_books(org, exclusive=True)
    reasons = close_preconditions(org, year, month, today=today)
    if reasons:
        raise InvalidState("；".join(reasons), {"_schema": reasons})
    generated = []
    if month == 12:
        from .reports import leaf_balances
        from .vouchers import post_system_entry

        balances = leaf_balances(org, until=dt.date(year, 12, 31))
        for entry in year_end_entries(year, balances):
            generated.append(post_system_entry(org, entry, user=user, kind="carryover"))
    row = _period_row(org, year, month)
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
    if last_closed(org) != (year, month):
        raise InvalidState("只能反结账最近一个已结账的月份")
    from .disclosure import SHEET_KINDS, published_cover

    cover = published_cover(org, year, month)
    if cover is not None:
        raise InvalidState(f"{year}年{month}月已包含在已公开的{SHEET_KINDS[cover.kind]}（第{cover.version}版）中，"
                           "请先新建该表的更正版本，再反结账")
    row = _period_row(org, year, month)
    row.status, row.closed_at, row.closed_by_id = "open", None, None
    db.session.flush()
    audit.log("period.reopen", user=user, org=org, target=f"{year}-{month:02d}", reason=reason.strip())

