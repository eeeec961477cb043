"""Members, households, roster import, quantification plans and the share register over the API (RULES §6).

Same services as the web pages. Reading needs READ_LEDGER, writing MANAGE_MEMBERS; bad input is a 4xx with the
field path and nothing is written (the error handler rolls the session back).
"""
from __future__ import annotations

import io
import json
from decimal import Decimal

import sqlalchemy as sa
from flask import request, send_file, url_for
from flask_smorest import Blueprint
from marshmallow import ValidationError

from coop.api.common import api_org, current_api_user, idempotent_api, requires
from coop.core import clock
from coop.core.errors import InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.core.security import roster_gate
from coop.documents import shares as shares_pdf
from coop.ledger.shares import CLASS_LABELS, CLASS_ORDER
from coop.models import Household, Member, MembershipEvent, QuantificationPlan, ShareAction, ShareCertificate
from coop.models.members import MEMBERSHIP_EVENTS
from coop.schemas.members import (CertificateSchema, HouseholdDetailSchema, HouseholdInSchema, HouseholdQuerySchema,
                                  HouseholdSchema, MemberDetailSchema, MemberInSchema, MemberSchema,
                                  MembershipEventInSchema, MembershipEventSchema, RosterCheckSchema, RosterFileSchema,
                                  RosterImportedSchema, RosterImportInSchema, RosterSchema)
from coop.schemas.shares import (BuybackInSchema, InheritInSchema, IssuedSchema, MergeInSchema, NomineeInSchema,
                                 NomineeReleaseInSchema, PlanInputsInSchema, PlanInSchema, PlanIssueInSchema,
                                 PlanPreviewSchema, PlanSchema, RegisterQuerySchema, RegisterSchema, ReverseInSchema,
                                 ShareActionSchema, SplitInSchema, TransferInSchema, split_plan)
from coop.services import access, members, shares

URL = "/orgs/<int:org_id>"
blp = Blueprint("api_members", __name__, description="成员与股权 Members and shares")


# ---------------------------------------------------------------- output shapes


def _member_out(m: Member, full_id: bool) -> dict:
    number = m.id_number if full_id else members.mask_id_number(m.id_number)
    # the masked digits are the birth date: shown beside the mask it would complete the number (RULES §13)
    return {"id": m.id, "household_id": m.household_id, "name": m.name, "id_number": number, "sex": m.sex,
            "birth_date": m.birth_date if full_id else None, "relation": m.relation,
            "phone": m.phone if full_id else None,
            "status": m.status}


def _event_out(e: MembershipEvent) -> dict:
    return {"id": e.id, "member_id": e.member_id, "kind": e.kind, "label": MEMBERSHIP_EVENTS[e.kind], "date": e.date,
            "evidence": e.evidence, "votes_for": e.votes_for, "votes_total": e.votes_total}


def _cert_out(c: ShareCertificate | None) -> dict | None:
    if c is None:
        return None
    return {"id": c.id, "number": c.number, "issued_on": c.issued_on, "revoked_on": c.revoked_on,
            "verify_url": shares_pdf.verify_url(c),
            "pdf_url": url_for("api_members.certificate_pdf", org_id=c.organization_id, cert_id=c.id, _external=True)}


def _household_out(h: Household, units: dict, certs: dict) -> dict:
    cert = certs.get(h.id)
    return {"id": h.id, "number": h.number, "address": h.address, "active": h.active, "head_id": h.head_id,
            "head_name": h.head.name if h.head else None, "people": len(h.members),
            "units": units.get(h.id, Decimal(0)), "certificate_number": cert.number if cert else None}


def _current_certs(org) -> dict:
    return {c.household_id: c for c in db.session.scalars(sa.select(ShareCertificate).where(
        ShareCertificate.organization_id == org.id, ShareCertificate.revoked_on.is_(None)))}


def _household_detail(org, h: Household) -> dict:
    full = access.can(current_api_user(), access.MANAGE_MEMBERS, org)
    certs = _current_certs(org)
    out = _household_out(h, shares.household_units(org), certs)
    out["members"] = [_member_out(m, full) for m in h.members]
    out["holdings"] = [vars(x) for x in shares.holdings(org) if x.household_id == h.id]
    out["certificate"] = _cert_out(certs.get(h.id))
    return out


