"""Ledger pages: vouchers (entry, list, detail, actions, attachments), chart of accounts, opening balances,
periods. Every page loads the organization through `load_org`, so an organization the user is not assigned to
is a 404; every change goes through the same services as the API."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from coop.core.errors import CoopError, InvalidState, PeriodClosed, ValidationFailed
from coop.core.extensions import db
from coop.reports import caching
from coop.ledger import codes
from coop.ledger.chart import CHART_2004, CATEGORY_LABELS, COUNTERPARTY_ACCOUNTS
from coop.models import Organization, Voucher
from coop.models.ledger import KIND_LABELS, STATUS_LABELS, VOUCHER_STATUSES, VoucherStatus
from coop.core.money import ZERO
from coop.schemas.ledger import WORDS
from coop.services import access, accounts as account_service, attachments, closing, opening as opening_service, periods
from coop.services import roles as role_service
from coop.services import voucher_templates as templates
from coop.services import vouchers as voucher_service
from coop.core import clock
from coop.web import forms
from coop.web.orgs import load_org
from coop.web.page_cache import unchanged, whole_page
from coop.web.report_html import stamped

bp = Blueprint("ledger", __name__, url_prefix="/o/<int:org_id>")


@bp.before_request
@login_required
def _require_login():
    """Every ledger page needs a signed-in user (login_required returns the redirect, or None)."""


@bp.app_template_global()
def optional_url(endpoint: str, **values) -> str | None:
    """url_for that gives None when the endpoint does not exist (yet), so a page never breaks on a missing link."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.app_template_filter("bj")
