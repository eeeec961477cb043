"""PDFs with WeasyPrint: reports from a ReportTable (same table macro as the HTML pages) and the 记账凭证."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from flask import render_template

from coop.models import Organization, Voucher
from coop.models.ledger import STATUS_LABELS, VoucherStatus, voucher_number
from coop.documents.pdf import html_to_pdf
from coop.documents.printing import font_family
from coop.reports.builders import account_names, full_name
from coop.reports.table import ReportTable
from coop.core import clock
#: blank ruled lines a printed voucher has at least, like the paper form
VOUCHER_MIN_LINES = 5


def render_pdf(t: ReportTable, today: dt.date | None = None) -> bytes:
    html = render_template(
        "print/report.html", t=t, doc_title=t.title, font=font_family(),
        page_size="A4 landscape" if t.landscape else "A4",
        printed_on=(today or clock.today()).isoformat(),
    )
    return html_to_pdf(html)


def voucher_context(org: Organization, v: Voucher) -> dict:
    names = account_names(org)
    lines = []
    for line in v.lines:
        code = line.account.code
        account = f"{code} {full_name(code, names)}"
        if line.counterparty:
            account += f"（{line.counterparty}）"
        lines.append(SimpleNamespace(summary=line.summary, account=account, debit=line.debit or None,
                                     credit=line.credit or None))
    while len(lines) < VOUCHER_MIN_LINES:
        lines.append(SimpleNamespace(summary="", account="", debit=None, credit=None))
    total_debit, total_credit = v.total_debit, v.total_credit
    generated = v.kind == "carryover"
    signers = SimpleNamespace(
        supervisor="",  # 会计主管 signs by hand: the system has no such role
        poster=v.poster.display_name if v.poster else "",
        cashier=_cashier_name(v.id),  # 出纳 (#22)
        reviewer=v.reviewer.display_name if v.reviewer else "",
        # a generated voucher names who acted, never 系统生成 alone (RULES §3); short enough for one line
        preparer=v.preparer.display_name if v.preparer else (
            f"{v.reviewer.display_name}（系统生成）" if v.reviewer else ("系统生成" if generated else "")),
    )
    red = v.kind == "red" or total_debit < 0
    return dict(
        org=org, v=v, lines=lines, total=total_debit, total_debit=total_debit, total_credit=total_credit,
        red=red, posted=v.status == VoucherStatus.POSTED, status_label=STATUS_LABELS.get(v.status, v.status),
        signers=signers,
    )


def _cashier_name(voucher_id: int) -> str:
    from coop.services.cashier import cashier_name

    return cashier_name(voucher_id) if voucher_id else ""


def render_voucher_pdf(org: Organization, v: Voucher) -> bytes:
    html = render_template(
        "print/voucher.html", doc_title=f"记账凭证 {v.display_number}", font=font_family(),
        page_size="A5 landscape", page_margin="10mm 12mm 12mm 12mm", printed_on=None,
        **voucher_context(org, v),
    )
    return html_to_pdf(html)


def voucher_filename(v: Voucher) -> str:
    return f"记账凭证-{v.year}年{v.month}月-{voucher_number(v.word, v.number, f'草稿{v.id}')}.pdf"

