"""The county's view (RULES §16) for county admins and township auditors: villages by 经营收益 band with the 倍增
progress, a village's trend, the consolidated statements and the 农经统计年报 — pages, xlsx and PDF from one table.

The scope is ?county=&township= (a county admin any township of the county or the whole county; a township auditor
their township); without it, the first scope the user supervises.
"""
from __future__ import annotations

import io
from html import escape

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from markupsafe import Markup

from coop.documents import charts
from coop.core import clock
from coop.core.errors import CoopError, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.ledger import consolidation as core
from coop.models import Organization
from coop.documents import county as docs
from coop.reports.pdf import render_pdf
from coop.reports.xlsx import render_xlsx
from coop.services import access, consolidation, returns
from coop.web import forms

bp = Blueprint("county", __name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BAND_COLORS = {"none": "#9e9e9e", "lt5": "#ef9a9a", "5to10": "#ffcc80", "10to50": "#fff176", "50to100": "#a5d6a7",
               "ge100": "#2e7d32"}


def _int_arg(name: str, lo: int, hi: int, default: int | None) -> int | None:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if not raw.isdecimal() or not lo <= int(raw) <= hi:  # isdigit() lets '²' through to int()
        raise ValidationFailed.field(name, gettext("%(name)s 应为 %(lo)s 至 %(hi)s 的整数", name=name, lo=lo, hi=hi))
    return int(raw)


def _scope() -> consolidation.Scope:
    allowed = consolidation.supervised(current_user)
    if not allowed:
        abort(404)
    try:
        county_id = _int_arg("county", 1, 2**31 - 1, None)
        township_id = _int_arg("township", 1, 2**31 - 1, None)
    except ValidationFailed:
        abort(404)
    if county_id is None:
        county, township = allowed[0]
        county_id, township_id = county.id, township.id if township else township_id
    try:
        return consolidation.scope_for(current_user, county_id, township_id)
    except CoopError as exc:
        abort(exc.status_code)


def _scope_args(sc: consolidation.Scope) -> dict:
    return {"county": sc.county.id, **({"township": sc.township.id} if sc.township else {})}


def _scopes_menu() -> list[tuple[str, dict]]:
    """(label, url args) of every scope the user may pick: the county and each township for a county admin."""
    out = []
    for county, township in consolidation.supervised(current_user):
        if township is None:
            out.append((county.name, {"county": county.id}))
            out += [(f"{county.name} · {t.name}", {"county": county.id, "township": t.id}) for t in county.townships]
        else:
            out.append((f"{county.name} · {township.name}", {"county": county.id, "township": township.id}))
    return out


def _send(t, fmt: str):
    if fmt == "xlsx":
        return send_file(io.BytesIO(render_xlsx(t)), mimetype=XLSX_MIME, as_attachment=True,
                         download_name=f"{t.filename or t.title}.xlsx")
    return send_file(io.BytesIO(render_pdf(t)), mimetype="application/pdf", download_name=f"{t.filename or t.title}.pdf")


def band_chart(title: str, years: list[int], counts: dict[int, dict[str, int]], tr=gettext) -> Markup:
    """Stacked bars: one bar per year, villages by band from 无 (bottom) up to ≥ 100万 (top), with the count."""
    W, H, left, top, bottom = charts.WIDTH, charts.HEIGHT, 40, 34, 58
    n = max((sum(c.values()) for c in counts.values()), default=0)
    if not years or n == 0:
        return charts._empty(title, tr("暂无数据"))
    slot = (W - left - 10) / len(years)
    bar_w = min(slot * 0.6, 60)
    plot_h = H - top - bottom
    parts = [f'<text x="0" y="18" font-size="15" font-weight="bold" fill="#222">{escape(title)}</text>',
             f'<text x="{W - 10}" y="{top - 6}" font-size="11" text-anchor="end" fill="#777">{escape(tr("单位：个"))}</text>']
    for i, y in enumerate(years):
        x = left + slot * (i + 0.5) - bar_w / 2
        base = top + plot_h
        for key, label, _, _ in core.BANDS:
            k = counts[y].get(key, 0)
            if not k:
                continue
            h = plot_h * k / n
            parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{BAND_COLORS[key]}" stroke="#fff"><title>{y} {escape(tr(label))} {k}</title></rect>')
            if h >= 12:
                parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base - h / 2 + 4:.1f}" font-size="11" '
                             f'text-anchor="middle" fill="#222">{k}</text>')
            base -= h
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" font-size="12" text-anchor="middle" '
                     f'fill="#333">{y}</text>')
    lx, ly = 0, H - 22
    for key, label, _, _ in core.BANDS:
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{BAND_COLORS[key]}"/>')
        text = tr(label)
        parts.append(f'<text x="{lx + 13}" y="{ly}" font-size="11" fill="#333">{escape(text)}</text>')
        lx += 20 + sum(11 if ord(ch) > 0x2E80 else 6 for ch in text)
        if lx > W - 60:
            lx, ly = 0, ly + 16
    return charts._svg(title, parts, "bar")


