"""贷款贴息 pages (RULES §9).

Village pages (/o/<org_id>/loans/…): the loan register, a loan with its events and their draft vouchers, claims
with the working shown line by line before filing, refiling a rejected claim.
County pages (/county/subsidy/…): dashboard with the fund and a chart, policy per year, LPR table, the claims
queue (township auditors see their townships' claims and review them), allocation, disbursement, fund report.

Forms load the same schemas as the API and call the same services; errors are shown beside their fields and
nothing is written when anything is refused.
"""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Callable

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError

from coop.web.idempotency import idempotent_form
from coop.documents.charts import Series, bar_chart
from coop.core.errors import CoopError, Forbidden
from coop.core.extensions import db
from coop.core.i18n import translate
from coop.core.text import N_
from coop.models import County, Loan, LprRate, Organization, SubsidyClaim, SubsidyPolicy, Township, User, Voucher
from coop.models.loans import CLAIM_STATUSES, LOAN_EVENTS, ClaimStatus
from coop.reports.pdf import render_pdf
from coop.reports.table import Column, ReportTable
from coop.reports.xlsx import render_xlsx
from coop.schemas.loans import (DecisionInSchema, DisburseInSchema, LoanEventInSchema, LoanInSchema, LprInSchema,
                             PeriodInSchema, PolicyInSchema, RefileInSchema)
