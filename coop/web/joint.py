"""飞地抱团 / 多村联营 pages (RULES §8): projects, participants, contributions, yearly returns (preview first),
receipts, exit, and the reconciliation of every side's books.

County admins manage their county's projects; township auditors and participating villages read the projects
that touch them. Each form books every side in one transaction: a refusal is shown beside its field and no
book changes.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from marshmallow import ValidationError

from coop.web.idempotency import idempotent_form
from coop.core.errors import CoopError
from coop.core.extensions import db
from coop.models import County, JointProject, Organization, ProjectReturnLine, Township
from coop.models.joint import CONTRIBUTION_KINDS
from coop.schemas.joint import (ContributionInSchema, ExitInSchema, ParticipantInSchema, ProjectInSchema,
                             ReceiptInSchema, ReturnInSchema, ReturnPreviewInSchema, preview_out, project_out)
from coop.services import access, joint as service, roles as role_service
from coop.web.forms import flat_errors, form_input, keep_fields, submit
from coop.web.loans import vouchers_by_id
from coop.core import clock
bp = Blueprint("joint", __name__)


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a signed-in user (login_required returns the redirect, or None)."""


def _project(project_id: int) -> JointProject:
    try:
        return service.get_project(current_user, project_id)
    except CoopError:
        abort(404)


def _manage(project: JointProject) -> bool:
    return project.county_id in access.administered_counties(current_user)


def _managed(project_id: int) -> JointProject:
    """The project for a form: 404 when not visible, 403 when visible but not the user's to manage."""
    project = _project(project_id)
    if not _manage(project):
        abort(403)
    return project


def _county() -> County:
    ids = access.administered_counties(current_user)
    if not ids:
        abort(403)
    return db.session.get(County, ids[0])


def _county_orgs(county_id: int, kind: str | None = None) -> list[Organization]:
    q = (sa.select(Organization).join(Township).where(Township.county_id == county_id)
         .order_by(Township.name, Organization.name))
    if kind:
        q = q.where(Organization.kind == kind)
    return list(db.session.scalars(q))


def _render(template: str, project: JointProject | None, errors: dict, form, status: int = 200, **kw):
    return render_template(template, project=project, errors=errors, form=form, kinds=CONTRIBUTION_KINDS,
                           today=clock.today(), **kw), (status if errors else 200)


@bp.route("/joint/")
def index():
    projects = service.visible_projects(current_user)
    return render_template("joint/index.html", projects=[project_out(p) for p in projects],
                           can_create=bool(access.administered_counties(current_user)))


@bp.route("/joint/new", methods=["GET", "POST"])
def project_new():
    county = _county()
    errors, status = {}, 200
    if request.method == "POST":
        data = form_input(request.form)
        for box in ("profit_sharing", "contract_weights"):  # an unticked box sends nothing
            data[box] = box in request.form
        project, errors, status = submit(ProjectInSchema(), lambda d: service.create_project(
            county, user=current_user, **{k: v for k, v in d.items() if k != "county_id"}), data)
        if not errors:
            flash(gettext("已创建项目 %(name)s", name=project.name), "success")
            return redirect(url_for("joint.project", project_id=project.id))
    form = request.form if request.method == "POST" else {"profit_sharing": "1", "fixed_rate": "0"}
    return _render("joint/project_form.html", None, errors, form, status, county=county,
                   operators=_county_orgs(county.id, "joint_company"))


def _recon_until() -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get("until", ""))
    except ValueError:
        return None


@bp.route("/joint/<int:project_id>")
def project(project_id: int):
    """Participants, contributions, returns by year, and the reconciliation of every side (differences marked)."""
    p = _project(project_id)
    view = project_out(p, detail=True)
    until = _recon_until()
    recon = service.reconciliation(p, until)
    ids = [c[k] for c in view["contributions"] for k in ("village_voucher_id", "operator_voucher_id")]
    ids += [l[k] for r in view["returns"] for l in r["lines"] for k in ("village_voucher_id", "operator_voucher_id")]
    return render_template("joint/project.html", project=p, view=view, recon=recon, until=until,
                           vouchers=vouchers_by_id(ids), kinds=CONTRIBUTION_KINDS, manage=_manage(p),
                           recon_ok=all(r.difference in (None, 0) for r in recon))


@bp.route("/joint/<int:project_id>/participants/new", methods=["GET", "POST"])
def participant_new(project_id: int):
    p = _managed(project_id)
    errors, status = {}, 200
    if request.method == "POST":
        def add(d):
            org = db.session.get(Organization, d["organization_id"])
            if org is None:
                raise ValidationError({"organization_id": ["找不到该组织"]})
            return service.add_participant(p, org, user=current_user, weight=d["weight"])

        part, errors, status = submit(ParticipantInSchema(), add, fields={"organization_id", "weight"})
        if not errors:
            flash(gettext("%(name)s 已加入项目", name=part.organization.name), "success")
            return redirect(url_for("joint.project", project_id=p.id))
        p = _project(project_id)
    joined = {part.organization_id for part in p.participants} | {p.operator_org_id}
    candidates = [o for o in _county_orgs(p.county_id) if o.id not in joined and o.kind != "joint_company"]
    return _render("joint/participant_form.html", p, errors, request.form, status, candidates=candidates)


