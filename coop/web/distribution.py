"""收益分配 pages (RULES §7): plans of a year, the waterfall, what-if comparison, approvals, posting, the 分红清册
and dividend payments; and a member's own household dividend history.

Reading needs READ_LEDGER; drafting plans and recording approvals PREPARE, approving REVIEW, posting POST. The
forms load the same schemas as the API and call the same services; an error is shown beside its field (422),
and nothing is written.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coop.core import clock
from coop.core.errors import CoopError
from coop.core.extensions import db
from coop.core.i18n import translate
from coop.core.money import format_plain, quantize_yuan
from coop.core.text import N_
from coop.documents import distribution as distribution_pdf
from coop.ledger import distribution as core
from coop.models import DistributionPlan, DividendPayment, HouseholdDividend, Member, Organization, Voucher
from coop.models.distribution import APPROVAL_STEPS, PlanStatus
from coop.models.ledger import VoucherStatus
from coop.schemas.distribution import (METHODS, DistributionApprovalInSchema, DistributionApproveInSchema,
                                       DistributionPolicyInSchema, DistributionPostInSchema,
                                       DistributionScenarioInSchema, DividendPayInSchema)
from coop.services import access, closing, distribution, periods, shares
from coop.web.forms import submit
from coop.web.idempotency import idempotent_form
from coop.web.members import XLSX_MIME
from coop.web.orgs import load_org

bp = Blueprint("distribution", __name__)
PREFIX = "/o/<int:org_id>/distribution"
STATUS_LABELS = {"draft": N_("草案"), "approved": N_("已批准"), "posted": N_("已记账")}
PLAN_FIELDS = ("name", "record_date", "reserve_rate", "cadre_reward", "member_pool", "other", "supplementary")
CADRE_FIELDS = ("name", "title", "start", "end", "weight")
CADRE_KEY = re.compile(r"^cadres\.(\d{1,3})\.(\w+)$")


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a signed-in user (login_required returns the redirect, or None)."""


# ---------------------------------------------------------------- helpers


def _can(org: Organization, permission: str) -> bool:
    return access.can(current_user, permission, org)


def _common(org: Organization) -> dict:
    return {"org": org, "status_labels": STATUS_LABELS, "steps": APPROVAL_STEPS, "methods": METHODS,
            "can_prepare": _can(org, access.PREPARE), "can_review": _can(org, access.REVIEW),
            "can_post": _can(org, access.POST), "today": clock.today()}


def _form_fields(names: tuple[str, ...]) -> dict:
    """The named form fields that are filled in (blank ones are left out so defaults and 'required' apply)."""
    return {k: request.form[k].strip() for k in names if (request.form.get(k) or "").strip()}


def _percent_to_ratio(text: str) -> str:
    """The form asks for a percentage ("30"), the schema takes a ratio ("0.3")."""
    try:
        return str(Decimal(text.strip().rstrip("%")) / 100)
    except InvalidOperation:
        return text  # the schema says what is wrong with it


def _ratio_to_percent(value: Decimal | None) -> str:
    return "" if value is None else format(value * 100, "f").rstrip("0").rstrip(".")


def _cadre_rows_from_form() -> list[dict]:
    """cadres.N.field inputs → the filled-in rows in order (blank rows dropped, so indexes are compacted and the
    form is re-rendered from this list, keeping error paths and rows aligned)."""
    rows: dict[int, dict] = {}
    for key in request.form:
        m = CADRE_KEY.match(key)
        if m and m.group(2) in CADRE_FIELDS:
            value = request.form[key].strip()
            if value:
                rows.setdefault(int(m.group(1)), {})[m.group(2)] = value
    return [rows[i] for i in sorted(rows)]


def _plan_input(year: int) -> tuple[dict, list[dict]]:
    """The plan form → schema input (and the cadre rows as typed, for re-rendering)."""
    data = _form_fields(PLAN_FIELDS)
    data["supplementary"] = bool(data.get("supplementary"))
    if "reserve_rate" in data:
        data["reserve_rate"] = _percent_to_ratio(data["reserve_rate"])
    rows = _cadre_rows_from_form()
    data["year"] = year
    data["cadres"] = rows
    return data, rows


