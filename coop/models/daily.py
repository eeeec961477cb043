"""Daily work (issue #20): saved voucher templates (常用凭证) with their monthly runs, and the scans an accountant
adds to a posted voucher in answer to a 质询."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.models.base import TimestampMixin


class VoucherTemplate(TimestampMixin, db.Model):
    """常用凭证: the lines of a voucher kept under a name. Amounts may be left empty (typed at entry). A monthly
    template generates a draft for a month on demand, once per month (VoucherTemplateRun)."""

    __tablename__ = "voucher_templates"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "name"),
        sa.CheckConstraint("day IS NULL OR (day BETWEEN 1 AND 28)", name="day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    word: Mapped[str] = mapped_column(sa.String(4), nullable=False, default="记")
    #: JSON list of {summary, account_code, debit, credit, counterparty}; amounts as strings, "" when typed later
    lines: Mapped[str] = mapped_column(sa.Text, nullable=False)
    monthly: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: day of the month the generated draft is dated (1–28); None: the month's last day
    day: Mapped[int | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))


class VoucherTemplateRun(TimestampMixin, db.Model):
    """A monthly template's draft for one month: the unique key makes generation idempotent per month."""

    __tablename__ = "voucher_template_runs"
    __table_args__ = (sa.UniqueConstraint("template_id", "year", "month"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_templates.id", ondelete="CASCADE"),
                                             nullable=False)
    year: Mapped[int] = mapped_column(nullable=False)
    month: Mapped[int] = mapped_column(nullable=False)
    #: the draft generated (SET NULL: an unnumbered draft may be deleted; the month still counts as generated)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="SET NULL"))
    template: Mapped[VoucherTemplate] = relationship()


class QuestionAttachment(db.Model):
    """An attachment added to a (possibly posted) voucher in answer to a question: append-only, logged."""

    __tablename__ = "question_attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_questions.id", ondelete="RESTRICT"),
                                             nullable=False, index=True)
    attachment_id: Mapped[int] = mapped_column(sa.ForeignKey("attachments.id", ondelete="RESTRICT"),
                                               nullable=False, unique=True)
    attachment = relationship("Attachment")


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _keep_answer_attachments(session, flush_context, instances) -> None:
    """What was added in answer to a question stays: refused here (a message, not a foreign-key error) even where
    the voucher is still a draft whose own scans may be removed."""
    from coop.models.ledger import Attachment
    from coop.core.errors import InvalidState

    gone = [obj.id for obj in session.deleted if isinstance(obj, Attachment) and obj.id is not None]
    if gone:
        with session.no_autoflush:
            linked = session.scalar(sa.select(QuestionAttachment.id).where(QuestionAttachment.attachment_id.in_(gone)))
        if linked is not None:
            raise InvalidState("答复质询时补充的附件不能删除")
