"""Loans and the county 贴息 fund over the API (RULES §9).

/orgs/<org_id>/loans…, /orgs/<org_id>/claims…  the village's loans, events, claim preview, filing and refiling;
/subsidy/claims/<claim_id>/…                   township review, county approval and disbursement of one claim;
/counties/<county_id>/…                        the LPR table, yearly policy, fund summary, allocation, claims.
Money is a string; every refusal is a 4xx naming the field, with nothing written.
"""
from __future__ import annotations


import sqlalchemy as sa
from flask_smorest import Blueprint

from coop.core.errors import Forbidden, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.models import County, Loan, Organization, SubsidyClaim, SubsidyPolicy, User
from coop.schemas.loans import (AllocationSchema, ClaimInSchema, ClaimQuerySchema, ClaimSchema, DecisionInSchema,
                             DisburseInSchema, FundSummarySchema, LoanEventInSchema, LoanEventSchema, LoanInSchema,
                             LoanSchema, LprInSchema, LprSchema, PeriodInSchema, PolicyInSchema, PolicySchema,
                             RefileInSchema, SubsidyCalcSchema)
from coop.services import access, loans as service
from coop.api.common import api_org, current_api_user, idempotent_api, requires
from coop.core import clock
URL = ""
blp = Blueprint("api_loans", __name__, description="贷款贴息 Loans and the county interest subsidy fund")


def _loan_out(loan: Loan) -> dict:
    return {**{k: getattr(loan, k) for k in ("id", "organization_id", "lender", "contract_no", "principal",
                                              "annual_rate", "start_date", "maturity_date", "special",
                                              "account_code", "bank_account")},
            "outstanding": service.outstanding(loan, clock.today()), "events": loan.events}


def _claim_out(claim: SubsidyClaim) -> dict:
    org = db.session.get(Organization, claim.organization_id)
    names = dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(
        [i for i in (claim.filed_by_id, claim.reviewed_by_id, claim.approved_by_id) if i]))).all())
    out = {k: getattr(claim, k) for k in ("id", "organization_id", "loan_id", "period_start", "period_end",
                                           "interest_paid", "eligible", "claimed", "allocated", "status",
                                           "reject_reason", "reviewed_at", "approved_at", "disbursed_on",
                                           "voucher_id")}
    out.update(organization=org.name, township=org.township.name, contract_no=claim.loan.contract_no,
               year=claim.policy.year, filed_by=names.get(claim.filed_by_id),
               reviewed_by=names.get(claim.reviewed_by_id), approved_by=names.get(claim.approved_by_id))
    return out


def _calc_out(calc, policy) -> dict:
    return {"periods": calc.periods, "computed": calc.computed, "interest_paid": calc.interest_paid,
            "eligible": calc.eligible, "lpr_multiple": policy.lpr_multiple, "share": policy.share,
            "org_cap": policy.org_cap}


# ---------------------------------------------------------------- the village's loans


@blp.route("/orgs/<int:org_id>/loans")
@blp.response(200, LoanSchema(many=True))
def list_loans(org_id: int):
    """贷款台账 with today's outstanding principal."""
    org = api_org(org_id)
    return [_loan_out(l) for l in db.session.scalars(
        sa.select(Loan).where(Loan.organization_id == org.id).order_by(Loan.start_date, Loan.id))]


@blp.route("/orgs/<int:org_id>/loans", methods=["POST"])
@blp.arguments(LoanInSchema)
@blp.response(201, LoanSchema)
@requires(access.PREPARE)
def create_loan(data, org_id: int):
    """Register a loan (rate between 0 and 36%; maturity after start)."""
    org = api_org(org_id, access.PREPARE)
    return _loan_out(service.create_loan(org, user=current_api_user(), **data))


@blp.route("/orgs/<int:org_id>/loans/<int:loan_id>")
@blp.response(200, LoanSchema)
def get_loan(org_id: int, loan_id: int):
    return _loan_out(service.get_loan(api_org(org_id), loan_id))


@blp.route("/orgs/<int:org_id>/loans/<int:loan_id>/events", methods=["POST"])
@blp.arguments(LoanEventInSchema)
@blp.response(201, LoanEventSchema)
@requires(access.PREPARE)
def create_event(data, org_id: int, loan_id: int):
    """放款 / 还本 / 付息 with its draft voucher. 付息 needs the interest period and the 结息单."""
    loan = service.get_loan(api_org(org_id, access.PREPARE), loan_id)
    return service.record_loan_event(loan, user=current_api_user(), **data)