def _plan_values(plan: DistributionPlan) -> tuple[dict, list[dict]]:
    """A saved plan → the form's strings."""
    values = {"name": plan.name, "record_date": plan.record_date.isoformat(),
              "reserve_rate": _ratio_to_percent(plan.reserve_rate), "cadre_reward": f"{plan.cadre_reward:.2f}",
              "member_pool": f"{plan.member_pool:.2f}", "other": f"{plan.other:.2f}",
              "supplementary": "1" if plan.supplementary else ""}
    rows = [{"name": c.name, "title": c.title or "", "start": c.start.isoformat(),
             "end": c.end.isoformat() if c.end else "", "weight": format(c.weight.normalize(), "f")}
            for c in plan.cadres]
    return values, rows


def _default_year(org: Organization) -> int:
    """The year whose December is open and carried over (its plan posts now), else the last closed year."""
    fy, fm = periods.first_open(org)
    if fm == 12:
        return fy
    closed = [y for y, m in periods.closed_months(org) if m == 12]
    return max(closed) if closed else max(org.books_start_year, clock.today().year - 1)


def _year_arg(org: Organization) -> int:
    y = request.args.get("year", "")
    return int(y) if y.isdecimal() and 1990 <= int(y) <= 2100 else _default_year(org)


@dataclass
class Line:
    """One line of the waterfall as shown: the amount, how it was reached, and the fields whose issues it shows."""

    label: str
    amount: Decimal | None
    note: str = ""
    paths: tuple[str, ...] = ()
    style: str = ""


def cap_rule(org: Organization, year: core.YearResult, w: core.Waterfall) -> str:
    """How the 干部奖励分红 cap was reached (RULES §7 step 3)."""
    if not org.cun_she_he_yi:
        return gettext("非村社合一组织，不提取干部奖励分红")
    rate = distribution.policy_for(org).cadre_cap_rate
    base = max(year.operating_profit, Decimal(0))
    by_rule = quantize_yuan(rate * base)
    after_reserve = w.distributable - w.reserve
    return gettext("上限 %(cap)s：不超过 %(rate)s × 当年经营性纯收益 %(base)s = %(by_rule)s，"
                   "且不超过提取公积公益金后的余额 %(left)s；本年任职满 %(days)s 天的村两委成员按考核分分配",
                   cap=format_plain(w.cadre_cap), rate=f"{rate:.0%}", base=format_plain(base),
                   by_rule=format_plain(by_rule), left=format_plain(max(after_reserve, Decimal(0))),
                   days=distribution.policy_for(org).cadre_min_days)


def total_units(p: distribution.PlanPreview) -> Decimal:
    return sum(p.units.values(), Decimal(0)) + p.collective_units


def per_share(p: distribution.PlanPreview) -> Decimal | None:
    if p.member_split is not None:
        return p.member_split.per_share
    t = total_units(p)
    return p.plan.member_pool / t if t else None


