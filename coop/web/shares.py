"""Quantification plans, the share register (as of any date), its events with reversal, and certificates.

Reading needs READ_LEDGER, every change MANAGE_MEMBERS. The forms load the same schemas as the API and call the
same services; a service error names the field it is about and is shown beside it.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError
from sqlalchemy.orm import selectinload

from coop.core import clock
from coop.core.extensions import db
from coop.core.i18n import translate
from coop.core.text import N_
from coop.documents import shares as shares_pdf
from coop.ledger import codes
from coop.ledger import roles as R
from coop.ledger.shares import CLASS_LABELS, CLASS_ORDER
from coop.models import Household, Member, Organization, QuantificationPlan, ShareAction
from coop.models.members import MemberStatus
from coop.models.shares import SHARE_EVENT_KINDS, QuantificationStatus
from coop.schemas.shares import (BuybackInSchema, InheritInSchema, MergeInSchema, NomineeInSchema,
                                 NomineeReleaseInSchema, PlanInputInSchema, PlanInSchema, ReverseInSchema,
                                 SplitInSchema, TransferInSchema, split_plan)
from coop.services import access
from coop.services import accounts as account_service
from coop.services import roles as role_service
from coop.services import shares as share_service
from coop.services.members import status_on
from coop.web.forms import flat_errors, submit
from coop.web.idempotency import idempotent_form
from coop.web.members import XLSX_MIME, can_manage
from coop.web.orgs import load_org

bp = Blueprint("shares", __name__, url_prefix="/o/<int:org_id>/shares")


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a signed-in user (login_required returns the redirect, or None)."""


def _common(org: Organization) -> dict:
    return {"org": org, "manage": can_manage(org), "class_labels": CLASS_LABELS, "kind_labels": SHARE_EVENT_KINDS}


def _as_of() -> dt.date:
    try:
        return dt.date.fromisoformat(request.args.get("as_of", ""))
    except ValueError:
        return clock.today()


def _to_schema(errors: dict, fields: set[str]) -> dict:
    """Messages about something that is not a field of this form (a state conflict, another record) go on top."""
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        out.setdefault(key if key in fields else "_schema", []).extend(messages)
    return out


# ---------------------------------------------------------------- the register


@bp.route("/")
def register():
    org = load_org()
    as_of = _as_of()
    return render_template("shares/register.html", r=shares_pdf.build_register(org, as_of), as_of=as_of,
                           **_common(org))


@bp.route("/register.pdf")
def register_pdf():
    org = load_org()
    as_of = _as_of()
    return send_file(io.BytesIO(shares_pdf.register_pdf(org, as_of)), mimetype="application/pdf",
                     download_name=shares_pdf.register_filename(org, as_of, "pdf"))


@bp.route("/register.xlsx")
def register_xlsx():
    org = load_org()
    as_of = _as_of()
    return send_file(io.BytesIO(shares_pdf.register_xlsx(org, as_of)), mimetype=XLSX_MIME, as_attachment=True,
                     download_name=shares_pdf.register_filename(org, as_of, "xlsx"))


@bp.route("/certificates/<int:cert_id>.pdf")
def certificate_pdf(cert_id: int):
    org = load_org()
    cert = share_service.get_certificate(org, cert_id)
    return send_file(io.BytesIO(shares_pdf.certificate_pdf(cert)), mimetype="application/pdf",
                     download_name=shares_pdf.certificate_filename(cert))


def _names(org: Organization) -> dict[int, str]:
    rows = db.session.execute(sa.select(Member.id, Member.name).where(Member.organization_id == org.id))
    return {i: n for i, n in rows}


@bp.route("/actions")
def actions():
    """Every register action, newest first, with its rows; reversed ones are marked."""
    org = load_org()
    items = list(db.session.scalars(sa.select(ShareAction).where(ShareAction.organization_id == org.id)
                                    .options(selectinload(ShareAction.events))
                                    .order_by(ShareAction.date.desc(), ShareAction.id.desc())))
    reversed_ids = {a.reverses_id for a in items if a.reverses_id}
    households = {h.id: h.number for h in db.session.scalars(
        sa.select(Household).where(Household.organization_id == org.id))}
    return render_template("shares/actions.html", items=items, reversed_ids=reversed_ids, names=_names(org),
                           households=households, **_common(org))


