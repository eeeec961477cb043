"""财务公开 pages (RULES §10): sheets per organization with their review workflow, the published sheets for
members, and the public verify page.

Workflow steps are done by different roles on the same sheet page: the accountant creates and publishes, the
民主理财小组 reviews (per-row comments), the township auditor approves. Published sheets are frozen; a correction is
a new version. Every change goes through coop.services.disclosure, as the API does.
"""
from __future__ import annotations

import datetime as dt
import io

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coop.documents import disclosure as disclosure_pdf
from coop.core import clock
from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.core.i18n import translate
from coop.core.text import N_
from coop.models import Disclosure, Organization, User
from coop.models.disclosure import SHEET_KINDS, SHEET_STATUSES, SheetStatus
from coop.services import access, disclosure, periods, reports
from coop.web import forms
from coop.web.orgs import load_org

bp = Blueprint("disclosure", __name__)

PERIOD_TYPES = {"quarter": N_("季度"), "month": N_("月度"), "year": N_("年度"), "custom": N_("自定义期间")}
CHANNELS = (N_("村务公开栏"), N_("村民微信群"), N_("村民代表会议"), N_("农村集体“三资”监管平台"))
PUBLIC = (SheetStatus.PUBLISHED, SheetStatus.SUPERSEDED)
QUARTER_NAMES = (N_("第一季度"), N_("第二季度"), N_("第三季度"), N_("第四季度"))