def waterfall_lines(org: Organization, p: distribution.PlanPreview) -> list[Line]:
    y, w, plan = p.year, p.waterfall, p.plan
    rate = plan.reserve_rate if plan.reserve_rate is not None else distribution.policy_for(org).reserve_rate
    units = total_units(p)
    ps = per_share(p)
    # labels stay Chinese (the compare page matches lines by label) and are translated by the template; the
    # notes are shown only here, so they are translated now
    reserve_note = gettext("%(rate)s × 提取基数 %(base)s（%(which)s）", rate=f"{rate:.2%}",
                           base=format_plain(w.reserve_base),
                           which=gettext("本方案比例") if plan.reserve_rate is not None else gettext("章程比例"))
    if y.reserved:
        reserve_note += gettext("，已提取 %(done)s", done=format_plain(y.reserved))
    lines = [
        Line(N_("本年收益"), y.net_profit),
        Line(N_("加：年初未分配收益"), y.opening_undistributed, gettext("负数为以前年度未弥补的亏损")),
    ]
    if y.other_in:
        lines.append(Line(N_("其他转入/调整"), y.other_in, gettext("以前年度损益调整等直接记入未分配收益的金额")))
    if y.distributed:
        lines.append(Line(N_("减：已分配"), -y.distributed,
                          gettext("本年初以来账上已记的各项分配（含手工凭证和以前年度方案）"), ("supplementary",)))
    lines += [
        Line(N_("可分配收益"), w.distributable, gettext("不大于零时不得分配（禁止举债分配）"), ("distributable",),
             "subtotal"),
        Line(N_("（一）弥补以前年度亏损"), w.loss_covered, gettext("已在可分配收益中抵减")),
        Line(N_("（二）提取公积公益金"), w.reserve, reserve_note, ("reserve_rate",)),
        Line(N_("干部奖励分红"), w.cadre_reward, cap_rule(org, y, w), ("cadre_reward", "cadres")),
        Line(N_("（三）向成员分配"), w.members if w.members is not None else w.member_pool,
             gettext("每股 %(ps)s 元 × %(units)s 股（股权登记日 %(date)s）", ps=distribution_pdf.per_share_text(ps),
                     units=f"{units:,.4f}", date=plan.record_date)
             if ps is not None and plan.member_pool else "", ("member_pool",)),
    ]
    if w.collective:
        lines.append(Line(N_("集体股分配"), w.collective, gettext("转公积公益金") if distribution.policy_for(
            org).collective_mode == "reserve" else gettext("留在未分配收益")))
    if w.rounding_rest:
        lines.append(Line(N_("每股取整余额"), w.rounding_rest, gettext("每股金额取到分，余额留在未分配收益")))
    if w.other:
        lines.append(Line(N_("（四）其他分配"), w.other, "", ("other",)))
    lines.append(Line(N_("年末未分配收益"), w.closing_undistributed, gettext("留待以后年度分配"), (), "total"))
    return lines


def cadre_rows(p: distribution.PlanPreview) -> list[dict]:
    out = []
    for i, c in enumerate(p.plan.cadres):
        days = core.days_in_office(core.Cadre(i, c.name, c.start, c.end, c.weight), p.plan.year)
        key = c.id if c.id is not None else i
        out.append({"index": i, "cadre": c, "days": days, "amount": p.cadre_amounts.get(key),
                    "issues": [x.message for x in p.issues if x.path == f"cadres.{i}"]})
    return out


def household_rows(p: distribution.PlanPreview) -> list[distribution_pdf.RollRow]:
    """The effect on each household, in 户号 order: as booked once posted, else as previewed."""
    if p.member_split is None and p.plan.status != PlanStatus.POSTED:
        return []
    return distribution_pdf.build_roll(p.plan, p).rows


def _preview_context(org: Organization, p: distribution.PlanPreview) -> dict:
    return {"p": p, "lines": waterfall_lines(org, p), "cadres": cadre_rows(p), "households": household_rows(p),
            "per_share": distribution_pdf.per_share_text(per_share(p)),
            "issue_map": {i.path: i.message for i in p.issues}}


# ---------------------------------------------------------------- plans of a year


@bp.route(f"{PREFIX}/")
def index():
    org = load_org()
    year = _year_arg(org)
    plans = list(db.session.scalars(sa.select(DistributionPlan).where(
        DistributionPlan.organization_id == org.id, DistributionPlan.year == year).order_by(DistributionPlan.id)))
    status = distribution.year_end_status(org, year)
    closed = distribution.year_state(org, year) in ("december", "after_close")  # a plan can be drafted
    facts, rows = None, []
    if closed:
        # one year result and one register read per record date, not a full preview per plan
        yr = distribution.year_result(org, year)
        policy = distribution.policy_for(org)
        facts = {"year": yr, "policy": policy,
                 "base": core.waterfall(yr, policy, core.Scenario())}
        units_by_date: dict = {}
        for plan in plans:
            w = core.waterfall(yr, policy, distribution.scenario_of(plan))
            if plan.record_date not in units_by_date:
                u, coll = shares.dividend_units(org, plan.record_date)
                units_by_date[plan.record_date] = sum(u.values(), Decimal(0)) + coll
            t = units_by_date[plan.record_date]
            rows.append({"plan": plan, "w": w, "per_share": distribution_pdf.per_share_text(
                plan.member_pool / t) if t and plan.member_pool else ""})
    else:
        rows = [{"plan": plan, "w": None, "per_share": ""} for plan in plans]
    years = sorted({y for y, m in periods.closed_months(org) if m == 12} | {year, periods.first_open(org)[0]})
    return render_template("distribution/index.html", year=year, years=years, closed=closed, facts=facts,
                           rows=rows, status=status, step_labels=distribution.YEAR_END_STEPS,
                           carryover_labels=closing.CARRYOVER_STATES, can_close=_can(org, access.CLOSE),
                           settings=distribution.policy_settings(org), policy_choices=POLICY_CHOICES,
                           can_set_policy=org.township.county_id in access.administered_counties(current_user),
                           **_common(org))


