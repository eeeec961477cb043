"""飞地抱团 / 多村联营 (RULES §8): one project model, and the books of every participant follow from it.

Every action books all sides in the caller's one transaction: if any participant's month is closed or any entry
fails, nothing is written anywhere.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from coop.core.errors import CoopError, Forbidden, InvalidState, NotFound, ValidationFailed, add_error, flatten_errors
from coop.core.extensions import db
from coop.ledger import joint as core, roles as R
from coop.ledger.allocation import allocate
from coop.ledger.types import Entry, Line
from coop.models import (Account, County, JointProject, Organization, ProjectContribution, ProjectParticipant,
                      ProjectReturn, ProjectReturnLine, User, Voucher, VoucherLine)
from coop.models.joint import CONTRIBUTION_KINDS
from coop.models.ledger import VoucherStatus
from coop.core.money import ZERO, format_plain
from coop.services import access, audit, periods, roles
from coop.services.vouchers import write_for


def _require_admin(user: User, county_id: int) -> None:
    if county_id not in access.administered_counties(user):
        raise Forbidden("只有县级管理员可以管理联营项目")


def create_project(county: County, *, name: str, operator_org_id: int | None = None, operator_name: str | None = None,
                   guarantor: str | None = None, start_date: dt.date, end_date: dt.date | None = None,
                   fixed_rate: Decimal = Decimal(0), profit_sharing: bool = True, contract_weights: bool = False,
                   documents: str | None = None, user: User) -> JointProject:
    _require_admin(user, county.id)
    errors: dict = {}
    if not (name or "").strip():
        errors["name"] = ["请填写项目名称"]
    elif db.session.scalar(sa.select(JointProject.id).where(JointProject.county_id == county.id,
                                                            JointProject.name == name.strip())):
        errors["name"] = [f"项目 {name} 已存在"]
    operator = None
    if operator_org_id:
        operator = db.session.get(Organization, operator_org_id)
        if operator is None or operator.township.county_id != county.id:
            errors["operator_org_id"] = ["运营主体应为本县的组织"]
        elif operator.kind != "joint_company":
            errors["operator_org_id"] = ["运营主体应为联营公司（强村公司）"]
    elif not (operator_name or "").strip():
        errors["operator_name"] = ["请填写运营主体"]
    if not (Decimal(0) <= fixed_rate < Decimal(1)):
        errors["fixed_rate"] = ["保底收益率应在0到100%之间"]
    if end_date and end_date <= start_date:
        errors["end_date"] = ["结束日期应晚于开始日期"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    p = JointProject(county_id=county.id, name=name.strip(), operator_org_id=operator.id if operator else None,
                     operator_name=operator.name if operator else operator_name.strip(), guarantor=guarantor,
                     start_date=start_date, end_date=end_date, fixed_rate=fixed_rate, profit_sharing=profit_sharing,
                     contract_weights=contract_weights, documents=documents)
    db.session.add(p)
    db.session.flush()
    audit.log("joint.create", user=user, target=str(p.id))
    return p


def add_participant(project: JointProject, org: Organization, *, user: User,
                    weight: Decimal | None = None) -> ProjectParticipant:
    _require_admin(user, project.county_id)
    if org.township.county_id != project.county_id:
        raise ValidationFailed.field("organization_id", f"{org.name} 不属于本项目所在县，不能参与")
    if org.id == project.operator_org_id:
        raise ValidationFailed.field("organization_id", "运营主体不能同时作为参与村")
    if any(p.organization_id == org.id for p in project.participants):
        raise ValidationFailed.field("organization_id", f"{org.name} 已是参与方")
    if project.contract_weights and (weight is None or not (0 < weight <= 1)):
        raise ValidationFailed.field("weight", "合同约定分配比例时，请填写0到1之间的比例")
    part = ProjectParticipant(organization_id=org.id, weight=weight)
    project.participants.append(part)
    db.session.flush()
    return part


def _post(org: Organization, date: dt.date, summary: str, lines: list[Line], user: User) -> Voucher:
    """The voucher in one organization's books, prepared in the acting user's name: a draft for the village's
    reviewer, or posted at once where the village lets the county post (services.vouchers.write_for)."""
    try:
        periods.ensure_open(org, date)
    except CoopError as exc:  # several organizations are booked at once: say whose books refuse it
        message = f"{org.name}：{exc.message}"
        raise type(exc)(message, {"date": [message]}) from None
    if not org.opening_locked:
        raise InvalidState(f"{org.name} 的期初余额尚未确认，不能记账")
    return write_for(org, Entry(date, summary, tuple(lines)), user=user, kind="joint")


def _account(org: Organization, key: str, *, field: str | None = None) -> str:
    """The leaf of posting role `key` in `org`'s books; a refusal says whose books (several are booked at once)."""
    try:
        return roles.resolve(org, key, field=field)
    except ValidationFailed as exc:
        raise _whose(org, exc) from None


