"""County administration over the API: organizations, 章程 parameters, users."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import fields

from ..errors import NotFound
from ..extensions import db
from ..models import Organization
from ..schemas.common import StrictSchema
from ..schemas.orgs import CharterInSchema, OrganizationInSchema, UserInSchema
from ..services import access, admin
from . import current_api_user
from .orgs import OrganizationSchema, _dump

URL = "/admin"
blp = Blueprint("api_admin", __name__, description="县级管理 County administration")


class UserOutSchema(StrictSchema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


@blp.route("/orgs", methods=["POST"])
@blp.arguments(OrganizationInSchema)
@blp.response(201, OrganizationSchema)
def create_org(data):
    """Create an organization in your county (with the 42-account chart). USCC is checked."""
    org = admin.create_organization(current_api_user(), data)
    db.session.commit()
    return _dump(org)


class CodeSchemeSchema(StrictSchema):
    code_scheme = fields.String(required=True, metadata={"description": "2-2-2 (default) or a legacy 3-3, …"})


@blp.route("/code-scheme", methods=["PUT"])
@blp.arguments(CodeSchemeSchema)
@blp.response(200, CodeSchemeSchema)
def put_code_scheme(data):
    """The county's 明细科目 code scheme; only before its first organization."""
    from ..models import County

    user = current_api_user()
    ids = access.administered_counties(user)
    if not ids:
        raise NotFound("找不到该县")
    county = admin.set_code_scheme(user, db.session.get(County, ids[0]), data["code_scheme"])
    db.session.commit()
    return {"code_scheme": county.code_scheme}


@blp.route("/orgs/<int:org_id>/charter", methods=["PUT"])
@blp.arguments(CharterInSchema)
@blp.response(200, OrganizationSchema)
def put_charter(data, org_id: int):
    """Set 章程 parameters; null falls back to the county default."""
    user = current_api_user()
    org = db.session.get(Organization, org_id)
    if org is None or org.township.county_id not in access.administered_counties(user):
        raise NotFound("找不到该组织")
    admin.update_charter(user, org, data)
    db.session.commit()
    return _dump(org)


@blp.route("/users", methods=["POST"])
@blp.arguments(UserInSchema)
@blp.response(201, UserOutSchema)
def create_user(data):
    """Create a user with one role in your county."""
    user = admin.create_user_with_role(current_api_user(), data)
    db.session.commit()
    return user
