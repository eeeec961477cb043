"""收益分配 (RULES §7): plans from the closed books, what-if comparison, approval, posting, payments."""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from coop.core.errors import InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.core.text import N_
from coop.ledger import distribution as core
from coop.ledger.types import Entry, Line
from coop.ledger import roles
from coop.ledger import codes
from coop.ledger.chart import CURRENT_YEAR_PROFIT, DISTRIBUTIONS, PNL, UNDISTRIBUTED, chart_account
from coop.core.money import ZERO, format_plain, from_fen, quantize_yuan
from coop.models import (Account, DistributionApproval, DistributionCadre, DistributionPlan, DividendPayment,
                      Household, HouseholdDividend, Member, Organization, User, Voucher, VoucherLine)
from coop.models.base import utcnow
from coop.services import access, audit, closing, periods, reports, shares, warnings
from coop.services.accounts import local_code, scheme_of
from coop.services.roles import resolve, resolve_money
from coop.services.checks import dividends_digest
from coop.services.vouchers import check_date, create_draft, post_system_entry
from coop.models.distribution import APPROVAL_STEPS, DistributionPolicy, PlanStatus
from coop.models.ledger import VoucherStatus, voucher_number
from coop.models.shares import QuantificationStatus

FOUR_TWO_ORDER = ("party_proposal", "committee", "party_members", "assembly", "resolution_public")
#: the 村党组织 discusses the plan first on both routes (RULES §7 Approval)
ROUTES = {"four_two": FOUR_TWO_ORDER, "assembly": ("party_proposal", "assembly")}

#: 章程 choices of the distribution with the rule's defaults (RULES §7); a county row, then the organization's own
POLICY_DEFAULTS = {"reserve_base": "net_profit", "dividend_mode": "per_share", "collective_mode": "reserve",
                   "cadre_min_days": 183, "cadre_tax_rate": ZERO, "materials_days": 10, "notice_days": 10}


def get_plan(org: Organization, plan_id: int) -> DistributionPlan:
    return access.of_org(DistributionPlan, org, plan_id, "找不到该方案")


def _policy_row(**owner) -> DistributionPolicy | None:
    key, value = next(iter(owner.items()))
    return db.session.scalar(sa.select(DistributionPolicy).where(getattr(DistributionPolicy, key) == value))


def policy_settings(org: Organization) -> dict:
    """Each distribution choice in force: the organization's own, else the county's, else the default."""
    out = dict(POLICY_DEFAULTS)
    for row in (_policy_row(county_id=org.township.county_id), _policy_row(organization_id=org.id)):
        if row is not None:
            out.update({k: getattr(row, k) for k in POLICY_DEFAULTS if getattr(row, k) is not None})
    return out


def county_policy_settings(county) -> dict:
    """The county's defaults of the distribution choices (its row over the rule's defaults)."""
    out = dict(POLICY_DEFAULTS)
    row = _policy_row(county_id=county.id)
    if row is not None:
        out.update({k: getattr(row, k) for k in POLICY_DEFAULTS if getattr(row, k) is not None})
    return out


def set_policy(*, user: User, org: Organization | None = None, county=None, **values) -> DistributionPolicy:
    """章程 choices (set by the county admin, like the other 章程 parameters): the organization's own, or the
    county default; None clears one."""
    if org is not None:
        access.require_county_admin(user, org.township.county_id)
        row = _policy_row(organization_id=org.id) or DistributionPolicy(organization_id=org.id)
    else:
        access.require_county_admin(user, county.id)
        row = _policy_row(county_id=county.id) or DistributionPolicy(county_id=county.id)
    for k, v in values.items():
        if k not in POLICY_DEFAULTS:
            raise ValidationFailed.field(k, "没有这一项设置")
        setattr(row, k, v)
    _check_policy({**POLICY_DEFAULTS, **{k: v for k, v in values.items() if v is not None}})
    db.session.add(row)
    db.session.flush()
    audit.log("distribution.policy", user=user, org=org, **{k: str(v) for k, v in values.items()})
    return row


def _check_policy(p: dict) -> None:
    if p["reserve_base"] not in core.RESERVE_BASES:
        raise ValidationFailed.field("reserve_base", "公积公益金提取基数应为本年收益（net_profit）或可分配收益（distributable）")
    if p["dividend_mode"] not in core.DIVIDEND_MODES:
        raise ValidationFailed.field("dividend_mode", "分红方式应为按每股金额（per_share）或按总额（pool）")
    if p["collective_mode"] not in core.COLLECTIVE_MODES:
        raise ValidationFailed.field("collective_mode", "集体股分红应转公积公益金（reserve）或留存未分配收益（retain）")
    if not 0 <= int(p["cadre_min_days"]) <= 366:
        raise ValidationFailed.field("cadre_min_days", "任职天数应在0到366之间")
    if not 0 <= Decimal(p["cadre_tax_rate"]) < 1:
        raise ValidationFailed.field("cadre_tax_rate", "个税代扣比例应在0到100%之间")
    for k in ("materials_days", "notice_days"):
        if int(p[k]) < 10:
            raise ValidationFailed.field(k, "法定至少提前10天（农村集体经济组织法第二十六至二十八条）")


