"""报账, 出纳 and the bank over the API (RULES §15).

/orgs/<org_id>/spending-requests…   file (scans base64), list, read, decide a step, turn into a voucher draft;
/orgs/<org_id>/cash-journal         现金/银行日记账 of a leaf and month; /cash-counts records a count;
/orgs/<org_id>/bank-reconciliation  the month's 调节表 and …/final; /bank-statements imports; /bank-matches 勾对;
/orgs/<org_id>/payout-batches       分红代发 batches and the bank's result (base64); the batch file itself, with
                                    full ID numbers, is downloaded from the web page only.
Money is a string; every refusal is a 4xx naming the field, with nothing written.
"""
from __future__ import annotations

import base64
import binascii

from flask_smorest import Blueprint

from coop.core import clock
from coop.core.errors import ValidationFailed
from coop.models.cash import RequestStatus
from coop.schemas.cash import (AutoMatchSchema, BankMatchInSchema, CashCountInSchema, CashCountSchema,
                            CashJournalQuerySchema, CashJournalSchema, PayoutBatchSchema, PayoutInSchema,
                            PayoutResultInSchema, ReconciliationInSchema, BankReconciliationSchema,
                            SpendingDecisionInSchema, SpendingRequestApiInSchema, SpendingRequestSchema,
                            SpendingVoucherInSchema, StatementImportApiInSchema, StatementImportSchema)
from coop.services import access, bank, cashier, payout, spending
from coop.api.common import api_org, current_api_user, requires

URL = ""
blp = Blueprint("api_cash", __name__, description="报账/出纳 Spending approval, cash and bank journals, reconciliation")


def _request_out(r) -> dict:
    out = {k: getattr(r, k) for k in ("id", "organization_id", "requester_id", "handler", "purpose", "payee",
                                      "payee_personal", "amount", "category", "spent_on", "status", "voucher_id",
                                      "steps", "approvals")}
    out.update(next_step=spending.next_step(r) if r.status == RequestStatus.PENDING else None,
               scans=[s.filename for s in r.scans])
    return out


def _month(text: str) -> tuple[int, int]:
    y, m = text.split("-")
    return int(y), int(m)


@blp.route("/orgs/<int:org_id>/spending-requests")
@blp.response(200, SpendingRequestSchema(many=True))
def list_requests(org_id: int):
    """报账单, newest first."""
    return [_request_out(r) for r in spending.list_requests(api_org(org_id))]


@blp.route("/orgs/<int:org_id>/spending-requests", methods=["POST"])
@blp.arguments(SpendingRequestApiInSchema)
@blp.response(201, SpendingRequestSchema)
@requires(access.SPEND_REQUEST)
def file_request(data, org_id: int):
    """报账 with invoice/receipt scans (PDF, JPG or PNG, base64); the approval chain is fixed by the county's thresholds."""
    org = api_org(org_id, access.SPEND_REQUEST)
    scans = []
    for n, s in enumerate(data.pop("scans")):
        try:
            scans.append((s["filename"], s.get("content_type"), base64.b64decode(s["data"], validate=True)))
        except (binascii.Error, ValueError):
            raise ValidationFailed.field(f"scans.{n}.data", "不是有效的 base64 内容") from None
    return _request_out(spending.file_request(org, user=current_api_user(), scans=scans, **data))


@blp.route("/orgs/<int:org_id>/spending-requests/<int:request_id>")
@blp.response(200, SpendingRequestSchema)
def get_request(org_id: int, request_id: int):
    return _request_out(spending.get_request(api_org(org_id), request_id))


@blp.route("/orgs/<int:org_id>/spending-requests/<int:request_id>/decisions", methods=["POST"])
@blp.arguments(SpendingDecisionInSchema)
@blp.response(201, SpendingRequestSchema)
def decide(data, org_id: int, request_id: int):
    """One step of the chain, in order: approve, veto (民主理财小组, with a reason) or reject (with a reason).
    Nobody approves their own request."""
    req = spending.get_request(api_org(org_id), request_id)
    return _request_out(spending.decide(req, user=current_api_user(), **data))


@blp.route("/orgs/<int:org_id>/spending-requests/<int:request_id>/voucher", methods=["POST"])
@blp.arguments(SpendingVoucherInSchema)
@blp.response(201, SpendingRequestSchema)
@requires(access.PREPARE)
def to_voucher(data, org_id: int, request_id: int):
    """The approved request as a voucher draft (the category's expense role / the chosen cash or bank leaf)."""
    req = spending.get_request(api_org(org_id, access.PREPARE), request_id)
    spending.to_voucher(req, user=current_api_user(), **data)
    return _request_out(req)


@blp.route("/orgs/<int:org_id>/cash-journal")
@blp.arguments(CashJournalQuerySchema, location="query")
@blp.response(200, CashJournalSchema)
def journal(args, org_id: int):
    """现金日记账 or 银行日记账 of one leaf and month, with 对方科目, running balance and daily totals."""
    y, m = _month(args["month"])
    j = cashier.journal(api_org(org_id), args["account_code"], y, m)
    return {"code": j.code, "name": j.name, "year": j.year, "month": j.month, "opening": j.opening,
            "closing": j.closing, "rows": j.rows}


