"""Members, households, membership events and roster import/export pages (RULES §6).

Pages read with READ_LEDGER and write with MANAGE_MEMBERS; an organization the user is not assigned to is a 404.
Every change goes through coop.services.members, as in the API.
"""
from __future__ import annotations

import base64
import io
from decimal import Decimal
import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from coop.core.errors import CoopError
from coop.core.extensions import db
from coop.core.text import N_
from coop.ledger.shares import CLASS_LABELS, CLASS_ORDER
from coop.models import Household, MembershipEvent, Organization, ShareAction, ShareCertificate, ShareEvent
from coop.models.members import MEMBERSHIP_EVENTS, RELATIONS
from coop.models.shares import SHARE_EVENT_KINDS
from coop.schemas.members import HouseholdInSchema, MemberInSchema, MembershipEventInSchema, RosterImportInSchema
from coop.core.security import roster_gate
from coop.services import access, members as member_service, shares as share_service
from coop.documents.shares import group_holdings, roster_xlsx
from coop.web.forms import carried_upload, flat_errors, submit
from coop.web.orgs import load_org

bp = Blueprint("members", __name__, url_prefix="/o/<int:org_id>/members")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_LABELS = {"member": N_("成员"), "benefit": N_("非成员（享有权益）"), "former": N_("已丧失成员身份"), "pending": N_("待确认")}


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a signed-in user (login_required returns the redirect, or None)."""


# ---------------------------------------------------------------- helpers shared with the share pages


@bp.app_template_filter("mask_id")
def mask_id(number: str | None) -> str:
    """居民身份证号 as RULES §13 shows it to everyone but the accountants of the member's organization."""
    return member_service.mask_id_number(number)


@bp.app_template_filter("mask_name")
def mask_name(name: str | None) -> str:
    """张大山 → 张*山, 李四 → 李*: enough to recognise, not enough to identify, on the public verify page."""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def can_manage(org: Organization) -> bool:
    return access.can(current_user, access.MANAGE_MEMBERS, org)


def household_history(household: Household) -> list[tuple[ShareAction, object]]:
    """The register actions that moved units of this household, with the net change for it."""
    raw = sa.type_coerce(ShareEvent.units, sa.BigInteger)
    q = (sa.select(ShareAction, sa.func.sum(raw)).join(ShareEvent, ShareEvent.action_id == ShareAction.id)
         .where(ShareEvent.household_id == household.id).group_by(ShareAction.id)
         .order_by(ShareAction.date, ShareAction.id))
    return [(a, (Decimal(u) / 10000).quantize(Decimal("0.0001"))) for a, u in db.session.execute(q)]


def household_view(org: Organization, household: Household) -> dict:
    """Everything the household page and the member portal show."""
    groups = group_holdings([h for h in share_service.holdings(org) if h.household_id == household.id])
    rows = groups[0].rows if groups else []
    classes = [c for c in CLASS_ORDER if any(c in r.classes for r in rows)]
    certs = list(db.session.scalars(sa.select(ShareCertificate).where(ShareCertificate.household_id == household.id)
                                    .order_by(ShareCertificate.id.desc())))
    return dict(household=household, rows=rows, classes=classes, class_labels=CLASS_LABELS,
                total=sum((r.total for r in rows), Decimal(0)), certificates=certs,
                certificate=next((c for c in certs if c.revoked_on is None), None),
                history=household_history(household), kind_labels=SHARE_EVENT_KINDS, status_labels=STATUS_LABELS)


def _common(org: Organization) -> dict:
    return {"org": org, "manage": can_manage(org), "status_labels": STATUS_LABELS}


# ---------------------------------------------------------------- households


@bp.route("/")
def index():
    org = load_org()
    q = (request.args.get("q") or "").strip()
    households = list(db.session.scalars(
        sa.select(Household).where(Household.organization_id == org.id)
        .options(selectinload(Household.members), selectinload(Household.head)).order_by(Household.number)))
    if q:
        # an ID number matches only in full (RULES §13): a part of one would let a reader recover a masked
        # number digit by digit
        def matches(h: Household) -> bool:
            return q in h.number or any(q in m.name or q.upper() == m.id_number for m in h.members)

        households = [h for h in households if matches(h)]
    units = share_service.household_units(org)
    certs = {c.household_id: c for c in db.session.scalars(sa.select(ShareCertificate).where(
        ShareCertificate.organization_id == org.id, ShareCertificate.revoked_on.is_(None)))}
    return render_template("members/index.html", households=households, held=units, certs=certs, q=q,
                           people=sum(len(h.members) for h in households), **_common(org))