def _plan_out(p: QuantificationPlan) -> dict:
    return {"id": p.id, "name": p.name, "base_date": p.base_date, "net_assets": p.net_assets,
            "approval_ref": p.approval_ref, "status": p.status, "rules": json.loads(p.rules or "{}"),
            "face_value": p.face_value, "total_units": p.total_units,
            "inputs": sorted(p.inputs, key=lambda i: i.member_id)}


# ---------------------------------------------------------------- households and members


@blp.route("/households")
@blp.arguments(HouseholdQuerySchema, location="query")
@blp.response(200, HouseholdSchema(many=True))
def list_households(args, org_id: int):
    """户 list with head, people, units held and the current 股权证 number. `q` matches 户号, a name, or a 身份证号
    in full (RULES §13: never a part of one, which would let a reader recover a masked number digit by digit)."""
    org = api_org(org_id)
    q = args["q"].strip()
    hs = db.session.scalars(sa.select(Household).where(Household.organization_id == org.id).order_by(Household.number))
    units, certs = shares.household_units(org), _current_certs(org)
    return [_household_out(h, units, certs) for h in hs
            if not q or q in h.number or any(q in m.name or q.upper() == m.id_number for m in h.members)]


@blp.route("/households", methods=["POST"])
@blp.arguments(HouseholdInSchema)
@blp.response(201, HouseholdDetailSchema)
@requires(access.MANAGE_MEMBERS)
def create_household(data, org_id: int):
    """A new household with its head. The 身份证 is checked (check digit, not on any roster yet)."""
    org = api_org(org_id, access.MANAGE_MEMBERS)
    h = members.create_household(org, number=data["number"], address=data["address"])
    members.add_member(h, name=data["name"], id_number=data["id_number"], relation="户主", phone=data["phone"],
                       head=True)
    return _household_detail(org, h)


@blp.route("/households/<int:household_id>")
@blp.response(200, HouseholdDetailSchema)
def get_household(org_id: int, household_id: int):
    org = api_org(org_id)
    return _household_detail(org, members.get_household(org, household_id))


@blp.route("/households/<int:household_id>/members", methods=["POST"])
@blp.arguments(MemberInSchema)
@blp.response(201, MemberSchema)
@requires(access.MANAGE_MEMBERS)
def add_member(data, org_id: int, household_id: int):
    org = api_org(org_id, access.MANAGE_MEMBERS)
    m = members.add_member(members.get_household(org, household_id), **data)
    return _member_out(m, True)


@blp.route("/members/<int:member_id>")
@blp.response(200, MemberDetailSchema)
def get_member(org_id: int, member_id: int):
    org = api_org(org_id)
    m = members.get_member(org, member_id)
    out = _member_out(m, access.can(current_api_user(), access.MANAGE_MEMBERS, org))
    out["events"] = [_event_out(e) for e in sorted(m.events, key=lambda e: (e.date, e.id))]
    return out


@blp.route("/members/<int:member_id>/events", methods=["POST"])
@blp.arguments(MembershipEventInSchema)
@blp.response(201, MembershipEventSchema)
@requires(access.MANAGE_MEMBERS)
def add_membership_event(data, org_id: int, member_id: int):
    """成员身份变动: confirmed, lost_* (death, other collective, 公务员, nationality, voluntary), benefit_granted
    (needs votes_for ≥ 3/4 of votes_total), restored."""
    org = api_org(org_id, access.MANAGE_MEMBERS)
    e = members.record_membership_event(members.get_member(org, member_id), data.pop("kind"), user=current_api_user(), **data)
    return _event_out(e)


# ---------------------------------------------------------------- roster


def _read(files) -> tuple[list[dict], str]:
    """The roster's records and the file's SHA-256 (its idempotency key)."""
    f = files["file"]
    content = f.read()
    return members.read_roster(content, f.filename or ""), members.file_key(content)


