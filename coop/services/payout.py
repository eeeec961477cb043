"""分红代发 (RULES §15): the paying bank's batch file for a plan's unpaid households, the import of the bank's result,
one payment voucher for what was paid (through services.distribution.pay_dividends, so its checks apply), the
failures left unpaid with the bank's reason. A batch in flight holds its households: a second batch for any of them
is refused."""
from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from coop.core.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.ledger import codes
from coop.ledger.roles import BANK, ROLE_BY_KEY
from coop.models import DistributionPlan, Household, Member, Organization, User, Voucher
from coop.models.cash import HouseholdBankAccount, PayoutBatch, PayoutItem, PayoutItemStatus, PayoutStatus
from coop.models.distribution import PlanStatus
from coop.core.money import ZERO, format_plain
from coop.services import access, audit, distribution, roles
from coop.services.bank import _amount, read_rows

#: the batch file's columns (the bank's 代发 template); the result file repeats them and adds the last two
COLUMNS = ("序号", "户号", "户主", "身份证号", "卡号", "金额")
RESULT_COLUMNS = ("处理结果", "失败原因")
PAID_WORDS = ("成功", "已入账", "success", "ok")
#: a negated success (交易不成功, 未成功, unsuccessful) contains a success word: these are read first
FAILED_WORDS = ("失败", "fail", "failed", "不成功", "未成功", "没有成功", "unsuccess", "not success")


def set_household_account(org: Organization, *, user: User, household_id: int, bank_name: str,
                          account_no: str) -> HouseholdBankAccount:
    access.require(user, access.CASHIER, org)
    hh = db.session.get(Household, household_id)
    if hh is None or hh.organization_id != org.id:
        raise ValidationFailed.field("household_id", "找不到该户")
    row = db.session.scalar(sa.select(HouseholdBankAccount).where(HouseholdBankAccount.household_id == hh.id)
                            .with_for_update())
    if row is None:
        row = HouseholdBankAccount(organization_id=org.id, household_id=hh.id, bank_name=bank_name, account_no=account_no)
        db.session.add(row)
    else:
        row.bank_name, row.account_no = bank_name, account_no
    db.session.flush()
    audit.log("payout.account", user=user, org=org, target=str(hh.id), bank=bank_name, account=account_no[-4:])
    return row


def get_batch(org: Organization, batch_id: int) -> PayoutBatch:
    b = db.session.get(PayoutBatch, batch_id)
    if b is None or b.organization_id != org.id:
        raise NotFound("找不到该代发批次")
    return b


def _plan(org: Organization, plan_id: int, *, lock: bool = False) -> DistributionPlan:
    q = sa.select(DistributionPlan).where(DistributionPlan.id == plan_id, DistributionPlan.organization_id == org.id)
    plan = db.session.scalar(q.with_for_update() if lock else q)
    if plan is None:
        raise ValidationFailed.field("plan_id", "找不到该分配方案")
    return plan