@bp.route("/county/")
@login_required
def bands():
    """Villages by 经营收益 band per year and the county's total against its 倍增 path."""
    return _render_bands(_scope())


def _render_bands(sc: consolidation.Scope, *, status: int = 200, errors: dict | None = None, form=None):
    today = clock.today()
    target = consolidation.target_of(sc.county, today)
    report = consolidation.bands(sc, target, upto=today.year)
    years = report.years
    fmt = request.args.get("format")
    if fmt in ("xlsx", "pdf") and years and status == 200:
        return _send(docs.bands_table(report), fmt)
    chart = band_chart(gettext("各档次村数"), years, {y: report.counts(y) for y in years})
    # the county's own doubling path: from the base year's total straight to factor × it in the target year
    base_total = report.total(target.base_year) if target.base_year in years else None
    path = [None if base_total is None else
            core.doubling_path(base_total, target.factor, target.base_year, target.years, y) for y in years]
    trend = charts.line_chart(gettext("经营收益合计与倍增路径"), [str(y) for y in years], [
        charts.Series(gettext("经营收益合计"), [report.total(y) for y in years], charts.COLORS["net"]),
        charts.Series(gettext("倍增路径"), path, charts.COLORS["expense"]),
    ], tr=gettext) if years else None
    last = years[-1] if years else None
    rows = sorted(report.rows, key=lambda r: (-(r.profits.get(last) or 0) if last else 0, r.org.name))
    return render_template("county/bands.html", sc=sc, report=report, chart=chart, trend=trend, rows=rows, last=last,
                           bands=core.BANDS, band_labels=core.BAND_LABELS, scopes=_scopes_menu(),
                           args=_scope_args(sc), target=target,
                           can_set=sc.county.id in access.administered_counties(current_user),
                           errors=forms.flat_errors(errors or {}), form=form or {}), status


@bp.route("/county/target", methods=["POST"])
@login_required
def set_target():
    """The county's 倍增 goal (county admins); a bad value is answered beside its field with 422."""
    sc = _scope()
    raw = _form("base_year", "factor", "years")
    done = forms.submit(None, lambda: consolidation.set_target(sc.county, **_load(TargetInSchema, raw), user=current_user))
    if not done.ok:
        return _render_bands(sc, status=done.status, errors=done.error.errors, form=raw)
    flash(gettext("倍增目标已保存"), "success")
    return redirect(url_for("county.bands", **_scope_args(sc)))


@bp.route("/county/villages/<int:org_id>")
@login_required
def village():
    """One village's 经营收益 year by year against its target, with links to its own statements."""
    org = db.session.get(Organization, url_org_id())
    if org is None or not (access.roles_on(current_user, org) & {"township_auditor", "county_admin"}):
        abort(404)
    sc = consolidation.scope(org.county)
    sc.orgs = [org]
    target = consolidation.target_of(org.county, clock.today())
    report = consolidation.bands(sc, target, upto=clock.today().year)
    row = report.rows[0] if report.rows else None
    if row is None:
        abort(404)
    years = report.years
    chart = charts.line_chart(gettext("经营收益与倍增目标"), [str(y) for y in years], [
        charts.Series(gettext("经营收益"), [row.profits.get(y) for y in years], charts.COLORS["net"]),
        charts.Series(gettext("倍增目标"), [row.target] * len(years) if row.target is not None else [None] * len(years),
                      charts.COLORS["expense"]),
    ], tr=gettext)
    return render_template("county/village.html", org=org, row=row, years=years, chart=chart, target=target,
                           band_labels=core.BAND_LABELS)


