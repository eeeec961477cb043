"""The share register's tables: 折股量化 plans and their inputs, share actions and events (the register is their
sum), and the 股权证 issued to households."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.core.text import N_
from coop.models.base import Money, TimestampMixin, Units, status_check
from coop.models.members import Household


class QuantificationStatus(StrEnum):
    """A 折股量化方案 is recomputed freely while a draft; issuing writes the register."""
    DRAFT = "draft"
    ISSUED = "issued"


SHARE_EVENT_KINDS = {
    "issue": N_("折股量化发行"),
    "transfer": N_("社内转让"),
    "inherit": N_("继承"),
    "buyback": N_("有偿退出（回购）"),
    "split": N_("分户"),
    "merge": N_("合户"),
    "nominee": N_("代持"),
    "nominee_release": N_("解除代持"),
    "reversal": N_("冲正"),
}


class QuantificationPlan(TimestampMixin, db.Model):
    """折股量化方案: recomputed freely while a draft; issuing writes the opening register events."""

    __tablename__ = "quantification_plans"
    __table_args__ = (status_check(QuantificationStatus),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    base_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    #: 量化的经营性净资产
    net_assets: Mapped[Decimal] = mapped_column(Money, nullable=False)
    #: class rules as JSON (see coop.ledger.shares.PlanRules)
    rules: Mapped[str] = mapped_column(sa.Text, nullable=False, default="{}")
    approval_ref: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=QuantificationStatus.DRAFT)
    face_value: Mapped[Decimal | None] = mapped_column(Units)
    total_units: Mapped[Decimal | None] = mapped_column(Units)
    issued_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    inputs: Mapped[list["PlanMemberInput"]] = relationship(back_populates="plan", cascade="all, delete-orphan")


class PlanMemberInput(db.Model):
    """Per-person inputs of a plan: labour dates and money put into cash/resource/poverty classes."""

    __tablename__ = "plan_member_inputs"
    __table_args__ = (sa.UniqueConstraint("plan_id", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("quantification_plans.id", ondelete="CASCADE"), nullable=False)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="RESTRICT"), nullable=False)
    labour_start: Mapped[dt.date | None] = mapped_column(sa.Date)
    labour_end: Mapped[dt.date | None] = mapped_column(sa.Date)
    cash: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0.00"))
    resource: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0.00"))
    poverty: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0.00"))
    plan: Mapped[QuantificationPlan] = relationship(back_populates="inputs")


class ShareAction(TimestampMixin, db.Model):
    """One change to the register (issue, transfer, inheritance, …): the header of a group of ShareEvent rows.
    Actions and their rows are only ever added; a mistake is undone by a reversal action."""

    __tablename__ = "share_actions"
    __table_args__ = (sa.Index("ix_share_actions_org_date", "organization_id", "date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False)
    date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: agreement, resolution or court document behind the change
    reference: Mapped[str | None] = mapped_column(sa.String(200))
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("quantification_plans.id", ondelete="RESTRICT"))
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("share_actions.id", ondelete="RESTRICT"), unique=True)
    #: the payment voucher and price of a buy-back
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    events: Mapped[list["ShareEvent"]] = relationship(back_populates="action", order_by="ShareEvent.id")


class ShareEvent(db.Model):
    """One signed movement of units of one class for one holding. The rows of an action other than the issue
    sum to zero, so the register total never drifts."""

    __tablename__ = "share_events"
    __table_args__ = (
        sa.CheckConstraint("units <> 0", name="nonzero"),
        sa.CheckConstraint(
            "share_class IN ('population','labour','collective','cash','resource','poverty')", name="share_class"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("share_actions.id", ondelete="RESTRICT"), nullable=False, index=True)
    share_class: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    #: holder: a member (and their household), or the collective itself when both are NULL
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="RESTRICT"), index=True)
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"), index=True)
    #: 代持: the person the holder holds these units for
    beneficiary_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="RESTRICT"))
    #: income rights only (a non-member heir's units carry no vote)
    income_only: Mapped[bool] = mapped_column(nullable=False, default=False)
    units: Mapped[Decimal] = mapped_column(Units, nullable=False)
    action: Mapped[ShareAction] = relationship(back_populates="events")


class ShareCertificate(TimestampMixin, db.Model):
    """股权证 of a household. Reissued (new number, old one revoked) when the household's holding changes."""

    __tablename__ = "share_certificates"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"), nullable=False, index=True)
    number: Mapped[str] = mapped_column(sa.String(40), nullable=False, unique=True)
    issued_on: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    revoked_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    #: random token in the public verify URL printed as a QR code
    verify_token: Mapped[str] = mapped_column(sa.String(40), nullable=False, unique=True)
    #: units on the certificate when issued, per class (JSON), for the verify page
    snapshot: Mapped[str] = mapped_column(sa.Text, nullable=False)
    household: Mapped[Household] = relationship()
