"""Report data (RULES §5) from posted vouchers: balances, 科目余额表, 总账, 明细账, 凭证序时簿 and statements.

Sums run in SQL over integer fen; the pure core (`coop.ledger`) turns them into rows.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from coop.core.extensions import db
from coop.core.money import ZERO, from_fen
from coop.core.text import N_
from coop.ledger import codes, statements
from coop.ledger.balances import TrialBalanceRow, build_trial_balance, is_balanced, trial_balance_totals
from coop.ledger.chart import COUNTERPARTY_ACCOUNTS, DISTRIBUTIONS, UNDISTRIBUTED
from coop.ledger.codes import CodeScheme
from coop.ledger.months import month_end  # noqa: F401  (reports.month_end for callers)
from coop.ledger.types import Statement
from coop.models import Account, County, OpeningBalance, Organization, Township, Voucher, VoucherLine
from coop.models.ledger import VoucherStatus, voucher_number
from coop.services.balances import balances_before, leaf_balances, movements, opening_lines, signed_movements


def year_start(org: Organization, year: int) -> dt.date:
    """First day of `year` as kept in these books (the books may start mid-year)."""
    if year == org.books_start_year:
        return dt.date(year, org.books_start_month, 1)
    return dt.date(year, 1, 1)


@dataclass
class TrialBalance:
    year: int
    month_from: int
    month_to: int
    rows: list[TrialBalanceRow]
    totals: dict[str, Decimal]

    @property
    def balanced(self) -> bool:
        return is_balanced(self.totals)


def _balance_sums(orgs: int | list[int], ys: dt.date, start: dt.date, end: dt.date,
                  counterparty: str | None = None) -> dict[int, tuple[int, int, int, int, int]]:
    """Account id → fen (signed total before `start`, debit and credit in [start, end], debit and credit in
    [ys, end]) of posted lines, summed in SQL: one GROUP BY over the year's lines to `end` (plain sums, as a bare
    GROUP BY, when `start` is the year's start; else two more conditional sums for 本期) and one over the
    lines before the year (none in a first year: the (organization_id, date) index finds nothing). With a
    counterparty, only the lines that name it."""
    d = sa.type_coerce(VoucherLine.debit, sa.BigInteger)
    c = sa.type_coerce(VoucherLine.credit, sa.BigInteger)

    def lines(*cols):
        q = (sa.select(VoucherLine.account_id, *cols).join(Voucher, Voucher.id == VoucherLine.voucher_id)
             .where(Voucher.status == VoucherStatus.POSTED,
                    Voucher.organization_id == orgs if isinstance(orgs, int) else Voucher.organization_id.in_(orgs))
             .group_by(VoucherLine.account_id))
        return q.where(VoucherLine.counterparty == counterparty) if counterparty else q

    out: dict[int, list[int]] = {}
    period = start > ys
    cols = [sa.func.sum(d), sa.func.sum(c)]
    if period:
        cols += [sa.func.sum(sa.case((Voucher.date >= start, d), else_=0)),
                 sa.func.sum(sa.case((Voucher.date >= start, c), else_=0))]
    for acc, yd, yc, *pdc in db.session.execute(lines(*cols).where(Voucher.date >= ys, Voucher.date <= end)):
        pd, pc = pdc if period else (yd, yc)
        yd, yc, pd, pc = int(yd), int(yc), int(pd), int(pc)
        out[acc] = [yd - pd - (yc - pc), pd, pc, yd, yc]  # opening so far: this year's lines before `start`
    for acc, signed in db.session.execute(lines(sa.func.sum(d - c)).where(Voucher.date < ys)):
        out.setdefault(acc, [0, 0, 0, 0, 0])[0] += int(signed)
    return {acc: tuple(v) for acc, v in out.items()}


def _trial_balance_rows(accounts: dict[int, tuple[str, str, bool]], opening_fen: dict[int, int],
                        sums: dict[int, tuple[int, int, int, int, int]], scheme: CodeScheme) -> list[TrialBalanceRow]:
    """Per-account fen sums → leaf-code Decimals → the rolled-up rows (coop.ledger.balances)."""
    maps: list[dict[str, int]] = [{}, {}, {}, {}, {}]
    for acc_id, amount in opening_fen.items():
        code = accounts[acc_id][0]
        maps[0][code] = maps[0].get(code, 0) + amount
    for acc_id, values in sums.items():
        code = accounts[acc_id][0]
        for k, x in enumerate(values):
            maps[k][code] = maps[k].get(code, 0) + x
    op, pd, pc, yd, yc = ({c: from_fen(x) for c, x in m.items() if x} for m in maps)
    names = {}
    for code, name, is_leaf in accounts.values():
        names.setdefault(code, (code, name, is_leaf))
    return build_trial_balance(names.values(), op, pd, pc, yd, yc, scheme)


def trial_balance(org: Organization, year: int, month_from: int, month_to: int | None = None,
                  counterparty: str | None = None) -> TrialBalance:
    month_to = month_to or month_from
    ys = year_start(org, year)
    start = max(dt.date(year, month_from, 1), ys)
    end = month_end(year, month_to)
    accounts = {i: (code, name, leaf) for i, code, name, leaf in db.session.execute(
        sa.select(Account.id, Account.code, Account.name, Account.is_leaf).where(Account.organization_id == org.id))}
    sums = _balance_sums(org.id, ys, start, end, counterparty)
    # opening balances are kept by counterparty (辅助核算): a report for one counterparty starts from its own
    q = (sa.select(OpeningBalance.account_id, sa.func.sum(sa.type_coerce(OpeningBalance.amount, sa.BigInteger)))
         .where(OpeningBalance.organization_id == org.id).group_by(OpeningBalance.account_id))
    if counterparty:
        q = q.where(OpeningBalance.counterparty == counterparty)
    opening = dict(db.session.execute(q).all())
    rows = _trial_balance_rows(accounts, opening, sums, org.code_scheme)
    return TrialBalance(year, month_from, month_to, rows, trial_balance_totals(rows))


def county_trial_balance(county: County, year: int, month_from: int = 1, month_to: int | None = None
                         ) -> TrialBalance:
    """科目余额表 of every organization of a county added together, account code by account code (明细科目 of the
    same code are added even if villages named them differently: the first organization's name is shown).
    The year starts in January; books opened later in the year bring their opening balances in as 期初."""
    month_to = month_to or month_from
    ys, start, end = dt.date(year, 1, 1), dt.date(year, month_from, 1), month_end(year, month_to)
    orgs = list(db.session.scalars(sa.select(Organization.id).join(Township, Township.id == Organization.township_id)
                                   .where(Township.county_id == county.id)))
    accounts = {i: (code, name, leaf) for i, code, name, leaf in db.session.execute(
        sa.select(Account.id, Account.code, Account.name, Account.is_leaf)
        .where(Account.organization_id.in_(orgs)).order_by(Account.organization_id))}
    opening = dict(db.session.execute(
        sa.select(OpeningBalance.account_id, sa.func.sum(sa.type_coerce(OpeningBalance.amount, sa.BigInteger)))
        .where(OpeningBalance.organization_id.in_(orgs)).group_by(OpeningBalance.account_id)).all())
    # a code that is a leaf in one village may have 明细 in another: a row is a leaf only if nothing is below it
    all_codes = {code for code, _, _ in accounts.values()}
    scheme = codes.scheme(county.code_scheme)
    parents = {p for code in all_codes for p in scheme.ancestors(code)}
    accounts = {i: (code, name, code not in parents) for i, (code, name, _) in accounts.items()}
    rows = _trial_balance_rows(accounts, opening, _balance_sums(orgs, ys, start, end), scheme)
    return TrialBalance(year, month_from, month_to, rows, trial_balance_totals(rows))


def trial_balance_is_balanced(org: Organization, year: int, month: int) -> bool:
    return trial_balance(org, year, month).balanced


def _canonical(org: Organization, values: dict) -> dict:
    """Leaf codes in the source's scheme (2-2-2), which the statements (coop.ledger.statements) are written in."""
    scheme = org.code_scheme
    if scheme == codes.CANONICAL:
        return values
    out: dict = {}
    for c, v in values.items():
        k = scheme.convert(c, codes.CANONICAL) if scheme.is_valid(c) else c
        if k in out:  # two codes meet only when a 3-digit segment number exceeds 99
            v = tuple(a + b for a, b in zip(out[k], v)) if isinstance(v, tuple) else out[k] + v
        out[k] = v
    return out


def gross_balances(org: Organization, until: dt.date) -> dict[str, Decimal]:
    """Leaf balances at the end of `until`, those of 112/113/201/211/221 split by counterparty ("11201|张三"), so a
    debit balance with one counterparty and a credit balance with another are never netted (RULES §2)."""
    bal = leaf_balances(org, until=until)
    for code, cp, amount in opening_lines(org):
        if cp:
            bal[code] = bal.get(code, ZERO) - amount
            bal[f"{code}|{cp}"] = bal.get(f"{code}|{cp}", ZERO) + amount
    aux = sa.or_(*(Account.code.startswith(top) for top in COUNTERPARTY_ACCOUNTS))
    q = (sa.select(Account.code, VoucherLine.counterparty,
                   sa.func.sum(sa.type_coerce(VoucherLine.debit, sa.BigInteger)
                               - sa.type_coerce(VoucherLine.credit, sa.BigInteger)))
         .select_from(VoucherLine).join(Voucher, Voucher.id == VoucherLine.voucher_id)
         .join(Account, Account.id == VoucherLine.account_id)
         .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.date <= until, aux)
         .group_by(Account.code, VoucherLine.counterparty))
    for code, cp, fen in db.session.execute(q):
        if cp and fen:  # what has no counterparty (older books) stays on the leaf itself
            amount = from_fen(fen)
            bal[code] = bal.get(code, ZERO) - amount
            bal[f"{code}|{cp}"] = bal.get(f"{code}|{cp}", ZERO) + amount
    return {k: v for k, v in bal.items() if v != 0}