def policy_for(org: Organization) -> core.Policy:
    p = org.policy()
    s = policy_settings(org)
    return core.Policy(reserve_rate=p["reserve_rate"], cadre_cap_rate=p["cadre_reward_cap"],
                       cun_she_he_yi=org.cun_she_he_yi, reserve_base=s["reserve_base"],
                       dividend_mode=s["dividend_mode"], collective_mode=s["collective_mode"],
                       cadre_min_days=int(s["cadre_min_days"]), cadre_tax_rate=Decimal(s["cadre_tax_rate"]))


# ---------------------------------------------------------------- what is really there (RULES §7)


def _plan_vouchers_of_other_years(org: Organization, year: int) -> set[int]:
    return set(db.session.scalars(sa.select(DistributionPlan.voucher_id).where(
        DistributionPlan.organization_id == org.id, DistributionPlan.year != year,
        DistributionPlan.voucher_id.is_not(None))))


def _lines_since(org: Organization, since: dt.date, prefix: str, exclude: set | frozenset = frozenset()):
    """(voucher id, display number, date, signed fen) of every posted non-carry-over line under `prefix` dated on
    or after `since` — hand-made vouchers included."""
    d = sa.type_coerce(VoucherLine.debit, sa.BigInteger)
    c = sa.type_coerce(VoucherLine.credit, sa.BigInteger)
    return db.session.execute(
        sa.select(Voucher.id, Voucher.word, Voucher.number, Voucher.date, sa.func.sum(d - c))
        .join(VoucherLine, VoucherLine.voucher_id == Voucher.id).join(Account, Account.id == VoucherLine.account_id)
        .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.kind != "carryover",
               Voucher.date >= since, Account.code.startswith(prefix), Voucher.id.not_in(exclude or [0]))
        .group_by(Voucher.id, Voucher.word, Voucher.number, Voucher.date).order_by(Voucher.date, Voucher.number)).all()


@dataclass
class Booked:
    """Distributions found in the books since the year began."""

    total: Decimal = ZERO  # every 32201 debit since the year began (nets 可分配收益)
    against_year: Decimal = ZERO  # of which not by another year's plan: a distribution of this year
    reserved: Decimal = ZERO  # 提取公积公益金 against this year
    rewarded: Decimal = ZERO  # 干部奖励分红 against this year
    vouchers: list = field(default_factory=list)  # display numbers of the vouchers against this year


def _distribution_detail(org: Organization, role: str) -> str:
    """The detail of 各项分配 (3220101 提取公积公益金 …) a distribution role's leaf sits under: a reserve booked by hand
    in a sibling sub-account of the role's own leaf is a reserve all the same."""
    leaf, scheme = resolve(org, role), scheme_of(org)
    level = scheme.level(local_code(org, DISTRIBUTIONS)) + 1
    return leaf[:scheme.length_at(level)] if scheme.level(leaf) >= level else leaf


def booked_distributions(org: Organization, year: int, exclude: set | frozenset = frozenset()) -> Booked:
    since = reports.year_start(org, year)
    other_plans = _plan_vouchers_of_other_years(org, year)
    reserve_leaf = _distribution_detail(org, roles.DIST_RESERVE)
    b = Booked()
    for vid, word, number, date, fen in _lines_since(org, since, local_code(org, DISTRIBUTIONS), exclude):
        amount = from_fen(int(fen))
        b.total += amount
        if vid not in other_plans:
            b.against_year += amount
            b.vouchers.append(f"{date.month}月 {voucher_number(word, number)}" if number else str(vid))
    for vid, _, _, _, fen in _lines_since(org, since, reserve_leaf, exclude):
        if vid not in other_plans:
            b.reserved += from_fen(int(fen))
    for vid, _, _, _, fen in _lines_since(org, since, _distribution_detail(org, roles.DIST_CADRE), exclude):
        if vid not in other_plans:
            b.rewarded += from_fen(int(fen))
    return b


def year_state(org: Organization, year: int) -> str:
    """december (Dec open, carry-over done: the plan posts in December) | after_close (posts in a later year) |
    carryover_pending | not_due."""
    state = closing.carryover_state(org, year)
    if state == "closed":
        return "after_close"
    if state in ("done", "stale"):
        return "december"
    return "carryover_pending" if state == "pending" else "not_due"


def year_result(org: Organization, year: int, exclude: set | frozenset = frozenset()) -> core.YearResult:
    """What there is to distribute for a year (RULES §7): 本年收益 + 年初未分配收益 + 其他转入/调整 − every
    distribution booked since the year began, found in the books. Needs the year's carry-over done (December open:
    the plan posts in December) or December closed (the plan posts in a later year)."""
    state = year_state(org, year)
    if state == "not_due":
        raise ValidationFailed.field("year", f"{year}年12月尚未到年终：请先结账 1–11 月，在12月结转损益后编制收益分配方案")
    if state == "carryover_pending":
        raise ValidationFailed.field("year", f"{year}年12月尚未结转损益：请先完成损益结转，再编制收益分配方案")
    st = reports.income_statement(org, year, 1, 12)
    since = reports.year_start(org, year)
    undistributed = local_code(org, UNDISTRIBUTED)
    opening = -sum((b for c, b in reports.balances_before(org, since).items() if c.startswith(undistributed)), ZERO)
    other_in = -sum((from_fen(int(f)) for *_, f in _lines_since(org, since, undistributed, exclude)), ZERO)
    booked = booked_distributions(org, year, exclude)
    return core.YearResult(net_profit=st.value("net_profit"), opening_undistributed=opening,
                           operating_profit=st.value("operating_profit"), other_in=other_in,
                           distributed=booked.total, reserved=booked.reserved, rewarded=booked.rewarded)


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


