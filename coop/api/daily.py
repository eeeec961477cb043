"""Daily work over the API: 成批审核 / 成批记账 of a month or of chosen vouchers, and the caller's 待办."""
from __future__ import annotations

from flask import url_for
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, validate, validates_schema

from coop.core.i18n import translate
from coop.schemas.common import Integer, StrictSchema
from coop.services import access, batch, todo
from coop.api.common import api_org, current_api_user, requires

URL = ""
blp = Blueprint("api_daily", __name__, description="日常工作 Daily work: batch review/post, to-do")


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


def _batch(step: str, data: dict, org_id: int) -> dict:
    user = current_api_user()
    org = api_org(org_id, batch.STEPS[step][0])
    chosen = batch.candidates(org, step, year=data.get("year"), month=data.get("month"), ids=data.get("ids"))
    result = batch.run(org, step, user, chosen)
    return {"step": step, "done": [v.id for v in result.done],
            "skipped": [{"id": s.voucher.id, "display_number": s.voucher.display_number, "reason": str(s.reason)}
                        for s in result.skipped]}


@blp.route("/orgs/<int:org_id>/vouchers/batch-review", methods=["POST"])
@blp.arguments(BatchInSchema)
@blp.response(200, BatchOutSchema)
@requires(access.REVIEW)
def batch_review(data, org_id: int):
    """成批审核: review every draft of a month (or the given ids) that the caller did not prepare; the others are
    listed as skipped with the reason. Numbers are given in date order."""
    return _batch("review", data, org_id)


@blp.route("/orgs/<int:org_id>/vouchers/batch-post", methods=["POST"])
@blp.arguments(BatchInSchema)
@blp.response(200, BatchOutSchema)
@requires(access.POST)
def batch_post(data, org_id: int):
    """成批记账: post every reviewed voucher of a month (or the given ids); the others are listed as skipped."""
    return _batch("post", data, org_id)


@blp.route("/todo")
@blp.response(200, TodoItemSchema(many=True))
def my_todo():
    """待办: what waits for the caller, per organization, each with the web page that acts on it."""
    items = todo.todo_for(current_api_user()).items
    return [{"key": i.key, "label": translate(i.label), "count": i.count,
             "organization_id": i.org.id if i.org else None, "url": url_for(i.endpoint, **i.url_args)}
            for i in items]
