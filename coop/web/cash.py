"""报账, 出纳 and the bank pages (RULES §15), under /o/<org_id>/cash/…: spending requests and their approval steps,
the 现金/银行日记账 with cash counts, bank accounts, statement import, matching and the 余额调节表, 分红代发 batches;
the county's spending policy under /county/spending-policy.

Forms load the same schemas as the API and call the same services; errors are shown beside their fields and
nothing is written when anything is refused.
"""
from __future__ import annotations

import datetime as dt
import io

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coop.documents import cash as docs
from coop.reports.pdf import render_pdf
from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.ledger.roles import EXPENSE_ROLES, ROLE_BY_KEY
from coop.models import County, DistributionPlan, Household, Voucher
from coop.models.cash import ITEM_STATUSES, PAYOUT_STATUSES, REQUEST_STATUSES, STEPS, SpendingScan
from coop.models.distribution import PlanStatus
from coop.models.ledger import VoucherStatus
from coop.schemas.cash import (BankAccountInSchema, CashCountInSchema, SpendingDecisionInSchema, HouseholdAccountInSchema,
                            ManualMatchInSchema, PayoutInSchema, SpendingPolicyInSchema, SpendingRequestInSchema,
                            StatementImportInSchema, SpendingVoucherInSchema)
from coop.services import access, bank, cashier, payout, roles as role_service, spending, vouchers
from coop.core import clock
from coop.web.forms import submit
from coop.web.loans import XLSX_MIME, user_names
from coop.web.orgs import load_org

bp = Blueprint("cash", __name__)


@bp.before_request
@login_required
def _require_login():
    """Every page here needs a signed-in user."""


def _ctx(org, **kw) -> dict:
    return dict(org=org, steps=STEPS, request_statuses=REQUEST_STATUSES, payout_statuses=PAYOUT_STATUSES,
                item_statuses=ITEM_STATUSES, categories=[(k, ROLE_BY_KEY[k].label) for k in EXPENSE_ROLES],
                can_request=access.can(current_user, access.SPEND_REQUEST, org),
                can_prepare=access.can(current_user, access.PREPARE, org),
                can_cash=access.can(current_user, access.CASHIER, org), **kw)


def _month_arg() -> tuple[int, int]:
    text = request.args.get("month") or clock.today().strftime("%Y-%m")
    try:
        y, m = (int(x) for x in text.split("-"))
        dt.date(y, m, 1)
    except ValueError:
        abort(404)
    return y, m


# ---------------------------------------------------------------- 报账


@bp.route("/o/<int:org_id>/cash/")
def index():
    """报账单 list (with the step each one waits for)."""
    org = load_org()
    items = spending.list_requests(org)
    return render_template("cash/index.html", **_ctx(org, items=items, next_step={r.id: spending.next_step(r) for r in items}))


@bp.route("/o/<int:org_id>/cash/requests/new", methods=["GET", "POST"])
def request_new():
    org = load_org(access.SPEND_REQUEST)
    errors, status = {}, 200
    if request.method == "POST":
        scans = [(f.filename, f.mimetype, f.read()) for f in request.files.getlist("scans") if f and f.filename]
        data = {k: v.strip() for k, v in request.form.items() if k not in ("csrf_token",) and v.strip()}
        data["payee_personal"] = "payee_personal" in request.form
        req, errors, status = submit(SpendingRequestInSchema(), lambda d: spending.file_request(
            org, user=current_user, scans=scans, **d), data)
        if not errors:
            flash(gettext("报账单已提交"), "success")
            return redirect(url_for("cash.request_detail", request_id=req.id))
    return render_template("cash/request_form.html", **_ctx(org, errors=errors, form=request.form)), status


def _render_request(org, req, errors=None, status=200):
    return render_template("cash/request.html", **_ctx(
        org, req=req, next=spending.next_step(req), errors=errors or {}, form=request.form if errors else {},
        money_leaves=role_service.money_leaves(org), today=clock.today(),
        voucher=db.session.get(Voucher, req.voucher_id) if req.voucher_id else None,
        names=user_names(*(a.user_id for a in req.approvals)))), status


@bp.route("/o/<int:org_id>/cash/requests/<int:request_id>")
def request_detail(request_id: int):
    org = load_org()
    return _render_request(org, spending.get_request(org, request_id))


@bp.route("/o/<int:org_id>/cash/requests/<int:request_id>.pdf")
def request_pdf(request_id: int):
    """村级财务支出审批单 as PDF, to print and file with the voucher."""
    org = load_org()
    req = spending.get_request(org, request_id)
    t = docs.request_table(req, user_names(*(a.user_id for a in req.approvals)))
    return send_file(io.BytesIO(render_pdf(t)), mimetype="application/pdf", download_name=f"{t.filename}.pdf")


