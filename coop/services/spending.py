"""村级财务支出审批 / 报账 (RULES §15): a request with its scans, an approval chain fixed at filing by the county's
thresholds, one step per transaction under a row lock on the request, and the approved request turned into a
voucher draft by posting roles with its scans attached."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from coop.core.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.ledger.roles import EXPENSE_ROLES, ROLE_BY_KEY
from coop.ledger.types import Entry, Line
from coop.models import County, Organization, User, Voucher
from coop.models.cash import STEPS, RequestStatus, SpendingApproval, SpendingPolicy, SpendingRequest, SpendingScan
from coop.core.money import ZERO, format_plain
from coop.services import access, attachments, audit, roles, vouchers
from coop.core import clock
#: who takes each step (RULES §12 roles)
STEP_ROLES = {"head": {"reviewer"}, "finance_group": {"finance_group"}, "meeting": {"reviewer", "accountant"},
              "township": {"township_auditor"}}


# ---------------------------------------------------------------- county policy


def policy_of(county_id: int) -> SpendingPolicy:
    """The county's row, or an unsaved one with the defaults."""
    row = db.session.scalar(sa.select(SpendingPolicy).where(SpendingPolicy.county_id == county_id))
    if row is not None:
        return row
    cols = SpendingPolicy.__table__.c
    return SpendingPolicy(county_id=county_id, **{k: cols[k].default.arg for k in (
        "finance_group_above", "meeting_above", "township_review", "cash_payment_limit", "request_required_above")})


def policy_for(org: Organization) -> SpendingPolicy:
    return policy_of(org.township.county_id)


def set_policy(county: County, *, user: User, **values) -> SpendingPolicy:
    access.require_county_admin(user, county.id)
    if values["meeting_above"] < values["finance_group_above"]:
        raise ValidationFailed.field("meeting_above", "大会审议的金额起点不能低于民主理财小组审核的起点")
    db.session.execute(sa.select(County.id).where(County.id == county.id).with_for_update())
    row = db.session.scalar(sa.select(SpendingPolicy).where(SpendingPolicy.county_id == county.id))
    if row is None:
        row = SpendingPolicy(county_id=county.id)
        db.session.add(row)
    before = {k: str(getattr(row, k)) for k in values} if row.id else None
    for k, v in values.items():
        setattr(row, k, v)
    db.session.flush()
    audit.log("spending.policy", user=user, target=str(county.id), before=before, after={k: str(v) for k, v in values.items()})
    return row


def chain_for(policy: SpendingPolicy, amount: Decimal) -> list[str]:
    """村负责人 always; + 民主理财小组 above A; + the meeting record above B; + the township's 审核 if the county wants it."""
    steps = ["head"]
    if amount > policy.finance_group_above:
        steps.append("finance_group")
    if amount > policy.meeting_above:
        steps.append("meeting")
    if policy.township_review:
        steps.append("township")
    return steps


# ---------------------------------------------------------------- requests and scans


def get_request(org: Organization, request_id: int) -> SpendingRequest:
    r = db.session.get(SpendingRequest, request_id)
    if r is None or r.organization_id != org.id:
        raise NotFound("找不到该报账单")
    return r


def _check_scan(filename: str, content_type: str | None, data: bytes) -> tuple[str, str]:
    name = attachments._safe_filename(filename)
    ctype = attachments._normalise_type(name, content_type)
    if not data:
        raise ValidationFailed.field("scans", "文件是空的，请重新选择")
    max_bytes = current_app.config["ATTACHMENT_MAX_BYTES"]
    if len(data) > max_bytes:
        raise ValidationFailed.field("scans", f"文件太大：{attachments.human_size(len(data))}，最大 {attachments.human_size(max_bytes)}")
    if ctype not in attachments.MAGIC or not data.startswith(attachments.MAGIC[ctype][0]):
        raise ValidationFailed.field("scans", f"{name}：只能上传 PDF、JPG 或 PNG 文件")
    return name, ctype