def _money(org: Organization, chosen: str | None, *, field: str) -> str:
    try:
        return roles.resolve_money(org, chosen, field=field)
    except ValidationFailed as exc:
        raise _whose(org, exc) from None


def _whose(org: Organization, exc: ValidationFailed) -> ValidationFailed:
    message = f"{org.name}：{exc.message}"
    errors: dict = {}
    for path in flatten_errors(exc.errors):
        add_error(errors, path, message)
    return ValidationFailed(message, errors)


def _pair(debit: str, credit: str, amount: Decimal, summary: str, dr_cp=None, cr_cp=None) -> list[Line]:
    return [Line(debit, debit=amount, summary=summary, counterparty=dr_cp),
            Line(credit, credit=amount, summary=summary, counterparty=cr_cp)]


def contribute(project: JointProject, participant: ProjectParticipant, *, kind: str, amount: Decimal,
               date: dt.date, user: User, bank_account: str | None = None,
               operator_bank_account: str | None = None) -> ProjectContribution:
    """出资: Dr 长期投资—project / Cr 银行存款 (cash, fiscal funds; fiscal funds also move 专项应付款 → 公积公益金) or
    Cr 公积公益金 (land quota valued in money); the operator, when kept here, books Dr 银行存款 (or 无形资产 for land) /
    Cr 资本—village. `bank_account` / `operator_bank_account`: the cash/bank leaves (remembered on the participant
    and the project; default: the 银行存款 role)."""
    _require_admin(user, project.county_id)
    if kind not in CONTRIBUTION_KINDS:
        raise ValidationFailed.field("kind", "出资方式应为现金、土地指标或财政扶持资金")
    if amount <= 0:
        raise ValidationFailed.field("amount", "出资金额必须大于零")
    if date < project.start_date:
        raise ValidationFailed.field("date", f"出资日期早于项目开始日期 {project.start_date}")
    if participant.exited_on:
        raise InvalidState("该参与方已退出项目")
    village = participant.organization
    s = f"{project.name} {CONTRIBUTION_KINDS[kind]}出资"
    investment = _account(village, R.LONG_INVESTMENT)
    if kind == "land":
        lines = _pair(investment, _account(village, R.RESERVE), amount, s, dr_cp=project.name)
    else:
        money = _money(village, bank_account or participant.bank_account, field="bank_account")
        lines = _pair(investment, money, amount, s, dr_cp=project.name)
    if kind == "fiscal":
        lines += _pair(_account(village, R.SPECIAL_PAYABLE), _account(village, R.RESERVE), amount,
                       f"{project.name} 财政扶持资金转入公积公益金")
    op_lines = None
    if project.operator:
        op = project.operator
        asset = (_account(op, R.INTANGIBLE) if kind == "land" else
                 _money(op, operator_bank_account or project.operator_bank_account, field="operator_bank_account"))
        op_lines = _pair(asset, _account(op, R.CAPITAL), amount, f"收到 {village.name} 出资", cr_cp=village.name)
    village_voucher = _post(village, date, s, lines, user)
    operator_voucher = None
    if op_lines:
        operator_voucher = _post(project.operator, date, f"收到 {village.name} 出资", op_lines, user)
    if bank_account and kind != "land":
        participant.bank_account = bank_account
    if operator_bank_account and project.operator and kind != "land":
        project.operator_bank_account = operator_bank_account
    c = ProjectContribution(participant_id=participant.id, kind=kind, amount=amount, date=date,
                            village_voucher_id=village_voucher.id,
                            operator_voucher_id=operator_voucher.id if operator_voucher else None)
    db.session.add(c)
    db.session.flush()
    audit.log("joint.contribute", user=user, org=village, target=str(project.id), amount=format_plain(amount))
    return c