from coop.ledger import codes, roles as R
from coop.services import access, accounts as account_service, loans as service, roles as role_service
from coop.web.forms import flat_errors, form_input, keep_fields, submit
from coop.web.orgs import load_org
from coop.core import clock
bp = Blueprint("loans", __name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: chart colours and short legend names by claim status, in the order of the flow
STATUS_COLOURS = {ClaimStatus.FILED: "#9aa5b1", ClaimStatus.REVIEWED: "#6aa6e8", ClaimStatus.APPROVED: "#0b6bcb",
                  ClaimStatus.ALLOCATED: "#e0a100", ClaimStatus.DISBURSED: "#1a7f37", ClaimStatus.REJECTED: "#c62828"}
STATUS_SHORT = {ClaimStatus.FILED: N_("已申报"), ClaimStatus.REVIEWED: N_("已审核"), ClaimStatus.APPROVED: N_("已批准"),
                ClaimStatus.ALLOCATED: N_("已分配"), ClaimStatus.DISBURSED: N_("已拨付"), ClaimStatus.REJECTED: N_("已退回")}
RULE_LABELS = {"pro_rata": N_("按比例分配"), "first_come": N_("先到先得（按批准时间）")}


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a signed-in user (login_required returns the redirect, or None)."""


# ---------------------------------------------------------------- form helpers (also used by the joint pages)


def user_names(*ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))).all())


def vouchers_by_id(ids) -> dict[int, Voucher]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {v.id: v for v in db.session.scalars(sa.select(Voucher).where(Voucher.id.in_(ids)))}


@bp.app_template_filter("pct")
def pct(rate: Decimal | None) -> str:
    """0.0345 → '3.45%' (no trailing zeros)."""
    if rate is None:
        return ""
    return f"{format((Decimal(rate) * 100).normalize(), 'f')}%"


def _ctx(**kw) -> dict:
    return dict(event_labels=LOAN_EVENTS, status_labels=CLAIM_STATUSES, rule_labels=RULE_LABELS, **kw)


# ---------------------------------------------------------------- village: loans


@bp.route("/o/<int:org_id>/loans/")
def index():
    """贷款台账 and the organization's 贴息 claims."""
    org = load_org()
    items = list(db.session.scalars(sa.select(Loan).where(Loan.organization_id == org.id)
                                    .order_by(Loan.start_date, Loan.id)))
    today = clock.today()
    claims = list(db.session.scalars(sa.select(SubsidyClaim).where(SubsidyClaim.organization_id == org.id)
                                     .order_by(SubsidyClaim.period_start.desc(), SubsidyClaim.id.desc())))
    return render_template("loans/index.html", **_ctx(
        org=org, loans=items, outstanding={l.id: service.outstanding(l, today) for l in items}, today=today,
        claims=claims, prepare=access.can(current_user, access.PREPARE, org),
        auditor="township_auditor" in access.roles_on(current_user, org)))


@bp.route("/o/<int:org_id>/loans/new", methods=["GET", "POST"])
def loan_new():
    org = load_org(access.PREPARE)
    errors, status = {}, 200
    if request.method == "POST":
        loan, errors, status = submit(LoanInSchema(), lambda d: service.create_loan(org, user=current_user, **d))
        if not errors:
            flash(gettext("已登记贷款 %(no)s", no=loan.contract_no), "success")
            return redirect(url_for("loans.loan_detail", loan_id=loan.id))
    return render_template("loans/loan_form.html", **_ctx(
        org=org, errors=errors, form=request.form, money_leaves=role_service.money_leaves(org),
        money_default=_bank_default(org), loan_leaves=_loan_leaves(org))), status


def _bank_default(org: Organization) -> str:
    """The 银行存款 role's leaf, preselected on the forms ('' when it needs mapping: the form then says so)."""
    try:
        return role_service.resolve(org, R.BANK)
    except CoopError:
        return ""


def _loan_leaves(org: Organization) -> list[tuple[str, str]]:
    tops = (role_service.role(R.SHORT_LOAN).top, role_service.role(R.LONG_LOAN).top)
    return sorted((c, i.name) for c, i in account_service.chart(org).infos.items()
                  if i.is_leaf and i.active and any(codes.under(c, t) for t in tops))


def _render_loan(org: Organization, loan: Loan, errors: dict | None = None, status: int = 200):
    today = clock.today()
    claims = list(db.session.scalars(sa.select(SubsidyClaim).where(SubsidyClaim.loan_id == loan.id)
                                     .order_by(SubsidyClaim.period_start)))
    return render_template("loans/loan.html", **_ctx(
        org=org, loan=loan, outstanding=service.outstanding(loan, today), today=today, claims=claims,
        vouchers=vouchers_by_id(e.voucher_id for e in loan.events), errors=errors or {},
        money_leaves=role_service.money_leaves(org), money_default=loan.bank_account or _bank_default(org),
        form=request.form if errors else {}, prepare=access.can(current_user, access.PREPARE, org))), status


@bp.route("/o/<int:org_id>/loans/<int:loan_id>")
def loan_detail(loan_id: int):
    org = load_org()
    return _render_loan(org, service.get_loan(org, loan_id))


@bp.route("/o/<int:org_id>/loans/<int:loan_id>/events", methods=["POST"])
def event_new(loan_id: int):
    """放款 / 还本 / 付息: the event and its draft voucher, or the form again with the errors."""
    org = load_org(access.PREPARE)
    loan = service.get_loan(org, loan_id)
    event, errors, status = submit(LoanEventInSchema(),
                                   lambda d: service.record_loan_event(loan, user=current_user, **d),
                                   fields={"kind", "date", "amount", "period_start", "period_end", "evidence",
                                           "bank_account", "expense_account", "account_code"})
    if errors:
        return _render_loan(org, service.get_loan(org, loan_id), errors, status)
    flash(gettext("已记录%(kind)s %(amount)s 元，凭证草稿已生成，请审核记账", kind=translate(LOAN_EVENTS[event.kind]),
                  amount=f"{event.amount:,.2f}"), "success")
    return redirect(url_for("loans.loan_detail", loan_id=loan.id))


# ---------------------------------------------------------------- village: claims


CLAIM_FIELDS = {"period_start", "period_end", "claimed"}


def _default_period(loan: Loan) -> tuple[dt.date, dt.date]:
    """From the end of the loan's last claim (or its start) to the end of the last interest period paid within
    that year."""
    last = db.session.scalar(sa.select(sa.func.max(SubsidyClaim.period_end)).where(
        SubsidyClaim.loan_id == loan.id, SubsidyClaim.status != ClaimStatus.REJECTED))
    start = last or loan.start_date
    year_end = min(dt.date(start.year + 1, 1, 1), loan.maturity_date + dt.timedelta(days=1))
    ends = [e.period_end for e in loan.events if e.kind == "interest" and e.period_end
            and start < e.period_end <= year_end]
    return start, max(ends, default=year_end)


def _claim_form(org: Organization, loan: Loan, claim: SubsidyClaim | None):
    """Preview (the working line by line, nothing written) and filing, on one form."""
    calc = policy = None
    errors, status = {}, 200
    if request.method == "GET":
        start, end = (claim.period_start, claim.period_end) if claim else _default_period(loan)
        form = {"period_start": start.isoformat(), "period_end": end.isoformat(),
                "claimed": f"{claim.claimed:.2f}" if claim else ""}
    else:
        form = dict(request.form)
        data = form_input(request.form)
        try:
            period = PeriodInSchema().load({k: v for k, v in data.items() if k in ("period_start", "period_end")})
            calc, policy = service.check_claim(org, loan, start=period["period_start"], end=period["period_end"],
                                               claim=claim)
        except ValidationError as exc:
            errors = flat_errors(exc.messages)
        except CoopError as exc:
            errors, status = flat_errors(exc.errors), exc.status_code
        if calc is not None and request.form.get("action") == "file":
            filed, errors, status = submit(RefileInSchema(), lambda d: service.file_claim(
                org, loan, start=d["period_start"], end=d["period_end"], claimed=d["claimed"], user=current_user,
                claim=claim), data, fields=CLAIM_FIELDS)
            if not errors:
                flash(gettext("已申报贴息 %(amount)s 元，等待乡镇审核", amount=f"{filed.claimed:,.2f}"), "success")
                return redirect(url_for("loans.claim_detail", claim_id=filed.id))
            loan = service.get_loan(org, loan.id)
        elif calc is not None and not form.get("claimed"):
            form["claimed"] = f"{calc.eligible:.2f}"
        errors = keep_fields(errors, CLAIM_FIELDS)
        status = status if errors else 200
    return render_template("loans/claim_form.html", **_ctx(
        org=org, loan=loan, claim=claim, calc=calc, policy=policy, errors=errors, form=form)), status


@bp.route("/o/<int:org_id>/loans/<int:loan_id>/claims/new", methods=["GET", "POST"])
def claim_new(loan_id: int):
    org = load_org(access.PREPARE)
    return _claim_form(org, service.get_loan(org, loan_id), None)


@bp.route("/o/<int:org_id>/claims/<int:claim_id>/refile", methods=["GET", "POST"])
def claim_refile(claim_id: int):
    """Correct a rejected claim and file it again."""
    org = load_org(access.PREPARE)
    claim = service.get_org_claim(org, claim_id)
    if claim.status != "rejected":
        flash(gettext("只有被退回的申报可以修改后重新申报"), "warning")
        return redirect(url_for("loans.claim_detail", claim_id=claim.id))
    return _claim_form(org, claim.loan, claim)


def _render_claim(org: Organization, claim: SubsidyClaim, errors: dict | None = None, status: int = 200,
                  form_name: str = ""):
    """A claim with its steps (who, when), the working, and the action the user may take at its stage."""
    try:
        calc, policy = service.compute_claim(claim.loan, claim.period_start, claim.period_end, claim=claim)
    except CoopError:
        calc = policy = None
    roles = access.roles_on(current_user, org)
    county_admin = org.township.county_id in access.administered_counties(current_user)
    return render_template("loans/claim.html", **_ctx(
        org=org, claim=claim, calc=calc, policy=claim.policy, names=user_names(
            claim.filed_by_id, claim.reviewed_by_id, claim.approved_by_id),
        voucher=vouchers_by_id([claim.voucher_id]).get(claim.voucher_id),
        can_review="township_auditor" in roles and claim.status == ClaimStatus.FILED,
        can_approve=county_admin and claim.status == ClaimStatus.REVIEWED,
        can_disburse=county_admin and claim.status == ClaimStatus.ALLOCATED,
        can_refile=access.can(current_user, access.PREPARE, org) and claim.status == ClaimStatus.REJECTED,
        money_leaves=role_service.money_leaves(org), money_default=claim.loan.bank_account or _bank_default(org),
        errors=errors or {}, form_name=form_name, form=request.form if errors else {},
        today=clock.today())), status


@bp.route("/o/<int:org_id>/claims/<int:claim_id>")
def claim_detail(claim_id: int):
    org = load_org()
    return _render_claim(org, service.get_org_claim(org, claim_id))


# ---------------------------------------------------------------- township and county steps on a claim


def _claim_step(claim_id: int, name: str, allowed: Callable[[Organization], bool], message: str, schema: Schema,
                action: Callable[[SubsidyClaim, dict], object], done: str):
    """Load the claim (404 if not visible), check the role (403), run the step; errors beside the fields."""
    claim = service.get_claim(current_user, claim_id)
    org = load_org(None, org_id=claim.organization_id)
    if not allowed(org):
        raise Forbidden(message)
    data = form_input(request.form, skip=("csrf_token", "decision", "next"))
    if "decision" in request.form:
        data["approve"] = request.form["decision"] == "approve"
    _, errors, status = submit(schema, lambda d: action(claim, d), data,
                               fields={"reason", "date", "approve", "bank_account", "income_account"})
    if errors:
        db.session.expire_all()
        return _render_claim(org, db.session.get(SubsidyClaim, claim_id), errors, status, form_name=name)
    flash(done, "success")
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("loans.claim_detail", claim_id=claim_id))


