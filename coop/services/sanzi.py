"""三资台账 (RULES §14): contracts and their receivables, asset cards and monthly depreciation, resources, the
year-end inventory, and the 三色预警 rules over them.

Every voucher written here names posting roles (coop.ledger.roles, block "三资 (#21)") and goes through
services.vouchers.write_for: a draft in the acting user's name that the village's reviewer reviews (four eyes).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from coop.core import clock
from coop.core.errors import InvalidState, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.core.text import N_
from coop.ledger import assets as calc, codes, roles as R
from coop.ledger.roles import ROLE_BY_KEY
from coop.ledger.types import Entry, Line
from coop.models import (Asset, AssetWorkload, Contract, ContractInstalment, ContractReceipt, DepreciationLine,
                      DepreciationRun, Inventory, InventoryItem, Organization, Parcel, Township, User, Voucher)
from coop.models.assets import (ASSET_CATEGORIES, ASSET_SOURCES, ASSET_STATUSES, ASSET_USES, CONTRACT_KINDS,
                             DEMOCRATIC_KINDS, DEPRECIABLE, DEPRECIATION_METHODS, FREQUENCY_LABELS, INCOME_KINDS,
                             PARCEL_KINDS, PARCEL_STATUSES, AssetStatus, ContractStatus, InventoryStatus, ParcelStatus)
from coop.models.ledger import VoucherStatus
from coop.core.money import ZERO, format_plain
from coop.schemas.assets import AssetInSchema, ContractInSchema, ContractSchema, ParcelInSchema
from coop.services import access, audit, closing, periods, roles
from coop.services.vouchers import check_date, write_for
from coop.services.accounts import account_infos, chart
from coop.services.reports import leaf_balances
from coop.services.warnings import Warning, rule as warning_rule
from coop.services.imports import already_imported, file_key, lock_for_import

#: 民法典 art. 705: a lease (租赁) may not exceed 20 years; any contract over 30 years is flagged as over-long
LEASE_LEGAL_LIMIT_YEARS = 20
OVER_LONG_YEARS = 30
OVERDUE_YELLOW_DAYS, OVERDUE_RED_DAYS = 30, 90
EXPIRING_DAYS = 90
PUBLICITY_MIN_DAYS = 7


def _fail(errors: dict):
    raise ValidationFailed(next(iter(errors.values()))[0], errors)


def mask_id_no(number: str | None) -> str:
    """身份证号 or USCC as RULES §13 shows it to anyone but the organization's accountants: 520203********0033."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * (len(number) - 4) + number[-4:]
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def _county_id(org: Organization) -> int:
    return db.session.get(Township, org.township_id).county_id


# ================================================================ contracts


def create_contract(org: Organization, data: dict, *, user: User) -> Contract:
    """Register a contract (draft). `data` as ContractSchema loads it."""
    access.require(user, access.PREPARE, org)
    errors: dict = {}
    number = (data.get("number") or "").strip()
    if not number:
        errors["number"] = ["请填写合同编号"]
    elif db.session.scalar(sa.select(Contract.id).where(Contract.county_id == _county_id(org),
                                                        Contract.number == number)):
        errors["number"] = [f"合同编号 {number} 在本县已登记"]
    if data.get("kind") not in CONTRACT_KINDS:
        errors["kind"] = ["合同类型无效"]
    if not (data.get("counterparty") or "").strip():
        errors["counterparty"] = ["请填写对方单位或个人"]
    if data.get("frequency", "annual") not in calc.FREQUENCIES:
        errors["frequency"] = ["收款方式应为按年、按半年、按季或一次性"]
    start, end = data.get("start_date"), data.get("end_date")
    if not start or not end or end < start:
        errors["end_date"] = ["合同终止日不能早于起始日"]
    amount = data.get("annual_amount")
    if amount is None or amount < 0:
        errors["annual_amount"] = ["年租金（承包费）不能为负数"]
    step_rate = data.get("step_rate") or ZERO
    step_years = data.get("step_years") or 0
    if step_rate < 0 or step_years < 0 or (step_rate and not step_years):
        errors["step_years"] = ["递增须同时填写比例和间隔年数"]
    for key, model in (("parcel_id", Parcel), ("asset_id", Asset)):
        if data.get(key):
            obj = db.session.get(model, data[key])
            if obj is None or obj.organization_id != org.id:
                errors[key] = ["标的不存在"]
    income_account = (data.get("income_account") or "").strip() or None
    if income_account:
        try:
            roles.resolve(org, R.LEASE_INCOME, chosen=income_account, field="income_account")
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        _fail(errors)
    c = Contract(organization_id=org.id, county_id=_county_id(org), number=number, kind=data["kind"],
                 title=(data.get("title") or "").strip() or number, counterparty=data["counterparty"].strip(),
                 counterparty_id_no=(data.get("counterparty_id_no") or "").strip() or None,
                 object_desc=data.get("object_desc"), parcel_id=data.get("parcel_id"), asset_id=data.get("asset_id"),
                 start_date=start, end_date=end, annual_amount=amount, frequency=data.get("frequency", "annual"),
                 step_rate=step_rate, step_years=step_years, in_advance=data.get("in_advance", True),
                 deposit=data.get("deposit") or ZERO, appraisal=data.get("appraisal"),
                 low_price_reason=(data.get("low_price_reason") or "").strip() or None,
                 income_account=income_account, status=ContractStatus.DRAFT)
    db.session.add(c)
    db.session.flush()
    if data.get("democratic_date"):
        record_democracy(c, kind=data.get("democratic_kind") or "assembly", date=data["democratic_date"],
                         votes_for=data.get("votes_for"), votes_total=data.get("votes_total"),
                         publicity_days=data.get("publicity_days"), user=user)
    audit.log("contract.create", user=user, org=org, target=str(c.id))
    return c


def get_contract(org: Organization, contract_id: int) -> Contract:
    c = db.session.get(Contract, contract_id)
    if c is None or c.organization_id != org.id:
        raise NotFound("找不到该合同")
    return c


def list_contracts(org: Organization) -> list[Contract]:
    return list(db.session.scalars(sa.select(Contract).where(Contract.organization_id == org.id)
                                   .order_by(Contract.number)))


def record_democracy(contract: Contract, *, kind: str, date: dt.date, votes_for: int | None, votes_total: int | None,
                     publicity_days: int | None, user: User) -> Contract:
    """民主程序: 成员(代表)大会 or 四议两公开 — date, votes and 公示 days."""
    org = db.session.get(Organization, contract.organization_id)
    access.require(user, access.PREPARE, org)
    errors = {}
    if kind not in DEMOCRATIC_KINDS:
        errors["democratic_kind"] = ["民主程序应为成员（代表）大会或四议两公开"]
    if votes_total is not None and votes_for is not None and not (0 <= votes_for <= votes_total):
        errors["votes_for"] = ["赞成票数应在 0 与应到（实到）人数之间"]
    if publicity_days is not None and publicity_days < 0:
        errors["publicity_days"] = ["公示天数不能为负数"]
    if errors:
        _fail(errors)
    contract.democratic_kind, contract.democratic_date = kind, date
    contract.votes_for, contract.votes_total, contract.publicity_days = votes_for, votes_total, publicity_days
    db.session.flush()
    audit.log("contract.democracy", user=user, org=org, target=str(contract.id))
    return contract


def attach_scan(contract: Contract, filename: str, data: bytes, *, user: User) -> Contract:
    """The signed contract's scan (PDF/JPG/PNG, checked like voucher attachments), stored by content hash."""
    from flask import current_app

    from coop.services.attachments import _kind_of, store_blob

    org = db.session.get(Organization, contract.organization_id)
    access.require(user, access.PREPARE, org)
    if not data:
        raise ValidationFailed.field("file", "文件是空的，请重新选择")
    if len(data) > current_app.config["ATTACHMENT_MAX_BYTES"]:
        raise ValidationFailed.field("file", "文件太大")
    if _kind_of(data) is None:
        raise ValidationFailed.field("file", "只能上传 PDF、JPG 或 PNG 文件")
    stored, sha = store_blob(org, data)
    contract.scan_path, contract.scan_sha256 = stored, sha
    db.session.flush()
    audit.log("contract.scan", user=user, org=org, target=str(contract.id), sha256=sha, filename=filename)
    return contract


def contract_schedule(contract: Contract) -> list[calc.Instalment]:
    return calc.schedule(contract.start_date, contract.end_date + dt.timedelta(days=1), contract.annual_amount,
                         contract.frequency, step_pct=contract.step_rate * 100, step_years=contract.step_years,
                         in_advance=contract.in_advance)