def _check_record_date(year: int, record_date: dt.date) -> None:
    if record_date < dt.date(year, 12, 31):
        raise ValidationFailed.field("record_date", f"股权登记日不应早于 {year}年12月31日")


def create_plan(org: Organization, *, year: int, name: str, record_date: dt.date, member_pool: Decimal,
                cadre_reward: Decimal = ZERO, other: Decimal = ZERO, reserve_rate: Decimal | None = None,
                cadres: list[dict] | None = None, supplementary: bool = False, user: User) -> DistributionPlan:
    access.require(user, access.PREPARE, org)
    year_result(org, year)  # refuses a year whose December has not reached the carry-over
    _check_record_date(year, record_date)
    default = f"{year}年度{'补充' if supplementary else '收益'}分配方案"
    plan = DistributionPlan(organization_id=org.id, year=year, name=(name or "").strip() or default,
                            record_date=record_date, member_pool=member_pool, cadre_reward=cadre_reward, other=other,
                            reserve_rate=reserve_rate, supplementary=bool(supplementary))
    for c in cadres or []:
        plan.cadres.append(DistributionCadre(**c))
    db.session.add(plan)
    db.session.flush()
    audit.log("distribution.create", user=user, org=org, target=str(plan.id))
    return plan


def scenario(org: Organization, *, year: int, record_date: dt.date, member_pool: Decimal, name: str = "",
             cadre_reward: Decimal = ZERO, other: Decimal = ZERO, reserve_rate: Decimal | None = None,
             cadres: list[dict] | None = None, supplementary: bool = False) -> DistributionPlan:
    """An unsaved plan, for a what-if preview: never added to the session, so nothing is written."""
    plan = DistributionPlan(organization_id=org.id, year=year, name=name or "试算", record_date=record_date,
                            member_pool=member_pool, cadre_reward=cadre_reward, other=other, reserve_rate=reserve_rate,
                            status=PlanStatus.DRAFT, supplementary=bool(supplementary))
    plan.cadres = [DistributionCadre(**c) for c in cadres or []]
    return plan


def update_plan(plan: DistributionPlan, *, user: User, cadres: list[dict] | None = None, **changes) -> DistributionPlan:
    access.require(user, access.PREPARE, db.session.get(Organization, plan.organization_id))
    if plan.status != PlanStatus.DRAFT:
        raise InvalidState("方案已批准或已记账，不能再修改")
    if changes.get("record_date"):
        _check_record_date(plan.year, changes["record_date"])
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
    if plan.status != PlanStatus.DRAFT:
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


def poverty_floors(org: Organization, record_date: dt.date) -> dict[int, Decimal]:
    """扶贫优先股 保底 by household: units × face value × the plan's 保底 rate, to the fen (RULES §7 step 4)."""
    from coop.ledger.shares import POVERTY
    from coop.models import Member, QuantificationPlan

    qp = db.session.scalar(sa.select(QuantificationPlan).where(QuantificationPlan.organization_id == org.id,
                                                               QuantificationPlan.status == QuantificationStatus.ISSUED))
    if qp is None or not qp.face_value:
        return {}
    rate = shares.plan_rules(qp).poverty_floor_rate
    if not rate:
        return {}
    out: dict[int, Decimal] = {}
    for h in shares.holdings(org, record_date):
        if h.share_class != POVERTY:
            continue
        hid = db.session.get(Member, h.beneficiary_id).household_id if h.beneficiary_id else h.household_id
        if hid is not None:
            out[hid] = out.get(hid, ZERO) + h.units * qp.face_value * rate
    return {k: quantize_yuan(v) for k, v in out.items()}


def _posted_plans(org: Organization, year: int, exclude: int | None = None) -> list[DistributionPlan]:
    q = sa.select(DistributionPlan).where(DistributionPlan.organization_id == org.id, DistributionPlan.year == year,
                                          DistributionPlan.status == PlanStatus.POSTED)
    if exclude is not None:
        q = q.where(DistributionPlan.id != exclude)
    return list(db.session.scalars(q.order_by(DistributionPlan.id)))


def preview(plan: DistributionPlan) -> PlanPreview:
    """Compute everything for a plan; nothing is written (what-if)."""
    org = db.session.get(Organization, plan.organization_id)
    own = {plan.voucher_id} if plan.voucher_id else set()
    year = year_result(org, plan.year, exclude=own)
    policy = policy_for(org)
    w = core.waterfall(year, policy, scenario_of(plan))
    issues = list(w.issues)
    if not plan.supplementary:
        earlier = _posted_plans(org, plan.year, exclude=plan.id)
        booked = booked_distributions(org, plan.year, exclude=own)
        if earlier:
            issues.append(core.LedgerIssue("supplementary", f"{plan.year}年度已有记账的收益分配方案（{earlier[0].name}）；"
                                                            "再次分配须作为补充分配，单独审批"))
        elif booked.against_year > 0:
            issues.append(core.LedgerIssue(
                "supplementary", f"{plan.year}年度账上已有分配 {format_plain(booked.against_year)} 元"
                                 f"（{'、'.join(booked.vouchers[:5])}），可分配收益已扣除；再次分配须作为补充分配，单独审批"))
    cadre_amounts: dict = {}
    if plan.cadre_reward:
        # split by position, so an issue names the row of the form or request ("cadres.1"); amounts are keyed
        # by id once saved (by position for an unsaved what-if)
        cadres = list(plan.cadres)
        parts, cadre_issues = core.split_cadre_reward(
            plan.cadre_reward, [core.Cadre(i, c.name, c.start, c.end, c.weight) for i, c in enumerate(cadres)],
            plan.year, min_days=policy.cadre_min_days)
        cadre_amounts = {(cadres[i].id if cadres[i].id is not None else i): a for i, a in parts.items()}
        issues += cadre_issues
    split = None
    units, collective = shares.dividend_units(org, plan.record_date)
    if plan.member_pool:
        if not units:
            issues.append(core.LedgerIssue("member_pool", f"股权登记日 {plan.record_date} 没有成员持股，不能向成员分配"))
        else:
            floors = poverty_floors(org, plan.record_date)
            splitter = core.split_per_share if policy.dividend_mode == "per_share" else core.split_member_pool
            split = splitter(plan.member_pool, units, collective, floors)
    w.apply_split(split, policy)
    return PlanPreview(plan, year, w, cadre_amounts, split, issues, units, collective)


