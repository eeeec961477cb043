"""Monthly periods: which months are open, 结账 and 反结账 (RULES §4)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from coop.core import clock
from coop.core.errors import Forbidden, InvalidState, PeriodClosed, ValidationFailed
from coop.core.extensions import db
from coop.core.text import N_
from coop.core.money import ZERO, format_plain
from coop.ledger import roles
from coop.ledger.chart import CURRENT_YEAR_PROFIT, DISTRIBUTIONS, PNL, chart_account
from coop.ledger.closing import carryover_entries, distributions_entry
from coop.models import Organization, Period, User, Voucher
from coop.models.base import utcnow
from coop.services import access, audit


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


#: session.info keys, valid until the transaction (or a savepoint) ends: the organizations whose books lock this
#: transaction holds (True: exclusively), and the months it found open while holding it
_HELD, _OPEN = "coop_books_held", "coop_open_months"


@event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None or transaction.nested:  # not the ORM's internal flush transactions
        session.info.pop(_HELD, None)
        session.info.pop(_OPEN, None)


@event.listens_for(Session, "before_flush")
def _forget_open_months(session: Session, _context, _instances) -> None:
    """A close or reopen in this transaction (any Period written) makes the months read again."""
    if _OPEN in session.info and any(isinstance(o, Period) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_OPEN)


def _lock_books(org: Organization, *, exclusive: bool) -> None:
    """Writers of vouchers hold the books lock shared, 结账 holds it exclusively: a close waits for postings under
    way and then sees them, and a posting waiting behind a close then sees the month closed. On PostgreSQL it is
    an advisory lock, whose queue lets no new writer jump ahead of a waiting close (shared row locks would, and
    a steady stream of postings starved the close). SQLite has one writer at a time: the FOR UPDATE makes the
    engine hook take its write lock (see coop/__init__.py). Both last until the transaction ends, so a transaction
    takes the lock once (the next voucher of a batch, the 审核 and 记账 of a voucher just written)."""
    held = db.session.info.setdefault(_HELD, {})
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
    _lock_books(org, exclusive=False)
    if month_key(date.year, date.month) < month_key(org.books_start_year, org.books_start_month):
        raise ValidationFailed.field(
            path, f"日期早于建账月份 {org.books_start_year}年{org.books_start_month}月"
        )
    seen = db.session.info.setdefault(_OPEN, set())
    if (org.id, date.year, date.month) in seen:
        return
    if _is_closed(org, date.year, date.month):
        raise PeriodClosed(
            f"{date.year}年{date.month}月已结账，不能记账", {path: [f"{date.year}年{date.month}月已结账，不能在该期间记账"]}
        )
    seen.add((org.id, date.year, date.month))


def _period_row(org: Organization, year: int, month: int) -> Period | None:
    return db.session.scalar(
        sa.select(Period).where(Period.organization_id == org.id, Period.year == year, Period.month == month)
    )


def close_preconditions(org: Organization, year: int, month: int, *, today: dt.date | None = None) -> list[str]:
    """Every reason the month cannot be closed now (empty when it can)."""
    from coop.services.reports import trial_balance_is_balanced

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
    if month == 12:
        from coop.services.sanzi import depreciation_preview, depreciation_run

        if depreciation_run(org, year, 12) is None and depreciation_preview(org, year, 12):
            # the December sequence runs depreciation before 损益结转; a close must not skip it (RULES §4, §14)
            reasons.append(N_("12月固定资产折旧尚未计提（先做损益结转，或在三资台账中计提折旧）"))
    return reasons


# ---------------------------------------------------------------- the December sequence (RULES §4)

CARRYOVER_STATES = {"not_due": N_("未到12月"), "pending": N_("待结转"), "done": N_("已结转"),
                    "stale": N_("12月有变动，需重新结转"), "closed": N_("已结账")}


def year_end_leaves(org: Organization) -> tuple[str, str]:
    """The leaves the year end posts to: 本年收益 and 未分配收益 (posting roles)."""
    from coop.services.roles import resolve

    return resolve(org, roles.CURRENT_YEAR_PROFIT), resolve(org, roles.UNDISTRIBUTED)


def in_books(org: Organization, canonical: str) -> str:
    """A chart code (written canonically, 2-2-2) in the organization's code scheme: 32201 → 322001 under 3-3."""
    from coop.ledger import codes

    return codes.CANONICAL.convert(canonical, org.code_scheme)


def _left_to_carry(org: Organization, year: int) -> dict:
    """损益 and 本年收益 leaves with a balance on 31 December (what a carry-over would move now)."""
    from coop.services.reports import leaf_balances

    return {c: b for c, b in leaf_balances(org, until=dt.date(year, 12, 31)).items()
            if b and (chart_account(c).category == PNL or c.startswith(CURRENT_YEAR_PROFIT))}