@bp.route("/county/subsidy/claims/<int:claim_id>/review", methods=["POST"])
def claim_review(claim_id: int):
    """乡镇审核: pass on to the county, or send back with the reason."""
    return _claim_step(
        claim_id, "review", lambda org: "township_auditor" in access.roles_on(current_user, org),
        gettext("只有乡镇经管站可以审核贴息申报"), DecisionInSchema(),
        lambda c, d: service.review_claim(c, user=current_user, approve=d["approve"], reason=d["reason"]),
        gettext("已审核"))


def _county_admin_of(org: Organization) -> bool:
    return org.township.county_id in access.administered_counties(current_user)


@bp.route("/county/subsidy/claims/<int:claim_id>/approve", methods=["POST"])
def claim_approve(claim_id: int):
    """县级审批: approve (first-come commits the fund at once) or send back with the reason."""
    return _claim_step(
        claim_id, "approve", _county_admin_of, gettext("只有县级管理员可以审批贴息申报"), DecisionInSchema(),
        lambda c, d: service.approve_claim(c, user=current_user, approve=d["approve"], reason=d["reason"]),
        gettext("已审批"))


@bp.route("/county/subsidy/claims/<int:claim_id>/disburse", methods=["POST"])
@idempotent_form
def claim_disburse(claim_id: int):
    """拨付: drafts the village's voucher Dr 102 / Cr 503."""
    return _claim_step(
        claim_id, "disburse", _county_admin_of, gettext("只有县级管理员可以拨付贴息"), DisburseInSchema(),
        lambda c, d: service.disburse_claim(c, date=d["date"], bank_account=d["bank_account"], user=current_user),
        gettext("已拨付，村级凭证草稿已生成"))