@blp.route("/roster")
@blp.response(200, RosterSchema)
def get_roster(org_id: int):
    """The roster in the import layout. 身份证号 in full only for those who manage the roster; others see it masked
    (520203********0033), the phone's last 4 digits and the birth year only (the birth date is the masked part)."""
    org = api_org(org_id)
    rows = members.export_roster(org)
    if not access.can(current_api_user(), access.MANAGE_MEMBERS, org):
        id_columns = [i for i, c in enumerate(rows[0]) if c in ("户主身份证", "身份证")]
        phone, birth = rows[0].index("联系电话"), rows[0].index("出生日期")
        rows = [rows[0]] + [[members.mask_id_number(v) if i in id_columns else
                             ("*" * (len(v) - 4) + v[-4:] if v else v) if i == phone else
                             v[:4] if i == birth else v
                             for i, v in enumerate(row)] for row in rows[1:]]
    return {"columns": rows[0], "rows": rows[1:]}


@blp.route("/roster/check", methods=["POST"])
@blp.arguments(RosterFileSchema, location="files")
@blp.response(200, RosterCheckSchema)
@requires(access.MANAGE_MEMBERS)
def check_roster(files, org_id: int):
    """Dry run (multipart `file`): every problem, row by row. Nothing is written."""
    org = api_org(org_id, access.MANAGE_MEMBERS)
    records, key = _read(files)
    roster_gate(current_api_user(), len(records))
    check = members.check_roster(org, records, key)
    return {"ok": check.ok, "rows": len(check.rows), "households": len({r.head_id for r in check.rows}),
            "problems": [{"line": line, "message": msg} for line, msg in check.problems]}


@blp.route("/roster/import", methods=["POST"])
@blp.arguments(RosterFileSchema, location="files")
@blp.response(201, RosterImportedSchema)
@requires(access.MANAGE_MEMBERS)
def import_roster(files, org_id: int):
    """Import (multipart `file`, with optional form fields `confirm_date` and `evidence` to confirm everyone as a
    member): all or nothing; a file with any problem is refused with errors.rows.<line>."""
    org = api_org(org_id, access.MANAGE_MEMBERS)
    # read by hand: flask-smorest documents file + form arguments as OpenAPI 2 "formData", invalid in OpenAPI 3
    try:
        options = RosterImportInSchema().load({k: v for k, v in request.form.items() if v.strip()})
    except ValidationError as exc:
        first = next(iter(exc.messages.values()))
        raise ValidationFailed(first[0] if isinstance(first, list) else str(first), exc.messages) from None
    records, key = _read(files)
    roster_gate(current_api_user(), len(records))
    households = members.import_roster(org, records, user=current_api_user(), key=key, **options)
    return {"households": len(households), "members": sum(len(h.members) for h in households)}


# ---------------------------------------------------------------- plans


@blp.route("/plans")
@blp.response(200, PlanSchema(many=True))
def list_plans(org_id: int):
    org = api_org(org_id)
    return [_plan_out(p) for p in db.session.scalars(
        sa.select(QuantificationPlan).where(QuantificationPlan.organization_id == org.id)
        .order_by(QuantificationPlan.id))]


@blp.route("/plans", methods=["POST"])
@blp.arguments(PlanInSchema)
@blp.response(201, PlanSchema)
@requires(access.MANAGE_MEMBERS)
def create_plan(data, org_id: int):
    """折股量化方案 (draft). 集体股 over 30% needs collective_override."""
    org = api_org(org_id, access.MANAGE_MEMBERS)
    plan_fields, rules = split_plan(data)
    return _plan_out(shares.create_plan(org, rules=rules, user=current_api_user(), **plan_fields))


@blp.route("/plans/<int:plan_id>")
@blp.response(200, PlanSchema)
def get_plan(org_id: int, plan_id: int):
    return _plan_out(shares.get_plan(api_org(org_id), plan_id))


@blp.route("/plans/<int:plan_id>", methods=["PUT"])
@blp.arguments(PlanInSchema)
@blp.response(200, PlanSchema)
@requires(access.MANAGE_MEMBERS)
def update_plan(data, org_id: int, plan_id: int):
    """Replace a draft plan's fields and rules; refused (409) once issued."""
    org = api_org(org_id, access.MANAGE_MEMBERS)
    plan_fields, rules = split_plan(data)
    return _plan_out(shares.update_plan(shares.get_plan(org, plan_id), rules=rules, **plan_fields))


