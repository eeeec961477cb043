"""Plain-text journals of an organization's books for independent checks with beancount and hledger.

Both carry the opening balances and every posted voucher, line by line, with the signed amount as posted
(debit positive; a red voucher's lines stay negative). Accounts are named `Root:code名称[:code名称…]`:
beancount wants each component to start with an uppercase letter or a digit, hence English roots and the
account code first. 401 成本 sits under Assets, as the balance sheet counts it in 存货.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from coop.core.extensions import db
from coop.ledger import codes
from coop.ledger.chart import ASSET, COST, EQUITY, LIABILITY, chart_account
from coop.ledger.codes import CodeScheme
from coop.models import Account, Organization, Voucher, VoucherLine
from coop.models.ledger import VoucherStatus
from coop.services.opening import opening_balances

ROOTS = {ASSET: "Assets", COST: "Assets", LIABILITY: "Liabilities", EQUITY: "Equity"}
#: hledger account types, so `hledger bs` / `is` sort the roots
HLEDGER_TYPES = {"Assets": "A", "Liabilities": "L", "Equity": "E", "Income": "R", "Expenses": "X"}


def _root(code: str) -> str:
    top = chart_account(code)
    if top.category in ROOTS:
        return ROOTS[top.category]
    return "Income" if top.income else "Expenses"


def _component(code: str, name: str) -> str:
    """`code` + `name` with everything but letters, digits and '-' turned into '-' (beancount's rule)."""
    out = []
    for ch in name:
        cat = unicodedata.category(ch)
        out.append(ch if cat.startswith("L") or cat == "Nd" else "-")
    return code + re.sub("-+", "-", "".join(out)).strip("-")


def account_names(org: Organization) -> dict[str, str]:
    """Account code → journal account name, for every account of the chart."""
    accs = {a.code: a.name for a in db.session.scalars(sa.select(Account).where(Account.organization_id == org.id))}
    names: dict[str, str] = {}
    scheme = org.code_scheme
    for code in sorted(accs, key=len):
        parent = scheme.parent(code)
        prefix = names[parent] if parent in names else _root(code)
        names[code] = f"{prefix}:{_component(code, accs[code])}"
    return names


def code_of(journal_account: str, scheme: CodeScheme = codes.DEFAULT) -> str:
    """Inverse of `account_names`: the code of the last component (as long as a code at that depth is)."""
    parts = journal_account.split(":")[1:]
    return parts[-1][: scheme.length_at(len(parts))]


def _start(org: Organization, year: int | None) -> dt.date:
    from coop.services.reports import year_start

    return year_start(org, year) if year else dt.date(org.books_start_year, org.books_start_month, 1)


def _transactions(org: Organization, year: int | None = None):
    """(date, number, narration, [(code, signed amount, line summary)]) for the opening and each posted voucher
    (of `year` only, with the balances brought forward to its first day as the opening, when given)."""
    start = _start(org, year)
    if year:
        from coop.services.reports import balances_before

        ob = balances_before(org, start)
    else:
        ob = opening_balances(org)
    if ob:
        yield start, "", "期初余额", [(c, a, "") for c, a in sorted(ob.items())]
    q = (
        sa.select(Voucher)
        .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED,
               *((Voucher.year == year,) if year else ()))
        .order_by(Voucher.date, Voucher.year, Voucher.month, Voucher.word, Voucher.number)
        .options(selectinload(Voucher.lines).selectinload(VoucherLine.account))
    )
    for v in db.session.scalars(q):
        postings = [(l.account.code, l.debit - l.credit, l.summary) for l in v.lines]
        yield v.date, f"{v.year}-{v.month:02d} {v.display_number}", v.summary, postings


def _amount(x: Decimal) -> str:
    return f"{x:.2f} CNY"


def _used_codes(txns) -> list[str]:
    return sorted({c for _, _, _, ps in txns for c, _, _ in ps})


def to_beancount(org: Organization, year: int | None = None) -> str:
    def q(s: str) -> str:
        return '"' + " ".join(s.split()).replace("\\", "\\\\").replace('"', '\\"') + '"'

    txns = list(_transactions(org, year))
    names = account_names(org)
    start = _start(org, year)
    out = [f"option \"title\" {q(org.name)}", 'option "operating_currency" "CNY"', ""]
    out += [f"{start} open {names[c]} CNY" for c in _used_codes(txns)]
    for date, number, narration, postings in txns:
        out.append("")
        out.append(f"{date} * {q(number)} {q(narration)}" if number else f"{date} * {q(narration)}")
        for code, amount, summary in postings:
            comment = f"  ; {' '.join(summary.split())}" if summary and summary != narration else ""
            out.append(f"  {names[code]}  {_amount(amount)}{comment}")
    return "\n".join(out) + "\n"


def to_hledger(org: Organization, year: int | None = None) -> str:
    def text(s: str) -> str:  # ';' would start a comment
        return " ".join(s.split()).replace(";", "；")

    txns = list(_transactions(org, year))
    names = account_names(org)
    out = [f"; {text(org.name)}", ""]
    out += [f"account {root}  ; type: {t}" for root, t in HLEDGER_TYPES.items()]
    for date, number, narration, postings in txns:
        out.append("")
        out.append(f"{date} * {number} | {text(narration)}" if number else f"{date} {text(narration)}")
        for code, amount, summary in postings:
            comment = f"  ; {text(summary)}" if summary and summary != narration else ""
            out.append(f"    {names[code]}  {_amount(amount)}{comment}")
    return "\n".join(out) + "\n"
