"""The bank (RULES §15): bank accounts of the 102 leaves, statement import (xlsx/CSV, column mapping remembered per
bank, dry-run, once per file), automatic and manual matching, and the monthly 银行存款余额调节表."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from coop.core import clock
from coop.core.errors import InvalidState, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.ledger import codes, reconcile
from coop.ledger.roles import BANK, ROLE_BY_KEY
from coop.models import Organization, User, Voucher, VoucherLine
from coop.models.cash import (BankAccount, BankColumnMapping, BankMatch, BankStatement, BankStatementLine,
                           Reconciliation)
from coop.models.ledger import VoucherStatus
from coop.core.money import ZERO, format_plain
from coop.services import access, audit
from coop.services.accounts import chart
from coop.services.cashier import book_balance
from coop.services.file_limits import decode_csv

#: the fields a statement column can hold; `amount` (signed) or `money_in` + `money_out`
FIELDS = ("date", "amount", "money_in", "money_out", "reference", "counterparty", "summary", "balance")
#: days a statement line may lie from its book line and still match automatically
MATCH_WINDOW_DAYS = 3


def bank_leaves(org: Organization) -> list[tuple[str, str]]:
    top = ROLE_BY_KEY[BANK].top
    return sorted((c, i.name) for c, i in chart(org).infos.items() if i.is_leaf and i.active and codes.under(c, top))


def _bank_leaf(org: Organization, code: str, field: str = "account_code") -> str:
    if code not in dict(bank_leaves(org)):
        raise ValidationFailed.field(field, f"{code} 不是银行存款的末级科目")
    return code


def set_account(org: Organization, *, user: User, account_code: str, bank_name: str, account_no: str | None = None,
                personal: bool = False) -> BankAccount:
    """Register which bank a 102 leaf is at (its statement layout is remembered by bank) and whether the account
    is a person's (公款私存, always flagged)."""
    access.require(user, access.CASHIER, org)
    _bank_leaf(org, account_code)
    row = db.session.scalar(sa.select(BankAccount).where(BankAccount.organization_id == org.id,
                                                         BankAccount.account_code == account_code).with_for_update())
    if row is None:
        row = BankAccount(organization_id=org.id, account_code=account_code)
        db.session.add(row)
    row.bank_name, row.account_no, row.personal = bank_name.strip(), (account_no or "").strip() or None, personal
    db.session.flush()
    audit.log("bank.account", user=user, org=org, target=account_code, bank=row.bank_name, personal=personal)
    return row


def account_of(org: Organization, code: str, *, lock: bool = False) -> BankAccount:
    q = sa.select(BankAccount).where(BankAccount.organization_id == org.id, BankAccount.account_code == code)
    row = db.session.scalar(q.with_for_update() if lock else q)
    if row is None:
        raise ValidationFailed.field("account_code", f"请先登记 {code} 的开户银行")
    return row


def remembered_mapping(org: Organization, bank_name: str) -> dict[str, str]:
    row = db.session.scalar(sa.select(BankColumnMapping).where(BankColumnMapping.organization_id == org.id,
                                                               BankColumnMapping.bank_name == bank_name))
    return json.loads(row.mapping) if row else {}


# ---------------------------------------------------------------- reading a statement file


def read_rows(filename: str, data: bytes) -> list[list[str]]:
    """The file's cells as text rows (xlsx: the first sheet; CSV: UTF-8 or GBK)."""
    if not data:
        raise ValidationFailed.field("file", "文件是空的，请重新选择")
    if data.startswith(b"PK"):
        from openpyxl import load_workbook

        try:
            ws = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception:
            raise ValidationFailed.field("file", "无法读取该 xlsx 文件") from None
        return [[_cell(c) for c in row] for row in ws.iter_rows(values_only=True)]
    text = decode_csv(data, "无法识别文件编码，请另存为 UTF-8 CSV 或 xlsx")
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):  # xlsx numbers: their shortest repr, never carried as float further (more than
        return str(Decimal(repr(v)))  # two decimals is refused by _amount, not rounded here)
    return str(v).strip()


