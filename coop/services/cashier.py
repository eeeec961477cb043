"""出纳 (RULES §15): 现金日记账 and 银行日记账 per cash/bank leaf from posted vouchers (running balance, 对方科目, daily
totals: 日清月结), cash counts against the book, and the 出纳's signature on vouchers that move money."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from coop.core.errors import Forbidden, InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.core.text import N_
from coop.ledger import codes
from coop.ledger.roles import BANK, CASH, ROLE_BY_KEY
from coop.models import Account, Organization, User, Voucher, VoucherLine
from coop.models.cash import CashCount, CashierSignature
from coop.models.ledger import VoucherStatus, voucher_number
from coop.core.money import ZERO, format_plain
from coop.services import access, audit, reports, warnings
from coop.services.accounts import chart
from coop.core import clock
from coop.services.spending import policy_for
from coop.services.warnings import Warning
from coop.services.balances import opening_balances
from coop.services.roles import resolve
from coop.services.vouchers import generated_by


def is_money_leaf(code: str) -> bool:
    return any(codes.under(code, ROLE_BY_KEY[k].top) for k in (CASH, BANK))


def _check_leaf(org: Organization, code: str, field: str = "account_code") -> str:
    info = chart(org).infos.get(code)
    if info is None or not info.is_leaf or not is_money_leaf(code):
        raise ValidationFailed.field(field, f"{code} 不是库存现金或银行存款的末级科目")
    return code


@dataclass
class JournalRow:
    date: dt.date
    voucher_id: int | None
    voucher_no: str
    summary: str
    other: str  # 对方科目
    debit: Decimal
    credit: Decimal
    balance: Decimal
    kind: str = "line"  # line / day (本日合计) / month (本月合计)


@dataclass
class Journal:
    code: str
    name: str
    year: int
    month: int
    opening: Decimal
    rows: list[JournalRow] = field(default_factory=list)

    @property
    def closing(self) -> Decimal:
        return self.rows[-1].balance if self.rows else self.opening


def journal(org: Organization, code: str, year: int, month: int) -> Journal:
    """The 日记账 of one cash or bank leaf for a month: each posted line with its 对方科目 and running balance,
    a 本日合计 after each day and the 本月合计 at the end."""
    _check_leaf(org, code)
    infos = chart(org).infos
    first = dt.date(year, month, 1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    opening = reports.leaf_balances(org, until=first - dt.timedelta(days=1)).get(code, ZERO)
    acc_id = chart(org).ids[code]
    lines = list(db.session.execute(
        sa.select(VoucherLine, Voucher).join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED,
               VoucherLine.account_id == acc_id,
               Voucher.date >= first, Voucher.date <= last)
        .order_by(Voucher.date, Voucher.number, Voucher.id, VoucherLine.seq)).all())
    others = _other_accounts(org, {v.id for _, v in lines}, acc_id)
    j = Journal(code, infos[code].name, year, month, opening)
    bal = opening
    day_d = day_c = month_d = month_c = ZERO
    for i, (line, v) in enumerate(lines):
        bal += line.debit - line.credit
        day_d += line.debit
        day_c += line.credit
        j.rows.append(JournalRow(v.date, v.id, voucher_number(v.word, v.number, ""), line.summary,
                                 others.get(v.id, ""), line.debit, line.credit, bal))
        if i + 1 == len(lines) or lines[i + 1][1].date != v.date:
            j.rows.append(JournalRow(v.date, None, "", "本日合计", "", day_d, day_c, bal, "day"))
            month_d, month_c = month_d + day_d, month_c + day_c
            day_d = day_c = ZERO
    j.rows.append(JournalRow(last, None, "", "本月合计", "", month_d, month_c, bal, "month"))
    return j


def _other_accounts(org: Organization, voucher_ids: set[int], acc_id: int) -> dict[int, str]:
    """voucher id → the other accounts of its lines (对方科目), e.g. '513 管理费用、10202 邮储银行专户'."""
    if not voucher_ids:
        return {}
    rows = db.session.execute(sa.select(VoucherLine.voucher_id, Account.code, Account.name)
                              .join(Account, Account.id == VoucherLine.account_id)
                              .where(VoucherLine.voucher_id.in_(voucher_ids), VoucherLine.account_id != acc_id)
                              .order_by(VoucherLine.voucher_id, VoucherLine.seq)).all()
    out: dict[int, list[str]] = {}
    for vid, code, name in rows:
        label = f"{code} {name}"
        if label not in out.setdefault(vid, []):
            out[vid].append(label)
    return {k: "、".join(v) for k, v in out.items()}


def book_balance(org: Organization, code: str, on: dt.date) -> Decimal:
    return reports.leaf_balances(org, until=on).get(code, ZERO)


def record_count(org: Organization, *, user: User, account_code: str, date: dt.date, counted: Decimal,
                 note: str | None = None) -> CashCount:
    """库存现金盘点: counted against the book balance at the end of `date`; a difference is kept and flagged."""
    access.require(user, access.CASHIER, org)
    _check_leaf(org, account_code)
    if not codes.under(account_code, ROLE_BY_KEY[CASH].top):
        raise ValidationFailed.field("account_code", "盘点只适用于库存现金科目")
    if date > clock.today():
        raise ValidationFailed.field("date", "盘点日期不能晚于今天")
    if counted < 0:
        raise ValidationFailed.field("counted", "实存金额不能为负")
    book = book_balance(org, account_code, date)
    row = CashCount(organization_id=org.id, account_code=account_code, date=date, counted=counted, book=book,
                    difference=counted - book, counted_by_id=user.id, note=(note or "").strip() or None)
    db.session.add(row)
    db.session.flush()
    audit.log("cash.count", user=user, org=org, target=account_code, date=str(date), counted=format_plain(counted),
              book=format_plain(book))
    return row


def counts(org: Organization) -> list[CashCount]:
    return list(db.session.scalars(sa.select(CashCount).where(CashCount.organization_id == org.id)
                                   .order_by(CashCount.date.desc(), CashCount.id.desc())))


def moves_money(org: Organization, voucher: Voucher) -> bool:
    ids = {acc_id: code for code, acc_id in chart(org).ids.items()}
    return any(is_money_leaf(ids.get(l.account_id, "")) for l in voucher.lines)


def sign(voucher: Voucher, *, user: User) -> CashierSignature:
    """The 出纳 signs a voucher that moves money (after paying or receiving it); once per voucher."""
    org = db.session.get(Organization, voucher.organization_id)
    if "cashier" not in access.roles_on(user, org):
        raise Forbidden("只有出纳可以签字")
    if user.id in (voucher.preparer_id, voucher.reviewer_id, voucher.poster_id):
        raise Forbidden("钱账分管：制单、审核或记账的人不能再以出纳签字")
    if voucher.status not in (VoucherStatus.REVIEWED, VoucherStatus.POSTED):
        raise InvalidState("凭证审核后出纳才能签字")
    if not moves_money(org, voucher):
        raise InvalidState("该凭证不涉及现金或银行存款，无需出纳签字")
    db.session.execute(sa.select(Voucher.id).where(Voucher.id == voucher.id).with_for_update())
    if db.session.scalar(sa.select(CashierSignature).where(CashierSignature.voucher_id == voucher.id)) is not None:
        raise InvalidState("出纳已在该凭证上签字")
    sig = CashierSignature(voucher_id=voucher.id, user_id=user.id)
    db.session.add(sig)
    db.session.flush()
    audit.log("voucher.cashier_sign", user=user, org=org, target=str(voucher.id))
    return sig


def awaiting_signature(org: Organization, limit: int = 50) -> list[Voucher]:
    """Reviewed or posted vouchers that move money and have no 出纳 signature yet, oldest first."""
    leaves = [acc_id for code, acc_id in chart(org).ids.items() if is_money_leaf(code)]
    if not leaves:
        return []
    money = sa.select(VoucherLine.voucher_id).where(VoucherLine.account_id.in_(leaves))
    return list(db.session.scalars(sa.select(Voucher).where(
        Voucher.organization_id == org.id, Voucher.status.in_((VoucherStatus.REVIEWED, VoucherStatus.POSTED)),
        Voucher.id.in_(money),
        ~Voucher.id.in_(sa.select(CashierSignature.voucher_id))).order_by(Voucher.date, Voucher.number).limit(limit)))


def cashier_name(voucher_id: int) -> str:
    """The name in the 出纳 slot of the printed form ('' until signed)."""
    name = db.session.scalar(sa.select(User.display_name).join(CashierSignature, CashierSignature.user_id == User.id)
                             .where(CashierSignature.voucher_id == voucher_id))
    return name or ""


# ---------------------------------------------------------------- 三色预警 rules of 报账/出纳 (warnings.py calls these)


def _posted_money_lines(org: Organization, today: dt.date):
    """(voucher, line, code) of posted lines on cash and bank leaves up to `today`, in date order."""
    leaves = {acc_id: code for code, acc_id in chart(org).ids.items() if is_money_leaf(code)}
    if not leaves:
        return []
    rows = db.session.execute(
        sa.select(Voucher, VoucherLine).join(VoucherLine, VoucherLine.voucher_id == Voucher.id)
        .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.date <= today,
               VoucherLine.account_id.in_(leaves))
        .order_by(Voucher.date, Voucher.number, Voucher.id, VoucherLine.seq)).all()
    return [(v, l, leaves[l.account_id]) for v, l in rows]


def _is_cash(code: str) -> bool:
    return codes.under(code, ROLE_BY_KEY[CASH].top)


def _facts(rows: list[str]) -> list[str]:
    return rows[:20] + (["……"] if len(rows) > 20 else [])


def _cash_payment_over_limit(org, today, lines):
    """A single cash payment (not a deposit into the bank) above the county's limit."""
    limit = policy_for(org).cash_payment_limit
    banked = {v.id for v, l, c in lines if not _is_cash(c)}
    found = [f"{v.date} {v.display_number} {l.summary} {format_plain(l.credit)}" for v, l, c in lines
             if _is_cash(c) and l.credit > limit and v.id not in banked]
    if found:
        return Warning("cash_payment_over_limit", "yellow", N_("现金支付超过限额"),
                       [f"单笔现金支付限额 {format_plain(limit)}"] + _facts(found))
    return None


