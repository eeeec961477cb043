"""Schemas for 报账, 出纳 and the bank (RULES §15); the web forms load the same schemas as the API."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from coop.ledger.roles import EXPENSE_ROLES
from coop.models.cash import STEPS
from coop.schemas.common import ID_RANGE, Integer, Money, StrictSchema

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


class SpendingDecisionInSchema(StrictSchema):
    step = fields.String(required=True, validate=validate.OneOf(tuple(STEPS), error="审批环节不正确"),
                         error_messages=REQUIRED)
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "veto", "reject"), error="决定不正确"),
                             error_messages=REQUIRED)
    reason = _text(500, required=False)
    meeting_date = fields.Date(load_default=None, allow_none=True, error_messages=DATE)
    record = _text(500, required=False)


class SpendingVoucherInSchema(StrictSchema):
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


def _column():
    """A column title of the statement file; absent keeps the one remembered for the bank, empty clears it."""
    return fields.String(allow_none=True, validate=validate.Length(max=60, error="最多60个字"))


class StatementImportInSchema(StrictSchema):
    """The file comes as upload; these are the form fields beside it. Mapping values are the file's column titles."""
    account_code = fields.String(required=True, validate=validate.Length(min=1, max=20), error_messages=REQUIRED)
    date = _column()
    amount = _column()
    money_in = _column()
    money_out = _column()
    reference = _column()
    counterparty = _column()
    summary = _column()
    balance = _column()
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


# ---------------------------------------------------------------- API shapes


class SpendingScanInSchema(StrictSchema):
    filename = _text(200)
    content_type = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    #: the file, base64-encoded
    data = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=14_000_000))


class SpendingRequestApiInSchema(SpendingRequestInSchema):
    scans = fields.List(fields.Nested(SpendingScanInSchema), required=True, error_messages=REQUIRED,
                        validate=validate.Length(min=1, max=20, error="请上传1–20个扫描件"))


class SpendingApprovalSchema(StrictSchema):
    step = fields.String()
    decision = fields.String()
    user_id = fields.Integer()
    reason = fields.String(allow_none=True)
    meeting_date = fields.Date(allow_none=True)
    record = fields.String(allow_none=True)


class SpendingRequestSchema(StrictSchema):
    id = fields.Integer()
    organization_id = fields.Integer()
    requester_id = fields.Integer()
    handler = fields.String()
    purpose = fields.String()
    payee = fields.String()
    payee_personal = fields.Boolean()
    amount = Money()
    category = fields.String()
    spent_on = fields.Date()
    steps = fields.List(fields.String())
    next_step = fields.String(allow_none=True)
    status = fields.String()
    voucher_id = fields.Integer(allow_none=True)
    approvals = fields.List(fields.Nested(SpendingApprovalSchema))
    scans = fields.List(fields.String(), metadata={"description": "file names"})