def record_approval(plan: DistributionPlan, *, step: str, date: dt.date, reference: str, user: User,
                    entitled: int | None = None, present: int | None = None, votes_for: int | None = None,
                    materials_date: dt.date | None = None, notice_date: dt.date | None = None) -> DistributionApproval:
    """Record one step (四议两公开) or the 成员大会 resolution ('assembly'), checking quorum and majority, and for the
    meeting the days since the materials were made available and since the notice."""
    org = db.session.get(Organization, plan.organization_id)
    access.require(user, access.PREPARE, org)
    if step not in APPROVAL_STEPS:
        raise ValidationFailed.field("step", "审批步骤不正确")
    if plan.status == PlanStatus.POSTED and step != "result_public":
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
    # a step entered late must still come before the steps already recorded after it in the order
    later = sorted((a for a in plan.approvals if step in FOUR_TWO_ORDER and a.step in FOUR_TWO_ORDER
                    and FOUR_TWO_ORDER.index(a.step) > FOUR_TWO_ORDER.index(step) and a.date < date),
                   key=lambda a: FOUR_TWO_ORDER.index(a.step))
    if later:
        raise ValidationFailed.field("date", f"“{APPROVAL_STEPS[step]}”的日期 {date} 晚于后一步骤"
                                             f"“{APPROVAL_STEPS[later[0].step]}”（{later[0].date}）")
    if step == "assembly":
        if not any(a.step == "party_proposal" for a in plan.approvals):
            raise InvalidState("收益分配方案须先经村党组织研究讨论：请先登记“村党组织提议”",
                               {"step": ["请先登记“村党组织提议”（两种审批方式都须经村党组织研究讨论）"]})
        plan.materials_date = materials_date or plan.materials_date
        plan.notice_date = notice_date or plan.notice_date
        _check_days(org, plan, date)
    a = DistributionApproval(step=step, date=date, reference=reference.strip(), entitled=entitled, present=present,
                             votes_for=votes_for)
    plan.approvals.append(a)
    db.session.flush()
    audit.log("distribution.approval", user=user, target=str(plan.id), step=step)
    return a


def day_counts(plan: DistributionPlan, meeting: dt.date | None) -> dict:
    """Days from the materials and from the notice to the meeting, against the 章程 minimums."""
    s = policy_settings(db.session.get(Organization, plan.organization_id))
    out = {"materials_days": int(s["materials_days"]), "notice_days": int(s["notice_days"])}
    if meeting:
        out["materials"] = (meeting - plan.materials_date).days if plan.materials_date else None
        out["notice"] = (meeting - plan.notice_date).days if plan.notice_date else None
    return out


def _check_days(org: Organization, plan: DistributionPlan, meeting: dt.date) -> None:
    """Arts. 26–28: the 年度财务会计报告 and the plan available ≥ 10 days before the meeting, the notice ≥ 10 days."""
    c = day_counts(plan, meeting)
    errors = {}
    for key, what, field_name in (("materials", "年度财务会计报告和分配方案公布", "materials_date"),
                                  ("notice", "会议通知", "notice_date")):
        need, got = c[f"{key}_days"], c[key]
        if got is None:
            errors[field_name] = [f"请填写{what}日期（须在会议 {meeting} 前至少 {need} 天）"]
        elif got < need:
            errors[field_name] = [f"{what}距会议 {meeting} 仅 {got} 天，须至少 {need} 天（差 {need - got} 天）"]
    if errors:
        raise ValidationFailed("；".join(m[0] for m in errors.values()), errors)


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
    """Mark the plan approved once its approvals are complete: the 党组织 step and all of 四议两公开 up to 决议公开,
    or the 党组织 step and the 成员大会 resolution."""
    org = db.session.get(Organization, plan.organization_id)
    access.require(user, access.REVIEW, org)
    if plan.status != PlanStatus.DRAFT:
        raise InvalidState("方案不是草稿状态")
    steps = {a.step for a in plan.approvals}
    need = ROUTES.get(method)
    if need is None:
        raise ValidationFailed.field("approval_method", "审批方式应为四议两公开或成员大会决议")
    missing = [APPROVAL_STEPS[s] for s in need if s not in steps]
    if missing:
        raise InvalidState(f"审批未完成，缺少：{'、'.join(missing)}")
    meeting = next(a.date for a in plan.approvals if a.step == "assembly")
    _check_days(org, plan, meeting)
    p = preview(plan)
    if not p.ok:
        raise ValidationFailed.from_issues(p.issues)
    plan.status, plan.approval_method = PlanStatus.APPROVED, method
    db.session.flush()
    audit.log("distribution.approve", user=user, org=org, target=str(plan.id), method=method)
    return plan


