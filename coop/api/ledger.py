"""Accounts, opening balances, vouchers and periods of one organization."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy.orm.attributes import set_committed_value

from coop.core.extensions import db
from coop.schemas.common import StrictSchema
from coop.schemas.ledger import (
    AccountInSchema, AccountSchema, OpeningInSchema, PeriodCloseInSchema, PeriodReopenInSchema, PostingRoleInSchema,
    PostingRoleSchema, VoucherInSchema, VoucherReverseInSchema, VoucherSchema,
)
from coop.core.errors import NotFound
from coop.models import Voucher
from coop.ledger.roles import ROLE_BY_KEY
from coop.services import access, accounts, opening, periods, roles, vouchers
from coop.api.common import current_api_user, requires

URL = "/orgs/<int:org_id>"
blp = Blueprint("api_ledger", __name__, description="账务 Ledger: accounts, vouchers, periods")


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


def _org(org_id: int, permission=access.READ_LEDGER):
    return access.get_org(current_api_user(), org_id, permission)


def _done(obj):
    db.session.commit()
    return obj


@blp.route("/accounts")
@blp.response(200, AccountSchema(many=True))
def list_accounts(org_id: int):
    """会计科目: the national chart and this organization's 明细科目."""
    return accounts.accounts_of(_org(org_id))


@blp.route("/accounts", methods=["POST"])
@blp.arguments(AccountInSchema)
@blp.response(201, AccountSchema)
@requires(access.MANAGE_ACCOUNTS)
def add_account(data, org_id: int):
    """Add a 明细科目 under an existing account."""
    org = _org(org_id, access.MANAGE_ACCOUNTS)
    return _done(accounts.add_detail_account(org, data["parent_code"], data["code"], data["name"]))


@blp.route("/posting-roles")
@blp.response(200, PostingRoleSchema(many=True))
def list_posting_roles(org_id: int):
    """科目对照: every posting role, the leaf account it resolves to, or its problem (unmapped / not_leaf)."""
    return roles.statuses(_org(org_id))


@blp.route("/posting-roles/<role>", methods=["PUT"])
@blp.arguments(PostingRoleInSchema)
@blp.response(200, PostingRoleSchema)
@requires(access.MANAGE_ACCOUNTS)
def put_posting_role(data, org_id: int, role: str):
    """Map a posting role to a leaf account under its first-level account (null clears: the default applies)."""
    org = _org(org_id, access.MANAGE_ACCOUNTS)
    if role not in ROLE_BY_KEY:
        raise NotFound(f"没有名为 {role} 的记账角色")
    return _done(roles.set_mapping(org, role, data["account_code"], user=current_api_user()))


@blp.route("/opening-balances")
@blp.response(200, OpeningInSchema)
def get_opening(org_id: int):
    return _opening_body(_org(org_id))


def _opening_body(org):
    return {"balances": [{"account_code": c, "amount": a, "counterparty": cp} for c, cp, a in opening.opening_lines(org)]}


@blp.route("/opening-balances", methods=["PUT"])
@blp.arguments(OpeningInSchema)
@blp.response(200, OpeningInSchema)
@requires(access.MANAGE_ACCOUNTS)
def put_opening(data, org_id: int):
    """Replace the opening balances (signed: debit positive). Refused once locked."""
    org = _org(org_id, access.MANAGE_ACCOUNTS)
    balances = {}
    for line in data["balances"]:
        key = (line["account_code"], line["counterparty"]) if line.get("counterparty") else line["account_code"]
        balances[key] = balances.get(key, 0) + line["amount"]
    opening.set_opening_balances(org, balances, user=current_api_user())
    db.session.commit()
    return _opening_body(org)


@blp.route("/opening-balances/lock", methods=["POST"])
@blp.response(204)
@requires(access.MANAGE_ACCOUNTS)
def lock_opening(org_id: int):
    """Lock the opening balances; refused until they balance."""
    opening.lock_opening_balances(_org(org_id, access.MANAGE_ACCOUNTS), user=current_api_user())
    db.session.commit()


@blp.route("/vouchers")
@blp.arguments(VoucherQuerySchema, location="query")
@blp.response(200, VoucherPageSchema)
def list_vouchers(args, org_id: int):
    org = _org(org_id)
    items, total = vouchers.list_vouchers(
        org, year=args.get("year"), month=args.get("month"), status=args.get("status"),
        account_code=args.get("account_code"), text=args.get("q"), limit=args["limit"], offset=args["offset"],
    )
    _load_reversals(items)
    return {"total": total, "items": items}


