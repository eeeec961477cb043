"""The audit log and the head of its keyed hash chain (coop.services.audit seals entries; `flask coop verify`
checks them)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.models.base import utcnow


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
    #: hash chain, sealed right after the writing transaction commits: `seq` orders the chain and
    #: hash = sha256(prev_hash + this entry's content); `flask coop verify` recomputes it
    seq: Mapped[int | None] = mapped_column(unique=True)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str | None] = mapped_column(sa.String(64))
    #: the id of the audit key the MAC was made with (coop.services.audit); NULL for the plain-SHA-256 entries
    #: sealed before keys existed
    key_id: Mapped[str | None] = mapped_column(sa.String(16))
    user = relationship("User")


class AuditHead(db.Model):
    """The single row that holds the end of the audit chain; locked while new entries are sealed."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(nullable=False, default=0)
    last_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: the key of the last seal; NULL while the chain is still the plain one (anchored by the next seal)
    key_id: Mapped[str | None] = mapped_column(sa.String(16))
