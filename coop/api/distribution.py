"""收益分配 over the API (RULES §7): plans (scenarios) of a year, what-if previews, approvals, approve, post, the
分红清册 with payment status, and payments.

Same services as the web pages. Reading needs READ_LEDGER; drafting and approvals PREPARE, approving REVIEW,
posting POST. Bad input is a 4xx naming the field path (with the rule and the amount), and nothing is written:
the error handler rolls the session back.
"""
from __future__ import annotations

import io
import json
from decimal import Decimal

import sqlalchemy as sa
from flask import send_file, url_for
from flask_smorest import Blueprint

from coop.api.common import _string_keys, api_org, current_api_user, idempotent_api, requires
from coop.core.errors import InvalidState, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.documents import distribution as distribution_pdf
from coop.ledger import distribution as core
from coop.models import DistributionPlan, DividendPayment, Organization
from coop.models.distribution import APPROVAL_STEPS, PlanStatus
from coop.schemas.distribution import (DistributionApprovalInSchema, DistributionApprovalSchema,
                                       DistributionApproveInSchema, DistributionPlanQuerySchema, DistributionPlanSchema,
                                       DistributionPlanUpdateInSchema, DistributionPolicyInSchema,
                                       DistributionPolicySchema, DistributionPostedSchema, DistributionPostInSchema,
                                       DistributionPreviewSchema, DistributionScenarioInSchema, DividendPayInSchema,
                                       DividendPaymentSchema, DividendStatusSchema, YearEndStatusSchema)
from coop.services import access, distribution

URL = ""
blp = Blueprint("api_distribution", __name__, description="收益分配 Year-end distribution")
PLANS = "/orgs/<int:org_id>/distribution-plans"




# ---------------------------------------------------------------- output shapes


def _cadres_out(plan: DistributionPlan, amounts: dict | None = None) -> list[dict]:
    out = []
    for i, c in enumerate(plan.cadres):
        key = c.id if c.id is not None else i
        amount = (amounts or {}).get(key, c.amount)
        out.append({"id": c.id, "index": i, "name": c.name, "title": c.title, "start": c.start, "end": c.end,
                    "weight": c.weight, "amount": amount,
                    "days": core.days_in_office(core.Cadre(i, c.name, c.start, c.end, c.weight), plan.year)})
    return out


def _plan_out(plan: DistributionPlan) -> dict:
    return {"id": plan.id, "year": plan.year, "name": plan.name, "record_date": plan.record_date,
            "reserve_rate": plan.reserve_rate, "cadre_reward": plan.cadre_reward, "member_pool": plan.member_pool,
            "other": plan.other, "status": plan.status, "approval_method": plan.approval_method,
            "supplementary": plan.supplementary, "materials_date": plan.materials_date,
            "notice_date": plan.notice_date, "pay_from": plan.pay_from,
            "figures": json.loads(plan.figures) if plan.figures else None,
            "voucher_id": plan.voucher_id, "posted_at": plan.posted_at, "distributable": plan.distributable,
            "reserve": plan.reserve, "collective_part": plan.collective_part, "cadres": _cadres_out(plan),
            "approvals": [{"id": a.id, "step": a.step, "label": APPROVAL_STEPS[a.step], "date": a.date,
                           "reference": a.reference, "entitled": a.entitled, "present": a.present,
                           "votes_for": a.votes_for} for a in plan.approvals]}


def _preview_out(org: Organization, p: distribution.PlanPreview) -> dict:
    plan, y, w = p.plan, p.year, p.waterfall
    policy = distribution.policy_for(org)
    total_units = sum(p.units.values(), Decimal(0)) + p.collective_units
    per_share = p.member_split.per_share if p.member_split else None
    roll = distribution_pdf.build_roll(plan, p) if (p.member_split or plan.status == PlanStatus.POSTED) else None
    return {
        "ok": p.ok, "errors": _string_keys(ValidationFailed.from_issues(p.issues).errors) if p.issues else {},
        "year": plan.year, "record_date": plan.record_date,
        "waterfall": {
            "net_profit": y.net_profit, "opening_undistributed": y.opening_undistributed,
            "other_in": y.other_in, "distributed_before": y.distributed, "members": w.members,
            "collective": w.collective, "rounding_rest": w.rounding_rest, "reserve_base": w.reserve_base,
            "operating_profit": y.operating_profit, "distributable": w.distributable, "loss_covered": w.loss_covered,
            "reserve_rate": plan.reserve_rate if plan.reserve_rate is not None else policy.reserve_rate,
            "reserve": w.reserve, "cadre_cap_rate": policy.cadre_cap_rate, "cadre_cap": w.cadre_cap,
            "cadre_reward": w.cadre_reward, "member_pool": w.member_pool,
            "per_share": (f"{per_share.quantize(Decimal('0.0001'))}" if policy.dividend_mode == "pool" else
                          f"{per_share}") if per_share is not None else None,
            "total_units": f"{total_units:.4f}", "other": w.other, "closing_undistributed": w.closing_undistributed,
        },
        "cadres": _cadres_out(plan, p.cadre_amounts),
        "households": [{"household_id": r.household_id, "number": r.number, "head_name": r.head,
                        "units": f"{r.units:.4f}", "amount": r.amount} for r in (roll.rows if roll else [])],
        "collective_units": f"{(roll.collective_units if roll else Decimal(0)):.4f}",
        "collective_amount": roll.collective_amount if roll else Decimal("0.00"),
    }