@bp.route("/actions/<int:action_id>/reverse", methods=["GET", "POST"])
def reverse(action_id: int):
    """冲正: append the counter-action of a wrong one (the original stays in the register)."""
    org = load_org(access.MANAGE_MEMBERS)
    action = share_service.get_action(org, action_id)
    errors = {}
    if request.method == "POST":
        _, errors, _ = submit(ReverseInSchema(), lambda data: share_service.reverse_action(
            org, action_id=action.id, date=data["date"], reason=data["reason"], user=current_user))
        if not errors:
            flash(gettext("已冲正"), "success")
            return redirect(url_for("shares.actions"))
        errors = _to_schema(errors, {"date", "reason"})
    return render_template("shares/reverse.html", action=action, names=_names(org), errors=errors,
                           form=request.form, today=clock.today(), **_common(org)), (422 if errors else 200)


# ---------------------------------------------------------------- register events


@dataclass(frozen=True)
class EventForm:
    title: str
    schema: type[Schema]
    run: Callable  # (org, data, user) -> result
    #: (name, label, kind) with kind: date, text, units, money, class, member, holder, household, members
    fields: tuple[tuple[str, str, str], ...]
    help: str = ""


DATE_REF = (("date", N_("日期"), "date"), ("reference", N_("依据（协议、决议或证明文件编号）"), "text"))
EVENTS = {
    "transfer": EventForm(
        N_("社内转让"), TransferInSchema, lambda org, d, u: share_service.transfer_shares(org, user=u, **d),
        (("from_member_id", N_("转出人"), "member"), ("to_member_id", N_("受让人（须为本组织成员）"), "member"),
         ("share_class", N_("股种"), "class"), ("units", N_("股数"), "units")) + DATE_REF,
        N_("股权只能在本集体经济组织成员之间转让。")),
    "inherit": EventForm(
        N_("继承"), InheritInSchema, lambda org, d, u: share_service.inherit_shares(org, user=u, **d),
        (("deceased_id", N_("被继承人"), "member"), ("heir_id", N_("继承人"), "member")) + DATE_REF,
        N_("被继承人名下的全部股份转给继承人；继承人不是本组织成员的，只享有收益权。")),
    "buyback": EventForm(
        N_("有偿退出（回购）"), BuybackInSchema, lambda org, d, u: share_service.buy_back(org, user=u, **d),
        (("member_id", N_("退出人"), "member"), ("share_class", N_("股种"), "class"), ("units", N_("股数"), "units"),
         ("price", N_("回购价款（元）"), "money"), ("pay_from", N_("付款账户"), "money_leaf"), ("charge_to", N_("借记科目（资本）"), "capital_leaf"))
        + DATE_REF,
        N_("集体每年回购的股份不超过总股本的章程比例（默认5%）；同时生成付款凭证草稿，审核记账后生效。")),
    "split": EventForm(
        N_("分户"), SplitInSchema, lambda org, d, u: share_service.split_household(org, user=u, **d),
        (("household_id", N_("原户"), "household"), ("member_ids", N_("分出的成员（第一位为新户户主）"), "members"),
         ("new_number", N_("新户号（留空自动编号）"), "text")) + DATE_REF,
        N_("分出的成员连同其名下股份转入新户，两户的股权证作废重发。")),
    "merge": EventForm(
        N_("合户"), MergeInSchema, lambda org, d, u: share_service.merge_households(org, user=u, **d),
        (("source_id", N_("并入的户"), "household"), ("target_id", N_("并入到"), "household")) + DATE_REF,
        N_("并入户的成员和股份全部转入目标户，并入户注销。")),
    "nominee": EventForm(
        N_("代持"), NomineeInSchema, lambda org, d, u: share_service.start_nominee(org, user=u, **d),
        (("holder_id", N_("代持人（留空为集体代持）"), "holder"), ("beneficiary_id", N_("被代持人"), "member"),
         ("share_class", N_("股种"), "class"), ("units", N_("股数"), "units"), ("date", N_("日期"), "date"),
         ("reference", N_("代持协议编号"), "text")),
        N_("代持人名下的股份登记为替被代持人持有（持有人与受益人不同）。")),
    "nominee_release": EventForm(
        N_("解除代持"), NomineeReleaseInSchema, lambda org, d, u: share_service.release_nominee(org, user=u, **d),
        (("holder_id", N_("代持人（留空为集体）"), "holder"), ("beneficiary_id", N_("被代持人"), "member"),
         ("share_class", N_("股种"), "class")) + DATE_REF,
        N_("代持的股份全部转为被代持人本人持有。")),
}


def _member_options(org: Organization) -> list[tuple[int, str]]:
    q = (sa.select(Member).join(Household, Household.id == Member.household_id)
         .where(Member.organization_id == org.id).order_by(Household.number, Member.id)
         .options(selectinload(Member.household)))
    labels = {MemberStatus.MEMBER: "", MemberStatus.BENEFIT: gettext("（非成员）"), MemberStatus.FORMER: gettext("（已丧失）"),
              MemberStatus.PENDING: gettext("（待确认）")}
    return [(m.id, f"{m.household.number} {m.name}{labels[m.status]}") for m in db.session.scalars(q)]