def _date(text: str) -> dt.date | None:
    t = text.strip()
    for pattern in (r"^(\d{4})-(\d{1,2})-(\d{1,2})", r"^(\d{4})/(\d{1,2})/(\d{1,2})", r"^(\d{4})(\d{2})(\d{2})$",
                    r"^(\d{4})年(\d{1,2})月(\d{1,2})日"):
        m = re.match(pattern, t)
        if m:
            try:
                return dt.date(*map(int, m.groups()))
            except ValueError:
                return None
    return None


def _amount(text: str) -> Decimal | None:
    t = text.replace(",", "").replace("，", "").replace("¥", "").strip()
    if not t:
        return ZERO
    try:
        d = Decimal(t)
    except InvalidOperation:
        return None
    if not d.is_finite() or d != d.quantize(Decimal("0.01")) or abs(d) >= Decimal("1e11"):
        return None
    return d.quantize(Decimal("0.01"))


@dataclass
class ParsedLine:
    row: int
    date: dt.date
    amount: Decimal
    reference: str | None
    counterparty: str | None
    summary: str | None
    balance: Decimal | None


@dataclass
class ImportResult:
    lines: list[ParsedLine] = field(default_factory=list)
    closing_balance: Decimal | None = None
    statement: BankStatement | None = None
    mapping: dict = field(default_factory=dict)

    @property
    def date_from(self):
        return min((l.date for l in self.lines), default=None)

    @property
    def date_to(self):
        return max((l.date for l in self.lines), default=None)


def parse(rows: list[list[str]], mapping: dict[str, str]) -> list[ParsedLine]:
    """Statement rows under the header row (the first row holding the date column's title)."""
    missing = [k for k in ("date",) if not mapping.get(k)]
    if not mapping.get("amount") and not (mapping.get("money_in") and mapping.get("money_out")):
        missing.append("amount")
    if missing:
        raise ValidationFailed.field(missing[0], "请指定该列在文件中的标题" if missing[0] == "date"
                                     else "请指定「金额」列，或「收入」和「支出」两列")
    header_at = next((i for i, r in enumerate(rows) if mapping["date"] in r), None)
    if header_at is None:
        raise ValidationFailed.field("date", f"文件中找不到标题为「{mapping['date']}」的列")
    header = rows[header_at]
    cols = {}
    for key, title in mapping.items():
        if title:
            if title not in header:
                raise ValidationFailed.field(key, f"文件中找不到标题为「{title}」的列")
            cols[key] = header.index(title)
    out, errors = [], []
    for n, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        if not any(c.strip() for c in row):
            continue
        get = lambda k: row[cols[k]].strip() if k in cols and cols[k] < len(row) else ""  # noqa: E731
        date = _date(get("date"))
        if date is None:
            if get("date").startswith(("合计", "本页", "总计")):  # the bank's own total rows
                continue
            errors.append(f"第{n}行：日期「{get('date')}」无法识别")
            continue
        if "amount" in cols:
            amount = _amount(get("amount"))
        else:
            inn, outn = _amount(get("money_in")), _amount(get("money_out"))
            amount = None if inn is None or outn is None or (inn and outn) else inn - outn
        if amount is None or amount == 0:
            errors.append(f"第{n}行：金额无法识别")
            continue
        balance = _amount(get("balance")) if "balance" in cols and get("balance") else None
        if "balance" in cols and get("balance") and balance is None:
            errors.append(f"第{n}行：余额无法识别")
            continue
        out.append(ParsedLine(n, date, amount, get("reference")[:60] or None, get("counterparty")[:100] or None,
                              get("summary")[:200] or None, balance))
    if errors:
        raise ValidationFailed.field("file", "；".join(errors[:10]) + ("……" if len(errors) > 10 else ""))
    if not out:
        raise ValidationFailed.field("file", "文件中没有交易明细")
    return out


