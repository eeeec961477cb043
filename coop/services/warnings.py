"""三色预警 (RULES §10): rules over an organization's books, each warning with the facts that triggered it.

green: nothing found; yellow: needs attention; red: a rule is broken. The rules over the books themselves are
here; a domain adds its own with `@rule(order)` when its module is imported (coop/services/__init__.py imports
them all): 财务公开 (overdue sheets), 收益分配 (cadre cap, distribution without income, 举债分配), 报账/出纳 (#22),
三资 (#21). This module imports none of them. `order` keeps the list in the order the rules were written.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

import sqlalchemy as sa

from coop.core import clock
from coop.core.extensions import db
from coop.core.money import ZERO, format_plain
from coop.core.text import N_
from coop.ledger import codes
from coop.ledger import roles as R
from coop.ledger.roles import ROLE_BY_KEY
from coop.models import (Account, Attachment, DistributionCadre, DistributionPlan, Organization, RoleAssignment, User,
                         Voucher, VoucherLine)
from coop.models.ledger import VoucherStatus
from coop.services import reports

LEVELS = ("green", "yellow", "red")


@dataclass
class Warning:
    code: str
    level: str
    title: str
    facts: list[str] = field(default_factory=list)


Rule = Callable[[Organization, dt.date], list[Warning]]
RULES: list[tuple[int, Rule]] = []


def rule(order: int):
    """Register a rule (org, today) → its warnings; rules run by `order`."""
    def register(fn: Rule) -> Rule:
        RULES.append((order, fn))
        RULES.sort(key=lambda r: r[0])
        return fn
    return register


def warnings_for(org: Organization, today: dt.date | None = None) -> list[Warning]:
    today = today or clock.today()
    found = [w for _, fn in RULES for w in fn(org, today)]
    return sorted(found, key=lambda w: -LEVELS.index(w.level))


def level_of(warnings: list[Warning]) -> str:
    return max((w.level for w in warnings), key=LEVELS.index, default="green")


# ---------------------------------------------------------------- the rules over the books


@rule(10)
def _cash_over_limit(org: Organization, today: dt.date) -> list[Warning]:
    limit = org.policy()["cash_limit"]
    top = ROLE_BY_KEY[R.CASH].top
    cash = sum((v for c, v in reports.leaf_balances(org, until=today).items() if codes.under(c, top)), ZERO)
    if cash > limit:
        return [Warning("cash_over_limit", "red" if cash > 2 * limit else "yellow", N_("库存现金超过限额"),
                        [N_("库存现金余额 %(cash)s，限额 %(limit)s，超出 %(over)s", cash=format_plain(cash),
                            limit=format_plain(limit), over=format_plain(cash - limit))])]
    return []


def officer_names(org: Organization) -> set[str]:
    """村干部 and staff: everyone holding an office in the village (art. 35 binds 理事、监事 and 经营管理人员: the
    head, the accountant, the 出纳 and the 民主理财小组), and the cadres of distribution plans."""
    offices = ("accountant", "reviewer", "cashier", "finance_group")
    names = set(db.session.scalars(sa.select(User.display_name).join(RoleAssignment).where(
        RoleAssignment.organization_id == org.id, RoleAssignment.role.in_(offices))))
    names |= set(db.session.scalars(sa.select(DistributionCadre.name).join(DistributionPlan).where(
        DistributionPlan.organization_id == org.id)))
    return {n for n in names if n}


@rule(20)
def _officer_receivables(org: Organization, today: dt.date) -> list[Warning]:
    """农村集体经济组织法 art. 35: officers may not borrow the collective's money."""
    names = officer_names(org)
    if not names:
        return []
    q = (sa.select(VoucherLine.counterparty, sa.func.sum(sa.type_coerce(VoucherLine.debit, sa.BigInteger)
                                                         - sa.type_coerce(VoucherLine.credit, sa.BigInteger)))
         .join(Voucher, Voucher.id == VoucherLine.voucher_id).join(Account, Account.id == VoucherLine.account_id)
         .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.date <= today,
                sa.or_(*(Account.code.startswith(ROLE_BY_KEY[k].top) for k in (R.RECEIVABLE, R.INTERNAL))),
                VoucherLine.counterparty.in_(names))
         .group_by(VoucherLine.counterparty))
    facts = [N_("%(who)s 欠款 %(amount)s", who=who, amount=format_plain(Decimal(fen) / 100))
             for who, fen in db.session.execute(q) if fen > 0]
    return [Warning("officer_receivable", "red", N_("干部借用集体资金"), facts)] if facts else []


@rule(30)
def _no_attachments(org: Organization, today: dt.date) -> list[Warning]:
    has_file = sa.select(Attachment.voucher_id)
    q = (sa.select(Voucher).where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED,
                                  Voucher.kind.in_(("normal", "adjust")), Voucher.attachment_count == 0,
                                  Voucher.id.not_in(has_file), Voucher.date <= today)
         .order_by(Voucher.date, Voucher.number))
    rows = list(db.session.scalars(q.limit(21)))
    if not rows:
        return []
    facts = [f"{v.date} {v.display_number}" for v in rows[:20]] + (["……"] if len(rows) > 20 else [])
    return [Warning("no_attachment", "yellow", N_("凭证无原始单据"), facts)]


@rule(40)
def _old_drafts(org: Organization, today: dt.date) -> list[Warning]:
    # the start of the Beijing day 30 days back, as the naive UTC that created_at is stored in
    cutoff = (dt.datetime.combine(today - dt.timedelta(days=30), dt.time(), tzinfo=clock.BEIJING)
              .astimezone(dt.timezone.utc).replace(tzinfo=None))
    rows = list(db.session.scalars(sa.select(Voucher).where(
        Voucher.organization_id == org.id, Voucher.status != VoucherStatus.POSTED, Voucher.created_at < cutoff)
        .order_by(Voucher.created_at).limit(21)))
    if not rows:
        return []
    return [Warning("old_drafts", "yellow", N_("超过30天未记账的凭证"),
                    [N_("%(date)s %(no)s（%(created)s 制单）", date=v.date, no=v.display_number,
                        created=clock.local(v.created_at).date()) for v in rows[:20]])]
