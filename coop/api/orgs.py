"""Organizations visible to the caller."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import fields

from coop.schemas.common import Money, Ratio, StrictSchema
from coop.services import access
from coop.api.common import api_org, current_api_user

URL = "/orgs"
blp = Blueprint("api_orgs", __name__, description="组织 Organizations")


class OrganizationSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    cun_she_he_yi = fields.Boolean()
    uscc = fields.String(allow_none=True)
    township = fields.String(attribute="township.name")
    county = fields.String(attribute="township.county.name")
    books_start_year = fields.Integer()
    books_start_month = fields.Integer()
    opening_locked = fields.Boolean()
    reserve_rate = Ratio(attribute="policy_reserve_rate")
    cadre_reward_cap = Ratio(attribute="policy_cadre_reward_cap")
    cash_limit = Money(attribute="policy_cash_limit")


def _dump(org):
    p = org.policy()
    org.policy_reserve_rate, org.policy_cadre_reward_cap, org.policy_cash_limit = (
        p["reserve_rate"], p["cadre_reward_cap"], p["cash_limit"])
    return org


@blp.route("")
@blp.response(200, OrganizationSchema(many=True))
def list_orgs():
    """The organizations you are assigned to (directly or through your township/county)."""
    return [_dump(o) for o in access.visible_orgs(current_api_user())]


@blp.route("/<int:org_id>")
@blp.response(200, OrganizationSchema)
def get_org(org_id: int):
    return _dump(api_org(org_id, None))
