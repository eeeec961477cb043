"""The share register (RULES §6): quantification plans, issue, and the events that change holdings afterwards.

Holdings on any date are the sum of ShareEvent rows up to that date. Every action appends a group of rows whose
units sum to zero (except the issue itself), so the register total never drifts after issue.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from coop.core import clock
from coop.core.errors import InvalidState, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.core.text import N_
from coop.ledger.shares import (CLASS_LABELS, COLLECTIVE, COLLECTIVE_LIMIT, MemberBasis, PlanRules, Quantification,
                                quantify)
from coop.models import (Household, Member, Organization, PlanMemberInput, QuantificationPlan, ShareAction,
                         ShareCertificate, ShareEvent, User)
from coop.models.base import utcnow
from coop.models.members import MemberStatus
from coop.models.shares import QuantificationStatus
from coop.services import access, audit, roles, warnings
from coop.services.members import create_household, status_on
from coop.services.vouchers import create_draft

ZERO_UNITS = Decimal("0.0000")


# ---------------------------------------------------------------- plans


def get_plan(org: Organization, plan_id: int) -> QuantificationPlan:
    return access.of_org(QuantificationPlan, org, plan_id, "找不到该方案")


def get_certificate(org: Organization, cert_id: int) -> ShareCertificate:
    return access.of_org(ShareCertificate, org, cert_id, "找不到该股权证")


def get_action(org: Organization, action_id: int) -> ShareAction:
    return access.of_org(ShareAction, org, action_id, "找不到该股权变动")


def _rules_from(data: dict) -> PlanRules:
    def dec(key, default):
        v = data.get(key)
        return Decimal(str(v)) if v not in (None, "") else Decimal(default)

    cap = data.get("labour_cap_years")
    return PlanRules(
        population_units=dec("population_units", "1"),
        labour_units_per_year=dec("labour_units_per_year", "0"),
        labour_cap_years=int(cap) if cap not in (None, "") else None,
        collective_ratio=dec("collective_ratio", "0"),
        collective_override=bool(data.get("collective_override")),
        poverty_floor_rate=dec("poverty_floor_rate", "0"),
    )


def plan_rules(plan: QuantificationPlan) -> PlanRules:
    return _rules_from(json.loads(plan.rules or "{}"))


def _check_rules(rules: dict, net_assets: Decimal, base_date: dt.date) -> None:
    """Refuse malformed rules, and the rule-level problems (集体股 over 30% without the override, no assets) now,
    with the same messages the quantification gives."""
    issues = [i for i in quantify([], _rules_from(rules), net_assets, base_date).issues
              if i.path in ("collective_ratio", "net_assets")]
    if issues:
        raise ValidationFailed.from_issues(issues)


def _with_charter_collective(org: Organization, rules: dict) -> dict:
    """RULES §1: the 章程 says whether a 集体股 exists and its share; a plan that does not state its own takes it."""
    if rules.get("collective_ratio") not in (None, ""):
        return rules
    p = org.policy()
    ratio = p["collective_share_ratio"] if p["has_collective_share"] and p["collective_share_ratio"] else Decimal(0)
    return {**rules, "collective_ratio": str(ratio)}


def create_plan(org: Organization, *, name: str, base_date: dt.date, net_assets: Decimal, rules: dict,
                approval_ref: str | None = None, user: User) -> QuantificationPlan:
    rules = _with_charter_collective(org, rules)
    _check_rules(rules, net_assets, base_date)
    plan = QuantificationPlan(organization_id=org.id, name=name.strip() or "折股量化方案", base_date=base_date,
                              net_assets=net_assets, rules=json.dumps(rules, default=str, ensure_ascii=False),
                              approval_ref=approval_ref)
    db.session.add(plan)
    db.session.flush()
    audit.log("plan.create", user=user, org=org, target=str(plan.id))
    return plan


def update_plan(plan: QuantificationPlan, **changes) -> QuantificationPlan:
    if plan.status != QuantificationStatus.DRAFT:
        raise InvalidState("方案已发行，不能再修改或重新计算")
    if "rules" in changes:
        changes["rules"] = _with_charter_collective(db.session.get(Organization, plan.organization_id),
                                                    changes["rules"])
    _check_rules(changes.get("rules", json.loads(plan.rules or "{}")), changes.get("net_assets", plan.net_assets),
                 changes.get("base_date", plan.base_date))
    if "rules" in changes:
        changes["rules"] = json.dumps(changes["rules"], default=str, ensure_ascii=False)
    for k, v in changes.items():
        setattr(plan, k, v)
    db.session.flush()
    return plan


def set_member_input(plan: QuantificationPlan, member: Member, *, labour_start=None, labour_end=None,
                     cash=Decimal(0), resource=Decimal(0), poverty=Decimal(0)) -> PlanMemberInput:
    if plan.status != QuantificationStatus.DRAFT:
        raise InvalidState("方案已发行，不能再修改")
    if member.organization_id != plan.organization_id:
        raise NotFound("找不到该成员")
    if labour_start and labour_end and labour_end < labour_start:
        raise ValidationFailed.field("labour_end", "农龄截止日期早于开始日期")
    row = next((i for i in plan.inputs if i.member_id == member.id), None)
    if row is None:
        row = PlanMemberInput(member_id=member.id)
        plan.inputs.append(row)
    row.labour_start, row.labour_end = labour_start, labour_end
    row.cash, row.resource, row.poverty = cash, resource, poverty
    db.session.flush()
    return row


def plan_members(plan: QuantificationPlan) -> list[Member]:
    """Everyone the plan covers: members (and benefit holders) at the 基准日, and anyone with inputs."""
    people = db.session.scalars(sa.select(Member).where(Member.organization_id == plan.organization_id)
                                .options(selectinload(Member.events))  # status_on reads them for everyone
                                .order_by(Member.household_id, Member.id))
    with_inputs = {i.member_id for i in plan.inputs}
    return [m for m in people if m.id in with_inputs or status_on(m, plan.base_date) in (MemberStatus.MEMBER,
                                                                                         MemberStatus.BENEFIT)]


def preview_plan(plan: QuantificationPlan) -> tuple[Quantification, list[Member]]:
    """Compute the plan; nothing is written."""
    inputs = {i.member_id: i for i in plan.inputs}
    members = plan_members(plan)
    basis = []
    for m in members:
        i = inputs.get(m.id)
        basis.append(MemberBasis(
            key=m.id, household=m.household_id, confirmed=status_on(m, plan.base_date) == "member",
            labour_start=i.labour_start if i else None, labour_end=i.labour_end if i else None,
            cash=i.cash if i else Decimal(0), resource=i.resource if i else Decimal(0),
            poverty=i.poverty if i else Decimal(0)))
    return quantify(basis, plan_rules(plan), plan.net_assets, plan.base_date), members


def issue_plan(plan: QuantificationPlan, *, user: User, today: dt.date | None = None) -> list[ShareCertificate]:
    """Issue: write the opening register events (dated the 基准日) and number the household certificates."""
    if plan.status != QuantificationStatus.DRAFT:
        raise InvalidState("该方案已经发行")
    if not (plan.approval_ref or "").strip():
        raise ValidationFailed.field("approval_ref", "发行前请填写批准文号（成员大会决议）")
    org = db.session.get(Organization, plan.organization_id)
    lock_register(org)
    db.session.refresh(plan)  # a second issue of the plan waited on the lock: it sees the first one's status
    if plan.status != QuantificationStatus.DRAFT:
        raise InvalidState("该方案已经发行")
    if db.session.scalar(sa.select(sa.func.count()).select_from(ShareAction).where(ShareAction.organization_id == org.id)):
        raise InvalidState("本组织已有股权登记，不能再次发行折股量化方案")
    result, members = preview_plan(plan)
    if result.issues:
        raise ValidationFailed.from_issues(result.issues)
    by_id = {m.id: m for m in members}
    rows = []
    for key, classes in result.per_member.items():
        for cls, units in classes.items():
            if units:
                rows.append(ShareEvent(share_class=cls, member_id=key, household_id=by_id[key].household_id,
                                       units=units, income_only=status_on(by_id[key], plan.base_date) != "member"))
    if result.collective_units:
        rows.append(ShareEvent(share_class=COLLECTIVE, units=result.collective_units))
    _record(org, "issue", plan.base_date, rows, user=user, reference=plan.approval_ref, plan_id=plan.id)
    plan.status, plan.issued_at, plan.issued_by_id = QuantificationStatus.ISSUED, utcnow(), user.id
    plan.face_value, plan.total_units = result.face_value, result.total_units
    db.session.flush()
    now = _snapshots(org)
    certs = [issue_certificate(h, date=plan.base_date, snapshot=now.get(h.id, {}))
             for h in _households_with_holdings(org, plan.base_date)]
    audit.log("plan.issue", user=user, org=org, target=str(plan.id), total=str(result.total_units))
    return certs


def _record(org: Organization, kind: str, date: dt.date, rows: list[ShareEvent], *, user: User,
            reference: str | None = None, reissue: bool = False, **fields) -> ShareAction:
    """Append one action with its rows; optionally reissue the certificates of the households it touched."""
    action = ShareAction(organization_id=org.id, date=date, kind=kind, reference=reference, created_by_id=user.id,
                         **fields)
    action.events.extend(rows)
    db.session.add(action)
    db.session.flush()
    if reissue:
        touched = {r.household_id for r in rows if r.household_id is not None}
        _reissue(org, [db.session.get(Household, h) for h in sorted(touched)], date)
    audit.log(f"shares.{kind}", user=user, org=org, target=str(action.id))
    return action


# ---------------------------------------------------------------- the register


@dataclass(frozen=True)
class Holding:
    member_id: int | None
    household_id: int | None
    share_class: str
    beneficiary_id: int | None
    income_only: bool
    units: Decimal


def holdings(org: Organization, as_of: dt.date | None = None) -> list[Holding]:
    """The register as of a date (every event up to and including it)."""
    raw = sa.type_coerce(ShareEvent.units, sa.BigInteger)
    q = (sa.select(ShareEvent.member_id, ShareEvent.household_id, ShareEvent.share_class, ShareEvent.beneficiary_id,
                   ShareEvent.income_only, sa.func.sum(raw))
         .join(ShareAction, ShareAction.id == ShareEvent.action_id)
         .where(ShareAction.organization_id == org.id)
         .group_by(ShareEvent.member_id, ShareEvent.household_id, ShareEvent.share_class, ShareEvent.beneficiary_id,
                   ShareEvent.income_only)
         .having(sa.func.sum(raw) != 0))
    if as_of:
        q = q.where(ShareAction.date <= as_of)
    out = [Holding(m, h, c, b, bool(io), (Decimal(u) / 10000).quantize(Decimal("0.0001")))
           for m, h, c, b, io, u in db.session.execute(q)]
    return sorted(out, key=lambda x: (x.household_id or 0, x.member_id or 0, x.share_class, x.beneficiary_id or 0))


def register_total(org: Organization, as_of: dt.date | None = None) -> Decimal:
    return sum((h.units for h in holdings(org, as_of)), ZERO_UNITS)


@warnings.rule(45)
def _collective_share_over_limit(org: Organization, today: dt.date) -> list:
    """RULES §6: 集体股 over 30 % of all shares needs an explicit override when quantified, and stays flagged for
    as long as the register holds it."""
    # two sums in one statement: the 经管站工作台 asks every village of the township
    raw = sa.type_coerce(ShareEvent.units, sa.BigInteger)
    all_units, collective_units = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(raw), 0),
                  sa.func.coalesce(sa.func.sum(sa.case((ShareEvent.share_class == COLLECTIVE, raw), else_=0)), 0))
        .join(ShareAction, ShareAction.id == ShareEvent.action_id)
        .where(ShareAction.organization_id == org.id, ShareAction.date <= today)).one()
    total, collective = (Decimal(int(u)).scaleb(-4) for u in (all_units, collective_units))  # 4 places, as stored
    if not total or collective <= total * COLLECTIVE_LIMIT:
        return []
    return [warnings.Warning("collective_share", "yellow", N_("集体股超过总股数的30%"), [
        f"集体股 {collective} 股，占总股数 {total} 股的 {collective / total:.2%}（上限30%，经特别批准）"])]


def household_units(org: Organization, as_of: dt.date | None = None) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for h in holdings(org, as_of):
        if h.household_id is not None:
            out[h.household_id] = out.get(h.household_id, ZERO_UNITS) + h.units
    return out


def dividend_units(org: Organization, as_of: dt.date) -> tuple[dict[int, Decimal], Decimal]:
    """Units that earn dividends, by household, and the collective's own units. Units held for someone (代持)
    earn for the beneficiary's household."""
    by_household: dict[int, Decimal] = {}
    collective = ZERO_UNITS
    for h in holdings(org, as_of):
        household = db.session.get(Member, h.beneficiary_id).household_id if h.beneficiary_id else h.household_id
        if household is None:
            collective += h.units
        else:
            by_household[household] = by_household.get(household, ZERO_UNITS) + h.units
    return by_household, collective