def posting_date(org: Organization, plan: DistributionPlan, date: dt.date | None) -> dt.date:
    """RULES §4: in the year-end sequence the plan posts dated 31 December of its year (after the carry-over,
    before 结账); decided after the year closed, it posts in a later, open month."""
    state = year_state(org, plan.year)
    if state == "december":
        december = dt.date(plan.year, 12, 31)
        if date is not None and (date.year, date.month) != (plan.year, 12):
            raise ValidationFailed.field("date", f"{plan.year}年12月尚未结账：方案在结账前记入 {plan.year}年12月（如 {december}）")
        return date or december
    if state == "after_close":
        if date is None:
            raise ValidationFailed.field("date", "请填写记账日期（本年度已结账，记入以后的未结账月份）")
        if date.year <= plan.year:
            raise ValidationFailed.field("date", f"{plan.year}年已结账：方案记入以后年度的未结账月份")
        return date
    year_result(org, plan.year)  # raises with the reason
    raise InvalidState("不能记账")  # pragma: no cover


def post_plan(plan: DistributionPlan, *, date: dt.date | None = None, user: User) -> Voucher:
    """Post an approved plan: one 收益分配 voucher by posting roles (Dr 各项分配 details / Cr 公积公益金, 应付工资—干部
    奖励 (and 应交税费 withheld), 应付款—应付收益 one line per household, the 集体股 line) and the 分红清册. The
    books are locked first, so what is there to distribute cannot change between the check and the voucher."""
    org = db.session.get(Organization, plan.organization_id)
    access.require(user, access.POST, org)
    periods.lock_books(org, exclusive=True)
    # a second posting of the same plan waits here, then sees it posted
    db.session.refresh(plan, with_for_update=True)
    if plan.status == PlanStatus.POSTED:
        raise InvalidState("该方案已经记账，不能重复记账")
    if plan.status != PlanStatus.APPROVED:
        raise InvalidState("方案尚未批准，不能记账")
    if not plan.supplementary and _posted_plans(org, plan.year, exclude=plan.id):
        raise InvalidState(f"{plan.year}年度已有记账的收益分配方案；再次分配须作为补充分配，单独审批")
    date = posting_date(org, plan, date)
    check_date(date)  # a year typed wrong (2062) would hide the voucher from every report
    periods.ensure_open(org, date)
    if year_state(org, plan.year) == "december":
        closing.refresh_carryover(org, plan.year, user=user)  # figures after the carry-over
    p = preview(plan)
    if not p.ok:
        raise ValidationFailed.from_issues(p.issues)
    w, policy = p.waterfall, policy_for(org)
    if w.booked_total > w.distributable:  # belt and braces: 32202 never goes into debit by a distribution
        raise ValidationFailed.field("member_pool", f"分配合计 {format_plain(w.booked_total)} 超过可分配收益 "
                                                    f"{format_plain(w.distributable)}，禁止举债分配")
    y = plan.year
    lines: list[Line] = []

    def leaf(role: str) -> str:
        return resolve(org, role)

    def pair(detail: str, amount: Decimal, credits: list[tuple[str, Decimal]], summary: str,
             counterparty: str | None = None):
        if amount:
            lines.append(Line(leaf(detail), debit=amount, summary=summary))
            for role, part in credits:
                if part:
                    lines.append(Line(leaf(role), credit=part, counterparty=counterparty,
                                      summary=summary if not counterparty else f"{summary}—{counterparty}"))

    pair(roles.DIST_RESERVE, w.reserve, [(roles.RESERVE, w.reserve)], f"{y}年度提取公积公益金")
    for c in plan.cadres:
        c.amount = p.cadre_amounts.get(c.id, ZERO)
        c.tax = core.withholding(c.amount, policy.cadre_tax_rate)
        pair(roles.DIST_CADRE, c.amount, [(roles.CADRE_REWARD_PAYABLE, c.amount - c.tax), (roles.TAX_PAYABLE, c.tax)],
             f"{y}年度干部奖励分红", c.name)
    payees: dict[int, str] = {}
    if p.member_split:
        # 211 per household (RULES §7 step 4): one credit line each, so 211 by counterparty is what each is owed
        payees = payee_labels(p.member_split.households)
        owed = sorted(((payees[hid], amount) for hid, amount in p.member_split.households.items()),
                      key=lambda pa: pa[0])
        if w.members:
            lines.append(Line(leaf(roles.DIST_MEMBERS), debit=w.members, summary=f"{y}年度向成员分配"))
            for payee, amount in owed:
                if amount:
                    lines.append(Line(leaf(roles.DIVIDENDS_PAYABLE), credit=amount, counterparty=payee,
                                      summary=f"{y}年度向成员分配—{payee}"))
        if policy.collective_mode == "reserve":
            pair(roles.DIST_OTHER, w.collective, [(roles.RESERVE, w.collective)], f"{y}年度集体股分配转公积公益金")
    pair(roles.DIST_OTHER, w.other, [(roles.PAYABLE, w.other)], f"{y}年度其他分配", "其他分配")
    if not lines:
        raise ValidationFailed.field("member_pool", "方案没有任何分配金额")
    voucher = post_system_entry(org, Entry(date, "收益分配", tuple(lines)), user=user, kind="distribution")
    if p.member_split:
        for hid, amount in sorted(p.member_split.households.items()):
            db.session.add(HouseholdDividend(plan_id=plan.id, household_id=hid, units=p.units.get(hid, Decimal(0)),
                                             amount=amount, payee=payees[hid]))
    plan.status, plan.voucher_id, plan.posted_at, plan.posted_by_id = PlanStatus.POSTED, voucher.id, utcnow(), user.id
    plan.distributable, plan.reserve = w.distributable, w.reserve
    plan.collective_part = w.collective
    plan.figures = json.dumps(frozen_figures(p, policy), ensure_ascii=False, sort_keys=True)
    db.session.flush()

    audit.log("distribution.post", user=user, org=org, target=str(plan.id), voucher=voucher.id,
              dividends=dividends_digest(plan.id))
    return voucher