def beijing_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time as people read it: Beijing time (RULES §0)."""
    local = clock.local(value)
    return local.strftime(fmt) if local else ""


@bp.app_template_filter("filesize")
def filesize(n: int) -> str:
    return attachments.human_size(n)


def _can(org: Organization):
    return lambda permission: access.can(current_user, permission, org)


def _common(org: Organization) -> dict:
    return {"org": org, "can": _can(org), "access": access, "status_labels": STATUS_LABELS,
            "kind_labels": KIND_LABELS}


# ---------------------------------------------------------------- vouchers: list


def _int_arg(name: str, lo: int, hi: int) -> int | None:
    value = request.args.get(name, "").strip()
    return int(value) if value.isdecimal() and lo <= int(value) <= hi else None


@bp.route("/vouchers")
@whole_page
def vouchers():
    org = load_org()
    if (copy_is_current := unchanged(org)) is not None:
        return copy_is_current  # the client's copy is of these very books
    body = caching.page_body(org, lambda: _voucher_list_body(org), per_user=True)
    return render_template("ledger/voucher_list.html", body=body, **_common(org))


def _voucher_list_body(org: Organization) -> str:
    current_year = periods.first_open(org)[0]
    # no year in the URL means the current accounting year; an empty one (全部) means every year; a bare list
    # opens on the month being worked on (periods.working_month), not on January
    if request.args:
        year = _int_arg("year", 1990, 2100) if "year" in request.args else current_year
        month = _int_arg("month", 1, 12)
    else:
        year, month = periods.working_month(org)
    status = request.args.get("status") if request.args.get("status") in VOUCHER_STATUSES else None
    account = (request.args.get("account") or "").strip().split(" ")[0]
    account = account if account.isdecimal() else ""
    text = (request.args.get("q") or "").strip()
    page = _int_arg("page", 1, 100000) or 1
    size = current_app.config["PAGE_SIZE"]
    wanted = dict(year=year, month=month, status=status, account_code=account or None, text=text or None)
    total, debit, credit = voucher_service.voucher_summary(org, **wanted)
    pages = max(1, -(-total // size))
    page = min(page, pages)
    items = voucher_service.voucher_rows(org, limit=size, offset=(page - 1) * size, **wanted)
    totals = {"debit": debit, "credit": credit}
    filters = {"year": "" if year is None else year, "month": month or "", "status": status or "",
               "account": account, "q": text}
    years = range(current_year, org.books_start_year - 1, -1)
    # per row: the link built once (stamped), the badges' words translated once
    return render_template(
        "ledger/_voucher_list_body.html", vouchers=items, total=total, totals=totals,
        page=page, pages=pages, filters=filters, years=years, csrf_token=caching.csrf_slot, **_common(org),
        detail_url=stamped(lambda vid: url_for("ledger.voucher_detail", voucher_id=vid)),
        status_words={k: _(v) for k, v in STATUS_LABELS.items()}, kind_words={k: _(v) for k, v in KIND_LABELS.items()},
        more_lines=_("等 %(n)s 行"),
    )


# ---------------------------------------------------------------- vouchers: entry


def _render_form(org: Organization, values: dict, errors: dict, *, voucher: Voucher | None = None,
                 corrects: Voucher | None = None, kind: str = "normal", status: int = 200):
    if len(values["lines"]) < 2:  # always offer at least two rows to type into
        values = {**values, "lines": values["lines"] + [{}] * (2 - len(values["lines"]))}
    chart = account_service.accounts_of(org)
    return render_template(
        "ledger/voucher_form.html", values=values, errors=errors, voucher=voucher, corrects=corrects, kind=kind,
        accounts=[a for a in chart if a.is_leaf and a.active], names={a.code: a.name for a in chart}, words=WORDS,
        **_common(org),
    ), status


def _submit_voucher(org: Organization, save, *, kind: str, voucher=None, corrects=None):
    """Validate the posted form and call `save(data)`; on any error show the form again with every message."""
    vf = forms.load_voucher_form(request.form, account_service.account_infos(org), kind=kind)
    if vf.ok:
        done = forms.submit(None, lambda: save(vf.data))
        if done.ok:
            return done.result, None
        if not isinstance(done.error, (ValidationFailed, PeriodClosed)):
            raise done.error  # not about what was typed (a voucher no longer a draft): the error page
        vf.add_errors(done.error.errors)
    # the service stops at the first failing group of rules: also report a closed or too early month
    if vf.date is not None and "date" not in vf.errors:
        try:
            periods.ensure_open(org, vf.date)
        except CoopError as exc:
            vf.add_errors(exc.errors)
    return None, _render_form(org, vf.values, vf.errors, voucher=voucher, corrects=corrects, kind=kind, status=422)


def _blank_values(date: dt.date | None = None) -> dict:
    return {"date": (date or clock.today()).isoformat(), "word": "记", "attachment_count": "0", "lines": []}


@bp.route("/vouchers/new", methods=["GET", "POST"])
def voucher_new():
    org = load_org(access.PREPARE)
    if request.method == "POST":
        saved, page = _submit_voucher(
            org, lambda data: voucher_service.create_draft(org, data, user=current_user), kind="normal")
        if saved is None:
            return page
        flash(_("凭证已保存（制单），等待审核"), "success")
        if request.form.get("again"):  # the next voucher starts on this one's date
            return redirect(url_for("ledger.voucher_new", date=saved.date.isoformat()))
        return redirect(url_for("ledger.voucher_detail", voucher_id=saved.id))
    date = _entry_date(org)
    return _render_form(org, _template_values(org, request.args.get("template", ""), date)
                        or _blank_values(date), {})


@bp.route("/vouchers/<int:voucher_id>/edit", methods=["GET", "POST"])
def voucher_edit(voucher_id: int):
    org = load_org(access.PREPARE)
    v = voucher_service.get_voucher(org, voucher_id)
    if v.status != VoucherStatus.DRAFT:
        raise InvalidState(_("只有未审核的凭证可以修改；已审核的请先取消审核，已记账的请用红字冲销或调整凭证更正"))
    source = voucher_service.generated_by(v)
    if source:
        raise InvalidState(_("由%(source)s生成，请在原业务中更正", source=_(source)))
    if request.method == "POST":
        saved, page = _submit_voucher(
            org, lambda data: voucher_service.update_draft(v, data, user=current_user), kind=v.kind, voucher=v)
        if saved is None:
            return page
        flash(_("凭证已修改"), "success")
        return redirect(url_for("ledger.voucher_detail", voucher_id=v.id))
    return _render_form(org, forms.voucher_values(v), {}, voucher=v, kind=v.kind)


@bp.route("/vouchers/<int:voucher_id>/adjust", methods=["GET", "POST"])
def voucher_adjust(voucher_id: int):
    """调整凭证 for an amount-only error: the original's accounts prefilled; amounts are the difference."""
    org = load_org(access.PREPARE)
    original = voucher_service.get_voucher(org, voucher_id)
    if request.method == "POST":
        saved, page = _submit_voucher(
            org, lambda data: voucher_service.create_adjustment(original, data, user=current_user),
            kind="adjust", corrects=original)
        if saved is None:
            return page
        flash(_("调整凭证已保存（制单），等待审核"), "success")
        return redirect(url_for("ledger.voucher_detail", voucher_id=saved.id))
    if original.status != "posted":
        raise InvalidState(_("只能对已记账的凭证做调整"))
    voucher_service.check_adjustable(original)  # e.g. a dividend payment: undone by its red reversal instead
    summary = _("调整 %(m)s月%(d)s日 %(no)s 号凭证", m=original.month, d=original.date.day, no=original.display_number)
    values = _blank_values()
    values["word"] = original.word
    # accounts and sides from the original; the amounts are left for the difference (negative to decrease)
    values["lines"] = [{"summary": summary, "account_code": l.account.code, "debit": "", "credit": "",
                        "counterparty": l.counterparty or "",
                        "hint_debit": forms.amount_text(l.debit), "hint_credit": forms.amount_text(l.credit)}
                       for l in original.lines]
    return _render_form(org, values, {}, corrects=original, kind="adjust")


