"""Loans, the county's 贴息 policy and LPR table, and subsidy claims (RULES §9)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.core.text import N_
from coop.models.base import Money, Rate, TimestampMixin, status_check


class ClaimStatus(StrEnum):
    """A 贴息 claim: filed by the village, reviewed by the township, approved by the county, then funded."""
    FILED = "filed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    REJECTED = "rejected"
    ALLOCATED = "allocated"
    DISBURSED = "disbursed"


LOAN_EVENTS = {"drawdown": N_("放款"), "repayment": N_("还本"), "interest": N_("付息")}
CLAIM_STATUSES = {
    ClaimStatus.FILED: N_("村级已申报"),
    ClaimStatus.REVIEWED: N_("乡镇已审核"),
    ClaimStatus.APPROVED: N_("县级已批准"),
    ClaimStatus.REJECTED: N_("已退回"),
    ClaimStatus.ALLOCATED: N_("已分配资金"),
    ClaimStatus.DISBURSED: N_("已拨付"),
}


class Loan(TimestampMixin, db.Model):
    __tablename__ = "loans"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "contract_no"),
        sa.CheckConstraint("principal > 0", name="principal"),
        sa.CheckConstraint("maturity_date > start_date", name="dates"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    lender: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    contract_no: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    #: contracted principal (drawdowns may be less)
    principal: Mapped[Decimal] = mapped_column(Money, nullable=False)
    annual_rate: Mapped[Decimal] = mapped_column(Rate, nullable=False)
    start_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    maturity_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    #: 专项贷款 eligible for the county 贴息 fund
    special: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: the leaf under 短期借款 or 长期借款及应付款 (posting roles short_loan / long_loan) the loan is booked on
    account_code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: the cash/bank leaf its money moves through, as last chosen on a form (None: the 银行存款 role)
    bank_account: Mapped[str | None] = mapped_column(sa.String(20))
    events: Mapped[list["LoanEvent"]] = relationship(back_populates="loan", order_by="LoanEvent.date")


class LoanEvent(TimestampMixin, db.Model):
    """放款, 还本 or 付息, each booked by a voucher; 付息 carries the bank's 结息单 and the period it covers."""

    __tablename__ = "loan_events"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('drawdown','repayment','interest')", name="kind"),
        sa.CheckConstraint("amount > 0", name="amount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="RESTRICT"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    #: for 付息: the interest period [period_start, period_end) and the 结息单 (an attachment of the voucher)
    period_start: Mapped[dt.date | None] = mapped_column(sa.Date)
    period_end: Mapped[dt.date | None] = mapped_column(sa.Date)
    evidence: Mapped[str | None] = mapped_column(sa.String(200))
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    loan: Mapped[Loan] = relationship(back_populates="events")


class LprRate(db.Model):
    """1-year LPR as published (on the 20th of each month), kept per county so the county can maintain it."""

    __tablename__ = "lpr_rates"
    __table_args__ = (sa.UniqueConstraint("county_id", "published_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("counties.id", ondelete="RESTRICT"), nullable=False)
    published_on: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    rate: Mapped[Decimal] = mapped_column(Rate, nullable=False)


class SubsidyPolicy(TimestampMixin, db.Model):
    """The county's 贴息 fund and rules for one year."""

    __tablename__ = "subsidy_policies"
    __table_args__ = (
        sa.UniqueConstraint("county_id", "year"),
        sa.CheckConstraint("rule IN ('pro_rata','first_come')", name="rule"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("counties.id", ondelete="RESTRICT"), nullable=False)
    year: Mapped[int] = mapped_column(nullable=False)
    fund: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("5000000.00"))
    lpr_multiple: Mapped[Decimal] = mapped_column(Rate, nullable=False, default=Decimal("1"))
    share: Mapped[Decimal] = mapped_column(Rate, nullable=False, default=Decimal("1"))
    org_cap: Mapped[Decimal | None] = mapped_column(Money)
    rule: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="pro_rata")
    #: set when the year's pro-rata allocation has been run
    allocated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


class SubsidyClaim(TimestampMixin, db.Model):
    """A village's claim for one loan and period: filed → reviewed → approved → allocated → disbursed."""

    __tablename__ = "subsidy_claims"
    __table_args__ = (
        status_check(ClaimStatus),
        sa.CheckConstraint("period_end > period_start", name="period"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="RESTRICT"), nullable=False, index=True)
    policy_id: Mapped[int] = mapped_column(sa.ForeignKey("subsidy_policies.id", ondelete="RESTRICT"), nullable=False, index=True)
    period_start: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    period_end: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)  # exclusive
    interest_paid: Mapped[Decimal] = mapped_column(Money, nullable=False)
    #: computed eligible subsidy (ACT/360, capped by interest paid and the per-organization cap)
    eligible: Mapped[Decimal] = mapped_column(Money, nullable=False)
    claimed: Mapped[Decimal] = mapped_column(Money, nullable=False)
    allocated: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=ClaimStatus.FILED)
    reject_reason: Mapped[str | None] = mapped_column(sa.String(500))
    filed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    disbursed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    loan: Mapped[Loan] = relationship()
    policy: Mapped[SubsidyPolicy] = relationship()