def _households_with_holdings(org: Organization, as_of: dt.date) -> list[Household]:
    ids = sorted(household_units(org, as_of))
    return [db.session.get(Household, i) for i in ids]


def _issued_plan(org: Organization) -> QuantificationPlan:
    plan = db.session.scalar(sa.select(QuantificationPlan).where(QuantificationPlan.organization_id == org.id,
                                                                 QuantificationPlan.status == QuantificationStatus.ISSUED))
    if plan is None:
        raise InvalidState("尚未发行折股量化方案，股权登记为空")
    return plan


def _check_date(org: Organization, date: dt.date, today: dt.date | None) -> None:
    plan = _issued_plan(org)
    if date < plan.base_date:
        raise ValidationFailed.field("date", f"日期早于折股量化基准日 {plan.base_date.isoformat()}")
    if date > (today or clock.today()):
        raise ValidationFailed.field("date", "日期不能晚于今天")


#: first key of the PostgreSQL advisory lock on an organization's share register ("shar"); the second is the org id
REGISTER_LOCK = 0x73686172


def lock_register(org: Organization) -> None:
    """Serialise the writers of one organization's share register: every event that reads a holding and then moves
    it takes this first, so two transfers of the same units cannot both see them (exclusive, unlike the books
    lock, which voucher writers share). PostgreSQL: a transaction advisory lock; SQLite: the database write lock,
    through the FOR UPDATE hook in coop/__init__.py."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(REGISTER_LOCK, org.id)))
    else:
        db.session.execute(sa.select(Organization.id).where(Organization.id == org.id).with_for_update())


def _key_filter(member_id, household_id, share_class, beneficiary_id):
    def eq(col, value):
        return col.is_(None) if value is None else col == value

    return sa.and_(eq(ShareEvent.member_id, member_id), eq(ShareEvent.household_id, household_id),
                   ShareEvent.share_class == share_class, eq(ShareEvent.beneficiary_id, beneficiary_id))


def _holding_movements(org, *, member_id, household_id, share_class, beneficiary_id=None) -> list[tuple]:
    """(date, units) of one holding (holder, household, class, beneficiary), in date order."""
    q = (sa.select(ShareAction.date, ShareEvent.units).join(ShareAction, ShareAction.id == ShareEvent.action_id)
         .where(ShareAction.organization_id == org.id,
                _key_filter(member_id, household_id, share_class, beneficiary_id))
         .order_by(ShareAction.date))
    return list(db.session.execute(q))


def _holding_units(org, *, as_of=None, **key) -> Decimal:
    return sum((u for d, u in _holding_movements(org, **key) if as_of is None or d <= as_of), ZERO_UNITS)


def _min_future_units(org, date: dt.date, **key) -> Decimal:
    """The smallest balance the holding has from `date` on, so a back-dated removal cannot overdraw it later."""
    balance, lowest = ZERO_UNITS, None
    for d, u in _holding_movements(org, **key):
        if d > date and lowest is None:
            lowest = balance
        balance += u
        if d > date:
            lowest = min(lowest, balance)
    return balance if lowest is None else min(lowest, balance)


def _require_units(org, date, units: Decimal, label: str, **key) -> None:
    if units <= 0:
        raise ValidationFailed.field("units", "股数必须大于零")
    if units != units.quantize(Decimal("0.0001")):
        raise ValidationFailed.field("units", "股数最多4位小数")
    have = _min_future_units(org, date, **key)
    if units > have:
        raise ValidationFailed.field("units", f"{label}持有{CLASS_LABELS[key['share_class']]} {have} 股，不足 {units} 股")


def _member(org: Organization, member_id: int) -> Member:
    m = db.session.get(Member, member_id)
    if m is None or m.organization_id != org.id:
        raise ValidationFailed.field("member_id", "成员不存在")
    return m


def _move(org, *, date, kind, share_class, units, src: dict, dst: dict, user, reference=None,
          **fields) -> ShareAction:
    rows = [ShareEvent(share_class=share_class, units=-units, **src),
            ShareEvent(share_class=share_class, units=units, **dst)]
    return _record(org, kind, date, rows, user=user, reference=reference, reissue=True, **fields)


def transfer_shares(org: Organization, *, from_member_id: int, to_member_id: int, share_class: str, units: Decimal,
                    date: dt.date, reference: str, user: User, today: dt.date | None = None) -> ShareAction:
    """社内转让: only to a member of the same collective."""
    lock_register(org)
    _check_date(org, date, today)
    src, dst = _member(org, from_member_id), _member(org, to_member_id)
    if src.id == dst.id:
        raise ValidationFailed.field("to_member_id", "转入人与转出人相同")
    if status_on(dst, date) != "member":
        raise ValidationFailed.field("to_member_id", f"{dst.name} 不是本集体经济组织成员，股权只能在本组织成员之间转让")
    _require_units(org, date, units, src.name, member_id=src.id, household_id=src.household_id, share_class=share_class)
    return _move(org, date=date, kind="transfer", share_class=share_class, units=units,
                 src={"member_id": src.id, "household_id": src.household_id},
                 dst={"member_id": dst.id, "household_id": dst.household_id}, user=user, reference=reference)


def inherit_shares(org: Organization, *, deceased_id: int, heir_id: int, date: dt.date, reference: str, user: User,
                   today: dt.date | None = None) -> ShareAction:
    """继承: all of the deceased's own units go to the heir; a non-member heir gets income rights only."""
    lock_register(org)
    _check_date(org, date, today)
    dead, heir = _member(org, deceased_id), _member(org, heir_id)
    if dead.id == heir.id:
        raise ValidationFailed.field("heir_id", "继承人与被继承人相同")
    # inheriting from a living member would hand shares outside the collective, which a transfer may not
    if not any(e.kind == "lost_death" and e.date <= date for e in dead.events):
        raise ValidationFailed.field("deceased_id", f"{dead.name} 在 {date.isoformat()} 前没有登记死亡，不能继承其股份"
                                                    "（在世成员的股份只能在本组织成员之间转让）")
    own = [h for h in holdings(org) if h.member_id == dead.id and h.beneficiary_id is None]
    if not own:
        raise ValidationFailed.field("deceased_id", f"{dead.name} 没有股份可继承")
    income_only = status_on(heir, date) != "member"
    rows = []
    for h in own:
        rows.append(ShareEvent(share_class=h.share_class, member_id=dead.id, household_id=h.household_id,
                               income_only=h.income_only, units=-h.units))
        rows.append(ShareEvent(share_class=h.share_class, member_id=heir.id, household_id=heir.household_id,
                               income_only=income_only, units=h.units))
    return _record(org, "inherit", date, rows, user=user, reference=reference, reissue=True)