def _sitting_receipts(org, today, lines):
    """坐收坐支: on a day the cash leaf took in money from outside the bank and paid out more than it held at the
    start of the day, to somewhere other than the bank — receipts spent without passing the bank."""
    banked = {v.id for v, l, c in lines if not _is_cash(c)}
    balance = {c: b for c, b in opening_balances(org).items() if _is_cash(c)}
    days: dict[tuple[str, dt.date], list[Decimal]] = {}
    order = []
    for v, l, c in lines:
        if not _is_cash(c):
            continue
        key = (c, v.date)
        if key not in days:
            days[key] = [ZERO, ZERO, ZERO]  # receipts from outside the bank, payments outside the bank, net
            order.append(key)
        if v.id not in banked:
            days[key][0] += l.debit
            days[key][1] += l.credit
        days[key][2] += l.debit - l.credit
    found = []
    for c, d in order:
        received, paid, net = days[(c, d)]
        start = balance.get(c, ZERO)
        if received > 0 and paid > 0 and paid > start:
            found.append(f"{d} {c}：当日收现 {format_plain(received)}，付现 {format_plain(paid)}，日初余额 {format_plain(start)}")
        balance[c] = start + net
    if found:
        return Warning("sitting_receipts", "red", N_("坐收坐支（现金收入未存银行直接支出）"), _facts(found))
    return None