def _statement(which: str):
    sc = _scope()
    today = clock.today()
    try:
        year = _int_arg("year", 1990, 2100, today.year)
        month = _int_arg("month", 1, 12, 12 if year < today.year else today.month)
        fmt = request.args.get("format") or "html"
        if fmt not in ("html", "xlsx", "pdf"):
            raise ValidationFailed.field("format", gettext("格式应为 html、xlsx 或 pdf"))
    except ValidationFailed as exc:
        return render_template("county/statement.html", sc=sc, t=None, error=exc.message, which=which,
                               scopes=_scopes_menu(), args=_scope_args(sc), year=today.year, month=today.month,
                               by="org"), 422
    # the county as a whole: a column per township by default (a column per village on request)
    by = request.args.get("by") or ("org" if sc.township else "township")
    if by not in ("org", "township"):
        by = "org"
    t = docs.consolidated_table(consolidation.consolidate(sc, year, month), which, by)
    if fmt != "html":
        return _send(t, fmt)
    return render_template("county/statement.html", sc=sc, t=t, error=None, which=which, scopes=_scopes_menu(),
                           args=_scope_args(sc), year=year, month=month, by=by)


@bp.route("/county/balance-sheet")
@login_required
def balance_sheet():
    """汇总资产负债表: each organization, 合计, 抵销 (飞地抱团) and 合并数."""
    return _statement("balance")


@bp.route("/county/income-statement")
@login_required
def income_statement():
    """汇总收益及收益分配表."""
    return _statement("income")


@bp.route("/county/returns")
@login_required
def annual_returns():
    """农经统计年报: the 收益分配 and 资产负债 returns of a closed year (xlsx as filed; the page shows the same)."""
    sc = _scope()
    today = clock.today()
    try:
        year = _int_arg("year", 1990, 2100, today.year - 1)
    except ValidationFailed as exc:
        flash(exc.message, "error")
        year = today.year - 1
    kind = request.args.get("kind") or "income"
    if kind not in returns.KINDS:
        abort(404)
    r = returns.annual_return(sc, year, kind)
    t = docs.return_table(r)
    fmt = request.args.get("format")
    if fmt in ("xlsx", "pdf"):
        return _send(t, fmt)
    return render_template("county/returns.html", sc=sc, t=t, r=r, kind=kind, kinds=returns.KINDS, year=year,
                           scopes=_scopes_menu(), args=_scope_args(sc))


# ---------------------------------------------------------------- 预决算 (an organization's pages)

from marshmallow import ValidationError  # noqa: E402

from coop.schemas.county import (AuditCaseInSchema, BudgetApprovalInSchema, BudgetLinesInSchema, CloseInSchema,  # noqa: E402
                              FindingInSchema, ItemDoneInSchema, ItemInSchema, TargetInSchema)
from coop.services import accounts as accounts_service, audits, budgets  # noqa: E402
from coop.models.county import AUDIT_KINDS, AUDIT_STATUSES, BUDGET_STATUSES  # noqa: E402
from coop.web.orgs import load_org, url_org_id  # noqa: E402

MONTHS = [f"{m}" for m in range(1, 13)]


def _load(schema, data: dict) -> dict:
    try:
        return schema().load(data)
    except ValidationError as exc:
        raise ValidationFailed(gettext("请检查标出的字段"), exc.messages) from None


def _form(*names: str) -> dict:
    """The named form fields, empty ones left out (so the schema's required messages and defaults apply)."""
    return {n: request.form[n].strip() for n in names if request.form.get(n, "").strip() != ""}


def _budget_lines_form() -> dict:
    lines = []
    i = 0
    while f"lines-{i}-account_code" in request.form:
        code, amount = request.form.get(f"lines-{i}-account_code", "").strip(), request.form.get(f"lines-{i}-amount", "").strip()
        if code or amount:
            lines.append({"account_code": code, "amount": amount})
        i += 1
    return {"year": request.form.get("year", ""), "lines": lines}