# ---------------------------------------------------------------- plans


@blp.route(PLANS)
@blp.arguments(DistributionPlanQuerySchema, location="query")
@blp.response(200, DistributionPlanSchema(many=True))
def list_plans(args, org_id: int):
    """The plans (scenarios) of an organization, of one year when `year` is given."""
    org = api_org(org_id)
    q = sa.select(DistributionPlan).where(DistributionPlan.organization_id == org.id)
    if args.get("year"):
        q = q.where(DistributionPlan.year == args["year"])
    return [_plan_out(p) for p in db.session.scalars(q.order_by(DistributionPlan.year, DistributionPlan.id))]


@blp.route(PLANS, methods=["POST"])
@blp.arguments(DistributionScenarioInSchema)
@blp.response(201, DistributionPlanSchema)
@requires(access.PREPARE)
def create_plan(data, org_id: int):
    """Save a scenario for a year whose December is closed. A scenario that breaks a rule (over the cadre cap,
    more than is left, 可分配收益 ≤ 0, a cadre with too short a tenure) is refused with the rule and the amount."""
    org = api_org(org_id, access.PREPARE)
    year = data.pop("year")
    plan = distribution.create_plan(org, year=year, user=current_api_user(), **data)
    distribution.checked_preview(plan)
    return _plan_out(plan), 201, {"Location": url_for("api_distribution.get_plan", org_id=org.id, plan_id=plan.id)}


@blp.route(f"{PLANS}/<int:plan_id>")
@blp.response(200, DistributionPlanSchema)
def get_plan(org_id: int, plan_id: int):
    return _plan_out(distribution.get_plan(api_org(org_id), plan_id))


@blp.route(f"{PLANS}/<int:plan_id>", methods=["PUT"])
@blp.arguments(DistributionPlanUpdateInSchema)
@blp.response(200, DistributionPlanSchema)
@requires(access.PREPARE)
def update_plan(data, org_id: int, plan_id: int):
    """Change a draft; fields left out keep their value, `cadres` replaces the list. Checked like a new plan."""
    org = api_org(org_id, access.PREPARE)
    plan = distribution.update_plan(distribution.get_plan(org, plan_id), user=current_api_user(), **data)
    distribution.checked_preview(plan)
    return _plan_out(plan)


@blp.route(f"{PLANS}/<int:plan_id>", methods=["DELETE"])
@blp.response(204)
@requires(access.PREPARE)
def delete_plan(org_id: int, plan_id: int):
    """Delete a draft scenario."""
    org = api_org(org_id, access.PREPARE)
    distribution.delete_plan(distribution.get_plan(org, plan_id), user=current_api_user())


@blp.route(f"{PLANS}/<int:plan_id>/preview")
@blp.response(200, DistributionPreviewSchema)
def preview_plan(org_id: int, plan_id: int):
    """The waterfall, cadre amounts and each household's amount; `ok` false with `errors` when a rule is broken.
    Nothing is written."""
    org = api_org(org_id)
    return _preview_out(org, distribution.preview(distribution.get_plan(org, plan_id)))


@blp.route(f"{PLANS}/preview", methods=["POST"])
@blp.arguments(DistributionScenarioInSchema)
@blp.response(200, DistributionPreviewSchema)
def preview_scenario(data, org_id: int):
    """What-if: preview a scenario given in the body without saving it. Anyone who may read the books may ask."""
    org = api_org(org_id)
    return _preview_out(org, distribution.preview(distribution.scenario(org, **data)))


# ---------------------------------------------------------------- approval and posting