def balance_sheet(org: Organization, year: int, month: int) -> Statement:
    begin = _canonical(org, gross_balances(org, year_start(org, year) - dt.timedelta(days=1)))
    end = _canonical(org, gross_balances(org, month_end(year, month)))
    return statements.balance_sheet(begin, end, title=f"资产负债表（{year}年{month}月）")


def _income_values(org: Organization, date_from: dt.date, date_to: dt.date) -> dict[str, Decimal]:
    mov = _canonical(org, movements(org, date_from=date_from, date_to=date_to, exclude_carryover=True))
    signed = signed_movements(mov)
    appropriations = {c: d for c, (d, _) in mov.items() if codes.under(c, DISTRIBUTIONS)}
    opening_undistributed = -_canonical(org, balances_before(org, date_from)).get(UNDISTRIBUTED, ZERO)
    other_in = -signed.get(UNDISTRIBUTED, ZERO)
    # the distribution section is the year's own: a plan of an earlier year posted now (decided after its close)
    # is shown as 其他转入/调整, so 可分配收益 is what this year's plan could distribute (RULES §5, §7)
    for c, amount in _earlier_plans(org, date_from, date_to).items():
        appropriations[c] = appropriations.get(c, ZERO) - amount
        other_in -= amount
    return statements.income_values(signed, opening_undistributed, other_in, appropriations)