def bought_back_units(org: Organization, year: int) -> Decimal:
    """Units the collective bought back in a year (the rows that reached the collective)."""
    raw = sa.type_coerce(ShareEvent.units, sa.BigInteger)
    reversal = sa.orm.aliased(ShareAction)
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(raw), 0)).join(ShareAction, ShareAction.id == ShareEvent.action_id)
        .where(ShareAction.organization_id == org.id, ShareAction.kind == "buyback", ShareEvent.member_id.is_(None),
               ShareAction.date >= dt.date(year, 1, 1), ShareAction.date <= dt.date(year, 12, 31),
               ~sa.exists().where(reversal.reverses_id == ShareAction.id)))  # a 冲正 buy-back never happened
    return (Decimal(total) / 10000).quantize(Decimal("0.0001"))


def buy_back(org: Organization, *, member_id: int, share_class: str, units: Decimal, price: Decimal, date: dt.date,
             reference: str, user: User, pay_from: str | None = None, charge_to: str | None = None,
             today: dt.date | None = None) -> ShareAction:
    """有偿退出: the collective buys the units back (≤ the yearly limit of all shares) and a payment voucher is
    drafted (Dr `charge_to`, a leaf under 资本 / Cr `pay_from`, a cash/bank leaf; by default the 资本 and
    银行存款 posting roles) for review and posting."""
    from coop.ledger import roles as R

    lock_register(org)
    _check_date(org, date, today)
    m = _member(org, member_id)
    _require_units(org, date, units, m.name, member_id=m.id, household_id=m.household_id, share_class=share_class)
    if price <= 0:
        raise ValidationFailed.field("price", "回购价款必须大于零")
    limit = org.policy()["buyback_limit"]
    allowed = (register_total(org, date) * limit).quantize(Decimal("0.0001"))
    done = bought_back_units(org, date.year)
    if done + units > allowed:
        raise ValidationFailed.field(
            "units", f"{date.year}年回购上限为总股本的 {limit:.0%}（{allowed} 股），已回购 {done} 股，"
                     f"本次 {units} 股将超出 {done + units - allowed} 股")
    pay_from = roles.resolve_money(org, pay_from, field="pay_from")
    charge_to = roles.resolve(org, R.CAPITAL, chosen=charge_to, field="charge_to")
    summary = f"回购 {m.name} 股份 {units} 股"
    voucher = create_draft(org, {"date": date, "lines": [
        {"summary": summary, "account_code": charge_to, "debit": price, "credit": Decimal(0),
         "counterparty": m.name},
        {"summary": summary, "account_code": pay_from, "debit": Decimal(0), "credit": price},
    ]}, user=user)
    return _move(org, date=date, kind="buyback", share_class=share_class, units=units,
                 src={"member_id": m.id, "household_id": m.household_id}, dst={}, user=user, reference=reference,
                 voucher_id=voucher.id, amount=price)


