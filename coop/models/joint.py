"""飞地抱团 / 多村联营 projects (RULES §8): participants, contributions, yearly returns, with mirrored vouchers."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.core.text import N_
from coop.models.base import Money, Rate, TimestampMixin

CONTRIBUTION_KINDS = {"cash": N_("现金"), "land": N_("土地指标（作价）"), "fiscal": N_("财政扶持资金")}


class JointProject(TimestampMixin, db.Model):
    __tablename__ = "joint_projects"
    __table_args__ = (sa.UniqueConstraint("county_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("counties.id", ondelete="RESTRICT"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: the 联营公司 kept in this system, or the name of an outside operator (e.g. a county state firm)
    operator_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"))
    operator_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    guarantor: Mapped[str | None] = mapped_column(sa.String(100))
    start_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    end_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    #: 保底 fixed return rate a year on contributions (0 when there is none)
    fixed_rate: Mapped[Decimal] = mapped_column(Rate, nullable=False, default=Decimal(0))
    #: profit beyond the fixed part is shared by weight
    profit_sharing: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: weights fixed by contract (they must sum to 1); otherwise each participant's share of capital
    contract_weights: Mapped[bool] = mapped_column(nullable=False, default=False)
    documents: Mapped[str | None] = mapped_column(sa.Text)
    #: the operator's cash/bank leaf for this project, as last chosen (None: its 银行存款 role)
    operator_bank_account: Mapped[str | None] = mapped_column(sa.String(20))
    participants: Mapped[list["ProjectParticipant"]] = relationship(back_populates="project",
                                                                   order_by="ProjectParticipant.id")
    operator = relationship("Organization", foreign_keys=[operator_org_id])


class ProjectParticipant(db.Model):
    __tablename__ = "project_participants"
    __table_args__ = (sa.UniqueConstraint("project_id", "organization_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("joint_projects.id", ondelete="RESTRICT"), nullable=False)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    weight: Mapped[Decimal | None] = mapped_column(Rate)
    exited_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    #: the village's cash/bank leaf for this project, as last chosen (None: its 银行存款 role)
    bank_account: Mapped[str | None] = mapped_column(sa.String(20))
    project: Mapped[JointProject] = relationship(back_populates="participants")
    organization = relationship("Organization")


class ProjectContribution(TimestampMixin, db.Model):
    """A contribution (positive) or its return on exit (negative), with the voucher on each side."""

    __tablename__ = "project_contributions"
    __table_args__ = (sa.CheckConstraint("kind IN ('cash','land','fiscal')", name="kind"),
                      sa.CheckConstraint("amount <> 0", name="amount"))
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("project_participants.id", ondelete="RESTRICT"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    village_voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"), nullable=False)
    operator_voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    participant: Mapped[ProjectParticipant] = relationship()


class ProjectReturn(TimestampMixin, db.Model):
    """The return declared for a project-year: distributable profit, and the guarantor's shortfall."""

    __tablename__ = "project_returns"
    __table_args__ = (sa.UniqueConstraint("project_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("joint_projects.id", ondelete="RESTRICT"), nullable=False)
    year: Mapped[int] = mapped_column(nullable=False)
    profit: Mapped[Decimal] = mapped_column(Money, nullable=False)
    declared_on: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    shortfall: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0.00"))
    lines: Mapped[list["ProjectReturnLine"]] = relationship(back_populates="ret", order_by="ProjectReturnLine.id")


class ProjectReturnLine(db.Model):
    """One participant's return for the year: fixed part, profit part, and what the guarantor owes of it."""

    __tablename__ = "project_return_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(sa.ForeignKey("project_returns.id", ondelete="RESTRICT"), nullable=False, index=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("project_participants.id", ondelete="RESTRICT"), nullable=False)
    fixed: Mapped[Decimal] = mapped_column(Money, nullable=False)
    profit_part: Mapped[Decimal] = mapped_column(Money, nullable=False)
    #: the part of `fixed` the guarantor pays because the profit did not cover it
    guaranteed: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0.00"))
    village_voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    operator_voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    #: when the operator's part and the guarantor's part were received
    operator_paid_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    guarantor_paid_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    ret: Mapped[ProjectReturn] = relationship(back_populates="lines")
    participant: Mapped[ProjectParticipant] = relationship()

    @property
    def total(self) -> Decimal:
        return self.fixed + self.profit_part