@bp.route("/o/<int:org_id>/cash/requests/<int:request_id>/decide", methods=["POST"])
def request_decide(request_id: int):
    org = load_org()
    req = spending.get_request(org, request_id)
    _, errors, status = submit(SpendingDecisionInSchema(), lambda d: spending.decide(req, user=current_user, **d))
    if errors:
        return _render_request(org, spending.get_request(org, request_id), errors, status)
    flash(gettext("已记录审批意见"), "success")
    return redirect(url_for("cash.request_detail", request_id=req.id))


@bp.route("/o/<int:org_id>/cash/requests/<int:request_id>/voucher", methods=["POST"])
def request_voucher(request_id: int):
    org = load_org(access.PREPARE)
    req = spending.get_request(org, request_id)
    v, errors, status = submit(SpendingVoucherInSchema(), lambda d: spending.to_voucher(req, user=current_user, **d))
    if errors:
        return _render_request(org, spending.get_request(org, request_id), errors, status)
    flash(gettext("已生成凭证草稿"), "success")
    return redirect(url_for("ledger.voucher_detail", voucher_id=v.id))


@bp.route("/o/<int:org_id>/cash/scans/<int:scan_id>")
def scan_download(scan_id: int):
    org = load_org()
    scan = db.session.get(SpendingScan, scan_id)
    if scan is None or scan.request.organization_id != org.id:
        abort(404)
    return send_file(io.BytesIO(spending.scan_bytes(scan)), mimetype=scan.content_type, download_name=scan.filename)


# ---------------------------------------------------------------- 出纳: journals and cash counts


@bp.route("/o/<int:org_id>/cash/journal")
def journal(errors=None, status=200):
    """现金日记账 / 银行日记账 of one leaf and month, and the cash counts."""
    org = load_org()
    leaves = role_service.money_leaves(org)
    if not leaves:
        abort(404)
    code = request.args.get("code") or leaves[0][0]
    if code not in dict(leaves):
        abort(404)
    y, m = _month_arg()
    return render_template("cash/journal.html", **_ctx(
        org, j=cashier.journal(org, code, y, m), leaves=leaves, code=code, month=f"{y:04d}-{m:02d}",
        counts=cashier.counts(org), unsigned=cashier.awaiting_signature(org), errors=errors or {},
        form=request.form if errors else {},
        today=clock.today())), status


@bp.route("/o/<int:org_id>/cash/counts", methods=["POST"])
def count_new():
    org = load_org(access.CASHIER)
    row, errors, status = submit(CashCountInSchema(), lambda d: cashier.record_count(org, user=current_user, **d))
    if errors:
        return journal(errors, status)
    flash(gettext("盘点已记录"), "success" if row.difference == 0 else "error")
    return redirect(url_for("cash.journal", code=row.account_code))


@bp.app_template_global("cashier_signature")
def cashier_signature(voucher_id: int) -> str:
    """The 出纳 who signed the voucher ('' until signed), for the voucher page."""
    return cashier.cashier_name(voucher_id)


@bp.app_template_global("cashier_may_sign")
def cashier_may_sign(org, v) -> bool:
    return (v.status in (VoucherStatus.REVIEWED, VoucherStatus.POSTED)
            and "cashier" in access.roles_on(current_user, org) and cashier.moves_money(org, v))


@bp.route("/o/<int:org_id>/cash/sign/<int:voucher_id>", methods=["POST"])
def sign(voucher_id: int):
    org = load_org()
    v = vouchers.get_voucher(org, voucher_id)
    _, errors, _status = submit(None, lambda: cashier.sign(v, user=current_user))
    for messages in errors.values():
        for msg in messages:
            flash(msg, "error")
    if not errors:
        flash(gettext("出纳已签字"), "success")
    return redirect(url_for("ledger.voucher_detail", voucher_id=v.id))


# ---------------------------------------------------------------- the bank


def _render_bank(org, errors=None, status=200, preview=None):
    accounts = {a.account_code: a for a in db.session.scalars(sa.select(bank.BankAccount).where(
        bank.BankAccount.organization_id == org.id))}
    code = request.values.get("account_code") or next(iter(accounts), None)
    left_bank, left_book = bank.unmatched(org, code) if code in accounts else ([], [])
    y, m = _month_arg()
    return render_template("cash/bank.html", **_ctx(
        org, leaves=bank.bank_leaves(org), accounts=accounts, code=code, statements=bank.statements(org),
        left_bank=left_bank, left_book=left_book, month=f"{y:04d}-{m:02d}", preview=preview,
        mapping=bank.remembered_mapping(org, accounts[code].bank_name) if code in accounts else {},
        errors=errors or {}, form=request.form if errors or preview else {})), status