def _member_holdings(org, member: Member) -> list[Holding]:
    return [h for h in holdings(org) if h.member_id == member.id and h.household_id == member.household_id]


def _moved_to(h: Holding, household_id: int) -> list[ShareEvent]:
    common = dict(share_class=h.share_class, member_id=h.member_id, beneficiary_id=h.beneficiary_id,
                  income_only=h.income_only)
    return [ShareEvent(household_id=h.household_id, units=-h.units, **common),
            ShareEvent(household_id=household_id, units=h.units, **common)]


def split_household(org: Organization, *, household_id: int, member_ids: list[int], date: dt.date, reference: str,
                    user: User, new_number: str | None = None, today: dt.date | None = None) -> Household:
    """分户: the named members and their units move to a new household; the first named member heads it."""
    lock_register(org)
    _check_date(org, date, today)
    old = db.session.get(Household, household_id)
    if old is None or old.organization_id != org.id:
        raise ValidationFailed.field("household_id", "户不存在")
    moving = [_member(org, i) for i in member_ids]
    if not moving or any(m.household_id != old.id for m in moving):
        raise ValidationFailed.field("member_ids", "请选择本户的成员")
    if len(moving) == len(old.members):
        raise ValidationFailed.field("member_ids", "不能把全部成员分出，原户至少保留一人")
    new = create_household(org, number=new_number, address=old.address, split_from=old)
    rows = [r for m in moving for h in _member_holdings(org, m) for r in _moved_to(h, new.id)]
    for m in moving:
        m.household_id = new.id
    new.head_id = moving[0].id
    moving[0].relation = "户主"
    if old.head_id in member_ids:
        old.head_id = next(m.id for m in old.members if m.id not in member_ids)
    db.session.flush()
    if rows:
        _record(org, "split", date, rows, user=user, reference=reference, reissue=True)
    return new


