"""三资台账 pages (RULES §14): /o/<org_id>/sanzi/…

The register (contracts with their ageing, asset cards with the reconciliation to the ledger, parcels by kind and
status, the 三资 warnings), a contract with its schedule, forms to register contracts, assets and parcels, and the
month-end actions (accruals, depreciation). Forms load the same schemas as the API and call the same services.
"""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coop.core import clock
from coop.documents import assets as documents
from coop.ledger import assets as calc
from coop.models.assets import (ASSET_CATEGORIES, ASSET_SOURCES, ASSET_STATUSES, ASSET_USES, CONTRACT_KINDS,
                             CONTRACT_STATUSES, DEMOCRATIC_KINDS, DEPRECIATION_METHODS, FREQUENCY_LABELS, PARCEL_KINDS,
                             PARCEL_STATUSES, ContractStatus)
from coop.reports.xlsx import render_xlsx
from coop.schemas.assets import (AccrualInSchema, AssetInSchema, ContractInSchema, DepreciationInSchema, ParcelInSchema,
                              RentReceiptInSchema, WorkloadsInSchema)
from coop.services import access, sanzi as service
from coop.web.forms import form_input, submit
from coop.web.orgs import load_org

bp = Blueprint("assets", __name__)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a signed-in user."""


def _ctx(org, **kw) -> dict:
    return dict(org=org, prepare=access.can(current_user, access.PREPARE, org), contract_kinds=CONTRACT_KINDS,
                contract_statuses=CONTRACT_STATUSES, frequencies=FREQUENCY_LABELS, categories=ASSET_CATEGORIES,
                asset_statuses=ASSET_STATUSES, asset_uses=ASSET_USES, asset_sources=ASSET_SOURCES,
                parcel_kinds=PARCEL_KINDS, parcel_statuses=PARCEL_STATUSES, democratic_kinds=DEMOCRATIC_KINDS,
                methods=DEPRECIATION_METHODS, qty=_qty,
                buckets=[b[0] for b in calc.AGEING_BUCKETS], **kw)


def _qty(d, grouped: bool = False) -> str:
    """A workload without trailing zeros (570, 120.5), grouped for reading (10,000) or plain for an input."""
    if d is None:
        return ""
    d = d.normalize()
    return f"{d:,f}" if grouped else f"{d:f}"


@bp.route("/o/<int:org_id>/sanzi/")
def index():
    """三资台账: contracts, asset cards, parcels, the ageing, the reconciliation and the 三资 warnings."""
    org = load_org()
    today = clock.today()
    return render_template(
        "assets/index.html", **_ctx(org, today=today, contracts=service.list_contracts(org),
                                    assets=[(a, service.accumulated(a), service.used_workload(a))
                                            for a in service.list_assets(org)],
                                    parcels=service.list_parcels(org), summary=service.resource_summary(org),
                                    ageing=service.ageing(org, today), reconciliation=service.reconcile(org, today),
                                    warnings=service.warnings(org, today)))


@bp.route("/o/<int:org_id>/sanzi/contracts/new", methods=["GET", "POST"])
def contract_new():
    org = load_org(access.PREPARE)
    errors, status = {}, 200
    if request.method == "POST":
        c, errors, status = submit(ContractInSchema(), lambda d: service.create_contract(org, d, user=current_user))
        if c is not None:
            flash(gettext("合同已登记（草稿），核对收款计划后生效"), "success")
            return redirect(url_for("assets.contract_detail", contract_id=c.id))
    return render_template("assets/contract_form.html", **_ctx(org, errors=errors, form=request.form)), status


@bp.route("/o/<int:org_id>/sanzi/contracts/<int:contract_id>")
def contract_detail(contract_id: int):
    org = load_org()
    c = service.get_contract(org, contract_id)
    preview = service.contract_schedule(c) if c.status == ContractStatus.DRAFT else None
    return render_template("assets/contract.html", **_ctx(org, c=c, shown=service.contract_shown(c, current_user),
                                                          preview=preview, errors={}, form={}))


@bp.route("/o/<int:org_id>/sanzi/contracts/<int:contract_id>/activate", methods=["POST"])
def contract_activate(contract_id: int):
    org = load_org(access.PREPARE)
    c = service.get_contract(org, contract_id)
    _, errors, _ = submit(AccrualInSchema(), lambda d: service.activate_contract(c, user=current_user), data={})
    flash(errors.get("_schema", [gettext("合同已生效，收款计划已确定")])[0], "error" if errors else "success")
    return redirect(url_for("assets.contract_detail", contract_id=c.id))


@bp.route("/o/<int:org_id>/sanzi/contracts/<int:contract_id>/receipts", methods=["POST"])
def contract_receipt(contract_id: int):
    org = load_org(access.PREPARE)
    c = service.get_contract(org, contract_id)
    r, errors, status = submit(RentReceiptInSchema(), lambda d: service.record_receipt(c, user=current_user, **d))
    if r is not None:
        flash(gettext("收款已登记，凭证草稿待审核"), "success")
        return redirect(url_for("assets.contract_detail", contract_id=c.id))
    return render_template("assets/contract.html", **_ctx(org, c=c, shown=service.contract_shown(c, current_user),
                                                          preview=None, errors=errors, form=request.form)), status


@bp.route("/o/<int:org_id>/sanzi/accruals", methods=["POST"])
def accrue():
    org = load_org(access.PREPARE)
    vs, errors, _ = submit(AccrualInSchema(), lambda d: service.accrue_due(org, on=d.get("on"), user=current_user))
    if errors:
        flash(next(iter(errors.values()))[0], "error")
    else:
        flash(gettext("已生成 %(n)s 张应收凭证草稿", n=len(vs)), "success")
    return redirect(url_for("assets.index"))


@bp.route("/o/<int:org_id>/sanzi/depreciation", methods=["POST"])
def depreciate():
    org = load_org(access.PREPARE)
    run, errors, _ = submit(DepreciationInSchema(),
                            lambda d: service.depreciate_month(org, d["year"], d["month"], current_user),
                            data=form_input(request.form, skip=("csrf_token", "action", "back")))
    if errors:
        flash(next(iter(errors.values()))[0], "error")
    elif run is None:
        flash(gettext("本月没有需要计提折旧的资产"), "success")
    else:
        flash(gettext("%(y)s年%(m)s月折旧 %(t)s 元，凭证草稿待审核", y=run.year, m=run.month, t=f"{run.total:,.2f}"),
              "success")
    if request.form.get("back") == "month" and not errors:  # run from the month's page: back to it
        return redirect(url_for("assets.depreciation_month", year=run.year if run else int(request.form["year"]),
                                month=run.month if run else int(request.form["month"])))
    return redirect(url_for("assets.index"))


@bp.route("/o/<int:org_id>/sanzi/depreciation/<int:year>/<int:month>", methods=["GET", "POST"])
def depreciation_month(year: int, month: int):
    """A month's depreciation: the 工作量法 assets' actual workloads entered all at once, what the run would charge
    (or, once run, what it charged), the assets still without a workload, and the run itself."""
    org = load_org()
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        abort(404)
    errors, status = {}, 200
    if request.method == "POST":
        org = load_org(access.PREPARE)
        ids = [int(k.split("-", 1)[1]) for k in request.form if k.startswith("workload-") and k[9:].isdigit()]
        ids = [i for i in ids if request.form[f"workload-{i}"].strip()]
        data = {"year": year, "month": month,
                "workloads": [{"asset_id": i, "quantity": request.form[f"workload-{i}"].strip()} for i in ids]}
        done = submit(WorkloadsInSchema(), lambda d: service.record_workloads(org, year, month, d["workloads"],
                                                                              user=current_user), data=data)
        if done.ok:
            flash(gettext("已登记 %(n)s 项工作量", n=done.result), "success")
            return redirect(url_for("assets.depreciation_month", year=year, month=month))
        status = done.status
        for key, messages in done.errors.items():  # "workloads.2.quantity" → beside the input of that asset
            parts = key.split(".")
            if len(parts) >= 2 and parts[0] == "workloads" and parts[1].isdigit() and int(parts[1]) < len(ids):
                key = f"workload-{ids[int(parts[1])]}"
            elif key in ("year", "month", "workloads"):
                key = "_schema"
            errors.setdefault(key, []).extend(messages)
    sheet = service.depreciation_sheet(org, year, month)
    prev_y, prev_m = (year - 1, 12) if month == 1 else (year, month - 1)
    next_y, next_m = (year + 1, 1) if month == 12 else (year, month + 1)
    return render_template("assets/depreciation.html", **_ctx(
        org, year=year, month=month, sheet=sheet, errors=errors, form=request.form if errors else {},
        prev=(prev_y, prev_m), next=(next_y, next_m))), status


@bp.route("/o/<int:org_id>/sanzi/assets/new", methods=["GET", "POST"])
def asset_new():
    org = load_org(access.PREPARE)
    errors, status = {}, 200
    if request.method == "POST":
        def action(d):
            voucher_id = d.pop("voucher_id", None)
            voucher = None
            if voucher_id:
                from coop.services.vouchers import get_voucher

                voucher = get_voucher(org, voucher_id)
            return service.register_asset(org, d, user=current_user, voucher=voucher)

        a, errors, status = submit(AssetInSchema(), action)
        if a is not None:
            flash(gettext("资产卡片已登记"), "success")
            return redirect(url_for("assets.index"))
    return render_template("assets/asset_form.html", **_ctx(org, errors=errors, form=request.form)), status


@bp.route("/o/<int:org_id>/sanzi/parcels/new", methods=["GET", "POST"])
def parcel_new():
    org = load_org(access.PREPARE)
    errors, status = {}, 200
    if request.method == "POST":
        p, errors, status = submit(ParcelInSchema(), lambda d: service.register_parcel(org, d, user=current_user))
        if p is not None:
            flash(gettext("地块已登记"), "success")
            return redirect(url_for("assets.index"))
    return render_template("assets/parcel_form.html", **_ctx(org, errors=errors, form=request.form)), status


EXPORTS = {"contracts": documents.contracts_table, "assets": documents.assets_table,
           "parcels": documents.parcels_table}


@bp.route("/o/<int:org_id>/sanzi/<kind>.<fmt>")
def export(kind: str, fmt: str):
    """合同, 资产 or 资源台账 as xlsx or PDF."""
    org = load_org()
    if kind not in EXPORTS or fmt not in ("xlsx", "pdf"):
        abort(404)
    t = EXPORTS[kind](org, clock.today())
    if fmt == "pdf":
        from coop.reports.pdf import render_pdf

        t.landscape = True
        return send_file(io.BytesIO(render_pdf(t)), mimetype="application/pdf",
                         download_name=f"{t.title}-{org.name}.pdf")
    return send_file(io.BytesIO(render_xlsx(t)), mimetype=XLSX_MIME, as_attachment=True,
                     download_name=f"{t.title}-{org.name}.xlsx")


@bp.route("/o/<int:org_id>/sanzi/import", methods=["GET", "POST"])
def import_page():
    """Import contracts, asset cards or parcels from xlsx: 检查 (dry run) first, then 导入."""
    from coop.core.errors import ValidationFailed

    org = load_org(access.PREPARE)
    errors, status, result = {}, 200, None
    if request.method == "POST":
        kind = request.form.get("kind", "")
        f = request.files.get("file")

        def run():
            if f is None or not f.filename:
                raise ValidationFailed.field("file", gettext("请选择 xlsx 文件"))
            return service.import_register(org, kind, f.read(), user=current_user,
                                           dry_run=request.form.get("action") != "import")

        done = submit(None, run)
        if not done.ok:
            errors, status = dict(done.error.errors), done.status  # nested: the template lists them row by row
        elif not done.result.dry_run:
            flash(gettext("已导入 %(n)s 行", n=done.result.rows), "success")
            return redirect(url_for("assets.index"))
        result = done.result
    return render_template("assets/import.html", **_ctx(org, errors=errors, result=result, form=request.form,
                                                        columns=service.IMPORT_COLUMNS)), status


# ---------------------------------------------------------------- year-end inventory (清产核资)


@bp.route("/o/<int:org_id>/sanzi/inventory/<int:year>", methods=["GET", "POST"])
def inventory(year: int):
    """年度资产清查: start the list, record each item's count, post 盘盈/盘亏 through 181, publish (≥ 7 days)."""
    from coop.core.errors import NotFound, ValidationFailed
    from coop.models.assets import COUNT_RESULTS
    from coop.core.money import parse_amount

    org = load_org()
    errors, status = {}, 200
    if request.method == "POST":
        org = load_org(access.PREPARE)
        action = request.form.get("action", "")

        def run():
            try:
                if action == "start":
                    service.start_inventory(org, year, user=current_user)
                    return
                inv = service.get_inventory(org, year)
                if action == "count":
                    for item in inv.items:
                        result = request.form.get(f"result-{item.id}") or None
                        if result and result != item.result:
                            value = request.form.get(f"value-{item.id}", "").strip()
                            service.count_item(item, result=result, user=current_user,
                                               counted_value=parse_amount(value) if value else None)
                elif action == "post":
                    service.post_inventory(inv, user=current_user)
                elif action == "publish":
                    import datetime as dt

                    service.publish_inventory(inv, user=current_user,
                                              publish_from=dt.date.fromisoformat(request.form["publish_from"]),
                                              publish_until=dt.date.fromisoformat(request.form["publish_until"]))
                else:
                    abort(400)
            except (ValueError, KeyError):
                raise ValidationFailed(gettext("日期格式应为 YYYY-MM-DD"))

        done = submit(None, run)
        if done.ok:
            return redirect(url_for("assets.inventory", year=year))
        errors, status = dict(done.error.errors), done.status
    try:
        inv = service.get_inventory(org, year)
    except NotFound:
        inv = None
    return render_template("assets/inventory.html", **_ctx(org, year=year, inv=inv, errors=errors,
                                                           results=COUNT_RESULTS)), status
