"""Schemas of the daily API (and pages)."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from coop.schemas.common import Integer, StrictSchema


class BatchInSchema(StrictSchema):
    year = Integer(validate=validate.Range(min=1990, max=2100, error="年份应在1990到2100之间"))
    month = Integer(validate=validate.Range(min=1, max=12, error="月份应在1到12之间"))
    ids = fields.List(Integer(validate=validate.Range(min=1, max=2**31 - 1, error="凭证编号无效")),
                      validate=validate.Length(min=1, max=1000, error="一次最多 1000 张凭证"),
                      metadata={"description": "the vouchers to take the step; or give year and month"})

    @validates_schema
    def _one_of(self, data, **kwargs):
        if "ids" in data and ("year" in data or "month" in data):
            raise ValidationError("请给出 ids，或者 year 和 month，不能同时给出", "_schema")
        if "ids" not in data and not ("year" in data and "month" in data):
            raise ValidationError("请给出要处理的凭证 ids，或者 year 和 month", "_schema")


class SkippedSchema(StrictSchema):
    id = fields.Integer()
    display_number = fields.String()
    reason = fields.String()


class BatchOutSchema(StrictSchema):
    step = fields.String(metadata={"description": "review | post"})
    done = fields.List(fields.Integer(), metadata={"description": "ids of the vouchers reviewed/posted, in order"})
    skipped = fields.List(fields.Nested(SkippedSchema))


class TodoItemSchema(StrictSchema):
    key = fields.String()
    label = fields.String()
    count = fields.Integer()
    organization_id = fields.Integer(allow_none=True)
    url = fields.String(metadata={"description": "the web page that acts on it"})