@blp.route("/plans/<int:plan_id>/inputs", methods=["PUT"])
@blp.arguments(PlanInputsInSchema)
@blp.response(200, PlanSchema)
@requires(access.MANAGE_MEMBERS)
def put_inputs(data, org_id: int, plan_id: int):
    """Per-member inputs (labour dates, 资金/资源/扶贫 amounts). All rows are checked before any is saved."""
    org = api_org(org_id, access.MANAGE_MEMBERS)
    plan = shares.get_plan(org, plan_id)
    rows = []
    for i, row in enumerate(data["inputs"]):
        m = db.session.get(Member, row["member_id"])
        if m is None or m.organization_id != org.id:
            raise ValidationFailed.field(f"inputs.{i}.member_id", "成员不存在")
        rows.append((i, m, {k: v for k, v in row.items() if k != "member_id"}))
    for i, m, values in rows:
        try:
            shares.set_member_input(plan, m, **values)
        except ValidationFailed as exc:
            # the service names the field; the body names the row too
            field = next(iter(exc.errors))
            raise ValidationFailed.field(f"inputs.{i}.{field}", exc.message) from None
    return _plan_out(plan)


def _preview_out(plan: QuantificationPlan) -> dict:
    result, people = shares.preview_plan(plan)
    totals = result.class_totals()
    homes = {}
    for m in people:
        homes.setdefault(m.household_id, m.household)
    errors: dict = {}
    if result.issues:
        errors = ValidationFailed.from_issues(result.issues).errors
    return {
        "ok": not result.issues, "total_units": result.total_units, "face_value": result.face_value,
        "collective_units": result.collective_units,
        "classes": [{"share_class": c, "label": CLASS_LABELS[c], "units": totals[c]} for c in CLASS_ORDER
                    if c in totals],
        "members": [{"member_id": m.id, "household_id": m.household_id, "name": m.name,
                     "classes": result.per_member.get(m.id, {}), "units": result.member_units(m.id)} for m in people],
        "households": [{"household_id": hid, "number": h.number, "units": result.household_units(hid)}
                       for hid, h in homes.items()],
        "warnings": result.warnings, "errors": errors,
    }


@blp.route("/plans/<int:plan_id>/preview")
@blp.response(200, PlanPreviewSchema)
def preview_plan(org_id: int, plan_id: int):
    """Compute a draft plan: per member, household and class, face value and warnings. Nothing is written.
    An issued plan is not recomputed (409): read the register as of its 基准日 instead."""
    plan = shares.get_plan(api_org(org_id), plan_id)
    if plan.status != "draft":
        raise InvalidState("方案已发行，不再重新计算；请查看基准日的股权登记")
    return _preview_out(plan)


@blp.route("/plans/<int:plan_id>/issue", methods=["POST"])
@blp.arguments(PlanIssueInSchema)
@blp.response(200, IssuedSchema)
@requires(access.MANAGE_MEMBERS)
def issue_plan(data, org_id: int, plan_id: int):
    """Issue: writes the opening register (dated the 基准日) and the household 股权证. Needs approval_ref."""
    org = api_org(org_id, access.MANAGE_MEMBERS)
    plan = shares.get_plan(org, plan_id)
    if data.get("approval_ref"):
        shares.update_plan(plan, approval_ref=data["approval_ref"].strip())
    certs = shares.issue_plan(plan, user=current_api_user())
    return {"plan": _plan_out(plan), "certificates": [_cert_out(c) for c in certs]}


# ---------------------------------------------------------------- register


