"""经管站工作台 (RULES §10, §12): every organization in the auditor's township(s) — a county admin's county — with
closing status, disclosure status, 三色预警 with the facts, and open questions; and the questions on vouchers
(auditors ask and close, the accountant answers). The books themselves are the ledger and report pages, which
auditors may read; this page links to them.
"""
from __future__ import annotations


import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coop.core.errors import NotFound
from coop.core.extensions import db
from coop.core.text import N_
from coop.models import Organization, Voucher, VoucherQuestion
from coop.models.disclosure import QuestionStatus
from coop.models.ledger import VoucherStatus
from coop.schemas.members import RegistrationLookupInSchema
from coop.services import access, disclosure, members, periods, vouchers, warnings
from coop.web import forms
from coop.web.members import STATUS_LABELS
from coop.web.orgs import load_org
from coop.core import clock
bp = Blueprint("auditor", __name__)

SUPERVISORS = {"township_auditor", "county_admin"}
QUESTION_STATUSES = {QuestionStatus.OPEN: N_("待答复"), QuestionStatus.ANSWERED: N_("已答复"),
                     QuestionStatus.CLOSED: N_("已关闭")}
LEVEL_LABELS = {"green": N_("绿"), "yellow": N_("黄"), "red": N_("红")}


def desk_orgs(user) -> list[Organization]:
    """The organizations the user supervises: through a township or county role, not a village one."""
    return [o for o in access.visible_orgs(user) if access.roles_on(user, o) & SUPERVISORS]


@bp.route("/auditor/")
@login_required
def desk():
    orgs = desk_orgs(current_user)
    if not orgs and not any(r.role in SUPERVISORS for r in current_user.roles):
        abort(404)
    today = clock.today()
    counts: dict[tuple[int, str], int] = {}
    if orgs:
        counts = {(org_id, status): n for org_id, status, n in db.session.execute(
            sa.select(VoucherQuestion.organization_id, VoucherQuestion.status, sa.func.count())
            .where(VoucherQuestion.organization_id.in_([o.id for o in orgs]))
            .group_by(VoucherQuestion.organization_id, VoucherQuestion.status))}
    rows = []
    for org in orgs:
        found = warnings.warnings_for(org, today)
        schedule = disclosure.quarter_schedule(org, today)
        upcoming = next((q for q in schedule if q.published_on is None and q.due >= today), None)
        rows.append({
            "org": org, "last_closed": periods.last_closed(org), "first_open": periods.first_open(org),
            "overdue": [q for q in schedule if q.published_on is None and q.due < today], "upcoming": upcoming,
            "level": warnings.level_of(found), "warnings": found,
            "open": counts.get((org.id, QuestionStatus.OPEN), 0),
            "answered": counts.get((org.id, QuestionStatus.ANSWERED), 0),
        })
    order = {"red": 0, "yellow": 1, "green": 2}
    level = request.args.get("level")
    shown = [r for r in rows if not level or r["level"] == level]
    shown.sort(key=lambda r: (order[r["level"]], r["org"].township.name, r["org"].name))
    summary = {lv: sum(1 for r in rows if r["level"] == lv) for lv in order}
    return render_template("auditor/desk.html", rows=shown, summary=summary, level=level, today=today,
                           level_labels=LEVEL_LABELS)


# ---------------------------------------------------------------- a person registered twice (RULES §13)


@bp.route("/auditor/registrations", methods=["GET", "POST"])
@login_required
def registrations():
    """Where a full 身份证号 is registered among the supervised organizations: a village told "已在其他集体经济组织登记，
    请联系乡镇经管站" asks the township, which looks it up here (POST: the number stays out of addresses and logs)."""
    if not any(r.role in SUPERVISORS for r in current_user.roles):
        abort(404)
    result, errors, status = None, {}, 200
    if request.method == "POST":
        result, errors, status = forms.submit(
            RegistrationLookupInSchema(), lambda d: members.find_registrations(current_user, d["id_number"]))
    return render_template("auditor/registrations.html", result=result, errors=errors,
                           statuses=STATUS_LABELS), status


