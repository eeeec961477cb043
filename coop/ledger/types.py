"""Plain records the ledger rules work on. Amounts are Decimal yuan; balances are signed, debit positive."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from coop.core.money import ZERO


@dataclass(frozen=True)
class Line:
    account_code: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    summary: str = ""
    #: auxiliary reference (往来单位, project or village name)
    counterparty: str | None = None

    @property
    def signed(self) -> Decimal:
        """Debit-positive effect of this line on its account."""
        return self.debit - self.credit


@dataclass(frozen=True)
class Entry:
    date: dt.date
    summary: str
    lines: tuple[Line, ...]
    red: bool = False


@dataclass(frozen=True)
class LedgerIssue:
    """One problem with an input, addressed by a field path such as ``lines.1.debit``."""

    path: str
    message: str
    code: str = "invalid"


@dataclass
class AccountInfo:
    """What validation needs to know about an account code."""

    code: str
    name: str
    is_leaf: bool = True
    active: bool = True


@dataclass(frozen=True)
class StatementRow:
    """One row of a financial statement: label, 行次, and one value per column."""

    label: str
    values: tuple[Decimal, ...] = ()
    line_no: int | None = None
    kind: str = "item"  # item | subtotal | total | header
    indent: int = 0
    key: str = ""


@dataclass
class Statement:
    title: str
    columns: tuple[str, ...]
    rows: list[StatementRow] = field(default_factory=list)

    def value(self, key: str, column: int = -1) -> Decimal:
        for row in self.rows:
            if row.key == key:
                return row.values[column]
        raise KeyError(key)