def contributions(project: JointProject) -> list[ProjectContribution]:
    return list(db.session.scalars(
        sa.select(ProjectContribution).join(ProjectParticipant)
        .where(ProjectParticipant.project_id == project.id).order_by(ProjectContribution.date, ProjectContribution.id)))


def compute_return(project: JointProject, year: int, profit: Decimal) -> core.YearReturn:
    cs = [core.Contribution(c.participant_id, c.amount, c.date) for c in contributions(project)]
    # the whole contract's weights (they sum to 1), shared among those still in at the year's end
    weights = {p.id: p.weight for p in project.participants} if project.contract_weights else None
    still_in = {p.id for p in project.participants if not p.exited_on or p.exited_on > dt.date(year, 12, 31)}
    result = core.compute_year(year, cs, fixed_rate=project.fixed_rate, profit=profit, weights=weights,
                               still_in=still_in)
    if not project.profit_sharing:
        result.profit_share = {}
    return result


def preview_return(project: JointProject, *, year: int, profit: Decimal,
                   date: dt.date | None = None) -> tuple[core.YearReturn, dict]:
    """Every check of a declaration and its figures, with nothing written: the year's fixed and profit parts by
    participant, and the part of each fixed return the guarantor owes when the profit does not cover them."""
    if db.session.scalar(sa.select(ProjectReturn.id).where(ProjectReturn.project_id == project.id,
                                                           ProjectReturn.year == year)):
        raise InvalidState(f"{project.name} {year}年度的收益已经登记，不能重复登记")
    if date is not None and date < dt.date(year, 12, 31):
        raise ValidationFailed.field("date", "年度收益应在年末或之后登记")
    if profit < 0:
        # the guarantor owes the fixed part, not the operator's loss
        raise ValidationFailed.field("profit", "可分配利润不能为负数（亏损年度填 0，保底收益由担保方承担）")
    result = compute_return(project, year, profit)
    if result.issues:
        raise ValidationFailed.from_issues(result.issues)
    guaranteed = (allocate(result.shortfall, {k: v for k, v in result.fixed.items() if v > 0})
                  if result.shortfall else {})
    return result, guaranteed


def declare_return(project: JointProject, *, year: int, profit: Decimal, date: dt.date, user: User) -> ProjectReturn:
    """Book a year's return on every side: village Dr 应收款—project / Cr 投资收益; operator Dr 各项分配—向成员分配 /
    Cr 应付款—village for the part it pays (the guarantor owes the rest of an uncovered fixed part)."""
    _require_admin(user, project.county_id)
    result, guaranteed = preview_return(project, year=year, profit=profit, date=date)
    ret = ProjectReturn(project_id=project.id, year=year, profit=profit, declared_on=date, shortfall=result.shortfall)
    db.session.add(ret)
    db.session.flush()
    by_id = {p.id: p for p in project.participants}
    for pid in sorted(set(result.fixed) | set(result.profit_share)):
        part = by_id[pid]
        line = ProjectReturnLine(return_id=ret.id, participant_id=pid, fixed=result.fixed.get(pid, ZERO),
                                 profit_part=result.profit_share.get(pid, ZERO), guaranteed=guaranteed.get(pid, ZERO))
        if line.total <= 0:
            continue
        village = part.organization
        s = f"{project.name} {year}年度收益"
        line.village_voucher_id = _post(village, date, s, _pair(
            _account(village, R.RECEIVABLE), _account(village, R.INVESTMENT_INCOME), line.total, s,
            dr_cp=project.name), user).id
        paid_by_operator = line.total - line.guaranteed
        if project.operator and paid_by_operator > 0:
            op = project.operator
            s2 = f"应付 {village.name} {year}年度收益"
            line.operator_voucher_id = _post(op, date, s2, _pair(
                _account(op, R.DIST_MEMBERS), _account(op, R.PAYABLE), paid_by_operator, s2, cr_cp=village.name),
                user).id
        db.session.add(line)
    db.session.flush()
    audit.log("joint.return", user=user, target=str(project.id), year=year, profit=format_plain(profit))
    return ret


