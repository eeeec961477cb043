"""Schemas of the 三资台账 (RULES §14): contracts, receipts, asset cards, depreciation, disposal, parcels. The web
forms load the same schemas as the API. Formats only; the rules (term, uniqueness, 民主程序) are the service's."""
from __future__ import annotations

from decimal import Decimal

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from coop.ledger import assets as calc, codes
from coop.models.assets import (ASSET_CATEGORIES, ASSET_SOURCES, ASSET_STATUSES, ASSET_USES, CONTRACT_KINDS,
                             CONTRACT_STATUSES, DEMOCRATIC_KINDS, DEPRECIATION_METHODS, PARCEL_KINDS, PARCEL_STATUSES,
                             AssetStatus, ParcelStatus)
from coop.schemas.common import ID_RANGE, DecimalString, Integer, Money, Ratio, StrictSchema, finer

DATE = {"required": "请填写日期", "invalid": "日期格式应为 YYYY-MM-DD"}


def _date(required: bool = True):
    if required:
        return fields.Date(required=True, error_messages=DATE)
    return fields.Date(load_default=None, allow_none=True, error_messages=DATE)


def _text(label: str, max_len: int, required: bool = True):
    if required:
        return fields.String(required=True, validate=validate.Length(min=1, max=max_len, error=f"{label}为1到{max_len}个字"),
                             error_messages={"required": f"请填写{label}"})
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=max_len))


def _choice(options, label: str, default=None):
    kw = {"required": True, "error_messages": {"required": f"请选择{label}"}} if default is None else {
        "load_default": default}
    return fields.String(validate=validate.OneOf(tuple(options), error=f"{label}无效"), **kw)


def _count(required: bool = False):
    return Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=1_000_000, error="应为非负整数"))


def Area(**kw) -> DecimalString:
    """亩 as a decimal string, up to 4 places."""
    return DecimalString(places=4, example="12.3456", not_text="面积必须是文本，例如 \"12.3456\"", invalid="面积格式不正确",
                         checks=[(lambda d: d <= 0 or d >= 10**9, "面积必须大于零"),
                                 (lambda d: finer(d, 4), "面积最多保留4位小数（亩）")], **kw)


def Workload(label: str, *, positive: bool, **kw) -> DecimalString:
    """A workload (工作量法: hours, kilometres, 台班…) as a decimal string, up to 4 places like the other quantities."""
    return DecimalString(places=4, example="570.5", not_text=f"{label}必须是文本，例如 \"570.5\"",
                         invalid=f"{label}格式不正确",
                         checks=[(lambda d: False, f"{label}格式不正确"),  # the first check refuses NaN, ∞
                                 (lambda d: d < 0, f"{label}不能为负数"),
                                 (lambda d: d >= 10**10, f"{label}不能超过 9,999,999,999"),
                                 (lambda d: positive and d == 0, f"{label}必须大于零"),
                                 (lambda d: finer(d, 4), f"{label}最多保留4位小数")], **kw)


def _leaf(description: str):
    return fields.String(load_default=None, allow_none=True,
                         validate=validate.Regexp(codes.CODE_PATTERN, error="科目编码格式不正确"),
                         metadata={"description": description})


# ---------------------------------------------------------------- contracts