POLICY_FIELDS = ("reserve_base", "dividend_mode", "collective_mode", "cadre_min_days", "cadre_tax_rate",
                 "materials_days", "notice_days")
POLICY_CHOICES = {
    "reserve_base": [("net_profit", N_("本年收益（弥补亏损后，第四十二条）")), ("distributable", N_("可分配收益"))],
    "dividend_mode": [("per_share", N_("每股金额取到分，余额留存")), ("pool", N_("分配总额按最大余额法分到户"))],
    "collective_mode": [("reserve", N_("转公积公益金")), ("retain", N_("留在未分配收益"))],
}


@bp.route(f"{PREFIX}/policy", methods=["POST"])
def policy():
    """The 章程 choices of the distribution (county admin); a blank field falls back to the county default."""
    org = load_org()
    data = {k: (request.form.get(k) or "").strip() or None for k in POLICY_FIELDS}
    if data["cadre_tax_rate"] is not None:
        data["cadre_tax_rate"] = _percent_to_ratio(data["cadre_tax_rate"])
    _, errors, _ = submit(DistributionPolicyInSchema(),
                          lambda d: distribution.set_policy(user=current_user, org=org, **d), data)
    if errors:
        flash("；".join(m for ms in errors.values() for m in (ms if isinstance(ms, list) else [ms])), "error")
    else:
        flash(gettext("收益分配章程设置已保存"), "success")
    return redirect(url_for("distribution.index", year=_year_arg(org)))


@bp.route(f"{PREFIX}/carry-over", methods=["POST"])
def carry_over():
    """Step (1) of the year end: December's 损益结转 as vouchers of their own (again after December changed)."""
    org = load_org(access.CLOSE)
    year = _year_arg(org)
    made, errors, _ = submit(None, lambda: closing.carry_over(org, year, user=current_user))
    if errors:
        flash("；".join(m for ms in errors.values() for m in (ms if isinstance(ms, list) else [ms])), "error")
    else:
        flash(gettext("已结转损益：%(n)s 张凭证", n=len(made)) if made else gettext("没有需要结转的损益"), "success")
    return redirect(url_for("distribution.index", year=year))


def _render_form(org, year, plan, values, rows, errors, preview=None, status=200):
    rows = list(rows) + [{} for _ in range(max(3 - len(rows), 0) + 2)]
    ctx = _preview_context(org, preview) if preview is not None else {}
    try:  # the cap and the rules up front, before anything is typed
        yr = distribution.year_result(org, year)
        base = core.waterfall(yr, distribution.policy_for(org), core.Scenario())
    except CoopError:
        yr = base = None
    return render_template("distribution/plan_form.html", year=year, plan=plan, form=values, cadre_form=rows,
                           errors=errors, policy=distribution.policy_for(org), preview=preview, facts_year=yr,
                           facts_base=base, settings=distribution.policy_settings(org), **ctx,
                           **_common(org)), status


def _save_or_preview(org: Organization, year: int, plan: DistributionPlan | None):
    """POST of the plan form: '试算' previews the scenario without saving; '保存' saves it if every rule holds."""
    data, rows = _plan_input(year)
    values = {k: request.form.get(k, "") for k in PLAN_FIELDS}
    if request.form.get("action") == "preview":
        p, errors, status = submit(DistributionScenarioInSchema(),
                                   lambda d: distribution.preview(distribution.scenario(org, **d)), data)
        return _render_form(org, year, plan, values, rows, errors, p, status if errors else 200)

    def save(d):
        d.pop("year")
        d["name"] = d["name"] or f"{year}年度收益分配方案"
        if plan is None:
            saved = distribution.create_plan(org, year=year, user=current_user, **d)
        else:
            saved = distribution.update_plan(plan, user=current_user, **d)
        distribution.checked_preview(saved)  # a scenario that breaks a rule is not saved
        return saved

    saved, errors, status = submit(DistributionScenarioInSchema(), save, data)
    if errors:
        return _render_form(org, year, plan, values, rows, errors, status=422 if status == 200 else status)
    flash(gettext("方案已保存"), "success")
    return redirect(url_for("distribution.plan", plan_id=saved.id))