# ---------------------------------------------------------------- vouchers: detail and actions


def voucher_actions(org: Organization, v: Voucher) -> dict[str, str | None]:
    """Action → None when the user may do it now, or the reason it is refused. Absent: not for this user."""
    can = _can(org)
    out: dict[str, str | None] = {}
    if v.status == VoucherStatus.DRAFT and can(access.PREPARE):
        source = voucher_service.generated_by(v)
        if source:  # its register points at it: corrected there, not here
            out["edit"] = out["delete"] = _("由%(source)s生成，请在原业务中更正", source=_(source))
        else:
            out["edit"] = None
            out["delete"] = _("已编号的凭证不能删除（凭证号不能断号），请修改后重新审核") if v.number else None
    if v.status == VoucherStatus.DRAFT and can(access.REVIEW):
        out["review"] = _("制单人不能审核自己编制的凭证") if v.preparer_id == current_user.id else None
    if v.status == VoucherStatus.REVIEWED and can(access.REVIEW):
        out["unreview"] = None
    if v.status == VoucherStatus.REVIEWED and can(access.POST):
        out["post"] = None if org.opening_locked else _("期初余额尚未确认，不能记账")
    if v.status == VoucherStatus.POSTED and can(access.PREPARE) and v.kind in ("normal", "adjust"):
        # 红字冲销 and 调整 both correct a posted voucher; once reversed there is nothing left to correct
        reversal = v.reversal
        out["reverse"] = _("该凭证已被 %(no)s 冲销", no=reversal.display_number) if reversal else None
    if v.status != VoucherStatus.POSTED and can(access.PREPARE):
        out["attach"] = None
    return out


def render_detail(org: Organization, v: Voucher, *, status: int = 200, error: str | None = None,
                   errors: dict | None = None, form: dict | None = None):
    return render_template(
        "ledger/voucher_detail.html", v=v, actions=voucher_actions(org, v), error=error, errors=errors or {},
        form=form or {}, today=clock.today().isoformat(),
        max_size=attachments.human_size(current_app.config["ATTACHMENT_MAX_BYTES"]), **_common(org),
    ), status