@bp.route("/new", methods=["GET", "POST"])
def household_new():
    org = load_org(access.MANAGE_MEMBERS)
    errors = {}
    if request.method == "POST":
        def create(data):
            h = member_service.create_household(org, number=data["number"], address=data["address"])
            member_service.add_member(h, name=data["name"], id_number=data["id_number"], relation="户主",
                                      phone=data["phone"], head=True)
            return h

        h, errors, _ = submit(HouseholdInSchema(), create)
        if not errors:
            flash(gettext("已新建第 %(n)s 户", n=h.number), "success")
            return redirect(url_for("members.household", household_id=h.id))
    return render_template("members/household_form.html", errors=errors, form=request.form,
                           next_number=member_service.next_household_number(org), **_common(org)), (
        422 if errors else 200)


@bp.route("/h/<int:household_id>")
def household(household_id: int):
    org = load_org()
    h = member_service.get_household(org, household_id)
    return render_template("members/household.html", **(_common(org) | household_view(org, h)))


@bp.route("/h/<int:household_id>/members/new", methods=["GET", "POST"])
def member_new(household_id: int):
    org = load_org(access.MANAGE_MEMBERS)
    h = member_service.get_household(org, household_id)
    errors = {}
    if request.method == "POST":
        m, errors, _ = submit(MemberInSchema(), lambda data: member_service.add_member(h, **data))
        if not errors:
            flash(gettext("已添加成员 %(name)s", name=m.name), "success")
            return redirect(url_for("members.household", household_id=h.id))
    return render_template("members/member_form.html", household=h, relations=RELATIONS, errors=errors,
                           form=request.form, **_common(org)), (422 if errors else 200)


@bp.route("/m/<int:member_id>", methods=["GET", "POST"])
def member(member_id: int):
    """A person: identity, membership events, and the form to record the next one."""
    org = load_org(access.MANAGE_MEMBERS if request.method == "POST" else access.READ_LEDGER)
    m = member_service.get_member(org, member_id)
    errors = {}
    if request.method == "POST":
        _, errors, _ = submit(MembershipEventInSchema(), lambda data: member_service.record_membership_event(
            m, data["kind"], date=data["date"], evidence=data["evidence"], votes_for=data["votes_for"],
            votes_total=data["votes_total"], user=current_user))
        if not errors:
            flash(gettext("成员身份变动已登记"), "success")
            return redirect(url_for("members.member", member_id=m.id))
    events = list(db.session.scalars(sa.select(MembershipEvent).where(MembershipEvent.member_id == m.id)
                                     .order_by(MembershipEvent.date, MembershipEvent.id)))
    return render_template("members/member.html", m=m, events=events, event_kinds=MEMBERSHIP_EVENTS,
                           errors=errors, form=request.form, **_common(org)), (422 if errors else 200)


# ---------------------------------------------------------------- roster import / export


@bp.route("/import", methods=["GET", "POST"])
def roster_import():
    """Upload → dry run listing every problem row by row; only a clean file can then be imported."""
    org = load_org(access.MANAGE_MEMBERS)
    errors: dict = {}
    check, limited = None, False
    content, filename = b"", ""
    if request.method == "POST":
        content, filename = carried_upload()
        if not content:
            errors["file"] = [gettext("请选择名册文件（xlsx 或 CSV）")]
        else:
            try:
                records = member_service.read_roster(content, filename)
                roster_gate(current_user, len(records))
                key = member_service.file_key(content)
                check = member_service.check_roster(org, records, key=key)
            except CoopError as exc:
                errors, limited = flat_errors(exc.errors), exc.status_code == 429
        if check is not None and check.ok and request.form.get("step") == "import":
            options = {k: request.form[k].strip() for k in ("confirm_date", "evidence")
                       if request.form.get(k, "").strip()}
            households, errors, _ = submit(RosterImportInSchema(), lambda data: member_service.import_roster(
                org, records, user=current_user, key=key, confirm_date=data["confirm_date"],
                evidence=data["evidence"]),
                data=options)
            if not errors:
                flash(gettext("已导入 %(h)s 户、%(n)s 人", h=len(households), n=len(check.rows)), "success")
                return redirect(url_for("members.index"))
    status = 429 if limited else 422 if errors or (check is not None and not check.ok) else 200
    return render_template(
        "members/import.html", check=check, errors=errors, form=request.form, filename=filename,
        data=base64.b64encode(content).decode() if check is not None and check.ok else "",
        households=len({r.head_id for r in check.rows}) if check else 0, **_common(org)), status


@bp.route("/export.xlsx")
def roster_export():
    """The roster in the import layout, with full 身份证号 (hence only for those who manage it)."""
    org = load_org(access.MANAGE_MEMBERS)
    return send_file(io.BytesIO(roster_xlsx(member_service.export_roster(org))), mimetype=XLSX_MIME,
                     as_attachment=True, download_name=f"成员名册-{org.name}.xlsx")