def _store_scan(org: Organization, data: bytes) -> tuple[str, str]:
    sha = hashlib.sha256(data).hexdigest()
    # kept apart from voucher attachments, whose files go when their last row goes
    stored = f"{org.id}/scan-{sha}"
    path = Path(current_app.config["ATTACHMENT_DIR"]) / stored
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".scan-{sha}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return sha, stored


def scan_bytes(scan: SpendingScan) -> bytes:
    return (Path(current_app.config["ATTACHMENT_DIR"]) / scan.stored_name).read_bytes()


def file_request(org: Organization, *, user: User, handler: str, purpose: str, payee: str, amount: Decimal,
                 category: str, spent_on: dt.date, payee_personal: bool = False,
                 scans: list[tuple[str, str | None, bytes]] = ()) -> SpendingRequest:
    """报账: the request with its invoice/receipt scans (filename, content type, bytes); the chain is fixed now."""
    access.require(user, access.SPEND_REQUEST, org)
    if category not in EXPENSE_ROLES:
        raise ValidationFailed.field("category", "支出类别不正确")
    if spent_on > clock.today():
        raise ValidationFailed.field("spent_on", "支出日期不能晚于今天")
    if not scans:
        raise ValidationFailed.field("scans", "请上传发票或收据的扫描件")
    checked = [(_check_scan(f, c, d), d) for f, c, d in scans]
    req = SpendingRequest(organization_id=org.id, requester_id=user.id, handler=handler.strip(), purpose=purpose.strip(),
                          payee=payee.strip(), payee_personal=payee_personal, amount=amount, category=category,
                          spent_on=spent_on, chain=",".join(chain_for(policy_for(org), amount)),
                          status=RequestStatus.PENDING)
    db.session.add(req)
    db.session.flush()
    for (name, ctype), data in checked:
        sha, stored = _store_scan(org, data)
        db.session.add(SpendingScan(request_id=req.id, filename=name, content_type=ctype, size=len(data), sha256=sha,
                                    stored_name=stored))
    db.session.flush()
    audit.log("spending.file", user=user, org=org, target=str(req.id), amount=format_plain(amount), chain=req.chain)
    return req


def next_step(req: SpendingRequest) -> str | None:
    done = {a.step for a in req.approvals}
    return next((s for s in req.steps if s not in done), None)