def exit_participant(project: JointProject, participant: ProjectParticipant, *, date: dt.date,
                     user: User, bank_account: str | None = None,
                     operator_bank_account: str | None = None) -> ProjectContribution | None:
    """退出/轮换: the capital is returned — village Dr 银行存款 / Cr 长期投资—project; operator Dr 资本—village /
    Cr 银行存款."""
    _require_admin(user, project.county_id)
    # a second exit of the same participant waits here, then finds it exited (its capital is returned once)
    db.session.refresh(participant, with_for_update=True)
    if participant.exited_on:
        raise InvalidState("该参与方已退出")
    own = [c for c in contributions(project) if c.participant_id == participant.id]
    if own and date < max(c.date for c in own):
        raise ValidationFailed.field("date", f"退出日期早于最后一次出资日期 {max(c.date for c in own)}")
    capital = sum((c.amount for c in own), ZERO)
    participant.exited_on = date
    if capital <= 0:
        db.session.flush()
        return None
    village = participant.organization
    s = f"{project.name} 退出返还出资"
    lines = _pair(_money(village, bank_account or participant.bank_account, field="bank_account"),
                  _account(village, R.LONG_INVESTMENT), capital, s, cr_cp=project.name)
    op_lines = None
    if project.operator:
        op = project.operator
        op_lines = _pair(_account(op, R.CAPITAL), _money(op, operator_bank_account or project.operator_bank_account,
                                                         field="operator_bank_account"),
                         capital, f"返还 {village.name} 出资", dr_cp=village.name)
    v = _post(village, date, s, lines, user)
    ov = _post(project.operator, date, f"返还 {village.name} 出资", op_lines, user) if op_lines else None
    c = ProjectContribution(participant_id=participant.id, kind="cash", amount=-capital, date=date,
                            village_voucher_id=v.id, operator_voucher_id=ov.id if ov else None)
    db.session.add(c)
    db.session.flush()
    audit.log("joint.exit", user=user, org=village, target=str(project.id), amount=format_plain(capital))
    return c


def receive_return(line: ProjectReturnLine, *, date: dt.date, user: User, from_guarantor: bool = False,
                   bank_account: str | None = None, operator_bank_account: str | None = None) -> None:
    """收到收益: the operator's part (village Dr 银行存款 / Cr 应收款; operator Dr 应付款—village / Cr 银行存款) or the
    guarantor's part of an uncovered fixed return (village Dr 银行存款 / Cr 应收款)."""
    project = db.session.get(JointProject, line.ret.project_id)
    _require_admin(user, project.county_id)
    # a second receipt of the same line waits here, then sees the first one's date below
    db.session.refresh(line, with_for_update=True)
    village = line.participant.organization
    amount = line.guaranteed if from_guarantor else line.total - line.guaranteed
    if date < line.ret.declared_on:
        raise ValidationFailed.field("date", f"收款日期早于收益登记日期 {line.ret.declared_on}")
    if amount <= 0:
        raise InvalidState("没有应收的金额")
    if (line.guarantor_paid_on if from_guarantor else line.operator_paid_on) is not None:
        raise InvalidState("该笔收益已经收到")
    payer = project.guarantor or "担保方" if from_guarantor else project.operator_name
    s = f"收到 {project.name} {line.ret.year}年度收益（{payer}）"
    lines = _pair(_money(village, bank_account or line.participant.bank_account, field="bank_account"),
                  _account(village, R.RECEIVABLE), amount, s, cr_cp=project.name)
    op_lines = None
    if not from_guarantor and project.operator:
        op = project.operator
        s2 = f"支付 {village.name} {line.ret.year}年度收益"
        op_lines = _pair(_account(op, R.PAYABLE), _money(op, operator_bank_account or project.operator_bank_account,
                                                         field="operator_bank_account"),
                         amount, s2, dr_cp=village.name)
    _post(village, date, s, lines, user)
    if op_lines:
        _post(project.operator, date, op_lines[0].summary, op_lines, user)
    if from_guarantor:
        line.guarantor_paid_on = date
    else:
        line.operator_paid_on = date
    db.session.flush()
    audit.log("joint.receive", user=user, org=village, target=str(line.id), amount=format_plain(amount))