def activate_contract(contract: Contract, *, user: User) -> Contract:
    """draft → effective: the payment schedule is fixed now."""
    org = db.session.get(Organization, contract.organization_id)
    access.require(user, access.PREPARE, org)
    _lock_contract(contract)
    if contract.status != ContractStatus.DRAFT:
        raise InvalidState("只有草稿合同可以生效")
    for i in contract_schedule(contract):
        contract.instalments.append(ContractInstalment(seq=i.seq, due_date=i.due_date, period_start=i.period_start,
                                                       period_end=i.period_end, amount=i.amount))
    contract.status = ContractStatus.EFFECTIVE
    db.session.flush()
    audit.log("contract.activate", user=user, org=org, target=str(contract.id))
    return contract


def terminate_contract(contract: Contract, *, on: dt.date, user: User) -> Contract:
    """终止: instalments due after `on` and not yet accrued are dropped from the schedule."""
    org = db.session.get(Organization, contract.organization_id)
    access.require(user, access.PREPARE, org)
    _lock_contract(contract)
    if contract.status != ContractStatus.EFFECTIVE:
        raise InvalidState("只有生效的合同可以终止")
    for i in list(contract.instalments):
        if i.due_date > on and i.accrual_voucher_id is None:
            contract.instalments.remove(i)
    contract.status, contract.terminated_on = ContractStatus.TERMINATED, on
    db.session.flush()
    audit.log("contract.terminate", user=user, org=org, target=str(contract.id), on=str(on))
    return contract


def _lock_contract(contract: Contract) -> None:
    db.session.execute(sa.select(Contract.id).where(Contract.id == contract.id).with_for_update())
    db.session.refresh(contract)


def accrue_due(org: Organization, *, on: dt.date | None = None, user: User) -> list[Voucher]:
    """On each due date an accrual (Dr 应收款—counterparty / Cr 经营收入—发包及租赁): one draft voucher per instalment
    due by `on` (default today, Beijing) that has none yet; run again, it writes nothing twice. Income-kind
    contracts only (发包, 租赁, 出让)."""
    access.require(user, access.PREPARE, org)
    on = on or clock.today()
    expire_contracts(org, on)  # the month-end job also moves contracts past their term to 到期
    rows = list(db.session.scalars(
        sa.select(ContractInstalment).join(Contract)
        .where(Contract.organization_id == org.id,
               Contract.status.in_((ContractStatus.EFFECTIVE, ContractStatus.EXPIRED, ContractStatus.TERMINATED)),
               Contract.kind.in_(INCOME_KINDS), ContractInstalment.due_date <= on,
               ContractInstalment.accrual_voucher_id.is_(None), ContractInstalment.amount > 0)
        .order_by(ContractInstalment.due_date, ContractInstalment.id).with_for_update()))
    if not rows:
        return []

    receivable = roles.resolve(org, R.RECEIVABLE)
    default_income = None
    entries = []

    # an instalment that fell due in a month already closed (a contract registered late) is accrued on the first
    # day of the first open month; its summary keeps the due date
    floor = dt.date(*periods.first_open(org), 1)
    contracts = {c.id: c for c in db.session.scalars(sa.select(Contract).where(
        Contract.id.in_({r.contract_id for r in rows})))}
    for inst in rows:
        c = contracts[inst.contract_id]
        if c.income_account:
            income = c.income_account
        else:
            default_income = default_income or roles.resolve(org, R.LEASE_INCOME)
            income = default_income
        summary = f"应收 {c.counterparty} {c.number} 第{inst.seq}期 {inst.period_start}至{inst.period_end - dt.timedelta(days=1)}"
        if inst.due_date < floor:
            summary += f"（{inst.due_date} 到期）"
        entry = Entry(max(inst.due_date, floor), summary, (Line(receivable, inst.amount, ZERO, summary, c.counterparty),
                                               Line(income, ZERO, inst.amount, summary)))
        entries.append(entry)
    out = _draft_many(org, entries, user=user)
    db.session.execute(  # one executemany, not an ORM flush of each instalment
        sa.update(ContractInstalment.__table__).where(ContractInstalment.__table__.c.id == sa.bindparam("iid"))
        .values(accrual_voucher_id=sa.bindparam("vid")), [{"iid": i.id, "vid": v.id} for i, v in zip(rows, out)])
    for inst in rows:
        db.session.expire(inst, ["accrual_voucher_id"])
    audit.log("contract.accrue", user=user, org=org, target=str(on), vouchers=len(out))
    return out


def _draft_many(org: Organization, entries: list[Entry], *, user: User) -> list[Voucher]:
    """services.vouchers.write_for for many entries at once (a month's accruals): the same checks (every entry
    against the chart, the date window, open months), drafts in `user`'s name, written with a few statements
    instead of ~8 per voucher. A county or township user falls back to write_for one by one (its own rules)."""
    from coop.ledger.validate import validate_lines
    from coop.models import VoucherLine
    from coop.models.base import utcnow

    if not entries:
        return []
    if not access.can(user, access.PREPARE, org):
        return [write_for(org, e, user=user) for e in entries]
    infos = account_infos(org)
    for e in entries:
        issues = validate_lines(list(e.lines), infos)
        if issues:
            raise ValidationFailed.from_issues(issues)
    for year, month in sorted({(e.date.year, e.date.month) for e in entries}):
        first = dt.date(year, month, 1)
        check_date(max(e.date for e in entries if (e.date.year, e.date.month) == (year, month)))
        periods.ensure_open(org, first)
    now = utcnow()
    rows = [dict(organization_id=org.id, date=e.date, year=e.date.year, month=e.date.month, word="记",
                 status=VoucherStatus.DRAFT, kind="normal", attachment_count=0, preparer_id=user.id, created_at=now,
                 updated_at=now) for e in entries]
    if db.session.get_bind().dialect.name == "postgresql":
        # ids taken from the sequence first: an INSERT … RETURNING in parameter order goes row by row there
        ids = list(db.session.scalars(sa.select(sa.func.nextval(sa.func.pg_get_serial_sequence("vouchers", "id")))
                                      .select_from(sa.func.generate_series(1, len(rows)))))
        db.session.execute(sa.insert(Voucher.__table__), [dict(r, id=i) for r, i in zip(rows, ids)])
    else:
        ids = list(db.session.scalars(sa.insert(Voucher).returning(Voucher.id, sort_by_parameter_order=True), rows))
    account_ids = chart(org).ids
    db.session.execute(sa.insert(VoucherLine.__table__), [
        dict(voucher_id=vid, seq=seq, summary=l.summary, account_id=account_ids[l.account_code], debit=l.debit,
             credit=l.credit, counterparty=l.counterparty)
        for vid, e in zip(ids, entries) for seq, l in enumerate(e.lines, start=1)])
    audit.log_many("voucher.prepare", user=user, org=org,
                   targets=[(str(i), {"kind": "normal", "for_village": False}) for i in ids])
    by_id = {v.id: v for v in db.session.scalars(sa.select(Voucher).where(Voucher.id.in_(ids)))}
    return [by_id[i] for i in ids]


def record_receipt(contract: Contract, *, date: dt.date, amount: Decimal, user: User,
                   bank_account: str | None = None) -> ContractReceipt:
    """A receipt against the contract's accrued instalments, oldest first (Dr 银行存款 / Cr 应收款—counterparty).
    Refused above what is accrued and unpaid."""
    org = db.session.get(Organization, contract.organization_id)
    access.require(user, access.PREPARE, org)
    if amount is None or amount <= 0:
        raise ValidationFailed.field("amount", "收款金额必须大于零")
    open_items = list(db.session.scalars(
        sa.select(ContractInstalment).where(ContractInstalment.contract_id == contract.id,
                                            ContractInstalment.accrual_voucher_id.is_not(None),
                                            ContractInstalment.received < ContractInstalment.amount)
        .order_by(ContractInstalment.due_date, ContractInstalment.seq).with_for_update()))
    unpaid = sum((i.amount - i.received for i in open_items), ZERO)
    if amount > unpaid:
        raise ValidationFailed.field("amount", f"收款 {format_plain(amount)} 超过已挂账未收的 {format_plain(unpaid)}")
    money = roles.resolve_money(org, bank_account, field="bank_account")
    receivable = roles.resolve(org, R.RECEIVABLE)

    summary = f"收到 {contract.counterparty} {contract.number} 承包（租赁）费"
    v = write_for(org, Entry(date, summary, (Line(money, amount, ZERO, summary),
                                             Line(receivable, ZERO, amount, summary, contract.counterparty))), user=user)
    for inst, part in calc.allocate_receipts([(i, i.amount - i.received) for i in open_items], amount):
        inst.received += part
    r = ContractReceipt(contract_id=contract.id, date=date, amount=amount, voucher_id=v.id)
    db.session.add(r)
    db.session.flush()
    audit.log("contract.receipt", user=user, org=org, target=str(contract.id), amount=format_plain(amount))
    return r


