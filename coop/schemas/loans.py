"""Schemas for loans and the county 贴息 fund (RULES §9). The web forms load the same schemas as the API.

The schemas check formats only; whether a rate is reasonable, a period lies inside the loan, or a claim fits
the fund is for the service, which names the rule it applies.
"""
from __future__ import annotations

from decimal import Decimal

from marshmallow import fields, validate

from coop.models.loans import CLAIM_STATUSES, LOAN_EVENTS
from coop.schemas.common import ID_RANGE, DecimalString, Integer, Money, Ratio, StrictSchema, UtcDateTime, finer
from coop.ledger import codes

DATE = {"required": "请填写日期", "invalid": "日期格式应为 YYYY-MM-DD"}


def _date(required: bool = True, **kw):
    if required:
        return fields.Date(required=True, error_messages=DATE, **kw)
    return fields.Date(load_default=None, allow_none=True, error_messages=DATE, **kw)


def Rate(**kw) -> DecimalString:
    """An annual rate as a decimal string: "0.042" is 4.2%, up to 6 decimal places."""
    return DecimalString(places=6, percent=True, example="0.0345", not_text="利率必须是文本，例如 \"0.0345\" 表示 3.45%",
                         invalid="利率格式不正确，例如 0.0345 或 3.45%",
                         checks=[(lambda d: abs(d) >= 10, "利率格式不正确，例如 0.0345 或 3.45%"),
                                 (lambda d: finer(d, 6), "利率最多6位小数")], **kw)


def _text(label: str, max_len: int, required: bool = True):
    if required:
        return fields.String(required=True,
                             validate=validate.Length(min=1, max=max_len, error=f"{label}为1到{max_len}个字"),
                             error_messages={"required": f"请填写{label}"})
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=max_len))


# ---------------------------------------------------------------- loans


def _money_leaf():
    """Which cash/bank leaf the money moves through (RULES §2 posting roles: the form asks)."""
    return fields.String(load_default=None, allow_none=True,
                         validate=validate.Regexp(codes.CODE_PATTERN, error="科目编码格式不正确"),
                         metadata={"description": "a leaf under 101/102; default: the one remembered, else the "
                                                  "银行存款 posting role"})


class LoanInSchema(StrictSchema):
    lender = _text("贷款银行", 100)
    contract_no = _text("合同编号", 60)
    principal = Money(required=True, error_messages={"required": "请填写贷款金额"})
    annual_rate = Rate(required=True, error_messages={"required": "请填写年利率"})
    start_date = _date()
    maturity_date = _date()
    special = fields.Boolean(load_default=False, metadata={"description": "专项贷款（可申请贴息）"})
    term = fields.String(load_default=None, allow_none=True,
                         validate=validate.OneOf(("short", "long"), error="借款期限应为 short（201）或 long（221）"),
                         metadata={"description": "short: 短期借款 (201); long: 长期借款及应付款 (221); "
                                                  "default: from account_code, else short"})
    account_code = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Regexp(codes.CODE_PATTERN, error="科目编码格式不正确"),
                                 metadata={"description": "a leaf under 201/221; default: the role's mapping"})
    bank_account = _money_leaf()


class LoanEventInSchema(StrictSchema):
    kind = fields.String(required=True,
                         validate=validate.OneOf(tuple(LOAN_EVENTS), error="类型应为 drawdown/repayment/interest"),
                         error_messages={"required": "请选择类型"})
    date = _date()
    amount = Money(required=True, error_messages={"required": "请填写金额"})
    #: 付息 only: the interest period [period_start, period_end) and the 结息单 number
    period_start = _date(required=False)
    period_end = _date(required=False, metadata={"description": "不含当日"})
    evidence = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    bank_account = _money_leaf()
    expense_account = fields.String(load_default=None, allow_none=True,
                                    validate=validate.Regexp(codes.CODE_PATTERN, error="科目编码格式不正确"),
                                    metadata={"description": "付息: a leaf under 515; default: the 利息支出 role"})


class LoanEventSchema(StrictSchema):
    id = fields.Integer()
    kind = fields.String()
    date = fields.Date()
    amount = Money()
    period_start = fields.Date(allow_none=True)
    period_end = fields.Date(allow_none=True)
    evidence = fields.String(allow_none=True)
    voucher_id = fields.Integer(allow_none=True)


class LoanSchema(StrictSchema):
    id = fields.Integer()
    organization_id = fields.Integer()
    lender = fields.String()
    contract_no = fields.String()
    principal = Money()
    annual_rate = Rate()
    start_date = fields.Date()
    maturity_date = fields.Date()
    special = fields.Boolean()
    account_code = fields.String()
    bank_account = fields.String(allow_none=True)
    outstanding = Money(metadata={"description": "今日贷款余额"})
    events = fields.List(fields.Nested(LoanEventSchema))