@bp.route("/o/<int:org_id>/cash/bank")
def bank_page():
    org = load_org()
    return _render_bank(org)


@bp.route("/o/<int:org_id>/cash/bank/accounts", methods=["POST"])
def bank_account():
    org = load_org(access.CASHIER)
    data = {k: v.strip() for k, v in request.form.items() if k != "csrf_token" and v.strip()}
    data["personal"] = "personal" in request.form
    _, errors, status = submit(BankAccountInSchema(), lambda d: bank.set_account(org, user=current_user, **d), data)
    if errors:
        return _render_bank(org, errors, status)
    flash(gettext("已登记开户银行"), "success")
    return redirect(url_for("cash.bank_page", account_code=data.get("account_code")))


@bp.route("/o/<int:org_id>/cash/bank/import", methods=["POST"])
def statement_import():
    org = load_org(access.CASHIER)
    upload = request.files.get("file")
    data = {k: v.strip() for k, v in request.form.items() if k not in ("csrf_token",)}
    data["dry_run"] = "dry_run" in request.form
    if not data.get("closing_balance"):
        data.pop("closing_balance", None)

    def run(d):
        if upload is None or not upload.filename:
            raise ValidationFailed.field("file", "请选择对账单文件")
        mapping = {k: d.pop(k) for k in bank.FIELDS if k in d}
        return bank.import_statement(org, user=current_user, filename=upload.filename, data=upload.read(),
                                     mapping=mapping, **d)
    result, errors, status = submit(StatementImportInSchema(), run, data)
    if errors:
        return _render_bank(org, errors, status)
    if result.statement is None:
        db.session.rollback()  # a dry run keeps nothing it looked at; the boundary would commit this 200
        return _render_bank(org, preview=result)
    flash(gettext("已导入 %(n)s 笔对账单明细", n=len(result.lines)), "success")
    return redirect(url_for("cash.bank_page", account_code=result.statement.account_code))


@bp.route("/o/<int:org_id>/cash/bank/<code>/match", methods=["POST"])
def match_auto(code: str):
    org = load_org(access.CASHIER)
    n, errors, status = submit(None, lambda: bank.auto_match(org, code, user=current_user))
    if errors:
        return _render_bank(org, errors, status)
    flash(gettext("自动勾对 %(n)s 笔", n=n), "success")
    return redirect(url_for("cash.bank_page", account_code=code))


@bp.route("/o/<int:org_id>/cash/bank/manual-match", methods=["POST"])
def match_manual():
    org = load_org(access.CASHIER)
    _, errors, status = submit(ManualMatchInSchema(), lambda d: bank.manual_match(org, user=current_user, **d))
    if errors:
        return _render_bank(org, errors, status)
    flash(gettext("已勾对"), "success")
    return redirect(url_for("cash.bank_page", account_code=request.form.get("account_code")))


@bp.route("/o/<int:org_id>/cash/bank/<code>/<int:year>/<int:month>")
def reconciliation(code: str, year: int, month: int):
    """银行存款余额调节表 (page, ?format=pdf or xlsx)."""
    org = load_org()
    if not 1 <= month <= 12 or not 1990 <= year <= 2100 or code not in dict(bank.bank_leaves(org)):
        abort(404)  # a year the calendar cannot hold would be a 500 further down
    try:
        t = docs.reconciliation_table(org, code, year, month)
    except ValidationFailed as exc:
        return render_template("cash/reconciliation.html", **_ctx(org, t=None, error=exc.message, code=code,
                                                                   year=year, month=month, saved=None)), 404
    fmt = request.args.get("format")
    if fmt == "pdf":
        return send_file(io.BytesIO(docs.reconciliation_pdf(org, code, year, month)), mimetype="application/pdf",
                         download_name=f"{t.filename}.pdf")
    if fmt == "xlsx":
        return send_file(io.BytesIO(docs.reconciliation_xlsx(org, code, year, month)), mimetype=XLSX_MIME,
                         as_attachment=True, download_name=f"{t.filename}.xlsx")
    return render_template("cash/reconciliation.html", **_ctx(org, t=t, error=None, code=code, year=year, month=month,
                                                               saved=bank.saved(org, code, year, month)))


@bp.route("/o/<int:org_id>/cash/bank/<code>/<int:year>/<int:month>/final", methods=["POST"])
def reconciliation_save(code: str, year: int, month: int):
    org = load_org(access.CASHIER)
    if not 1 <= month <= 12 or not 1990 <= year <= 2100:
        abort(404)
    _, errors, status = submit(None, lambda: bank.save_final(org, code, year, month, user=current_user))
    if errors:
        for messages in errors.values():
            for msg in messages:
                flash(msg, "error")
    else:
        flash(gettext("余额调节表已定稿"), "success")
    return redirect(url_for("cash.reconciliation", code=code, year=year, month=month))


