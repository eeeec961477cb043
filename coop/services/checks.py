"""Cross-checks of the data against the audit chain, for `coop verify` (in the manner of beancount's validations:
each check is a small function that returns the problems it finds, registered in CHECKS in the order they run).

The chain itself is keyed (coop.services.audit): what it records cannot be forged without the key. These checks
make the rest of the database answer to it — a voucher set back to draft after its posting was recorded, a month
reopened without a `period.close`/`period.reopen` trail, a published sheet rewritten together with its digest, a
household dividend raised, a role granted straight in the table.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import AuditLog, Disclosure, Organization, Period, RoleAssignment, Voucher, VoucherLine
from coop.models.disclosure import SheetStatus
from coop.models.distribution import DistributionPlan, DividendPayment, HouseholdDividend, PlanStatus
from coop.models.ledger import PeriodStatus, VoucherStatus
from coop.services.audit import _scope


@dataclass
class Event:
    seq: int
    action: str
    target: str
    org_id: int | None
    created_at: dt.datetime
    detail: dict = field(default_factory=dict)


#: the audit actions the checks read (the rest of a county's log — drafts, reviews — is never loaded)
ACTIONS = ("voucher.post", "voucher.generate", "period.close", "period.reopen", "disclosure.publish",
           "distribution.post", "audit.anchor", "role.grant", "role.revoke")


class Context:
    """The sealed audit events the checks read, loaded once and grouped by action."""

    def __init__(self):
        self.by_action: dict[str, list[Event]] = defaultdict(list)
        for row in db.session.execute(sa.select(AuditLog.seq, AuditLog.action, AuditLog.target,
                                                AuditLog.organization_id, AuditLog.created_at, AuditLog.detail)
                                      .where(AuditLog.seq.is_not(None), AuditLog.action.in_(ACTIONS))
                                      .order_by(AuditLog.seq)):
            try:
                detail = json.loads(row.detail) if row.detail else {}
            except ValueError:
                detail = {}
            self.by_action[row.action].append(Event(row.seq, row.action, row.target or "", row.organization_id,
                                                    row.created_at, detail if isinstance(detail, dict) else {}))
        self.org_names = dict(db.session.execute(sa.select(Organization.id, Organization.name)).all())

    def events(self, *actions: str) -> list[Event]:
        return sorted((e for a in actions for e in self.by_action.get(a, [])), key=lambda e: e.seq)


Check = Callable[[Context], list[str]]
CHECKS: list[tuple[str, Check]] = []


def check(label: str):
    def register(fn: Check) -> Check:
        CHECKS.append((label, fn))
        return fn
    return register


def run_all() -> list[str]:
    ctx = Context()
    return [p for _, fn in CHECKS for p in fn(ctx)]


def _fen(value) -> int:
    return int(value)


def dividends_digest(plan_id: int) -> str:
    """SHA-256 of a plan's 分红清册 (household id, units, amount in fen), recorded when the plan is posted."""
    t = HouseholdDividend.__table__
    rows = db.session.execute(sa.select(t.c.household_id, sa.type_coerce(t.c.amount, sa.BigInteger))
                              .where(t.c.plan_id == plan_id).order_by(t.c.household_id)).all()
    canon = [[int(h), int(a)] for h, a in rows]
    return hashlib.sha256(json.dumps(canon, separators=(",", ":")).encode()).hexdigest()


@check("记账记录对应的凭证仍为已记账")
def postings_still_posted(ctx: Context) -> list[str]:
    problems = []
    status = dict(db.session.execute(sa.select(Voucher.id, Voucher.status)).all())
    for e in ctx.events("voucher.post", "voucher.generate"):
        if e.target.isdecimal() and int(e.target) in status and status[int(e.target)] != VoucherStatus.POSTED:
            problems.append(f"凭证 id {e.target} 已记账（审计日志第 {e.seq} 条），现在的状态却是 "
                            f"{status[int(e.target)]}（记账被撤销）")
    return problems


def _month_states(ctx: Context) -> dict[tuple[int, str], list[Event]]:
    out: dict[tuple[int, str], list[Event]] = defaultdict(list)
    for e in ctx.events("period.close", "period.reopen"):
        if e.org_id is not None:
            out[(e.org_id, e.target)].append(e)
    return out