#: the counterparty of the one 211 line plans posted before 211 went per household (migration a26e00000001)
LEGACY_PAYEE = "应付收益"


def payee_labels(household_ids) -> dict[int, str]:
    """The 211 counterparty of each household: "<户号> <户主姓名>" (the 户号 alone while it has no head), one query."""
    rows = db.session.execute(
        sa.select(Household.id, Household.number, Member.name).outerjoin(Member, Member.id == Household.head_id)
        .where(Household.id.in_(list(household_ids))))
    return {hid: f"{number} {name}" if name else number for hid, number, name in rows}


def frozen_figures(p: PlanPreview, policy: core.Policy) -> dict:
    """Every figure of the waterfall as posted, money as strings."""
    y, w, plan = p.year, p.waterfall, p.plan
    money = {"net_profit": y.net_profit, "opening_undistributed": y.opening_undistributed, "other_in": y.other_in,
             "distributed_before": y.distributed, "operating_profit": y.operating_profit,
             "distributable": w.distributable, "loss_covered": w.loss_covered, "reserve_base": w.reserve_base,
             "reserve": w.reserve, "cadre_cap": w.cadre_cap, "cadre_reward": w.cadre_reward,
             "cadre_tax": sum((c.tax or ZERO for c in plan.cadres), ZERO), "member_pool": w.member_pool,
             "members": w.members or ZERO, "collective": w.collective, "rounding_rest": w.rounding_rest,
             "other": w.other, "closing_undistributed": w.closing_undistributed}
    out = {k: format_plain(v).replace(",", "") for k, v in money.items()}
    rate = plan.reserve_rate if plan.reserve_rate is not None else policy.reserve_rate
    out.update({"reserve_rate": f"{rate:.4f}", "per_share": f"{p.member_split.per_share}" if p.member_split else None,
                "total_units": f"{sum(p.units.values(), Decimal(0)) + p.collective_units:.4f}",
                "dividend_mode": policy.dividend_mode, "collective_mode": policy.collective_mode,
                "reserve_base_rule": policy.reserve_base, "supplementary": bool(plan.supplementary)})
    return out


def figures_of(plan: DistributionPlan) -> dict:
    """The frozen figures of a posted plan, money back as Decimal."""
    raw = json.loads(plan.figures or "{}")
    return {k: (Decimal(v) if isinstance(v, str) and k not in ("dividend_mode", "collective_mode",
                                                              "reserve_base_rule") else v) for k, v in raw.items()}


@dataclass
class DividendStatus:
    dividend: HouseholdDividend
    paid: Decimal  # by posted payment vouchers
    pending: Decimal  # by payment vouchers not yet posted

    @property
    def unpaid(self) -> Decimal:
        return self.dividend.amount - self.paid - self.pending


@dataclass(frozen=True)
class HouseholdYear:
    """One posted year of a household's dividends: what was allocated, paid by posted vouchers, and in payment."""
    year: int
    plan: DistributionPlan
    units: Decimal
    amount: Decimal
    paid: Decimal
    pending: Decimal

    @property
    def unpaid(self) -> Decimal:
        return self.amount - self.paid - self.pending


def reversed_vouchers():
    """Vouchers undone by a posted red reversal: a payment of them pays nobody any more (the household is unpaid
    again and may be paid anew)."""
    return sa.select(Voucher.corrects_id).where(Voucher.kind == "red", Voucher.status == VoucherStatus.POSTED,
                                                Voucher.corrects_id.is_not(None))


def household_dividends(household_id: int) -> list[HouseholdYear]:
    """A household's dividends of every posted plan, newest year first (two queries): the member's 我的分红 and
    portal home."""
    rows = db.session.execute(
        sa.select(HouseholdDividend, DistributionPlan).join(DistributionPlan)
        .where(HouseholdDividend.household_id == household_id, DistributionPlan.status == PlanStatus.POSTED)
        .order_by(DistributionPlan.year.desc(), DistributionPlan.id.desc())).all()
    paid: dict[int, Decimal] = {}
    pending: dict[int, Decimal] = {}
    if rows:
        payments = db.session.execute(
            sa.select(DividendPayment.dividend_id, DividendPayment.amount, Voucher.status)
            .join(Voucher, Voucher.id == DividendPayment.voucher_id)
            .where(DividendPayment.dividend_id.in_([d.id for d, _ in rows]),
                   DividendPayment.voucher_id.not_in(reversed_vouchers())))
        for did, amount, vstatus in payments:
            target = paid if vstatus == VoucherStatus.POSTED else pending
            target[did] = target.get(did, ZERO) + amount
    return [HouseholdYear(p.year, p, d.units, d.amount, paid.get(d.id, ZERO), pending.get(d.id, ZERO))
            for d, p in rows]