def merge_households(org: Organization, *, source_id: int, target_id: int, date: dt.date, reference: str, user: User,
                     today: dt.date | None = None) -> Household:
    """合户: every member and unit of `source` moves into `target`; `source` is closed."""
    lock_register(org)
    _check_date(org, date, today)
    src, dst = db.session.get(Household, source_id), db.session.get(Household, target_id)
    if src is None or dst is None or src.organization_id != org.id or dst.organization_id != org.id or src.id == dst.id:
        raise ValidationFailed.field("target_id", "请选择本组织的两个不同的户")
    rows = [r for m in src.members for h in _member_holdings(org, m) for r in _moved_to(h, dst.id)]
    for m in list(src.members):
        m.household_id = dst.id
        if m.relation == "户主":
            m.relation = "其他"
    src.active, src.head_id = False, None
    db.session.flush()
    if rows:
        _record(org, "merge", date, rows, user=user, reference=reference, reissue=True)
    return dst


def _holder_key(holder: Member | None) -> dict:
    return {"member_id": holder.id if holder else None, "household_id": holder.household_id if holder else None}


def start_nominee(org: Organization, *, holder_id: int | None, beneficiary_id: int, share_class: str, units: Decimal,
                  date: dt.date, reference: str, user: User, today: dt.date | None = None) -> ShareAction:
    """代持: the holder (a member, or the collective when holder_id is None) holds units for the beneficiary."""
    lock_register(org)
    _check_date(org, date, today)
    if not (reference or "").strip():
        raise ValidationFailed.field("reference", "请填写代持协议编号")
    ben = _member(org, beneficiary_id)
    holder = _member(org, holder_id) if holder_id else None
    if holder and holder.id == ben.id:
        raise ValidationFailed.field("beneficiary_id", "代持人与被代持人不能是同一人")
    key = _holder_key(holder)
    _require_units(org, date, units, holder.name if holder else "集体", share_class=share_class, **key)
    return _move(org, date=date, kind="nominee", share_class=share_class, units=units, src=key,
                 dst=key | {"beneficiary_id": ben.id}, user=user, reference=reference)