def _personal_account(org, today, lines):
    """Collective money in a person's account (农村集体经济组织法 art. 44): any movement on a 102 leaf whose bank
    account is registered as personal."""
    from coop.models.cash import BankAccount

    personal = set(db.session.scalars(sa.select(BankAccount.account_code).where(
        BankAccount.organization_id == org.id, BankAccount.personal.is_(True))))
    found = [f"{v.date} {v.display_number} {c} {l.summary} {format_plain(l.debit - l.credit)}"
             for v, l, c in lines if c in personal]
    if found:
        return Warning("personal_account", "red", N_("集体资金存入个人账户"), _facts(found))
    return None


def _spending_without_request(org, today, lines):
    """A payment booked to an expense above the county's threshold without an approved 报账单 behind it."""
    from coop.core.errors import CoopError
    from coop.ledger.roles import EXPENSE_ROLES
    from coop.models.cash import SpendingRequest

    limit = policy_for(org).request_required_above
    expense_ids = set()
    for key in EXPENSE_ROLES:
        try:
            expense_ids.add(chart(org).ids[resolve(org, key)])
        except CoopError:  # a category the books have not mapped cannot have been booked by a request
            continue
    paying = {v.id: v for v, l, c in lines if l.credit > 0}
    if not paying or not expense_ids:
        return None
    requested = set(db.session.scalars(sa.select(SpendingRequest.voucher_id).where(
        SpendingRequest.organization_id == org.id, SpendingRequest.voucher_id.is_not(None))))
    rows = db.session.execute(sa.select(VoucherLine.voucher_id, VoucherLine.debit, VoucherLine.summary).where(
        VoucherLine.voucher_id.in_(set(paying) - requested), VoucherLine.account_id.in_(expense_ids))).all()

    # a register's own voucher (loan interest, 贴息, distribution…) is approved where the register is
    found = [f"{paying[vid].date} {paying[vid].display_number} {summary} {format_plain(debit)}"
             for vid, debit, summary in rows
             if debit > limit and paying[vid].kind in ("normal", "adjust") and generated_by(paying[vid]) is None]
    if found:
        return Warning("spending_without_request", "yellow", N_("支出未经报账审批"),
                       [f"超过 {format_plain(limit)} 的支出应有已批准的报账单"] + _facts(found))
    return None


def _cash_count_difference(org, today, lines):
    """The latest count of a cash leaf differs from the book (盘盈/盘亏 not yet explained)."""
    latest: dict[str, CashCount] = {}
    for c in counts(org):  # newest first
        latest.setdefault(c.account_code, c)
    found = [f"{c.date} {code}：实存 {format_plain(c.counted)}，账存 {format_plain(c.book)}，差额 {format_plain(c.difference)}"
             for code, c in sorted(latest.items()) if c.difference != 0 and c.date <= today]
    if found:
        return Warning("cash_count_difference", "yellow", N_("库存现金盘点账实不符"), found)
    return None


#: the 三色预警 rules of 报账/出纳, run by warnings.warnings_for
WARNING_RULES = (_cash_payment_over_limit, _sitting_receipts, _personal_account, _spending_without_request,
                 _cash_count_difference)


@warnings.rule(70)
def cash_warnings(org: Organization, today: dt.date) -> list:
    lines = _posted_money_lines(org, today)
    return [w for rule in WARNING_RULES if (w := rule(org, today, lines)) is not None]