@dataclass
class AgeingRow:
    counterparty: str
    buckets: list[Decimal] = field(default_factory=lambda: [ZERO] * len(calc.AGEING_BUCKETS))

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


def ageing(org: Organization, on: dt.date | None = None) -> list[AgeingRow]:
    """Receivables ageing per counterparty: what is due and unpaid, by days overdue on `on`."""
    on = on or clock.today()
    rows: dict[str, AgeingRow] = {}
    q = (sa.select(Contract.counterparty, ContractInstalment.due_date, ContractInstalment.amount,
                   ContractInstalment.received).join(Contract)
         .where(Contract.organization_id == org.id, Contract.kind.in_(INCOME_KINDS),
                ContractInstalment.due_date <= on, ContractInstalment.received < ContractInstalment.amount))
    for who, due, amount, received in db.session.execute(q):
        row = rows.setdefault(who, AgeingRow(who))
        row.buckets[calc.ageing_bucket(due, on)] += amount - received
    return sorted(rows.values(), key=lambda r: (-r.total, r.counterparty))


def expire_contracts(org: Organization, on: dt.date | None = None) -> int:
    """effective → expired once the term has passed."""
    on = on or clock.today()
    n = db.session.execute(sa.update(Contract).where(Contract.organization_id == org.id,
                                                     Contract.status == ContractStatus.EFFECTIVE,
                                                     Contract.end_date < on).values(status=ContractStatus.EXPIRED)).rowcount
    return n


# ================================================================ asset cards


def _check_asset(org: Organization, data: dict) -> dict:
    errors: dict = {}
    if not (data.get("number") or "").strip():
        errors["number"] = ["请填写资产编号"]
    elif db.session.scalar(sa.select(Asset.id).where(Asset.organization_id == org.id,
                                                     Asset.number == data["number"].strip())):
        errors["number"] = [f"资产编号 {data['number']} 已登记"]
    if not (data.get("name") or "").strip():
        errors["name"] = ["请填写资产名称"]
    cat = data.get("category", "fixed")
    if cat not in ASSET_CATEGORIES:
        errors["category"] = ["资产类别无效"]
    if data.get("use", "admin") not in ASSET_USES:
        errors["use"] = ["用途应为生产、经营或管理"]
    if data.get("source", "built") not in ASSET_SOURCES:
        errors["source"] = ["来源无效"]
    elif data.get("source") in ("fiscal", "poverty") and not (data.get("source_ref") or "").strip():
        errors["source_ref"] = ["财政补助、扶贫/衔接资金形成的资产须填写资金文号或项目，以便追溯"]
    if data.get("cost") is None or data["cost"] < 0:
        errors["cost"] = ["原值不能为负数"]
    life = data.get("life_months") or 0
    if cat in DEPRECIABLE and life <= 0:
        errors["life_months"] = ["请填写使用年限（月）"]
    method = data.get("method") or "straight"
    if method not in DEPRECIATION_METHODS:
        errors["method"] = ["折旧方法应为年限平均法或工作量法"]
    elif method == "workload" and cat in DEPRECIABLE:
        # 工作量法 needs the total and its unit instead of a life in months
        errors.pop("life_months", None)
        if not data.get("total_workload") or data["total_workload"] <= 0:
            errors["total_workload"] = ["工作量法须填写预计总工作量（大于零）"]
        if not (data.get("workload_unit") or "").strip():
            errors["workload_unit"] = ["工作量法须填写工作量单位，如小时、公里、台班"]
    elif method == "workload":
        errors["method"] = ["只有固定资产和生产性生物资产计提折旧，不能选工作量法"]
    rate = data.get("residual_rate", Decimal("0.05"))
    if rate is None or not (0 <= rate < 1):
        errors["residual_rate"] = ["残值率应在 0 与 100% 之间"]
    opening = data.get("opening_depreciation") or ZERO
    if data.get("cost") is not None and rate is not None and 0 <= rate < 1 and not (
            ZERO <= opening <= calc.depreciable(data["cost"], rate)):
        errors["opening_depreciation"] = ["期初累计折旧应在 0 与应计折旧额之间"]
    if errors:
        _fail(errors)
    return errors


def register_asset(org: Organization, data: dict, *, user: User, voucher: Voucher | None = None) -> Asset:
    """A card for an asset acquired through `voucher` (a posted or draft voucher debiting 固定资产/生产性生物资产)
    or, without a voucher, an opening card (its cost and opening depreciation are already in the opening balances)."""
    access.require(user, access.PREPARE, org)
    _check_asset(org, data)
    method = data.get("method") or "straight"
    if voucher is not None:
        if voucher.organization_id != org.id:
            raise NotFound("找不到该凭证")
        cat = data.get("category", "fixed")
        if cat in _COST_ROLES:  # the voucher must have bought it: a debit to 固定资产 / 生产性生物资产 covering the cost
            top = ROLE_BY_KEY[_COST_ROLES[cat]].top
            debited = sum((l.debit for l in voucher.lines if codes.under(l.account.code, top)), ZERO)
            carded = sum((a.cost for a in db.session.scalars(sa.select(Asset).where(
                Asset.acquisition_voucher_id == voucher.id))), ZERO)
            if data["cost"] > debited - carded:
                raise ValidationFailed.field("voucher_id", f"凭证 {voucher.display_number or voucher.id} 借记"
                                                           f"{ASSET_CATEGORIES[cat]} {format_plain(debited)}，"
                                                           f"已建卡 {format_plain(carded)}，不足原值 {format_plain(data['cost'])}")
    a = Asset(organization_id=org.id, number=data["number"].strip(), name=data["name"].strip(),
              category=data.get("category", "fixed"), operating=data.get("operating", True), use=data.get("use", "admin"),
              source=data.get("source", "built"), source_ref=data.get("source_ref"), acquired_date=data["acquired_date"],
              cost=data["cost"], life_months=data.get("life_months") or 0,
              residual_rate=data.get("residual_rate", Decimal("0.05")), method=method,
              total_workload=data.get("total_workload") if method == "workload" else None,
              workload_unit=(data.get("workload_unit") or "").strip() or None if method == "workload" else None,
              opening_depreciation=data.get("opening_depreciation") or ZERO, location=data.get("location"),
              custodian=data.get("custodian"), status=data.get("status", AssetStatus.IN_USE),
              acquisition_voucher_id=voucher.id if voucher else None)
    db.session.add(a)
    db.session.flush()
    audit.log("asset.register", user=user, org=org, target=str(a.id))
    return a


def list_assets(org: Organization) -> list[Asset]:
    return list(db.session.scalars(sa.select(Asset).where(Asset.organization_id == org.id).order_by(Asset.number)))


def get_asset(org: Organization, asset_id: int) -> Asset:
    a = db.session.get(Asset, asset_id)
    if a is None or a.organization_id != org.id:
        raise NotFound("找不到该资产")
    return a


def _depreciated(org: Organization, *, posted_only: bool = False) -> dict[int, Decimal]:
    """asset id → depreciation charged by the runs (all runs, or only those whose voucher is posted)."""
    q = (sa.select(DepreciationLine.asset_id, sa.func.sum(sa.type_coerce(DepreciationLine.amount, sa.BigInteger)))
         .join(DepreciationRun).where(DepreciationRun.organization_id == org.id).group_by(DepreciationLine.asset_id))
    if posted_only:
        q = q.join(Voucher, Voucher.id == DepreciationRun.voucher_id).where(Voucher.status == VoucherStatus.POSTED)
    return {aid: Decimal(fen) / 100 for aid, fen in db.session.execute(q)}


def accumulated(asset: Asset) -> Decimal:
    org = db.session.get(Organization, asset.organization_id)
    return asset.opening_depreciation + _depreciated(org).get(asset.id, ZERO)