class ContractInSchema(StrictSchema):
    number = _text("合同编号", 60)
    kind = _choice(CONTRACT_KINDS, "合同类型")
    title = _text("合同名称", 200, required=False)
    counterparty = _text("对方单位或个人", 100)
    counterparty_id_no = _text("统一社会信用代码或身份证号", 30, required=False)
    object_desc = _text("标的", 200, required=False)
    parcel_id = Integer(load_default=None, allow_none=True, validate=ID_RANGE)
    asset_id = Integer(load_default=None, allow_none=True, validate=ID_RANGE)
    start_date = _date()
    end_date = _date()
    annual_amount = Money(required=True, allow_zero=True, error_messages={"required": "请填写年租金（承包费）"})
    frequency = _choice(calc.FREQUENCIES, "收款方式", default="annual")
    step_rate = Ratio(load_default=Decimal(0), metadata={"description": "递增比例，0.05 = 每次 +5%"})
    step_years = Integer(load_default=0, validate=validate.Range(min=0, max=100, error="间隔年数应为 0 到 100"))
    in_advance = fields.Boolean(load_default=True, metadata={"description": "先交后用：到期日为所付期间的第一天"})
    deposit = Money(load_default=Decimal(0), allow_zero=True)
    appraisal = Money(load_default=None, allow_none=True, allow_zero=True)
    low_price_reason = _text("低价理由", 500, required=False)
    income_account = _leaf("a leaf under 501; default: the 经营收入—发包及租赁 posting role")
    democratic_kind = fields.String(load_default=None, allow_none=True,
                                    validate=validate.OneOf(tuple(DEMOCRATIC_KINDS), error="民主程序类型无效"))
    democratic_date = _date(required=False)
    votes_for = _count()
    votes_total = _count()
    publicity_days = _count()


class DemocracyInSchema(StrictSchema):
    democratic_kind = _choice(DEMOCRATIC_KINDS, "民主程序")
    democratic_date = _date()
    votes_for = _count()
    votes_total = _count()
    publicity_days = _count()


class InstalmentSchema(StrictSchema):
    seq = fields.Integer()
    due_date = fields.Date()
    period_start = fields.Date()
    period_end = fields.Date(metadata={"description": "不含当日"})
    amount = Money()
    received = Money()
    accrual_voucher_id = fields.Integer(allow_none=True)


class ContractSchema(StrictSchema):
    id = fields.Integer()
    organization_id = fields.Integer()
    number = fields.String()
    kind = fields.String()
    title = fields.String()
    counterparty = fields.String()
    counterparty_id_no = fields.String(allow_none=True, metadata={"description": "masked per RULES §13"})
    object_desc = fields.String(allow_none=True)
    parcel_id = fields.Integer(allow_none=True)
    asset_id = fields.Integer(allow_none=True)
    start_date = fields.Date()
    end_date = fields.Date()
    annual_amount = Money()
    frequency = fields.String()
    step_rate = Ratio()
    step_years = fields.Integer()
    deposit = Money()
    appraisal = Money(allow_none=True)
    low_price_reason = fields.String(allow_none=True)
    democratic_kind = fields.String(allow_none=True)
    democratic_date = fields.Date(allow_none=True)
    votes_for = fields.Integer(allow_none=True)
    votes_total = fields.Integer(allow_none=True)
    publicity_days = fields.Integer(allow_none=True)
    scan_sha256 = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(CONTRACT_STATUSES)})
    instalments = fields.List(fields.Nested(InstalmentSchema))


class AccrualInSchema(StrictSchema):
    on = _date(required=False)


class RentReceiptInSchema(StrictSchema):
    date = _date()
    amount = Money(required=True, error_messages={"required": "请填写收款金额"})
    bank_account = _leaf("a leaf under 101/102; default: the 银行存款 posting role")


class RentReceiptSchema(StrictSchema):
    id = fields.Integer()
    contract_id = fields.Integer()
    date = fields.Date()
    amount = Money()
    voucher_id = fields.Integer(allow_none=True)


class TerminateInSchema(StrictSchema):
    on = _date()


class AgeingRowSchema(StrictSchema):
    counterparty = fields.String()
    buckets = fields.List(Money(), metadata={"description": "未到期, 1-30天, 31-90天, 91-365天, 1年以上"})
    total = Money()


class VoucherListSchema(StrictSchema):
    voucher_ids = fields.List(fields.Integer())


# ---------------------------------------------------------------- assets