@dataclass
class ReconRow:
    participant: str
    item: str
    village: Decimal
    operator: Decimal | None

    @property
    def difference(self) -> Decimal | None:
        return None if self.operator is None else self.village - self.operator


def _balance(org: Organization, code: str, counterparty: str, until: dt.date | None) -> Decimal:
    """Signed (debit-positive) posted balance of an account (and its children) for one counterparty."""
    q = (sa.select(sa.func.coalesce(sa.func.sum(sa.type_coerce(VoucherLine.debit, sa.BigInteger)
                                                - sa.type_coerce(VoucherLine.credit, sa.BigInteger)), 0))
         .join(Voucher, Voucher.id == VoucherLine.voucher_id).join(Account, Account.id == VoucherLine.account_id)
         .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED,
                Account.code.startswith(code),
                VoucherLine.counterparty == counterparty))
    if until:
        q = q.where(Voucher.date <= until)
    return Decimal(db.session.scalar(q)) / 100


def reconciliation(project: JointProject, until: dt.date | None = None) -> list[ReconRow]:
    """Each village's 141 and 112 balances for the project against the operator's 301 and 211 for the village."""
    rows = []
    op = project.operator
    for part in project.participants:
        v = part.organization
        guaranteed_open = sum((l.guaranteed for r in db.session.scalars(
            sa.select(ProjectReturn).where(ProjectReturn.project_id == project.id)) for l in r.lines
            if l.participant_id == part.id and (until is None or r.declared_on <= until)
            and (l.guarantor_paid_on is None or (until is not None and l.guarantor_paid_on > until))), ZERO)
        inv, cap, rec, pay = (roles.role(k).top for k in (R.LONG_INVESTMENT, R.CAPITAL, R.RECEIVABLE, R.PAYABLE))
        rows.append(ReconRow(v.name, f"长期投资（{inv}）/ 资本（{cap}）", _balance(v, inv, project.name, until),
                             -(_balance(op, cap, v.name, until)) if op else None))
        rows.append(ReconRow(v.name, f"应收收益（{rec}，扣除担保方承担）/ 应付收益（{pay}）",
                             _balance(v, rec, project.name, until) - guaranteed_open,
                             -(_balance(op, pay, v.name, until)) if op else None))
    return rows


def can_see(user: User, project: JointProject) -> bool:
    """County admins see their county's projects; anybody else a project whose operator or a participant they are
    assigned to (a township auditor: every project touching the township; a village: its own projects)."""
    if project.county_id in access.administered_counties(user):
        return True
    orgs = [p.organization for p in project.participants] + ([project.operator] if project.operator else [])
    return any(access.roles_on(user, o) for o in orgs)


def get_project(user: User, project_id: int) -> JointProject:
    p = db.session.get(JointProject, project_id)
    if p is None or not can_see(user, p):
        raise NotFound("找不到该项目")
    return p


def visible_projects(user: User) -> list[JointProject]:
    counties = set(access.administered_counties(user)) | {o.township.county_id for o in access.visible_orgs(user)}
    if not counties:
        return []
    projects = db.session.scalars(sa.select(JointProject).where(JointProject.county_id.in_(counties))
                                  .order_by(JointProject.start_date, JointProject.id))
    return [p for p in projects if can_see(user, p)]