# ---------------------------------------------------------------- claims


class PeriodInSchema(StrictSchema):
    period_start = _date()
    period_end = _date(metadata={"description": "不含当日"})


class ClaimInSchema(PeriodInSchema):
    loan_id = Integer(required=True, validate=ID_RANGE,
                      error_messages={"required": "请选择贷款", "invalid": "编号应为整数"})
    claimed = Money(required=True, error_messages={"required": "请填写申报金额"})


class RefileInSchema(PeriodInSchema):
    claimed = Money(required=True, error_messages={"required": "请填写申报金额"})


class DecisionInSchema(StrictSchema):
    approve = fields.Boolean(required=True, error_messages={"required": "请选择通过或退回"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class DisburseInSchema(StrictSchema):
    date = _date()
    bank_account = _money_leaf()


class SubsidyPeriodSchema(StrictSchema):
    start = fields.Date()
    end = fields.Date(metadata={"description": "不含当日"})
    days = fields.Integer()
    principal = Money()
    actual_rate = Rate()
    lpr = Rate()
    eligible_rate = Rate()
    amount = Money()


class SubsidyCalcSchema(StrictSchema):
    periods = fields.List(fields.Nested(SubsidyPeriodSchema))
    computed = Money(metadata={"description": "各期合计"})
    interest_paid = Money()
    eligible = Money(metadata={"description": "可贴息金额：不超过实付利息和单位年度上限"})
    lpr_multiple = Rate()
    share = Rate()
    org_cap = Money(allow_none=True)


class ClaimSchema(StrictSchema):
    id = fields.Integer()
    organization_id = fields.Integer()
    organization = fields.String()
    township = fields.String()
    loan_id = fields.Integer()
    contract_no = fields.String()
    year = fields.Integer()
    period_start = fields.Date()
    period_end = fields.Date(metadata={"description": "不含当日"})
    interest_paid = Money()
    eligible = Money()
    claimed = Money()
    allocated = Money(allow_none=True)
    status = fields.String(metadata={"enum": list(CLAIM_STATUSES)})
    reject_reason = fields.String(allow_none=True)
    filed_by = fields.String(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = UtcDateTime(allow_none=True)
    approved_by = fields.String(allow_none=True)
    approved_at = UtcDateTime(allow_none=True)
    disbursed_on = fields.Date(allow_none=True)
    voucher_id = fields.Integer(allow_none=True)


class ClaimQuerySchema(StrictSchema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100, error="年份应在2000到2100之间"))
    status = fields.String(validate=validate.OneOf(tuple(CLAIM_STATUSES), error="状态不正确"))
    township_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


# ---------------------------------------------------------------- county policy


class PolicyInSchema(StrictSchema):
    fund = Money(load_default=Decimal("5000000.00"), allow_zero=True)
    lpr_multiple = Rate(load_default=Decimal(1), metadata={"description": "LPR 倍数上限，默认 1"})
    share = Ratio(load_default=Decimal(1), metadata={"description": "贴息比例，默认 1（100%）"})
    org_cap = Money(load_default=None, allow_none=True, metadata={"description": "单个组织年度上限，空为不设"})
    rule = fields.String(load_default="pro_rata", validate=validate.OneOf(("pro_rata", "first_come"),
                                                                         error="分配方式应为 pro_rata 或 first_come"))


class PolicySchema(StrictSchema):
    county_id = fields.Integer()
    year = fields.Integer()
    fund = Money()
    lpr_multiple = Rate()
    share = Ratio()
    org_cap = Money(allow_none=True)
    rule = fields.String()
    allocated_at = UtcDateTime(allow_none=True)


class LprInSchema(StrictSchema):
    published_on = _date()
    rate = Rate(required=True, error_messages={"required": "请填写利率"})


class LprSchema(StrictSchema):
    published_on = fields.Date()
    rate = Rate()


class FundSummarySchema(StrictSchema):
    year = fields.Integer()
    rule = fields.String()
    fund = Money()
    used = Money(metadata={"description": "已拨付"})
    committed = Money(metadata={"description": "已分配（含已拨付）"})
    left = Money(metadata={"description": "剩余"})
    awaiting = Money(metadata={"description": "审批中的申报金额"})
    allocated_at = UtcDateTime(allow_none=True)


class AllocationSchema(StrictSchema):
    claim_id = fields.Integer()
    allocated = Money()