def _earlier_plans(org: Organization, date_from: dt.date, date_to: dt.date) -> dict[str, Decimal]:
    """32201 debits, by detail code, of the distribution vouchers in [date_from, date_to] posted for another year."""
    from coop.models import DistributionPlan

    q = (sa.select(Account.code, sa.func.sum(sa.type_coerce(VoucherLine.debit, sa.BigInteger)))
         .join(Voucher, Voucher.id == VoucherLine.voucher_id).join(Account, Account.id == VoucherLine.account_id)
         .join(DistributionPlan, DistributionPlan.voucher_id == Voucher.id)
         .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.date >= date_from,
                Voucher.date <= date_to, DistributionPlan.year != date_from.year)
         .group_by(Account.code))
    moved = _canonical(org, {code: (from_fen(d), ZERO) for code, d in db.session.execute(q)})
    return {c: d for c, (d, _) in moved.items() if codes.under(c, DISTRIBUTIONS) and d}


def income_statement(org: Organization, year: int, month_from: int, month_to: int | None = None) -> Statement:
    """收益及收益分配表 with columns 本期 and 本年累计; carry-over vouchers are left out of both."""
    month_to = month_to or month_from
    ys = year_start(org, year)
    start = max(dt.date(year, month_from, 1), ys)
    end = month_end(year, month_to)
    period = _income_values(org, start, end)
    ytd = _income_values(org, ys, end)
    label = f"{year}年{month_from}月" if month_from == month_to else f"{year}年{month_from}-{month_to}月"
    return statements.income_statement((N_("本期金额"), N_("本年累计")), [period, ytd], title=f"收益及收益分配表（{label}）")