#: asset use → expense role of its depreciation; category → contra role
_USE_ROLES = {"production": R.PRODUCTION_COST, "operating": R.OPERATING_EXPENSE, "admin": R.ADMIN_EXPENSE}
_CONTRA_ROLES = {"fixed": R.ACCUMULATED_DEPRECIATION, "productive_bio": R.BIO_DEPRECIATION}
_COST_ROLES = {"fixed": R.FIXED_ASSETS, "productive_bio": R.BIO_ASSETS}


def _workload_sums(org: Organization, *, before: tuple[int, int] | None = None) -> dict[int, Decimal]:
    """asset id → workload recorded (all months, or only the months before (year, month))."""
    q = (sa.select(AssetWorkload.asset_id, sa.func.sum(sa.type_coerce(AssetWorkload.quantity, sa.BigInteger)))
         .where(AssetWorkload.organization_id == org.id).group_by(AssetWorkload.asset_id))
    if before is not None:
        q = q.where(AssetWorkload.year * 12 + AssetWorkload.month < before[0] * 12 + before[1])
    return {aid: (Decimal(n) / 10000).quantize(Decimal("0.0001")) for aid, n in db.session.execute(q)}


def used_workload(asset: Asset) -> Decimal | None:
    """工作量法: the workload recorded so far (None for 年限平均法)."""
    if asset.method != "workload":
        return None
    org = db.session.get(Organization, asset.organization_id)
    return _workload_sums(org).get(asset.id, Decimal("0.0000"))


def month_workloads(org: Organization, year: int, month: int) -> dict[int, Decimal]:
    """asset id → the month's recorded 实际工作量."""
    return dict(db.session.execute(sa.select(AssetWorkload.asset_id, AssetWorkload.quantity).where(
        AssetWorkload.organization_id == org.id, AssetWorkload.year == year, AssetWorkload.month == month)).all())


@dataclass
class PreviewLine:
    asset: Asset
    charge: Decimal
    #: 工作量法: the month's workload, None when none is recorded
    workload: Decimal | None = None


@dataclass
class DepreciationSheet:
    """A month's depreciation before (or after) its run: every asset it charges, and every 工作量法 asset that is
    due in the month, charged or not; `missing` are those without a workload (they charge nothing)."""
    year: int
    month: int
    lines: list[PreviewLine]
    run: DepreciationRun | None = None

    @property
    def missing(self) -> list[Asset]:
        return [l.asset for l in self.lines if l.asset.method == "workload" and l.workload is None]

    @property
    def total(self) -> Decimal:
        return sum((l.charge for l in self.lines), ZERO)


def _month_lines(org: Organization, year: int, month: int) -> list[PreviewLine]:
    done = _depreciated(org)
    used = _workload_sums(org, before=(year, month))
    this = month_workloads(org, year, month)
    out = []
    for a in db.session.scalars(sa.select(Asset).where(
            Asset.organization_id == org.id, Asset.category.in_(DEPRECIABLE),
            Asset.disposed_date.is_(None)).order_by(Asset.number)):  # disposal takes the card out
        acc = a.opening_depreciation + done.get(a.id, ZERO)
        if a.method == "workload":
            first = calc.first_depreciation_month(a.acquired_date)
            if (not a.total_workload or acc >= calc.depreciable(a.cost, a.residual_rate)
                    or calc.month_index(year, month) < calc.month_index(*first)):
                continue  # not due this month: before its first month, or fully depreciated
            w = this.get(a.id)
            charge = calc.workload_depreciation_for_month(a.cost, a.residual_rate, a.total_workload, a.acquired_date,
                                                          used.get(a.id, ZERO), w or ZERO, acc, year, month)
            out.append(PreviewLine(a, charge, w))
            continue
        charge = calc.depreciation_for_month(a.cost, a.residual_rate, a.life_months, a.acquired_date, acc, year,
                                             month)
        if charge > 0:
            out.append(PreviewLine(a, charge))
    return out


def depreciation_preview(org: Organization, year: int, month: int) -> list[tuple[Asset, Decimal]]:
    """(asset, charge) of every asset depreciating in the month (年限平均法, and 工作量法 by the month's recorded
    workload), before any run is written."""
    return [(l.asset, l.charge) for l in _month_lines(org, year, month) if l.charge > 0]


def depreciation_sheet(org: Organization, year: int, month: int) -> DepreciationSheet:
    """The month as the depreciation page shows it: once run, the run's own lines (with the workloads recorded);
    before, the preview, with the 工作量法 assets still missing their workload."""
    run = depreciation_run(org, year, month)
    if run is None:
        return DepreciationSheet(year, month, _month_lines(org, year, month))
    this = month_workloads(org, year, month)
    lines = sorted((PreviewLine(db.session.get(Asset, l.asset_id), l.amount, this.get(l.asset_id)) for l in run.lines),
                   key=lambda l: l.asset.number)
    return DepreciationSheet(year, month, lines, run)


def record_workloads(org: Organization, year: int, month: int, workloads: list[dict], *, user: User) -> int:
    """实际工作量 of 工作量法 assets for the month ({asset_id, quantity}; zero allowed; a second record of an asset
    replaces the first). Only while the month's depreciation is not run and the month is open. Under the lock the
    depreciation run takes, so a run never reads half of a month's records. Returns how many were recorded."""
    access.require(user, access.PREPARE, org)
    db.session.execute(sa.select(Organization.id).where(Organization.id == org.id).with_for_update())
    if depreciation_run(org, year, month) is not None:
        raise InvalidState(f"{year}年{month}月折旧已计提，不能再修改该月工作量")
    later = db.session.execute(sa.select(DepreciationRun.year, DepreciationRun.month).where(
        DepreciationRun.organization_id == org.id,
        DepreciationRun.year * 12 + DepreciationRun.month > year * 12 + month)
        .order_by(DepreciationRun.year, DepreciationRun.month).limit(1)).first()
    if later is not None:  # a later run counted the workload used before it; it must not change behind it
        raise InvalidState(f"{later.year}年{later.month}月折旧已计提，不能再登记此前月份的工作量")
    last_day = calc.add_months(dt.date(year, month, 1), 1) - dt.timedelta(days=1)
    today = clock.today()
    if calc.month_index(year, month) > calc.month_index(today.year, today.month):
        raise ValidationFailed.field("month", f"{year}年{month}月尚未到来，不能登记工作量")
    periods.ensure_open(org, last_day, path="month")
    errors: dict = {}
    first = ""
    seen: set[int] = set()
    rows: list[tuple[Asset, Decimal]] = []
    for i, item in enumerate(workloads):
        a = db.session.get(Asset, item["asset_id"])
        key, problem = "asset_id", None
        if a is None or a.organization_id != org.id:
            problem = "找不到该资产"
        elif a.id in seen:
            problem = f"资产 {a.number} 重复填写"
        elif a.method != "workload":
            problem = f"资产 {a.number} 按年限平均法折旧，不登记工作量"
        elif a.disposed_date is not None:
            problem = f"资产 {a.number} 已于 {a.disposed_date} 处置"
        elif calc.month_index(year, month) < calc.month_index(*calc.first_depreciation_month(a.acquired_date)):
            problem = f"资产 {a.number} 于 {a.acquired_date} 取得，当月不提折旧，从次月起登记工作量"
        elif item["quantity"] < 0:
            key, problem = "quantity", "实际工作量不能为负数"
        if problem:
            errors.setdefault("workloads", {})[i] = {key: [problem]}
            first = first or problem
            continue
        seen.add(a.id)
        rows.append((a, item["quantity"]))
    if errors:
        raise ValidationFailed(first, errors)
    existing = {w.asset_id: w for w in db.session.scalars(sa.select(AssetWorkload).where(
        AssetWorkload.organization_id == org.id, AssetWorkload.year == year, AssetWorkload.month == month,
        AssetWorkload.asset_id.in_([a.id for a, _ in rows])))}
    for a, q in rows:
        if a.id in existing:
            existing[a.id].quantity = q
        else:
            db.session.add(AssetWorkload(organization_id=org.id, asset_id=a.id, year=year, month=month, quantity=q))
    db.session.flush()
    audit.log("asset.workload", user=user, org=org, target=f"{year}-{month:02d}",
              workloads={a.number: str(q) for a, q in rows})
    return len(rows)


def depreciation_run(org: Organization, year: int, month: int) -> DepreciationRun | None:
    return db.session.scalar(sa.select(DepreciationRun).where(
        DepreciationRun.organization_id == org.id, DepreciationRun.year == year, DepreciationRun.month == month))


