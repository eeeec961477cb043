"""Daily work pages (issue #20): 待办 with menu badges, the sheet queues of the 民主理财小组 and 经管站, 成批审核 /
成批记账 with their summary, 质询 on the voucher page, 常用凭证 and monthly vouchers. Services do the work."""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from coop.core import clock
from coop.core.errors import ValidationFailed
from coop.core.text import N_
from coop.models import Organization
from coop.services import access, answers, batch, disclosure, periods, todo, vouchers
from coop.services import voucher_templates as templates
from coop.web import forms, page_cache
from coop.web.ledger import render_detail
from coop.web.orgs import load_org

bp = Blueprint("daily", __name__)


# ---------------------------------------------------------------- 待办 and badges


def my_todo() -> todo.Todo | None:
    """The signed-in user's to-do, computed once per request (menu badges and pages share it)."""
    if not getattr(current_user, "is_authenticated", False):
        return None
    # cached per request, not in `g`: an app context may outlive one request (tests push one around many)
    cached = request.environ.get("coop.todo")
    if cached is None:
        try:
            cached = todo.todo_for(current_user)
        except SQLAlchemyError:  # an error page after a failed statement: the page matters more than the badges
            cached = todo.Todo([])
            page_cache.keep_out()  # but a page without them is not kept to be shown again
        request.environ["coop.todo"] = cached
    return cached


@bp.app_context_processor
def inject_todo():
    return {"my_todo": my_todo, "todo_url": lambda item: url_for(item.endpoint, **item.url_args)}


@bp.app_template_global()
def close_blockers(org: Organization, year: int, month: int) -> list[batch.Blocker]:
    return batch.close_blockers(org, year, month)


@bp.app_template_global()
def voucher_questions(v):
    return answers.questions_of(v)