class AssetInSchema(StrictSchema):
    number = _text("资产编号", 40)
    name = _text("资产名称", 100)
    category = _choice(ASSET_CATEGORIES, "资产类别", default="fixed")
    operating = fields.Boolean(load_default=True, metadata={"description": "经营性 (true) 或非经营性/公益性"})
    use = _choice(ASSET_USES, "用途", default="admin")
    source = _choice(ASSET_SOURCES, "来源", default="built")
    source_ref = _text("资金文号或项目", 200, required=False)
    acquired_date = _date()
    cost = Money(required=True, allow_zero=True, error_messages={"required": "请填写原值"})
    life_months = Integer(load_default=0, validate=validate.Range(min=0, max=1200, error="使用年限应为 0 到 1200 个月"))
    residual_rate = Ratio(load_default=Decimal("0.05"))
    method = _choice(DEPRECIATION_METHODS, "折旧方法", default="straight")
    total_workload = Workload("预计总工作量", positive=True, load_default=None, allow_none=True,
                              metadata={"description": "工作量法: the estimated total workload, in workload_unit"})
    workload_unit = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Length(max=10, error="工作量单位最多10个字，如小时、公里、台班"))
    opening_depreciation = Money(load_default=Decimal(0), allow_zero=True)
    location = _text("存放地点", 200, required=False)
    custodian = _text("保管人", 60, required=False)
    status = _choice(ASSET_STATUSES, "状态", default=AssetStatus.IN_USE)
    voucher_id = Integer(load_default=None, allow_none=True, validate=ID_RANGE,
                         metadata={"description": "the voucher that acquired it; none: an opening card"})


class AssetSchema(StrictSchema):
    id = fields.Integer()
    number = fields.String()
    name = fields.String()
    category = fields.String()
    operating = fields.Boolean()
    use = fields.String()
    source = fields.String()
    source_ref = fields.String(allow_none=True)
    acquired_date = fields.Date()
    cost = Money()
    life_months = fields.Integer()
    residual_rate = Ratio()
    method = fields.String(metadata={"enum": list(DEPRECIATION_METHODS)})
    total_workload = Workload("预计总工作量", positive=True, allow_none=True)
    workload_unit = fields.String(allow_none=True)
    used_workload = Workload("已用工作量", positive=False, allow_none=True,
                             metadata={"description": "工作量法: the workloads recorded so far"})
    accumulated = Money()
    net_value = Money()
    location = fields.String(allow_none=True)
    custodian = fields.String(allow_none=True)
    status = fields.String()
    disposed_date = fields.Date(allow_none=True)


class DepreciationInSchema(StrictSchema):
    year = Integer(required=True, validate=validate.Range(min=2000, max=2100, error="年份不正确"),
                   error_messages={"required": "请填写年份"})
    month = Integer(required=True, validate=validate.Range(min=1, max=12, error="月份应为 1 到 12"),
                    error_messages={"required": "请填写月份"})


class DepreciationQuerySchema(StrictSchema):
    """A month to look at; without one, the current month (Beijing time)."""
    year = Integer(load_default=None, validate=validate.Range(min=2000, max=2100, error="年份不正确"))
    month = Integer(load_default=None, validate=validate.Range(min=1, max=12, error="月份应为 1 到 12"))


class WorkloadInSchema(StrictSchema):
    asset_id = Integer(required=True, validate=ID_RANGE, error_messages={"required": "请选择资产"})
    quantity = Workload("实际工作量", positive=False, required=True, error_messages={"required": "请填写实际工作量"})


class WorkloadsInSchema(DepreciationInSchema):
    """The month's actual workloads of 工作量法 assets, recorded before its depreciation run (zero allowed)."""
    workloads = fields.List(fields.Nested(WorkloadInSchema), required=True,
                            validate=validate.Length(min=1, max=1000, error="请填写至少一项工作量"),
                            error_messages={"required": "请填写至少一项工作量"})


class DepreciationPreviewLineSchema(StrictSchema):
    asset_id = fields.Integer()
    number = fields.String()
    name = fields.String()
    method = fields.String()
    workload = Workload("实际工作量", positive=False, allow_none=True,
                        metadata={"description": "工作量法: the month's workload (null: none recorded)"})
    workload_unit = fields.String(allow_none=True)
    charge = Money()


