"""County administration over the API: organizations, 章程 parameters, users and their accounts (reset,
deactivate, reactivate, grant and remove roles — county admins in their county, township auditors for the village
roles of their township; anyone else gets 404 for any user)."""
from __future__ import annotations

from flask_smorest import Blueprint

from coop.api.common import current_api_user
from coop.api.orgs import OrganizationSchema, _dump
from coop.core.errors import NotFound
from coop.core.extensions import db
from coop.models import Organization
from coop.schemas.admin import CodeSchemeSchema, UserAccountSchema, UserOutSchema, UserResetSchema
from coop.schemas.orgs import CharterInSchema, OrganizationInSchema, RoleGrantInSchema, UserInSchema
from coop.services import access, admin

URL = "/admin"
blp = Blueprint("api_admin", __name__, description="县级管理 County administration")


@blp.route("/orgs", methods=["POST"])
@blp.arguments(OrganizationInSchema)
@blp.response(201, OrganizationSchema)
def create_org(data):
    """Create an organization in your county (with the 42-account chart). USCC is checked."""
    org = admin.create_organization(current_api_user(), data)
    return _dump(org)


@blp.route("/code-scheme", methods=["PUT"])
@blp.arguments(CodeSchemeSchema)
@blp.response(200, CodeSchemeSchema)
def put_code_scheme(data):
    """The county's 明细科目 code scheme; only before its first organization."""
    from coop.models import County

    user = current_api_user()
    ids = access.administered_counties(user)
    if not ids:
        raise NotFound("找不到该县")
    county = admin.set_code_scheme(user, db.session.get(County, ids[0]), data["code_scheme"])
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
    return _dump(org)


@blp.route("/users", methods=["POST"])
@blp.arguments(UserInSchema)
@blp.response(201, UserOutSchema)
def create_user(data):
    """Create a user with one role in your county."""
    user = admin.create_user_with_role(current_api_user(), data)
    return user


@blp.route("/users")
@blp.response(200, UserAccountSchema(many=True))
def list_accounts():
    """The accounts you manage (every role of theirs within your county, or on the villages of your township)."""
    return admin.manageable_users(current_api_user())


def _target(user_id: int):
    return admin.get_managed_user(current_api_user(), user_id)


@blp.route("/users/<int:user_id>/reset", methods=["POST"])
@blp.response(200, UserResetSchema)
def reset_account(user_id: int):
    """A new one-time password; every session and API token of the user ends."""
    target = _target(user_id)
    password = admin.reset_password(current_api_user(), target)
    return {"user": target, "one_time_password": password}, 200, {"Cache-Control": "no-store"}


@blp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@blp.response(200, UserAccountSchema)
def deactivate_account(user_id: int):
    """Refuse the user's logins; every session and API token ends."""
    target = admin.set_active(current_api_user(), _target(user_id), False)
    return target


@blp.route("/users/<int:user_id>/revoke-tokens", methods=["POST"])
@blp.response(200, UserAccountSchema)
def revoke_account_tokens(user_id: int):
    """Revoke every API token of the user."""
    target = _target(user_id)
    admin.revoke_tokens(current_api_user(), target)
    return target


@blp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@blp.response(200, UserAccountSchema)
def reactivate_account(user_id: int):
    target = admin.set_active(current_api_user(), _target(user_id), True)
    return target


@blp.route("/users/<int:user_id>/roles", methods=["POST"])
@blp.arguments(RoleGrantInSchema)
@blp.response(201, UserAccountSchema)
def grant_role(data, user_id: int):
    """Grant a role: organization roles need organization_id, township roles township_id."""
    target = _target(user_id)
    admin.grant_role(current_api_user(), target, data["role"], organization_id=data["organization_id"],
                     township_id=data["township_id"])
    return target


@blp.route("/users/<int:user_id>/roles/<int:assignment_id>", methods=["DELETE"])
@blp.response(200, UserAccountSchema)
def remove_role(user_id: int, assignment_id: int):
    """Take a role away (not the last one: deactivate instead); every session of the user ends."""
    target = _target(user_id)
    admin.remove_role(current_api_user(), target, assignment_id)
    return target