def dividend_status(plan: DistributionPlan) -> list[DividendStatus]:
    rows = db.session.execute(
        sa.select(DividendPayment.dividend_id, Voucher.status, sa.func.sum(sa.type_coerce(DividendPayment.amount, sa.BigInteger)))
        .join(Voucher, Voucher.id == DividendPayment.voucher_id)
        .join(HouseholdDividend, HouseholdDividend.id == DividendPayment.dividend_id)
        .where(HouseholdDividend.plan_id == plan.id, DividendPayment.voucher_id.not_in(reversed_vouchers()))
        .group_by(DividendPayment.dividend_id, Voucher.status))
    paid: dict = {}
    pending: dict = {}
    for did, status, fen in rows:
        target = paid if status == VoucherStatus.POSTED else pending
        target[did] = target.get(did, ZERO) + Decimal(fen) / 100
    return [DividendStatus(d, paid.get(d.id, ZERO), pending.get(d.id, ZERO)) for d in plan.dividends]


def pay_dividends(plan: DistributionPlan, *, household_ids: list[int] | None, date: dt.date,
                  pay_from: str | None = None, user: User, settling: int | None = None) -> Voucher:
    """Draft one payment voucher (Dr 应付款—应付收益 a line per household, on its posted label / Cr the chosen cash or
    bank leaf, the total) for the unpaid dividends of the households. The leaf is remembered on the plan and offered
    next time. A household held by a 代发 batch in flight is not paid here (the bank pays it), except by that batch's
    own result (`settling`, its id)."""
    from coop.models.cash import PayoutBatch, PayoutItem

    org = db.session.get(Organization, plan.organization_id)
    # two payments of one plan at once: the second waits here, then reads what the first paid (below, under the
    # lock) and finds nothing left to pay
    db.session.refresh(plan, with_for_update=True)
    if plan.status != PlanStatus.POSTED:
        raise InvalidState("方案尚未记账，不能发放")
    credit_leaf = resolve_money(org, pay_from or plan.pay_from, field="pay_from")
    held = {hid: number for hid, number in db.session.execute(
        sa.select(PayoutItem.household_id, Household.number).join(PayoutBatch)
        .join(Household, Household.id == PayoutItem.household_id)
        .where(PayoutBatch.plan_id == plan.id, PayoutItem.in_flight.is_not(None), PayoutBatch.id != (settling or 0)))}
    busy = sorted(held[h] for h in set(household_ids or ()) & set(held))
    if busy:
        raise ValidationFailed.field("household_ids", f"户 {'、'.join(busy)} 已在待回盘的代发批次中，不能重复发放")
    chosen = [s for s in dividend_status(plan) if s.unpaid > 0 and s.dividend.household_id not in held
              and (household_ids is None or s.dividend.household_id in household_ids)]
    if not chosen:
        raise ValidationFailed.field("household_ids", "所选的户没有未发放的分红")
    total = sum((s.unpaid for s in chosen), ZERO)
    summary = f"发放{plan.year}年度分红（{len(chosen)}户）"
    # one 211 debit a household, on the label its 211 credit was posted with; a plan posted with the one legacy
    # line ("应付收益" on every row) still pays in one line against it
    by_payee: dict[str, Decimal] = {}
    for d in sorted(chosen, key=lambda d: d.dividend.payee):
        by_payee[d.dividend.payee] = by_payee.get(d.dividend.payee, ZERO) + d.unpaid
    payable = resolve(org, roles.DIVIDENDS_PAYABLE)
    voucher = create_draft(org, {"date": date, "attachment_count": 1, "lines": [
        *({"summary": summary if payee == LEGACY_PAYEE else f"{summary}—{payee}", "account_code": payable,
           "debit": amount, "credit": ZERO, "counterparty": payee} for payee, amount in by_payee.items()),
        {"summary": summary, "account_code": credit_leaf, "debit": ZERO, "credit": total},
    ]}, user=user)
    for s in chosen:
        db.session.add(DividendPayment(dividend_id=s.dividend.id, amount=s.unpaid, date=date, voucher_id=voucher.id))
    plan.pay_from = credit_leaf
    db.session.flush()
    audit.log("distribution.pay", user=user, org=org, target=str(plan.id), total=format_plain(total))
    return voucher


# ---------------------------------------------------------------- where a village stands in the year end (RULES §4)

YEAR_END_STEPS = {"months": N_("结账1–11月"), "carryover": N_("（一）损益结转"), "distribution": N_("（二）收益分配"),
                  "close": N_("（三）结账（各项分配转入未分配收益）"), "done": N_("年终已完成")}


@dataclass
class YearEndStatus:
    year: int
    carryover: str  # closing.CARRYOVER_STATES
    carryover_vouchers: list
    plans: list  # (plan, status)
    posted: list  # posted plans of the year
    closed: bool
    step: str  # the next step: YEAR_END_STEPS

    @property
    def posts_in(self) -> str:
        """Where an approved plan of the year would post: december (before 结账) or later (after the close)."""
        return "later" if self.closed else "december"