# ---------------------------------------------------------------- 分红代发


def _render_payouts(org, errors=None, status=200):
    plans = list(db.session.scalars(sa.select(DistributionPlan).where(
        DistributionPlan.organization_id == org.id,
        DistributionPlan.status == PlanStatus.POSTED).order_by(DistributionPlan.year)))
    households = list(db.session.scalars(sa.select(Household).where(Household.organization_id == org.id,
                                                                    Household.active.is_(True)).order_by(Household.number)))
    return render_template("cash/payouts.html", **_ctx(
        org, batches=payout.batches(org), plans=plans, households=households,
        bank_leaves=bank.bank_leaves(org), errors=errors or {}, form=request.form if errors else {},
        today=clock.today())), status


@bp.route("/o/<int:org_id>/cash/payouts")
def payouts():
    org = load_org()
    return _render_payouts(org)


@bp.route("/o/<int:org_id>/cash/payouts/accounts", methods=["POST"])
def payout_account():
    org = load_org(access.CASHIER)
    _, errors, status = submit(HouseholdAccountInSchema(), lambda d: payout.set_household_account(
        org, user=current_user, **d))
    if errors:
        return _render_payouts(org, errors, status)
    flash(gettext("已登记银行卡号"), "success")
    return redirect(url_for("cash.payouts"))


@bp.route("/o/<int:org_id>/cash/payouts/new", methods=["POST"])
def payout_new():
    org = load_org(access.CASHIER)
    batch, errors, status = submit(PayoutInSchema(), lambda d: payout.create_batch(org, user=current_user, **d))
    if errors:
        return _render_payouts(org, errors, status)
    flash(gettext("已生成代发批次，请下载代发文件交银行"), "success")
    return redirect(url_for("cash.payouts"))


@bp.route("/o/<int:org_id>/cash/payouts/<int:batch_id>/file")
def payout_file(batch_id: int):
    org = load_org(access.CASHIER)
    batch = payout.get_batch(org, batch_id)
    rows = payout.batch_rows(batch, user=current_user)  # audit-logged, committed with the download
    return send_file(io.BytesIO(docs.batch_xlsx(rows)), mimetype=XLSX_MIME, as_attachment=True,
                     download_name=f"分红代发-{batch.id}.xlsx")


@bp.route("/o/<int:org_id>/cash/payouts/<int:batch_id>/result", methods=["POST"])
def payout_result(batch_id: int):
    org = load_org(access.CASHIER)
    batch = payout.get_batch(org, batch_id)
    upload = request.files.get("file")

    def run():
        if upload is None or not upload.filename:
            raise ValidationFailed.field("file", "请选择银行回盘文件")
        date = clock.today()
        return payout.import_result(batch, user=current_user, filename=upload.filename, data=upload.read(), date=date)
    v, errors, status = submit(None, run)
    if errors:
        return _render_payouts(org, {f"result_{batch_id}": sum(errors.values(), [])}, status)
    flash(gettext("已导入回盘文件"), "success")
    return redirect(url_for("ledger.voucher_detail", voucher_id=v.id) if v
                    else url_for("cash.payouts"))


@bp.route("/cash/queue")
def township_queue():
    """报账单 of the user's villages waiting for the township's 代理中心 审核 (township auditors; the county reads)."""
    if not (access.has_role_anywhere(current_user, "township_auditor")
            or access.has_role_anywhere(current_user, "county_admin")):
        abort(404)
    return render_template("cash/queue.html", items=spending.township_queue(current_user))


# ---------------------------------------------------------------- the county's policy


@bp.route("/county/spending-policy", methods=["GET", "POST"])
def policy():
    counties = access.administered_counties(current_user)
    if not counties:
        abort(404)
    county = db.session.get(County, counties[0])
    errors, status = {}, 200
    if request.method == "POST":
        data = {k: v.strip() for k, v in request.form.items() if k != "csrf_token" and v.strip()}
        data["township_review"] = "township_review" in request.form
        _, errors, status = submit(SpendingPolicyInSchema(), lambda d: spending.set_policy(
            county, user=current_user, **d), data)
        if not errors:
            flash(gettext("已保存报账审批设置"), "success")
            return redirect(url_for("cash.policy"))
    return render_template("cash/policy.html", county=county, p=spending.policy_of(county.id), errors=errors,
                           form=request.form if errors else {}), status
