"""Integrity of the books, re-checked from the database alone (`flask --app wsgi coop verify`, `coop restore`).

`check_ledger()` covers the vouchers, numbering, closed months and share registers; `check_books()` adds the
audit hash chain and the published 财务公开 sheets. Each returns a list of precise problems, empty when all is well.

A posting writes the SHA-256 of its voucher's lines (`lines_digest`) into its audit entry ("voucher.post", or
"voucher.generate" for system entries), and that entry is sealed into the hash chain: a line edited in the database
afterwards no longer matches, and a deleted posted voucher leaves a posting entry with nothing behind it.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import Account, AuditLog, Organization, Period, Voucher, VoucherLine, VoucherSequence
from coop.models.ledger import PeriodStatus, VoucherStatus, voucher_number
from coop.models.members import QuantificationStatus

#: audit actions that record a voucher becoming posted, with its lines' digest
POSTING_ACTIONS = ("voucher.post", "voucher.generate")


def _digest(rows) -> str:
    """rows: (seq, account_id, debit_fen, credit_fen, summary, counterparty) in seq order."""
    canon = [[int(s), int(a), int(d), int(c), su or "", cp or ""] for s, a, d, c, su, cp in rows]
    return hashlib.sha256(json.dumps(canon, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def digest_of(lines: list[dict]) -> str:
    """`lines_digest` of lines given as column values (seq, account_id, debit, credit, summary, counterparty)."""
    from coop.core.money import to_fen

    return _digest((l["seq"], l["account_id"], to_fen(l["debit"]), to_fen(l["credit"]), l["summary"], l["counterparty"])
                   for l in sorted(lines, key=lambda l: l["seq"]))


def lines_digest(voucher: Voucher) -> str:
    """Digest of a voucher's lines as they are in the session (called when posting; flushed lines)."""
    from coop.core.money import to_fen

    return _digest((l.seq, l.account_id, to_fen(l.debit), to_fen(l.credit), l.summary, l.counterparty)
                   for l in sorted(voucher.lines, key=lambda l: l.seq))


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


def _label(org_names: dict, v) -> str:
    number = voucher_number(v.word, v.number)
    return f"{org_names.get(v.organization_id, v.organization_id)} {v.date} {number}（凭证 id {v.id}）"


def check_ledger() -> list[str]:
    from coop.services import reports, shares
    from coop.models import QuantificationPlan

    problems: list[str] = []
    orgs = {o.id: o for o in db.session.scalars(sa.select(Organization).order_by(Organization.id))}
    names = {i: o.name for i, o in orgs.items()}
    vt = Voucher.__table__
    vouchers = db.session.execute(sa.select(vt.c.id, vt.c.organization_id, vt.c.date, vt.c.year, vt.c.month,
                                            vt.c.word, vt.c.number, vt.c.status, vt.c.posted_at)
                                  .order_by(vt.c.id)).all()
    by_id = {v.id: v for v in vouchers}
    lines = _raw_lines()

    # what each posting recorded, from the audit log
    recorded: dict[str, tuple[int | None, str | None]] = {}
    for seq, target, detail in db.session.execute(
            sa.select(AuditLog.seq, AuditLog.target, AuditLog.detail)
            .where(AuditLog.action.in_(POSTING_ACTIONS)).order_by(AuditLog.id)):
        try:
            digest = json.loads(detail or "{}").get("lines")
        except ValueError:
            digest = None
        recorded[target or ""] = (seq, digest)

    # 1. posted vouchers: balanced, lines as they were when posted
    for v in vouchers:
        if v.status != VoucherStatus.POSTED:
            continue
        rows = lines.get(v.id, [])
        debit, credit = sum(r[2] for r in rows), sum(r[3] for r in rows)
        if not rows:
            problems.append(f"{_label(names, v)}：已记账凭证没有分录")
        elif debit != credit:
            problems.append(f"{_label(names, v)}：借贷不平衡（借方 {debit / 100:.2f}，贷方 {credit / 100:.2f}）")
        entry = recorded.get(str(v.id))
        if entry is None:
            problems.append(f"{_label(names, v)}：已记账，但审计日志中没有它的记账记录")
        elif entry[1] is not None and entry[1] != _digest(rows):
            problems.append(f"{_label(names, v)}：分录与记账时不符（记账后被修改）")

    # 2. a posting whose voucher is gone
    for target, (seq, _) in recorded.items():
        if not target.isdecimal() or int(target) not in by_id:
            where = f"审计日志第 {seq} 条" if seq else "审计日志"
            problems.append(f"凭证 id {target} 已记账（{where}），但已不存在（被删除）")

    # 3. numbering: 1…n per organization, month and 凭证字, no gaps, no duplicates
    numbers: dict[tuple, list[int]] = defaultdict(list)
    for v in vouchers:
        if v.number is not None:
            numbers[(v.organization_id, v.year, v.month, v.word)].append(v.number)
    issued = {(s.organization_id, s.year, s.month, s.word): s.last_number
              for s in db.session.scalars(sa.select(VoucherSequence))}
    for key in sorted(set(numbers) | set(issued), key=lambda k: (k[0], k[1], k[2], k[3])):
        org_id, year, month, word = key
        got = sorted(numbers.get(key, []))
        top = max(got[-1] if got else 0, issued.get(key, 0))
        where = f"{names.get(org_id, org_id)} {year}年{month}月 {word}字"
        dups = sorted({n for n in got if got.count(n) > 1})
        if dups:
            problems.append(f"{where}：凭证号重复 {', '.join(map(str, dups))}")
        missing = sorted(set(range(1, top + 1)) - set(got))
        if missing:
            problems.append(f"{where}：凭证号断号 {', '.join(map(str, missing))}（凭证被删除）")

    # 4. closed months: balanced trial balance, nothing posted after the close
    for p in db.session.scalars(sa.select(Period).where(Period.status == PeriodStatus.CLOSED)
                                .order_by(Period.organization_id, Period.year, Period.month)):
        org = orgs.get(p.organization_id)
        if org is None:
            continue
        if not reports.trial_balance(org, p.year, p.month).balanced:
            problems.append(f"{org.name} {p.year}年{p.month}月（已结账）：试算不平衡")
        if p.closed_at is not None:
            for v in vouchers:
                if (v.organization_id, v.year, v.month) == (p.organization_id, p.year, p.month) \
                        and v.status == VoucherStatus.POSTED and v.posted_at is not None and v.posted_at > p.closed_at:
                    problems.append(f"{_label(names, v)}：记账时间晚于该月结账时间（已结账月份被改动）")

    # 5. share registers: the register holds exactly the units the issued plan created
    for plan in db.session.scalars(sa.select(QuantificationPlan).where(QuantificationPlan.status == QuantificationStatus.ISSUED)
                                   .order_by(QuantificationPlan.id)):
        org = orgs.get(plan.organization_id)
        if org is None or plan.total_units is None:
            continue
        total = shares.register_total(org)
        if total != plan.total_units:
            problems.append(f"{org.name} 股权登记簿合计 {total} 股，与折股量化方案「{plan.name}」发行的 "
                            f"{plan.total_units} 股不符")

    # 6. no 举债分配: a year whose distributions left 未分配收益 in debit (RULES §7)
    for org in orgs.values():
        problems += [f"{org.name}：{o.message}" for o in overdistributed_years(org)]
    return problems


