"""Report pages (RULES §5) with xlsx/PDF downloads, and the printed 记账凭证 (RULES §11).

Every report is one ReportTable: the page shows it through templates/reports/_table.html, the PDF through the
same macro, the xlsx from the same rows.
"""
from __future__ import annotations

import io

import sqlalchemy as sa
from flask import Blueprint, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import login_required
from markupsafe import Markup

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.reports import caching
from coop.models import Voucher, VoucherLine
from coop.reports import REPORTS, params
from coop.reports.pdf import render_pdf, render_voucher_pdf, voucher_filename
from coop.reports.xlsx import render_xlsx
from coop.services import access, accounts, periods, vouchers
from coop.services.opening import opening_lines
from coop.web.daily import drill_links, unclosed_note
from coop.web.orgs import load_org
from coop.web.page_cache import unchanged, whole_page
from coop.web.report_html import stamped, table_html
from coop.core import clock
bp = Blueprint("reports", __name__, url_prefix="/o/<int:org_id>/reports")
bp.add_app_template_global(table_html, "report_table_html")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WEB_FORMATS = ("html", "xlsx", "pdf")


def _picker_context(org) -> dict:
    """What the period picker and the account/counterparty fields offer."""
    open_year, _ = periods.first_open(org)
    last_year = max(open_year, clock.today().year)
    counterparties = db.session.scalars(
        sa.select(VoucherLine.counterparty).distinct()
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(Voucher.organization_id == org.id, VoucherLine.counterparty.is_not(None))
        .order_by(VoucherLine.counterparty)
    ).all()
    # a counterparty may so far have only an opening balance
    opening_only = {cp for _code, cp, _amount in opening_lines(org) if cp}
    counterparties = sorted(set(counterparties) | opening_only)
    return dict(years=list(range(last_year, org.books_start_year - 1, -1)), accounts=accounts.accounts_of(org),
                counterparties=counterparties)


@bp.route("/")
@login_required
def index():
    org = load_org()
    q = params.resolve(org, {})
    return render_template("reports/index.html", org=org, reports=list(REPORTS.values()), q=q,
                           **_picker_context(org))


def _show(slug: str):
    org = load_org()
    spec = REPORTS[slug]
    fmt = request.args.get("format") or "html"
    if fmt == "html" and (copy_is_current := unchanged(org)) is not None:
        return copy_is_current  # the client's copy is of these very books

    def page(status: int = 200, **ctx):
        """The layout around the report's body; a 200 body comes from the books-version cache."""
        def body():
            values = dict(org=org, spec=spec, t=None, error=None, q=None, **_picker_context(org))
            values.update(ctx)
            values.update(values.pop("build", dict)())
            return render_template("reports/_report_body.html", **values)
        shown = caching.page_body(org, body) if status == 200 else Markup(body())
        return render_template("reports/report.html", org=org, spec=spec, body=shown), status

    try:
        if fmt not in WEB_FORMATS:
            raise ValidationFailed.field("format", gettext("格式应为 html、xlsx 或 pdf"))
        args = params.load_args(spec.args, request.args)
        if spec.needs_code and not args.get("code") and fmt == "html":
            # 明细账 opened without an account: show the picker, not an error
            return page(q=params.resolve(org, args), error=gettext("请选择科目后查询"))
        q = params.resolve(org, args, needs_code=spec.needs_code)
    except ValidationFailed as exc:
        # the same page with the message; the picker falls back to the current open month
        return page(422, error=exc.message, q=params.resolve(org, {}))

    def built():
        t = spec.build(org, q)
        if fmt != "html" and (note := unclosed_note(org, q)):  # the page says it beside the title
            t.notes.append(note)
        return t

    if fmt == "xlsx":
        t = built()
        return send_file(io.BytesIO(render_xlsx(t)), mimetype=XLSX_MIME, as_attachment=True,
                         download_name=f"{t.filename or t.title}.xlsx")
    if fmt == "pdf":
        def render():
            t = built()
            return render_pdf(t), f"{t.filename or t.title}.pdf"
        data, name = caching.pdf(org, (slug, q), render)
        return send_file(io.BytesIO(data), mimetype="application/pdf", download_name=name)

    def html_context():
        downloads = {f: url_for(request.endpoint, **q.url_args(), format=f) for f in ("xlsx", "pdf")}
        links = {k: stamped(f) for k, f in drill_links(org, q, slug).items()}
        return dict(t=built(), q=q, downloads=downloads,
                    voucher_link=stamped(lambda vid: url_for("reports.voucher_pdf", voucher_id=vid)),
                    **links)
    return page(build=html_context)


@bp.route("/trial-balance")
@login_required
@whole_page
def trial_balance():
    """科目余额表."""
    return _show("trial-balance")


@bp.route("/general-ledger")
@login_required
@whole_page
def general_ledger():
    """总账."""
    return _show("general-ledger")


@bp.route("/detail-ledger")
@login_required
@whole_page
def detail_ledger():
    """明细账."""
    return _show("detail-ledger")


@bp.route("/journal")
@login_required
@whole_page
def journal():
    """凭证序时簿."""
    return _show("journal")


@bp.route("/balance-sheet")
@login_required
@whole_page
def balance_sheet():
    """资产负债表."""
    return _show("balance-sheet")


@bp.route("/income-statement")
@login_required
@whole_page
def income_statement():
    """收益及收益分配表."""
    return _show("income-statement")


@bp.route("/vouchers/<int:voucher_id>.pdf")
@login_required
def voucher_pdf(voucher_id: int):
    """The 记账凭证 as printed on paper."""
    org = load_org(access.READ_LEDGER)
    v = vouchers.get_voucher(org, voucher_id)
    return send_file(io.BytesIO(render_voucher_pdf(org, v)), mimetype="application/pdf",
                     download_name=voucher_filename(v))
