"""Home page, organization switcher and an organization's overview."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, g, redirect, render_template, url_for
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


#: the blueprints of coop.web (filled by register_web): only their URLs give up `org_id` to `g`, not the API's
WEB_BLUEPRINTS: set[str] = set()


@bp.app_url_value_preprocessor
def _org_from_url(endpoint: str | None, values: dict | None) -> None:
    """A page under /o/<org_id>/ names its organization once (Fava's way with its ledger): the id leaves the view's
    arguments for `g`, `load_org` resolves it, and `url_for` puts it back into every link of the same organization.
    Reset on every request: tests keep one app context (and so one `g`) around many requests."""
    g.org, g.org_id, g.url_org = None, None, None
    if values and "org_id" in values and endpoint and endpoint.partition(".")[0] in WEB_BLUEPRINTS:
        g.org_id = values.pop("org_id")


@bp.app_url_defaults
def _org_into_url(endpoint: str, values: dict) -> None:
    org_id = g.get("org_id")
    if org_id is not None and "org_id" not in values and current_app.url_map.is_endpoint_expecting(endpoint, "org_id"):
        values["org_id"] = org_id


def url_org_id() -> int:
    """The organization id of this page's URL (404 on a page that has none)."""
    if g.get("org_id") is None:
        abort(404)
    return g.org_id


def load_org(permission: str | None = access.READ_LEDGER, *, org_id: int | None = None, current: bool = True):
    """The organization of the page, resolved once per request: 404 if it does not exist or the user is not
    assigned to it, 403 without `permission`. `current` makes it the one the menus show (not on a member's own
    pages). `org_id` names it on a page whose URL names something else of it (a claim)."""
    if org_id is not None and org_id != g.get("org_id"):
        g.org_id, g.url_org = org_id, None
    org = g.get("url_org")
    if org is None:
        org = g.url_org = access.get_org(current_user, url_org_id(), permission=None)
    if permission:
        access.require(current_user, permission, org)
    if current:
        g.org = org
    return org


@bp.route("/")
@login_required
def index():
    orgs = access.visible_orgs(current_user)
    return render_template("orgs/index.html", orgs=orgs)


@bp.route("/o/<int:org_id>/")
@login_required
def overview():
    org = load_org(None)
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