def depreciate_month(org: Organization, year: int, month: int, user: User) -> DepreciationRun | None:
    """The month's depreciation as one voucher dated the month's last day (Dr 生产成本/经营支出/管理费用 by use /
    Cr 累计折旧 or 生产性生物资产累计折旧), a draft in `user`'s name to review. Idempotent per month: a second run
    for the month does nothing and returns the first. Nothing to charge, nothing written (None). The December
    sequence calls it before 损益结转."""
    # serialise two runs of one month on the organization row; the second then finds the first
    db.session.execute(sa.select(Organization.id).where(Organization.id == org.id).with_for_update())
    existing = depreciation_run(org, year, month)
    if existing is not None:
        return existing
    charges = depreciation_preview(org, year, month)
    if not charges:
        return None
    if not (access.can(user, access.PREPARE, org) or access.can(user, access.CLOSE, org)):
        access.require(user, access.PREPARE, org)
    date = calc.add_months(dt.date(year, month, 1), 1) - dt.timedelta(days=1)
    debit: dict[str, Decimal] = defaultdict(lambda: ZERO)
    credit: dict[str, Decimal] = defaultdict(lambda: ZERO)
    leaf: dict[str, str] = {}  # role → leaf, resolved once per run

    def resolved(key: str) -> str:
        if key not in leaf:
            leaf[key] = roles.resolve(org, key)
        return leaf[key]

    for a, charge in charges:
        debit[resolved(_USE_ROLES[a.use])] += charge
        credit[resolved(_CONTRA_ROLES[a.category])] += charge
    summary = f"计提{year}年{month}月折旧"
    lines = tuple([Line(c, amt, ZERO, summary) for c, amt in sorted(debit.items())]
                  + [Line(c, ZERO, amt, summary) for c, amt in sorted(credit.items())])

    v = write_for(org, Entry(date, summary, lines), user=user)
    run = DepreciationRun(organization_id=org.id, year=year, month=month, total=sum(debit.values(), ZERO),
                          voucher_id=v.id, lines=[DepreciationLine(asset_id=a.id, amount=c) for a, c in charges])
    db.session.add(run)
    db.session.flush()
    audit.log("asset.depreciate", user=user, org=org, target=f"{year}-{month:02d}", total=format_plain(run.total))
    return run


@closing.close_precondition
def _december_depreciation_pending(org: Organization, year: int, month: int) -> list[str]:
    """The December sequence runs depreciation before 损益结转; a close must not skip it (RULES §4, §14)."""
    if month == 12 and depreciation_run(org, year, 12) is None and depreciation_preview(org, year, 12):
        return [N_("12月固定资产折旧尚未计提（先做损益结转，或在三资台账中计提折旧）")]
    return []


@closing.before_carryover
def _december_depreciation(org: Organization, year: int, user: User) -> None:
    depreciate_month(org, year, 12, user)  # December's depreciation comes before 损益结转 (RULES §14)


def dispose_asset(asset: Asset, *, date: dt.date, proceeds: Decimal = ZERO, user: User,
                  bank_account: str | None = None, reason: str = "") -> Voucher:
    """处置 (sale or scrapping) through 154 固定资产清理, in one voucher: Dr 154 net book value, Dr 累计折旧 / Cr 固定资产
    cost; Dr 银行存款 / Cr 154 proceeds; the net of 154 to 其他收入 (gain) or 其他支出 (loss), leaving 154 at zero.
    The card's depreciation for the disposal month must be run first (当月减少当月照提)."""
    org = db.session.get(Organization, asset.organization_id)
    access.require(user, access.PREPARE, org)
    # the depreciation run's lock first: what is depreciated so far (and the month's workload) cannot change under us
    db.session.execute(sa.select(Organization.id).where(Organization.id == org.id).with_for_update())
    db.session.execute(sa.select(Asset.id).where(Asset.id == asset.id).with_for_update())
    db.session.refresh(asset)
    if asset.disposed_date is not None:
        raise InvalidState(f"资产 {asset.number} 已于 {asset.disposed_date} 处置")
    if asset.category not in _COST_ROLES:
        raise InvalidState("只有固定资产和生产性生物资产通过固定资产清理处置")
    if proceeds < 0:
        raise ValidationFailed.field("proceeds", "处置收入不能为负数")
    if date < asset.acquired_date:
        raise ValidationFailed.field("date", "处置日期早于取得日期")
    acc = accumulated(asset)
    due = ([l for l in _month_lines(org, date.year, date.month) if l.asset.id == asset.id]
           if asset.category in DEPRECIABLE and depreciation_run(org, date.year, date.month) is None else [])
    if any(l.asset.method == "workload" and l.workload is None for l in due):
        # 工作量法: the month's charge is its hours; once disposed the card records none, so they are asked for now
        raise ValidationFailed.field("date", f"请先登记{date.year}年{date.month}月 {asset.number} 的实际工作量（未使用填0），"
                                             f"计提当月折旧后再处置")
    if any(l.charge > 0 for l in due):
        # 当月减少当月照提: disposed first, the card would leave the month's run and its charge land in 其他支出
        raise ValidationFailed.field("date", f"请先计提{date.year}年{date.month}月折旧（当月减少的资产当月照提），再处置")
    nbv = asset.cost - acc
    clearing = roles.resolve(org, R.ASSET_CLEARING)
    summary = f"处置 {asset.number} {asset.name}" + (f"（{reason.strip()}）" if reason.strip() else "")
    lines = []
    if nbv:
        lines.append(Line(clearing, nbv, ZERO, summary))
    if acc:
        lines.append(Line(roles.resolve(org, _CONTRA_ROLES[asset.category]), acc, ZERO, summary))
    lines.append(Line(roles.resolve(org, _COST_ROLES[asset.category]), ZERO, asset.cost, summary))
    if proceeds:
        lines.append(Line(roles.resolve_money(org, bank_account), proceeds, ZERO, summary))
        lines.append(Line(clearing, ZERO, proceeds, summary))
    net = proceeds - nbv
    if net > 0:
        lines += [Line(clearing, net, ZERO, summary), Line(roles.resolve(org, R.OTHER_INCOME), ZERO, net, summary)]
    elif net < 0:
        lines += [Line(roles.resolve(org, R.OTHER_EXPENSE), -net, ZERO, summary), Line(clearing, ZERO, -net, summary)]

    v = write_for(org, Entry(date, summary, tuple(lines)), user=user)
    asset.disposed_date, asset.disposal_voucher_id, asset.status = date, v.id, AssetStatus.DISPOSED
    db.session.flush()
    audit.log("asset.dispose", user=user, org=org, target=str(asset.id), proceeds=format_plain(proceeds))
    return v


@dataclass
class Reconciliation:
    category: str
    card_cost: Decimal
    ledger_cost: Decimal
    card_depreciation: Decimal
    ledger_depreciation: Decimal

    @property
    def ok(self) -> bool:
        return self.card_cost == self.ledger_cost and self.card_depreciation == self.ledger_depreciation


def reconcile(org: Organization, on: dt.date | None = None) -> list[Reconciliation]:
    """Card values against the 151/152 (and 132/133) balances of posted vouchers: cards count posted depreciation
    runs, and assets whose disposal is posted are out."""
    on = on or clock.today()
    balances = leaf_balances(org, until=on)
    done = _depreciated(org, posted_only=True)
    posted = set(db.session.scalars(sa.select(Voucher.id).where(Voucher.organization_id == org.id,
                                                                Voucher.status == VoucherStatus.POSTED)))
    out = []
    for cat in ("fixed", "productive_bio"):
        cost_top, dep_top = ROLE_BY_KEY[_COST_ROLES[cat]].top, ROLE_BY_KEY[_CONTRA_ROLES[cat]].top
        card_cost = card_dep = ZERO
        for a in db.session.scalars(sa.select(Asset).where(Asset.organization_id == org.id, Asset.category == cat,
                                                           Asset.acquired_date <= on)):
            if a.disposal_voucher_id in posted:
                continue
            card_cost += a.cost
            card_dep += a.opening_depreciation + done.get(a.id, ZERO)
        ledger_cost = sum((b for c, b in balances.items() if codes.under(c, cost_top)), ZERO)
        ledger_dep = -sum((b for c, b in balances.items() if codes.under(c, dep_top)), ZERO)
        if card_cost or ledger_cost or card_dep or ledger_dep:
            out.append(Reconciliation(cat, card_cost, ledger_cost, card_dep, ledger_dep))
    return out


# ================================================================ resources


