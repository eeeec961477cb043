"""Schemas for vouchers, accounts, opening balances and periods."""
from __future__ import annotations

from decimal import Decimal

from marshmallow import fields, validate

from coop.ledger import codes
from coop.schemas.common import Money, StrictSchema

WORDS = ("记", "收", "付", "转")


class VoucherLineInSchema(StrictSchema):
    summary = fields.String(required=True, validate=validate.Length(min=1, max=200, error="摘要为1到200个字"),
                            error_messages={"required": "请填写摘要"})
    account_code = fields.String(required=True, validate=validate.Regexp(codes.CODE_PATTERN, error="科目编码格式不正确"),
                                 error_messages={"required": "请选择科目"})
    debit = Money(allow_negative=True, allow_zero=True, allow_empty=True, load_default=Decimal("0.00"))
    credit = Money(allow_negative=True, allow_zero=True, allow_empty=True, load_default=Decimal("0.00"))
    counterparty = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class VoucherInSchema(StrictSchema):
    date = fields.Date(required=True, error_messages={"required": "请填写日期", "invalid": "日期格式应为 YYYY-MM-DD"})
    word = fields.String(load_default="记", validate=validate.OneOf(WORDS, error="凭证字应为 记/收/付/转"))
    attachment_count = fields.Integer(load_default=0, strict=True,
                                      validate=validate.Range(min=0, max=999, error="附单据数应在0到999之间"))
    lines = fields.List(fields.Nested(VoucherLineInSchema), required=True,
                        validate=validate.Length(min=2, max=200, error="凭证应有2到200行分录"),
                        error_messages={"required": "请填写分录"})


class VoucherLineSchema(StrictSchema):
    seq = fields.Integer()
    summary = fields.String()
    account_code = fields.String(attribute="account.code")
    account_name = fields.String(attribute="account.name")
    debit = Money(allow_negative=True)
    credit = Money(allow_negative=True)
    counterparty = fields.String(allow_none=True)


class VoucherSchema(StrictSchema):
    id = fields.Integer()
    organization_id = fields.Integer()
    date = fields.Date()
    word = fields.String()
    number = fields.Integer(allow_none=True)
    display_number = fields.String()
    status = fields.String()
    kind = fields.String()
    attachment_count = fields.Integer()
    preparer = fields.String(attribute="preparer.display_name", allow_none=True)
    reviewer = fields.String(attribute="reviewer.display_name", allow_none=True)
    poster = fields.String(attribute="poster.display_name", allow_none=True)
    corrects_id = fields.Integer(allow_none=True)
    #: the red voucher that reverses this one (the link runs both ways, RULES §3)
    reversed_by_id = fields.Method("_reversed_by", allow_none=True, metadata={"type": "integer"})
    total_debit = Money(allow_negative=True)
    total_credit = Money(allow_negative=True)
    lines = fields.List(fields.Nested(VoucherLineSchema))

    def _reversed_by(self, voucher) -> int | None:
        red = voucher.reversal
        return red.id if red is not None else None


class VoucherReverseInSchema(StrictSchema):
    date = fields.Date(required=True, error_messages={"required": "请填写冲销日期"})


class AccountInSchema(StrictSchema):
    parent_code = fields.String(required=True, validate=validate.Length(min=3, max=18))
    code = fields.String(required=True, validate=validate.Regexp(codes.DETAIL_CODE_PATTERN, error="科目编码应为4到20位数字"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class AccountSchema(StrictSchema):
    code = fields.String()
    name = fields.String()
    category = fields.String()
    normal_side = fields.String()
    level = fields.Integer()
    is_leaf = fields.Boolean()
    active = fields.Boolean()


class OpeningLineSchema(StrictSchema):
    account_code = fields.String(required=True)
    amount = Money(required=True, allow_negative=True, allow_zero=True,
                   metadata={"description": "signed: debit positive, credit negative"})
    counterparty = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100),
                                 metadata={"description": "往来单位/农户: required on 112/113/201/211/221"})


class OpeningInSchema(StrictSchema):
    balances = fields.List(fields.Nested(OpeningLineSchema), required=True)


class PeriodCloseInSchema(StrictSchema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=1990, max=2100))
    month = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=12))


class PeriodReopenInSchema(PeriodCloseInSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500, error="请填写反结账原因"))


class PostingRoleSchema(StrictSchema):
    """One posting role (科目对照) and the leaf account it resolves to, or its problem."""
    role = fields.String(attribute="key")
    label = fields.String(attribute="role.label")
    top = fields.String(attribute="role.top", metadata={"description": "the first-level account it must lie under"})
    money = fields.Boolean(attribute="role.money", metadata={"description": "cash/bank: forms also ask for a leaf"})
    account_code = fields.String(attribute="code", allow_none=True)
    account_name = fields.String(attribute="name", allow_none=True)
    mapped = fields.Boolean(metadata={"description": "false: the role's default account applies"})
    problem = fields.String(allow_none=True, metadata={"description": "unmapped | not_leaf | inactive | null"})


class PostingRoleInSchema(StrictSchema):
    account_code = fields.String(required=True, allow_none=True, validate=validate.Length(max=20),
                                 metadata={"description": "a leaf under the role's first-level account; "
                                                          "null or empty clears the mapping (default applies)"})


class VoucherQuerySchema(StrictSchema):
    # marshmallow 4 ignores a validator's return value: validators must raise, hence validate.Range/OneOf
    year = fields.Integer(validate=validate.Range(min=1990, max=2100, error="年份应在1990到2100之间"))
    month = fields.Integer(validate=validate.Range(min=1, max=12, error="月份应在1到12之间"))
    status = fields.String(validate=validate.OneOf(("draft", "reviewed", "posted"), error="状态应为 draft/reviewed/posted"))
    account_code = fields.String(validate=validate.Length(max=20))
    q = fields.String(validate=validate.Length(max=100))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000, error="每页条数应在1到1000之间"))
    # bounded: SQLite refuses integers beyond 64 bits (OverflowError), PostgreSQL beyond BIGINT
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1, error="偏移量应在0到2147483647之间"))


class VoucherPageSchema(StrictSchema):
    total = fields.Integer()
    items = fields.List(fields.Nested(VoucherSchema))


class PeriodSchema(StrictSchema):
    year = fields.Integer()
    month = fields.Integer()
    status = fields.String()


class GeneratedSchema(StrictSchema):
    closed = fields.Nested(PeriodSchema)
    generated_vouchers = fields.List(fields.Nested(VoucherSchema))
