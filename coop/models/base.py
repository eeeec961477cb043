"""Column types shared by all models."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from coop.core.money import D, from_fen, to_fen


def status_check(statuses: type[StrEnum]) -> sa.CheckConstraint:
    """The CHECK that keeps a status column to its enum's values ("status IN ('draft','posted')")."""
    return sa.CheckConstraint(f"status IN ({','.join(repr(str(s)) for s in statuses)})", name="status")


class Money(sa.types.TypeDecorator):
    """Integer fen in the database, Decimal yuan in Python: exact on SQLite and PostgreSQL alike."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else to_fen(D(value))

    def process_result_value(self, value, dialect):
        return None if value is None else from_fen(value)


class Ratio(sa.types.TypeDecorator):
    """A rate or share such as 30% kept as an integer number of 0.01% (basis points)."""

    impl = sa.Integer
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        bp = D(value) * 10000
        if bp != bp.to_integral_value():
            raise ValueError("ratio has more than 4 decimals")
        return int(bp)

    def process_result_value(self, value, dialect):
        return None if value is None else (Decimal(value) / 10000).quantize(Decimal("0.0001"))


class Units(sa.types.TypeDecorator):
    """Share units (股数) to 4 decimal places, kept as an integer number of 0.0001 units."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        scaled = D(value) * 10000
        if scaled != scaled.to_integral_value():
            raise ValueError("share units have more than 4 decimals")
        return int(scaled)

    def process_result_value(self, value, dialect):
        return None if value is None else (Decimal(value) / 10000).quantize(Decimal("0.0001"))


class Rate(sa.types.TypeDecorator):
    """An interest rate such as 3.45% (0.0345), to 6 decimal places, kept as an integer number of millionths."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        scaled = D(value) * 1000000
        if scaled != scaled.to_integral_value():
            raise ValueError("rate has more than 6 decimals")
        return int(scaled)

    def process_result_value(self, value, dialect):
        return None if value is None else (Decimal(value) / 1000000).quantize(Decimal("0.000001"))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)


def render_migration_type(type_, obj, autogen_context):
    """Alembic: write Money/Ratio columns as their plain storage types, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, (Money, Units, Rate)):
        return "sa.BigInteger()"
    if type_ == "type" and isinstance(obj, Ratio):
        return "sa.Integer()"
    return False


#: the session.info keys that live as long as the transaction (or savepoint) that set them, no longer
_TRANSACTION_MEMOS: set[str] = set()


def transaction_memo(session: Session, key: str, factory):
    """What this transaction has learnt under `key` (made by `factory` the first time): a lock it holds, a month it
    found open, a row it inserted. Forgotten when the transaction or a savepoint ends, since it then stops being
    true."""
    _TRANSACTION_MEMOS.add(key)
    return session.info.setdefault(key, factory())


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction_memos(session: Session, transaction) -> None:
    if transaction.parent is None or transaction.nested:  # not the ORM's internal flush transactions
        for key in _TRANSACTION_MEMOS:
            session.info.pop(key, None)
