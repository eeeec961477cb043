"""Bank reconciliation, pure (RULES §15): matching statement lines to book lines, and the 银行存款余额调节表.

Amounts are signed from the organization's side: > 0 money into the account (bank 收入 / book 借方),
< 0 money out. No database here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Item:
    id: int
    date: dt.date
    amount: Decimal
    reference: str | None = None
    summary: str = ""


def _ref(text: str | None) -> str:
    return "".join((text or "").split()).upper()


def _same_reference(bank: Item, book: Item) -> bool:
    """The bank's reference (流水号/票据号) appears in the book line's summary or reference, or the reverse."""
    a, b = _ref(bank.reference), _ref(book.reference) + _ref(book.summary)
    return bool(a) and a in b or bool(_ref(book.reference)) and _ref(book.reference) in _ref(bank.reference)


def match(bank: list[Item], book: list[Item], *, window_days: int = 3) -> list[tuple[int, int]]:
    """(bank id, book id) pairs: equal amount, dates at most `window_days` apart. Each line is used once.
    Candidates with the same reference go first, then the closest dates, then the lowest ids (deterministic)."""
    candidates = []
    for b in bank:
        for k in book:
            if b.amount != k.amount:
                continue
            gap = abs((b.date - k.date).days)
            if gap > window_days:
                continue
            candidates.append((0 if _same_reference(b, k) else 1, gap, b.id, k.id))
    candidates.sort()
    used_bank: set[int] = set()
    used_book: set[int] = set()
    pairs = []
    for _, _, bid, kid in candidates:
        if bid in used_bank or kid in used_book:
            continue
        used_bank.add(bid)
        used_book.add(kid)
        pairs.append((bid, kid))
    return sorted(pairs)


@dataclass
class Statement:
    """银行存款余额调节表. Four kinds of 未达账项:
    book_in  企业已收、银行未收   book_out 企业已付、银行未付
    bank_in  银行已收、企业未收   bank_out 银行已付、企业未付"""

    bank_balance: Decimal
    book_balance: Decimal
    book_in: list[Item] = field(default_factory=list)
    book_out: list[Item] = field(default_factory=list)
    bank_in: list[Item] = field(default_factory=list)
    bank_out: list[Item] = field(default_factory=list)

    @staticmethod
    def _sum(items: list[Item]) -> Decimal:
        return sum((abs(i.amount) for i in items), ZERO)

    @property
    def adjusted_bank(self) -> Decimal:
        """银行对账单余额 + 企业已收银行未收 − 企业已付银行未付."""
        return self.bank_balance + self._sum(self.book_in) - self._sum(self.book_out)

    @property
    def adjusted_book(self) -> Decimal:
        """银行存款日记账余额 + 银行已收企业未收 − 银行已付企业未付."""
        return self.book_balance + self._sum(self.bank_in) - self._sum(self.bank_out)

    @property
    def agrees(self) -> bool:
        return self.adjusted_bank == self.adjusted_book


def statement(bank_balance: Decimal, book_balance: Decimal, unmatched_bank: list[Item],
              unmatched_book: list[Item]) -> Statement:
    """The 调节表 from the two balances and what is left unmatched on each side."""
    return Statement(
        bank_balance, book_balance,
        book_in=[i for i in unmatched_book if i.amount > 0], book_out=[i for i in unmatched_book if i.amount < 0],
        bank_in=[i for i in unmatched_bank if i.amount > 0], bank_out=[i for i in unmatched_bank if i.amount < 0])
