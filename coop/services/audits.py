"""Audit cases (RULES §16; 农村集体经济组织法 art. 47, 村委会组织法 art. 35): 定期, 专项 and 离任 audits of an
organization by the township 经管站 or the county, with findings linked to the organization's vouchers, 整改 items
with owners and deadlines, closure once every item is done, and publication of the result.

Auditors (township auditor, county admin) open cases, record findings and items, close and publish; the village's
accountant marks its items done with a note. A published result is what the village's members may read.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from coop.core.errors import Forbidden, InvalidState, NotFound, ValidationFailed, add_error, flatten_errors
from coop.core.extensions import db
from coop.models import Organization, User, Voucher
from coop.models.county import AUDIT_KINDS, AuditCase, AuditFinding, AuditFindingVoucher, AuditStatus, RectificationItem
from coop.services import access, audit
from coop.core import clock
SUPERVISORS = {"township_auditor", "county_admin"}


def _require_auditor(user: User, org: Organization) -> None:
    if not access.roles_on(user, org) & SUPERVISORS:
        raise Forbidden("只有乡镇经管站或县级管理员可以审计")


def _locked(case: AuditCase) -> AuditCase:
    return db.session.scalar(sa.select(AuditCase).where(AuditCase.id == case.id).with_for_update())


def open_case(org: Organization, *, kind: str, title: str, scope: str, period_from: dt.date, period_to: dt.date,
              subject: str | None = None, user: User, today: dt.date | None = None) -> AuditCase:
    _require_auditor(user, org)
    errors: dict = {}
    if kind not in AUDIT_KINDS:
        add_error(errors, "kind", "审计类型应为定期、专项或离任审计")
    if not (title or "").strip():
        add_error(errors, "title", "请填写审计名称")
    if not (scope or "").strip():
        add_error(errors, "scope", "请填写审计范围")
    if period_from > period_to:
        add_error(errors, "period_to", "审计期间的结束日期应不早于开始日期")
    if kind == "departure" and not (subject or "").strip():
        add_error(errors, "subject", "离任审计请填写离任人员及职务")
    if errors:
        raise ValidationFailed(next(iter(flatten_errors(errors).values()))[0], errors)
    case = AuditCase(organization_id=org.id, kind=kind, title=title.strip(), scope=scope.strip(),
                     period_from=period_from, period_to=period_to, subject=(subject or "").strip() or None,
                     status=AuditStatus.OPEN, opened_on=today or clock.today(), opened_by_id=user.id)
    db.session.add(case)
    db.session.flush()
    audit.log("audit_case.open", user=user, org=org, target=str(case.id))
    return case


def get_case(user: User, case_id: int) -> AuditCase:
    """A case the user may read: its organization's supervisors and book readers; its members once published."""
    case = db.session.get(AuditCase, case_id)
    if case is None or not can_read(user, case):
        raise NotFound("找不到该审计")
    return case


def can_read(user: User, case: AuditCase) -> bool:
    org = case.organization
    if access.roles_on(user, org) & SUPERVISORS or access.can(user, access.READ_LEDGER, org):
        return True
    return case.status == AuditStatus.PUBLISHED and access.can(user, access.MEMBER_PORTAL, org)


def add_finding(case: AuditCase, *, text: str, voucher_ids: list[int] = (), amount: Decimal | None = None,
                user: User) -> AuditFinding:
    org = case.organization
    _require_auditor(user, org)
    case = _locked(case)
    if case.status != AuditStatus.OPEN:
        raise InvalidState("审计已结案，不能再添加问题")
    errors: dict = {}
    if not (text or "").strip():
        add_error(errors, "text", "请填写审计发现的问题")
    if amount is not None and amount < 0:
        add_error(errors, "amount", "金额不能为负数")
    found = {v.id: v for v in db.session.scalars(sa.select(Voucher).where(Voucher.id.in_(list(voucher_ids))))}
    for i, vid in enumerate(voucher_ids):
        v = found.get(vid)
        if v is None or v.organization_id != org.id:
            add_error(errors, f"voucher_ids.{i}", "凭证不属于被审计的组织")
        elif not (case.period_from <= v.date <= case.period_to):
            add_error(errors, f"voucher_ids.{i}", f"凭证 {v.display_number} 不在审计期间内")
    if errors:
        raise ValidationFailed(next(iter(flatten_errors(errors).values()))[0], errors)
    f = AuditFinding(case_id=case.id, text=text.strip(), amount=amount)
    db.session.add(f)
    db.session.flush()
    for vid in dict.fromkeys(voucher_ids):
        db.session.add(AuditFindingVoucher(finding_id=f.id, voucher_id=vid))
    db.session.flush()
    audit.log("audit_case.finding", user=user, org=org, target=str(case.id))
    return f