@dataclass
class LedgerEntryRow:
    date: dt.date | None
    voucher: str
    voucher_id: int | None
    summary: str
    debit: Decimal
    credit: Decimal
    balance: Decimal  # signed, debit positive
    kind: str = "line"  # opening | line | month_total | year_total


def _balance_under(code: str, balances: dict[str, Decimal]) -> Decimal:
    """The balance of `code` and every account under it, from leaf balances."""
    return sum((v for c, v in balances.items() if c.startswith(code)), ZERO)


def _under(code: str, moved: dict[str, tuple[Decimal, Decimal]]) -> tuple[Decimal, Decimal]:
    """(debit, credit) of `code` and every account under it, from leaf (debit, credit) sums."""
    mine = [dc for c, dc in moved.items() if c.startswith(code)]
    return sum((d for d, _ in mine), ZERO), sum((cr for _, cr in mine), ZERO)


def detail_ledger(org: Organization, code: str, year: int, month_from: int = 1, month_to: int = 12,
                  counterparty: str | None = None) -> list[LedgerEntryRow]:
    """明细账 of an account (any level): 期初, each posted line with running balance, 本月合计 and 本年累计."""
    ys = year_start(org, year)
    start = max(dt.date(year, month_from, 1), ys)
    end = month_end(year, month_to)
    if counterparty:  # its own opening balances and everything booked with it before `start`
        before = movements(org, date_to=start - dt.timedelta(days=1), counterparty=counterparty)
        opening = (sum((a for c, cp, a in opening_lines(org) if cp == counterparty and c.startswith(code)), ZERO)
                   + sum((d - cr for c, (d, cr) in before.items() if c.startswith(code)), ZERO))
    else:
        opening = _balance_under(code, balances_before(org, start))
    ytd_d, ytd_c = _under(code, movements(org, date_from=ys, date_to=start - dt.timedelta(days=1),
                                          counterparty=counterparty))
    q = (  # columns, not entities: a month of lines needs no ORM objects
        sa.select(Voucher.date, Voucher.month, Voucher.word, Voucher.number, Voucher.id, VoucherLine.summary,
                  VoucherLine.debit, VoucherLine.credit)
        .select_from(VoucherLine)
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .join(Account, Account.id == VoucherLine.account_id)
        .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Account.code.startswith(code),
               Voucher.date >= start, Voucher.date <= end)
        .order_by(Voucher.date, Voucher.number, VoucherLine.seq)
    )
    if counterparty:
        q = q.where(VoucherLine.counterparty == counterparty)
    first = N_("期初余额") if start.month != 1 else N_("上年结转")
    rows = [LedgerEntryRow(start, "", None, first, ZERO, ZERO, opening, "opening")]
    balance = opening
    by_month: dict[int, list] = {}
    for line in db.session.execute(q):
        by_month.setdefault(line.month, []).append(line)
    for m in range(start.month, month_to + 1):
        md = mc = ZERO
        for line in by_month.get(m, []):
            balance += line.debit - line.credit
            md += line.debit
            mc += line.credit
            rows.append(LedgerEntryRow(line.date, voucher_number(line.word, line.number), line.id, line.summary,
                                       line.debit, line.credit, balance))
        ytd_d += md
        ytd_c += mc
        rows.append(LedgerEntryRow(month_end(year, m), "", None, N_("本月合计"), md, mc, balance, "month_total"))
        rows.append(LedgerEntryRow(month_end(year, m), "", None, N_("本年累计"), ytd_d, ytd_c, balance, "year_total"))
    return rows


