"""三色预警 (RULES §10): rules over an organization's books, each warning with the facts that triggered it.

green: nothing found; yellow: needs attention; red: a rule is broken.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from coop.core.extensions import db
from coop.core.text import N_
from coop.ledger.distribution import YearResult
from coop.models import (Attachment, DistributionCadre, DistributionPlan, Organization, RoleAssignment, User, Voucher,
                      VoucherLine, Account)
from coop.models.distribution import PlanStatus
from coop.models.ledger import VoucherStatus
from coop.core.money import ZERO, format_plain
from coop.ledger import codes, roles as R
from coop.ledger.roles import ROLE_BY_KEY
from coop.services import reports
from coop.core import clock
LEVELS = ("green", "yellow", "red")


@dataclass
class Warning:
    code: str
    level: str
    title: str
    facts: list[str] = field(default_factory=list)


def _cash_over_limit(org: Organization, today: dt.date) -> Warning | None:
    limit = org.policy()["cash_limit"]
    top = ROLE_BY_KEY[R.CASH].top
    cash = sum((v for c, v in reports.leaf_balances(org, until=today).items() if codes.under(c, top)), ZERO)
    if cash > limit:
        return Warning("cash_over_limit", "red" if cash > 2 * limit else "yellow", N_("库存现金超过限额"),
                       [N_("库存现金余额 %(cash)s，限额 %(limit)s，超出 %(over)s", cash=format_plain(cash), limit=format_plain(limit),
                           over=format_plain(cash - limit))])
    return None


def officer_names(org: Organization) -> set[str]:
    """村干部 and staff: everyone holding a village role, and the cadres of distribution plans."""
    names = set(db.session.scalars(sa.select(User.display_name).join(RoleAssignment).where(
        RoleAssignment.organization_id == org.id, RoleAssignment.role.in_(("accountant", "reviewer")))))
    names |= set(db.session.scalars(sa.select(DistributionCadre.name).join(DistributionPlan).where(
        DistributionPlan.organization_id == org.id)))
    return {n for n in names if n}


def _officer_receivables(org: Organization, today: dt.date) -> Warning | None:
    """农村集体经济组织法 art. 35: officers may not borrow the collective's money."""
    names = officer_names(org)
    if not names:
        return None
    q = (sa.select(VoucherLine.counterparty, sa.func.sum(sa.type_coerce(VoucherLine.debit, sa.BigInteger)
                                                         - sa.type_coerce(VoucherLine.credit, sa.BigInteger)))
         .join(Voucher, Voucher.id == VoucherLine.voucher_id).join(Account, Account.id == VoucherLine.account_id)
         .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.date <= today,
                sa.or_(*(Account.code.startswith(ROLE_BY_KEY[k].top) for k in (R.RECEIVABLE, R.INTERNAL))),
                VoucherLine.counterparty.in_(names))
         .group_by(VoucherLine.counterparty))
    facts = [N_("%(who)s 欠款 %(amount)s", who=who, amount=format_plain(Decimal(fen) / 100))
             for who, fen in db.session.execute(q) if fen > 0]
    return Warning("officer_receivable", "red", N_("干部借用集体资金"), facts) if facts else None


def _no_attachments(org: Organization, today: dt.date) -> Warning | None:
    has_file = sa.select(Attachment.voucher_id)
    q = (sa.select(Voucher).where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED,
                                  Voucher.kind.in_(("normal", "adjust")), Voucher.attachment_count == 0,
                                  Voucher.id.not_in(has_file), Voucher.date <= today)
         .order_by(Voucher.date, Voucher.number))
    rows = list(db.session.scalars(q.limit(21)))
    if not rows:
        return None
    facts = [f"{v.date} {v.display_number}" for v in rows[:20]] + (["……"] if len(rows) > 20 else [])
    return Warning("no_attachment", "yellow", N_("凭证无原始单据"), facts)


def _old_drafts(org: Organization, today: dt.date) -> Warning | None:
    cutoff = dt.datetime.combine(today - dt.timedelta(days=30), dt.time())
    rows = list(db.session.scalars(sa.select(Voucher).where(
        Voucher.organization_id == org.id, Voucher.status != VoucherStatus.POSTED, Voucher.created_at < cutoff)
        .order_by(Voucher.created_at).limit(21)))
    if not rows:
        return None
    return Warning("old_drafts", "yellow", N_("超过30天未记账的凭证"),
                   [N_("%(date)s %(no)s（%(created)s 制单）", date=v.date, no=v.display_number, created=v.created_at.date())
                    for v in rows[:20]])


def _disclosure_overdue(org: Organization, today: dt.date) -> Warning | None:
    from coop.services.disclosure import due_date, overdue_quarters

    late = overdue_quarters(org, today)
    if not late:
        return None
    return Warning("disclosure_overdue", "red", N_("财务公开逾期"),
                   [N_("%(y)s年第%(q)s季度收支明细应于 %(due)s 前公开", y=y, q=q, due=due_date(org, y, q)) for y, q in late])


def _distribution_rules(org: Organization, today: dt.date) -> list[Warning]:
    """Posted plans checked again: cadre reward within the cap, no distribution without 可分配收益."""
    out = []
    policy = org.policy()
    for plan in db.session.scalars(sa.select(DistributionPlan).where(
            DistributionPlan.organization_id == org.id, DistributionPlan.status == PlanStatus.POSTED)):
        st = reports.income_statement(org, plan.year, 1, 12)
        year = YearResult(st.value("net_profit"), st.value("opening_undistributed"), st.value("operating_profit"),
                          st.value("other_in"))
        cap = (policy["cadre_reward_cap"] * max(year.operating_profit, ZERO)).quantize(Decimal("0.01"))
        if plan.cadre_reward > cap:
            out.append(Warning("cadre_over_cap", "red", N_("干部奖励分红超过上限"),
                               [N_("%(y)s年度 干部奖励 %(reward)s，上限 %(cap)s", y=plan.year, reward=format_plain(plan.cadre_reward),
                                   cap=format_plain(cap))]))
        if year.distributable <= 0 and (plan.member_pool or plan.cadre_reward):
            out.append(Warning("distribution_without_income", "red", N_("无可分配收益仍进行分配"),
                               [N_("%(y)s年度 可分配收益 %(amount)s", y=plan.year, amount=format_plain(year.distributable))]))
    # distributions (hand-made or imported ones too) that left 未分配收益 in debit (RULES §7, 举债分配)
    from coop.services.integrity import overdistributed_years

    found = overdistributed_years(org)
    if found:
        out.append(Warning("distribution_into_debt", "red", N_("分配后未分配收益为借方（举债分配）"),
                           [o.message for o in found]))
    return out


def warnings_for(org: Organization, today: dt.date | None = None) -> list[Warning]:
    today = today or clock.today()
    found = [w for rule in (_cash_over_limit, _officer_receivables, _no_attachments, _old_drafts, _disclosure_overdue)
             if (w := rule(org, today)) is not None]
    found += _distribution_rules(org, today)
    from coop.services.cashier import cash_warnings  # 报账/出纳 (#22)
    found += cash_warnings(org, today)
    from coop.services.sanzi import warnings as sanzi_warnings  # 三资 rules (#21)
    found += sanzi_warnings(org, today)
    return sorted(found, key=lambda w: -LEVELS.index(w.level))


def level_of(warnings: list[Warning]) -> str:
    return max((w.level for w in warnings), key=LEVELS.index, default="green")
