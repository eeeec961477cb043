"""成批审核 and 成批记账 (the 记账 wizard of the packages accountants know): review or post every eligible voucher
of a month, or a chosen set, in one transaction, through the same review_voucher/post_voucher as one by one —
so four eyes, open months, the books lock and the posting digest all apply. A voucher that cannot take the step
is skipped with the reason; the others go ahead.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from coop.core.errors import CoopError
from coop.core.extensions import db
from coop.core.text import N_
from coop.models import Organization, User, Voucher
from coop.models.ledger import VoucherStatus
from coop.services import access, closing, periods
from coop.services.vouchers import post_voucher, review_voucher

STEPS = {"review": (access.REVIEW, VoucherStatus.DRAFT), "post": (access.POST, VoucherStatus.REVIEWED)}


@dataclass
class Skipped:
    voucher: Voucher
    reason: str


@dataclass
class BatchResult:
    step: str
    done: list[Voucher] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def candidates(org: Organization, step: str, *, year: int | None = None, month: int | None = None,
               ids: list[int] | None = None) -> list[Voucher]:
    """The vouchers a batch step looks at: the chosen ids, or every voucher of the month in the step's starting
    state, in date and number order (so review numbers follow the dates)."""
    _, status = STEPS[step]
    q = sa.select(Voucher).where(Voucher.organization_id == org.id)
    if ids is not None:
        q = q.where(Voucher.id.in_(ids or [-1]))
    else:
        q = q.where(Voucher.status == status)
        if year:
            q = q.where(Voucher.year == year)
        if month:
            q = q.where(Voucher.month == month)
    return list(db.session.scalars(q.order_by(Voucher.date, Voucher.number.is_(None), Voucher.number, Voucher.id)))


def _reason(org: Organization, v: Voucher, step: str, user: User, closed: set[tuple[int, int]]) -> str | None:
    """Why `user` cannot take `step` on `v` now (the checks of the one-by-one functions, said in advance)."""
    if step == "review":
        if v.status != VoucherStatus.DRAFT:
            return N_("不是待审核的凭证")
        if v.preparer_id == user.id:
            return N_("制单人不能审核自己编制的凭证")
    else:
        if v.status != VoucherStatus.REVIEWED:
            return N_("尚未审核") if v.status == VoucherStatus.DRAFT else N_("已经记账")
        if not org.opening_locked:
            return N_("期初余额尚未确认，不能记账")
    if (v.year, v.month) in closed:
        return N_("%(y)s年%(m)s月已结账", y=v.year, m=v.month)
    return None


def preview(org: Organization, step: str, user: User, vouchers: list[Voucher]) -> BatchResult:
    """What run() would do, without doing it."""
    closed = periods.closed_months(org)
    out = BatchResult(step)
    for v in vouchers:
        why = _reason(org, v, step, user, closed)
        if why:
            out.skipped.append(Skipped(v, why))
        else:
            out.done.append(v)
    return out


def run(org: Organization, step: str, user: User, vouchers: list[Voucher]) -> BatchResult:
    """Review or post each voucher in order; skip (with the reason) those that cannot take the step. The caller
    commits once. The checks run before anything of a voucher is written, so a refused voucher leaves nothing."""
    permission, _ = STEPS[step]
    access.require(user, permission, org)
    fn = review_voucher if step == "review" else post_voucher
    closed = periods.closed_months(org)
    out = BatchResult(step)
    for v in vouchers:
        why = _reason(org, v, step, user, closed)
        if why is None:
            try:
                fn(v, user=user)
            except CoopError as exc:  # e.g. an account that has since gained sub-accounts
                why = exc.message
        if why:
            out.skipped.append(Skipped(v, why))
        else:
            out.done.append(v)
    return out


@dataclass
class Blocker:
    """A reason the month cannot be closed, with the page that removes it (endpoint, args) when there is one."""
    message: str
    endpoint: str | None = None
    args: dict = field(default_factory=dict)
    #: the batch steps that clear it: (step, how many vouchers wait for it, label)
    steps: list[tuple[str, int, str]] = field(default_factory=list)
    month: str = ""


def close_blockers(org: Organization, year: int, month: int, today=None) -> list[Blocker]:
    """closing.close_preconditions with links: drafts → 成批审核, reviewed → 成批记账, the opening balances, the
    month to close first, the 科目余额表 when it does not balance."""
    from coop.core import clock
    today = today or clock.today()
    out = []
    counts = dict(db.session.execute(
        sa.select(Voucher.status, sa.func.count()).where(
            Voucher.organization_id == org.id, Voucher.year == year, Voucher.month == month,
            Voucher.status != VoucherStatus.POSTED).group_by(Voucher.status)).all())
    steps = [(step, counts[status], label) for step, status, label in (
        ("review", "draft", N_("%(n)s 张待审核", n=counts.get("draft", 0))),
        ("post", "reviewed", N_("%(n)s 张待记账", n=counts.get("reviewed", 0)))) if counts.get(status)]
    # the reasons are closing.close_preconditions' own words; the link is chosen by what each one is about (a
    # reason not recognised is still shown, without a link)
    for reason in closing.close_preconditions(org, year, month, today=today):
        text = getattr(reason, "msgid", str(reason))
        if "期初余额" in text:
            out.append(Blocker(reason, "ledger.opening"))
        elif "未记账" in text and steps:
            out.append(Blocker(reason, steps=steps, month=f"{year}-{month:02d}"))
            steps = []
        elif "试算" in text:
            out.append(Blocker(reason, "reports.trial_balance", {"year": year, "month_from": month, "month_to": month}))
        else:
            out.append(Blocker(reason))
    if steps:  # vouchers still waiting, whatever the words of the reason for them
        out.append(Blocker(N_("本月还有凭证未记账"), steps=steps, month=f"{year}-{month:02d}"))
    return out
