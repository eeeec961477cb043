"""The county's view over the API (RULES §16): query arguments and the JSON of bands and consolidated statements."""
from __future__ import annotations

from marshmallow import fields, validate

from coop.schemas.common import Integer, Money, StrictSchema

YEAR = validate.Range(min=1990, max=2100, error="年份应在1990到2100之间")


class ScopeQuerySchema(StrictSchema):
    township_id = Integer(validate=validate.Range(min=1, max=2**31 - 1))
    year = Integer(validate=YEAR)


class StatementQuerySchema(ScopeQuerySchema):
    month = Integer(validate=validate.Range(min=1, max=12, error="月份应在1到12之间"))
    statement = fields.String(load_default="balance",
                              validate=validate.OneOf(("balance", "income"), error="应为 balance 或 income"))


class VillageBandSchema(StrictSchema):
    organization_id = fields.Integer()
    name = fields.String()
    township = fields.String()
    profits = fields.Dict(keys=fields.String(), values=Money(allow_negative=True, allow_zero=True))
    closed = fields.Dict(keys=fields.String(), values=fields.Boolean())
    band = fields.String()
    target = Money(allow_negative=True, allow_zero=True, allow_none=True)


class BandsSchema(StrictSchema):
    scope = fields.String()
    base_year = fields.Integer()
    factor = fields.Integer()
    target_year = fields.Integer()
    years = fields.List(fields.Integer())
    counts = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()))
    villages = fields.List(fields.Nested(VillageBandSchema))


class StatementLineSchema(StrictSchema):
    key = fields.String()
    label = fields.String()
    values = fields.Dict(keys=fields.String(), values=Money(allow_negative=True, allow_zero=True),
                         metadata={"description": "organization id → amount"})
    total = Money(allow_negative=True, allow_zero=True)
    eliminations = Money(allow_negative=True, allow_zero=True)
    consolidated = Money(allow_negative=True, allow_zero=True)


class ConsolidatedSchema(StrictSchema):
    scope = fields.String()
    statement = fields.String()
    year = fields.Integer()
    month = fields.Integer()
    organizations = fields.Dict(keys=fields.String(), values=fields.String())
    closed = fields.List(fields.Integer())
    lines = fields.List(fields.Nested(StatementLineSchema))


# ---------------------------------------------------------------- 预决算 and audit cases (web forms and API alike)

_TEXT = validate.Length(max=200)
_COUNT = validate.Range(min=0, max=1_000_000, error="人数应在0到1000000之间")


class BudgetLineInSchema(StrictSchema):
    account_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    amount = Money(required=True, allow_zero=True)


class BudgetLinesInSchema(StrictSchema):
    year = Integer(required=True, validate=YEAR)
    lines = fields.List(fields.Nested(BudgetLineInSchema), required=True)


class BudgetApprovalInSchema(StrictSchema):
    year = Integer(required=True, validate=YEAR)
    meeting_date = fields.Date(required=True)
    entitled = Integer(required=True, validate=_COUNT)
    present = Integer(required=True, validate=_COUNT)
    votes_for = Integer(required=True, validate=_COUNT)
    votes_against = Integer(load_default=0, validate=_COUNT)
    abstained = Integer(load_default=0, validate=_COUNT)
    reference = fields.String(required=True, validate=_TEXT)


class AuditCaseInSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(("regular", "special", "departure"),
                                                                 error="审计类型应为定期、专项或离任审计"))
    title = fields.String(required=True, validate=_TEXT)
    scope = fields.String(required=True, validate=validate.Length(max=4000))
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)
    subject = fields.String(load_default=None, validate=validate.Length(max=100))


class FindingInSchema(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(max=4000))
    voucher_ids = fields.List(Integer(validate=validate.Range(min=1, max=2**31 - 1)), load_default=list)
    amount = Money(load_default=None, allow_zero=True)


class ItemInSchema(StrictSchema):
    action = fields.String(required=True, validate=validate.Length(max=4000))
    owner = fields.String(required=True, validate=validate.Length(max=100))
    deadline = fields.Date(required=True)


class ItemDoneInSchema(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(max=4000))
    done_on = fields.Date(required=True)


class CloseInSchema(StrictSchema):
    conclusion = fields.String(required=True, validate=validate.Length(max=8000))


class BudgetQuerySchema(StrictSchema):
    year = Integer(required=True, validate=YEAR)


class BudgetRowSchema(StrictSchema):
    account_code = fields.String()
    name = fields.String()
    budget = Money(allow_zero=True)
    months = fields.List(Money(allow_negative=True, allow_zero=True))
    actual = Money(allow_negative=True, allow_zero=True)
    variance = Money(allow_negative=True, allow_zero=True)


class BudgetSchema(StrictSchema):
    year = fields.Integer()
    #: draft | approved | none (the year's budget is not drawn up yet: no rows)
    status = fields.String(metadata={"description": "draft | approved | none (未编制)"})
    meeting_date = fields.Date(allow_none=True)
    entitled = fields.Integer(allow_none=True)
    present = fields.Integer(allow_none=True)
    votes_for = fields.Integer(allow_none=True)
    votes_against = fields.Integer(allow_none=True)
    abstained = fields.Integer(allow_none=True)
    reference = fields.String(allow_none=True)
    rows = fields.List(fields.Nested(BudgetRowSchema))


class ItemSchema(StrictSchema):
    id = fields.Integer()
    action = fields.String()
    owner = fields.String()
    deadline = fields.Date()
    done_on = fields.Date(allow_none=True)
    done_note = fields.String(allow_none=True)


class FindingSchema(StrictSchema):
    id = fields.Integer()
    text = fields.String()
    amount = Money(allow_zero=True, allow_none=True)
    voucher_ids = fields.List(fields.Integer())
    items = fields.List(fields.Nested(ItemSchema))


class AuditCaseSchema(StrictSchema):
    id = fields.Integer()
    organization_id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    scope = fields.String()
    period_from = fields.Date()
    period_to = fields.Date()
    subject = fields.String(allow_none=True)
    status = fields.String()
    opened_on = fields.Date()
    conclusion = fields.String(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    published_on = fields.Date(allow_none=True)
    findings = fields.List(fields.Nested(FindingSchema))


class TargetInSchema(StrictSchema):
    base_year = Integer(required=True, validate=YEAR)
    factor = Integer(load_default=2, validate=validate.Range(min=1, max=10, error="倍数应在1至10之间"))
    years = Integer(load_default=3, validate=validate.Range(min=1, max=10, error="年限应在1至10年之间"))