def carryover_vouchers(org: Organization, year: int) -> list[Voucher]:
    return list(db.session.scalars(sa.select(Voucher).where(
        Voucher.organization_id == org.id, Voucher.kind == "carryover", Voucher.date == dt.date(year, 12, 31),
        Voucher.status == "posted").order_by(Voucher.number)))


def carryover_state(org: Organization, year: int) -> str:
    """Where step (1) of the year end stands: not_due (earlier months still open), pending, done, stale (December
    changed after it; it is run again before the plan posts and before 结账), closed."""
    if _is_closed(org, year, 12):
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
    _lock_books(org, exclusive=True)
    if _is_closed(org, year, 12):
        raise InvalidState(f"{year}年12月已结账", {"year": [f"{year}年12月已结账，损益已结转"]})
    if first_open(org) != (year, 12):
        fy, fm = first_open(org)
        raise InvalidState(f"损益结转在12月进行：请先结账 {fy}年{fm}月", {"year": [f"请先结账 {fy}年{fm}月"]})
    today = today or clock.today()
    if today < dt.date(year, 12, 1):
        raise InvalidState(f"{year}年12月尚未开始，不能结转损益", {"year": [f"{year}年12月尚未开始"]})
    from coop.services.sanzi import depreciate_month  # local: sanzi posts through this module

    depreciate_month(org, year, 12, user)  # 三资 (#21): December's depreciation comes before 损益结转 (RULES §14)
    return _post_carryover(org, year, user=user)


def _post_carryover(org: Organization, year: int, *, user: User) -> list[Voucher]:
    from coop.services.reports import leaf_balances
    from coop.services.vouchers import post_system_entry

    profit_leaf, undistributed_leaf = year_end_leaves(org)
    balances = leaf_balances(org, until=dt.date(year, 12, 31))
    out = [post_system_entry(org, e, user=user, kind="carryover")
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
    _lock_books(org, exclusive=True)
    reasons = close_preconditions(org, year, month, today=today)
    if reasons:
        raise InvalidState("；".join(reasons), {"_schema": reasons})
    generated = []
    if month == 12:
        from coop.services.reports import leaf_balances
        from coop.services.vouchers import post_system_entry

        generated += _post_carryover(org, year, user=user)
        _, undistributed_leaf = year_end_leaves(org)
        entry = distributions_entry(year, leaf_balances(org, until=dt.date(year, 12, 31)),
                                    distributions=in_books(org, DISTRIBUTIONS), undistributed_leaf=undistributed_leaf)
        if entry is not None:
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
    from coop.services.disclosure import SHEET_KINDS, published_cover

    cover = published_cover(org, year, month)
    if cover is not None:
        raise InvalidState(f"{year}年{month}月已包含在已公开的{SHEET_KINDS[cover.kind]}（第{cover.version}版）中，"
                           "请先新建该表的更正版本，再反结账")
    row = _period_row(org, year, month)
    row.status, row.closed_at, row.closed_by_id = "open", None, None
    db.session.flush()
    audit.log("period.reopen", user=user, org=org, target=f"{year}-{month:02d}", reason=reason.strip())



def after_posting(org: Organization, voucher: Voucher, *, user: User,
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
    from coop.ledger import codes
    from coop.services.reports import leaf_balances

    if voucher.kind != "normal":
        return
    line_codes = [(account_codes[l.account_id] if account_codes else l.account.code, l) for l in voucher.lines]
    equity = codes.top(DISTRIBUTIONS)
    if not any(c.startswith(equity) for c, _ in line_codes):  # the usual voucher: no need for the code scheme
        return
    prefix = in_books(org, DISTRIBUTIONS)
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


PRIOR_YEAR_NOTE = "（以前年度损益调整）"


def retarget_prior_year(org: Organization, corrected: Voucher, data: dict) -> dict:
    """RULES §3: a red reversal or adjusting voucher of a voucher from a closed year sends its 损益 side to 32202
    未分配收益 (the 2023 chart has no 以前年度损益调整), never to this year's 损益 accounts, so this year's 经营收益
    (and the cadre-reward cap it drives) is untouched. The income statement shows it as 其他转入/调整."""
    if not _is_closed(org, corrected.year, 12):
        return data
    _, undistributed_leaf = year_end_leaves(org)
    lines = []
    for line in data["lines"]:
        code = line["account_code"]
        if chart_account(code).category == PNL or code.startswith(CURRENT_YEAR_PROFIT):
            summary = (line.get("summary") or "").strip()
            line = {**line, "account_code": undistributed_leaf,
                    "summary": summary if summary.endswith(PRIOR_YEAR_NOTE) else summary + PRIOR_YEAR_NOTE}
        lines.append(line)
    return {**data, "lines": lines}
