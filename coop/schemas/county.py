"""The county's view over the API (RULES §16): query arguments and the JSON of bands and consolidated statements."""
from __future__ import annotations

from marshmallow import fields, validate

from .common import Money, StrictSchema

YEAR = validate.Range(min=1990, max=2100, error="年份应在1990到2100之间")


class ScopeQuerySchema(StrictSchema):
    township_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    year = fields.Integer(validate=YEAR)


class StatementQuerySchema(ScopeQuerySchema):
    month = fields.Integer(validate=validate.Range(min=1, max=12, error="月份应在1到12之间"))
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
