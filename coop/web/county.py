"""The county's view (RULES §16) for county admins and township auditors: villages by 经营收益 band with the 倍增
progress, a village's trend, the consolidated statements and the 农经统计年报 — pages, xlsx and PDF from one table.

The scope is ?county=&township= (a county admin any township of the county or the whole county; a township auditor
their township); without it, the first scope the user supervises.
"""
from __future__ import annotations

import io
from decimal import Decimal
from html import escape

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import charts, clock
from ..errors import CoopError, NotFound, ValidationFailed
from ..extensions import db
from ..i18n import N_
from ..ledger import consolidation as core
from ..models import Organization
from ..documents import county as docs
from ..reports.pdf import render_pdf
from ..reports.xlsx import render_xlsx
from ..services import access, consolidation, returns
from . import forms

bp = Blueprint("county", __name__, url_prefix="/county")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BAND_COLORS = {"none": "#9e9e9e", "lt5": "#ef9a9a", "5to10": "#ffcc80", "10to50": "#fff176", "50to100": "#a5d6a7",
               "ge100": "#2e7d32"}


def _int_arg(name: str, lo: int, hi: int, default: int | None) -> int | None:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
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


@bp.route("/")
@login_required
def bands():
    """Villages by 经营收益 band per year and the county's total against its 倍增 target."""
    sc = _scope()
    today = clock.today()
    target = consolidation.target_of(sc.county, today)
    report = consolidation.bands(sc, target, upto=today.year)
    years = report.years
    chart = band_chart(gettext("各档次村数"), years, {y: report.counts(y) for y in years})
    target_total = sum((r.target for r in report.rows if r.target is not None), Decimal(0))
    trend = charts.line_chart(gettext("经营收益合计与倍增目标"), [str(y) for y in years], [
        charts.Series(gettext("经营收益合计"), [report.total(y) for y in years], charts.COLORS["net"]),
        charts.Series(gettext("倍增目标"), [target_total if y == target.target_year else None for y in years]
                      if len(years) > 1 else [None], charts.COLORS["expense"]),
    ], tr=gettext) if years else None
    fmt = request.args.get("format")
    if fmt in ("xlsx", "pdf") and years:
        return _send(docs.bands_table(report), fmt)
    last = years[-1] if years else None
    rows = sorted(report.rows, key=lambda r: (-(r.profits.get(last) or 0) if last else 0, r.org.name))
    return render_template("county/bands.html", sc=sc, report=report, chart=chart, trend=trend, rows=rows, last=last,
                           bands=core.BANDS, band_labels=core.BAND_LABELS, scopes=_scopes_menu(), args=_scope_args(sc), target=target,
                           can_set=sc.county.id in access.administered_counties(current_user),
                           errors={}, form={})


@bp.route("/target", methods=["POST"])
@login_required
def set_target():
    sc = _scope()
    errors: dict = {}
    try:
        values = {k: int(request.form.get(k, "")) for k in ("base_year", "factor", "years")}
    except ValueError:
        values = None
        errors = {"base_year": [gettext("请填写整数")]}
    if values is not None:
        try:
            consolidation.set_target(sc.county, **values, user=current_user)
            db.session.commit()
            flash(gettext("倍增目标已保存"), "success")
            return redirect(url_for("county.bands", **_scope_args(sc)))
        except CoopError as exc:
            db.session.rollback()
            if exc.status_code == 403:
                abort(403)
            errors = exc.errors
    flash(forms.flat_errors(errors).get("base_year") or next(iter(forms.flat_errors(errors).values()), ""), "error")
    return redirect(url_for("county.bands", **_scope_args(sc))), 303


@bp.route("/villages/<int:org_id>")
@login_required
def village(org_id: int):
    """One village's 经营收益 year by year against its target, with links to its own statements."""
    org = db.session.get(Organization, org_id)
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
                               scopes=_scopes_menu(), args=_scope_args(sc), year=today.year, month=today.month), 422
    t = docs.consolidated_table(consolidation.consolidate(sc, year, month), which)
    if fmt != "html":
        return _send(t, fmt)
    return render_template("county/statement.html", sc=sc, t=t, error=None, which=which, scopes=_scopes_menu(),
                           args=_scope_args(sc), year=year, month=month)


@bp.route("/balance-sheet")
@login_required
def balance_sheet():
    """汇总资产负债表: each organization, 合计, 抵销 (飞地抱团) and 合并数."""
    return _statement("balance")


@bp.route("/income-statement")
@login_required
def income_statement():
    """汇总收益及收益分配表."""
    return _statement("income")


@bp.route("/returns")
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