def release_nominee(org: Organization, *, holder_id: int | None, beneficiary_id: int, share_class: str,
                    date: dt.date, reference: str, user: User, today: dt.date | None = None) -> ShareAction:
    """解除代持: the units held for the beneficiary become the beneficiary's own."""
    lock_register(org)
    _check_date(org, date, today)
    ben = _member(org, beneficiary_id)
    holder = _member(org, holder_id) if holder_id else None
    key = _holder_key(holder) | {"beneficiary_id": ben.id}
    units = _holding_units(org, share_class=share_class, **key)
    if units <= 0:
        raise ValidationFailed.field("beneficiary_id", f"没有为 {ben.name} 代持的{CLASS_LABELS.get(share_class, '股份')}")
    return _move(org, date=date, kind="nominee_release", share_class=share_class, units=units, src=key,
                 dst={"member_id": ben.id, "household_id": ben.household_id,
                      "income_only": status_on(ben, date) != "member"},
                 user=user, reference=reference)


def reverse_action(org: Organization, *, action_id: int, date: dt.date, reason: str, user: User,
                   today: dt.date | None = None) -> ShareAction:
    """冲正: append the negation of an action; refused for the issue itself and for an already reversed action."""
    lock_register(org)
    _check_date(org, date, today)
    action = db.session.get(ShareAction, action_id)
    if action is None or action.organization_id != org.id:
        raise ValidationFailed.field("action_id", "变动记录不存在")
    if action.kind in ("issue", "reversal"):
        raise InvalidState("折股量化发行和冲正记录不能冲正")
    if db.session.scalar(sa.select(ShareAction.id).where(ShareAction.reverses_id == action.id)):
        raise InvalidState("该变动已经冲正")
    if not (reason or "").strip():
        raise ValidationFailed.field("reason", "请填写冲正原因")
    if date < action.date:
        raise ValidationFailed.field("date", "冲正日期不能早于原变动日期")
    for r in action.events:
        if r.units > 0:
            key = dict(member_id=r.member_id, household_id=r.household_id, share_class=r.share_class,
                       beneficiary_id=r.beneficiary_id)
            if _min_future_units(org, date, **key) < r.units:
                raise InvalidState("冲正会使某一持有人股数为负，请先冲正其后的变动")
    rows = [ShareEvent(share_class=r.share_class, member_id=r.member_id, household_id=r.household_id,
                       beneficiary_id=r.beneficiary_id, income_only=r.income_only, units=-r.units)
            for r in action.events]
    return _record(org, "reversal", date, rows, user=user, reference=reason, reissue=True, reverses_id=action.id)


