"""Builders: report data from `coop.services.reports` → ReportTable (RULES §5).

Ledger reports (科目余额表, 总账, 明细账, 凭证序时簿) show plain amounts with blanks for zero, as on the paper
books; the statements (资产负债表, 收益及收益分配表) show '¥1,234.56'.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from coop.core.text import N_
from coop.ledger import codes
from coop.ledger.types import Statement
from coop.models import Organization
from coop.core.money import ZERO
from coop.services import accounts
from coop.services import reports as data
from coop.reports.params import (
    DetailLedgerArgsSchema, GeneralLedgerArgsSchema, PeriodArgsSchema, ReportQuery, TrialBalanceArgsSchema,
)
from coop.reports.table import Column, ReportTable

STATEMENT_STYLES = {"item": "normal", "subtotal": "subtotal", "total": "total", "header": "header"}


def _amount(key: str, label: str, group: str = "", currency: bool = False) -> Column:
    return Column(key, label, "money", currency=currency, group=group, width=15)


def split_balance(balance: Decimal) -> tuple[Decimal, Decimal]:
    """Signed (debit-positive) balance → (debit side, credit side)."""
    return max(balance, ZERO), max(-balance, ZERO)


def direction(balance: Decimal) -> str:
    """借或贷 column: which side the balance is on, 平 when nil."""
    return N_("借") if balance > 0 else N_("贷") if balance < 0 else N_("平")


def account_names(org: Organization) -> dict[str, str]:
    return {a.code: a.name for a in accounts.accounts_of(org)}


def full_name(code: str, names: dict[str, str]) -> str:
    """10201 → 银行存款—农业银行 (every level from the first down; codes nest by prefix in every scheme)."""
    above = sorted((c for c in names if codes.under(code, c)), key=len)
    return "—".join([names[c] for c in above] + ([] if code in names else [code]))


def _header(org: Organization, *middle: str) -> list[str]:
    return [N_("编制单位：%(org)s", org=org.name), *middle, N_("单位：元")]


# ------------------------------------------------------------------ 科目余额表


def trial_balance(org: Organization, q: ReportQuery) -> ReportTable:
    tb = data.trial_balance(org, q.year, q.month_from, q.month_to, counterparty=q.counterparty)
    t = ReportTable(
        N_("科目余额表"),
        [
            Column("code", N_("科目编码"), width=12),
            Column("name", N_("科目名称"), width=24, indent=True),
            _amount("opening_debit", N_("借方"), N_("期初余额")),
            _amount("opening_credit", N_("贷方"), N_("期初余额")),
            _amount("debit", N_("借方"), N_("本期发生额")),
            _amount("credit", N_("贷方"), N_("本期发生额")),
            _amount("ytd_debit", N_("借方"), N_("本年累计发生额")),
            _amount("ytd_credit", N_("贷方"), N_("本年累计发生额")),
            _amount("closing_debit", N_("借方"), N_("期末余额")),
            _amount("closing_credit", N_("贷方"), N_("期末余额")),
        ],
        subtitle=_header(org, q.label),
        landscape=True,
        filename=f"科目余额表-{q.label}",
    )
    for r in tb.rows:
        if q.level and r.level > q.level:
            continue
        if not any((r.opening, r.debit, r.credit, r.ytd_debit, r.ytd_credit, r.closing)):
            continue
        od, oc = split_balance(r.opening)
        cd, cc = split_balance(r.closing)
        t.add({"code": r.code, "name": r.name, "opening_debit": od, "opening_credit": oc, "debit": r.debit,
               "credit": r.credit, "ytd_debit": r.ytd_debit, "ytd_credit": r.ytd_credit,
               "closing_debit": cd, "closing_credit": cc}, indent=r.level - 1)
    t.add({"name": N_("合计"), **tb.totals}, style="total")
    if q.counterparty:
        t.subtitle.insert(2, N_("往来单位：%(name)s", name=q.counterparty))
        t.notes.append(N_("按往来单位筛选：只含该单位的发生额，期初余额不计。"))
    else:
        t.notes.append(N_("试算平衡：借贷方合计相等。") if tb.balanced else N_("试算不平衡：借贷方合计不相等，请检查期初余额和凭证。"))
    return t


# ------------------------------------------------------------------ 总账 and 明细账


def _ledger_columns(year: int, with_voucher: bool) -> list[Column]:
    cols = [
        Column("month", N_("月"), width=5, align="center", group=N_("%(y)s年", y=year)),
        Column("day", N_("日"), width=5, align="center", group=N_("%(y)s年", y=year)),
    ]
    if with_voucher:
        cols.append(Column("voucher", N_("凭证号"), width=10, align="center"))
    cols += [
        Column("summary", N_("摘要"), width=30, indent=True),
        _amount("debit", N_("借方")),
        _amount("credit", N_("贷方")),
        Column("direction", N_("借或贷"), width=7, align="center"),
        _amount("balance", N_("余额")),
    ]
    return cols


def _ledger_rows(t: ReportTable, rows: list[data.LedgerEntryRow], with_voucher: bool) -> None:
    for r in rows:
        cells = {
            "month": r.date.month if r.date else None,
            "day": r.date.day if r.date and r.kind in ("line", "opening") else None,
            "summary": r.summary,
            "debit": r.debit,
            "credit": r.credit,
            "direction": direction(r.balance),
            "balance": abs(r.balance),
        }
        if with_voucher:
            cells["voucher"] = r.voucher
        style = {"month_total": "subtotal", "year_total": "total"}.get(r.kind, "normal")
        t.add(cells, style=style, voucher_id=r.voucher_id)


def detail_ledger(org: Organization, q: ReportQuery) -> ReportTable:
    if not q.code:
        raise ValueError("明细账需要科目")
    names = account_names(org)
    rows = data.detail_ledger(org, q.code, q.year, q.month_from, q.month_to, counterparty=q.counterparty)
    account = f"{q.code} {full_name(q.code, names)}"
    t = ReportTable(N_("明细账"), _ledger_columns(q.year, True),
                    subtitle=_header(org, N_("科目：%(account)s", account=account), q.label),
                    filename=f"明细账-{q.code}-{q.label}")
    if q.counterparty:
        t.subtitle.insert(2, N_("往来单位：%(name)s", name=q.counterparty))
        t.notes.append(N_("按往来单位筛选：只含该单位的发生额，期初余额不计。"))
    _ledger_rows(t, rows, True)
    return t


def general_ledger_codes(org: Organization, q: ReportQuery) -> list[str]:
    """The asked-for account, or every first-level account with an opening balance or movements this year."""
    if q.code:
        return [q.code]
    tb = data.trial_balance(org, q.year, q.month_from, q.month_to)
    return [r.code for r in tb.rows if r.level == 1 and any((r.opening, r.ytd_debit, r.ytd_credit))]


def general_ledger(org: Organization, q: ReportQuery) -> ReportTable:
    """总账 of one account, or of every first-level account with a balance or movements this year."""
    names = account_names(org)
    codes = general_ledger_codes(org, q)
    middle = [N_("科目：%(account)s", account=f"{q.code} {full_name(q.code, names)}")] if q.code else []
    t = ReportTable(N_("总账"), _ledger_columns(q.year, False), subtitle=_header(org, *middle, q.label),
                    filename=f"总账-{q.code + '-' if q.code else ''}{q.label}")
    ledgers = data.general_ledgers(org, codes, q.year, q.month_from, q.month_to)
    for code in codes:
        if not q.code:
            t.add({"summary": f"{code} {names.get(code, '')}"}, style="header")
        _ledger_rows(t, ledgers[code], False)
    if not codes:
        t.notes.append(N_("本年没有余额或发生额。"))
    return t


# ------------------------------------------------------------------ 凭证序时簿


def journal(org: Organization, q: ReportQuery) -> ReportTable:
    start = max(dt.date(q.year, q.month_from, 1), data.year_start(org, q.year))
    vouchers = data.journal(org, start, data.month_end(q.year, q.month_to))
    names = account_names(org)
    t = ReportTable(
        N_("凭证序时簿"),
        [
            Column("date", N_("日期"), width=12, align="center"),
            Column("voucher", N_("凭证号"), width=10, align="center"),
            Column("summary", N_("摘要"), width=30),
            Column("account", N_("会计科目"), width=30),
            _amount("debit", N_("借方金额")),
            _amount("credit", N_("贷方金额")),
        ],
        subtitle=_header(org, q.label),
        filename=f"凭证序时簿-{q.label}",
    )
    total_d = total_c = ZERO
    for v in vouchers:
        for i, line in enumerate(v.lines):
            code = line.account.code
            t.add({
                "date": v.date.isoformat() if i == 0 else None,
                "voucher": v.display_number if i == 0 else None,
                "summary": line.summary,
                "account": f"{code} {full_name(code, names)}",
                "debit": line.debit,
                "credit": line.credit,
            }, voucher_id=v.id)
            total_d += line.debit
            total_c += line.credit
    t.add({"summary": N_("合计"), "debit": total_d, "credit": total_c}, style="total")
    t.notes.append(N_("共 %(n)s 张已记账凭证。", n=len(vouchers)))
    return t


# ------------------------------------------------------------------ 资产负债表 and 收益及收益分配表


def _statement_table(st: Statement, title: str, subtitle: list[str], filename: str) -> ReportTable:
    t = ReportTable(
        title,
        [Column("label", N_("项目"), width=34, indent=True), Column("line_no", N_("行次"), width=6, align="center")]
        + [_amount(f"v{i}", label, currency=True) for i, label in enumerate(st.columns)],
        subtitle=subtitle,
        signatures=[N_("单位负责人："), N_("会计主管："), N_("制表：")],
        filename=filename,
    )
    for r in st.rows:
        values = r.values or (None,) * len(st.columns)
        t.add([r.label, r.line_no, *values], style=STATEMENT_STYLES[r.kind], indent=r.indent)
    return t


def balance_sheet(org: Organization, q: ReportQuery) -> ReportTable:
    st = data.balance_sheet(org, q.year, q.month_to)
    end = data.month_end(q.year, q.month_to)
    t = _statement_table(st, N_("资产负债表"), _header(org, N_("%(y)s年%(m)s月%(d)s日", y=end.year, m=end.month, d=end.day)),
                         f"资产负债表-{q.year}年{q.month_to}月")
    assets, claims = st.value("total_assets"), st.value("total_liabilities_equity")
    if assets != claims:
        t.notes.append(N_("资产总计与负债和所有者权益总计不相等，差额 %(d)s，请检查账务。", d=assets - claims))
    return t


def income_statement(org: Organization, q: ReportQuery) -> ReportTable:
    st = data.income_statement(org, q.year, q.month_from, q.month_to)
    return _statement_table(st, N_("收益及收益分配表"), _header(org, q.label), f"收益及收益分配表-{q.label}")


# ------------------------------------------------------------------ registry


@dataclass(frozen=True)
class ReportSpec:
    slug: str
    title: str
    build: Callable[[Organization, ReportQuery], ReportTable]
    description: str
    args: type[PeriodArgsSchema] = PeriodArgsSchema
    needs_code: bool = False  # 明细账: one account at a time

    @property
    def endpoint(self) -> str:
        return self.slug.replace("-", "_")

    def takes(self, name: str) -> bool:
        return name in self.args().fields


REPORTS: dict[str, ReportSpec] = {s.slug: s for s in (
    ReportSpec("trial-balance", N_("科目余额表"), trial_balance, N_("期初余额、本期发生额、本年累计和期末余额，可选科目级次"),
               TrialBalanceArgsSchema),
    ReportSpec("general-ledger", N_("总账"), general_ledger, N_("一级科目的期初、各月本月合计和本年累计；不选科目时为全部一级科目"),
               GeneralLedgerArgsSchema),
    ReportSpec("detail-ledger", N_("明细账"), detail_ledger, N_("一个科目逐笔登记，含余额方向、本月合计和本年累计"),
               DetailLedgerArgsSchema, needs_code=True),
    ReportSpec("journal", N_("凭证序时簿"), journal, N_("按日期和凭证号排列的已记账凭证及分录")),
    ReportSpec("balance-sheet", N_("资产负债表"), balance_sheet, N_("年初余额与期末余额（所选期间的截止月末）")),
    ReportSpec("income-statement", N_("收益及收益分配表"), income_statement, N_("本期金额与本年累计，含收益分配")),
)}
