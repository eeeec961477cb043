"""Accounts, opening balances, periods, vouchers and their lines, attachments, and the audit log."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Money, TimestampMixin, utcnow

VOUCHER_STATUSES = ("draft", "reviewed", "posted")
STATUS_LABELS = {"draft": "制单", "reviewed": "已审核", "posted": "已记账"}
#: normal | red (红字冲销) | adjust (更正/调整) | carryover (年末结转, system generated)
VOUCHER_KINDS = ("normal", "red", "adjust", "carryover")
KIND_LABELS = {"normal": "普通", "red": "红字冲销", "adjust": "调整", "carryover": "年末结转"}


class Account(TimestampMixin, db.Model):
    """会计科目: a first-level national account (3 digits) or a 明细科目 under one (2 more digits a level)."""

    __tablename__ = "accounts"
    __table_args__ = (sa.UniqueConstraint("organization_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    normal_side: Mapped[str] = mapped_column(sa.String(6), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"))
    is_leaf: Mapped[bool] = mapped_column(nullable=False, default=True)
    active: Mapped[bool] = mapped_column(nullable=False, default=True)

    parent: Mapped["Account | None"] = relationship(remote_side=[id])

    @property
    def level(self) -> int:
        return (len(self.code) - 1) // 2

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


class OpeningBalance(db.Model):
    """期初余额 of a leaf account, signed: debit positive."""

    __tablename__ = "opening_balances"
    __table_args__ = (sa.UniqueConstraint("organization_id", "account_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    account: Mapped[Account] = relationship()


class Period(db.Model):
    """A closed (or once-closed and reopened) month. A month with no row is open."""

    __tablename__ = "periods"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "year", "month"),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        sa.CheckConstraint("status IN ('open','closed')", name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False)
    year: Mapped[int] = mapped_column(nullable=False)
    month: Mapped[int] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="open")
    closed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))


class VoucherSequence(db.Model):
    """Last number issued per organization, month and 凭证字; locked row-wise while a number is taken."""

    __tablename__ = "voucher_sequences"
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(sa.String(4), primary_key=True)
    last_number: Mapped[int] = mapped_column(nullable=False, default=0)


class Voucher(TimestampMixin, db.Model):
    """记账凭证. Life: draft (制单) → reviewed (审核) → posted (记账). Posted vouchers never change."""

    __tablename__ = "vouchers"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "year", "month", "word", "number"),
        sa.CheckConstraint("status IN ('draft','reviewed','posted')", name="status"),
        sa.CheckConstraint("kind IN ('normal','red','adjust','carryover')", name="kind"),
        sa.CheckConstraint("status = 'draft' OR number IS NOT NULL", name="numbered_when_reviewed"),
        sa.CheckConstraint("reviewer_id IS NULL OR preparer_id IS NULL OR reviewer_id <> preparer_id", name="four_eyes"),
        sa.CheckConstraint("status <> 'posted' OR (reviewer_id IS NOT NULL AND poster_id IS NOT NULL)", name="posted_signed"),
        sa.CheckConstraint("attachment_count >= 0", name="attachment_count"),
        sa.Index("ix_vouchers_org_date", "organization_id", "date"),
        # one red reversal per voucher
        sa.Index("uq_vouchers_one_reversal", "corrects_id", unique=True,
                 sqlite_where=sa.text("kind = 'red'"), postgresql_where=sa.text("kind = 'red'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False)
    date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    #: year and month of `date`, kept for numbering and period queries
    year: Mapped[int] = mapped_column(nullable=False)
    month: Mapped[int] = mapped_column(nullable=False)
    word: Mapped[str] = mapped_column(sa.String(4), nullable=False, default="记")
    number: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="draft")
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="normal")
    #: 附单据数: number of source documents (原始凭证) behind this voucher
    attachment_count: Mapped[int] = mapped_column(nullable=False, default=0)
    preparer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    poster_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    posted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    #: the voucher this red voucher reverses, or this adjusting voucher corrects
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    lines: Mapped[list["VoucherLine"]] = relationship(
        back_populates="voucher", order_by="VoucherLine.seq", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="voucher", order_by="Attachment.id", passive_deletes="all"
    )
    corrects: Mapped["Voucher | None"] = relationship(remote_side=[id], back_populates="corrections")
    corrections: Mapped[list["Voucher"]] = relationship(back_populates="corrects", order_by="Voucher.id")
    preparer = relationship("User", foreign_keys=[preparer_id])
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    poster = relationship("User", foreign_keys=[poster_id])

    @property
    def display_number(self) -> str:
        return f"{self.word}-{self.number:04d}" if self.number else "（未编号）"

    @property
    def total_debit(self) -> Decimal:
        return sum((l.debit for l in self.lines), Decimal("0.00"))

    @property
    def total_credit(self) -> Decimal:
        return sum((l.credit for l in self.lines), Decimal("0.00"))

    @property
    def summary(self) -> str:
        return self.lines[0].summary if self.lines else ""

    @property
    def reversal(self) -> "Voucher | None":
        return next((v for v in self.corrections if v.kind == "red"), None)


class VoucherLine(db.Model):
    """分录. Exactly one of debit/credit is non-zero; both are negative only in a red voucher."""

    __tablename__ = "voucher_lines"
    __table_args__ = (
        sa.UniqueConstraint("voucher_id", "seq"),
        sa.CheckConstraint("(debit <> 0 AND credit = 0) OR (debit = 0 AND credit <> 0)", name="one_side"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"), nullable=False, index=True)
    seq: Mapped[int] = mapped_column(nullable=False)
    summary: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"), nullable=False, index=True)
    debit: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0.00"))
    credit: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0.00"))
    #: auxiliary reference (辅助核算) to a counterparty, kept as text until a counterparty register exists
    counterparty: Mapped[str | None] = mapped_column(sa.String(100))

    voucher: Mapped[Voucher] = relationship(back_populates="lines")
    account: Mapped[Account] = relationship()


class Attachment(TimestampMixin, db.Model):
    """A scan or PDF of a source document, stored on disk; the database keeps its hash and metadata."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    size: Mapped[int] = mapped_column(nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    stored_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    voucher: Mapped[Voucher] = relationship(back_populates="attachments")


class AuditLog(db.Model):
    """Who did what, when: reviews, postings, closings, reopenings (with reason), logins."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    target: Mapped[str | None] = mapped_column(sa.String(100))
    detail: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    user = relationship("User")