def import_statement(org: Organization, *, user: User, account_code: str, filename: str, data: bytes,
                     mapping: dict[str, str] | None = None, closing_balance: Decimal | None = None,
                     dry_run: bool = False) -> ImportResult:
    """Import a statement of one bank leaf. Mapping: given fields override the one remembered for the bank, and
    the result is remembered. The dry-run reads and checks everything and writes nothing. A file imported once
    (same bytes) is refused."""
    access.require(user, access.CASHIER, org)
    _bank_leaf(org, account_code)
    acct = account_of(org, account_code, lock=not dry_run)  # two imports at once: the second waits
    given = {k: (v or "").strip() for k, v in (mapping or {}).items() if k in FIELDS}
    if given.get("money_in"):  # one way of giving amounts replaces the other
        given.setdefault("amount", "")
    if given.get("amount"):
        given.setdefault("money_in", "")
        given.setdefault("money_out", "")
    # a field given empty clears the remembered column
    used = {k: v for k, v in {**remembered_mapping(org, acct.bank_name), **given}.items() if v}
    sha = hashlib.sha256(data).hexdigest()
    earlier = db.session.scalar(sa.select(BankStatement).where(BankStatement.organization_id == org.id,
                                                               BankStatement.sha256 == sha))
    if earlier is not None:
        raise ValidationFailed.field("file", f"该文件已于 {clock.local(earlier.created_at):%Y-%m-%d} 导入（{earlier.filename}），不能重复导入")
    lines = parse(read_rows(filename, data), used)
    if closing_balance is None:
        last = lines[-1] if lines[-1].date >= lines[0].date else lines[0]  # files run oldest or newest first
        closing_balance = last.balance
    if closing_balance is None:
        raise ValidationFailed.field("closing_balance", "文件没有余额列，请填写对账单的期末余额")
    result = ImportResult(lines, closing_balance, None, used)
    if dry_run:
        return result
    st = BankStatement(organization_id=org.id, account_code=account_code, bank_name=acct.bank_name,
                       filename=filename[:200] or "statement", sha256=sha, date_from=result.date_from,
                       date_to=result.date_to, closing_balance=closing_balance, imported_by_id=user.id)
    db.session.add(st)
    db.session.flush()
    for seq, l in enumerate(lines, start=1):
        db.session.add(BankStatementLine(statement_id=st.id, organization_id=org.id, account_code=account_code, seq=seq,
                                         date=l.date, amount=l.amount, reference=l.reference,
                                         counterparty=l.counterparty, summary=l.summary, balance=l.balance))
    row = db.session.scalar(sa.select(BankColumnMapping).where(BankColumnMapping.organization_id == org.id,
                                                               BankColumnMapping.bank_name == acct.bank_name))
    if row is None:
        db.session.add(BankColumnMapping(organization_id=org.id, bank_name=acct.bank_name, mapping=json.dumps(used, ensure_ascii=False)))
    else:
        row.mapping = json.dumps(used, ensure_ascii=False)
    db.session.flush()
    result.statement = st
    audit.log("bank.import", user=user, org=org, target=account_code, file=filename, sha256=sha, lines=len(lines))
    return result


# ---------------------------------------------------------------- matching


def _book_query(org: Organization, code: str):
    acc_id = chart(org).ids[code]
    return (sa.select(VoucherLine, Voucher).join(Voucher, Voucher.id == VoucherLine.voucher_id)
            .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED,
                   VoucherLine.account_id == acc_id))


def _book_item(line: VoucherLine, v: Voucher) -> reconcile.Item:
    return reconcile.Item(line.id, v.date, line.debit - line.credit, None,
                          f"{v.display_number} {line.summary}" if v.number else line.summary)


def _bank_item(l: BankStatementLine) -> reconcile.Item:
    return reconcile.Item(l.id, l.date, l.amount, l.reference, l.summary or "")


def first_statement_date(org: Organization, code: str) -> dt.date | None:
    return db.session.scalar(sa.select(sa.func.min(BankStatement.date_from)).where(
        BankStatement.organization_id == org.id, BankStatement.account_code == code))