def _lock(req: SpendingRequest) -> SpendingRequest:
    """Re-read the request under a row lock: of two approvers at once the second waits, then sees the first's step."""
    row = db.session.execute(sa.select(SpendingRequest).where(SpendingRequest.id == req.id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one()
    db.session.expire(row, ["approvals"])
    return row


def decide(req: SpendingRequest, *, user: User, step: str, decision: str, reason: str | None = None,
           meeting_date: dt.date | None = None, record: str | None = None) -> SpendingRequest:
    """One step of the chain, in order. Nobody approves their own request; only the 民主理财小组 vetoes (with a
    reason); a rejection sends it back (with a reason); the meeting step needs its date and record."""
    org = db.session.get(Organization, req.organization_id)
    req = _lock(req)
    if req.status != RequestStatus.PENDING:
        raise InvalidState(f"报账单已{_status_word(req.status)}，不能再审批")
    expected = next_step(req)
    if step != expected:
        raise InvalidState(f"当前应由「{STEPS[expected]}」审批" if expected else "审批已完成")
    if not access.roles_on(user, org) & STEP_ROLES[step]:
        raise Forbidden(f"您不能进行「{STEPS[step]}」")
    if user.id == req.requester_id or user.display_name.strip() == req.handler:  # filed by them, or for them
        raise Forbidden("不能审批自己提出的报账")
    reason = (reason or "").strip() or None
    if decision == "veto" and step != "finance_group":
        raise ValidationFailed.field("decision", "只有民主理财小组可以否决")
    if decision in ("veto", "reject") and not reason:
        raise ValidationFailed.field("reason", "请写明否决或退回的理由")
    if step == "meeting" and decision == "approve":
        if meeting_date is None:
            raise ValidationFailed.field("meeting_date", "请填写成员（代表）大会或四议两公开的日期")
        if not (record or "").strip():
            raise ValidationFailed.field("record", "请填写会议记录（议题、参会人数、表决结果）")
        if meeting_date > clock.today():
            raise ValidationFailed.field("meeting_date", "会议日期不能晚于今天")
    db.session.add(SpendingApproval(request_id=req.id, step=step, decision=decision, user_id=user.id, reason=reason,
                                    meeting_date=meeting_date, record=(record or "").strip() or None))
    if decision == "veto":
        req.status = RequestStatus.VETOED
    elif decision == "reject":
        req.status = RequestStatus.REJECTED
    elif step == req.steps[-1]:
        req.status = RequestStatus.APPROVED
    db.session.flush()
    db.session.expire(req, ["approvals"])
    audit.log("spending.decide", user=user, org=org, target=str(req.id), step=step, decision=decision, reason=reason)
    return req


def _status_word(status: str) -> str:
    return {RequestStatus.APPROVED: "批准", RequestStatus.VETOED: "被否决", RequestStatus.REJECTED: "退回",
            RequestStatus.VOUCHERED: "生成凭证"}.get(status, status)


def to_voucher(req: SpendingRequest, *, user: User, date: dt.date, pay_from: str) -> Voucher:
    """The approved request as a voucher draft: Dr the category's expense role / Cr the chosen cash or bank leaf,
    with the request's scans attached. Once only (the request row is locked)."""
    org = db.session.get(Organization, req.organization_id)
    access.require(user, access.PREPARE, org)
    req = _lock(req)
    if req.status != RequestStatus.APPROVED:
        raise InvalidState("只有已批准的报账单可以生成凭证" if req.status != RequestStatus.VOUCHERED else "该报账单已生成凭证")
    expense = roles.resolve(org, req.category, field="category")
    money = roles.resolve_money(org, pay_from, field="pay_from")
    summary = f"报账：{req.purpose}（{req.payee}）"[:200]
    entry = Entry(date, summary, (Line(expense, req.amount, ZERO, summary), Line(money, ZERO, req.amount, summary)))
    v = vouchers.write_for(org, entry, user=user, attachments=len(req.scans))
    for scan in req.scans:
        attachments.add_attachment(v, scan.filename, scan.content_type, scan_bytes(scan), user=user)
    req.status, req.voucher_id = RequestStatus.VOUCHERED, v.id
    db.session.flush()
    audit.log("spending.voucher", user=user, org=org, target=str(req.id), voucher=v.id)
    return v


def list_requests(org: Organization, status: str | None = None) -> list[SpendingRequest]:
    q = sa.select(SpendingRequest).where(SpendingRequest.organization_id == org.id)
    if status:
        q = q.where(SpendingRequest.status == status)
    return list(db.session.scalars(q.order_by(SpendingRequest.id.desc())))


def category_label(key: str) -> str:
    return ROLE_BY_KEY[key].label


def township_queue(user: User) -> list[tuple[Organization, SpendingRequest]]:
    """Requests of the user's villages waiting for the township's 代理中心 审核, oldest first."""
    # only where they read the books: a village where the user is just a member shows them their household alone
    orgs = {o.id: o for o in access.visible_orgs(user) if access.can(user, access.READ_LEDGER, o)}
    if not orgs:
        return []
    pending = db.session.scalars(sa.select(SpendingRequest).where(
        SpendingRequest.organization_id.in_(orgs), SpendingRequest.status == RequestStatus.PENDING)
        .order_by(SpendingRequest.created_at, SpendingRequest.id))
    return [(orgs[r.organization_id], r) for r in pending if next_step(r) == "township"]