def add_item(finding: AuditFinding, *, action: str, owner: str, deadline: dt.date, user: User) -> RectificationItem:
    case = finding.case
    _require_auditor(user, case.organization)
    case = _locked(case)
    if case.status != AuditStatus.OPEN:
        raise InvalidState("审计已结案，不能再添加整改事项")
    errors: dict = {}
    if not (action or "").strip():
        add_error(errors, "action", "请填写整改要求")
    if not (owner or "").strip():
        add_error(errors, "owner", "请填写整改责任人")
    if deadline < case.opened_on:
        add_error(errors, "deadline", "整改期限不能早于立案日期")
    if errors:
        raise ValidationFailed(next(iter(flatten_errors(errors).values()))[0], errors)
    item = RectificationItem(finding_id=finding.id, action=action.strip(), owner=owner.strip(), deadline=deadline)
    db.session.add(item)
    db.session.flush()
    audit.log("audit_case.item", user=user, org=case.organization, target=str(case.id))
    return item


def complete_item(item: RectificationItem, *, note: str, done_on: dt.date, user: User) -> RectificationItem:
    """The village (its accountant) or an auditor records the 整改 done."""
    case = item.finding.case
    org = case.organization
    if not (access.roles_on(user, org) & SUPERVISORS or access.can(user, access.PREPARE, org)):
        raise Forbidden("您没有执行此操作的权限")
    _locked(case)
    if item.done_on is not None:
        raise InvalidState("该整改事项已完成")
    if not (note or "").strip():
        raise ValidationFailed.field("note", "请说明整改情况")
    item.done_on, item.done_note = done_on, note.strip()
    db.session.flush()
    audit.log("audit_case.item_done", user=user, org=org, target=str(item.id))
    return item


def close_case(case: AuditCase, *, conclusion: str, user: User, today: dt.date | None = None) -> AuditCase:
    """结案: with a conclusion, once every finding's 整改 items are done (a finding without items needs none)."""
    _require_auditor(user, case.organization)
    case = _locked(case)
    if case.status != AuditStatus.OPEN:
        raise InvalidState("审计已结案")
    if not (conclusion or "").strip():
        raise ValidationFailed.field("conclusion", "请填写审计结论")
    pending = [i for f in case.findings for i in f.items if i.done_on is None]
    if pending:
        raise InvalidState(f"还有 {len(pending)} 项整改未完成，不能结案："
                           + "；".join(f"{i.action}（{i.owner}，期限 {i.deadline.isoformat()}）" for i in pending))
    case.conclusion, case.status, case.closed_on = conclusion.strip(), AuditStatus.CLOSED, today or clock.today()
    db.session.flush()
    audit.log("audit_case.close", user=user, org=case.organization, target=str(case.id))
    return case


def publish(case: AuditCase, *, user: User, today: dt.date | None = None) -> AuditCase:
    _require_auditor(user, case.organization)
    case = _locked(case)
    if case.status != AuditStatus.CLOSED:
        raise InvalidState("审计结案后才能公布结果")
    case.status, case.published_on = AuditStatus.PUBLISHED, today or clock.today()
    db.session.flush()
    audit.log("audit_case.publish", user=user, org=case.organization, target=str(case.id))
    return case


def cases_of(org: Organization, user: User | None = None) -> list[AuditCase]:
    """The organization's cases; for a member (no right to the books), the published ones only."""
    cases = list(db.session.scalars(sa.select(AuditCase).where(AuditCase.organization_id == org.id)
                                    .order_by(AuditCase.opened_on.desc(), AuditCase.id.desc())))
    return cases if user is None else [c for c in cases if can_read(user, c)]


def open_findings(org_ids: list[int]) -> list[tuple[AuditCase, AuditFinding, list[RectificationItem]]]:
    """Findings of open cases of these organizations with their undone items (the auditor desk's list)."""
    if not org_ids:
        return []
    q = (sa.select(AuditFinding).join(AuditCase, AuditCase.id == AuditFinding.case_id)
         .where(AuditCase.organization_id.in_(org_ids), AuditCase.status == AuditStatus.OPEN)
         .order_by(AuditCase.organization_id, AuditFinding.id))
    out = []
    for f in db.session.scalars(q):
        undone = [i for i in f.items if i.done_on is None]
        if undone or not f.items:
            out.append((f.case, f, undone))
    return out
