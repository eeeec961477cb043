"""Schemas of the reports API (and pages)."""
from __future__ import annotations

from marshmallow import fields

from coop.schemas.common import Money, StrictSchema
from coop.schemas.ledger import VoucherLineSchema


def _signed():
    return Money(allow_negative=True)


class ReportPeriodSchema(StrictSchema):
    year = fields.Integer()
    month_from = fields.Integer()
    month_to = fields.Integer()
    label = fields.String(metadata={"example": "2025年1-3月"})


class TrialBalanceAmountsSchema(StrictSchema):
    opening_debit = _signed()
    opening_credit = _signed()
    debit = _signed()
    credit = _signed()
    ytd_debit = _signed()
    ytd_credit = _signed()
    closing_debit = _signed()
    closing_credit = _signed()


class TrialBalanceRowSchema(TrialBalanceAmountsSchema):
    code = fields.String()
    name = fields.String()
    level = fields.Integer()
    is_leaf = fields.Boolean()


class TrialBalanceSchema(StrictSchema):
    period = fields.Nested(ReportPeriodSchema)
    counterparty = fields.String(allow_none=True)
    balanced = fields.Boolean(metadata={"description": "期初、本期发生、期末的借贷合计是否相等"})
    rows = fields.List(fields.Nested(TrialBalanceRowSchema))
    totals = fields.Nested(TrialBalanceAmountsSchema, metadata={"description": "一级科目合计"})


class LedgerRowSchema(StrictSchema):
    kind = fields.String(metadata={"description": "opening 期初 | line 分录 | month_total 本月合计 | year_total 本年累计"})
    date = fields.Date(allow_none=True)
    voucher = fields.String(metadata={"description": "凭证号，如 记-0001"})
    voucher_id = fields.Integer(allow_none=True)
    summary = fields.String()
    debit = _signed()
    credit = _signed()
    direction = fields.String(metadata={"description": "余额方向：借 / 贷 / 平"})
    balance = Money(allow_negative=True, metadata={"description": "余额（带符号，借方为正）"})


class LedgerAccountSchema(StrictSchema):
    code = fields.String()
    name = fields.String(metadata={"description": "各级科目名称，如 银行存款—农业银行"})
    rows = fields.List(fields.Nested(LedgerRowSchema))


class DetailLedgerSchema(LedgerAccountSchema):
    period = fields.Nested(ReportPeriodSchema)
    counterparty = fields.String(allow_none=True)


class GeneralLedgerSchema(StrictSchema):
    period = fields.Nested(ReportPeriodSchema)
    accounts = fields.List(fields.Nested(LedgerAccountSchema))


class JournalVoucherSchema(StrictSchema):
    id = fields.Integer()
    date = fields.Date()
    display_number = fields.String()
    kind = fields.String()
    attachment_count = fields.Integer()
    lines = fields.List(fields.Nested(VoucherLineSchema))


class JournalSchema(StrictSchema):
    period = fields.Nested(ReportPeriodSchema)
    vouchers = fields.List(fields.Nested(JournalVoucherSchema))
    total_debit = _signed()
    total_credit = _signed()


class StatementRowSchema(StrictSchema):
    key = fields.String(metadata={"description": "行的稳定标识，如 total_assets"})
    label = fields.String()
    line_no = fields.Integer(allow_none=True, metadata={"description": "行次"})
    kind = fields.String(metadata={"description": "item | subtotal | total | header"})
    indent = fields.Integer()
    values = fields.List(_signed(), metadata={"description": "与 columns 一一对应"})


class StatementSchema(StrictSchema):
    title = fields.String()
    period = fields.Nested(ReportPeriodSchema)
    columns = fields.List(fields.String())
    rows = fields.List(fields.Nested(StatementRowSchema))