@check("结账状态与结账、反结账记录一致")
def period_states(ctx: Context) -> list[str]:
    problems = []
    trail = _month_states(ctx)
    periods = {(p.organization_id, f"{p.year}-{p.month:02d}"): p.status
               for p in db.session.scalars(sa.select(Period))}
    for key in sorted(set(periods) | set(trail), key=lambda k: (k[0], k[1])):
        events = trail.get(key, [])
        expected = PeriodStatus.CLOSED if events and events[-1].action == "period.close" else PeriodStatus.OPEN
        actual = periods.get(key, PeriodStatus.OPEN)
        if actual != expected:
            org, month = ctx.org_names.get(key[0], key[0]), key[1]
            if expected == PeriodStatus.CLOSED:
                problems.append(f"{org} {month}：已结账（审计日志第 {events[-1].seq} 条），现在却是未结账（被改回）")
            else:
                problems.append(f"{org} {month}：现在是已结账，审计日志中没有相应的结账记录")
    # a posting made while its month stood closed
    vouchers = {v.id: v for v in db.session.execute(sa.select(Voucher.id, Voucher.organization_id, Voucher.year,
                                                                 Voucher.month))}
    for e in ctx.events("voucher.post"):
        v = vouchers.get(int(e.target)) if e.target.isdecimal() else None
        if v is None:
            continue
        events = [x for x in trail.get((v.organization_id, f"{v.year}-{v.month:02d}"), []) if x.seq < e.seq
                  and x.created_at <= e.created_at]
        if events and events[-1].action == "period.close":
            problems.append(f"凭证 id {v.id}（{v.year}年{v.month}月）记账于该月结账之后（审计日志第 {e.seq} 条），"
                            f"而该月当时已结账（第 {events[-1].seq} 条）")
    return problems


@check("已公开的财务公开表与公开记录一致")
def published_sheets(ctx: Context) -> list[str]:
    problems = []
    recorded = {e.target: e for e in ctx.events("disclosure.publish")}
    sheets = {str(d.id): d for d in db.session.execute(sa.select(Disclosure.id, Disclosure.status, Disclosure.digest,
                                                                   Disclosure.pdf_sha256))}
    for sid, d in sheets.items():
        e = recorded.get(sid)
        if d.status in (SheetStatus.PUBLISHED, SheetStatus.SUPERSEDED) and e is None:
            problems.append(f"公开表 {sid}：状态为已公开，审计日志中没有它的公开记录")
        elif e is not None and d.status not in (SheetStatus.PUBLISHED, SheetStatus.SUPERSEDED):
            problems.append(f"公开表 {sid}：已公开（审计日志第 {e.seq} 条），现在的状态却是 {d.status}")
        elif e is not None:
            if e.detail.get("digest") and e.detail["digest"] != d.digest:
                problems.append(f"公开表 {sid}：数据摘要与公开时记录的不符（审计日志第 {e.seq} 条；数据和摘要被一起改写）")
            if e.detail.get("pdf") and e.detail["pdf"] != d.pdf_sha256:
                problems.append(f"公开表 {sid}：PDF 摘要与公开时记录的不符（审计日志第 {e.seq} 条）")
    for sid, e in recorded.items():
        if sid not in sheets:
            problems.append(f"公开表 {sid} 已公开（审计日志第 {e.seq} 条），但已不存在（被删除）")
    return problems


def _voucher_totals() -> dict[int, tuple[str, int]]:
    t = VoucherLine.__table__
    totals = dict(db.session.execute(sa.select(t.c.voucher_id, sa.func.sum(sa.type_coerce(t.c.debit, sa.BigInteger)))
                                     .group_by(t.c.voucher_id)).all())
    return {vid: (status, int(totals.get(vid) or 0))
            for vid, status in db.session.execute(sa.select(Voucher.id, Voucher.status))}


