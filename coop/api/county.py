"""The county's view over the API (RULES §16): villages by 经营收益 band with the 倍增 target, and the consolidated
statements (per organization, total, eliminations, consolidated). County admins: their county or one township;
township auditors: their township (township_id required)."""
from __future__ import annotations

from flask_smorest import Blueprint

from coop.ledger import consolidation as core
from coop.ledger.statements import BALANCE_SHEET_LAYOUT, INCOME_LAYOUT
from coop.schemas.county import BandsSchema, ConsolidatedSchema, ScopeQuerySchema, StatementQuerySchema
from coop.schemas.members import RegistrationLookupInSchema, RegistrationsSchema
from coop.services import consolidation, members
from coop.api.common import api_org, current_api_user, requires
from coop.core import clock
URL = ""
blp = Blueprint("api_county", __name__, description="县级汇总 County view: income bands, consolidated statements")


@blp.route("/counties/<int:county_id>/bands")
@blp.arguments(ScopeQuerySchema, location="query")
@blp.response(200, BandsSchema)
def bands(args, county_id: int):
    """Every village's 经营收益 per year of the 倍增 window (base year … target year, up to `year`), its band and target."""
    sc = consolidation.scope_for(current_api_user(), county_id, args.get("township_id"))
    today = clock.today()
    target = consolidation.target_of(sc.county, today)
    r = consolidation.bands(sc, target, upto=args.get("year") or today.year)
    last = r.years[-1] if r.years else None
    return {
        "scope": sc.name, "base_year": target.base_year, "factor": target.factor, "target_year": target.target_year,
        "years": r.years, "counts": {str(y): r.counts(y) for y in r.years},
        "villages": [{"organization_id": v.org.id, "name": v.org.name, "township": v.org.township.name,
                      "profits": {str(y): p for y, p in v.profits.items()},
                      "closed": {str(y): c for y, c in v.closed.items()},
                      "band": v.band(last) if last else core.band_of(0), "target": v.target} for v in r.rows],
    }


@blp.route("/counties/<int:county_id>/consolidated")
@blp.arguments(StatementQuerySchema, location="query")
@blp.response(200, ConsolidatedSchema)
def consolidated(args, county_id: int):
    """汇总资产负债表 (期末) or 汇总收益及收益分配表 (本年累计) to the month's end."""
    sc = consolidation.scope_for(current_api_user(), county_id, args.get("township_id"))
    today = clock.today()
    year = args.get("year") or today.year
    month = args.get("month") or (12 if year < today.year else today.month)
    c = consolidation.consolidate(sc, year, month)
    if args["statement"] == "balance":
        values, (total, elim, net), layout = c.end, c.balance_sheet(), BALANCE_SHEET_LAYOUT
    else:
        values, (total, elim, net), layout = c.income, c.income_statement(), INCOME_LAYOUT
    lines = [{"key": key, "label": label, "values": {str(o.id): values[o.id][key] for o in sc.orgs},
              "total": total[key], "eliminations": elim[key], "consolidated": net[key]}
             for key, label, kind, _ in layout if kind != "header"]
    return {"scope": sc.name, "statement": args["statement"], "year": year, "month": month,
            "organizations": {str(o.id): o.name for o in sc.orgs}, "closed": sorted(c.closed), "lines": lines}


# ---------------------------------------------------------------- 预决算 and audit cases

from coop.core.errors import NotFound  # noqa: E402
from coop.schemas.county import (AuditCaseInSchema, AuditCaseSchema, BudgetApprovalInSchema, BudgetLinesInSchema,  # noqa: E402
                              BudgetQuerySchema, BudgetSchema, CloseInSchema, FindingInSchema, ItemDoneInSchema,
                              ItemInSchema)
from coop.services import access, audits, budgets  # noqa: E402


def _budget_out(org, year: int) -> dict:
    b = budgets.get_budget(org, year)
    fields_ = ("year", "status", "meeting_date", "entitled", "present", "votes_for", "votes_against", "abstained",
               "reference")
    if b is None:  # not drawn up yet: an empty budget, not a missing resource
        return {**dict.fromkeys(fields_), "year": year, "status": "none", "rows": []}
    out = {k: getattr(b, k) for k in fields_}
    out["rows"] = [{"account_code": r.code, "name": r.name, "budget": r.budget, "months": r.months,
                    "actual": r.actual, "variance": r.variance} for r in budgets.budget_vs_actual(org, year)]
    return out


@blp.route("/orgs/<int:org_id>/budgets")
@blp.arguments(BudgetQuerySchema, location="query")
@blp.response(200, BudgetSchema)
def get_budget(args, org_id: int):
    """财务计划: the year's budget, its 成员大会 record and budget against actual by month."""
    return _budget_out(api_org(org_id), args["year"])