# ---------------------------------------------------------------- certificates


def _snapshots(org: Organization) -> dict[int, dict[str, str]]:
    """Every household's holding now, by class (one pass over the register)."""
    out: dict[int, dict[str, str]] = {}
    for h in holdings(org):
        if h.household_id is not None:
            classes = out.setdefault(h.household_id, {})
            classes[h.share_class] = str(Decimal(classes.get(h.share_class, "0")) + h.units)
    return out


def issue_certificate(household: Household, *, date: dt.date, snapshot: dict | None = None) -> ShareCertificate:
    org = db.session.get(Organization, household.organization_id)
    if snapshot is None:
        snapshot = _snapshots(org).get(household.id, {})
    seq = 1 + db.session.scalar(sa.select(sa.func.count()).select_from(ShareCertificate).where(
        ShareCertificate.household_id == household.id))
    cert = ShareCertificate(organization_id=org.id, household_id=household.id,
                            number=f"{org.id:04d}-{household.number}-{seq:02d}", issued_on=date,
                            verify_token=secrets.token_urlsafe(16),
                            # the household's holding now: a back-dated change must not drop later ones
                            snapshot=json.dumps(snapshot, ensure_ascii=False))
    db.session.add(cert)
    db.session.flush()
    return cert


def current_certificate(household: Household) -> ShareCertificate | None:
    return db.session.scalar(sa.select(ShareCertificate).where(ShareCertificate.household_id == household.id,
                                                               ShareCertificate.revoked_on.is_(None)))


def _reissue(org: Organization, households: list[Household], date: dt.date) -> None:
    """Revoke and reissue the certificates of households whose holding changed."""
    for h in households:
        cert = current_certificate(h)
        if cert is not None:
            cert.revoked_on = date
        if household_units(org).get(h.id):
            issue_certificate(h, date=date)
    db.session.flush()