def unmatched(org: Organization, code: str, until: dt.date | None = None
              ) -> tuple[list[BankStatementLine], list[tuple[VoucherLine, Voucher]]]:
    """Statement lines and posted book lines of the leaf not yet matched (book lines from the month of the first
    statement on: what the books held before is in the statement's opening balance); with `until`, not matched
    as at that day."""
    matched_bank = sa.select(BankMatch.statement_line_id)
    matched_book = sa.select(BankMatch.voucher_line_id)
    if until is not None:  # as at `until`: a pair whose other half is dated later was still outstanding then
        vl, v, sl = aliased(VoucherLine), aliased(Voucher), aliased(BankStatementLine)
        matched_bank = (matched_bank.join(vl, vl.id == BankMatch.voucher_line_id).join(v, v.id == vl.voucher_id)
                        .where(v.date <= until))
        matched_book = matched_book.join(sl, sl.id == BankMatch.statement_line_id).where(sl.date <= until)
    bq = sa.select(BankStatementLine).where(
        BankStatementLine.organization_id == org.id, BankStatementLine.account_code == code,
        ~BankStatementLine.id.in_(matched_bank))
    since = first_statement_date(org, code)
    kq = _book_query(org, code).where(~VoucherLine.id.in_(matched_book))
    if since is not None:  # from the month the bank's statements begin
        kq = kq.where(Voucher.date >= since.replace(day=1))
    if until is not None:
        bq = bq.where(BankStatementLine.date <= until)
        kq = kq.where(Voucher.date <= until)
    bank = list(db.session.scalars(bq.order_by(BankStatementLine.date, BankStatementLine.id)))
    book = [tuple(r) for r in db.session.execute(kq.order_by(Voucher.date, Voucher.number, VoucherLine.id)).all()]
    return bank, book


def auto_match(org: Organization, code: str, *, user: User) -> int:
    """Match by amount, date window and reference; returns how many pairs were made."""
    access.require(user, access.CASHIER, org)
    _bank_leaf(org, code)
    account_of(org, code, lock=True)  # one matcher at a time per account: no line matched twice
    bank, book = unmatched(org, code)
    pairs = reconcile.match([_bank_item(b) for b in bank], [_book_item(l, v) for l, v in book],
                            window_days=MATCH_WINDOW_DAYS)
    for bid, kid in pairs:
        db.session.add(BankMatch(organization_id=org.id, statement_line_id=bid, voucher_line_id=kid, kind="auto",
                                 user_id=user.id))
    db.session.flush()
    audit.log("bank.auto_match", user=user, org=org, target=code, pairs=len(pairs))
    return len(pairs)


def manual_match(org: Organization, *, user: User, statement_line_id: int, voucher_line_id: int) -> BankMatch:
    """Match what the automatic pass left: the same account and the same amount, any dates."""
    access.require(user, access.CASHIER, org)
    sl = db.session.get(BankStatementLine, statement_line_id)
    if sl is None or sl.organization_id != org.id:
        raise ValidationFailed.field("statement_line_id", "找不到该对账单明细")
    account_of(org, sl.account_code, lock=True)
    row = db.session.execute(_book_query(org, sl.account_code).where(VoucherLine.id == voucher_line_id)).first()
    if row is None:
        raise ValidationFailed.field("voucher_line_id", "找不到同一银行科目下已记账的分录")
    line, v = row
    if line.debit - line.credit != sl.amount:
        raise ValidationFailed.field("voucher_line_id", f"金额不符：对账单 {format_plain(sl.amount)}，账面 {format_plain(line.debit - line.credit)}")
    taken = db.session.scalar(sa.select(sa.func.count()).select_from(BankMatch).where(sa.or_(
        BankMatch.statement_line_id == sl.id, BankMatch.voucher_line_id == line.id)))
    if taken:
        raise InvalidState("该明细或分录已经勾对")
    m = BankMatch(organization_id=org.id, statement_line_id=sl.id, voucher_line_id=line.id, kind="manual",
                  user_id=user.id)
    db.session.add(m)
    db.session.flush()
    audit.log("bank.manual_match", user=user, org=org, target=sl.account_code, statement_line=sl.id, voucher_line=line.id)
    return m


def unmatch(org: Organization, *, user: User, match_id: int) -> None:
    access.require(user, access.CASHIER, org)
    m = db.session.get(BankMatch, match_id)
    if m is None or m.organization_id != org.id:
        raise NotFound("找不到该勾对")
    sl = db.session.get(BankStatementLine, m.statement_line_id)
    final = db.session.scalar(sa.select(Reconciliation.id).where(
        Reconciliation.organization_id == org.id, Reconciliation.account_code == sl.account_code,
        (Reconciliation.year * 100 + Reconciliation.month) >= sl.date.year * 100 + sl.date.month))
    if final is not None:
        raise InvalidState("该月的余额调节表已定稿，不能取消勾对")
    db.session.delete(m)
    db.session.flush()
    audit.log("bank.unmatch", user=user, org=org, target=sl.account_code, statement_line=sl.id)