@blp.route("/orgs/<int:org_id>/budgets", methods=["PUT"])
@blp.arguments(BudgetLinesInSchema)
@blp.response(200, BudgetSchema)
@requires(access.PREPARE)
def put_budget(data, org_id: int):
    """Replace the draft budget's lines (refused once the 成员大会 has approved it)."""
    org = api_org(org_id)
    budgets.set_lines(org, data["year"], data["lines"], user=current_api_user())
    return _budget_out(org, data["year"])


@blp.route("/orgs/<int:org_id>/budgets/approval", methods=["POST"])
@blp.arguments(BudgetApprovalInSchema)
@blp.response(200, BudgetSchema)
@requires(access.PREPARE)
def approve_budget(data, org_id: int):
    """Record the 成员大会 resolution (quorum two thirds present, more than half of all members in favour)."""
    org = api_org(org_id)
    year = data.pop("year")
    budgets.approve(org, year, **data, user=current_api_user())
    return _budget_out(org, year)


def _case_out(case) -> dict:
    out = {k: getattr(case, k) for k in ("id", "organization_id", "kind", "title", "scope", "period_from",
                                         "period_to", "subject", "status", "opened_on", "conclusion", "closed_on",
                                         "published_on")}
    out["findings"] = [{"id": f.id, "text": f.text, "amount": f.amount, "voucher_ids": [v.voucher_id for v in f.vouchers],
                        "items": [{k: getattr(i, k) for k in ("id", "action", "owner", "deadline", "done_on",
                                                              "done_note")} for i in f.items]} for f in case.findings]
    return out


def _case(case_id: int):
    return audits.get_case(current_api_user(), case_id)


@blp.route("/orgs/<int:org_id>/audits")
@blp.response(200, AuditCaseSchema(many=True))
def list_audits(org_id: int):
    return [_case_out(c) for c in audits.cases_of(api_org(org_id))]


@blp.route("/orgs/<int:org_id>/audits", methods=["POST"])
@blp.arguments(AuditCaseInSchema)
@blp.response(201, AuditCaseSchema)
def open_audit(data, org_id: int):
    """立案: township auditors and county admins."""
    case = audits.open_case(api_org(org_id), **data, user=current_api_user())
    return _case_out(case)


@blp.route("/audits/<int:case_id>")
@blp.response(200, AuditCaseSchema)
def get_audit(case_id: int):
    return _case_out(_case(case_id))


@blp.route("/audits/<int:case_id>/findings", methods=["POST"])
@blp.arguments(FindingInSchema)
@blp.response(201, AuditCaseSchema)
def add_finding(data, case_id: int):
    case = _case(case_id)
    audits.add_finding(case, **data, user=current_api_user())
    return _case_out(case)


@blp.route("/audits/<int:case_id>/findings/<int:finding_id>/items", methods=["POST"])
@blp.arguments(ItemInSchema)
@blp.response(201, AuditCaseSchema)
def add_item(data, case_id: int, finding_id: int):
    case = _case(case_id)
    finding = next((f for f in case.findings if f.id == finding_id), None)
    if finding is None:
        raise NotFound("找不到该问题")
    audits.add_item(finding, **data, user=current_api_user())
    return _case_out(case)


@blp.route("/audits/<int:case_id>/items/<int:item_id>/done", methods=["POST"])
@blp.arguments(ItemDoneInSchema)
@blp.response(200, AuditCaseSchema)
def item_done(data, case_id: int, item_id: int):
    case = _case(case_id)
    item = next((i for f in case.findings for i in f.items if i.id == item_id), None)
    if item is None:
        raise NotFound("找不到该整改事项")
    audits.complete_item(item, **data, user=current_api_user())
    return _case_out(case)


@blp.route("/audits/<int:case_id>/close", methods=["POST"])
@blp.arguments(CloseInSchema)
@blp.response(200, AuditCaseSchema)
def close_audit(data, case_id: int):
    case = _case(case_id)
    audits.close_case(case, **data, user=current_api_user())
    return _case_out(case)


@blp.route("/audits/<int:case_id>/publish", methods=["POST"])
@blp.response(200, AuditCaseSchema)
def publish_audit(case_id: int):
    case = _case(case_id)
    audits.publish(case, user=current_api_user())
    return _case_out(case)

# ---------------------------------------------------------------- a person registered twice (RULES §13)


@blp.route("/registrations/lookup", methods=["POST"])
@blp.arguments(RegistrationLookupInSchema)
@blp.response(200, RegistrationsSchema)
def lookup_registrations(data):
    """Township auditors and county admins: where a full, exact 身份证号 is registered among the organizations they
    supervise (numbers masked), and whether elsewhere too (never where). A POST: the number stays out of URLs."""
    found, elsewhere = members.find_registrations(current_api_user(), data["id_number"])
    return {"registrations": [{"organization_id": r.organization.id, "organization": r.organization.name,
                               "township": r.organization.township.name, "household_id": r.household_id,
                               "household_number": r.household_number, "name": r.name, "id_number": r.id_number,
                               "status": r.status} for r in found],
            "elsewhere": elsewhere}