def _household_options(org: Organization) -> list[tuple[int, str]]:
    q = (sa.select(Household).where(Household.organization_id == org.id, Household.active.is_(True))
         .order_by(Household.number).options(selectinload(Household.head)))
    return [(h.id, f"{h.number} {h.head.name if h.head else ''}") for h in db.session.scalars(q)]


@bp.route("/events/<kind>", methods=["GET", "POST"])
@idempotent_form
def event(kind: str):
    """One form per register event kind: transfer, inherit, buyback, split, merge, nominee, nominee_release."""
    org = load_org(access.MANAGE_MEMBERS)
    spec = EVENTS.get(kind) or abort(404)
    errors = {}
    if request.method == "POST":
        result, errors, _ = submit(spec.schema(), lambda data: spec.run(org, data, current_user), lists=("member_ids",))
        if not errors:
            if kind == "buyback":
                flash(gettext("已登记回购，并生成付款凭证草稿（见变动记录中的凭证链接），请审核记账"), "success")
            else:
                flash(gettext("已登记%(what)s", what=translate(spec.title)), "success")
            if kind == "split":
                return redirect(url_for("members.household", household_id=result.id))
            return redirect(url_for("shares.actions"))
        errors = _to_schema(errors, {name for name, _, _ in spec.fields})
    form = request.form if request.method == "POST" else request.args
    split_members = []
    if kind == "split" and (form.get("household_id") or "").isdecimal() and int(form["household_id"]) < 2**31:
        home = db.session.get(Household, int(form["household_id"]))  # (an id the database cannot hold: none)
        if home is not None and home.organization_id == org.id:
            split_members = [(m.id, f"{m.name}（{translate(m.relation)}）") for m in home.members]
    return render_template(
        "shares/event_form.html", kind=kind, spec=spec, errors=errors, form=form, today=clock.today(),
        members=_member_options(org), households=_household_options(org), split_members=split_members,
        chosen=form.getlist("member_ids"), classes=[(c, CLASS_LABELS[c]) for c in CLASS_ORDER], **_common(org),
        money_leaves=role_service.money_leaves(org), capital_leaves=_leaves_under(org, R.CAPITAL),
    ), (422 if errors else 200)


def _leaves_under(org: Organization, key: str) -> list[tuple[str, str]]:
    top = role_service.role(key).top
    return sorted((c, i.name) for c, i in account_service.chart(org).infos.items()
                  if i.is_leaf and i.active and codes.under(c, top))


# ---------------------------------------------------------------- quantification plans


def _plan_values(plan: QuantificationPlan) -> dict:
    """A saved plan → the form's strings."""
    rules = json.loads(plan.rules or "{}")
    values = {"name": plan.name, "base_date": plan.base_date.isoformat(), "net_assets": f"{plan.net_assets:.2f}",
              "approval_ref": plan.approval_ref or ""}
    values.update({k: "" if v is None else ("1" if v is True else str(v)) for k, v in rules.items() if v is not False})
    return values


@bp.route("/plans")
def plans():
    org = load_org()
    items = list(db.session.scalars(sa.select(QuantificationPlan).where(QuantificationPlan.organization_id == org.id)
                                    .order_by(QuantificationPlan.id.desc())))
    return render_template("shares/plans.html", plans=items, **_common(org))


@bp.route("/plans/new", methods=["GET", "POST"], defaults={"plan_id": None})
@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
def plan_form(plan_id: int | None):
    """Create or edit a draft 折股量化方案; an issued one is shown read-only."""
    org = load_org(access.MANAGE_MEMBERS if request.method == "POST" else access.READ_LEDGER)
    plan = share_service.get_plan(org, plan_id) if plan_id else None
    errors = {}
    if request.method == "POST":
        def save(data):
            fields, rules = split_plan(data)
            if plan is None:
                return share_service.create_plan(org, rules=rules, user=current_user, **fields)
            return share_service.update_plan(plan, rules=rules, **fields)

        saved, errors, _ = submit(PlanInSchema(), save)
        if not errors:
            flash(gettext("方案已保存。填写成员数据后可预览折股结果"), "success")
            return redirect(url_for("shares.plan_form", plan_id=saved.id))
        errors = _to_schema(errors, set(PlanInSchema().fields))
    if request.method == "POST":
        form = request.form
    elif plan:
        form = _plan_values(plan)
    else:
        form = {}
    return render_template("shares/plan_form.html", plan=plan, errors=errors, form=form, **_common(org)), (
        422 if errors else 200)


INPUT_FIELDS = ("labour_start", "labour_end", "cash", "resource", "poverty")