class CashJournalQuerySchema(StrictSchema):
    account_code = fields.String(required=True, validate=validate.Length(min=1, max=20), error_messages=REQUIRED)
    month = fields.String(required=True, validate=validate.Regexp(r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", error="月份格式应为 YYYY-MM"),
                          error_messages=REQUIRED)


class CashJournalRowSchema(StrictSchema):
    date = fields.Date()
    voucher_id = fields.Integer(allow_none=True)
    voucher_no = fields.String()
    summary = fields.String()
    other = fields.String(metadata={"description": "对方科目"})
    debit = Money()
    credit = Money()
    balance = Money()
    kind = fields.String(metadata={"description": "line, day (本日合计) or month (本月合计)"})


class CashJournalSchema(StrictSchema):
    code = fields.String()
    name = fields.String()
    year = fields.Integer()
    month = fields.Integer()
    opening = Money()
    closing = Money()
    rows = fields.List(fields.Nested(CashJournalRowSchema))


class CashCountSchema(StrictSchema):
    id = fields.Integer()
    account_code = fields.String()
    date = fields.Date()
    counted = Money()
    book = Money()
    difference = Money()
    note = fields.String(allow_none=True)


class ReconciliationItemSchema(StrictSchema):
    id = fields.Integer()
    date = fields.Date()
    amount = Money()
    reference = fields.String(allow_none=True)
    summary = fields.String()


class BankReconciliationSchema(StrictSchema):
    #: null until a statement ending in the month is imported
    bank_balance = Money(allow_none=True)
    book_balance = Money()
    book_in = fields.List(fields.Nested(ReconciliationItemSchema), metadata={"description": "企业已收、银行未收"})
    book_out = fields.List(fields.Nested(ReconciliationItemSchema), metadata={"description": "企业已付、银行未付"})
    bank_in = fields.List(fields.Nested(ReconciliationItemSchema), metadata={"description": "银行已收、企业未收"})
    bank_out = fields.List(fields.Nested(ReconciliationItemSchema), metadata={"description": "银行已付、企业未付"})
    adjusted_bank = Money(allow_none=True)
    adjusted_book = Money(allow_none=True)
    agrees = fields.Boolean()
    final = fields.Boolean()


class ReconciliationInSchema(StrictSchema):
    account_code = fields.String(required=True, validate=validate.Length(min=1, max=20), error_messages=REQUIRED)
    month = fields.String(required=True, validate=validate.Regexp(r"^(19|20)\d{2}-(0[1-9]|1[0-2])$", error="月份格式应为 YYYY-MM"),
                          error_messages=REQUIRED)


class AutoMatchInSchema(StrictSchema):
    account_code = fields.String(required=True, validate=validate.Length(min=1, max=20), error_messages=REQUIRED)


class AutoMatchSchema(StrictSchema):
    matched = fields.Integer()


class PayoutItemSchema(StrictSchema):
    seq = fields.Integer()
    household_id = fields.Integer()
    amount = Money()
    status = fields.String()
    reason = fields.String(allow_none=True)


class PayoutBatchSchema(StrictSchema):
    id = fields.Integer()
    plan_id = fields.Integer()
    pay_from = fields.String()
    status = fields.String()
    voucher_id = fields.Integer(allow_none=True)
    items = fields.List(fields.Nested(PayoutItemSchema))


class StatementImportApiInSchema(StatementImportInSchema):
    filename = _text(200)
    #: the statement file (xlsx or CSV), base64-encoded
    data = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=14_000_000))


class StatementImportSchema(StrictSchema):
    statement_id = fields.Integer(allow_none=True, metadata={"description": "null on a dry run"})
    lines = fields.Integer()
    date_from = fields.Date()
    date_to = fields.Date()
    closing_balance = Money()
    mapping = fields.Dict(keys=fields.String(), values=fields.String())


class PayoutResultInSchema(StrictSchema):
    filename = _text(200)
    #: the bank's result file (xlsx or CSV), base64-encoded
    data = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=14_000_000))
    #: the payment date (default today, Beijing time)
    date = fields.Date(load_default=None, allow_none=True, error_messages=DATE)


class BankMatchInSchema(StrictSchema):
    """{account_code}: match that account automatically; {statement_line_id, voucher_line_id}: one pair by hand."""
    account_code = fields.String(validate=validate.Length(min=1, max=20))
    statement_line_id = Integer(validate=ID_RANGE)
    voucher_line_id = Integer(validate=ID_RANGE)

    @validates_schema
    def _one_way(self, data, **kwargs):
        manual = "statement_line_id" in data or "voucher_line_id" in data
        if manual and "account_code" in data:
            raise ValidationError("自动勾对只填科目，手工勾对只填两条明细的编号", "account_code")
        if manual:
            for key in ("statement_line_id", "voucher_line_id"):
                if key not in data:
                    raise ValidationError("必填", key)
        elif "account_code" not in data:
            raise ValidationError("必填", "account_code")
