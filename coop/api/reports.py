"""Reports as JSON (RULES §5); money is a string ("1234.50"). Every report also downloads as xlsx or PDF with
`?format=xlsx|pdf` or an `Accept` header, built from the same ReportTable as the web pages."""
from __future__ import annotations

import datetime as dt
import functools
import io

from flask import Response, jsonify, request, send_file
from flask_smorest import Blueprint
from marshmallow import RAISE

from coop.api.common import api_org
from coop.core.money import ZERO
from coop.ledger.types import Statement
from coop.reports import REPORTS, builders, caching, params
from coop.reports.pdf import render_pdf, render_voucher_pdf, voucher_filename
from coop.reports.xlsx import render_xlsx
from coop.schemas.reports import (DetailLedgerSchema, GeneralLedgerSchema, JournalSchema, StatementSchema,
                                  TrialBalanceSchema)
from coop.services import access
from coop.services import reports as data
from coop.services import vouchers

URL = "/orgs/<int:org_id>/reports"
blp = Blueprint("api_reports", __name__, description="报表 Reports: 科目余额表、总账、明细账、凭证序时簿、资产负债表、收益及收益分配表")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIME = "application/pdf"
BINARY = {"type": "string", "format": "binary"}


def downloads(view):
    """Documents the xlsx and PDF bodies a report returns for ?format= or Accept, beside its JSON."""
    text = "JSON；format=xlsx / pdf（或 Accept 相应类型）时为下载文件"
    view = blp.alt_response(200, schema=BINARY, content_type=XLSX_MIME, description=text, success=True)(view)
    return blp.alt_response(200, schema=BINARY, content_type=PDF_MIME, description=text, success=True)(view)


# ------------------------------------------------------------------ helpers


def _prepare(org_id: int, slug: str, args: dict):
    """The organization and resolved query, or the xlsx/PDF download when one is asked for."""
    org = api_org(org_id, access.READ_LEDGER)
    spec = REPORTS[slug]
    fmt = args.get("format") or _accepted_format()
    if fmt not in ("xlsx", "pdf"):
        # JSON: a client holding this very answer (If-None-Match) gets a 304, a repeat of unchanged books the
        # answer kept by `kept`
        if (answer := caching.not_modified(org) or caching.stored_json(org)) is not None:
            return org, None, answer
    q = params.resolve(org, args, needs_code=spec.needs_code)
    if fmt == "xlsx":
        t = spec.build(org, q)
        return org, q, send_file(io.BytesIO(render_xlsx(t)), mimetype=XLSX_MIME, as_attachment=True,
                                 download_name=f"{t.filename or t.title}.xlsx")
    if fmt == "pdf":
        def render():
            t = spec.build(org, q)
            return render_pdf(t), f"{t.filename or t.title}.pdf"
        data, name = caching.pdf(org, ("api", slug, q), render)  # per books version
        return org, q, send_file(io.BytesIO(data), mimetype=PDF_MIME, as_attachment=True, download_name=name)
    return org, q, None


def kept(schema_cls):
    """The report's JSON, dumped here as flask-smorest would, kept per books version (caching.keep_json) so a
    repeat request of unchanged books is answered by `_prepare` without building the report again."""
    schema = schema_cls()

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, org_id: int, **kwargs):
            result = view(*args, org_id=org_id, **kwargs)
            if isinstance(result, Response):  # a download or a 304
                return result
            response = jsonify(schema.dump(result))
            caching.keep_json(org_id, response)
            return response
        return wrapper
    return decorator


def _accepted_format() -> str:
    best = request.accept_mimetypes.best_match(["application/json", XLSX_MIME, PDF_MIME], default="application/json")
    return {XLSX_MIME: "xlsx", PDF_MIME: "pdf"}.get(best, "json")


def _period(q: params.ReportQuery) -> dict:
    return {"year": q.year, "month_from": q.month_from, "month_to": q.month_to, "label": q.label}


def _ledger_rows(rows: list[data.LedgerEntryRow]) -> list[dict]:
    return [{"kind": r.kind, "date": r.date, "voucher": r.voucher, "voucher_id": r.voucher_id, "summary": r.summary,
             "debit": r.debit, "credit": r.credit, "direction": builders.direction(r.balance), "balance": r.balance}
            for r in rows]


def _statement(st: Statement, q: params.ReportQuery, title: str) -> dict:
    return {"title": title, "period": _period(q), "columns": list(st.columns),
            "rows": [{"key": r.key, "label": r.label, "line_no": r.line_no, "kind": r.kind, "indent": r.indent,
                      "values": list(r.values)} for r in st.rows]}


# ------------------------------------------------------------------ endpoints