@bp.route("/plans/<int:plan_id>/inputs", methods=["GET", "POST"])
def plan_inputs(plan_id: int):
    """Per-person inputs: labour dates (农龄股) and money put into 资金股/资源股/扶贫优先股. All rows are checked
    first; nothing is saved while any row has an error."""
    org = load_org(access.MANAGE_MEMBERS if request.method == "POST" else access.READ_LEDGER)
    plan = share_service.get_plan(org, plan_id)
    people = list(db.session.scalars(
        sa.select(Member).join(Household, Household.id == Member.household_id)
        .where(Member.organization_id == org.id).order_by(Household.number, Member.id)))
    saved = {i.member_id: i for i in plan.inputs}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if plan.status != QuantificationStatus.DRAFT:
            abort(409)
        rows = []
        for m in people:
            raw = {f: (request.form.get(f"m-{m.id}-{f}") or "").strip() for f in INPUT_FIELDS}
            if not any(raw.values()) and m.id not in saved:
                continue
            try:
                data = PlanInputInSchema().load({"member_id": m.id, **{k: v for k, v in raw.items() if v}})
            except ValidationError as exc:
                for f, messages in flat_errors(exc.messages).items():
                    errors[f"m-{m.id}-{f}"] = messages
                continue
            rows.append((m, data))
        if not errors:
            def save_all():
                for m, data in rows:
                    data.pop("member_id")
                    share_service.set_member_input(plan, m, **data)
                    saved_upto.append(m)

            saved_upto: list = []
            _, refused, _ = submit(None, save_all)
            if not refused:
                flash(gettext("成员数据已保存"), "success")
                return redirect(url_for("shares.plan_preview", plan_id=plan.id))
            m = rows[len(saved_upto)][0]  # the member whose figures were refused
            for f, messages in refused.items():
                errors[f"m-{m.id}-{f}" if f in INPUT_FIELDS else "_schema"] = messages
    values = {}
    for m in people:
        i = saved.get(m.id)
        for f in INPUT_FIELDS:
            key = f"m-{m.id}-{f}"
            if request.method == "POST":
                values[key] = request.form.get(key, "")
            elif i is not None:
                v = getattr(i, f)
                values[key] = "" if not v else (v.isoformat() if isinstance(v, dt.date) else f"{v:.2f}")
    status = {m.id: status_on(m, plan.base_date) for m in people}
    return render_template("shares/plan_inputs.html", plan=plan, people=people, values=values, errors=errors,
                           status=status, fields=INPUT_FIELDS, **_common(org)), (422 if errors else 200)


def _preview(plan: QuantificationPlan) -> dict:
    result, people = share_service.preview_plan(plan)
    by_id = {m.id: m for m in people}
    households = {}
    for m in people:
        households.setdefault(m.household_id, m.household)
    return dict(result=result, people=people, by_id=by_id, households=households,
                classes=[c for c in CLASS_ORDER if c in result.class_totals()])


@bp.route("/plans/<int:plan_id>/preview")
def plan_preview(plan_id: int):
    """The computed shares per member, household and class, face value and warnings. Nothing is written, so it
    can be recomputed as often as the inputs change."""
    org = load_org()
    plan = share_service.get_plan(org, plan_id)
    if plan.status != "draft":
        # never recomputed after issue: what was issued is the register on the 基准日
        flash(gettext("方案已发行，不再重新计算；以下为基准日的股权登记"), "info")
        return redirect(url_for("shares.register", as_of=plan.base_date.isoformat()))
    return render_template("shares/plan_preview.html", plan=plan, errors={}, form={}, **_preview(plan),
                           **_common(org))


@bp.route("/plans/<int:plan_id>/issue", methods=["POST"])
def plan_issue(plan_id: int):
    """Issue: writes the opening register and numbers the household certificates. Needs the approval reference."""
    org = load_org(access.MANAGE_MEMBERS)
    plan = share_service.get_plan(org, plan_id)

    def issue():
        ref = (request.form.get("approval_ref") or "").strip()
        if ref and ref != plan.approval_ref and plan.status == QuantificationStatus.DRAFT:
            share_service.update_plan(plan, approval_ref=ref)
        return share_service.issue_plan(plan, user=current_user)

    certs, errors, _ = submit(None, issue)
    if not errors:
        flash(gettext("方案已发行，共发放 %(n)s 本股权证", n=len(certs)), "success")
        return redirect(url_for("shares.register", as_of=plan.base_date.isoformat()))
    db.session.refresh(plan)
    return render_template("shares/plan_preview.html", plan=plan, errors=_to_schema(errors, {"approval_ref"}),
                           form=request.form, **_preview(plan), **_common(org)), 422
