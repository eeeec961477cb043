"""The member portal (own household only) and the public certificate verify page.

A member user sees the household of the Member row linked to their account, and only while they hold the
'member' role in that organization. Any other household is a 404, never a 403, so nothing is learnt about it.
"""
from __future__ import annotations

import io
import json
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coop.core.extensions import db
from coop.ledger.shares import CLASS_LABELS, CLASS_ORDER
from coop.models import Household, Member, Organization, ShareCertificate
from coop.models.members import MemberStatus
from coop.services import access, distribution
from coop.documents.charts import COLORS, Series, bar_chart
from coop.documents import shares as shares_pdf
from coop.web.members import household_view

bp = Blueprint("portal", __name__)


def _own_member() -> Member:
    m = db.session.scalar(sa.select(Member).where(Member.user_id == current_user.id))
    if m is None:
        abort(404, "本账户尚未关联到成员，请联系村会计开通")
    org = db.session.get(Organization, m.organization_id)
    if "member" not in access.roles_on(current_user, org) or m.status == MemberStatus.FORMER:
        abort(404)  # portal access ends with membership (RULES §13)
    return m


def _own_household(household_id: int) -> tuple[Member, Household]:
    m = _own_member()
    if household_id != m.household_id:
        abort(404)
    return m, m.household


@bp.route("/me")
@login_required
def me():
    return redirect(url_for("portal.household", household_id=_own_member().household_id))


@bp.route("/me/households/<int:household_id>")
@login_required
def household(household_id: int):
    m, h = _own_household(household_id)
    org = db.session.get(Organization, h.organization_id)
    dividends = distribution.household_dividends(h.id)
    chart = bar_chart(gettext("本户历年分红（元）"), [gettext("%(y)s年", y=d.year) for d in reversed(dividends)],
                      [Series(gettext("分红"), [d.amount for d in reversed(dividends)], COLORS["income"]),
                       Series(gettext("已发放"), [d.paid for d in reversed(dividends)], COLORS["expense"])],
                      empty=gettext("尚无分红"), tr=gettext) if dividends else None
    return render_template("portal/household.html", me=m, org=org, dividends=dividends, dividend_chart=chart,
                           **household_view(org, h))


@bp.route("/me/households/<int:household_id>/certificate.pdf")
@login_required
def certificate(household_id: int):
    """The household's current 股权证."""
    _, h = _own_household(household_id)
    cert = db.session.scalar(sa.select(ShareCertificate).where(ShareCertificate.household_id == h.id,
                                                               ShareCertificate.revoked_on.is_(None)))
    if cert is None:
        abort(404)
    return send_file(io.BytesIO(shares_pdf.certificate_pdf(cert)), mimetype="application/pdf",
                     download_name=shares_pdf.certificate_filename(cert))


@bp.route("/verify/<token>")
def verify(token: str):
    """Public: what the QR code on a 股权证 opens. Shows only what is printed on the certificate, with the
    household head's name partly masked."""
    cert = db.session.scalar(sa.select(ShareCertificate).where(ShareCertificate.verify_token == token))
    if cert is None:
        abort(404)
    org = db.session.get(Organization, cert.organization_id)
    snapshot = {k: Decimal(v) for k, v in json.loads(cert.snapshot or "{}").items()}
    classes = [(CLASS_LABELS[c], snapshot[c]) for c in CLASS_ORDER if c in snapshot]
    head = cert.household.head
    return render_template("portal/verify.html", cert=cert, org=org, head_name=head.name if head else "",
                           classes=classes, total=sum(snapshot.values(), Decimal("0.0000")))