@bp.route("/vouchers/<int:voucher_id>")
def voucher_detail(voucher_id: int):
    org = load_org()
    return render_detail(org, voucher_service.get_voucher(org, voucher_id))


def _action(voucher_id: int, permission: str, fn, message: str):
    org = load_org(permission)
    v = voucher_service.get_voucher(org, voucher_id)
    done = forms.submit(None, lambda: fn(v))
    if not done.ok:
        return render_detail(org, v, status=done.status, error=done.message)
    flash(message, "success")
    return redirect(url_for("ledger.voucher_detail", voucher_id=v.id))


@bp.route("/vouchers/<int:voucher_id>/review", methods=["POST"])
def voucher_review(voucher_id: int):
    return _action(voucher_id, access.REVIEW,
                   lambda v: voucher_service.review_voucher(v, user=current_user), _("凭证已审核"))


@bp.route("/vouchers/<int:voucher_id>/unreview", methods=["POST"])
def voucher_unreview(voucher_id: int):
    return _action(voucher_id, access.REVIEW,
                   lambda v: voucher_service.unreview_voucher(v, user=current_user), _("已取消审核，凭证退回制单状态"))


@bp.route("/vouchers/<int:voucher_id>/post", methods=["POST"])
def voucher_post(voucher_id: int):
    return _action(voucher_id, access.POST,
                   lambda v: voucher_service.post_voucher(v, user=current_user), _("凭证已记账"))


@bp.route("/vouchers/<int:voucher_id>/delete", methods=["POST"])
def voucher_delete(voucher_id: int):
    org = load_org(access.PREPARE)
    v = voucher_service.get_voucher(org, voucher_id)
    stored = [a.stored_name for a in v.attachments]
    done = forms.submit(None, lambda: voucher_service.delete_draft(v, user=current_user))
    if not done.ok:
        return render_detail(org, v, status=done.status, error=done.message)
    # committed here, not at the boundary: the scans of the deleted draft go with it, and only once it is gone
    db.session.commit()
    attachments.purge_unused(stored)
    flash(_("凭证已删除"), "success")
    return redirect(url_for("ledger.vouchers"))


@bp.route("/vouchers/<int:voucher_id>/reverse", methods=["POST"])
def voucher_reverse(voucher_id: int):
    org = load_org(access.PREPARE)
    v = voucher_service.get_voucher(org, voucher_id)
    date = forms.parse_date((request.form.get("date") or "").strip())

    def reverse():
        if date is None:
            raise ValidationFailed.field("date", _("请填写冲销日期（YYYY-MM-DD）"))
        return voucher_service.reverse_voucher(v, user=current_user, date=date)

    done = forms.submit(None, reverse)
    if not done.ok:
        return render_detail(org, v, status=done.status, error=None if "date" in done.errors else done.message,
                             errors=done.errors, form=request.form)
    red = done.result
    flash(_("已生成红字冲销凭证，请审核后记账"), "success")
    return redirect(url_for("ledger.voucher_detail", voucher_id=red.id))


# ---------------------------------------------------------------- attachments


@bp.route("/vouchers/<int:voucher_id>/attachments", methods=["POST"])
def attachment_upload(voucher_id: int):
    org = load_org(access.PREPARE)
    v = voucher_service.get_voucher(org, voucher_id)
    upload = request.files.get("file")

    def upload_file():
        if upload is None or not upload.filename:
            raise ValidationFailed.field("file", _("请选择要上传的文件"))
        attachments.add_attachment(v, upload.filename, upload.mimetype, upload.read(), user=current_user)

    done = forms.submit(None, upload_file)
    if not done.ok:
        return render_detail(org, v, status=done.status, error=None if "file" in done.errors else done.message,
                             errors=done.errors)
    flash(_("附件已上传"), "success")
    return redirect(url_for("ledger.voucher_detail", voucher_id=v.id) + "#attachments")