def register_parcel(org: Organization, data: dict, *, user: User) -> Parcel:
    access.require(user, access.PREPARE, org)
    errors: dict = {}
    code = (data.get("code") or "").strip()
    if not code:
        errors["code"] = ["请填写地块编码"]
    elif db.session.scalar(sa.select(Parcel.id).where(Parcel.organization_id == org.id, Parcel.code == code)):
        errors["code"] = [f"地块编码 {code} 已登记"]
    if data.get("kind") not in PARCEL_KINDS:
        errors["kind"] = ["资源类型无效"]
    area = data.get("area")
    if area is None or area <= 0:
        errors["area"] = ["面积必须大于零"]
    elif area != area.quantize(Decimal("0.0001")):
        errors["area"] = ["面积最多保留4位小数（亩）"]
    if data.get("status", "collective") not in PARCEL_STATUSES:
        errors["status"] = ["经营状态无效"]
    if errors:
        _fail(errors)
    p = Parcel(organization_id=org.id, code=code, name=data.get("name"), kind=data["kind"], area=area,
               location=data.get("location"), east=data.get("east"), south=data.get("south"), west=data.get("west"),
               north=data.get("north"), status=data.get("status", ParcelStatus.COLLECTIVE), value=data.get("value"))
    db.session.add(p)
    db.session.flush()
    audit.log("parcel.register", user=user, org=org, target=str(p.id))
    return p


def list_parcels(org: Organization) -> list[Parcel]:
    return list(db.session.scalars(sa.select(Parcel).where(Parcel.organization_id == org.id).order_by(Parcel.code)))


def parcel_contract(parcel: Parcel) -> Contract | None:
    """The linked contract: the latest contract whose object is the parcel."""
    return db.session.scalar(sa.select(Contract).where(Contract.parcel_id == parcel.id)
                             .order_by(Contract.start_date.desc()).limit(1))


def resource_summary(org: Organization) -> dict[tuple[str, str], tuple[int, Decimal]]:
    """(kind, status) → (parcels, 亩)."""
    out: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for p in list_parcels(org):
        n, area = out.get((p.kind, p.status), (0, Decimal("0.0000")))
        out[(p.kind, p.status)] = (n + 1, area + p.area)
    return out


# ================================================================ year-end inventory


def start_inventory(org: Organization, year: int, *, user: User) -> Inventory:
    """The 清查 list at 31 December: every asset held and every parcel, uncounted."""
    access.require(user, access.PREPARE, org)
    if not 1990 <= year <= 2100:
        raise ValidationFailed.field("year", "年份应在1990到2100之间")
    if db.session.scalar(sa.select(Inventory.id).where(Inventory.organization_id == org.id, Inventory.year == year)):
        raise InvalidState(f"{year}年度资产清查已开始")
    end = dt.date(year, 12, 31)
    inv = Inventory(organization_id=org.id, year=year, status=InventoryStatus.COUNTING)
    for a in db.session.scalars(sa.select(Asset).where(
            Asset.organization_id == org.id, Asset.acquired_date <= end,
            sa.or_(Asset.disposed_date.is_(None), Asset.disposed_date > end)).order_by(Asset.number)):
        inv.items.append(InventoryItem(asset_id=a.id, description=f"{a.number} {a.name}",
                                       book_value=a.cost - accumulated(a)))
    for p in list_parcels(org):
        inv.items.append(InventoryItem(parcel_id=p.id, description=f"{p.code} {p.name or ''} {p.area}亩"))
    db.session.add(inv)
    db.session.flush()
    audit.log("inventory.start", user=user, org=org, target=str(year))
    return inv


def get_inventory(org: Organization, year: int) -> Inventory:
    inv = db.session.scalar(sa.select(Inventory).where(Inventory.organization_id == org.id, Inventory.year == year))
    if inv is None:
        raise NotFound(f"{year}年度资产清查尚未开始")
    return inv


def get_inventory_item(inventory: Inventory, item_id: int) -> InventoryItem:
    item = db.session.get(InventoryItem, item_id)
    if item is None or item.inventory_id != inventory.id:
        raise NotFound("找不到该清查项目")
    return item


def count_item(item: InventoryItem, *, result: str, counted_value: Decimal | None = None, note: str | None = None,
               user: User) -> InventoryItem:
    org = db.session.get(Organization, item.inventory.organization_id)
    access.require(user, access.PREPARE, org)
    if item.inventory.status != InventoryStatus.COUNTING:
        raise InvalidState("清查已过账，不能再修改")
    if result not in ("present", "missing", "surplus"):
        raise ValidationFailed.field("result", "清查结果应为账实相符、盘亏或盘盈")
    if result == "surplus" and (counted_value is None or counted_value <= 0):
        raise ValidationFailed.field("counted_value", "盘盈须填写估价")
    item.result, item.counted_value, item.note = result, counted_value, note
    db.session.flush()
    return item


def add_surplus(inventory: Inventory, *, description: str, value: Decimal, user: User) -> InventoryItem:
    """An asset found that has no card (盘盈)."""
    item = InventoryItem(description=description, book_value=ZERO)
    inventory.items.append(item)
    db.session.flush()
    return count_item(item, result="surplus", counted_value=value, user=user)


def post_inventory(inventory: Inventory, *, user: User) -> Voucher | None:
    """Every item counted: 盘亏 of an asset (Dr 待处理财产损溢 net value, Dr 累计折旧 / Cr 固定资产) and 盘盈
    (Dr 固定资产 / Cr 待处理财产损溢) in one voucher dated 31 December, a draft to review."""
    org = db.session.get(Organization, inventory.organization_id)
    access.require(user, access.PREPARE, org)
    # a second posting at once waits here, then sees it posted (one 盘盈/盘亏 voucher)
    inventory = db.session.execute(sa.select(Inventory).where(Inventory.id == inventory.id).with_for_update()
                                   .execution_options(populate_existing=True)).scalar_one()
    if inventory.status != InventoryStatus.COUNTING:
        raise InvalidState("清查已过账")
    uncounted = [i.description for i in inventory.items if i.result is None]
    if uncounted:
        raise ValidationFailed.field("items", f"还有 {len(uncounted)} 项未清点：{uncounted[0]}……")
    date = dt.date(inventory.year, 12, 31)
    pending = roles.resolve(org, R.PENDING_GAINS_LOSSES)
    lines = []
    for i in inventory.items:
        if i.result == "missing" and i.asset_id:
            # locked and read fresh, as dispose_asset does: a disposal at the same moment waits or is seen here
            a = db.session.get(Asset, i.asset_id, with_for_update=True, populate_existing=True)
            if a.disposed_date is not None:  # sold or scrapped since the list was made: already out of the books
                raise ValidationFailed.field("items", f"{i.description} 已于 {a.disposed_date} 处置，不能再作盘亏")
            if a.category not in _COST_ROLES:
                continue
            acc, summary = accumulated(a), f"盘亏 {i.description}"
            if a.cost - acc:
                lines.append(Line(pending, a.cost - acc, ZERO, summary))
            if acc:
                lines.append(Line(roles.resolve(org, _CONTRA_ROLES[a.category]), acc, ZERO, summary))
            lines.append(Line(roles.resolve(org, _COST_ROLES[a.category]), ZERO, a.cost, summary))
            a.status, a.disposed_date = AssetStatus.DISPOSED, date
        elif i.result == "surplus" and i.counted_value:
            summary = f"盘盈 {i.description}"
            lines += [Line(roles.resolve(org, R.FIXED_ASSETS), i.counted_value, ZERO, summary),
                      Line(pending, ZERO, i.counted_value, summary)]
    v = None
    if lines:
        v = write_for(org, Entry(date, f"{inventory.year}年度资产清查盘盈盘亏", tuple(lines)), user=user)
        inventory.voucher_id = v.id
        for i in inventory.items:
            if i.result == "missing" and i.asset_id:
                db.session.get(Asset, i.asset_id).disposal_voucher_id = v.id
    inventory.status = InventoryStatus.POSTED
    db.session.flush()
    audit.log("inventory.post", user=user, org=org, target=str(inventory.year))
    return v