@check("分红清册与发放和记账凭证一致")
def dividends(ctx: Context) -> list[str]:
    problems = []
    recorded = {e.target: e for e in ctx.events("distribution.post")}
    vouchers = _voucher_totals()
    for plan in db.session.execute(sa.select(DistributionPlan.id, DistributionPlan.status,
                                             DistributionPlan.voucher_id, DistributionPlan.year)):
        e = recorded.get(str(plan.id))
        if plan.status != PlanStatus.POSTED:
            if e is not None:
                problems.append(f"收益分配方案 {plan.id}：已记账（审计日志第 {e.seq} 条），现在的状态却是 {plan.status}")
            continue
        if e is None:
            problems.append(f"收益分配方案 {plan.id}：状态为已记账，审计日志中没有它的记账记录")
            continue
        if e.detail.get("voucher") is not None and e.detail["voucher"] != plan.voucher_id:
            problems.append(f"收益分配方案 {plan.id}：记账凭证与记账时记录的不符")
        if vouchers.get(plan.voucher_id, ("", 0))[0] != VoucherStatus.POSTED:
            problems.append(f"收益分配方案 {plan.id}：记账凭证 id {plan.voucher_id} 不是已记账状态")
        if e.detail.get("dividends") and e.detail["dividends"] != dividends_digest(plan.id):
            problems.append(f"收益分配方案 {plan.id}（{plan.year}年度）：分红清册与记账时不符（某户分红被改动）")
    problems += _payees_against_postings()
    # payments: a posted payment voucher pays exactly what its payment rows say
    t = DividendPayment.__table__
    paid = defaultdict(int)
    for vid, amount in db.session.execute(sa.select(t.c.voucher_id, sa.type_coerce(t.c.amount, sa.BigInteger))):
        paid[vid] += int(amount)
    for vid, amount in sorted(paid.items()):
        status, total = vouchers.get(vid, ("", 0))
        if status == VoucherStatus.POSTED and total != amount:
            problems.append(f"分红发放凭证 id {vid}：发放记录合计 {amount / 100:.2f}，凭证金额 {total / 100:.2f}，不符")
    return problems


def _payees_against_postings() -> list[str]:
    """Each posted plan's voucher credits every 211 label (payee) of its 分红清册 with exactly the rows' sum: a
    label changed behind the app would leave payments debiting a counterparty the plan never credited."""
    hd, plans, vl = HouseholdDividend.__table__, DistributionPlan.__table__, VoucherLine.__table__
    fen = sa.func.sum(sa.type_coerce(hd.c.amount, sa.BigInteger))
    owed = db.session.execute(
        sa.select(hd.c.plan_id, plans.c.year, hd.c.payee, fen).join(plans, plans.c.id == hd.c.plan_id)
        .where(plans.c.status == PlanStatus.POSTED).group_by(hd.c.plan_id, plans.c.year, hd.c.payee)
        .having(fen > 0)).all()
    credited = {(pid, cp): int(c) for pid, cp, c in db.session.execute(
        sa.select(plans.c.id, vl.c.counterparty, sa.func.sum(sa.type_coerce(vl.c.credit, sa.BigInteger)))
        .join(vl, vl.c.voucher_id == plans.c.voucher_id)
        .where(plans.c.status == PlanStatus.POSTED, vl.c.counterparty.is_not(None))
        .group_by(plans.c.id, vl.c.counterparty))}
    return [f"收益分配方案 {pid}（{year}年度）：分红清册“{payee}”应付 {int(amount) / 100:.2f}，记账凭证贷记该户 "
            f"{credited.get((pid, payee), 0) / 100:.2f}，不符（往来户名被改动）"
            for pid, year, payee, amount in sorted(owed) if credited.get((pid, payee), 0) != int(amount)]


@check("角色分配与授权记录一致")
def role_grants(ctx: Context) -> list[str]:
    expected: set[tuple] = set()
    for e in ctx.events("audit.anchor", "role.grant", "role.revoke"):
        if e.action == "audit.anchor":
            expected |= {tuple(r) for r in e.detail.get("roles", [])}
            continue
        key = (int(e.target) if e.target.isdecimal() else e.target, e.detail.get("role"), e.detail.get("scope"),
               e.detail.get("scope_id"))
        (expected.add if e.action == "role.grant" else expected.discard)(key)

    actual = {(r.user_id, r.role, *_scope(r)) for r in db.session.execute(sa.select(RoleAssignment.__table__))}
    users = dict(db.session.execute(sa.text("SELECT id, username FROM users")).all())
    problems = []
    for uid, role, kind, sid in sorted(actual - expected, key=str):
        problems.append(f"用户 {users.get(uid, uid)} 的角色 {role}（{kind} {sid}）没有授权记录（直接写入数据库）")
    for uid, role, kind, sid in sorted(expected - actual, key=str):
        problems.append(f"用户 {users.get(uid, uid)} 的角色 {role}（{kind} {sid}）已被删除，没有撤销记录")
    return problems