@bp.route(f"{PREFIX}/new", methods=["GET", "POST"])
def new_plan():
    org = load_org(access.PREPARE)
    year = _year_arg(org)
    if request.method == "POST":
        return _save_or_preview(org, year, None)
    values = {"name": f"{year}年度收益分配方案", "record_date": dt.date(year, 12, 31).isoformat()}
    return _render_form(org, year, None, values, [], {})


@bp.route(f"{PREFIX}/<int:plan_id>/edit", methods=["GET", "POST"])
def edit_plan(plan_id: int):
    org = load_org(access.PREPARE)
    plan = distribution.get_plan(org, plan_id)
    if plan.status != "draft":
        flash(gettext("方案已批准或已记账，不能再修改"), "error")
        return redirect(url_for("distribution.plan", plan_id=plan.id))
    if request.method == "POST":
        return _save_or_preview(org, plan.year, plan)
    values, rows = _plan_values(plan)
    return _render_form(org, plan.year, plan, values, rows, {})


@bp.route(f"{PREFIX}/<int:plan_id>/delete", methods=["POST"])
def delete_plan(plan_id: int):
    org = load_org(access.PREPARE)
    plan = distribution.get_plan(org, plan_id)
    year = plan.year
    _, errors, status = submit(None, lambda: distribution.delete_plan(plan, user=current_user))
    if errors:
        return _render_plan(org, plan, errors, status)
    flash(gettext("方案已删除"), "success")
    return redirect(url_for("distribution.index", year=year))


# ---------------------------------------------------------------- one plan


def _payment_vouchers(plan: DistributionPlan) -> list[tuple[Voucher, Decimal, int, Voucher | None]]:
    """Each payment voucher of the plan with its total, number of households and posted red reversal (or None)."""
    rows = db.session.execute(
        sa.select(DividendPayment.voucher_id, DividendPayment.amount)
        .join(HouseholdDividend, HouseholdDividend.id == DividendPayment.dividend_id)
        .where(HouseholdDividend.plan_id == plan.id))
    totals: dict[int, list] = {}
    for vid, amount in rows:
        t = totals.setdefault(vid, [Decimal("0.00"), 0])
        t[0] += amount
        t[1] += 1
    vouchers = {v.id: v for v in db.session.scalars(sa.select(Voucher).where(Voucher.id.in_(list(totals))))}
    # a payment undone by a posted red reversal pays nobody: the list says so beside it
    reds = {r.corrects_id: r for r in db.session.scalars(sa.select(Voucher).where(
        Voucher.corrects_id.in_(list(totals)), Voucher.kind == "red", Voucher.status == VoucherStatus.POSTED))}
    return [(vouchers[vid], t[0], t[1], reds.get(vid)) for vid, t in sorted(totals.items())]


def _render_plan(org: Organization, plan: DistributionPlan, errors: dict | None = None, status: int = 200):
    errors = errors or {}
    try:
        p = distribution.preview(plan)
        ctx = _preview_context(org, p)
        problem = None
    except CoopError as exc:  # e.g. December of the year reopened since: nothing can be computed
        ctx, problem = {}, exc.message
    voucher = db.session.get(Voucher, plan.voucher_id) if plan.voucher_id else None
    done_steps = {a.step for a in plan.approvals}
    return render_template("distribution/plan.html", plan=plan, errors=errors, problem=problem, voucher=voucher,
                           done_steps=done_steps, form=request.form, posts_in=distribution.year_state(org, plan.year),
                           figures=distribution.figures_of(plan) if plan.figures else None, **ctx,
                           **_common(org)), status


@bp.route(f"{PREFIX}/<int:plan_id>")
def plan(plan_id: int):
    org = load_org()
    return _render_plan(org, distribution.get_plan(org, plan_id))