# ---------------------------------------------------------------- questions on vouchers


def _month_arg() -> tuple[int, int] | None:
    raw = request.args.get("month", "")
    try:
        y, m = (int(x) for x in raw.split("-"))
        return (y, m) if 1990 <= y <= 2100 and 1 <= m <= 12 else None
    except ValueError:
        return None


def _render_questions(org: Organization, *, status: int = 200, error: str | None = None,
                      errors: dict | None = None, form=None):
    roles = access.roles_on(current_user, org)
    can_ask = bool(roles & SUPERVISORS)
    wanted = request.args.get("status")
    q = sa.select(VoucherQuestion).where(VoucherQuestion.organization_id == org.id)
    if wanted in QUESTION_STATUSES:
        q = q.where(VoucherQuestion.status == wanted)
    questions = list(db.session.scalars(q.order_by(VoucherQuestion.id.desc())))
    voucher = picked = None
    month = _month_arg() or periods.last_closed(org) or periods.first_open(org)
    voucher_id = (form or {}).get("voucher_id") or request.args.get("voucher_id", "")
    if can_ask and str(voucher_id).isdecimal():
        try:
            voucher = vouchers.get_voucher(org, int(voucher_id))
        except NotFound:
            voucher = None
    if can_ask and voucher is None:
        picked, _ = vouchers.list_vouchers(org, year=month[0], month=month[1], status=VoucherStatus.POSTED, limit=200)
    return render_template(
        "auditor/questions.html", org=org, questions=questions, statuses=QUESTION_STATUSES, wanted=wanted,
        can_ask=can_ask, can_answer=access.can(current_user, access.PREPARE, org),
        # as the service allows: the township auditor, or whoever asked
        can_close=lambda q: "township_auditor" in roles or q.asked_by_id == current_user.id, voucher=voucher, picked=picked, month=f"{month[0]}-{month[1]:02d}",
        vouchers_by_id={v.id: v for v in db.session.scalars(sa.select(Voucher).where(
            Voucher.id.in_([x.voucher_id for x in questions])))},
        error=error, errors=errors or {}, form=form or {},
    ), status


@bp.route("/o/<int:org_id>/questions")
@login_required
def questions():
    return _render_questions(load_org())


def _act(org: Organization, fn, message: str):
    done = forms.submit(None, fn)
    if not done.ok:
        known = {"question", "answer"}
        return _render_questions(org, status=done.status, errors=done.errors, form=request.form,
                                 error=None if set(done.errors) & known else done.message)
    flash(message, "success")
    return redirect(url_for("auditor.questions"))


@bp.route("/o/<int:org_id>/questions", methods=["POST"])
@login_required
def ask():
    """质询: a township auditor (or county admin) asks about one voucher."""
    org = load_org()
    raw = request.form.get("voucher_id", "")
    if not raw.isdecimal():
        abort(404)
    v = vouchers.get_voucher(org, int(raw))  # another organization's voucher: 404
    return _act(org, lambda: disclosure.ask_question(org, v, text=request.form.get("question", ""),
                                                     user=current_user), gettext("质询已提出，等待会计答复"))


@bp.route("/o/<int:org_id>/questions/<int:question_id>/answer", methods=["POST"])
@login_required
def answer(question_id: int):
    org = load_org(access.PREPARE)
    q = disclosure.get_question(org, question_id)
    return _act(org, lambda: disclosure.answer_question(q, text=request.form.get("answer", ""), user=current_user),
                gettext("答复已提交"))


@bp.route("/o/<int:org_id>/questions/<int:question_id>/close", methods=["POST"])
@login_required
def close(question_id: int):
    org = load_org()
    q = disclosure.get_question(org, question_id)
    return _act(org, lambda: disclosure.close_question(q, user=current_user), gettext("质询已关闭"))
