"""财务公开 (RULES §10): disclosure sheets with their review workflow and frozen, verifiable publication; questions
that township auditors ask on vouchers; the hash chain of the audit log."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.core.text import N_
from coop.models.base import TimestampMixin, status_check


class SheetStatus(StrEnum):
    """A 公开表 through review and approval to the notice board; a correction supersedes it."""
    DRAFT = "draft"
    VETOED = "vetoed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class QuestionStatus(StrEnum):
    """A 质询 on a voucher."""
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


SHEET_KINDS = {
    "income_expense": N_("收支明细公开表"),
    "balance_sheet": N_("资产负债公开表"),
    "debts": N_("债权债务公开表"),
    "distribution": N_("收益分配公开表"),
    "joint": N_("飞地抱团项目收益专项公开表"),
    "subsidy": N_("政府补助（贴息）专项公开表"),
    "yishiyiyi": N_("一事一议资金专项公开表"),
    "financial_plan": N_("财务计划执行公开表"),
}
SHEET_STATUSES = {
    SheetStatus.DRAFT: N_("草稿"),
    SheetStatus.VETOED: N_("民主理财小组否决"),
    SheetStatus.REVIEWED: N_("民主理财小组已审"),
    SheetStatus.APPROVED: N_("经管站已批准"),
    SheetStatus.PUBLISHED: N_("已公开"),
    SheetStatus.SUPERSEDED: N_("已被更正版本取代"),
}


class Disclosure(TimestampMixin, db.Model):
    __tablename__ = "disclosures"
    __table_args__ = (
        status_check(SheetStatus),
        sa.UniqueConstraint("organization_id", "kind", "period_start", "period_end", "version"),
        sa.CheckConstraint("period_end >= period_start", name="period"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    period_start: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    period_end: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    version: Mapped[int] = mapped_column(nullable=False, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("disclosures.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default=SheetStatus.DRAFT)
    #: canonical JSON of the sheet; its SHA-256 is the digest printed on the sheet
    data: Mapped[str] = mapped_column(sa.Text, nullable=False)
    digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    published_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    channel: Mapped[str | None] = mapped_column(sa.String(100))
    #: the signature block as published (JSON [[label, name], …]): names as they were that day
    signers: Mapped[str | None] = mapped_column(sa.Text)
    comments: Mapped[list["DisclosureComment"]] = relationship(back_populates="disclosure",
                                                              order_by="DisclosureComment.id")
    supersedes: Mapped["Disclosure | None"] = relationship(remote_side=[id])


class DisclosureComment(TimestampMixin, db.Model):
    """A 民主理财小组 comment or veto reason, optionally on one row of the sheet."""

    __tablename__ = "disclosure_comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(sa.ForeignKey("disclosures.id", ondelete="RESTRICT"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    #: index of the sheet row the comment is about, or NULL for the whole sheet
    row: Mapped[int | None] = mapped_column()
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    veto: Mapped[bool] = mapped_column(nullable=False, default=False)
    disclosure: Mapped[Disclosure] = relationship(back_populates="comments")
    user = relationship("User")


class VoucherQuestion(TimestampMixin, db.Model):
    """A township auditor's question on a voucher, answered by the accountant: open → answered → closed."""

    __tablename__ = "voucher_questions"
    __table_args__ = (status_check(QuestionStatus),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"), nullable=False, index=True)
    asked_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    question: Mapped[str] = mapped_column(sa.Text, nullable=False)
    answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=QuestionStatus.OPEN)
    asked_by = relationship("User", foreign_keys=[asked_by_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])