@bp.route(f"{PREFIX}/<int:plan_id>/approve", methods=["POST"])
def approve(plan_id: int):
    """The reviewer marks the plan approved once its approvals are complete."""
    org = load_org(access.REVIEW)
    plan = distribution.get_plan(org, plan_id)
    _, errors, status = submit(DistributionApproveInSchema(),
                               lambda d: distribution.approve_plan(plan, method=d["approval_method"], user=current_user),
                               _form_fields(("approval_method",)))
    if errors:
        return _render_plan(org, plan, errors, status)
    flash(gettext("方案已批准，可以记账"), "success")
    return redirect(url_for("distribution.plan", plan_id=plan.id))


@bp.route(f"{PREFIX}/<int:plan_id>/post", methods=["POST"])
def post(plan_id: int):
    """The accountant posts the approved plan: one 收益分配 voucher and the 分红清册, dated in an open month."""
    org = load_org(access.POST)
    plan = distribution.get_plan(org, plan_id)
    v, errors, status = submit(DistributionPostInSchema(),
                               lambda d: distribution.post_plan(plan, date=d["date"], user=current_user),
                               _form_fields(("date",)))
    if errors:
        return _render_plan(org, plan, errors, status)
    flash(gettext("已记账：收益分配凭证 %(no)s，分红清册已生成", no=v.display_number), "success")
    return redirect(url_for("distribution.plan", plan_id=plan.id))


# ---------------------------------------------------------------- approvals


@bp.route(f"{PREFIX}/<int:plan_id>/approvals", methods=["GET", "POST"])
def approvals(plan_id: int):
    """四议两公开 steps (with dates and votes) or the 成员大会 resolution; quorum checked on entry."""
    org = load_org()
    plan = distribution.get_plan(org, plan_id)
    errors, status = {}, 200
    if request.method == "POST":
        access.require(current_user, access.PREPARE, org)
        _, errors, status = submit(DistributionApprovalInSchema(),
                                   lambda d: distribution.record_approval(plan, user=current_user, **d), _form_fields(
            ("step", "date", "reference", "entitled", "present", "votes_for", "materials_date", "notice_date")))
        if not errors:
            flash(gettext("已登记：%(step)s", step=translate(APPROVAL_STEPS[request.form['step']])), "success")
            return redirect(url_for("distribution.approvals", plan_id=plan.id))
        status = 422 if status == 200 else status
    done = {a.step for a in plan.approvals}
    meeting = next((a.date for a in plan.approvals if a.step == "assembly"), None)
    return render_template("distribution/approvals.html", plan=plan, errors=errors, form=request.form,
                           open_steps=[(k, v) for k, v in APPROVAL_STEPS.items() if k not in done],
                           days=distribution.day_counts(plan, meeting), **_common(org)), status


# ---------------------------------------------------------------- what-if comparison


@bp.route(f"{PREFIX}/compare")
def compare():
    """Draft plans of one year side by side: the waterfall and each household's amount under each plan."""
    org = load_org()
    year = _year_arg(org)
    chosen = {int(x) for x in request.args.getlist("plan") if x.isdecimal()}
    q = sa.select(DistributionPlan).where(DistributionPlan.organization_id == org.id, DistributionPlan.year == year)
    q = q.where(DistributionPlan.id.in_(chosen)) if chosen else q.where(DistributionPlan.status == PlanStatus.DRAFT)
    plans = list(db.session.scalars(q.order_by(DistributionPlan.id)))
    try:
        previews = [distribution.preview(p) for p in plans]
    except CoopError as exc:
        flash(exc.message, "error")
        return redirect(url_for("distribution.index", year=year))
    columns = [_preview_context(org, p) for p in previews]
    # household → {plan index: RollRow}
    table: dict[int, dict] = {}
    for i, col in enumerate(columns):
        for row in col["households"]:
            table.setdefault(row.household_id, {})[i] = row
    order = sorted(table, key=lambda hid: next(iter(table[hid].values())).number)
    same_date = len({p.record_date for p in plans}) <= 1
    return render_template("distribution/compare.html", year=year, plans=plans, columns=columns, table=table,
                           order=order, same_date=same_date, **_common(org))