class DepreciationPreviewSchema(StrictSchema):
    year = fields.Integer()
    month = fields.Integer()
    run = fields.Boolean(metadata={"description": "the month's depreciation is already run"})
    total = Money()
    lines = fields.List(fields.Nested(DepreciationPreviewLineSchema),
                        metadata={"description": "every asset depreciating that month, and every 工作量法 asset "
                                                 "that could"})
    missing_workload = fields.List(fields.Integer(), metadata={"description": "工作量法 assets without a workload"})


class DepreciationRunSchema(StrictSchema):
    year = fields.Integer()
    month = fields.Integer()
    total = Money()
    voucher_id = fields.Integer(allow_none=True)
    assets = fields.Integer()


class DisposalInSchema(StrictSchema):
    date = _date()
    proceeds = Money(load_default=Decimal(0), allow_zero=True)
    bank_account = _leaf("a leaf under 101/102 for the proceeds")
    reason = _text("处置原因", 200, required=False)


class CardReconciliationSchema(StrictSchema):
    category = fields.String()
    card_cost = Money()
    ledger_cost = Money()
    card_depreciation = Money()
    ledger_depreciation = Money()
    ok = fields.Boolean()


# ---------------------------------------------------------------- resources


class ParcelInSchema(StrictSchema):
    code = _text("地块编码", 40)
    name = _text("名称", 100, required=False)
    kind = _choice(PARCEL_KINDS, "资源类型")
    area = Area(required=True, error_messages={"required": "请填写面积（亩）"})
    location = _text("坐落", 200, required=False)
    east = _text("东至", 100, required=False)
    south = _text("南至", 100, required=False)
    west = _text("西至", 100, required=False)
    north = _text("北至", 100, required=False)
    status = _choice(PARCEL_STATUSES, "经营状态", default=ParcelStatus.COLLECTIVE)
    value = Money(load_default=None, allow_none=True, allow_zero=True)


class ParcelSchema(StrictSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String(allow_none=True)
    kind = fields.String()
    area = Area()
    location = fields.String(allow_none=True)
    east = fields.String(allow_none=True)
    south = fields.String(allow_none=True)
    west = fields.String(allow_none=True)
    north = fields.String(allow_none=True)
    status = fields.String()
    value = Money(allow_none=True)
    contract_id = fields.Integer(allow_none=True)


class ResourceSummarySchema(StrictSchema):
    kind = fields.String()
    status = fields.String()
    parcels = fields.Integer()
    area = Area()


# ---------------------------------------------------------------- imports


class RegisterFileSchema(Schema):
    file = Upload(required=True, error_messages={"required": "请上传 xlsx 文件"})


class ImportResultSchema(StrictSchema):
    kind = fields.String()
    rows = fields.Integer()
    dry_run = fields.Boolean()


# ---------------------------------------------------------------- year-end inventory


class InventoryItemSchema(StrictSchema):
    id = fields.Integer()
    asset_id = fields.Integer(allow_none=True)
    parcel_id = fields.Integer(allow_none=True)
    description = fields.String()
    book_value = Money()
    result = fields.String(allow_none=True)
    counted_value = Money(allow_none=True)
    note = fields.String(allow_none=True)


class InventorySchema(StrictSchema):
    id = fields.Integer()
    year = fields.Integer()
    status = fields.String()
    voucher_id = fields.Integer(allow_none=True)
    publish_from = fields.Date(allow_none=True)
    publish_until = fields.Date(allow_none=True)
    items = fields.List(fields.Nested(InventoryItemSchema))


class CountInSchema(StrictSchema):
    result = _choice(("present", "missing", "surplus"), "清查结果")
    counted_value = Money(load_default=None, allow_none=True)
    note = _text("备注", 200, required=False)


class SurplusInSchema(StrictSchema):
    description = _text("资产名称", 200)
    value = Money(required=True, error_messages={"required": "请填写估价"})


class PublishInventoryInSchema(StrictSchema):
    publish_from = _date()
    publish_until = _date()