@blp.route("/register")
@blp.arguments(RegisterQuerySchema, location="query")
@blp.response(200, RegisterSchema)
def get_register(args, org_id: int):
    """The register as of a date (default today): holdings, per-class and per-household totals."""
    org = api_org(org_id)
    as_of = args["as_of"] or clock.today()
    r = shares_pdf.build_register(org, as_of)
    held = shares.holdings(org, as_of)
    units = shares.household_units(org, as_of)
    certs = _current_certs(org)
    return {"as_of": as_of, "total_units": r.total, "face_value": r.plan.face_value if r.plan else None,
            "classes": [{"share_class": c, "label": label, "units": r.class_total(c)} for c, label in r.class_labels],
            "households": [_household_out(g.household, units, certs) for g in r.groups if g.household],
            "holdings": [vars(h) for h in held]}


@blp.route("/share-actions")
@blp.response(200, ShareActionSchema(many=True))
def list_actions(org_id: int):
    org = api_org(org_id)
    return list(db.session.scalars(sa.select(ShareAction).where(ShareAction.organization_id == org.id)
                                   .order_by(ShareAction.date, ShareAction.id)))


def _event_endpoint(kind: str, schema, run, doc: str, response=ShareActionSchema):
    @blp.route(f"/share-actions/{kind.replace('_', '-')}", methods=["POST"], endpoint=f"share_{kind}")
    @idempotent_api
    @blp.arguments(schema)
    @blp.response(201, response)
    @requires(access.MANAGE_MEMBERS)
    def view(data, org_id: int):
        org = api_org(org_id, access.MANAGE_MEMBERS)
        return run(org, data, current_api_user())

    view.__doc__ = doc
    return view


def _household_result(org, h: Household) -> dict:
    return _household_out(h, shares.household_units(org), _current_certs(org))


_event_endpoint("transfer", TransferInSchema, lambda o, d, u: shares.transfer_shares(o, user=u, **d),
                "社内转让: only to a member of this collective, never more units than held.")
_event_endpoint("inherit", InheritInSchema, lambda o, d, u: shares.inherit_shares(o, user=u, **d),
                "继承: all the deceased's units to the heir; a non-member heir gets income rights only.")
_event_endpoint("buyback", BuybackInSchema, lambda o, d, u: shares.buy_back(o, user=u, **d),
                "有偿退出: within the yearly limit (章程, default 5% of all shares); drafts the payment voucher.")
_event_endpoint("split", SplitInSchema,
                lambda o, d, u: _household_result(o, shares.split_household(o, user=u, **d)),
                "分户: the named members and their units move to a new household (returned).",
                response=HouseholdSchema)
_event_endpoint("merge", MergeInSchema,
                lambda o, d, u: _household_result(o, shares.merge_households(o, user=u, **d)),
                "合户: every member and unit of source_id moves into target_id (returned).",
                response=HouseholdSchema)
_event_endpoint("nominee", NomineeInSchema, lambda o, d, u: shares.start_nominee(o, user=u, **d),
                "代持: the holder (a member, or the collective when holder_id is null) holds units for another.")
_event_endpoint("nominee_release", NomineeReleaseInSchema, lambda o, d, u: shares.release_nominee(o, user=u, **d),
                "解除代持: the units held for the beneficiary become their own.")


@blp.route("/share-actions/<int:action_id>/reverse", methods=["POST"])
@blp.arguments(ReverseInSchema)
@blp.response(201, ShareActionSchema)
@requires(access.MANAGE_MEMBERS)
def reverse_action(data, org_id: int, action_id: int):
    """冲正: appends the counter-action; the original stays."""
    org = api_org(org_id, access.MANAGE_MEMBERS)
    return shares.reverse_action(org, action_id=action_id, user=current_api_user(), **data)


# ---------------------------------------------------------------- certificates


@blp.route("/certificates/<int:cert_id>")
@blp.response(200, CertificateSchema)
def get_certificate(org_id: int, cert_id: int):
    return _cert_out(shares.get_certificate(api_org(org_id), cert_id))


@blp.route("/certificates/<int:cert_id>/pdf")
@blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type="application/pdf", success=True)
def certificate_pdf(org_id: int, cert_id: int):
    """The 股权证 as PDF, with the QR code of its public verify page."""
    cert = shares.get_certificate(api_org(org_id), cert_id)
    return send_file(io.BytesIO(shares_pdf.certificate_pdf(cert)), mimetype="application/pdf",
                     download_name=shares_pdf.certificate_filename(cert))