# ---------------------------------------------------------------- county pages


def _my_county() -> County:
    """The county the user administers; 404 for anybody else."""
    ids = access.administered_counties(current_user)
    if not ids:
        abort(404)
    return db.session.get(County, ids[0])


def _year(value: str | None, county: County) -> int:
    """?year= when sensible, else the latest year with a policy, else this year."""
    if value and value.isdecimal() and 2000 <= int(value) <= 2100:
        return int(value)
    latest = db.session.scalar(sa.select(sa.func.max(SubsidyPolicy.year)).where(SubsidyPolicy.county_id == county.id))
    return latest or clock.today().year


def _policy(county: County, year: int) -> SubsidyPolicy | None:
    return db.session.scalar(sa.select(SubsidyPolicy).where(SubsidyPolicy.county_id == county.id,
                                                            SubsidyPolicy.year == year))


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        abort(404)


def _dashboard(county: County, year: int, error: str | None = None, status: int = 200):
    policy = _policy(county, year)
    by_township = service.claims_by_township(county.id, year)
    order = list(STATUS_COLOURS)
    townships = sorted(by_township)
    chart = bar_chart(gettext("%(y)s年度贴息申报（按乡镇、状态）", y=year), townships, [
        Series(translate(STATUS_SHORT[s]), [by_township[t].get(s, (0, None))[1] for t in townships], STATUS_COLOURS[s])
        for s in order], empty=gettext("暂无申报"), tr=gettext)
    years = sorted(set(db.session.scalars(sa.select(SubsidyPolicy.year).where(SubsidyPolicy.county_id == county.id)))
                   | {year, clock.today().year}, reverse=True)
    return render_template("loans/county.html", **_ctx(
        county=county, year=year, years=years, policy=policy,
        summary=service.fund_summary(policy) if policy else None, by_township=by_township, order=order,
        chart=chart, error=error)), status


