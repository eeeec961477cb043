"""Set-up pages: townships (county admins), each village's 建账进度, the chart and opening-balance imports, and
member portal accounts with their 开通通知书. Thin: every write is a service call, one transaction."""
from __future__ import annotations

import base64
import io

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coop.documents import portal_letters
from coop.core.extensions import db
from coop.services import access, chart_import, portal_accounts, setup
from coop.web.forms import carried_upload, submit
from coop.web.orgs import load_org

bp = Blueprint("setup", __name__)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
def _require_login():
    """Every page here needs a signed-in user, but the first run (guarded by the installation's setup token)."""
    if request.endpoint != "setup.first_run":
        return login_required(lambda: None)()



@bp.route("/setup/first-run", methods=["GET", "POST"])
def first_run():
    """The first county and its first county admin, from the browser: only on an empty database and with the
    setup token the installer set (COOP_SETUP_TOKEN); otherwise a 404 and the command line does it."""
    from coop.models import County
    from coop.schemas.setup import CountySetupInSchema

    if not setup.configured_token() or db.session.scalar(sa.select(County.id).limit(1)):
        abort(404)
    errors: dict = {}
    if request.method == "POST":
        # values as typed, not stripped: the set-up token must match exactly
        raw = {k: v for k, v in request.form.items() if k != "csrf_token" and v.strip() != ""}
        done, errors, _ = submit(CountySetupInSchema(),
                                 lambda data: setup.first_run(data, configured_token=setup.configured_token()), raw)
        if done:
            return render_template("setup/first_run.html", done=done, errors={}, form={})
    return render_template("setup/first_run.html", done=None, errors=errors, form=request.form), (
        422 if errors else 200)


@bp.route("/admin/townships", methods=["GET", "POST"])
def townships():
    county = setup.county_of(current_user)
    errors: dict = {}
    if request.method == "POST":
        t, errors, _ = submit(None, lambda: setup.add_township(current_user, request.form.get("name", "")))
        if not errors:
            flash(gettext("已添加乡镇 %(name)s", name=t.name), "success")
            return redirect(url_for("setup.townships"))
    rows = [(t, [(o, setup.progress(o)) for o in t.organizations]) for t in county.townships]
    return render_template("setup/townships.html", county=county, rows=rows, errors=errors, form=request.form), (
        422 if errors else 200)


@bp.route("/setup/progress")
def progress_all():
    """建账进度 of every village the user sees (a township auditor: its township; a county admin: the county)."""
    orgs = access.visible_orgs(current_user)
    rows = [(o, setup.progress(o)) for o in orgs if access.can(current_user, access.READ_LEDGER, o)]
    return render_template("setup/progress_all.html", rows=rows)


@bp.route("/o/<int:org_id>/setup")
def progress():
    org = load_org()
    # 用户与角色 is the county's and the township's page (a village accountant asks them)
    manage_users = any(access.has_role_anywhere(current_user, r) for r in ("county_admin", "township_auditor"))
    return render_template("setup/progress.html", org=org, steps=setup.progress(org), manage_users=manage_users)


def _import_page(org, kind: str):
    """Upload → dry run with every problem by row; a clean file is then imported (step=import), whole, once."""
    system = request.form.get("system", "2023") if kind == "opening" else None
    lock = request.form.get("lock", "1") == "1" if request.method == "POST" else True
    errors: dict = {}
    check, content, filename, header = None, b"", "", None
    mapping = {f: request.form[f"map_{f}"] for f in chart_import.MAPPABLE[kind] if request.form.get(f"map_{f}")}
    if request.method == "POST":
        content, filename = carried_upload()

        def check_and_import():
            sheet, key = chart_import.sheet_from(content, kind, org, mapping or None)
            check = (chart_import.check_chart(org, sheet, key) if kind == "chart" else
                     chart_import.check_opening(org, sheet, system=system, key=key, lock=lock))
            if check.ok and request.form.get("step") == "import":
                if kind == "chart":
                    chart_import.import_chart(org, sheet, user=current_user, key=key)
                else:
                    chart_import.import_opening(org, sheet, user=current_user, key=key, system=system, lock=lock)
                return check, True
            return check, False

        done = submit(None, check_and_import)
        if done.ok:
            check, imported = done.result
            if imported:
                flash(gettext("已导入 %(n)s 行", n=len(check.items)), "success")
                return redirect(url_for("setup.progress"))
        else:
            errors = done.errors or {"file": [done.message]}
            header = getattr(done.error, "header", None)  # columns not recognised: the page asks which is which
    status = 422 if errors or (check is not None and not check.ok) else 200
    carry = (check is not None and check.ok) or bool(header)
    return render_template(
        "setup/import.html", org=org, kind=kind, check=check, errors=errors, filename=filename, system=system,
        lock=lock, data=base64.b64encode(content).decode() if carry else "", header=header, mapping=mapping,
        mappable=chart_import.MAPPABLE[kind], labels={f: names[0] for f, names in chart_import.COLUMN_ALIASES.items()}
    ), status


@bp.route("/o/<int:org_id>/import/chart", methods=["GET", "POST"])
def chart():
    return _import_page(load_org(access.MANAGE_ACCOUNTS), "chart")


@bp.route("/o/<int:org_id>/import/opening", methods=["GET", "POST"])
def opening():
    return _import_page(load_org(access.MANAGE_ACCOUNTS), "opening")




@bp.route("/o/<int:org_id>/import/chart-template.xlsx", defaults={"kind": "chart"}, endpoint="chart_template")
@bp.route("/o/<int:org_id>/import/opening-template.xlsx", defaults={"kind": "opening"}, endpoint="opening_template")
def template(kind: str):
    org = load_org(access.MANAGE_ACCOUNTS)
    name = {"chart": "明细科目导入模板", "opening": "期初余额导入模板"}[kind]
    return send_file(io.BytesIO(chart_import.template_xlsx(kind, org)), mimetype=XLSX_MIME, as_attachment=True,
                     download_name=f"{name}.xlsx")


@bp.route("/o/<int:org_id>/portal-accounts", methods=["GET", "POST"])
def portal():
    """Open member accounts (household heads, or the members ticked) and download the 开通通知书 at once: the
    one-time passwords exist only in this response."""
    org = load_org(access.MANAGE_MEMBERS)
    errors: dict = {}
    if request.method == "POST":
        # an id that cannot be one is refused as not found (-1), not dropped: none left would open every head's
        ids = [int(v) if v.isdecimal() and int(v) < 2**31 else -1 for v in request.form.getlist("member_id")]
        pdf, errors, _ = submit(None, lambda: portal_letters.letters_pdf(
            org, portal_accounts.open_accounts(org, user=current_user, member_ids=ids or None)))
        if not errors:
            return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                             download_name=portal_letters.letters_filename(org))
    return render_template("setup/portal_accounts.html", org=org, candidates=portal_accounts.candidates(org),
                           username_for=portal_accounts.username_for, errors=errors), 422 if errors else 200