def _load_reversals(items: list[Voucher]) -> None:
    """Each listed voucher's `reversed_by_id` reads `Voucher.corrections`: load them for the whole page in one
    query, not one lazy load per voucher (100 statements for a page of 100: half the page's time)."""
    found: dict[int, list[Voucher]] = {v.id: [] for v in items}
    if found:
        for red in db.session.scalars(sa.select(Voucher).where(Voucher.corrects_id.in_(found)).order_by(Voucher.id)):
            found[red.corrects_id].append(red)
    for v in items:
        set_committed_value(v, "corrections", found[v.id])


@blp.route("/vouchers", methods=["POST"])
@blp.arguments(VoucherInSchema)
@blp.response(201, VoucherSchema)
@requires(access.PREPARE)
def create_voucher(data, org_id: int):
    """制单: create a draft voucher. Every rule is checked: balance, leaf accounts, open period, amounts."""
    org = _org(org_id, access.PREPARE)
    v = vouchers.create_draft(org, data, user=current_api_user())
    db.session.commit()
    return v, 201, {"Location": url_for("api_ledger.get_voucher", org_id=org_id, voucher_id=v.id)}


@blp.route("/vouchers/<int:voucher_id>")
@blp.response(200, VoucherSchema)
def get_voucher(org_id: int, voucher_id: int):
    return vouchers.get_voucher(_org(org_id), voucher_id)


@blp.route("/vouchers/<int:voucher_id>", methods=["PUT"])
@blp.arguments(VoucherInSchema)
@blp.response(200, VoucherSchema)
@requires(access.PREPARE)
def update_voucher(data, org_id: int, voucher_id: int):
    org = _org(org_id, access.PREPARE)
    return _done(vouchers.update_draft(vouchers.get_voucher(org, voucher_id), data, user=current_api_user()))


@blp.route("/vouchers/<int:voucher_id>", methods=["DELETE"])
@blp.response(204)
@requires(access.PREPARE)
def delete_voucher(org_id: int, voucher_id: int):
    org = _org(org_id, access.PREPARE)
    vouchers.delete_draft(vouchers.get_voucher(org, voucher_id), user=current_api_user())
    db.session.commit()


def _action(name: str, permission: str, fn):
    @blp.route(f"/vouchers/<int:voucher_id>/{name}", methods=["POST"], endpoint=f"voucher_{name}")
    @blp.response(200, VoucherSchema)
    @requires(permission)
    def view(org_id: int, voucher_id: int):
        org = _org(org_id, permission)
        return _done(fn(vouchers.get_voucher(org, voucher_id), user=current_api_user()))

    view.__doc__ = {"review": "审核 (not by the preparer; assigns the number)", "unreview": "取消审核",
                    "post": "记账"}[name]
    return view


_action("review", access.REVIEW, vouchers.review_voucher)
_action("unreview", access.REVIEW, vouchers.unreview_voucher)
_action("post", access.POST, vouchers.post_voucher)


@blp.route("/vouchers/<int:voucher_id>/reverse", methods=["POST"])
@blp.arguments(VoucherReverseInSchema)
@blp.response(201, VoucherSchema)
@requires(access.PREPARE)
def reverse_voucher(data, org_id: int, voucher_id: int):
    """红字冲销: creates a red draft that reverses a posted voucher."""
    org = _org(org_id, access.PREPARE)
    return _done(vouchers.reverse_voucher(vouchers.get_voucher(org, voucher_id), user=current_api_user(),
                                          date=data["date"]))


@blp.route("/periods")
@blp.response(200, PeriodSchema(many=True))
def list_periods(org_id: int):
    org = _org(org_id)
    return [{"year": y, "month": m, "status": "closed"} for y, m in sorted(periods.closed_months(org))]


@blp.route("/periods/close", methods=["POST"])
@blp.arguments(PeriodCloseInSchema)
@blp.response(200, GeneratedSchema)
@requires(access.CLOSE)
def close_period(data, org_id: int):
    """结账 a month. In December the year-end carry-over vouchers are generated and posted."""
    org = _org(org_id, access.CLOSE)
    generated = periods.close_period(org, data["year"], data["month"], user=current_api_user())
    db.session.commit()
    return {"closed": {"year": data["year"], "month": data["month"], "status": "closed"},
            "generated_vouchers": generated}


@blp.route("/periods/reopen", methods=["POST"])
@blp.arguments(PeriodReopenInSchema)
@blp.response(200, PeriodSchema)
@requires(access.REOPEN, "只有乡镇经管站或县级管理员可以反结账")
def reopen_period(data, org_id: int):
    """反结账 the latest closed month (township or county supervisors only), with a reason."""
    org = _org(org_id, access.READ_LEDGER)
    periods.reopen_period(org, data["year"], data["month"], user=current_api_user(), reason=data["reason"])
    db.session.commit()
    return {"year": data["year"], "month": data["month"], "status": "open"}