def publish_inventory(inventory: Inventory, *, publish_from: dt.date, publish_until: dt.date, user: User) -> Inventory:
    """公示 the list for at least 7 days."""
    org = db.session.get(Organization, inventory.organization_id)
    access.require(user, access.PREPARE, org)
    if inventory.status not in (InventoryStatus.POSTED, InventoryStatus.PUBLISHED):
        raise InvalidState("清查过账后才能公示")
    if (publish_until - publish_from).days + 1 < PUBLICITY_MIN_DAYS:
        raise ValidationFailed.field("publish_until", f"公示期不少于 {PUBLICITY_MIN_DAYS} 天")
    inventory.publish_from, inventory.publish_until, inventory.status = publish_from, publish_until, InventoryStatus.PUBLISHED
    db.session.flush()
    audit.log("inventory.publish", user=user, org=org, target=str(inventory.year))
    return inventory


# ================================================================ 三色预警


@warning_rule(80)
def warnings(org: Organization, today: dt.date) -> list:
    """The 三资 rules of 三色预警 (run by services.warnings.warnings_for)."""
    return [w for rule in RULES for w in rule(org, today)]


def _w(code, level, title, facts):
    return Warning(code, level, title, facts)


def _overdue(org: Organization, today: dt.date) -> list:
    red, yellow = [], []
    q = (sa.select(Contract.number, Contract.counterparty, ContractInstalment.seq, ContractInstalment.due_date,
                   ContractInstalment.amount, ContractInstalment.received).join(Contract)
         .where(Contract.organization_id == org.id, Contract.kind.in_(INCOME_KINDS),
                ContractInstalment.due_date < today - dt.timedelta(days=OVERDUE_YELLOW_DAYS),
                ContractInstalment.received < ContractInstalment.amount)
         .order_by(ContractInstalment.due_date))
    for number, who, seq, due, amount, received in db.session.execute(q):
        days = (today - due).days
        fact = N_("%(no)s %(who)s 第%(seq)s期 %(due)s 到期，欠 %(amount)s，逾期 %(days)s 天", no=number, who=who, seq=seq,
                  due=due, amount=format_plain(amount - received), days=days)
        (red if days > OVERDUE_RED_DAYS else yellow).append(fact)
    out = []
    if red:
        out.append(_w("contract_overdue_red", "red", N_("承包费（租金）逾期超过90天未收"), red))
    if yellow:
        out.append(_w("contract_overdue", "yellow", N_("承包费（租金）逾期未收"), yellow))
    return out


def _effective(org: Organization):
    return db.session.scalars(sa.select(Contract).where(Contract.organization_id == org.id,
                                                        Contract.status == ContractStatus.EFFECTIVE).order_by(Contract.number))


def _expiring(org: Organization, today: dt.date) -> list:
    facts = [N_("%(no)s %(who)s %(end)s 到期", no=c.number, who=c.counterparty, end=c.end_date)
             for c in _effective(org) if 0 <= (c.end_date - today).days <= EXPIRING_DAYS]
    return [_w("contract_expiring", "yellow", N_("合同90天内到期"), facts)] if facts else []


def term_years(c: Contract) -> Decimal:
    return Decimal(calc.months_between(c.start_date, c.end_date + dt.timedelta(days=1))) / 12


def _over_long(org: Organization, today: dt.date) -> list:
    facts = []
    for c in _effective(org):
        years = term_years(c)
        if years > OVER_LONG_YEARS or (c.kind == "lease" and years > LEASE_LEGAL_LIMIT_YEARS):
            facts.append(N_("%(no)s %(who)s 期限 %(years)s 年", no=c.number, who=c.counterparty,
                            years=format(years.normalize(), "f")))
    return [_w("contract_over_long", "red", N_("合同期限超过法定上限或30年"), facts)] if facts else []


def _no_democracy(org: Organization, today: dt.date) -> list:
    facts = [N_("%(no)s %(who)s", no=c.number, who=c.counterparty) for c in _effective(org)
             if c.kind in INCOME_KINDS and c.democratic_date is None]
    return [_w("contract_no_democracy", "red", N_("发包租赁合同无民主程序记录"), facts)] if facts else []


def _low_price(org: Organization, today: dt.date) -> list:
    facts = []
    for c in _effective(org):
        if c.kind not in INCOME_KINDS or c.low_price_reason:
            continue
        if c.annual_amount == 0 or (c.appraisal is not None and c.annual_amount < c.appraisal):
            facts.append(N_("%(no)s %(who)s 年租金 %(amount)s，评估价 %(appraisal)s", no=c.number, who=c.counterparty,
                            amount=format_plain(c.annual_amount),
                            appraisal=format_plain(c.appraisal) if c.appraisal is not None else "—"))
    return [_w("contract_low_price", "red", N_("零租金或低于评估价且未说明理由"), facts)] if facts else []


def _cards_vs_ledger(org: Organization, today: dt.date) -> list:
    facts = []
    for r in reconcile(org, today):
        if not r.ok:
            facts.append(N_("%(cat)s：卡片原值 %(cc)s，账面 %(lc)s；卡片累计折旧 %(cd)s，账面 %(ld)s",
                            cat=ASSET_CATEGORIES[r.category], cc=format_plain(r.card_cost), lc=format_plain(r.ledger_cost),
                            cd=format_plain(r.card_depreciation), ld=format_plain(r.ledger_depreciation)))
    return [_w("assets_unreconciled", "red", N_("资产卡片与总账不符"), facts)] if facts else []


RULES = (_overdue, _expiring, _over_long, _no_democracy, _low_price, _cards_vs_ledger)


# ================================================================ disclosure sheets (RULES §14: 资产, 资源, 合同)
# Registered into services.disclosure (BUILDERS, SHEET_KINDS): the same workflow, digest and member views as §10.


def _s(amount: Decimal) -> str:
    return f"{Decimal(amount):.2f}"


def _sheet_total(label: str, amount: Decimal) -> dict:
    from coop.core.numerals import amount_in_words

    return {"label": label, "amount": _s(amount), "words": amount_in_words(amount)}


def _assets_sheet(org: Organization, start: dt.date, end: dt.date) -> dict:
    """资产公开表: every asset held on the period's last day with cost, accumulated depreciation and net value
    (depreciation of posted runs up to that month), its source (traceable fiscal and poverty funds) and status."""
    done: dict[int, Decimal] = defaultdict(lambda: ZERO)
    q = (sa.select(DepreciationLine.asset_id, DepreciationLine.amount).join(DepreciationRun)
         .join(Voucher, Voucher.id == DepreciationRun.voucher_id)
         .where(DepreciationRun.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.date <= end))
    for aid, amount in db.session.execute(q):
        done[aid] += amount
    rows, cost_total, net_total = [], ZERO, ZERO
    for a in list_assets(org):
        if a.acquired_date > end or (a.disposed_date and a.disposed_date <= end):
            continue
        acc = a.opening_depreciation + done[a.id]
        cost_total += a.cost
        net_total += a.cost - acc
        source = ASSET_SOURCES[a.source] + (f"（{a.source_ref}）" if a.source_ref else "")
        rows.append([a.number, a.name, ASSET_CATEGORIES[a.category], a.acquired_date.isoformat(), _s(a.cost),
                     _s(acc), _s(a.cost - acc), source, ASSET_STATUSES[a.status]])
    return {"columns": [N_("资产编号"), N_("名称"), N_("类别"), N_("取得日期"), N_("原值"), N_("累计折旧"), N_("净值"),
                        N_("来源"), N_("状态")], "rows": rows,
            "totals": [_sheet_total(N_("原值合计"), cost_total), _sheet_total(N_("净值合计"), net_total)]}


def _resources_sheet(org: Organization, start: dt.date, end: dt.date) -> dict:
    """资源公开表: every parcel with kind, area, 四至, status and the contract it is let under."""
    rows = []
    for p in list_parcels(org):
        c = parcel_contract(p)
        rows.append([p.code, p.name or "", PARCEL_KINDS[p.kind], f"{p.area:.4f}",
                     f"东至{p.east or '—'} 南至{p.south or '—'} 西至{p.west or '—'} 北至{p.north or '—'}",
                     PARCEL_STATUSES[p.status], c.number if c else ""])
    return {"columns": [N_("地块编码"), N_("名称"), N_("类型"), N_("面积（亩）"), N_("四至"), N_("经营状态"), N_("合同")],
            "rows": rows, "totals": []}