def create_batch(org: Organization, *, user: User, plan_id: int, pay_from: str,
                 household_ids: list[int] | None = None) -> PayoutBatch:
    """A batch of the plan's unpaid households that have a card on file (all of them, or those chosen). A chosen
    household already in a batch in flight is refused, naming it."""
    access.require(user, access.CASHIER, org)
    plan = _plan(org, plan_id, lock=True)  # two batches at once: the second waits, then sees the first's households
    if plan.status != PlanStatus.POSTED:
        raise InvalidState("方案尚未记账，不能代发")
    leaf = roles.resolve_money(org, pay_from, field="pay_from")
    if not codes.under(leaf, ROLE_BY_KEY[BANK].top):  # 代发 pays from a bank account
        raise ValidationFailed.field("pay_from", "代发应从银行存款科目支付")
    in_flight = set(db.session.scalars(sa.select(PayoutItem.household_id).join(PayoutBatch).where(
        PayoutBatch.plan_id == plan.id, PayoutItem.in_flight.is_not(None))))
    if household_ids is not None:
        busy = sorted(set(household_ids) & in_flight)
        if busy:
            numbers = db.session.scalars(sa.select(Household.number).where(Household.id.in_(busy)).order_by(Household.number))
            raise InvalidState(f"户 {'、'.join(numbers)} 已在待回盘的代发批次中，不能重复代发")
    cards = dict(db.session.execute(sa.select(HouseholdBankAccount.household_id, HouseholdBankAccount.account_no)
                                    .where(HouseholdBankAccount.organization_id == org.id)).all())
    chosen = [s for s in distribution.dividend_status(plan)
              if s.unpaid > 0 and s.dividend.household_id not in in_flight
              and (household_ids is None or s.dividend.household_id in household_ids)]
    if not chosen:
        raise ValidationFailed.field("plan_id", "没有可代发的未发放分红")
    no_card = [s.dividend.household.number for s in chosen if s.dividend.household_id not in cards]
    if household_ids is not None and no_card:
        raise ValidationFailed.field("household_ids", f"户 {'、'.join(sorted(no_card))} 没有登记银行卡号")
    chosen = [s for s in chosen if s.dividend.household_id in cards]
    if not chosen:
        raise ValidationFailed.field("plan_id", "未发放分红的户都没有登记银行卡号")
    batch = PayoutBatch(organization_id=org.id, plan_id=plan.id, pay_from=leaf, status=PayoutStatus.EXPORTED,
                        created_by_id=user.id)
    db.session.add(batch)
    db.session.flush()
    chosen.sort(key=lambda s: s.dividend.household.number)
    for seq, s in enumerate(chosen, start=1):
        db.session.add(PayoutItem(batch_id=batch.id, seq=seq, dividend_id=s.dividend.id,
                                  household_id=s.dividend.household_id, in_flight=s.dividend.id, amount=s.unpaid,
                                  account_no=cards[s.dividend.household_id], status=PayoutItemStatus.PENDING))
    try:
        db.session.flush()
    except IntegrityError:  # in_flight is unique: the backstop behind the plan lock (the caller rolls back)
        raise InvalidState("有的户已在待回盘的代发批次中，不能重复代发") from None
    audit.log("payout.batch", user=user, org=org, target=str(batch.id), plan=plan.id, households=len(chosen),
              total=format_plain(sum((s.unpaid for s in chosen), ZERO)))
    return batch


def batch_rows(batch: PayoutBatch, *, user: User) -> list[list]:
    """The batch file's rows with the head's full 身份证号: only for the organization's own accountant or cashier
    (RULES §13; a township or county user holds neither role in a village)."""
    org = db.session.get(Organization, batch.organization_id)
    own = {r.role for r in user.roles if r.organization_id == org.id}
    if not own & {"accountant", "cashier"}:
        raise Forbidden("代发文件含完整身份证号，只有本组织的会计或出纳可以导出")
    heads = {hh.id: hh.head for hh in db.session.scalars(sa.select(Household).where(
        Household.id.in_([i.household_id for i in batch.items])))}
    rows = [list(COLUMNS)]
    for i in batch.items:
        head: Member | None = heads[i.household_id]
        rows.append([i.seq, db.session.get(Household, i.household_id).number, head.name if head else "",
                     head.id_number if head else "", i.account_no, f"{i.amount:.2f}"])
    audit.log("payout.export", user=user, org=org, target=str(batch.id))
    return rows


