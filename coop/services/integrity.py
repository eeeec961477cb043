"""Integrity of the books, re-checked from the database alone (`flask --app wsgi coop verify`, `verify-ledger`,
`coop restore`).

The ledger checks are small functions, each returning the problems it finds, registered in LEDGER_CHECKS in the
order they run (beancount's validations; coop.services.checks does the same against the audit chain):
`check_ledger()` runs them all — posted vouchers balanced and unchanged, no posting left behind by a deleted
voucher, gapless numbers, closed months, each voucher's lines by the rules of entry, each year's trial balance,
share registers, no 举债分配. `flask coop verify-ledger` runs exactly these; `check_books()` and `flask coop verify`
add the audit hash chain, the published 财务公开 sheets and the cross-checks against the chain. Each problem is
one precise sentence; no problem, an empty list.

A posting writes the SHA-256 of its voucher's lines (`coop.ledger.digest`) into its audit entry ("voucher.post",
or "voucher.generate" for system entries), and that entry is sealed into the hash chain: a line edited in the
database afterwards no longer matches, and a deleted posted voucher leaves a posting entry with nothing behind it.
"""
from __future__ import annotations

import json
from collections import defaultdict
from functools import cached_property
from typing import Callable

import sqlalchemy as sa

from coop.core import clock
from coop.core.extensions import db
from coop.core.money import from_fen
from coop.ledger.digest import rows_digest
from coop.ledger.types import Line
from coop.ledger.validate import validate_lines
from coop.models import AuditLog, Organization, Period, QuantificationPlan, Voucher, VoucherLine, VoucherSequence
from coop.models.ledger import voucher_number
from coop.services import audit, checks, disclosure, reports, shares
from coop.services.accounts import chart
from coop.services.distribution import overdistributed_years

#: audit actions that record a voucher becoming posted, with its lines' digest
POSTING_ACTIONS = ("voucher.post", "voucher.generate")
#: what the rules of entry allow in posted books that a new voucher may not have: an account that gained 明细 or
#: was deactivated later, a counterparty older than the rule; an unbalanced one is reported with its fen sums
ENTRY_RULES_AFTER_POSTING = ("not_leaf", "inactive", "counterparty_required", "unbalanced")


def _raw_lines() -> dict[int, list[tuple]]:
    """Every voucher's lines straight from the table (amounts as stored, in fen), by voucher id."""
    t = VoucherLine.__table__
    q = sa.select(t.c.voucher_id, t.c.seq, t.c.account_id, sa.type_coerce(t.c.debit, sa.BigInteger),
                  sa.type_coerce(t.c.credit, sa.BigInteger), t.c.summary, t.c.counterparty).order_by(t.c.voucher_id,
                                                                                                      t.c.seq)
    out: dict[int, list[tuple]] = defaultdict(list)
    for vid, *rest in db.session.execute(q):
        out[vid].append(tuple(rest))
    return out


class Books:
    """What the ledger checks read, each part loaded once, on first use, straight from the tables."""

    @cached_property
    def orgs(self) -> dict[int, Organization]:
        return {o.id: o for o in db.session.scalars(sa.select(Organization).order_by(Organization.id))}

    @cached_property
    def names(self) -> dict[int, str]:
        return {i: o.name for i, o in self.orgs.items()}

    @cached_property
    def vouchers(self) -> list:
        vt = Voucher.__table__
        return db.session.execute(sa.select(vt.c.id, vt.c.organization_id, vt.c.date, vt.c.year, vt.c.month,
                                            vt.c.word, vt.c.number, vt.c.status, vt.c.posted_at, vt.c.kind)
                                  .order_by(vt.c.id)).all()

    @cached_property
    def lines(self) -> dict[int, list[tuple]]:
        return _raw_lines()

    @cached_property
    def recorded(self) -> dict[str, tuple[int | None, str | None]]:
        """What each posting recorded, from the audit log: voucher id → (seq, lines digest)."""
        out: dict[str, tuple[int | None, str | None]] = {}
        for seq, target, detail in db.session.execute(
                sa.select(AuditLog.seq, AuditLog.target, AuditLog.detail)
                .where(AuditLog.action.in_(POSTING_ACTIONS)).order_by(AuditLog.id)):
            try:
                digest = json.loads(detail or "{}").get("lines")
            except ValueError:
                digest = None
            out[target or ""] = (seq, digest)
        return out

    def label(self, v) -> str:
        return _label(self.names, v)


Check = Callable[[Books], list[str]]
LEDGER_CHECKS: list[tuple[str, Check]] = []


def ledger_check(label: str):
    def register(fn: Check) -> Check:
        LEDGER_CHECKS.append((label, fn))
        return fn
    return register


def check_ledger() -> list[str]:
    books = Books()
    return [p for _, fn in LEDGER_CHECKS for p in fn(books)]


def _label(org_names: dict, v) -> str:
    number = voucher_number(v.word, v.number)
    return f"{org_names.get(v.organization_id, v.organization_id)} {v.date} {number}（凭证 id {v.id}）"


@ledger_check("已记账凭证借贷平衡、分录与记账时一致")
def posted_vouchers(books: Books) -> list[str]:
    problems = []
    for v in books.vouchers:
        if v.status != "posted":
            continue
        rows = books.lines.get(v.id, [])
        debit, credit = sum(r[2] for r in rows), sum(r[3] for r in rows)
        if not rows:
            problems.append(f"{books.label(v)}：已记账凭证没有分录")
        elif debit != credit:
            problems.append(f"{books.label(v)}：借贷不平衡（借方 {debit / 100:.2f}，贷方 {credit / 100:.2f}）")
        entry = books.recorded.get(str(v.id))
        if entry is None:
            problems.append(f"{books.label(v)}：已记账，但审计日志中没有它的记账记录")
        elif entry[1] is not None and entry[1] != rows_digest(rows):
            problems.append(f"{books.label(v)}：分录与记账时不符（记账后被修改）")
    return problems


