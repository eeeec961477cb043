"""Year-end distribution plans (收益分配方案), their approvals, cadre rewards, household dividends and payments."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.core.text import N_
from coop.models.base import Money, Ratio, TimestampMixin, Units, status_check


class PlanStatus(StrEnum):
    """A distribution plan: drafts are compared, one is approved, then posted."""
    DRAFT = "draft"
    APPROVED = "approved"
    POSTED = "posted"


APPROVAL_STEPS = {
    # 四议两公开, in order; then 实施结果公开 after posting
    "party_proposal": N_("村党组织提议"),
    "committee": N_("村两委会议商议"),
    "party_members": N_("党员大会审议"),
    "assembly": N_("成员（代表）大会决议"),
    "resolution_public": N_("决议公开"),
    "result_public": N_("实施结果公开"),
}


class DistributionPlan(TimestampMixin, db.Model):
    """One scenario for a year; any number may be drafted and compared, one is approved and posted."""

    __tablename__ = "distribution_plans"
    __table_args__ = (
        status_check(PlanStatus),
        sa.CheckConstraint("approval_method IS NULL OR approval_method IN ('four_two','assembly')", name="method"),
        # at most one posted plan per organization and year; a 补充分配 is a plan of its own that says so
        sa.Index("uq_distribution_plans_posted", "organization_id", "year", unique=True,
                 sqlite_where=sa.text("status = 'posted' AND NOT supplementary"),
                 postgresql_where=sa.text("status = 'posted' AND NOT supplementary")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    year: Mapped[int] = mapped_column(nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: 股权登记日: dividends follow the register as of this date
    record_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    #: overrides the 章程 公积公益金 rate for this plan when set
    reserve_rate: Mapped[Decimal | None] = mapped_column(Ratio)
    cadre_reward: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0.00"))
    member_pool: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0.00"))
    other: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0.00"))
    #: 补充分配: a further distribution for a year that already has one; approved on its own
    supplementary: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: the 年度财务会计报告 and the plan made available to members, and the meeting notice (≥ 10 days before)
    materials_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    notice_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    #: the cash or bank leaf dividends were last paid from (offered first next time)
    pay_from: Mapped[str | None] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=PlanStatus.DRAFT)
    approval_method: Mapped[str | None] = mapped_column(sa.String(10))
    # figures fixed when posted
    distributable: Mapped[Decimal | None] = mapped_column(Money)
    reserve: Mapped[Decimal | None] = mapped_column(Money)
    collective_part: Mapped[Decimal | None] = mapped_column(Money)
    #: every figure of the waterfall as posted (JSON, money as strings): the 收益分配 sheet shows these, never a
    #: re-computation
    figures: Mapped[str | None] = mapped_column(sa.Text)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    posted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))

    cadres: Mapped[list["DistributionCadre"]] = relationship(back_populates="plan", cascade="all, delete-orphan",
                                                            order_by="DistributionCadre.id")
    approvals: Mapped[list["DistributionApproval"]] = relationship(back_populates="plan", cascade="all, delete-orphan",
                                                                  order_by="DistributionApproval.date")
    dividends: Mapped[list["HouseholdDividend"]] = relationship(back_populates="plan", order_by="HouseholdDividend.id")


class DistributionCadre(db.Model):
    """A 村两委 member considered for the 干部奖励分红, with tenure and 考核 weight."""

    __tablename__ = "distribution_cadres"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("distribution_plans.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    title: Mapped[str | None] = mapped_column(sa.String(50))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="RESTRICT"))
    start: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    end: Mapped[dt.date | None] = mapped_column(sa.Date)
    weight: Mapped[Decimal] = mapped_column(Units, nullable=False, default=Decimal("1"))
    #: fixed when posted
    amount: Mapped[Decimal | None] = mapped_column(Money)
    #: 个税 withheld (章程), fixed when posted
    tax: Mapped[Decimal | None] = mapped_column(Money)
    plan: Mapped[DistributionPlan] = relationship(back_populates="cadres")


class DistributionApproval(db.Model):
    """One step of 四议两公开, or the 成员大会 resolution, with date and vote counts."""

    __tablename__ = "distribution_approvals"
    __table_args__ = (sa.UniqueConstraint("plan_id", "step"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("distribution_plans.id", ondelete="CASCADE"), nullable=False)
    step: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    #: people entitled to attend/vote, present, and in favour (NULL for steps without a vote)
    entitled: Mapped[int | None] = mapped_column()
    present: Mapped[int | None] = mapped_column()
    votes_for: Mapped[int | None] = mapped_column()
    reference: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    plan: Mapped[DistributionPlan] = relationship(back_populates="approvals")


class HouseholdDividend(db.Model):
    """分红清册 line: a household's units on the record date and its dividend. Written when the plan is posted."""

    __tablename__ = "household_dividends"
    __table_args__ = (sa.UniqueConstraint("plan_id", "household_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("distribution_plans.id", ondelete="RESTRICT"), nullable=False)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"), nullable=False, index=True)
    units: Mapped[Decimal] = mapped_column(Units, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    #: the counterparty (辅助核算) of the household's 211 line, "<户号> <户主姓名>" as at posting: payments debit
    #: exactly this label, so 211 nets per household even after the head changes ("应付收益" for plans posted
    #: when 211 took one line for all households)
    payee: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    plan: Mapped[DistributionPlan] = relationship(back_populates="dividends")
    household = relationship("Household")


class DividendPayment(TimestampMixin, db.Model):
    """A payment of (part of) a household dividend, booked by its voucher (Dr 211 / Cr 101 or 102)."""

    __tablename__ = "dividend_payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    dividend_id: Mapped[int] = mapped_column(sa.ForeignKey("household_dividends.id", ondelete="RESTRICT"), nullable=False, index=True)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"), nullable=False)
    dividend = relationship("HouseholdDividend")


class DistributionPolicy(TimestampMixin, db.Model):
    """章程 choices of the year-end distribution (RULES §7): a county default row and an organization's own row;
    a NULL field falls back to the county's, then to the rule's default."""

    __tablename__ = "distribution_policies"
    __table_args__ = (
        sa.CheckConstraint("(county_id IS NULL) <> (organization_id IS NULL)", name="owner"),
        sa.CheckConstraint("reserve_base IS NULL OR reserve_base IN ('net_profit','distributable')", name="reserve_base"),
        sa.CheckConstraint("dividend_mode IS NULL OR dividend_mode IN ('per_share','pool')", name="dividend_mode"),
        sa.CheckConstraint("collective_mode IS NULL OR collective_mode IN ('reserve','retain')", name="collective_mode"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int | None] = mapped_column(sa.ForeignKey("counties.id", ondelete="RESTRICT"), unique=True)
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"),
                                                        unique=True)
    reserve_base: Mapped[str | None] = mapped_column(sa.String(20))
    dividend_mode: Mapped[str | None] = mapped_column(sa.String(20))
    collective_mode: Mapped[str | None] = mapped_column(sa.String(20))
    cadre_min_days: Mapped[int | None] = mapped_column()
    cadre_tax_rate: Mapped[Decimal | None] = mapped_column(Ratio)
    materials_days: Mapped[int | None] = mapped_column()
    notice_days: Mapped[int | None] = mapped_column()