@bp.route("/joint/<int:project_id>/contributions/new", methods=["GET", "POST"])
def contribution_new(project_id: int):
    p = _managed(project_id)
    errors, status = {}, 200
    if request.method == "POST":
        def add(d):
            pid = d.pop("participant_id")
            part = next((x for x in p.participants if x.id == pid), None)
            if part is None:
                raise ValidationError({"participant_id": ["该项目没有这个参与方"]})
            return service.contribute(p, part, user=current_user, **d)

        c, errors, status = submit(ContributionInSchema(), add, fields={"participant_id", "kind", "amount", "date",
                                                                         "bank_account", "operator_bank_account"})
        if not errors:
            flash(gettext("已登记出资 %(amount)s 元，参与村和运营主体的凭证已生成", amount=f"{c.amount:,.2f}")
                  if p.operator_org_id else gettext("已登记出资 %(amount)s 元，参与村的凭证已生成", amount=f"{c.amount:,.2f}"),
                  "success")
            return redirect(url_for("joint.project", project_id=p.id))
        p = _project(project_id)
    active = [x for x in p.participants if not x.exited_on]
    return _render("joint/contribution_form.html", p, errors, request.form, status, participants=active)


@bp.route("/joint/<int:project_id>/returns/new", methods=["GET", "POST"])
def return_new(project_id: int):
    """Declare a year's return: the figures are previewed first; declaring books every side at once."""
    p = _managed(project_id)
    errors, status, preview = {}, 200, None
    form = request.form if request.method == "POST" else {"year": str(clock.today().year - 1)}
    if request.method == "POST":
        fields = {"year", "profit", "date"}
        try:
            data = form_input(request.form, skip=("csrf_token", "action", "previewed"))
            loaded = ReturnPreviewInSchema().load({k: v for k, v in data.items() if k in ("year", "profit")})
            result, guaranteed = service.preview_return(p, year=loaded["year"], profit=loaded["profit"])
            preview = preview_out(p, loaded["year"], loaded["profit"], result, guaranteed)
        except ValidationError as exc:
            errors = flat_errors(exc.messages)
        except CoopError as exc:
            errors, status = flat_errors(exc.errors), exc.status_code
        # declare only the figures the user has seen: changed year or profit → preview again
        seen = preview is not None and request.form.get("previewed") == f"{preview['year']}|{preview['profit']}"
        if seen and request.form.get("action") == "declare":
            ret, errors, status = submit(ReturnInSchema(), lambda d: service.declare_return(p, user=current_user, **d),
                                         data, fields=fields)
            if not errors:
                flash(gettext("已登记 %(y)s 年度收益，各方凭证已生成", y=ret.year), "success")
                return redirect(url_for("joint.project", project_id=p.id, _anchor=f"y{ret.year}"))
        errors = keep_fields(errors, fields)
        status = status if errors else 200
    return _render("joint/return_form.html", _project(project_id), errors, form, status, preview=preview)


def _line(p: JointProject, line_id: int) -> ProjectReturnLine:
    line = db.session.get(ProjectReturnLine, line_id)
    if line is None or line.ret.project_id != p.id:
        abort(404)
    return line


@bp.route("/joint/<int:project_id>/return-lines/<int:line_id>/receive", methods=["GET", "POST"])
@idempotent_form
def receive(project_id: int, line_id: int):
    """A village receives its return from the operator, or the guarantor's part of an uncovered fixed return."""
    p = _managed(project_id)
    line = _line(p, line_id)
    errors, status = {}, 200
    guarantor = (request.form.get("from_guarantor") or request.args.get("from_guarantor")) == "1"
    if request.method == "POST":
        data = form_input(request.form)
        data["from_guarantor"] = guarantor
        _, errors, status = submit(ReceiptInSchema(), lambda d: service.receive_return(line, user=current_user, **d),
                                   data, fields={"date", "bank_account", "operator_bank_account"})
        if not errors:
            flash(gettext("已登记收款，凭证已生成"), "success")
            return redirect(url_for("joint.project", project_id=p.id, _anchor=f"y{line.ret.year}"))
        line = _line(_project(project_id), line_id)
    amount = line.guaranteed if guarantor else line.fixed + line.profit_part - line.guaranteed
    p = _project(project_id)
    return _render("joint/receive_form.html", p, errors, request.form, status, line=line,
                   guarantor=guarantor, amount=amount, **_money_choices(p, line.participant))


@bp.route("/joint/<int:project_id>/participants/<int:participant_id>/exit", methods=["GET", "POST"])
@idempotent_form
def exit_participant(project_id: int, participant_id: int):
    """退出/轮换: the village's capital goes back, booked on both sides."""
    p = _managed(project_id)
    part = next((x for x in p.participants if x.id == participant_id), None)
    if part is None:
        abort(404)
    errors, status = {}, 200
    if request.method == "POST":
        _, errors, status = submit(ExitInSchema(), lambda d: service.exit_participant(
            p, part, user=current_user, **d), fields={"date", "bank_account", "operator_bank_account"})
        if not errors:
            flash(gettext("已退出，出资已返还并生成凭证"), "success")
            return redirect(url_for("joint.project", project_id=p.id))
        p = _project(project_id)
        part = next(x for x in p.participants if x.id == participant_id)
    capital = sum((c.amount for c in service.contributions(p) if c.participant_id == part.id), Decimal("0.00"))
    return _render("joint/exit_form.html", p, errors, request.form, status, part=part, capital=capital,
                   **_money_choices(p, part))


def _money_choices(p: JointProject, part) -> dict:
    """The village's and the operator's cash/bank leaves for a form, with the ones remembered preselected."""
    out = {"village_money": role_service.money_leaves(part.organization), "village_money_default": part.bank_account or "",
           "operator_money": [], "operator_money_default": ""}
    if p.operator:
        out.update(operator_money=role_service.money_leaves(p.operator),
                   operator_money_default=p.operator_bank_account or "")
    return out