@blp.route("/orgs/<int:org_id>/loans/<int:loan_id>/claim-preview", methods=["POST"])
@blp.arguments(PeriodInSchema)
@blp.response(200, SubsidyCalcSchema)
def preview_claim(data, org_id: int, loan_id: int):
    """The eligible subsidy for a period, line by line, after every rule a filing would check. Nothing is written."""
    org = api_org(org_id)
    calc, policy = service.check_claim(org, service.get_loan(org, loan_id), start=data["period_start"], end=data["period_end"])
    return _calc_out(calc, policy)


# ---------------------------------------------------------------- the village's claims


@blp.route("/orgs/<int:org_id>/claims")
@blp.response(200, ClaimSchema(many=True))
def list_org_claims(org_id: int):
    org = api_org(org_id)
    return [_claim_out(c) for c in db.session.scalars(
        sa.select(SubsidyClaim).where(SubsidyClaim.organization_id == org.id).order_by(SubsidyClaim.id))]


@blp.route("/orgs/<int:org_id>/claims", methods=["POST"])
@blp.arguments(ClaimInSchema)
@blp.response(201, ClaimSchema)
@requires(access.PREPARE)
def file_claim(data, org_id: int):
    """申报: refused unless 村社合一, special loan, inside the loan, no overlap, interest paid with 结息单, and the
    amount not above the eligible subsidy."""
    org = api_org(org_id, access.PREPARE)
    loan = db.session.get(Loan, data["loan_id"])
    if loan is None or loan.organization_id != org.id:
        raise ValidationFailed.field("loan_id", "找不到该贷款")
    claim = service.file_claim(org, loan, start=data["period_start"], end=data["period_end"],
                               claimed=data["claimed"], user=current_api_user())
    return _claim_out(claim)


@blp.route("/orgs/<int:org_id>/claims/<int:claim_id>")
@blp.response(200, ClaimSchema)
def get_org_claim(org_id: int, claim_id: int):
    return _claim_out(service.get_org_claim(api_org(org_id), claim_id))


@blp.route("/orgs/<int:org_id>/claims/<int:claim_id>", methods=["PUT"])
@blp.arguments(RefileInSchema)
@blp.response(200, ClaimSchema)
@requires(access.PREPARE)
def refile_claim(data, org_id: int, claim_id: int):
    """Correct a rejected claim and file it again."""
    org = api_org(org_id, access.PREPARE)
    claim = service.get_org_claim(org, claim_id)
    service.file_claim(org, claim.loan, start=data["period_start"], end=data["period_end"], claimed=data["claimed"],
                       user=current_api_user(), claim=claim)
    return _claim_out(claim)


# ---------------------------------------------------------------- township and county steps


@blp.route("/subsidy/claims/<int:claim_id>")
@blp.response(200, ClaimSchema)
def get_claim(claim_id: int):
    return _claim_out(service.get_claim(current_api_user(), claim_id))


@blp.route("/subsidy/claims/<int:claim_id>/review", methods=["POST"])
@blp.arguments(DecisionInSchema)
@blp.response(200, ClaimSchema)
def review_claim(data, claim_id: int):
    """乡镇审核 (township auditors): approve passes it to the county; reject needs a reason."""
    claim = service.get_claim(current_api_user(), claim_id)
    service.review_claim(claim, user=current_api_user(), **data)
    return _claim_out(claim)


@blp.route("/subsidy/claims/<int:claim_id>/approve", methods=["POST"])
@blp.arguments(DecisionInSchema)
@blp.response(200, ClaimSchema)
def approve_claim(data, claim_id: int):
    """县级审批 (county admins). First-come commits the fund at once and refuses beyond it."""
    claim = service.get_claim(current_api_user(), claim_id)
    service.approve_claim(claim, user=current_api_user(), **data)
    return _claim_out(claim)