@bp.route("/vouchers/<int:voucher_id>/attachments/<int:attachment_id>")
def attachment_download(voucher_id: int, attachment_id: int):
    org = load_org()
    att = attachments.get_attachment(voucher_service.get_voucher(org, voucher_id), attachment_id)
    path = attachments.file_path(att)
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=att.content_type, download_name=att.filename,
                     as_attachment=bool(request.args.get("download")), max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.route("/vouchers/<int:voucher_id>/attachments/<int:attachment_id>/delete", methods=["POST"])
def attachment_delete(voucher_id: int, attachment_id: int):
    org = load_org(access.PREPARE)
    v = voucher_service.get_voucher(org, voucher_id)
    att = attachments.get_attachment(v, attachment_id)
    done = forms.submit(None, lambda: attachments.remove_attachment(att, user=current_user))
    if not done.ok:
        return render_detail(org, v, status=done.status, error=done.message)
    flash(_("附件已删除"), "success")
    return redirect(url_for("ledger.voucher_detail", voucher_id=v.id) + "#attachments")


# ---------------------------------------------------------------- chart of accounts


def _render_accounts(org: Organization, *, errors: dict | None = None, form: dict | None = None,
                     row_errors: dict | None = None, status: int = 200):
    all_accounts = account_service.accounts_of(org)
    scheme = account_service.scheme_of(org)
    locked = account_service.locked_leaves(org)
    parents = [a for a in all_accounts if a.code not in locked and scheme.level(a.code) < scheme.max_level]
    return render_template(
        "ledger/accounts.html", accounts=all_accounts, parents=parents, scheme=scheme, errors=errors or {}, form=form or {},
        row_errors=row_errors or {}, category_labels=CATEGORY_LABELS, **_common(org),
    ), status


def _account_refused(org: Organization, code: str, done):
    """The accounts page with the refusal beside the account's row; above the table when there is no such row."""
    msgs = [m for ms in done.errors.values() for m in ms] or [done.message]
    if not any(a.code == code for a in account_service.accounts_of(org)):
        for m in msgs:
            flash(m, "error")
        return _render_accounts(org, status=done.status)
    return _render_accounts(org, row_errors={code: msgs}, status=done.status)


@bp.route("/accounts")
def accounts():
    return _render_accounts(load_org())


@bp.route("/accounts", methods=["POST"])
def account_add():
    org = load_org(access.MANAGE_ACCOUNTS)
    f = request.form
    done = forms.submit(None, lambda: account_service.add_detail_account(
        org, f.get("parent_code", ""), f.get("code", ""), f.get("name", "")))
    if not done.ok:
        return _render_accounts(org, errors=done.errors, form=f, status=done.status)
    acc = done.result
    flash(_("已增设明细科目 %(label)s", label=acc.label), "success")
    return redirect(url_for("ledger.accounts") + f"#acc-{acc.code}")


@bp.route("/accounts/<code>/rename", methods=["POST"])
def account_rename(code: str):
    org = load_org(access.MANAGE_ACCOUNTS)
    done = forms.submit(None, lambda: account_service.rename_account(org, code, request.form.get("name", "")))
    if not done.ok:
        return _account_refused(org, code, done)
    acc = done.result
    flash(_("科目已改名为 %(label)s", label=acc.label), "success")
    return redirect(url_for("ledger.accounts") + f"#acc-{acc.code}")


@bp.route("/accounts/<code>/active", methods=["POST"])
def account_active(code: str):
    org = load_org(access.MANAGE_ACCOUNTS)
    active = request.form.get("active") == "1"
    done = forms.submit(None, lambda: account_service.set_account_active(org, code, active))
    if not done.ok:
        return _account_refused(org, code, done)
    acc = done.result
    flash(_("已启用 %(label)s", label=acc.label) if active else _("已停用 %(label)s", label=acc.label), "success")
    return redirect(url_for("ledger.accounts") + f"#acc-{acc.code}")