@dataclass
class OverDistribution:
    year: int
    closing: Decimal  # 未分配收益 right after the distribution, credit positive (negative: a debit balance)
    distributed: Decimal  # distributions (32201) booked in the year
    voucher: str = ""  # the distribution that went too far

    @property
    def message(self) -> str:
        from coop.core.money import format_plain

        return (f"{self.voucher} 分配后未分配收益为借方 {format_plain(-self.closing)}（{self.year}年分配合计 "
                f"{format_plain(self.distributed)}，分配超过可分配收益，禁止举债分配）")


def overdistributed_years(org: Organization) -> list[OverDistribution]:
    """Distributions that left 未分配收益 in debit (RULES §7), one per year: after each voucher that debits 32201
    (hand-made ones included), what 322 holds — with the year's 321 and 损益 for a distribution made in December,
    when the year's result is what is being distributed. A later loss is not a distribution's fault. Data from
    before this check existed is flagged too."""
    from coop.ledger import codes
    from coop.ledger.chart import CURRENT_YEAR_PROFIT, DISTRIBUTIONS, PNL, chart_account
    from coop.services import periods, reports

    dist_prefix = periods.in_books(org, DISTRIBUTIONS)
    equity = codes.top(DISTRIBUTIONS)  # 收益分配
    d = sa.type_coerce(VoucherLine.debit, sa.BigInteger)
    c = sa.type_coerce(VoucherLine.credit, sa.BigInteger)
    rows = db.session.execute(
        sa.select(Voucher, sa.func.sum(d - c)).join(VoucherLine, VoucherLine.voucher_id == Voucher.id)
        .join(Account, Account.id == VoucherLine.account_id)
        .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.kind != "carryover",
               Account.code.startswith(dist_prefix))
        .group_by(Voucher.id).order_by(Voucher.date, Voucher.number)).all()
    by_year: dict[int, Decimal] = defaultdict(Decimal)
    worst: dict[int, tuple[Decimal, str]] = {}
    for v, fen in rows:
        amount = Decimal(int(fen)) / 100
        by_year[v.year] += amount
        if amount <= 0:
            continue
        bal = reports.leaf_balances(org, until=v.date)
        december = v.month == 12
        left = -sum((b for code, b in bal.items() if code.startswith(equity) or (december and (
            code.startswith(CURRENT_YEAR_PROFIT) or chart_account(code).category == PNL))), Decimal(0))
        if left < 0 and (v.year not in worst or left < worst[v.year][0]):
            worst[v.year] = (left, f"{v.date.isoformat()} {v.display_number}")
    return [OverDistribution(y, left, by_year[y], label) for y, (left, label) in sorted(worst.items())]


def check_books() -> list[str]:
    """Every problem: the ledger checks, the audit log's hash chain and every published sheet's digests."""
    from coop.services import audit, checks, disclosure

    return check_ledger() + audit.verify_chain() + disclosure.verify_published() + checks.run_all()
