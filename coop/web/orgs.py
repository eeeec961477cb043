"""Home page, organization switcher and an organization's overview."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, g, redirect, render_template, url_for
from flask_login import current_user, login_required

from coop.core.extensions import db
from coop.models import Voucher
from coop.services import access, periods

bp = Blueprint("orgs", __name__)


@bp.app_context_processor
def inject_orgs():
    org = g.get("org")

    def org_can(permission: str | None) -> bool:
        return org is not None and (permission is None or access.can(current_user, permission, org))

    if getattr(current_user, "is_authenticated", False):
        return {"my_orgs": access.visible_orgs(current_user), "current_org": org, "org_can": org_can}
    return {"my_orgs": [], "current_org": None, "org_can": org_can}


def load_org(org_id: int, permission: str | None = access.READ_LEDGER):
    """The organization for a page; 404 if not assigned to the user. Also sets it as the current one."""
    org = access.get_org(current_user, org_id, permission)
    g.org = org
    return org


@bp.route("/")
@login_required
def index():
    orgs = access.visible_orgs(current_user)
    return render_template("orgs/index.html", orgs=orgs)


@bp.route("/o/<int:org_id>/")
@login_required
def overview(org_id: int):
    org = load_org(org_id, permission=None)
    if not access.can(current_user, access.READ_LEDGER, org) and access.can(current_user, access.MEMBER_PORTAL, org):
        return redirect(url_for("portal.me"))
    access.require(current_user, access.READ_LEDGER, org)
    counts = dict(
        db.session.execute(
            sa.select(Voucher.status, sa.func.count()).where(Voucher.organization_id == org.id).group_by(Voucher.status)
        ).all()
    )
    return render_template(
        "orgs/overview.html", org=org, counts=counts, first_open=periods.first_open(org),
        last_closed=periods.last_closed(org), can=lambda p: access.can(current_user, p, org), access=access,
    )
