"""County administration pages: organizations, 章程 parameters, users and roles."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coop.core.extensions import db
from coop.models import County, Organization, RoleAssignment, User
from coop.models.org import ORG_KINDS
from coop.models.users import ROLES
from coop.schemas.orgs import CharterInSchema, OrganizationInSchema, RoleGrantInSchema, UserInSchema
from coop.services import access, admin
from coop.web.forms import submit
from coop.web.orgs import url_org_id

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _county() -> County:
    ids = access.administered_counties(current_user)
    if not ids:
        abort(404)
    return db.session.get(County, ids[0])


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    county = _county()
    errors = {}
    if request.method == "POST":
        _, errors, _ = submit(OrganizationInSchema(), lambda data: admin.create_organization(current_user, data))
        if not errors:
            flash(gettext("组织已创建，已生成 2023 制度 42 个一级科目"), "success")
            return redirect(url_for("admin.index"))
    return render_template("admin/index.html", county=county, kinds=ORG_KINDS, errors=errors, form=request.form), (
        422 if errors else 200)


@bp.route("/code-scheme", methods=["POST"])
@login_required
def code_scheme():
    county = _county()
    _, errors, status = submit(None, lambda: admin.set_code_scheme(current_user, county,
                                                                  request.form.get("code_scheme", "")))
    if errors:
        return render_template("admin/index.html", county=county, kinds=ORG_KINDS, errors={}, form={},
                               scheme_errors=errors, scheme_form=request.form), status
    flash(gettext("科目编码方案已设为 %(key)s", key=county.code_scheme), "success")
    return redirect(url_for("admin.index") + "#code-scheme")


@bp.route("/orgs/<int:org_id>/charter", methods=["GET", "POST"])
@login_required
def charter():
    county = _county()
    org = db.session.get(Organization, url_org_id())
    if org is None or org.township.county_id != county.id:
        abort(404)
    errors = {}
    if request.method == "POST":
        _, errors, _ = submit(CharterInSchema(), lambda data: admin.update_charter(current_user, org, data))
        if not errors:
            flash(gettext("章程参数已保存"), "success")
            return redirect(url_for("admin.charter"))
    return render_template("admin/charter.html", county=county, org=org, errors=errors, form=request.form), (
        422 if errors else 200)


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users_page():
    county = _county()
    errors = {}
    if request.method == "POST":
        # values as typed: the one-time password is not stripped
        raw = {k: v for k, v in request.form.items() if k != "csrf_token" and v.strip() != ""}
        _, errors, _ = submit(UserInSchema(), lambda data: admin.create_user_with_role(current_user, data), raw)
        if not errors:
            flash(gettext("用户已创建"), "success")
            return redirect(url_for("admin.users_page"))
    township_ids = [t.id for t in county.townships]
    org_ids = [o.id for t in county.townships for o in t.organizations]
    people = db.session.scalars(
        sa.select(User).join(RoleAssignment).where(sa.or_(
            RoleAssignment.county_id == county.id, RoleAssignment.township_id.in_(township_ids),
            RoleAssignment.organization_id.in_(org_ids))).distinct().order_by(User.username))
    return render_template("admin/users.html", county=county, roles=ROLES, role_order=admin.ROLE_ORDER,
                           people=list(people), errors=errors,
                           form=request.form, org_names={o.id: o.name for t in county.townships for o in t.organizations},
                           township_names={t.id: t.name for t in county.townships}), (422 if errors else 200)




# ---------------------------------------------------------------- accounts: reset, deactivate, roles (RULES §13)


def _account_admin() -> None:
    """County admins and township auditors manage accounts (each within their area); others get a 404."""
    if not (access.administered_counties(current_user)
            or access.has_role_anywhere(current_user, "township_auditor")):
        abort(404)


def _scopes() -> tuple[dict, dict]:
    """The organizations and townships whose roles the current user may grant, by id → name."""
    counties = set(access.administered_counties(current_user))
    townships = {r.township_id for r in current_user.roles if r.role == "township_auditor" and r.township_id}
    orgs = {o.id: o.name for o in db.session.scalars(sa.select(Organization).order_by(Organization.name))
            if o.township.county_id in counties or o.township_id in townships}
    from coop.models import Township

    tships = {t.id: t.name for t in db.session.scalars(sa.select(Township).where(Township.county_id.in_(counties))
                                                        .order_by(Township.name))}
    return orgs, tships


def _accounts_page(errors=None, new_password=None, target=None, status=200):
    orgs, tships = _scopes()
    return render_template("admin/accounts.html", people=admin.manageable_users(current_user), roles=ROLES,
                           role_order=admin.ROLE_ORDER, org_names=orgs, township_names=tships,
                           errors=errors or {}, new_password=new_password, target=target,
                           is_county=bool(access.administered_counties(current_user))), status


@bp.route("/accounts")
@login_required
def accounts():
    _account_admin()
    return _accounts_page()


def _account_action(user_id: int, action, schema=None):
    """Run `action(user)` (or `action(user, data)` with a form `schema`) on a user the caller manages (else 404)."""
    _account_admin()
    target = admin.get_managed_user(current_user, user_id)
    if schema is None:
        result, errors, _ = submit(None, lambda: action(target))
    else:
        result, errors, _ = submit(schema, lambda data: action(target, data))
    return target, result, errors


@bp.route("/accounts/<int:user_id>/reset", methods=["POST"])
@login_required
def account_reset(user_id: int):
    target, password, errors = _account_action(user_id, lambda u: admin.reset_password(current_user, u))
    if errors:
        return _accounts_page(errors, status=422)
    body, status = _accounts_page(new_password=password, target=target)
    response = current_app.make_response((body, status))
    response.headers["Cache-Control"] = "no-store"  # the one-time password must not linger in a cache
    return response


@bp.route("/accounts/<int:user_id>/deactivate", methods=["POST"])
@login_required
def account_deactivate(user_id: int):
    _, _, errors = _account_action(user_id, lambda u: admin.set_active(current_user, u, False))
    if errors:
        return _accounts_page(errors, status=422)
    flash(gettext("账户已停用，该用户的所有登录和 API 令牌已失效"), "success")
    return redirect(url_for("admin.accounts"))


@bp.route("/accounts/<int:user_id>/revoke-tokens", methods=["POST"])
@login_required
def account_revoke_tokens(user_id: int):
    _, revoked, errors = _account_action(user_id, lambda u: admin.revoke_tokens(current_user, u))
    if errors:
        return _accounts_page(errors, status=422)
    flash(gettext("已吊销该用户的 %(n)s 个 API 令牌", n=revoked), "success")
    return redirect(url_for("admin.accounts"))


@bp.route("/accounts/<int:user_id>/reactivate", methods=["POST"])
@login_required
def account_reactivate(user_id: int):
    _, _, errors = _account_action(user_id, lambda u: admin.set_active(current_user, u, True))
    if errors:
        return _accounts_page(errors, status=422)
    flash(gettext("账户已启用"), "success")
    return redirect(url_for("admin.accounts"))


@bp.route("/accounts/<int:user_id>/roles", methods=["POST"])
@login_required
def account_grant(user_id: int):
    def grant(u, data):
        return admin.grant_role(current_user, u, data["role"], organization_id=data["organization_id"],
                                township_id=data["township_id"])

    _, _, errors = _account_action(user_id, grant, RoleGrantInSchema())
    if errors:
        return _accounts_page(errors, status=422)
    flash(gettext("角色已授予"), "success")
    return redirect(url_for("admin.accounts"))


@bp.route("/accounts/<int:user_id>/roles/<int:assignment_id>/remove", methods=["POST"])
@login_required
def account_remove_role(user_id: int, assignment_id: int):
    _, _, errors = _account_action(user_id, lambda u: admin.remove_role(current_user, u, assignment_id))
    if errors:
        return _accounts_page(errors, status=422)
    flash(gettext("角色已取消，该用户需重新登录"), "success")
    return redirect(url_for("admin.accounts"))
