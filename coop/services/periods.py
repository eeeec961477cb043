"""Monthly periods (RULES §4): which months are open or closed, the first open month, the month being worked on,
and the books lock every posting and every close takes. Closing and reopening a month is coop.services.closing."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from coop.core import clock
from coop.core.errors import PeriodClosed, ValidationFailed
from coop.core.extensions import db
from coop.ledger.months import month_key, next_month, prev_month  # noqa: F401  (periods.next_month … for callers)
from coop.models import Organization, Period, Voucher
from coop.models.base import transaction_memo
from coop.models.ledger import PeriodStatus


def closed_months(org: Organization) -> set[tuple[int, int]]:
    rows = db.session.execute(
        sa.select(Period.year, Period.month).where(Period.organization_id == org.id,
                                                   Period.status == PeriodStatus.CLOSED)
    )
    return {(y, m) for y, m in rows}


def month_closed(org: Organization, year: int, month: int) -> bool:
    """One month's state: the hot path of every voucher write, so not the whole list of closed months."""
    return db.session.scalar(sa.select(Period.id).where(
        Period.organization_id == org.id, Period.year == year, Period.month == month,
        Period.status == PeriodStatus.CLOSED)
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
    return not month_closed(org, date.year, date.month)


#: first key of the PostgreSQL advisory lock on an organization's books ("coop"); the second is the org id
BOOKS_LOCK = 0x636F6F70


#: transaction memos: the organizations whose books lock this transaction holds (True: exclusively), and the
#: months it found open while holding it
_HELD, _OPEN = "coop_books_held", "coop_open_months"


@event.listens_for(Session, "before_flush")
def _forget_open_months(session: Session, _context, _instances) -> None:
    """A close or reopen in this transaction (any Period written) makes the months read again."""
    if _OPEN in session.info and any(isinstance(o, Period) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_OPEN)


def lock_books(org: Organization, *, exclusive: bool) -> None:
    """Writers of vouchers hold the books lock shared, 结账 holds it exclusively: a close waits for postings under
    way and then sees them, and a posting waiting behind a close then sees the month closed. On PostgreSQL it is
    an advisory lock, whose queue lets no new writer jump ahead of a waiting close (shared row locks would, and
    a steady stream of postings starved the close). SQLite has one writer at a time: the FOR UPDATE makes the
    engine hook take its write lock (see coop/__init__.py). Both last until the transaction ends, so a transaction
    takes the lock once (the next voucher of a batch, the 审核 and 记账 of a voucher just written)."""
    held = transaction_memo(db.session, _HELD, dict)
    if org.id in held and held[org.id] >= exclusive:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        fn = sa.func.pg_advisory_xact_lock if exclusive else sa.func.pg_advisory_xact_lock_shared
        db.session.execute(sa.select(fn(BOOKS_LOCK, org.id)))
    else:
        db.session.execute(sa.select(Organization.id).where(Organization.id == org.id).with_for_update())
    held[org.id] = exclusive


def ensure_open(org: Organization, date: dt.date, path: str = "date") -> None:
    """Raise if `date` falls in a closed month or before the books start. The month's state is read in a
    statement after the lock is held, so under READ COMMITTED it sees a close that committed while we waited;
    while the lock is held no one else can close it, so an open month is read once a transaction."""
    lock_books(org, exclusive=False)
    if month_key(date.year, date.month) < month_key(org.books_start_year, org.books_start_month):
        raise ValidationFailed.field(
            path, f"日期早于建账月份 {org.books_start_year}年{org.books_start_month}月"
        )
    seen = transaction_memo(db.session, _OPEN, set)
    if (org.id, date.year, date.month) in seen:
        return
    if month_closed(org, date.year, date.month):
        raise PeriodClosed(
            f"{date.year}年{date.month}月已结账，不能记账", {path: [f"{date.year}年{date.month}月已结账，不能在该期间记账"]}
        )
    seen.add((org.id, date.year, date.month))


def period_row(org: Organization, year: int, month: int) -> Period | None:
    return db.session.scalar(
        sa.select(Period).where(Period.organization_id == org.id, Period.year == year, Period.month == month)
    )


def working_month(org: Organization) -> tuple[int, int]:
    """The month a bare voucher list opens on: the latest month holding a voucher, up to this month in Beijing
    (the month being worked on: January only while January is that month); with no voucher yet, the first open
    month."""
    today = clock.today()
    key = Voucher.year * 12 + Voucher.month - 1
    latest = db.session.scalar(sa.select(sa.func.max(key)).where(
        Voucher.organization_id == org.id, key <= today.year * 12 + today.month - 1))
    if latest is None:
        return first_open(org)
    return latest // 12, latest % 12 + 1