@bp.route("/county/subsidy/")
def county():
    """贴息资金 dashboard: fund used / committed / left, claims by township and status."""
    if not access.administered_counties(current_user):
        if access.has_role_anywhere(current_user, "township_auditor"):
            return redirect(url_for("loans.review_queue"))
        abort(404)
    county = _my_county()
    return _dashboard(county, _year(request.args.get("year"), county))


@bp.route("/county/subsidy/policy/<int:year>", methods=["GET", "POST"])
def policy(year: int):
    county = _my_county()
    _check_year(year)
    current = _policy(county, year)
    errors, status = {}, 200
    if request.method == "POST":
        data = form_input(request.form)
        data.setdefault("org_cap", None)  # an empty cap means none
        _, errors, status = submit(PolicyInSchema(), lambda d: service.set_policy(county, year, user=current_user, **d),
                                   data, fields={"fund", "lpr_multiple", "share", "org_cap", "rule"})
        if not errors:
            flash(gettext("%(y)s年度贴息政策已保存", y=year), "success")
            return redirect(url_for("loans.county", year=year))
    values = request.form if request.method == "POST" else {
        "fund": f"{current.fund:.2f}" if current else "5000000.00",
        "lpr_multiple": f"{current.lpr_multiple.normalize()}" if current else "1",
        "share": f"{current.share.normalize()}" if current else "1",
        "org_cap": f"{current.org_cap:.2f}" if current and current.org_cap is not None else "",
        "rule": current.rule if current else "pro_rata"}
    return render_template("loans/policy.html", **_ctx(county=county, year=year, current=current, errors=errors,
                                                       form=values)), status


@bp.route("/county/subsidy/lpr", methods=["GET", "POST"])
def lpr():
    """LPR 表: the 1-year LPR as published on the 20th of each month; the county keeps it."""
    county = _my_county()
    errors, status = {}, 200
    if request.method == "POST":
        row, errors, status = submit(LprInSchema(), lambda d: service.set_lpr(county, d["published_on"], d["rate"],
                                                                             user=current_user),
                                     fields={"published_on", "rate"})
        if not errors:
            flash(gettext("已保存 %(date)s 的 LPR %(rate)s%%", date=row.published_on, rate=f"{row.rate * 100:.2f}"),
                  "success")
            return redirect(url_for("loans.lpr"))
    rows = list(db.session.scalars(sa.select(LprRate).where(LprRate.county_id == county.id)
                                   .order_by(LprRate.published_on.desc())))
    return render_template("loans/lpr.html", **_ctx(county=county, rows=rows, errors=errors, form=request.form,
                                                    year=_year(None, county))), status


def _queue(county: County, scope: list[int] | None, *, title: str, default_status: str | None):
    year = _year(request.args.get("year"), county)
    status = request.args.get("status", default_status or "")
    status = status if status in CLAIM_STATUSES else None
    townships = [t for t in county.townships if scope is None or t.id in scope]
    township_id = request.args.get("township_id", "")
    chosen = int(township_id) if township_id.isdecimal() and any(t.id == int(township_id) for t in townships) else None
    claims = service.list_claims(county.id, year=year, status=status,
                                 township_ids=[chosen] if chosen else scope)
    county_admin = scope is None
    return render_template("loans/claims.html", **_ctx(
        county=county, year=year, status=status, townships=townships, township_id=chosen, claims=claims,
        title=title, county_admin=county_admin,
        auditor_townships={r.township_id for r in current_user.roles if r.role == "township_auditor"},
        orgs={c.id: db.session.get(Organization, c.organization_id) for c in claims}, today=clock.today()))


@bp.route("/county/subsidy/claims")
def claims():
    """The county's claims queue by township and status (approve, reject, disburse)."""
    county = _my_county()
    return _queue(county, None, title=N_("贴息申报"), default_status=None)


@bp.route("/county/subsidy/review")
def review_queue():
    """The township auditor's queue: claims of their townships waiting for review."""
    ids = [r.township_id for r in current_user.roles if r.role == "township_auditor" and r.township_id]
    if not ids:
        if access.administered_counties(current_user):
            return redirect(url_for("loans.claims", status=ClaimStatus.FILED))
        abort(404)
    county = db.session.get(Township, ids[0]).county
    return _queue(county, service.township_scope(current_user, county.id), title=N_("贴息申报审核"),
                  default_status=ClaimStatus.FILED)