@bp.app_template_global()
def picker_json(org: Organization) -> Markup:
    """The account picker's data for a <script type="application/json"> block (data, never run: CSP allows it)."""
    text = json.dumps(templates.picker_accounts(org), ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@bp.app_template_global()
def common_summaries(org: Organization) -> list[str]:
    return templates.common_summaries(org)


@bp.app_template_global()
def voucher_templates_of(org: Organization):
    return templates.templates_of(org)


@bp.route("/todo")
@login_required
def todo_page():
    return render_template("daily/todo.html", todo=my_todo())


@bp.route("/todo/sheets")
@login_required
def sheets():
    """The 民主理财小组's and the 经管站's queue: the sheets waiting for their step, each opening where it is taken."""
    roles = {r.role for r in current_user.roles}
    if not roles & {"finance_group", "township_auditor"}:
        abort(404)
    names = {o.id: o.name for o in access.visible_orgs(current_user)}
    return render_template("daily/sheets.html", waiting=todo.sheets_waiting(current_user),
                           kinds=disclosure.SHEET_KINDS, org_name=names.get)


# ---------------------------------------------------------------- 成批审核 / 成批记账


def _month_arg(raw: str | None) -> tuple[int, int] | None:
    try:
        y, m = (int(x) for x in (raw or "").split("-"))
    except ValueError:
        return None
    return (y, m) if 1990 <= y <= 2100 and 1 <= m <= 12 else None


def _ids(values: list[str]) -> list[int] | None:
    ids = [int(x) for x in values if x.isdecimal() and int(x) < 2**31]  # isdigit() lets '²' through
    return ids or None


@bp.route("/o/<int:org_id>/batch", methods=["GET", "POST"])
@login_required
def batch_page():
    """GET: what a batch step would do for a month (or the chosen vouchers); POST: do it, then the summary."""
    source = request.form if request.method == "POST" else request.args
    org = load_org()
    step = source.get("step")
    if step not in batch.STEPS:  # no step named: the one this user takes (reviewers review, accountants post)
        step = "review" if access.can(current_user, access.REVIEW, org) else "post"
    access.require(current_user, batch.STEPS[step][0], org)
    # what the step covers: the ticked vouchers; else what the list showed (a month, a year, every year: all=1);
    # else the first open month
    month = _month_arg(source.get("month"))
    ids = _ids(source.getlist("ids"))
    raw_year = source.get("year", "")
    year = int(raw_year) if raw_year.isdecimal() and 1990 <= int(raw_year) <= 2100 else None
    if month:
        year = month[0]
    elif ids is None and year is None and not source.get("all"):
        month = periods.first_open(org)
        year = month[0]
    chosen = batch.candidates(org, step, year=year, month=month[1] if month else None, ids=ids)
    ctx = dict(org=org, step=step, month=month, year=year, ids=ids, can=lambda p: access.can(current_user, p, org),
               access=access)
    if request.method == "GET":
        return render_template("daily/batch.html", result=batch.preview(org, step, current_user, chosen),
                               done=False, **ctx)
    done = forms.submit(None, lambda: batch.run(org, step, current_user, chosen))
    if not done.ok:
        flash(done.message, "error")
        return redirect(url_for("daily.batch_page", step=step,
                                month=f"{month[0]}-{month[1]:02d}" if month else None))
    result = done.result
    # the month that can be closed next, offered on the summary (记账 → 结账 without another page)
    y, m = periods.first_open(org)
    return render_template("daily/batch.html", result=result, done=True, next_period=(y, m),
                           blockers=batch.close_blockers(org, y, m), **ctx)


# ---------------------------------------------------------------- 质询 on the voucher page


def _back(org: Organization, voucher_id: int):
    return redirect(url_for("ledger.voucher_detail", voucher_id=voucher_id) + "#questions")


def _q_step(org: Organization, voucher_id: int, fn, message: str):
    done = forms.submit(None, fn)
    if not done.ok:
        flash("；".join(m for ms in done.errors.values() for m in ms) or done.message, "error")
        request.environ["coop.question_form"] = request.form  # typed text is kept: shown again below
        return render_detail(org, vouchers.get_voucher(org, voucher_id), status=done.status)
    flash(message, "success")
    return _back(org, voucher_id)


@bp.app_template_global()
def question_form():
    return request.environ.get("coop.question_form") or {}


@bp.route("/o/<int:org_id>/vouchers/<int:voucher_id>/questions", methods=["POST"])
@login_required
def voucher_ask(voucher_id: int):
    org = load_org()
    v = vouchers.get_voucher(org, voucher_id)
    return _q_step(org, v.id, lambda: disclosure.ask_question(org, v, text=request.form.get("question", ""),
                                                              user=current_user), gettext("质询已提出，等待会计答复"))


@bp.route("/o/<int:org_id>/questions/<int:question_id>/reply", methods=["POST"])
@login_required
def voucher_answer(question_id: int):
    org = load_org(access.PREPARE)
    q = disclosure.get_question(org, question_id)
    files = [(f.filename, f.mimetype, f.read()) for f in request.files.getlist("files") if f and f.filename]
    return _q_step(org, q.voucher_id, lambda: answers.answer_with_files(
        q, text=request.form.get("answer", ""), files=files, user=current_user), gettext("答复已提交"))


@bp.route("/o/<int:org_id>/questions/<int:question_id>/close-on-voucher", methods=["POST"])
@login_required
def voucher_close_question(question_id: int):
    org = load_org()
    q = disclosure.get_question(org, question_id)
    return _q_step(org, q.voucher_id, lambda: disclosure.close_question(q, user=current_user),
                   gettext("质询已关闭"))


# ---------------------------------------------------------------- 常用凭证 and monthly vouchers


def _render_templates(org: Organization, *, errors=None, form=None, status=200, made=None, already=None):
    return render_template("daily/templates.html", org=org, templates=templates.templates_of(org),
                           lines_of=templates.template_lines, errors=errors or {}, form=form or {},
                           month=form.get("month") if form else "{0}-{1:02d}".format(*periods.first_open(org)),
                           made=made, already=already, can_prepare=access.can(current_user, access.PREPARE, org)), status


@bp.route("/o/<int:org_id>/templates")
@login_required
def templates_page():
    return _render_templates(load_org())


@bp.route("/o/<int:org_id>/templates", methods=["POST"])
@login_required
def template_save():
    """Save a voucher as 常用凭证 (from the voucher page)."""
    org = load_org(access.PREPARE)
    raw = request.form.get("voucher_id", "")
    if not raw.isdecimal() or int(raw) >= 2**31:
        abort(404)
    v = vouchers.get_voucher(org, int(raw))
    day = request.form.get("day", "").strip()

    def save():
        if day and not day.isdecimal():
            raise ValidationFailed.field("day", gettext("日期应在 1 到 28 之间（不填为月末）"))
        return templates.save_template(org, name=request.form.get("name", ""), voucher=v,
                                       monthly=bool(request.form.get("monthly")), day=int(day) if day else None,
                                       keep_amounts=request.form.get("amounts", "keep") == "keep", user=current_user)

    t, errors, status = forms.submit(None, save)
    if errors:
        flash("；".join(m for ms in errors.values() for m in ms), "error")
        request.environ["coop.template_form"] = request.form
        return render_detail(org, v, status=status)
    flash(gettext("已保存为常用凭证“%(name)s”", name=t.name), "success")
    return redirect(url_for("daily.templates_page"))


@bp.app_template_global()
def template_form():
    return request.environ.get("coop.template_form") or {}


@bp.route("/o/<int:org_id>/templates/<int:template_id>/delete", methods=["POST"])
@login_required
def template_delete(template_id: int):
    org = load_org(access.PREPARE)
    t = templates.get_template(org, template_id)
    templates.delete_template(t, user=current_user)
    flash(gettext("常用凭证已删除"), "success")
    return redirect(url_for("daily.templates_page"))


@bp.route("/o/<int:org_id>/templates/generate", methods=["POST"])
@login_required
def templates_generate():
    """Drafts of the monthly templates for a month (again for the same month: nothing new)."""
    org = load_org(access.PREPARE)
    month = _month_arg(request.form.get("month"))

    def generate():
        if month is None:
            raise ValidationFailed.field("month", gettext("请选择月份"))
        return templates.generate_month(org, *month, user=current_user)

    done = forms.submit(None, generate)
    if not done.ok:
        return _render_templates(org, errors=done.errors or {"month": [done.message]}, form=request.form,
                                 status=done.status)
    made, already = done.result
    return _render_templates(org, form=request.form, made=made, already=already)


# ---------------------------------------------------------------- drill-down on report pages


def drill_links(org: Organization, q, slug: str) -> dict:
    """科目余额表 / 总账 → 明细账 of the account for the same period → the voucher page."""
    account_link = None
    if slug in ("trial-balance", "general-ledger"):
        def account_link(code):
            return url_for("reports.detail_ledger", code=code, year=q.year, period="custom",
                           month_from=q.month_from, month_to=q.month_to)
    return {"account_link": account_link,
            "voucher_page": lambda vid: url_for("ledger.voucher_detail", voucher_id=vid)}


def open_months(org: Organization, q) -> list[tuple[int, int]]:
    """The months of a report's range that are not closed (from the books' start up to today in Beijing)."""
    if q is None:
        return []
    closed = periods.closed_months(org)
    today = clock.today()
    return [(q.year, m) for m in range(q.month_from, q.month_to + 1)
            if (org.books_start_year, org.books_start_month) <= (q.year, m) <= (today.year, today.month)
            and (q.year, m) not in closed]


@bp.app_template_global()
def unclosed_months(org: Organization, q) -> list[str]:
    return [gettext("%(y)s年%(m)s月", y=y, m=m) for y, m in open_months(org, q)]


def unclosed_note(org: Organization, q) -> str | None:
    """The note a downloaded report (PDF, xlsx) carries when its range holds open months: kept in Chinese like
    the printed forms."""
    months = open_months(org, q)
    if not months:
        return None
    return N_("%(months)s 尚未结账，数字可能还会变动。", months="、".join(f"{y}年{m}月" for y, m in months))