@blp.route("/subsidy/claims/<int:claim_id>/disburse", methods=["POST"])
@idempotent_api
@blp.arguments(DisburseInSchema)
@blp.response(200, ClaimSchema)
def disburse_claim(data, claim_id: int):
    """拨付 (county admins): drafts the village's voucher Dr 102 / Cr 503 补助收入—贴息."""
    claim = service.get_claim(current_api_user(), claim_id)
    service.disburse_claim(claim, date=data["date"], bank_account=data["bank_account"], user=current_api_user())
    return _claim_out(claim)


# ---------------------------------------------------------------- county: LPR, policy, fund


def _county(county_id: int, *, admin: bool = False) -> County:
    """The county if the user has a county or township role in it (else 404); `admin` also needs county admin
    (else 403)."""
    user = current_api_user()
    county = db.session.get(County, county_id)
    if county is None:
        raise NotFound("找不到该县")
    service.township_scope(user, county.id)
    if admin and county.id not in access.administered_counties(user):
        raise Forbidden("只有县级管理员可以执行此操作")
    return county


def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise NotFound("年度应在2000到2100之间")
    return year


def _policy(county: County, year: int) -> SubsidyPolicy:
    policy = db.session.scalar(sa.select(SubsidyPolicy).where(SubsidyPolicy.county_id == county.id,
                                                              SubsidyPolicy.year == _year(year)))
    if policy is None:
        raise NotFound(f"县里尚未设置 {year} 年度贴息政策")
    return policy


@blp.route("/counties/<int:county_id>/lpr")
@blp.response(200, LprSchema(many=True))
def get_lpr(county_id: int):
    """The 1-year LPR table (published on the 20th of each month)."""
    county = _county(county_id)
    return [{"published_on": d, "rate": r} for d, r in service.lpr_table(county.id)]


@blp.route("/counties/<int:county_id>/lpr", methods=["POST"])
@blp.arguments(LprInSchema)
@blp.response(200, LprSchema)
def set_lpr(data, county_id: int):
    """Add the LPR published on a day, or correct it (county admins)."""
    county = _county(county_id, admin=True)
    return service.set_lpr(county, data["published_on"], data["rate"], user=current_api_user())


@blp.route("/counties/<int:county_id>/subsidy/<int:year>/policy")
@blp.response(200, PolicySchema)
def get_policy(county_id: int, year: int):
    return _policy(_county(county_id), year)


@blp.route("/counties/<int:county_id>/subsidy/<int:year>/policy", methods=["PUT"])
@blp.arguments(PolicyInSchema)
@blp.response(200, PolicySchema)
def put_policy(data, county_id: int, year: int):
    """The year's fund, LPR multiple cap, share, per-organization cap and allocation rule (until allocated)."""
    county = _county(county_id, admin=True)
    return service.set_policy(county, _year(year), user=current_api_user(), **data)


@blp.route("/counties/<int:county_id>/subsidy/<int:year>/fund")
@blp.response(200, FundSummarySchema)
def fund_summary(county_id: int, year: int):
    """Fund used (disbursed), committed (allocated), left, and awaiting decision."""
    policy = _policy(_county(county_id), year)
    return {"year": policy.year, "rule": policy.rule, "allocated_at": policy.allocated_at,
            **service.fund_summary(policy)}


@blp.route("/counties/<int:county_id>/subsidy/<int:year>/allocate", methods=["POST"])
@blp.response(200, AllocationSchema(many=True))
def allocate(county_id: int, year: int):
    """Pro-rata allocation over the approved claims (largest remainder to the fen; never above the fund)."""
    policy = _policy(_county(county_id, admin=True), year)
    shares = service.run_allocation(policy, user=current_api_user())
    return [{"claim_id": k, "allocated": v} for k, v in sorted(shares.items())]


@blp.route("/counties/<int:county_id>/subsidy/claims")
@blp.arguments(ClaimQuerySchema, location="query")
@blp.response(200, ClaimSchema(many=True))
def list_claims(args, county_id: int):
    """Claims by year, status and township (township auditors see their townships only)."""
    user = current_api_user()
    county = _county(county_id)
    scope = service.township_scope(user, county.id)
    township = args.get("township_id")
    if township is not None:
        scope = [township] if scope is None or township in scope else []
    return [_claim_out(c) for c in service.list_claims(county.id, year=args.get("year"), status=args.get("status"),
                                                       township_ids=scope)]
