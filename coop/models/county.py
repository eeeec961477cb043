"""The county's view (RULES §16): the 三年倍增 goal, budgets (预决算) and audit cases with findings and 整改."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.core.text import N_
from coop.models.base import Money, TimestampMixin, status_check


class BudgetStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class AuditStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


#: the 倍增 target is this many times the base year's 经营收益 (seed 001: 三年倍增)
DEFAULT_DOUBLING_FACTOR = 2
DEFAULT_DOUBLING_YEARS = 3


class CountyTarget(TimestampMixin, db.Model):
    """The county's 集体经济 doubling goal: target = factor × the base year's 经营收益, reached `years` later."""

    __tablename__ = "county_targets"
    __table_args__ = (sa.CheckConstraint("factor >= 1", name="factor"),
                      sa.CheckConstraint("years BETWEEN 1 AND 10", name="years"))
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("counties.id", ondelete="RESTRICT"), nullable=False,
                                           unique=True)
    base_year: Mapped[int] = mapped_column(nullable=False)
    factor: Mapped[int] = mapped_column(nullable=False, default=DEFAULT_DOUBLING_FACTOR)
    years: Mapped[int] = mapped_column(nullable=False, default=DEFAULT_DOUBLING_YEARS)


# ---------------------------------------------------------------- 预决算 (RULES §16; 农村集体经济组织法 art. 26)

BUDGET_STATUSES = {
    BudgetStatus.DRAFT: N_("草拟"),
    BudgetStatus.APPROVED: N_("成员大会已通过"),
}


class Budget(TimestampMixin, db.Model):
    """An organization's annual budget (财务计划): amounts per account, approved by the 成员大会 with its record."""

    __tablename__ = "budgets"
    __table_args__ = (sa.UniqueConstraint("organization_id", "year"),
                      status_check(BudgetStatus))
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"),
                                                 nullable=False)
    year: Mapped[int] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=BudgetStatus.DRAFT)
    #: the 成员大会 (or 成员代表大会) resolution: date, entitled, present, in favour, against, abstaining, minutes
    meeting_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    entitled: Mapped[int | None] = mapped_column()
    present: Mapped[int | None] = mapped_column()
    votes_for: Mapped[int | None] = mapped_column()
    votes_against: Mapped[int | None] = mapped_column()
    abstained: Mapped[int | None] = mapped_column()
    reference: Mapped[str | None] = mapped_column(sa.String(200))
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    lines: Mapped[list["BudgetLine"]] = relationship(back_populates="budget", order_by="BudgetLine.account_code",
                                                     cascade="all, delete-orphan")


class BudgetLine(db.Model):
    """The year's amount for one account (any level; the actual is everything posted under it)."""

    __tablename__ = "budget_lines"
    __table_args__ = (sa.UniqueConstraint("budget_id", "account_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id", ondelete="CASCADE"), nullable=False)
    account_code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    budget: Mapped[Budget] = relationship(back_populates="lines")


# ---------------------------------------------------------------- audit cases (法 art. 47; 村委会组织法 art. 35)

AUDIT_KINDS = {"regular": N_("定期审计"), "special": N_("专项审计"), "departure": N_("离任审计")}
AUDIT_STATUSES = {
    AuditStatus.OPEN: N_("审计中"),
    AuditStatus.CLOSED: N_("已结案"),
    AuditStatus.PUBLISHED: N_("已公布"),
}


class AuditCase(TimestampMixin, db.Model):
    __tablename__ = "audit_cases"
    __table_args__ = (sa.CheckConstraint("kind IN ('regular','special','departure')", name="kind"),
                      status_check(AuditStatus),
                      sa.CheckConstraint("period_from <= period_to", name="period"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"),
                                                 nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    #: what is audited: the matters and the books' period
    scope: Mapped[str] = mapped_column(sa.Text, nullable=False)
    period_from: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    period_to: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    #: 离任审计: the cadre leaving office (a name and post, not a member record: nothing about a person is linked)
    subject: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=AuditStatus.OPEN)
    opened_on: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    opened_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    conclusion: Mapped[str | None] = mapped_column(sa.Text)
    closed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    published_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    findings: Mapped[list["AuditFinding"]] = relationship(back_populates="case", order_by="AuditFinding.id")
    organization = relationship("Organization")


class AuditFinding(TimestampMixin, db.Model):
    __tablename__ = "audit_findings"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("audit_cases.id", ondelete="RESTRICT"), nullable=False,
                                         index=True)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: the amount at issue, if any
    amount: Mapped[Decimal | None] = mapped_column(Money)
    case: Mapped[AuditCase] = relationship(back_populates="findings")
    vouchers: Mapped[list["AuditFindingVoucher"]] = relationship(order_by="AuditFindingVoucher.id")
    items: Mapped[list["RectificationItem"]] = relationship(back_populates="finding", order_by="RectificationItem.id")

    @property
    def open(self) -> bool:
        return not self.items or any(i.done_on is None for i in self.items)


class AuditFindingVoucher(db.Model):
    """A voucher of the audited organization that a finding is about."""

    __tablename__ = "audit_finding_vouchers"
    __table_args__ = (sa.UniqueConstraint("finding_id", "voucher_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("audit_findings.id", ondelete="RESTRICT"), nullable=False)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"), nullable=False,
                                            index=True)


class RectificationItem(TimestampMixin, db.Model):
    """整改 item: what must be done about a finding, by whom, by when; done with a note."""

    __tablename__ = "rectification_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("audit_findings.id", ondelete="RESTRICT"), nullable=False,
                                            index=True)
    action: Mapped[str] = mapped_column(sa.Text, nullable=False)
    owner: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    deadline: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    done_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    done_note: Mapped[str | None] = mapped_column(sa.Text)
    finding: Mapped[AuditFinding] = relationship(back_populates="items")
