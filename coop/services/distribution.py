"""收益分配 (RULES §7): plans from the closed books, what-if comparison, approval, posting, payments."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from ..errors import InvalidState, ValidationFailed
from ..extensions import db
from ..ledger import distribution as core
from ..ledger.types import Entry, Line
from ..money import ZERO, format_plain
from ..models import (DistributionApproval, DistributionCadre, DistributionPlan, DividendPayment, HouseholdDividend,
                      Organization, User, Voucher)
from ..models.base import utcnow
from ..models.distribution import APPROVAL_STEPS
from . import access, audit, periods, reports, shares

FOUR_TWO_ORDER = ("party_proposal", "committee", "party_members", "assembly", "resolution_public")


def year_result(org: Organization, year: int) -> core.YearResult:
    """本年收益, 年初未分配收益 and 经营性纯收益 of a year from its closed books (carry-over left out)."""
    if (year, 12) not in periods.closed_months(org):
        raise ValidationFailed.field("year", f"{year}年12月尚未结账，不能编制收益分配方案")
    st = reports.income_statement(org, year, 1, 12)
    return core.YearResult(net_profit=st.value("net_profit"),
                           opening_undistributed=st.value("opening_undistributed"),
                           operating_profit=st.value("operating_profit"),
                           other_in=st.value("other_in"))


def policy_for(org: Organization) -> core.Policy:
    p = org.policy()
    return core.Policy(reserve_rate=p["reserve_rate"], cadre_cap_rate=p["cadre_reward_cap"],
                       cun_she_he_yi=org.cun_she_he_yi)


def scenario_of(plan: DistributionPlan) -> core.Scenario:
    return core.Scenario(member_pool=plan.member_pool, cadre_reward=plan.cadre_reward, other=plan.other,
                         reserve_rate=plan.reserve_rate)


@dataclass
class PlanPreview:
    plan: DistributionPlan
    year: core.YearResult
    waterfall: core.Waterfall
    cadre_amounts: dict
    member_split: core.MemberSplit | None
    issues: list
    #: dividend units on the record date by household id, and the collective's own (集体股)
    units: dict = field(default_factory=dict)
    collective_units: Decimal = Decimal(0)

    @property
    def ok(self) -> bool:
        return not self.issues


def create_plan(org: Organization, *, year: int, name: str, record_date: dt.date, member_pool: Decimal,
                cadre_reward: Decimal = ZERO, other: Decimal = ZERO, reserve_rate: Decimal | None = None,
                cadres: list[dict] | None = None, user: User) -> DistributionPlan:
    access.require(user, access.PREPARE, org)
    year_result(org, year)  # refuses an open December
    if record_date < dt.date(year, 12, 31):
        raise ValidationFailed.field("record_date", f"股权登记日不应早于 {year}年12月31日")
    plan = DistributionPlan(organization_id=org.id, year=year, name=(name or "").strip() or f"{year}年度收益分配方案",
                            record_date=record_date, member_pool=member_pool, cadre_reward=cadre_reward, other=other,
                            reserve_rate=reserve_rate)
    for c in cadres or []:
        plan.cadres.append(DistributionCadre(**c))
    db.session.add(plan)
    db.session.flush()
    audit.log("distribution.create", user=user, org=org, target=str(plan.id))
    return plan


def scenario(org: Organization, *, year: int, record_date: dt.date, member_pool: Decimal, name: str = "",
             cadre_reward: Decimal = ZERO, other: Decimal = ZERO, reserve_rate: Decimal | None = None,
             cadres: list[dict] | None = None) -> DistributionPlan:
    """An unsaved plan, for a what-if preview: never added to the session, so nothing is written."""
    plan = DistributionPlan(organization_id=org.id, year=year, name=name or "试算", record_date=record_date,
                            member_pool=member_pool, cadre_reward=cadre_reward, other=other, reserve_rate=reserve_rate,
                            status="draft")
    plan.cadres = [DistributionCadre(**c) for c in cadres or []]
    return plan


def update_plan(plan: DistributionPlan, *, user: User, cadres: list[dict] | None = None, **changes) -> DistributionPlan:
    access.require(user, access.PREPARE, db.session.get(Organization, plan.organization_id))
    if plan.status != "draft":
        raise InvalidState("方案已批准或已记账，不能再修改")
    if changes.get("record_date") and changes["record_date"] < dt.date(plan.year, 12, 31):
        raise ValidationFailed.field("record_date", f"股权登记日不应早于 {plan.year}年12月31日")
    for k, v in changes.items():
        setattr(plan, k, v)
    if cadres is not None:
        plan.cadres.clear()
        db.session.flush()
        for c in cadres:
            plan.cadres.append(DistributionCadre(**c))
    db.session.flush()
    return plan


def delete_plan(plan: DistributionPlan, *, user: User) -> None:
    """Drop a draft scenario; an approved or posted plan stays."""
    org = db.session.get(Organization, plan.organization_id)
    access.require(user, access.PREPARE, org)
    if plan.status != "draft":
        raise InvalidState("方案已批准或已记账，不能删除")
    db.session.delete(plan)
    db.session.flush()
    audit.log("distribution.delete", user=user, org=org, target=str(plan.id))


def checked_preview(plan: DistributionPlan) -> PlanPreview:
    """The preview, or ValidationFailed naming each broken rule by field path (for saving a scenario)."""
    p = preview(plan)
    if not p.ok:
        raise ValidationFailed.from_issues(p.issues)
    return p


def preview(plan: DistributionPlan) -> PlanPreview:
    """Compute everything for a plan; nothing is written (what-if)."""
    org = db.session.get(Organization, plan.organization_id)
    year = year_result(org, plan.year)
    w = core.waterfall(year, policy_for(org), scenario_of(plan))
    issues = list(w.issues)
    cadre_amounts: dict = {}
    if plan.cadre_reward:
        # split by position, so an issue names the row of the form or request ("cadres.1"); amounts are keyed
        # by id once saved (by position for an unsaved what-if)
        cadres = list(plan.cadres)
        parts, cadre_issues = core.split_cadre_reward(
            plan.cadre_reward, [core.Cadre(i, c.name, c.start, c.end, c.weight) for i, c in enumerate(cadres)],
            plan.year)
        cadre_amounts = {(cadres[i].id if cadres[i].id is not None else i): a for i, a in parts.items()}
        issues += cadre_issues
    split = None
    units, collective = shares.dividend_units(org, plan.record_date)
    if plan.member_pool:
        if not units:
            issues.append(core.LedgerIssue("member_pool", f"股权登记日 {plan.record_date} 没有成员持股，不能向成员分配"))
        else:
            split = core.split_member_pool(plan.member_pool, units, collective)
    return PlanPreview(plan, year, w, cadre_amounts, split, issues, units, collective)


def record_approval(plan: DistributionPlan, *, step: str, date: dt.date, reference: str, user: User,
                    entitled: int | None = None, present: int | None = None,
                    votes_for: int | None = None) -> DistributionApproval:
    """Record one step (四议两公开) or the 成员大会 resolution ('assembly'), checking quorum and majority."""
    access.require(user, access.PREPARE, db.session.get(Organization, plan.organization_id))
    if step not in APPROVAL_STEPS:
        raise ValidationFailed.field("step", "审批步骤不正确")
    if plan.status == "posted" and step != "result_public":
        raise InvalidState("方案已记账")
    if not (reference or "").strip():
        raise ValidationFailed.field("reference", "请填写会议记录或公告编号")
    if step in ("party_members", "assembly"):
        _check_votes(step, entitled, present, votes_for)
    if any(a.step == step for a in plan.approvals):
        raise InvalidState(f"“{APPROVAL_STEPS[step]}”已登记")
    earlier = [a for a in plan.approvals if step in FOUR_TWO_ORDER and a.step in FOUR_TWO_ORDER
               and FOUR_TWO_ORDER.index(a.step) < FOUR_TWO_ORDER.index(step)]
    if any(a.date > date for a in earlier):
        raise ValidationFailed.field("date", f"“{APPROVAL_STEPS[step]}”的日期早于前一步骤")
    a = DistributionApproval(step=step, date=date, reference=reference.strip(), entitled=entitled, present=present,
                             votes_for=votes_for)
    plan.approvals.append(a)
    db.session.flush()
    audit.log("distribution.approval", user=user, target=str(plan.id), step=step)
    return a


def _check_votes(step: str, entitled, present, votes_for) -> None:
    if not entitled or present is None or votes_for is None:
        raise ValidationFailed.field("votes_for", "请填写应到人数、实到人数和同意票数")
    if not (0 <= votes_for <= present <= entitled):
        raise ValidationFailed.field("votes_for", "票数应满足：同意票数 ≤ 实到人数 ≤ 应到人数")
    if step == "party_members":
        if present * 2 <= entitled or votes_for * 2 <= present:
            raise ValidationFailed.field("votes_for", "党员大会须过半数党员到会、到会过半数同意")
        return
    need_present = -(-entitled * 2 // 3)
    if present < need_present:
        raise ValidationFailed.field(
            "present", f"成员大会须有三分之二以上成员到会：应到 {entitled} 人，至少 {need_present} 人，实到 {present} 人，差 {need_present - present} 人")
    if votes_for < need_present:
        raise ValidationFailed.field(
            "votes_for", f"收益分配须经全体成员三分之二以上同意：至少 {need_present} 票，实得 {votes_for} 票，差 {need_present - votes_for} 票")


def approve_plan(plan: DistributionPlan, *, method: str, user: User) -> DistributionPlan:
    """Mark the plan approved once its approvals are complete: all of 四议两公开 up to 决议公开, or the resolution."""
    org = db.session.get(Organization, plan.organization_id)
    access.require(user, access.REVIEW, org)
    if plan.status != "draft":
        raise InvalidState("方案不是草稿状态")
    steps = {a.step for a in plan.approvals}
    need = FOUR_TWO_ORDER if method == "four_two" else ("assembly",) if method == "assembly" else None
    if need is None:
        raise ValidationFailed.field("approval_method", "审批方式应为四议两公开或成员大会决议")
    missing = [APPROVAL_STEPS[s] for s in need if s not in steps]
    if missing:
        raise InvalidState(f"审批未完成，缺少：{'、'.join(missing)}")
    p = preview(plan)
    if not p.ok:
        raise ValidationFailed.from_issues(p.issues)
    plan.status, plan.approval_method = "approved", method
    db.session.flush()
    audit.log("distribution.approve", user=user, org=org, target=str(plan.id), method=method)
    return plan


def post_plan(plan: DistributionPlan, *, date: dt.date, user: User) -> Voucher:
    """Post an approved plan: one 收益分配 voucher (Dr 32201 details / Cr 311, 212, 211) and the 分红清册."""
    from .vouchers import post_system_entry

    org = db.session.get(Organization, plan.organization_id)
    access.require(user, access.POST, org)
    # a second posting of the same plan waits here, then sees it posted
    db.session.refresh(plan, with_for_update=True)
    if plan.status == "posted":
        raise InvalidState("该方案已经记账，不能重复记账")
    if plan.status != "approved":
        raise InvalidState("方案尚未批准，不能记账")
    other = db.session.scalar(sa.select(DistributionPlan.id).where(
        DistributionPlan.organization_id == org.id, DistributionPlan.year == plan.year,
        DistributionPlan.status == "posted"))
    if other:
        raise InvalidState(f"{plan.year}年度已有记账的收益分配方案")
    periods.ensure_open(org, date)
    p = preview(plan)
    if not p.ok:
        raise ValidationFailed.from_issues(p.issues)
    w, s = p.waterfall, "收益分配"
    lines: list[Line] = []

    def pair(detail: str, amount: Decimal, credit: str, summary: str, counterparty: str | None = None):
        if amount:
            lines.append(Line(detail, debit=amount, summary=summary))
            lines.append(Line(credit, credit=amount, summary=summary if not counterparty else f"{summary}—{counterparty}"))

    pair("3220101", w.reserve, "311", f"{plan.year}年度提取公积公益金")
    for c in plan.cadres:
        c.amount = p.cadre_amounts.get(c.id, ZERO)
        pair("3220102", c.amount, "212", f"{plan.year}年度干部奖励分红", c.name)
    if p.member_split:
        households_total = sum(p.member_split.households.values(), ZERO)
        pair("3220103", households_total, "211", f"{plan.year}年度向成员分配", "应付收益")
        pair("3220103", p.member_split.collective, "311", f"{plan.year}年度集体股分配转公积公益金")
    pair("3220104", w.other, "211", f"{plan.year}年度其他分配")
    if not lines:
        raise ValidationFailed.field("member_pool", "方案没有任何分配金额")
    voucher = post_system_entry(org, Entry(date, s, tuple(lines)), user=user, kind="distribution")
    if p.member_split:
        for hid, amount in sorted(p.member_split.households.items()):
            db.session.add(HouseholdDividend(plan_id=plan.id, household_id=hid, units=p.units.get(hid, Decimal(0)),
                                             amount=amount))
    plan.status, plan.voucher_id, plan.posted_at, plan.posted_by_id = "posted", voucher.id, utcnow(), user.id
    plan.distributable, plan.reserve = w.distributable, w.reserve
    plan.collective_part = p.member_split.collective if p.member_split else ZERO
    db.session.flush()
    audit.log("distribution.post", user=user, org=org, target=str(plan.id), voucher=voucher.id)
    return voucher


@dataclass
class DividendStatus:
    dividend: HouseholdDividend
    paid: Decimal  # by posted payment vouchers
    pending: Decimal  # by payment vouchers not yet posted

    @property
    def unpaid(self) -> Decimal:
        return self.dividend.amount - self.paid - self.pending


def dividend_status(plan: DistributionPlan) -> list[DividendStatus]:
    rows = db.session.execute(
        sa.select(DividendPayment.dividend_id, Voucher.status, sa.func.sum(sa.type_coerce(DividendPayment.amount, sa.BigInteger)))
        .join(Voucher, Voucher.id == DividendPayment.voucher_id)
        .join(HouseholdDividend, HouseholdDividend.id == DividendPayment.dividend_id)
        .where(HouseholdDividend.plan_id == plan.id)
        .group_by(DividendPayment.dividend_id, Voucher.status))
    paid: dict = {}
    pending: dict = {}
    for did, status, fen in rows:
        target = paid if status == "posted" else pending
        target[did] = target.get(did, ZERO) + Decimal(fen) / 100
    return [DividendStatus(d, paid.get(d.id, ZERO), pending.get(d.id, ZERO)) for d in plan.dividends]


def pay_dividends(plan: DistributionPlan, *, household_ids: list[int] | None, date: dt.date, pay_from: str,
                  user: User) -> Voucher:
    """Draft one payment voucher (Dr 211 应付收益 / Cr 101 or 102) for the unpaid dividends of the households."""
    from .vouchers import create_draft

    org = db.session.get(Organization, plan.organization_id)
    # two payments of one plan at once: the second waits here, then reads what the first paid (below, under the
    # lock) and finds nothing left to pay
    db.session.refresh(plan, with_for_update=True)
    if plan.status != "posted":
        raise InvalidState("方案尚未记账，不能发放")
    if pay_from not in ("101", "102") and not pay_from.startswith(("101", "102")):
        raise ValidationFailed.field("pay_from", "发放账户应为库存现金或银行存款")
    chosen = [s for s in dividend_status(plan)
              if s.unpaid > 0 and (household_ids is None or s.dividend.household_id in household_ids)]
    if not chosen:
        raise ValidationFailed.field("household_ids", "所选的户没有未发放的分红")
    total = sum((s.unpaid for s in chosen), ZERO)
    summary = f"发放{plan.year}年度分红（{len(chosen)}户）"
    voucher = create_draft(org, {"date": date, "attachment_count": 1, "lines": [
        {"summary": summary, "account_code": "211", "debit": total, "credit": ZERO, "counterparty": "应付收益"},
        {"summary": summary, "account_code": pay_from, "debit": ZERO, "credit": total},
    ]}, user=user)
    for s in chosen:
        db.session.add(DividendPayment(dividend_id=s.dividend.id, amount=s.unpaid, date=date, voucher_id=voucher.id))
    db.session.flush()
    audit.log("distribution.pay", user=user, org=org, target=str(plan.id), total=format_plain(total))
    return voucher


