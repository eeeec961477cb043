"""Organizations visible to the caller."""
from __future__ import annotations

from flask_smorest import Blueprint

from coop.api.common import api_org, current_api_user
from coop.schemas.orgs import OrganizationSchema
from coop.services import access

URL = "/orgs"
blp = Blueprint("api_orgs", __name__, description="组织 Organizations")


def _dump(org):
    p = org.policy()
    org.policy_reserve_rate, org.policy_cadre_reward_cap, org.policy_cash_limit, org.policy_buyback_limit = (
        p["reserve_rate"], p["cadre_reward_cap"], p["cash_limit"], p["buyback_limit"])
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