# ---------------------------------------------------------------- 分红清册 and payments


@bp.route(f"{PREFIX}/<int:plan_id>/dividends.pdf")
def dividends_pdf(plan_id: int):
    org = load_org()
    plan = distribution.get_plan(org, plan_id)
    return send_file(io.BytesIO(distribution_pdf.roll_pdf(plan)), mimetype="application/pdf",
                     download_name=distribution_pdf.filename(plan, "pdf"))


@bp.route(f"{PREFIX}/<int:plan_id>/dividends.xlsx")
def dividends_xlsx(plan_id: int):
    org = load_org()
    plan = distribution.get_plan(org, plan_id)
    return send_file(io.BytesIO(distribution_pdf.roll_xlsx(plan)), mimetype=XLSX_MIME, as_attachment=True,
                     download_name=distribution_pdf.filename(plan, "xlsx"))


def _pay_accounts(org: Organization) -> list[tuple[str, str]]:
    """The cash and bank leaves (posting roles 现金 / 银行存款)."""
    from coop.services import roles

    return [(code, f"{code} {name}") for code, name in roles.money_leaves(org)]


@bp.route(f"{PREFIX}/<int:plan_id>/dividends", methods=["GET", "POST"])
@idempotent_form
def dividends(plan_id: int):
    """Per household: allocated / paid / pending / unpaid; pay the chosen ones from 101 or 102 (a draft voucher)."""
    org = load_org()
    plan = distribution.get_plan(org, plan_id)
    if plan.status != "posted":
        flash(gettext("方案记账后才有分红清册和发放记录"), "error")
        return redirect(url_for("distribution.plan", plan_id=plan.id))
    errors, status = {}, 200
    if request.method == "POST":
        access.require(current_user, access.PREPARE, org)
        data = _form_fields(("date", "pay_from"))
        data["household_ids"] = [x for x in request.form.getlist("household_ids") if x.strip()]
        v, errors, status = submit(DividendPayInSchema(),
                                   lambda d: distribution.pay_dividends(plan, user=current_user, **d), data)
        if not errors:
            flash(gettext("已生成付款凭证草稿，金额 %(amount)s 元；审核记账后计为已发放", amount=format_plain(v.total_debit)),
                  "success")
            return redirect(url_for("distribution.dividends", plan_id=plan.id, voucher=v.id))
        # a voucher rule (e.g. a closed month) names voucher fields: show it on top
        errors = {k if k in ("date", "pay_from", "household_ids") else "_schema": m for k, m in errors.items()}
        status = 422 if status == 200 else status
    roll = {r.household_id: r for r in distribution_pdf.build_roll(plan).rows}
    status_rows = sorted(distribution.dividend_status(plan), key=lambda s: roll[s.dividend.household_id].number)
    zero = Decimal("0.00")
    totals = {"amount": sum((s.dividend.amount for s in status_rows), zero),
              "paid": sum((s.paid for s in status_rows), zero), "pending": sum((s.pending for s in status_rows), zero),
              "unpaid": sum((s.unpaid for s in status_rows), zero)}
    new_voucher = request.args.get("voucher", "")
    return render_template("distribution/dividends.html", plan=plan, rows=status_rows, roll=roll, totals=totals,
                           accounts=_pay_accounts(org), vouchers=_payment_vouchers(plan), errors=errors,
                           form=request.form, chosen=set(request.form.getlist("household_ids")),
                           new_voucher=int(new_voucher) if new_voucher.isdecimal() else None,
                           **_common(org)), status


# ---------------------------------------------------------------- the member's own household


@bp.route(f"{PREFIX}/mine")
def mine():
    """A member's household dividend history (year, units, amount, paid or not). Only their own household: any
    other user, or a member of another organization, gets 404."""
    org = load_org(None, current=False)  # no ledger menu for a member
    me = db.session.scalar(sa.select(Member).where(Member.user_id == current_user.id,
                                                   Member.organization_id == org.id))
    if me is None or "member" not in access.roles_on(current_user, org):
        abort(404)
    household = me.household
    history = distribution.household_dividends(household.id)
    return render_template("distribution/mine.html", org=org, me=me, household=household, history=history)