def general_ledger(org: Organization, code: str, year: int, month_to: int = 12) -> list[LedgerEntryRow]:
    """总账 of a first-level account: 期初 and, per month, 本月合计 and 本年累计 only."""
    return general_ledgers(org, [code], year, 1, month_to)[code]


def general_ledgers(org: Organization, codes: list[str], year: int, month_from: int = 1,
                    month_to: int = 12) -> dict[str, list[LedgerEntryRow]]:
    """总账 of each of `codes` (any level): the rows of `detail_ledger` without its lines — 期初, then each month's
    本月合计 and 本年累计 — for every code from the same three readings of the books (balances before the period,
    this year's movements before it, and the period's movements by account and month), not three a code."""
    ys = year_start(org, year)
    start = max(dt.date(year, month_from, 1), ys)
    end = month_end(year, month_to)
    before = balances_before(org, start)
    ytd_before = movements(org, date_from=ys, date_to=start - dt.timedelta(days=1))
    by_month: dict[int, dict[str, tuple[Decimal, Decimal]]] = {}
    for leaf, month, d, c in db.session.execute(
            sa.select(Account.code, Voucher.month, sa.func.sum(sa.type_coerce(VoucherLine.debit, sa.BigInteger)),
                      sa.func.sum(sa.type_coerce(VoucherLine.credit, sa.BigInteger)))
            .select_from(VoucherLine).join(Voucher, Voucher.id == VoucherLine.voucher_id)
            .join(Account, Account.id == VoucherLine.account_id)
            .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED,
                   Voucher.date >= start, Voucher.date <= end)
            .group_by(Account.code, Voucher.month)):
        by_month.setdefault(month, {})[leaf] = (from_fen(d), from_fen(c))
    first = N_("期初余额") if start.month != 1 else N_("上年结转")
    out = {}
    for code in codes:
        balance = _balance_under(code, before)
        ytd_d, ytd_c = _under(code, ytd_before)
        rows = [LedgerEntryRow(start, "", None, first, ZERO, ZERO, balance, "opening")]
        for m in range(start.month, month_to + 1):
            md, mc = _under(code, by_month.get(m, {}))
            balance += md - mc
            ytd_d += md
            ytd_c += mc
            rows.append(LedgerEntryRow(month_end(year, m), "", None, N_("本月合计"), md, mc, balance, "month_total"))
            rows.append(LedgerEntryRow(month_end(year, m), "", None, N_("本年累计"), ytd_d, ytd_c, balance, "year_total"))
        out[code] = rows
    return out


def journal(org: Organization, date_from: dt.date, date_to: dt.date) -> list[Voucher]:
    """凭证序时簿: posted vouchers in date and number order, with their lines."""
    q = (
        sa.select(Voucher)
        .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED,
               Voucher.date >= date_from, Voucher.date <= date_to)
        .order_by(Voucher.date, Voucher.number)
        .options(selectinload(Voucher.lines).selectinload(VoucherLine.account))
    )
    return list(db.session.scalars(q))