@blp.route("/orgs/<int:org_id>/cash-counts", methods=["POST"])
@blp.arguments(CashCountInSchema)
@blp.response(201, CashCountSchema)
@requires(access.CASHIER)
def count(data, org_id: int):
    """库存现金盘点 against the book balance of the day."""
    return cashier.record_count(api_org(org_id, access.CASHIER), user=current_api_user(), **data)


@blp.route("/orgs/<int:org_id>/bank-reconciliation")
@blp.arguments(ReconciliationInSchema, location="query")
@blp.response(200, BankReconciliationSchema)
def reconciliation(args, org_id: int):
    """银行存款余额调节表 of a bank leaf and month, from the imported statements and what is left unmatched."""
    org = api_org(org_id)
    y, m = _month(args["month"])
    if not bank.has_statement(org, args["account_code"], y, m):  # nothing to reconcile yet: the book side only
        return {"bank_balance": None, "adjusted_bank": None, "adjusted_book": None, "agrees": False, "final": False,
                "book_balance": bank.book_balance_at(org, args["account_code"], y, m),
                "book_in": [], "book_out": [], "bank_in": [], "bank_out": []}
    s = bank.statement_for(org, args["account_code"], y, m)
    return {**{k: getattr(s, k) for k in ("bank_balance", "book_balance", "book_in", "book_out", "bank_in", "bank_out",
                                         "adjusted_bank", "adjusted_book", "agrees")},
            "final": bank.saved(org, args["account_code"], y, m) is not None}


@blp.route("/orgs/<int:org_id>/bank-reconciliation/final", methods=["POST"])
@blp.arguments(ReconciliationInSchema)
@blp.response(201, BankReconciliationSchema)
@requires(access.CASHIER)
def reconciliation_final(data, org_id: int):
    """Save the month's 调节表 as final: refused unless the two adjusted balances agree to the fen."""
    org = api_org(org_id, access.CASHIER)
    y, m = _month(data["month"])
    bank.save_final(org, data["account_code"], y, m, user=current_api_user())
    s = bank.statement_for(org, data["account_code"], y, m)
    return {**{k: getattr(s, k) for k in ("bank_balance", "book_balance", "book_in", "book_out", "bank_in", "bank_out",
                                         "adjusted_bank", "adjusted_book", "agrees")}, "final": True}


@blp.route("/orgs/<int:org_id>/bank-statements", methods=["POST"])
@blp.arguments(StatementImportApiInSchema)
@blp.response(201, StatementImportSchema)
@requires(access.CASHIER)
def import_statement(data, org_id: int):
    """Import a bank statement (xlsx or CSV, base64). Column titles given override the layout remembered for the
    bank (an empty one clears it); `dry_run` checks everything and writes nothing; a file is imported once."""
    org = api_org(org_id, access.CASHIER)
    try:
        raw = base64.b64decode(data.pop("data"), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.field("data", "不是有效的 base64 内容") from None
    mapping = {k: data.pop(k) for k in bank.FIELDS if k in data}
    r = bank.import_statement(org, user=current_api_user(), data=raw, mapping=mapping, **data)
    return {"statement_id": r.statement.id if r.statement else None, "lines": len(r.lines),
                  "date_from": r.date_from, "date_to": r.date_to, "closing_balance": r.closing_balance,
                  "mapping": r.mapping}


@blp.route("/orgs/<int:org_id>/bank-matches", methods=["POST"])
@blp.arguments(BankMatchInSchema)
@blp.response(201, AutoMatchSchema)
@requires(access.CASHIER)
def match(data, org_id: int):
    """勾对: {account_code} matches the account's statement lines to book lines by amount, a 3-day window and the
    reference; {statement_line_id, voucher_line_id} matches one pair by hand (same account and amount)."""
    org, user = api_org(org_id, access.CASHIER), current_api_user()
    if "account_code" in data:
        return {"matched": bank.auto_match(org, data["account_code"], user=user)}
    bank.manual_match(org, user=user, **data)
    return {"matched": 1}


@blp.route("/orgs/<int:org_id>/payout-batches")
@blp.response(200, PayoutBatchSchema(many=True))
def list_batches(org_id: int):
    """分红代发 batches with each household's result."""
    return payout.batches(api_org(org_id))


@blp.route("/orgs/<int:org_id>/payout-batches", methods=["POST"])
@blp.arguments(PayoutInSchema)
@blp.response(201, PayoutBatchSchema)
@requires(access.CASHIER)
def create_batch(data, org_id: int):
    """A batch of the plan's unpaid households with a card on file; households in a batch in flight are held."""
    return payout.create_batch(api_org(org_id, access.CASHIER), user=current_api_user(), **data)


@blp.route("/orgs/<int:org_id>/payout-batches/<int:batch_id>/result", methods=["POST"])
@blp.arguments(PayoutResultInSchema)
@blp.response(201, PayoutBatchSchema)
@requires(access.CASHIER)
def batch_result(data, org_id: int, batch_id: int):
    """The bank's result (base64): paid rows get one payment voucher (draft, in the caller's name), failed rows
    stay unpaid with the bank's reason. Once per file."""
    batch = payout.get_batch(api_org(org_id, access.CASHIER), batch_id)
    try:
        raw = base64.b64decode(data["data"], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.field("data", "不是有效的 base64 内容") from None
    payout.import_result(batch, user=current_api_user(), filename=data["filename"], data=raw,
                         date=data["date"] or clock.today())
    return batch