@blp.route(f"{PLANS}/<int:plan_id>/approvals", methods=["POST"])
@blp.arguments(DistributionApprovalInSchema)
@blp.response(201, DistributionApprovalSchema)
@requires(access.PREPARE)
def record_approval(data, org_id: int, plan_id: int):
    """Record a step of 四议两公开 or the 成员大会 resolution ('assembly'). Quorum and majority are checked: a
    成员大会 needs ≥ 2/3 of all members present and ≥ 2/3 of all members in favour; a 党员大会 a majority."""
    org = api_org(org_id, access.PREPARE)
    a = distribution.record_approval(distribution.get_plan(org, plan_id), user=current_api_user(), **data)
    return {"id": a.id, "step": a.step, "label": APPROVAL_STEPS[a.step], "date": a.date, "reference": a.reference,
            "entitled": a.entitled, "present": a.present, "votes_for": a.votes_for}


@blp.route(f"{PLANS}/<int:plan_id>/approve", methods=["POST"])
@blp.arguments(DistributionApproveInSchema)
@blp.response(200, DistributionPlanSchema)
@requires(access.REVIEW)
def approve_plan(data, org_id: int, plan_id: int):
    """The reviewer approves once the approvals are complete (four_two: up to 决议公开; or assembly)."""
    org = api_org(org_id, access.REVIEW)
    plan = distribution.approve_plan(distribution.get_plan(org, plan_id), method=data["approval_method"], user=current_api_user())
    return _plan_out(plan)


@blp.route(f"{PLANS}/<int:plan_id>/post", methods=["POST"])
@blp.arguments(DistributionPostInSchema)
@blp.response(200, DistributionPostedSchema)
@requires(access.POST)
def post_plan(data, org_id: int, plan_id: int):
    """Post the approved plan on a date in an open month: one 收益分配 voucher and the 分红清册. Once only."""
    org = api_org(org_id, access.POST)
    plan = distribution.get_plan(org, plan_id)
    v = distribution.post_plan(plan, date=data["date"], user=current_api_user())
    return {"plan": _plan_out(plan), "voucher_id": v.id,
            "voucher_url": url_for("api_ledger.get_voucher", org_id=org.id, voucher_id=v.id, _external=True)}


# ---------------------------------------------------------------- 分红清册 and payments


def _posted(org: Organization, plan_id: int) -> DistributionPlan:
    plan = distribution.get_plan(org, plan_id)
    if plan.status != "posted":
        raise InvalidState("方案尚未记账，没有分红清册")
    return plan


@blp.route(f"{PLANS}/<int:plan_id>/dividends")
@blp.response(200, DividendStatusSchema(many=True))
def list_dividends(org_id: int, plan_id: int):
    """分红清册 with payment status per household: allocated, paid (posted vouchers), pending, unpaid."""
    plan = _posted(api_org(org_id), plan_id)
    roll = {r.household_id: r for r in distribution_pdf.build_roll(plan).rows}
    rows = sorted(distribution.dividend_status(plan), key=lambda s: roll[s.dividend.household_id].number)
    return [{"household_id": s.dividend.household_id, "number": roll[s.dividend.household_id].number,
             "head_name": roll[s.dividend.household_id].head, "payee": s.dividend.payee,
             "units": f"{s.dividend.units:.4f}",
             "amount": s.dividend.amount, "paid": s.paid, "pending": s.pending, "unpaid": s.unpaid} for s in rows]


@blp.route(f"{PLANS}/<int:plan_id>/dividends.pdf")
@blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type="application/pdf", success=True)
def dividends_pdf(org_id: int, plan_id: int):
    """The 分红清册 as PDF (a draft plan's is marked 草案)."""
    plan = distribution.get_plan(api_org(org_id), plan_id)
    return send_file(io.BytesIO(distribution_pdf.roll_pdf(plan)), mimetype="application/pdf",
                     download_name=distribution_pdf.filename(plan, "pdf"))


