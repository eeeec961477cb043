"""Daily work over the API: 成批审核 / 成批记账 of a month or of chosen vouchers, and the caller's 待办."""
from __future__ import annotations

from flask import url_for
from flask_smorest import Blueprint

from coop.api.common import api_org, current_api_user, requires
from coop.core.i18n import translate
from coop.schemas.daily import BatchInSchema, BatchOutSchema, TodoItemSchema
from coop.services import access, batch, todo

URL = ""
blp = Blueprint("api_daily", __name__, description="日常工作 Daily work: batch review/post, to-do")


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
