"""County administration pages: organizations, 章程 parameters, users and roles."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from marshmallow import ValidationError

from ..errors import CoopError, flatten_errors
from ..extensions import db
from ..models import County, Organization, RoleAssignment, User
from ..models.org import ORG_KINDS
from ..models.users import ROLES
from ..schemas.orgs import CharterInSchema, OrganizationInSchema, UserInSchema
from ..services import access, admin

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _county() -> County:
    ids = access.administered_counties(current_user)
    if not ids:
        abort(404)
    return db.session.get(County, ids[0])


def _form(schema, form) -> dict:
    """Form fields → schema input: empty strings become missing, so defaults apply."""
    raw = {k: v for k, v in form.items() if k != "csrf_token" and v.strip() != ""}
    return schema.load(raw)


def _submit(schema, action):
    """Load the form with `schema` and run `action(data)`; returns the flattened errors (empty on success)."""
    try:
        action(_form(schema, request.form))
        db.session.commit()
        return {}
    except ValidationError as exc:
        db.session.rollback()
        return flatten_errors(exc.messages)
    except CoopError as exc:
        db.session.rollback()
        return flatten_errors(exc.errors)


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    county = _county()
    errors = {}
    if request.method == "POST":
        errors = _submit(OrganizationInSchema(), lambda data: admin.create_organization(current_user, data))
        if not errors:
            flash(gettext("组织已创建，已生成 2023 制度 42 个一级科目"), "success")
            return redirect(url_for("admin.index"))
    return render_template("admin/index.html", county=county, kinds=ORG_KINDS, errors=errors, form=request.form), (
        422 if errors else 200)


@bp.route("/code-scheme", methods=["POST"])
@login_required
def code_scheme():
    county = _county()
    try:
        admin.set_code_scheme(current_user, county, request.form.get("code_scheme", ""))
        db.session.commit()
    except CoopError as exc:
        db.session.rollback()
        return render_template("admin/index.html", county=county, kinds=ORG_KINDS, errors={}, form={},
                               scheme_errors=flatten_errors(exc.errors), scheme_form=request.form), exc.status_code
    flash(gettext("科目编码方案已设为 %(key)s", key=county.code_scheme), "success")
    return redirect(url_for("admin.index") + "#code-scheme")


@bp.route("/orgs/<int:org_id>/charter", methods=["GET", "POST"])
@login_required
def charter(org_id: int):
    county = _county()
    org = db.session.get(Organization, org_id)
    if org is None or org.township.county_id != county.id:
        abort(404)
    errors = {}
    if request.method == "POST":
        errors = _submit(CharterInSchema(), lambda data: admin.update_charter(current_user, org, data))
        if not errors:
            flash(gettext("章程参数已保存"), "success")
            return redirect(url_for("admin.charter", org_id=org.id))
    return render_template("admin/charter.html", county=county, org=org, errors=errors, form=request.form), (
        422 if errors else 200)


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users_page():
    county = _county()
    errors = {}
    if request.method == "POST":
        errors = _submit(UserInSchema(), lambda data: admin.create_user_with_role(current_user, data))
        if not errors:
            flash(gettext("用户已创建"), "success")
            return redirect(url_for("admin.users_page"))
    township_ids = [t.id for t in county.townships]
    org_ids = [o.id for t in county.townships for o in t.organizations]
    people = db.session.scalars(
        sa.select(User).join(RoleAssignment).where(sa.or_(
            RoleAssignment.county_id == county.id, RoleAssignment.township_id.in_(township_ids),
            RoleAssignment.organization_id.in_(org_ids))).distinct().order_by(User.username))
    return render_template("admin/users.html", county=county, roles=ROLES, people=list(people), errors=errors,
                           form=request.form, org_names={o.id: o.name for t in county.townships for o in t.organizations},
                           township_names={t.id: t.name for t in county.townships}), (422 if errors else 200)