def _form_year(raw) -> int:
    """The refused form's year to show the page again for (this year when it is not one)."""
    raw = str(raw or "")
    return int(raw) if raw.isdecimal() and 1990 <= int(raw) <= 2100 else clock.today().year


def _render_budget(org, year: int, *, status: int = 200, errors: dict | None = None, form=None, error=None):
    budget = budgets.get_budget(org, year)
    rows = budgets.budget_vs_actual(org, year)
    lines = (form or {}).get("lines") if form else [
        {"account_code": ln.account_code, "amount": f"{ln.amount:.2f}"} for ln in (budget.lines if budget else [])]
    return render_template(
        "county/budget.html", org=org, year=year, budget=budget, rows=rows, months=MONTHS,
        lines=list(lines or []) + [{"account_code": "", "amount": ""}] * 3, statuses=BUDGET_STATUSES,
        accounts=accounts_service.accounts_of(org), can_edit=access.can(current_user, access.PREPARE, org),
        errors=forms.flat_errors(errors or {}), error=error, form=form or {},
    ), status


@bp.route("/o/<int:org_id>/budgets")
@login_required
def budget():
    """财务计划: the year's budget per account, its 成员大会 record, and budget against actual by month."""
    org = load_org()
    try:
        year = _int_arg("year", 1990, 2100, clock.today().year)
    except ValidationFailed:
        year = clock.today().year
    if request.args.get("format") == "xlsx":
        return _send(docs.budget_table(org, year, budgets.budget_vs_actual(org, year)), "xlsx")
    return _render_budget(org, year)


@bp.route("/o/<int:org_id>/budgets/lines", methods=["POST"])
@login_required
def budget_lines():
    org = load_org(access.PREPARE)
    raw = _budget_lines_form()

    def run():
        data = _load(BudgetLinesInSchema, raw)
        budgets.set_lines(org, data["year"], data["lines"], user=current_user)
        return data["year"]

    done = forms.submit(None, run)
    if not done.ok:
        return _render_budget(org, _form_year(raw["year"]), status=done.status, errors=done.error.errors, form=raw,
                              error=done.error.message)
    flash(gettext("预算已保存"), "success")
    return redirect(url_for("county.budget", year=done.result))


@bp.route("/o/<int:org_id>/budgets/approve", methods=["POST"])
@login_required
def budget_approve():
    org = load_org()
    raw = _form("year", "meeting_date", "entitled", "present", "votes_for", "votes_against", "abstained", "reference")

    def run():
        data = _load(BudgetApprovalInSchema, raw)
        year = data.pop("year")
        budgets.approve(org, year, **data, user=current_user)
        return year

    done = forms.submit(None, run)
    if not done.ok:
        return _render_budget(org, _form_year(raw.get("year", "")), status=done.status, errors=done.error.errors,
                              form=raw, error=done.error.message)
    flash(gettext("成员大会决议已记录，预算生效"), "success")
    return redirect(url_for("county.budget", year=done.result))


# ---------------------------------------------------------------- audit cases


def _is_auditor(org) -> bool:
    return bool(access.roles_on(current_user, org) & audits.SUPERVISORS)


@bp.route("/o/<int:org_id>/audits")
@login_required
def audit_cases(*, status: int = 200, errors=None, form=None, error=None):
    """The organization's audits; its members see the published results (RULES §16: results published)."""
    org = load_org(None)
    if not (access.can(current_user, access.READ_LEDGER, org) or access.can(current_user, access.MEMBER_PORTAL, org)):
        abort(403)
    return render_template("county/audits.html", org=org, cases=audits.cases_of(org, current_user), kinds=AUDIT_KINDS,
                           statuses=AUDIT_STATUSES, can_open=_is_auditor(org),
                           errors=forms.flat_errors(errors or {}), form=form or {}, error=error), status