def period_label(start: dt.date, end: dt.date) -> str:
    """disclosure_pdf.period_label in the user's language; the PDFs and the API keep the Chinese one."""
    whole_months = start.day == 1 and end == reports.month_end(end.year, end.month)
    if whole_months and start.year == end.year:
        if start.month == end.month:
            return gettext("%(y)s年%(m)s月", y=start.year, m=start.month)
        if start.month % 3 == 1 and end.month == start.month + 2:
            return gettext("%(y)s年%(q)s", y=start.year, q=translate(QUARTER_NAMES[start.month // 3]))
        if (start.month, end.month) == (1, 12):
            return gettext("%(y)s年度", y=start.year)
        return gettext("%(y)s年%(m1)s月至%(m2)s月", y=start.year, m1=start.month, m2=end.month)
    return gettext("%(y1)s年%(m1)s月%(d1)s日至%(y2)s年%(m2)s月%(d2)s日", y1=start.year, m1=start.month,
                   d1=start.day, y2=end.year, m2=end.month, d2=end.day)


@bp.context_processor
def _labels() -> dict:
    return {"period_label": period_label}


def _reader_org() -> Organization:
    """Published sheets are for everyone assigned to the organization, members included (404 otherwise).
    The organization menu is only set for those who can use it (members cannot read the books)."""
    org = load_org(None, current=False)
    if access.can(current_user, access.READ_LEDGER, org):
        g.org = org
    return org


# ---------------------------------------------------------------- list and create


def _parse_int(form, name: str, lo: int, hi: int, errors: dict, message: str) -> int | None:
    raw = (form.get(name) or "").strip()
    if raw.isdecimal() and lo <= int(raw) <= hi:
        return int(raw)
    errors.setdefault(name, []).append(message)
    return None


def period_from_form(form) -> tuple[str | None, dt.date | None, dt.date | None, dict]:
    """The create form → (kind, start, end, errors by field). Only the fields of the chosen period type count."""
    errors: dict[str, list[str]] = {}
    kind = form.get("kind") or ""
    if kind not in SHEET_KINDS:
        errors["kind"] = [gettext("请选择公开表类型")]
    ptype = form.get("period") or ""
    start = end = None
    if ptype not in PERIOD_TYPES:
        errors["period"] = [gettext("请选择期间类型")]
    elif ptype == "custom":
        start, end = forms.parse_date(form.get("start", "").strip()), forms.parse_date(form.get("end", "").strip())
        if start is None:
            errors["start"] = [gettext("请填写开始日期（YYYY-MM-DD）")]
        if end is None:
            errors["end"] = [gettext("请填写结束日期（YYYY-MM-DD）")]
    else:
        year = _parse_int(form, "year", 1990, 2100, errors, gettext("年份应在1990到2100之间"))
        if ptype == "month":
            month = _parse_int(form, "month", 1, 12, errors, gettext("月份应在1到12之间"))
            if year and month:
                start, end = dt.date(year, month, 1), reports.month_end(year, month)
        elif ptype == "quarter":
            q = _parse_int(form, "quarter", 1, 4, errors, gettext("季度应为1到4"))
            if year and q:
                start, end = dt.date(year, q * 3 - 2, 1), reports.month_end(year, q * 3)
        elif year:
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return (kind if kind in SHEET_KINDS else None), start, end, errors


def _index_context(org: Organization) -> dict:
    today = clock.today()
    sheets = list(db.session.scalars(sa.select(Disclosure).where(Disclosure.organization_id == org.id).order_by(
        Disclosure.period_start.desc(), Disclosure.kind, Disclosure.version.desc())))
    schedule = list(reversed(disclosure.quarter_schedule(org, today)))[:8]
    last = periods.last_closed(org)
    year = request.args.get("year", "")
    year = int(year) if year.isdecimal() and 1990 <= int(year) <= 2100 else (last[0] if last else today.year)
    # the form offers the last quarter that is wholly closed, and the last closed month
    y, m = last or (today.year, today.month)
    qy, qm = (y, m) if m % 3 == 0 else periods.prev_month(y, m - m % 3 + 1)
    default = {"kind": "income_expense", "period": "quarter", "year": str(qy), "quarter": str(qm // 3),
               "month": str(m)}
    return dict(org=org, sheets=sheets, schedule=schedule, today=today, kinds=SHEET_KINDS, statuses=SHEET_STATUSES,
                period_types=PERIOD_TYPES, last_closed=last, chart_year=year,
                charts=disclosure_pdf.year_charts(org, year, tr=gettext),
                can_prepare=access.can(current_user, access.PREPARE, org),
                default=default,
                years=list(range(max(today.year, org.books_start_year), org.books_start_year - 1, -1)))


@bp.route("/o/<int:org_id>/disclosure/")
@login_required
def index():
    org = load_org(None, current=False)
    if not access.can(current_user, access.READ_LEDGER, org):
        return redirect(url_for("disclosure.published"))  # members: the published sheets
    load_org()
    return render_template("disclosure/index.html", errors={}, form={}, error=None, **_index_context(org))


@bp.route("/o/<int:org_id>/disclosure/new", methods=["POST"])
@login_required
def create():
    org = load_org(access.PREPARE)
    kind, start, end, errors = period_from_form(request.form)
    error = None
    status = 422
    if not errors:
        done = forms.submit(None, lambda: disclosure.create_sheet(org, kind=kind, start=start, end=end,
                                                                  user=current_user))
        if done.ok:
            flash(gettext("已生成%(kind)s（草稿），请提交民主理财小组审查", kind=translate(SHEET_KINDS[kind])), "success")
            return redirect(url_for("disclosure.sheet", disclosure_id=done.result.id))
        status, flat = done.status, done.errors
        # the service names the period by its end; on this form that is the period as a whole
        for key in ("period_end", "period_start"):
            if key in flat:
                errors.setdefault("period", []).extend(flat.pop(key))
        errors.update({k: v for k, v in flat.items() if k in ("kind",)})
        if not errors:
            error = done.message
    return render_template("disclosure/index.html", errors=errors, form=request.form, error=error,
                           **_index_context(org)), status


# ---------------------------------------------------------------- one sheet and its workflow


def _actions(org: Organization, d: Disclosure, correction: Disclosure | None) -> dict[str, bool]:
    roles = access.roles_on(current_user, org)
    prepare = access.can(current_user, access.PREPARE, org)
    return {
        "review": "finance_group" in roles and d.status in (SheetStatus.DRAFT, SheetStatus.VETOED),
        "approve": "township_auditor" in roles and d.status == SheetStatus.REVIEWED,
        "publish": prepare and d.status == SheetStatus.APPROVED,
        "rebuild": prepare and d.status in (SheetStatus.DRAFT, SheetStatus.VETOED),
        "correct": prepare and d.status == SheetStatus.PUBLISHED and correction is None,
    }


def _versions(d: Disclosure) -> tuple[Disclosure | None, Disclosure | None]:
    """(the version this one corrects, the version that corrects this one)."""
    newer = db.session.scalar(sa.select(Disclosure).where(Disclosure.supersedes_id == d.id))
    return d.supersedes, newer


def _comments(d: Disclosure) -> tuple[dict[int, list], list]:
    by_row: dict[int, list] = {}
    general = []
    for c in d.comments:
        (by_row.setdefault(c.row, []) if c.row is not None else general).append(c)
    return by_row, general


def _render_sheet(org: Organization, d: Disclosure, *, status: int = 200, error: str | None = None,
                  errors: dict | None = None, form=None):
    older, newer = _versions(d)
    by_row, general = _comments(d)
    return render_template(
        "disclosure/sheet.html", org=org, d=d, v=disclosure_pdf.sheet_view(d), older=older, newer=newer,
        row_comments=by_row, general_comments=general, actions=_actions(org, d, newer), channels=CHANNELS,
        error=error, errors=errors or {}, form=form or {}, today=clock.today().isoformat(),
        charts=disclosure_pdf.sheet_charts(d, tr=gettext, period=period_label(d.period_start, d.period_end)),
        user_name=_user_name, statuses=SHEET_STATUSES,
        signers=disclosure.signers(d) if d.status in PUBLIC else None,
    ), status


def _user_name(user_id: int | None) -> str:
    u = db.session.get(User, user_id) if user_id else None
    return u.display_name if u else ""


@bp.route("/o/<int:org_id>/disclosure/<int:disclosure_id>")
@login_required
def sheet(disclosure_id: int):
    org = load_org()
    return _render_sheet(org, disclosure.get_sheet(org, disclosure_id))


def _step(disclosure_id: int, permission: str | None, fn, message: str):
    """Run one workflow step; on refusal show the sheet again with the message beside its field."""
    org = load_org(permission)
    d = disclosure.get_sheet(org, disclosure_id)
    done = forms.submit(None, lambda: fn(org, d))
    if not done.ok:
        d = disclosure.get_sheet(org, disclosure_id)
        known = {"comment", "date", "channel", "row"}
        return _render_sheet(org, d, status=done.status, errors=done.errors, form=request.form,
                             error=None if set(done.errors) & known else done.message)
    result = done.result
    flash(message, "success")
    target = result if isinstance(result, Disclosure) else d
    return redirect(url_for("disclosure.sheet", disclosure_id=target.id))


def _row_comments(form) -> dict[int, str]:
    out = {}
    for key, value in form.items():
        if key.startswith("comment-") and key[8:].isdecimal() and value.strip():
            out[int(key[8:]) - 1] = value  # rows are numbered from 1 on the page
    return out


@bp.route("/o/<int:org_id>/disclosure/<int:disclosure_id>/review", methods=["POST"])
@login_required
def review(disclosure_id: int):
    """民主理财小组: approve, or veto with comments on rows and/or the whole sheet."""
    approve = request.form.get("decision") == "approve"

    def run(org, d):
        if request.form.get("decision") not in ("approve", "veto"):
            raise ValidationFailed.field("comment", gettext("请选择通过或否决"))
        return disclosure.finance_group_review(d, user=current_user, approve=approve,
                                               comment=request.form.get("comment"),
                                               row_comments=_row_comments(request.form))

    return _step(disclosure_id, None, run, gettext("民主理财小组审查通过，已提交乡镇经管站") if approve
                 else gettext("已否决，意见已通知会计"))


@bp.route("/o/<int:org_id>/disclosure/<int:disclosure_id>/approve", methods=["POST"])
@login_required
def approve(disclosure_id: int):
    """乡镇经管站: approve for publication, or send back with a comment."""
    ok = request.form.get("decision") != "return"
    return _step(disclosure_id, None,
                 lambda org, d: disclosure.township_approve(d, user=current_user, approve=ok,
                                                            comment=request.form.get("comment")),
                 gettext("经管站已批准，会计可以公开") if ok else gettext("已退回，意见已通知会计"))


@bp.route("/o/<int:org_id>/disclosure/<int:disclosure_id>/publish", methods=["POST"])
@login_required
def publish(disclosure_id: int):
    """公开: freeze the sheet with its PDF (QR code and digest) on the given date and channel."""

    def run(org, d):
        date = forms.parse_date((request.form.get("date") or "").strip())
        if date is None:
            raise ValidationFailed.field("date", gettext("请填写公开日期（YYYY-MM-DD）"))
        return disclosure.publish(d, user=current_user, date=date, channel=request.form.get("channel") or "",
                                  render_pdf=lambda s: disclosure_pdf.render_sheet_pdf(s, accountant=current_user))

    return _step(disclosure_id, access.PREPARE, run, gettext("已公开：PDF 已生成并封存，可下载张贴"))


@bp.route("/o/<int:org_id>/disclosure/<int:disclosure_id>/rebuild", methods=["POST"])
@login_required
def rebuild(disclosure_id: int):
    return _step(disclosure_id, access.PREPARE,
                 lambda org, d: disclosure.rebuild_sheet(d, user=current_user), gettext("已按账簿重新生成，需重新审查"))


@bp.route("/o/<int:org_id>/disclosure/<int:disclosure_id>/correct", methods=["POST"])
@login_required
def correct(disclosure_id: int):
    """更正: a new version of a published sheet; the old one stays published until the new one is."""
    return _step(disclosure_id, access.PREPARE,
                 lambda org, d: disclosure.create_sheet(org, kind=d.kind, start=d.period_start, end=d.period_end,
                                                        user=current_user, supersedes=d),
                 gettext("已创建更正版本（草稿），公开后将取代原版本"))


def _send_pdf(d: Disclosure):
    if d.pdf is not None:
        data = d.pdf  # frozen at publication: never re-rendered
    else:
        data = disclosure_pdf.render_sheet_pdf(d)
    return send_file(io.BytesIO(data), mimetype="application/pdf", download_name=disclosure_pdf.sheet_filename(d))


@bp.route("/o/<int:org_id>/disclosure/<int:disclosure_id>.pdf")
@login_required
def sheet_pdf(disclosure_id: int):
    """The frozen PDF of a published sheet; a 样稿 preview before that."""
    org = load_org()
    return _send_pdf(disclosure.get_sheet(org, disclosure_id))


# ---------------------------------------------------------------- members: the published sheets


@bp.route("/o/<int:org_id>/disclosure/published")
@login_required
def published():
    org = _reader_org()
    sheets = list(db.session.scalars(sa.select(Disclosure).where(
        Disclosure.organization_id == org.id, Disclosure.status.in_(PUBLIC)).order_by(
        Disclosure.published_on.desc(), Disclosure.id.desc())))
    return render_template("disclosure/published.html", org=org, sheets=sheets, kinds=SHEET_KINDS)


def _published_sheet(disclosure_id: int) -> tuple[Organization, Disclosure]:
    org = _reader_org()
    d = disclosure.get_sheet(org, disclosure_id)
    if d.status not in PUBLIC:
        abort(404)  # drafts are not there for members
    return org, d


@bp.route("/o/<int:org_id>/disclosure/published/<int:disclosure_id>")
@login_required
def published_sheet(disclosure_id: int):
    org, d = _published_sheet(disclosure_id)
    _, newer = _versions(d)
    return render_template("disclosure/published_sheet.html", org=org, d=d, v=disclosure_pdf.sheet_view(d),
                           newer=newer, signers=disclosure.signers(d))


@bp.route("/o/<int:org_id>/disclosure/published/<int:disclosure_id>.pdf")
@login_required
def published_pdf(disclosure_id: int):
    _, d = _published_sheet(disclosure_id)
    return _send_pdf(d)


# ---------------------------------------------------------------- public verify page (no login)


def _newest(d: Disclosure) -> Disclosure | None:
    """The newest published version that replaced `d`, following the chain of corrections."""
    newest = None
    while True:
        nxt = db.session.scalar(sa.select(Disclosure).where(Disclosure.supersedes_id == d.id,
                                                            Disclosure.status.in_(PUBLIC)))
        if nxt is None:
            return newest
        newest = d = nxt


def _result(d: Disclosure, *, via_pdf: bool = False) -> dict:
    problems = disclosure.verify_sheet(d)
    return {"d": d, "org": db.session.get(Organization, d.organization_id), "v": disclosure_pdf.sheet_view(d),
            "intact": not problems, "problems": problems,
            "newest": _newest(d) if d.status == SheetStatus.SUPERSEDED else None,
            "via_pdf": via_pdf}


def _verify_page(*, result=None, error: str | None = None, errors: dict | None = None, digest: str = "",
                 not_found: str | None = None, status: int = 200):
    return render_template("disclosure/verify.html", result=result, error=error, errors=errors or {},
                           digest=digest, not_found=not_found), status


@bp.route("/verify/sheet", methods=["GET", "POST"])
def verify():
    """Check a sheet by the digest printed on it, or by uploading its PDF."""
    if request.method == "GET":
        return _verify_page()
    upload = request.files.get("file")
    digest = (request.form.get("digest") or "").strip()
    try:
        if upload is not None and upload.filename:
            d = disclosure.verify_pdf(upload.read())
            if d is None:
                return _verify_page(status=404, not_found=gettext("该 PDF 不是本系统公开的财务公开表，或文件已被改动。"
                                                                  "请输入表上印的摘要再核验。"))
            return _verify_page(result=_result(d, via_pdf=True))
        if not digest:
            raise ValidationFailed.field("digest", gettext("请输入表上印的摘要，或上传公开表 PDF"))
        disclosure.verify_digest(digest)  # format check: garbage is answered here, not by a redirect
    except ValidationFailed as exc:
        return _verify_page(errors=forms.flat_errors(exc.errors), digest=digest[:200], status=422)
    return redirect(url_for("disclosure.verify_digest", digest=digest.lower()))


@bp.route("/verify/sheet/<path:digest>")
def verify_digest(digest: str):
    """What the QR code on a printed sheet opens."""
    try:
        d = disclosure.verify_digest(digest)
    except ValidationFailed as exc:
        return _verify_page(errors=forms.flat_errors(exc.errors), digest=digest[:200], status=422)
    if d is None:
        return _verify_page(digest=digest, status=404,
                            not_found=gettext("没有与该摘要相符的已公开财务公开表。请核对摘要是否抄写正确；若无误，"
                                              "说明张贴的表格不是经审核公开的版本。"))
    return _verify_page(result=_result(d), digest=digest)