# ---------------------------------------------------------------- posting roles (科目对照)


def _render_roles(org: Organization, *, errors: dict | None = None, status: int = 200):
    leaves = [a for a in account_service.accounts_of(org) if a.is_leaf and a.active]
    return render_template("ledger/posting_roles.html", statuses=role_service.statuses(org), leaves=leaves,
                           errors=errors or {}, **_common(org)), status


@bp.route("/accounts/roles")
def posting_roles():
    return _render_roles(load_org())


@bp.route("/accounts/roles/<role>", methods=["POST"])
def posting_role_set(role: str):
    org = load_org(access.MANAGE_ACCOUNTS)
    done = forms.submit(None, lambda: role_service.set_mapping(org, role, request.form.get("account_code", ""),
                                                                user=current_user))
    if not done.ok:
        msgs = [m for ms in done.errors.values() for m in ms]
        return _render_roles(org, errors={role: msgs}, status=done.status)
    st = done.result
    flash(_("科目对照「%(label)s」已设为 %(code)s", label=_(st.role.label), code=st.code or "—"), "success")
    return redirect(url_for("ledger.posting_roles") + f"#role-{role}")


# ---------------------------------------------------------------- opening balances


def _opening_rows(org: Organization):
    """Leaf accounts for the grid (inactive ones only if they carry a balance)."""
    balances = opening_service.opening_balances(org)
    return [a for a in account_service.accounts_of(org) if a.is_leaf and (a.active or a.code in balances)], balances


def _opening_counterparties(org: Organization) -> dict[str, list[tuple[str | None, Decimal]]]:
    """Leaf code → its opening balances by counterparty."""
    out: dict[str, list] = {}
    for code, cp, amount in opening_service.opening_lines(org):
        out.setdefault(code, []).append((cp, amount))
    return out


def _sides(balances: dict[str, Decimal]) -> dict:
    debit = sum((b for b in balances.values() if b > 0), ZERO)
    credit = -sum((b for b in balances.values() if b < 0), ZERO)
    return {"debit": debit, "credit": credit, "diff": debit - credit}


def _render_opening(org: Organization, *, values: dict | None = None, errors: dict | None = None,
                    status: int = 200, preview: dict | None = None, import_form: dict | None = None,
                    details_form: str | None = None):
    rows, balances = _opening_rows(org)
    by_cp = _opening_counterparties(org)
    if values is None:  # the stored balances, shown on each account's own side
        values = {}
        for a in rows:
            b = balances.get(a.code, ZERO)
            side = ("借" if b > 0 else "贷") if b else ("借" if a.normal_side == "debit" else "贷")
            cps = by_cp.get(a.code, [])
            values[a.code] = {"amount": forms.amount_text(abs(b)), "dir": side,
                              "counterparty": cps[0][0] or "" if len(cps) == 1 else ""}
    return render_template(
        "ledger/opening.html", rows=rows, values=values, errors=errors or {}, totals=_sides(balances),
        counterparty_codes={a.code for a in rows if codes.top(a.code) in COUNTERPARTY_ACCOUNTS},
        several={c: lines for c, lines in by_cp.items() if len(lines) > 1},
        details_form=details_form if details_form is not None else "\n".join(
            f"{c},{cp},{forms.amount_text(abs(a))},{'借' if a > 0 else '贷'}"
            for c, cp, a in opening_service.opening_lines(org) if cp),
        preview=preview, import_form=import_form or {}, chart_2004=CHART_2004,
        names={a.code: a.name for a in account_service.accounts_of(org)}, **_common(org),
    ), status


@bp.route("/opening")
def opening():
    return _render_opening(load_org())


