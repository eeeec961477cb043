"""What set-up remembers: the column mapping of an organization's import files (its old package's export layout)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from coop.core.extensions import db
from coop.models.base import TimestampMixin


class ImportMapping(TimestampMixin, db.Model):
    """Field → column header of the last file imported of a kind ('chart', 'opening') into an organization."""

    __tablename__ = "import_mappings"
    __table_args__ = (sa.UniqueConstraint("organization_id", "kind"),
                      sa.CheckConstraint("kind IN ('chart','opening')", name="kind"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: JSON object {"code": "科目代码", "debit": "年初借方", …}
    mapping: Mapped[str] = mapped_column(sa.Text, nullable=False)