@bp.route("/county/subsidy/<int:year>/allocate", methods=["POST"])
def allocate(year: int):
    """Pro-rata allocation of the year's fund over the approved claims (largest remainder to the fen)."""
    county = _my_county()
    _check_year(year)
    policy = _policy(county, year)
    if policy is None:
        return _dashboard(county, year, error=gettext("县里尚未设置 %(y)s 年度贴息政策", y=year), status=409)
    done = submit(None, lambda: service.run_allocation(policy, user=current_user))
    if not done.ok:
        return _dashboard(county, year, error=done.message, status=done.status)
    shares = done.result
    flash(gettext("已分配 %(n)s 笔申报，共 %(amount)s 元", n=len(shares), amount=f"{sum(shares.values(), Decimal(0)):,.2f}"),
          "success")
    return redirect(url_for("loans.county", year=year))


def fund_report(county: County, policy: SubsidyPolicy) -> ReportTable:
    """贴息资金使用情况表: every claim of the year with what was allocated and paid, and the fund's position."""
    t = ReportTable(
        title="贴息资金使用情况表",
        columns=[Column("township", "乡镇", width=10), Column("org", "申报单位", width=18),
                 Column("contract", "贷款合同", width=14), Column("period", "贴息期间", width=22),
                 Column("paid", "实付利息", "money", width=12), Column("eligible", "可贴息金额", "money", width=12),
                 Column("claimed", "申报金额", "money", width=12), Column("allocated", "分配金额", "money", width=12),
                 Column("status", "状态", width=10, align="center"), Column("disbursed", "拨付日期", width=11)],
        subtitle=[f"{county.name}", f"{policy.year}年度", "单位：元"], landscape=True,
        filename=f"贴息资金使用情况表-{county.name}-{policy.year}年")
    totals = {"paid": Decimal(0), "eligible": Decimal(0), "claimed": Decimal(0), "allocated": Decimal(0)}
    for c in service.list_claims(county.id, year=policy.year):
        org = db.session.get(Organization, c.organization_id)
        t.add({"township": org.township.name, "org": org.name, "contract": c.loan.contract_no,
               "period": f"{c.period_start} 至 {c.period_end - dt.timedelta(days=1)}", "paid": c.interest_paid,
               "eligible": c.eligible, "claimed": c.claimed, "allocated": c.allocated,
               "status": CLAIM_STATUSES[c.status], "disbursed": c.disbursed_on.isoformat() if c.disbursed_on else ""})
        if c.status != ClaimStatus.REJECTED:
            for key, value in (("paid", c.interest_paid), ("eligible", c.eligible), ("claimed", c.claimed),
                               ("allocated", c.allocated)):
                totals[key] += value or 0
    t.add({"township": "合计（不含退回）", **totals}, style="total")
    s = service.fund_summary(policy)
    t.notes = [f"年度资金 {s['fund']:,.2f} 元；已拨付 {s['used']:,.2f} 元；已分配（含已拨付） {s['committed']:,.2f} 元；"
               f"剩余 {s['left']:,.2f} 元；审批中 {s['awaiting']:,.2f} 元。",
               f"分配方式：{RULE_LABELS[policy.rule]}；LPR 倍数上限 {policy.lpr_multiple.normalize()}；"
               f"贴息比例 {policy.share * 100:.2f}%"
               + (f"；单位年度上限 {policy.org_cap:,.2f} 元" if policy.org_cap is not None else "") + "。"]
    t.signatures = ["审核：", "制表：", f"日期：{clock.today().isoformat()}"]
    return t


@bp.route("/county/subsidy/<int:year>/report.<fmt>")
def report(year: int, fmt: str):
    county = _my_county()
    _check_year(year)
    policy = _policy(county, year)
    if policy is None or fmt not in ("pdf", "xlsx"):
        abort(404)
    t = fund_report(county, policy)
    if fmt == "xlsx":
        return send_file(io.BytesIO(render_xlsx(t)), mimetype=XLSX_MIME, as_attachment=True,
                         download_name=f"{t.filename}.xlsx")
    return send_file(io.BytesIO(render_pdf(t)), mimetype="application/pdf", download_name=f"{t.filename}.pdf")