def year_end_status(org: Organization, year: int) -> YearEndStatus:
    state = closing.carryover_state(org, year)
    plans = list(db.session.scalars(sa.select(DistributionPlan).where(
        DistributionPlan.organization_id == org.id, DistributionPlan.year == year).order_by(DistributionPlan.id)))
    posted = [p for p in plans if p.status == PlanStatus.POSTED]
    closed = state == "closed"
    if closed:
        step = "done"
    elif state == "not_due":
        step = "months"
    elif state in ("pending", "stale"):
        step = "carryover"
    elif not posted:
        step = "distribution"
    else:
        step = "close"
    return YearEndStatus(year, state, closing.carryover_vouchers(org, year), [(p, p.status) for p in plans], posted,
                         closed, step)


# ---------------------------------------------------------------- checked again: 三色预警 and `coop verify`


@dataclass
class OverDistribution:
    year: int
    closing: Decimal  # 未分配收益 right after the distribution, credit positive (negative: a debit balance)
    distributed: Decimal  # distributions (32201) booked in the year
    voucher: str = ""  # the distribution that went too far

    @property
    def message(self) -> str:
        return (f"{self.voucher} 分配后未分配收益为借方 {format_plain(-self.closing)}（{self.year}年分配合计 "
                f"{format_plain(self.distributed)}，分配超过可分配收益，禁止举债分配）")


def overdistributed_years(org: Organization) -> list[OverDistribution]:
    """Distributions that left 未分配收益 in debit (RULES §7), one per year: after each voucher that debits 32201
    (hand-made ones included), what 322 holds — with the year's 321 and 损益 for a distribution made in December,
    when the year's result is what is being distributed. A later loss is not a distribution's fault. Data from
    before this check existed is flagged too."""
    dist_prefix = local_code(org, DISTRIBUTIONS)
    equity = codes.top(DISTRIBUTIONS)  # 收益分配
    d = sa.type_coerce(VoucherLine.debit, sa.BigInteger)
    c = sa.type_coerce(VoucherLine.credit, sa.BigInteger)
    rows = db.session.execute(
        sa.select(Voucher, sa.func.sum(d - c)).join(VoucherLine, VoucherLine.voucher_id == Voucher.id)
        .join(Account, Account.id == VoucherLine.account_id)
        .where(Voucher.organization_id == org.id, Voucher.status == "posted", Voucher.kind != "carryover",
               Account.code.startswith(dist_prefix))
        .group_by(Voucher.id).order_by(Voucher.date, Voucher.number)).all()
    by_year: dict[int, Decimal] = defaultdict(Decimal)
    worst: dict[int, tuple[Decimal, str]] = {}
    for v, fen in rows:
        amount = Decimal(int(fen)) / 100
        by_year[v.year] += amount
        if amount <= 0:
            continue
        bal = reports.leaf_balances(org, until=v.date)
        december = v.month == 12
        left = -sum((b for code, b in bal.items() if code.startswith(equity) or (december and (
            code.startswith(CURRENT_YEAR_PROFIT) or chart_account(code).category == PNL))), Decimal(0))
        if left < 0 and (v.year not in worst or left < worst[v.year][0]):
            worst[v.year] = (left, f"{v.date.isoformat()} {v.display_number}")
    return [OverDistribution(y, left, by_year[y], label) for y, (left, label) in sorted(worst.items())]


def cadre_cap_now(plan: DistributionPlan) -> Decimal | None:
    """The cadre-reward cap a posted plan is held to by the books as they stand now — the waterfall the plan was
    checked with when posted (RULES §7 step 3), without the plan's own voucher — or None while the year cannot be
    worked out (its carry-over not done)."""
    org = db.session.get(Organization, plan.organization_id)
    try:
        year = year_result(org, plan.year, exclude={plan.voucher_id} if plan.voucher_id else set())
    except ValidationFailed:
        return None
    return core.waterfall(year, policy_for(org), scenario_of(plan)).cadre_cap


@warnings.rule(60)
def _distribution_warnings(org: Organization, today: dt.date) -> list[warnings.Warning]:
    """Posted plans checked again: cadre reward within the cap, no distribution without 可分配收益; and
    distributions (hand-made or imported ones too) that left 未分配收益 in debit (RULES §7, 举债分配)."""
    out = []
    for plan in db.session.scalars(sa.select(DistributionPlan).where(
            DistributionPlan.organization_id == org.id, DistributionPlan.status == "posted")):
        cap = cadre_cap_now(plan)
        if cap is not None and plan.cadre_reward > cap:
            out.append(warnings.Warning("cadre_over_cap", "red", N_("干部奖励分红超过上限"), [
                N_("%(y)s年度 干部奖励 %(reward)s，上限 %(cap)s", y=plan.year, reward=format_plain(plan.cadre_reward),
                   cap=format_plain(cap))]))
        st = reports.income_statement(org, plan.year, 1, 12)
        year = core.YearResult(st.value("net_profit"), st.value("opening_undistributed"),
                               st.value("operating_profit"), st.value("other_in"))
        if year.distributable <= 0 and (plan.member_pool or plan.cadre_reward):
            out.append(warnings.Warning("distribution_without_income", "red", N_("无可分配收益仍进行分配"), [
                N_("%(y)s年度 可分配收益 %(amount)s", y=plan.year, amount=format_plain(year.distributable))]))
    found = overdistributed_years(org)
    if found:
        out.append(warnings.Warning("distribution_into_debt", "red", N_("分配后未分配收益为借方（举债分配）"),
                                    [o.message for o in found]))
    return out

