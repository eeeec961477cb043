"""余额: what the books hold — opening balances (期初) plus posted movements — the reading every report, check and
posting rule starts from. It sits below the chart (accounts) and the reports, so both can ask for a balance."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from coop.core.extensions import db
from coop.core.money import ZERO, from_fen
from coop.models import Account, OpeningBalance, Organization, Voucher, VoucherLine


def opening_balances(org: Organization) -> dict[str, Decimal]:
    """Leaf code → signed opening balance (debit positive), counterparties added together."""
    out: dict[str, Decimal] = {}
    for code, _cp, amount in opening_lines(org):
        out[code] = out.get(code, ZERO) + amount
    return {c: a for c, a in out.items() if a != 0}


def opening_lines(org: Organization) -> list[tuple[str, str | None, Decimal]]:
    """(leaf code, counterparty, signed amount) of every opening balance, by code and counterparty."""
    rows = db.session.execute(  # the code joined in: not one account load per opening balance
        sa.select(Account.code, OpeningBalance.counterparty, OpeningBalance.amount)
        .join(Account, Account.id == OpeningBalance.account_id)
        .where(OpeningBalance.organization_id == org.id))
    return sorted(((code, cp, amount) for code, cp, amount in rows if amount != 0), key=lambda r: (r[0], r[1] or ""))


def movements(org: Organization, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
              exclude_carryover: bool = False, counterparty: str | None = None) -> dict[str, tuple[Decimal, Decimal]]:
    """Leaf code → (debit total, credit total) of posted lines in [date_from, date_to]."""
    q = (
        sa.select(
            Account.code,
            sa.func.sum(sa.type_coerce(VoucherLine.debit, sa.BigInteger)),
            sa.func.sum(sa.type_coerce(VoucherLine.credit, sa.BigInteger)),
        )
        .select_from(VoucherLine)
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .join(Account, Account.id == VoucherLine.account_id)
        .where(Voucher.organization_id == org.id, Voucher.status == "posted")
        .group_by(Account.code)
    )
    if date_from:
        q = q.where(Voucher.date >= date_from)
    if date_to:
        q = q.where(Voucher.date <= date_to)
    if exclude_carryover:
        q = q.where(Voucher.kind != "carryover")
    if counterparty:
        q = q.where(VoucherLine.counterparty == counterparty)
    return {code: (from_fen(d), from_fen(c)) for code, d, c in db.session.execute(q)}


def signed_movements(mov: dict[str, tuple[Decimal, Decimal]]) -> dict[str, Decimal]:
    return {c: d - cr for c, (d, cr) in mov.items()}


def leaf_balances(org: Organization, until: dt.date | None = None) -> dict[str, Decimal]:
    """Signed balance of every leaf account at the end of `until` (all posted vouchers if None)."""
    bal = dict(opening_balances(org))
    for code, amount in signed_movements(movements(org, date_to=until)).items():
        bal[code] = bal.get(code, ZERO) + amount
    return {c: v for c, v in bal.items() if v != 0}


def balances_before(org: Organization, date: dt.date) -> dict[str, Decimal]:
    return leaf_balances(org, until=date - dt.timedelta(days=1))