def _contracts_sheet(org: Organization, start: dt.date, end: dt.date) -> dict:
    """发包租赁合同公开表: the income contracts in force during the period — counterparty, term, rent, 民主程序,
    what fell due by the period's end and what is unpaid (农经发〔2011〕13号: 逐项公开)."""
    rows, due_total, unpaid_total = [], ZERO, ZERO
    for c in list_contracts(org):
        if c.kind not in INCOME_KINDS or c.status == ContractStatus.DRAFT or c.start_date > end or c.end_date < start:
            continue
        due = sum((i.amount for i in c.instalments if i.due_date <= end), ZERO)
        received = sum((r.amount for r in db.session.scalars(sa.select(ContractReceipt).where(
            ContractReceipt.contract_id == c.id, ContractReceipt.date <= end))), ZERO)
        unpaid = max(due - received, ZERO)
        due_total += due
        unpaid_total += unpaid
        democracy = (f"{DEMOCRATIC_KINDS.get(c.democratic_kind, '')} {c.democratic_date}"
                     + (f" {c.votes_for}/{c.votes_total}" if c.votes_total else "")) if c.democratic_date else "无"
        rows.append([c.number, CONTRACT_KINDS[c.kind], c.counterparty, c.object_desc or "",
                     f"{c.start_date}至{c.end_date}", _s(c.annual_amount), democracy, _s(due), _s(unpaid)])
    return {"columns": [N_("合同编号"), N_("类型"), N_("对方"), N_("标的"), N_("期限"), N_("年租金"), N_("民主程序"),
                        N_("累计应收"), N_("欠款")], "rows": rows,
            "totals": [_sheet_total(N_("累计应收合计"), due_total), _sheet_total(N_("欠款合计"), unpaid_total)]}


SHEETS = {"sanzi_assets": _assets_sheet, "sanzi_resources": _resources_sheet, "sanzi_contracts": _contracts_sheet}
SHEET_TITLES = {"sanzi_assets": N_("资产公开表"), "sanzi_resources": N_("资源公开表"),
                "sanzi_contracts": N_("发包租赁合同公开表")}


# ================================================================ imports (xlsx; dry run; all or nothing, once)

#: kind → (audit action, column header → field); choice columns take the key or its Chinese label
IMPORT_COLUMNS: dict[str, dict[str, str]] = {
    "contracts": {"合同编号": "number", "合同类型": "kind", "合同名称": "title", "对方": "counterparty",
                  "证件号码": "counterparty_id_no", "标的": "object_desc", "起始日": "start_date", "终止日": "end_date",
                  "年租金": "annual_amount", "收款方式": "frequency", "递增比例": "step_rate", "递增间隔年": "step_years",
                  "保证金": "deposit", "评估价": "appraisal", "低价理由": "low_price_reason",
                  "民主程序": "democratic_kind", "表决日期": "democratic_date", "赞成票": "votes_for",
                  "表决人数": "votes_total", "公示天数": "publicity_days", "生效": "_effective"},
    "assets": {"资产编号": "number", "名称": "name", "类别": "category", "用途": "use", "来源": "source",
               "资金文号": "source_ref", "取得日期": "acquired_date", "原值": "cost", "使用月数": "life_months",
               "残值率": "residual_rate", "期初累计折旧": "opening_depreciation", "存放地点": "location",
               "保管人": "custodian", "状态": "status", "经营性": "operating", "折旧方法": "method",
               "预计总工作量": "total_workload", "工作量单位": "workload_unit"},
    "parcels": {"地块编码": "code", "名称": "name", "类型": "kind", "面积": "area", "坐落": "location",
                "东至": "east", "南至": "south", "西至": "west", "北至": "north", "经营状态": "status",
                "量化价值": "value"},
}
_REQUIRED_COLUMNS = {"contracts": ("合同编号", "合同类型", "对方", "起始日", "终止日", "年租金"),
                     "assets": ("资产编号", "名称", "取得日期", "原值"), "parcels": ("地块编码", "类型", "面积")}
_CHOICES = {"kind": {**CONTRACT_KINDS, **PARCEL_KINDS}, "frequency": FREQUENCY_LABELS,
            "democratic_kind": DEMOCRATIC_KINDS, "category": ASSET_CATEGORIES, "use": ASSET_USES,
            "source": ASSET_SOURCES, "status": {**ASSET_STATUSES, **PARCEL_STATUSES}, "method": DEPRECIATION_METHODS}
_YES = ("是", "1", "true", "yes", "y", "生效")


@dataclass
class ImportResult:
    kind: str
    rows: int
    dry_run: bool
    problems: dict[str, list[str]] = field(default_factory=dict)  # line → messages


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_register_file(kind: str, data: bytes) -> list[dict]:
    """The rows of an xlsx register file as {field: text} with their line numbers (`_line`)."""
    import io

    from openpyxl import load_workbook

    if kind not in IMPORT_COLUMNS:
        raise ValidationFailed.field("kind", "导入类型应为 contracts、assets 或 parcels")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = [[_cell(c) for c in row] for row in wb.active.iter_rows(values_only=True)]
    except Exception as exc:  # a file that is not an xlsx: not a 500
        raise ValidationFailed.field("file", f"无法读取 Excel 文件（应为 .xlsx）：{exc}") from None
    rows = [r for r in rows if any(r)]
    if not rows:
        raise ValidationFailed.field("file", "文件是空的")
    header = rows[0]
    missing = [c for c in _REQUIRED_COLUMNS[kind] if c not in header]
    if missing:
        raise ValidationFailed.field("file", f"缺少列：{'、'.join(missing)}（第一行应为表头）")
    columns = IMPORT_COLUMNS[kind]
    out = []
    for line, r in enumerate(rows[1:], start=2):
        rec = {"_line": line}
        for name, value in zip(header, r):
            if name in columns and value != "":
                key = columns[name]
                labels = _CHOICES.get(key)
                if labels:
                    value = next((k for k, label in labels.items() if value in (k, label)), value)
                rec[key] = value
        out.append(rec)
    return out


def import_register(org: Organization, kind: str, data: bytes, *, user: User, dry_run: bool = True) -> ImportResult:
    """Import contracts, asset cards (opening cards) or parcels from an xlsx file: every row checked by the same
    schema and service as the forms, by writing it; any problem, or a dry run, and the transaction is rolled back,
    so nothing is kept (call it in a transaction of its own). A file imported once is refused the second time
    (its SHA-256 in the audit log)."""
    from marshmallow import ValidationError

    from coop.core.errors import CoopError, flatten_errors

    access.require(user, access.PREPARE, org)
    records = read_register_file(kind, data)
    action, key = f"sanzi.import.{kind}", file_key(data)
    lock_for_import(org)
    if msg := already_imported(org, action, key):
        raise InvalidState(msg)
    schema = {"contracts": ContractInSchema, "assets": AssetInSchema, "parcels": ParcelInSchema}[kind]()
    problems: dict[str, list[str]] = {}
    for rec in records:
        line = str(rec["_line"])
        fields_in = {k: v for k, v in rec.items() if not k.startswith("_")}
        effective = rec.get("_effective")
        if "operating" in fields_in:
            fields_in["operating"] = fields_in["operating"].lower() in _YES + ("经营性",)
        try:
            loaded = schema.load(fields_in)
            if kind == "contracts":
                c = create_contract(org, loaded, user=user)
                if effective and effective.lower() in _YES:
                    activate_contract(c, user=user)
            elif kind == "assets":
                register_asset(org, loaded, user=user)
            else:
                register_parcel(org, loaded, user=user)
        except ValidationError as exc:
            problems[line] = [f"{path}: {m}" for path, ms in flatten_errors(exc.messages).items() for m in ms]
        except CoopError as exc:
            problems[line] = [f"{path}: {m}" for path, ms in flatten_errors(exc.errors).items() for m in ms] \
                or [str(exc)]
    if problems or dry_run:
        # all or nothing: the rows written to check them go (the request's transaction is this import)
        db.session.rollback()
    if problems:
        raise ValidationFailed("文件有错误，未导入", {"rows": problems})
    if not dry_run:
        audit.log(action, user=user, org=org, target=key, rows=len(records))
    return ImportResult(kind, len(records), dry_run)


def import_template(kind: str) -> list[str]:
    """The header row of an import file."""
    return list(IMPORT_COLUMNS[kind])


def contract_shown(c: Contract, user) -> dict:
    """The contract as the API and pages show it: the counterparty's ID number masked unless the user keeps the
    organization's books (RULES §13)."""
    org = db.session.get(Organization, c.organization_id)
    out = {k: getattr(c, k) for k in ContractSchema().fields if k not in ("instalments",)}
    if c.counterparty_id_no and not access.can(user, access.PREPARE, org):
        out["counterparty_id_no"] = mask_id_no(c.counterparty_id_no)
    out["instalments"] = c.instalments
    return out