@blp.route(f"{PLANS}/<int:plan_id>/dividends.xlsx")
@blp.alt_response(200, schema={"type": "string", "format": "binary"},
                  content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", success=True)
def dividends_xlsx(org_id: int, plan_id: int):
    """The 分红清册 as xlsx."""
    plan = distribution.get_plan(api_org(org_id), plan_id)
    return send_file(io.BytesIO(distribution_pdf.roll_xlsx(plan)), as_attachment=True,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     download_name=distribution_pdf.filename(plan, "xlsx"))


@blp.route(f"{PLANS}/<int:plan_id>/payments", methods=["POST"])
@idempotent_api
@blp.arguments(DividendPayInSchema)
@blp.response(201, DividendPaymentSchema)
@requires(access.PREPARE)
def pay(data, org_id: int, plan_id: int):
    """Draft one payment voucher (Dr 211 / Cr 101 or 102) for the unpaid dividends of the households (all unpaid
    ones when household_ids is left out). They count as paid once the voucher is posted. With an
    `Idempotency-Key` header, a repeat of the request answers the first one's result instead of paying again."""
    org = api_org(org_id, access.PREPARE)
    plan = distribution.get_plan(org, plan_id)
    v = distribution.pay_dividends(plan, user=current_api_user(), **data)
    households = db.session.scalar(sa.select(sa.func.count()).select_from(DividendPayment)
                                   .where(DividendPayment.voucher_id == v.id))
    return {"voucher_id": v.id, "households": households, "total": v.total_debit,
            "voucher_url": url_for("api_ledger.get_voucher", org_id=org.id, voucher_id=v.id, _external=True)}


# ---------------------------------------------------------------- the December sequence (RULES §4)


def _year_end_out(s: distribution.YearEndStatus) -> dict:
    return {"year": s.year, "step": s.step, "step_label": distribution.YEAR_END_STEPS[s.step],
            "carryover": s.carryover, "closed": s.closed, "posts_in": s.posts_in,
            "carryover_vouchers": [{"id": v.id, "number": v.display_number, "date": v.date,
                                    "summary": v.lines[0].summary if v.lines else ""} for v in s.carryover_vouchers],
            "plans": [{"id": p.id, "name": p.name, "status": st, "supplementary": p.supplementary,
                       "voucher_id": p.voucher_id} for p, st in s.plans]}


YEAR_END = "/orgs/<int:org_id>/year-end/<int:year>"


@blp.route(YEAR_END)
@blp.response(200, YearEndStatusSchema)
@requires(access.READ_LEDGER)
def year_end(org_id: int, year: int):
    """Where the organization stands in the year end: (1) 损益结转, (2) 收益分配 posted in December, (3) 结账."""
    if not 1990 <= year <= 2100:
        raise NotFound("找不到该年度")
    return _year_end_out(distribution.year_end_status(api_org(org_id), year))


@blp.route(f"{YEAR_END}/carry-over", methods=["POST"])
@blp.response(200, YearEndStatusSchema)
@requires(access.CLOSE)
def carry_over(org_id: int, year: int):
    """Step (1): post December's 损益结转 as its own vouchers (again after December changed: only the difference)."""
    from coop.services import closing

    if not 1990 <= year <= 2100:
        raise NotFound("找不到该年度")
    org = api_org(org_id, access.CLOSE)
    closing.carry_over(org, year, user=current_api_user())
    return _year_end_out(distribution.year_end_status(org, year))


# ---------------------------------------------------------------- 章程 choices of the distribution


def _policy_out(org: Organization) -> dict:
    return distribution.policy_settings(org)


@blp.route("/orgs/<int:org_id>/distribution-policy")
@blp.response(200, DistributionPolicySchema)
@requires(access.READ_LEDGER)
def get_policy(org_id: int):
    """The distribution choices in force (the organization's own, else the county's, else the rule's default)."""
    return _policy_out(api_org(org_id))


@blp.route("/orgs/<int:org_id>/distribution-policy", methods=["PUT"])
@blp.arguments(DistributionPolicyInSchema)
@blp.response(200, DistributionPolicySchema)
@requires(access.READ_LEDGER)
def put_policy(data, org_id: int):
    """Set the organization's choices (county admin, like the other 章程 parameters); null clears one."""
    org = api_org(org_id)
    distribution.set_policy(user=current_api_user(), org=org, **data)
    return _policy_out(org)


@blp.route("/counties/<int:county_id>/distribution-policy")
@blp.response(200, DistributionPolicySchema)
def get_county_policy(county_id: int):
    """The county's defaults of the distribution choices (county admins)."""
    return distribution.county_policy_settings(_admin_county(county_id))


@blp.route("/counties/<int:county_id>/distribution-policy", methods=["PUT"])
@blp.arguments(DistributionPolicyInSchema)
@blp.response(200, DistributionPolicySchema)
def put_county_policy(data, county_id: int):
    """Set the county's defaults (an organization's own choice still wins); null clears one to the rule's default."""
    county = _admin_county(county_id)
    distribution.set_policy(user=current_api_user(), county=county, **data)
    return distribution.county_policy_settings(county)


def _admin_county(county_id: int):
    from coop.models import County

    county = db.session.get(County, county_id)
    if county is None or county_id not in access.administered_counties(current_api_user()):
        raise NotFound("找不到该县")
    return county