@bp.route("/opening", methods=["POST"])
def opening_save():
    org = load_org(access.MANAGE_ACCOUNTS)
    rows, _stored = _opening_rows(org)
    # a leaf kept with several counterparties (API, import) is shown read-only and kept as it is
    several = {c: lines for c, lines in _opening_counterparties(org).items() if len(lines) > 1}
    balances, values, errors = forms.read_opening_form(request.form, [a.code for a in rows if a.code not in several])
    for code, lines in several.items():
        for cp, amount in lines:
            balances[(code, cp)] = amount
    if errors:
        return _render_opening(org, values=values, errors=errors, status=422)
    done = forms.submit(None, lambda: opening_service.set_opening_balances(org, balances, user=current_user))
    if not done.ok:
        return _render_opening(org, values=values, errors=done.errors, status=done.status)
    diff = _sides({str(k): v for k, v in balances.items()})["diff"]
    if diff:
        more = _("借方比贷方多") if diff > 0 else _("贷方比借方多")
        flash(_("期初余额已保存，但尚不平衡：%(more)s %(d)s", more=more, d=f"{abs(diff):,.2f}"), "warning")
    else:
        flash(_("期初余额已保存，试算平衡，可以锁定"), "success")
    return redirect(url_for("ledger.opening"))


@bp.route("/opening/counterparties", methods=["POST"])
def opening_counterparties():
    """往来 balances typed by counterparty: the leaves named replace their balances, the others stay."""
    org = load_org(access.MANAGE_ACCOUNTS)
    details, errors = forms.parse_counterparty_rows(request.form.get("details", ""))
    if errors:
        return _render_opening(org, errors=errors, status=422, details_form=request.form.get("details", ""))
    named = {code for code, _cp in details}
    balances: dict = {(code, cp) if cp else code: amount
                      for code, cp, amount in opening_service.opening_lines(org) if code not in named}
    balances.update(details)
    done = forms.submit(None, lambda: opening_service.set_opening_balances(org, balances, user=current_user))
    if not done.ok:
        errs = {"details": [m for ms in done.errors.values() for m in ms]}
        return _render_opening(org, errors=errs, status=done.status, details_form=request.form.get("details", ""))
    flash(_("已按往来单位保存 %(n)s 笔期初余额", n=len(details)), "success")
    return redirect(url_for("ledger.opening") + "#by-counterparty")


@bp.route("/opening/lock", methods=["POST"])
def opening_lock():
    org = load_org(access.MANAGE_ACCOUNTS)
    done = forms.submit(None, lambda: opening_service.lock_opening_balances(org, user=current_user))
    if not done.ok:
        return _render_opening(org, errors=done.errors, status=done.status)
    flash(_("期初余额已锁定，可以开始记账"), "success")
    return redirect(url_for("ledger.opening"))


#: old accounts whose balance may go to more than one new account: the user picks
SPLIT_2004 = [code for code, (_name, targets) in CHART_2004.items() if len(targets) > 1]


@bp.route("/opening/import", methods=["POST"])
def opening_import():
    """2004-system import: first a preview of the mapping, then (action=import) the import itself."""
    org = load_org(access.MANAGE_ACCOUNTS)
    if org.opening_locked:
        raise InvalidState(_("期初余额已锁定，不能再导入"))
    text = request.form.get("csv", "")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        raw = upload.read()
        for enc in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
    choices = {old: request.form[f"choice-{old}"] for old in SPLIT_2004 if request.form.get(f"choice-{old}")}
    import_form = {"csv": text, "choices": choices, "lock": bool(request.form.get("lock"))}
    rows, shown, errors = forms.parse_2004_rows(text)
    mapped, map_errors = opening_service.map_2004_balances(rows, choices, org.code_scheme)
    for msgs in map_errors.values():
        errors.setdefault("rows", []).extend(msgs)
    for r in shown:
        name, targets = CHART_2004.get(r["code"], ("", ()))
        r.update(name=name, targets=targets, target=choices.get(r["code"], targets[0] if targets else ""))
    preview = {"rows": shown, "totals": _sides({str(k): v for k, v in mapped.items()}),
               "mapped": sorted((((k, None) if isinstance(k, str) else k) + (v,) for k, v in mapped.items()),
                                key=lambda r: (r[0], r[1] or ""))}
    if errors or request.form.get("action") != "import":
        return _render_opening(org, errors=errors, status=422 if errors else 200, preview=preview,
                               import_form=import_form)
    done = forms.submit(None, lambda: opening_service.import_2004_opening(org, rows, user=current_user, choices=choices,
                                                                          lock=import_form["lock"]))
    if not done.ok:
        errors = {"rows": [m for ms in done.errors.values() for m in ms]}
        return _render_opening(org, errors=errors, status=done.status, preview=preview, import_form=import_form)
    flash(_("已从 2004 年制度科目余额导入期初余额") + ("，" + _("并已锁定") if import_form["lock"] else ""), "success")
    return redirect(url_for("ledger.opening"))