# ---------------------------------------------------------------- 银行存款余额调节表


def _month_end(year: int, month: int) -> dt.date:
    return (dt.date(year, month, 28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def bank_balance(org: Organization, code: str, on: dt.date) -> Decimal:
    """The bank's balance at the end of `on`: the closing balance of the latest statement ending that month."""
    st = db.session.scalar(sa.select(BankStatement).where(
        BankStatement.organization_id == org.id, BankStatement.account_code == code,
        BankStatement.date_to <= on, BankStatement.date_to >= on.replace(day=1))
        .order_by(BankStatement.date_to.desc(), BankStatement.id.desc()).limit(1))
    if st is None:
        raise ValidationFailed.field("month", f"{on:%Y年%m月} 没有导入截至月末的银行对账单")
    return st.closing_balance


def has_statement(org: Organization, code: str, year: int, month: int) -> bool:
    _bank_leaf(org, code)
    end = _month_end(year, month)
    return db.session.scalar(sa.select(sa.func.count()).select_from(BankStatement).where(
        BankStatement.organization_id == org.id, BankStatement.account_code == code,
        BankStatement.date_to <= end, BankStatement.date_to >= end.replace(day=1))) > 0


def book_balance_at(org: Organization, code: str, year: int, month: int) -> Decimal:
    return book_balance(org, _bank_leaf(org, code), _month_end(year, month))


def statement_for(org: Organization, code: str, year: int, month: int) -> reconcile.Statement:
    _bank_leaf(org, code)
    end = _month_end(year, month)
    bank, book = unmatched(org, code, until=end)
    return reconcile.statement(bank_balance(org, code, end), book_balance(org, code, end),
                               [_bank_item(b) for b in bank], [_book_item(l, v) for l, v in book])


def saved(org: Organization, code: str, year: int, month: int) -> Reconciliation | None:
    return db.session.scalar(sa.select(Reconciliation).where(
        Reconciliation.organization_id == org.id, Reconciliation.account_code == code,
        Reconciliation.year == year, Reconciliation.month == month))


def _items_json(s: reconcile.Statement) -> str:
    def rows(items):
        return [{"date": i.date.isoformat(), "amount": format_plain(i.amount), "reference": i.reference,
                 "summary": i.summary} for i in items]
    return json.dumps({"book_in": rows(s.book_in), "book_out": rows(s.book_out), "bank_in": rows(s.bank_in),
                       "bank_out": rows(s.bank_out)}, ensure_ascii=False)


def save_final(org: Organization, code: str, year: int, month: int, *, user: User) -> Reconciliation:
    """Save the month's 调节表 as final: only when the two adjusted balances agree to the fen; once per month."""
    access.require(user, access.CASHIER, org)
    account_of(org, code, lock=True)
    if saved(org, code, year, month) is not None:
        raise InvalidState(f"{year}年{month}月的余额调节表已定稿")
    s = statement_for(org, code, year, month)
    if not s.agrees:
        raise ValidationFailed.field(
            "month", f"调节后余额不一致：银行方 {format_plain(s.adjusted_bank)}，账面方 {format_plain(s.adjusted_book)}，"
                     f"相差 {format_plain(s.adjusted_bank - s.adjusted_book)}；请继续勾对或检查记账")
    row = Reconciliation(organization_id=org.id, account_code=code, year=year, month=month,
                         bank_balance=s.bank_balance, book_balance=s.book_balance, adjusted_bank=s.adjusted_bank,
                         adjusted_book=s.adjusted_book, items=_items_json(s), saved_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    audit.log("bank.reconciliation", user=user, org=org, target=code, year=year, month=month,
              adjusted=format_plain(s.adjusted_bank))
    return row


def statements(org: Organization) -> list[BankStatement]:
    return list(db.session.scalars(sa.select(BankStatement).where(BankStatement.organization_id == org.id)
                                   .order_by(BankStatement.date_to.desc(), BankStatement.id.desc())))
