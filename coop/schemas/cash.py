"""Schemas for 报账, 出纳 and the bank (RULES §15); the web forms load the same schemas as the API."""
from __future__ import annotations

from marshmallow import fields, validate

from ..ledger.roles import EXPENSE_ROLES
from ..models.cash import STEPS
from .common import ID_RANGE, Integer, Money, StrictSchema

DATE = {"required": "请填写日期", "invalid": "日期格式应为 YYYY-MM-DD"}
REQUIRED = {"required": "必填"}


def _text(n: int, required: bool = True, **kw):
    if required:
        return fields.String(required=True, validate=validate.Length(min=1, max=n, error=f"应为1–{n}个字"),
                             error_messages=REQUIRED, **kw)
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=n, error=f"最多{n}个字"), **kw)


class SpendingRequestInSchema(StrictSchema):
    handler = _text(50)
    purpose = _text(200)
    payee = _text(100)
    payee_personal = fields.Boolean(load_default=False)
    amount = Money(required=True, error_messages=REQUIRED)
    category = fields.String(required=True, validate=validate.OneOf(EXPENSE_ROLES, error="支出类别不正确"),
                             error_messages=REQUIRED)
    spent_on = fields.Date(required=True, error_messages=DATE)


class DecisionInSchema(StrictSchema):
    step = fields.String(required=True, validate=validate.OneOf(tuple(STEPS), error="审批环节不正确"),
                         error_messages=REQUIRED)
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "veto", "reject"), error="决定不正确"),
                             error_messages=REQUIRED)
    reason = _text(500, required=False)
    meeting_date = fields.Date(load_default=None, allow_none=True, error_messages=DATE)
    record = _text(500, required=False)


class ToVoucherInSchema(StrictSchema):
    date = fields.Date(required=True, error_messages=DATE)
    pay_from = fields.String(required=True, validate=validate.Length(min=1, max=20), error_messages=REQUIRED)


class SpendingPolicyInSchema(StrictSchema):
    finance_group_above = Money(required=True, allow_zero=True, error_messages=REQUIRED)
    meeting_above = Money(required=True, allow_zero=True, error_messages=REQUIRED)
    township_review = fields.Boolean(load_default=True)
    cash_payment_limit = Money(required=True, allow_zero=True, error_messages=REQUIRED)
    request_required_above = Money(required=True, allow_zero=True, error_messages=REQUIRED)


class CashCountInSchema(StrictSchema):
    account_code = fields.String(required=True, validate=validate.Length(min=1, max=20), error_messages=REQUIRED)
    date = fields.Date(required=True, error_messages=DATE)
    counted = Money(required=True, allow_zero=True, error_messages=REQUIRED)
    note = _text(200, required=False)


class BankAccountInSchema(StrictSchema):
    account_code = fields.String(required=True, validate=validate.Length(min=1, max=20), error_messages=REQUIRED)
    bank_name = _text(60)
    account_no = _text(40, required=False)
    personal = fields.Boolean(load_default=False)


class StatementImportInSchema(StrictSchema):
    """The file comes as upload; these are the form fields beside it. Mapping values are the file's column titles."""
    account_code = fields.String(required=True, validate=validate.Length(min=1, max=20), error_messages=REQUIRED)
    date = _text(60, required=False)
    amount = _text(60, required=False)
    money_in = _text(60, required=False)
    money_out = _text(60, required=False)
    reference = _text(60, required=False)
    counterparty = _text(60, required=False)
    summary = _text(60, required=False)
    balance = _text(60, required=False)
    closing_balance = Money(load_default=None, allow_none=True, allow_negative=True, allow_zero=True)
    dry_run = fields.Boolean(load_default=False)


class ManualMatchInSchema(StrictSchema):
    statement_line_id = Integer(required=True, validate=ID_RANGE, error_messages=REQUIRED)
    voucher_line_id = Integer(required=True, validate=ID_RANGE, error_messages=REQUIRED)


class PayoutInSchema(StrictSchema):
    plan_id = Integer(required=True, validate=ID_RANGE, error_messages=REQUIRED)
    pay_from = fields.String(required=True, validate=validate.Length(min=1, max=20), error_messages=REQUIRED)


class HouseholdAccountInSchema(StrictSchema):
    household_id = Integer(required=True, validate=ID_RANGE, error_messages=REQUIRED)
    bank_name = _text(60)
    account_no = fields.String(required=True, validate=validate.Regexp(r"^\d{8,30}$", error="卡号应为8–30位数字"),
                               error_messages=REQUIRED)