@bp.route("/o/<int:org_id>/audits", methods=["POST"])
@login_required
def audit_open():
    org = load_org()
    raw = _form("kind", "title", "scope", "period_from", "period_to", "subject")
    done = forms.submit(None, lambda: audits.open_case(org, **_load(AuditCaseInSchema, raw), user=current_user))
    if not done.ok:
        return audit_cases(status=done.status, errors=done.error.errors, form=raw, error=done.error.message)
    flash(gettext("审计已立案"), "success")
    return redirect(url_for("county.audit_case", case_id=done.result.id))


def _case(org, case_id: int):
    try:
        case = audits.get_case(current_user, case_id)
    except NotFound:
        abort(404)
    if case.organization_id != org.id:
        abort(404)
    return case


@bp.route("/o/<int:org_id>/audits/<int:case_id>")
@login_required
def audit_case(case_id: int, *, status: int = 200, errors=None, form=None, error=None):
    org = load_org(None)
    case = _case(org, case_id)
    return render_template("county/audit_case.html", org=org, case=case, kinds=AUDIT_KINDS, statuses=AUDIT_STATUSES,
                           books=access.can(current_user, access.READ_LEDGER, org),
                           auditor=_is_auditor(org), can_done=_is_auditor(org) or access.can(
                               current_user, access.PREPARE, org),
                           errors=forms.flat_errors(errors or {}), form=form or {}, error=error), status


def _case_act(org, case, fn, message: str, raw: dict):
    done = forms.submit(None, fn)
    if not done.ok:
        return audit_case(case.id, status=done.status, errors=done.error.errors, form=raw, error=done.error.message)
    flash(message, "success")
    return redirect(url_for("county.audit_case", case_id=case.id))


@bp.route("/o/<int:org_id>/audits/<int:case_id>/findings", methods=["POST"])
@login_required
def audit_finding(case_id: int):
    org = load_org()
    case = _case(org, case_id)
    raw = _form("text", "amount")
    ids = request.form.get("voucher_ids", "").replace("，", ",")
    raw_ids = [x.strip() for x in ids.split(",") if x.strip()]

    def act():
        data = _load(FindingInSchema, {**raw, "voucher_ids": raw_ids})
        audits.add_finding(case, **data, user=current_user)
    return _case_act(org, case, act, gettext("问题已记录"), {**raw, "voucher_ids": ids})


@bp.route("/o/<int:org_id>/audits/<int:case_id>/findings/<int:finding_id>/items", methods=["POST"])
@login_required
def audit_item(case_id: int, finding_id: int):
    org = load_org()
    case = _case(org, case_id)
    finding = next((f for f in case.findings if f.id == finding_id), None)
    if finding is None:
        abort(404)
    raw = _form("action", "owner", "deadline")
    return _case_act(org, case, lambda: audits.add_item(finding, **_load(ItemInSchema, raw), user=current_user),
                     gettext("整改事项已添加"), raw)


@bp.route("/o/<int:org_id>/audits/<int:case_id>/items/<int:item_id>/done", methods=["POST"])
@login_required
def audit_item_done(case_id: int, item_id: int):
    org = load_org()
    case = _case(org, case_id)
    item = next((i for f in case.findings for i in f.items if i.id == item_id), None)
    if item is None:
        abort(404)
    raw = _form("note", "done_on")
    return _case_act(org, case, lambda: audits.complete_item(item, **_load(ItemDoneInSchema, raw), user=current_user),
                     gettext("整改完成情况已记录"), raw)


@bp.route("/o/<int:org_id>/audits/<int:case_id>/close", methods=["POST"])
@login_required
def audit_close(case_id: int):
    org = load_org()
    case = _case(org, case_id)
    raw = _form("conclusion")
    return _case_act(org, case, lambda: audits.close_case(case, **_load(CloseInSchema, raw), user=current_user),
                     gettext("审计已结案"), raw)


@bp.route("/o/<int:org_id>/audits/<int:case_id>/publish", methods=["POST"])
@login_required
def audit_publish(case_id: int):
    org = load_org()
    case = _case(org, case_id)
    return _case_act(org, case, lambda: audits.publish(case, user=current_user), gettext("审计结果已公布"), {})


@bp.app_template_global()
def open_audit_findings(org_ids):
    """For the auditor desk's include: open findings of these organizations with their undone 整改 items."""
    return audits.open_findings(list(org_ids))