@blp.route("/trial-balance")
@blp.arguments(params.TrialBalanceArgsSchema, location="query", unknown=RAISE)
@blp.response(200, TrialBalanceSchema)
@kept(TrialBalanceSchema)
@downloads
def trial_balance(args, org_id: int):
    """科目余额表: 期初余额、本期发生额、本年累计和期末余额（借/贷），任意科目级次。"""
    org, q, download = _prepare(org_id, "trial-balance", args)
    if download:
        return download
    tb = data.trial_balance(org, q.year, q.month_from, q.month_to, counterparty=q.counterparty)
    rows = []
    for r in tb.rows:
        if q.level and r.level > q.level:
            continue
        od, oc = builders.split_balance(r.opening)
        cd, cc = builders.split_balance(r.closing)
        rows.append({"code": r.code, "name": r.name, "level": r.level, "is_leaf": r.is_leaf,
                     "opening_debit": od, "opening_credit": oc, "debit": r.debit, "credit": r.credit,
                     "ytd_debit": r.ytd_debit, "ytd_credit": r.ytd_credit, "closing_debit": cd, "closing_credit": cc})
    return {"period": _period(q), "counterparty": q.counterparty, "balanced": tb.balanced, "rows": rows,
            "totals": tb.totals}


@blp.route("/general-ledger")
@blp.arguments(params.GeneralLedgerArgsSchema, location="query", unknown=RAISE)
@blp.response(200, GeneralLedgerSchema)
@kept(GeneralLedgerSchema)
@downloads
def general_ledger(args, org_id: int):
    """总账: 期初、各月本月合计和本年累计；不给 code 时为所有有余额或发生额的一级科目。"""
    org, q, download = _prepare(org_id, "general-ledger", args)
    if download:
        return download
    names = builders.account_names(org)
    codes = builders.general_ledger_codes(org, q)
    ledgers = data.general_ledgers(org, codes, q.year, q.month_from, q.month_to)
    accounts = [{"code": code, "name": builders.full_name(code, names), "rows": _ledger_rows(ledgers[code])}
                for code in codes]
    return {"period": _period(q), "accounts": accounts}


@blp.route("/detail-ledger")
@blp.arguments(params.DetailLedgerArgsSchema, location="query", unknown=RAISE)
@blp.response(200, DetailLedgerSchema)
@kept(DetailLedgerSchema)
@downloads
def detail_ledger(args, org_id: int):
    """明细账: 一个科目（任意级次）逐笔登记，含余额、本月合计和本年累计；可按往来单位筛选。"""
    org, q, download = _prepare(org_id, "detail-ledger", args)
    if download:
        return download
    rows = data.detail_ledger(org, q.code, q.year, q.month_from, q.month_to, counterparty=q.counterparty)
    return {"code": q.code, "name": builders.full_name(q.code, builders.account_names(org)), "period": _period(q),
            "counterparty": q.counterparty, "rows": _ledger_rows(rows)}


@blp.route("/journal")
@blp.arguments(params.PeriodArgsSchema, location="query", unknown=RAISE)
@blp.response(200, JournalSchema)
@kept(JournalSchema)
@downloads
def journal(args, org_id: int):
    """凭证序时簿: 期间内已记账的凭证，按日期和凭证号排列。"""
    org, q, download = _prepare(org_id, "journal", args)
    if download:
        return download
    start = max(dt.date(q.year, q.month_from, 1), data.year_start(org, q.year))
    vs = data.journal(org, start, data.month_end(q.year, q.month_to))
    return {"period": _period(q), "vouchers": vs,
            "total_debit": sum((v.total_debit for v in vs), ZERO),
            "total_credit": sum((v.total_credit for v in vs), ZERO)}


@blp.route("/balance-sheet")
@blp.arguments(params.PeriodArgsSchema, location="query", unknown=RAISE)
@blp.response(200, StatementSchema)
@kept(StatementSchema)
@downloads
def balance_sheet(args, org_id: int):
    """资产负债表: 年初余额与期末余额（期间截止月的月末）。"""
    org, q, download = _prepare(org_id, "balance-sheet", args)
    if download:
        return download
    return _statement(data.balance_sheet(org, q.year, q.month_to), q, "资产负债表")


@blp.route("/income-statement")
@blp.arguments(params.PeriodArgsSchema, location="query", unknown=RAISE)
@blp.response(200, StatementSchema)
@kept(StatementSchema)
@downloads
def income_statement(args, org_id: int):
    """收益及收益分配表: 本期金额与本年累计（不含年末结转凭证）。"""
    org, q, download = _prepare(org_id, "income-statement", args)
    if download:
        return download
    return _statement(data.income_statement(org, q.year, q.month_from, q.month_to), q, "收益及收益分配表")


@blp.route("/vouchers/<int:voucher_id>.pdf")
@blp.response(200, description="记账凭证 PDF", content_type=PDF_MIME)
@blp.alt_response(200, schema=BINARY, content_type=PDF_MIME, description="记账凭证 PDF", success=True)
def voucher_pdf(org_id: int, voucher_id: int):
    """打印记账凭证（PDF）。"""
    org = api_org(org_id, access.READ_LEDGER)
    v = vouchers.get_voucher(org, voucher_id)
    return send_file(io.BytesIO(render_voucher_pdf(org, v)), mimetype=PDF_MIME, download_name=voucher_filename(v))