def import_result(batch: PayoutBatch, *, user: User, filename: str, data: bytes, date: dt.date) -> Voucher | None:
    """The bank's result: every row of the batch once, 成功 or 失败 (with the reason). The paid households get one
    payment voucher (draft) from pay_dividends; the failed stay unpaid with the reason. Once per file."""
    org = db.session.get(Organization, batch.organization_id)
    access.require(user, access.CASHIER, org)
    access.require(user, access.PREPARE, org)  # the payment voucher is drafted in the importer's name
    batch = db.session.execute(sa.select(PayoutBatch).where(PayoutBatch.id == batch.id).with_for_update()
                               .execution_options(populate_existing=True)).scalar_one()
    if batch.status != PayoutStatus.EXPORTED:
        raise InvalidState("该批次已回盘")
    # once per batch (its status, above); the same bytes may settle another batch of the same rows (a re-issue)
    sha = hashlib.sha256(data).hexdigest()
    rows = read_rows(filename, data)
    header_at = next((n for n, r in enumerate(rows) if "序号" in r), None)
    if header_at is None or any(c not in rows[header_at] for c in ("序号", "卡号", "金额", "处理结果")):
        raise ValidationFailed.field("file", "回盘文件应有「序号」「卡号」「金额」「处理结果」列（失败时另有「失败原因」）")
    h = rows[header_at]
    col = {k: h.index(k) for k in ("序号", "卡号", "金额", "处理结果")}
    reason_col = h.index("失败原因") if "失败原因" in h else None
    items = {i.seq: i for i in batch.items}
    seen: dict[int, tuple[str, str | None]] = {}
    errors = []
    for n, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        if not any(c.strip() for c in row):
            continue
        cell = lambda k: row[col[k]].strip() if col[k] < len(row) else ""  # noqa: E731
        seq_text = cell("序号").split(".")[0]
        item = items.get(int(seq_text)) if seq_text.isdecimal() else None  # isdigit() lets "²" through to int()
        if item is None or item.seq in seen:
            errors.append(f"第{n}行：序号「{cell('序号')}」不在本批次中或重复")
            continue
        if cell("卡号") != item.account_no or _amount(cell("金额")) != item.amount:
            errors.append(f"第{n}行：卡号或金额与代发文件不符")
            continue
        result = cell("处理结果").lower()
        reason = (row[reason_col].strip() if reason_col is not None and reason_col < len(row) else "") or None
        if any(w in result for w in FAILED_WORDS):
            seen[item.seq] = (PayoutItemStatus.FAILED, reason or "银行未说明原因")
        elif any(w in result for w in PAID_WORDS):
            seen[item.seq] = (PayoutItemStatus.PAID, None)
        else:
            errors.append(f"第{n}行：处理结果「{cell('处理结果')}」无法识别（应为成功或失败）")
    missing = sorted(set(items) - set(seen))
    if missing and not errors:
        errors.append(f"回盘文件缺少序号 {'、'.join(map(str, missing))}")
    if errors:
        raise ValidationFailed.field("file", "；".join(errors[:10]))
    plan = _plan(org, batch.plan_id, lock=True)  # what is unpaid is read under the plan's lock (pay_dividends')
    paid = [items[s] for s, (st, _) in sorted(seen.items()) if st == PayoutItemStatus.PAID]
    unpaid_now = {s.dividend.id: s.unpaid for s in distribution.dividend_status(plan)}
    changed = [i for i in paid if unpaid_now.get(i.dividend_id) != i.amount]
    if changed:
        raise InvalidState(f"序号 {'、'.join(str(i.seq) for i in changed)} 的未发放金额在导出后已变化，请核对后处理")
    voucher = None
    if paid:
        voucher = distribution.pay_dividends(plan, household_ids=[i.household_id for i in paid], date=date,
                                             pay_from=batch.pay_from, user=user, settling=batch.id)
    for seq, (status, reason) in seen.items():
        items[seq].status, items[seq].reason, items[seq].in_flight = status, reason, None
    batch.status, batch.result_sha256, batch.voucher_id = PayoutStatus.SETTLED, sha, voucher.id if voucher else None
    db.session.flush()
    audit.log("payout.result", user=user, org=org, target=str(batch.id), paid=len(paid),
              failed=len(seen) - len(paid), voucher=voucher.id if voucher else None)
    return voucher


def batches(org: Organization) -> list[PayoutBatch]:
    return list(db.session.scalars(sa.select(PayoutBatch).where(PayoutBatch.organization_id == org.id)
                                   .order_by(PayoutBatch.id.desc())))