@ledger_check("已记账的凭证仍然存在")
def postings_still_there(books: Books) -> list[str]:
    by_id = {v.id for v in books.vouchers}
    problems = []
    for target, (seq, _) in books.recorded.items():
        if not target.isdecimal() or int(target) not in by_id:
            where = f"审计日志第 {seq} 条" if seq else "审计日志"
            problems.append(f"凭证 id {target} 已记账（{where}），但已不存在（被删除）")
    return problems


@ledger_check("凭证号连续")
def gapless_numbers(books: Books) -> list[str]:
    """1…n per organization, month and 凭证字: no gaps, no duplicates."""
    numbers: dict[tuple, list[int]] = defaultdict(list)
    for v in books.vouchers:
        if v.number is not None:
            numbers[(v.organization_id, v.year, v.month, v.word)].append(v.number)
    issued = {(s.organization_id, s.year, s.month, s.word): s.last_number
              for s in db.session.scalars(sa.select(VoucherSequence))}
    problems = []
    for key in sorted(set(numbers) | set(issued), key=lambda k: (k[0], k[1], k[2], k[3])):
        org_id, year, month, word = key
        got = sorted(numbers.get(key, []))
        top = max(got[-1] if got else 0, issued.get(key, 0))
        where = f"{books.names.get(org_id, org_id)} {year}年{month}月 {word}字"
        dups = sorted({n for n in got if got.count(n) > 1})
        if dups:
            problems.append(f"{where}：凭证号重复 {', '.join(map(str, dups))}")
        missing = sorted(set(range(1, top + 1)) - set(got))
        if missing:
            problems.append(f"{where}：凭证号断号 {', '.join(map(str, missing))}（凭证被删除）")
    return problems


@ledger_check("已结账月份试算平衡、结账后无记账")
def closed_months(books: Books) -> list[str]:
    problems = []
    for p in db.session.scalars(sa.select(Period).where(Period.status == "closed")
                                .order_by(Period.organization_id, Period.year, Period.month)):
        org = books.orgs.get(p.organization_id)
        if org is None:
            continue
        if not reports.trial_balance(org, p.year, p.month).balanced:
            problems.append(f"{org.name} {p.year}年{p.month}月（已结账）：试算不平衡")
        if p.closed_at is not None:
            for v in books.vouchers:
                if (v.organization_id, v.year, v.month) == (p.organization_id, p.year, p.month) \
                        and v.status == "posted" and v.posted_at is not None and v.posted_at > p.closed_at:
                    problems.append(f"{books.label(v)}：记账时间晚于该月结账时间（已结账月份被改动）")
    return problems


@ledger_check("已记账凭证符合记账规则")
def entry_rules(books: Books) -> list[str]:
    """Each posted voucher's lines by the rules a new one is held to (coop.ledger.validate), but those that only
    bind new entries (ENTRY_RULES_AFTER_POSTING): amounts on one side, nothing zero, red only in a red voucher."""
    problems = []
    for v in books.vouchers:
        rows = books.lines.get(v.id, [])
        if v.status != "posted" or not rows:  # a posted voucher without lines is posted_vouchers' to report
            continue
        found = chart(books.orgs[v.organization_id])
        lines = [Line(found.codes.get(a, str(a)), from_fen(d), from_fen(c), su or "", cp)
                 for _seq, a, d, c, su, cp in rows]
        red = v.kind == "red" or any(l.debit < 0 or l.credit < 0 for l in lines)
        problems += [f"{books.label(v)}：{i.message}" for i in validate_lines(lines, found.infos, red=red)
                     if i.code not in ENTRY_RULES_AFTER_POSTING]
    return problems


@ledger_check("每年试算平衡")
def yearly_trial_balance(books: Books) -> list[str]:
    this_year = clock.today().year
    return [f"{org.name} {year}年：试算不平衡" for org in books.orgs.values()
            for year in range(org.books_start_year, this_year + 1)
            if not reports.trial_balance(org, year, 1, 12).balanced]


@ledger_check("股权登记簿合计与折股量化方案一致")
def share_registers(books: Books) -> list[str]:
    """The register holds exactly the units the issued plan created."""
    problems = []
    for plan in db.session.scalars(sa.select(QuantificationPlan).where(QuantificationPlan.status == "issued")
                                   .order_by(QuantificationPlan.id)):
        org = books.orgs.get(plan.organization_id)
        if org is None or plan.total_units is None:
            continue
        total = shares.register_total(org)
        if total != plan.total_units:
            problems.append(f"{org.name} 股权登记簿合计 {total} 股，与折股量化方案「{plan.name}」发行的 "
                            f"{plan.total_units} 股不符")
    return problems


@ledger_check("无举债分配")
def no_distribution_into_debt(books: Books) -> list[str]:
    """A year whose distributions left 未分配收益 in debit (RULES §7)."""
    return [f"{org.name}：{o.message}" for org in books.orgs.values() for o in overdistributed_years(org)]


def check_books() -> list[str]:
    """Every problem: the ledger checks, the audit log's hash chain and every published sheet's digests."""
    return check_ledger() + audit.verify_chain() + disclosure.verify_published() + checks.run_all()