# ---------------------------------------------------------------- periods


def _render_periods(org: Organization, *, errors: dict | None = None, error: str | None = None,
                    form: dict | None = None, status: int = 200):
    next_year, next_month = periods.first_open(org)
    closed = sorted(periods.closed_months(org), reverse=True)
    return render_template(
        "ledger/periods.html", closed=closed, next_period=(next_year, next_month),
        reasons=closing.close_preconditions(org, next_year, next_month), last_closed=periods.last_closed(org),
        errors=errors or {}, error=error, form=form or {}, **_common(org),
    ), status


@bp.route("/periods", endpoint="periods")
def periods_page():
    return _render_periods(load_org())


def _year_month(form) -> tuple[int, int]:
    """The period of a close/reopen button; a tampered one (month 13, year 99999999) is a 400 like a non-number."""
    try:
        year, month = int(form.get("year", "")), int(form.get("month", ""))
    except ValueError:
        abort(400)
    if not (1990 <= year <= 2100 and 1 <= month <= 12):  # the API's PeriodCloseInSchema ranges
        abort(400)
    return year, month


@bp.route("/periods/close", methods=["POST"])
def period_close():
    org = load_org(access.CLOSE)
    year, month = _year_month(request.form)
    done = forms.submit(None, lambda: closing.close_period(org, year, month, user=current_user))
    if not done.ok:
        return _render_periods(org, error=done.message, status=done.status)
    generated = done.result
    msg = _("%(y)s年%(m)s月已结账", y=year, m=month)
    if generated:
        msg += _("，已生成并记账 %(n)s 张年末结转凭证", n=len(generated))
    flash(msg, "success")
    return redirect(url_for("ledger.periods"))


@bp.route("/periods/reopen", methods=["POST"])
def period_reopen():
    org = load_org()
    year, month = _year_month(request.form)
    done = forms.submit(None, lambda: closing.reopen_period(org, year, month, user=current_user,
                                                             reason=request.form.get("reason", "")))
    if not done.ok:
        errors = done.errors
        return _render_periods(org, errors=errors, error=None if "reason" in errors else done.message,
                               form=request.form, status=done.status)
    flash(_("%(y)s年%(m)s月已反结账，原因已记入日志", y=year, m=month), "success")
    return redirect(url_for("ledger.periods"))


def _template_values(org: Organization, template_id: str, date: dt.date) -> dict | None:
    """The new-voucher form's values from a template (?template=<id>), or None."""
    if not template_id.isdecimal():
        return None
    if int(template_id) >= 2**31:
        abort(404)  # like any template that is not there
    return templates.form_values(templates.get_template(org, int(template_id)), date)


def _entry_date(org: Organization) -> dt.date:
    """The date a new voucher form starts with: ?date= (保存并新增 keeps the last voucher's), else today in Beijing."""
    picked = forms.parse_date(request.args.get("date", ""))
    return picked or clock.today()
