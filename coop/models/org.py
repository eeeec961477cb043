"""County → township → organization, with 章程 parameters that fall back to county defaults."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from coop.core.extensions import db
from coop.core.text import N_
from coop.models.base import Money, Ratio, TimestampMixin

ORG_KINDS = {
    "village_shareholding": N_("股份经济合作社（村级）"),
    "village_economic": N_("经济合作社（村级）"),
    "group": N_("组级集体经济组织"),
    "township": N_("乡镇级集体经济组织"),
    "joint_company": N_("联营公司（强村公司）"),
}


class County(TimestampMixin, db.Model):
    __tablename__ = "counties"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False, unique=True)
    #: county defaults for the 章程 parameters (RULES §1)
    reserve_rate: Mapped[Decimal] = mapped_column(Ratio, nullable=False, default=Decimal("0.30"))
    cadre_reward_cap: Mapped[Decimal] = mapped_column(Ratio, nullable=False, default=Decimal("0.20"))
    cash_limit: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("5000.00"))
    #: 有偿退出: at most this share of all units may be bought back in one year
    buyback_limit: Mapped[Decimal] = mapped_column(Ratio, nullable=False, default=Decimal("0.05"))
    #: disclosure due this many days after the end of each quarter
    disclosure_due_days: Mapped[int] = mapped_column(nullable=False, default=15)
    #: segment lengths of 明细科目 codes below the 3 national digits (coop.ledger.codes): 2-2-2, or legacy 3-3
    code_scheme: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="2-2-2",
                                             server_default="2-2-2")
    townships: Mapped[list["Township"]] = relationship(back_populates="county", order_by="Township.name")


class Township(TimestampMixin, db.Model):
    __tablename__ = "townships"
    __table_args__ = (sa.UniqueConstraint("county_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("counties.id", ondelete="RESTRICT"), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    county: Mapped[County] = relationship(back_populates="townships")
    organizations: Mapped[list["Organization"]] = relationship(back_populates="township", order_by="Organization.name")


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organizations"
    __table_args__ = (
        sa.CheckConstraint("books_start_month BETWEEN 1 AND 12", name="start_month"),
        sa.CheckConstraint(
            "kind IN ('village_shareholding','village_economic','group','township','joint_company')", name="kind"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(sa.ForeignKey("townships.id", ondelete="RESTRICT"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    #: 村社合一: party-branch-led cooperative merged with the collective; switches on the cadre-reward rule
    cun_she_he_yi: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: 统一社会信用代码, validated with stdnum.cn.uscc
    uscc: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    legal_representative: Mapped[str | None] = mapped_column(sa.String(50))
    #: the first month kept in this system; opening balances are as of its first day
    books_start_year: Mapped[int] = mapped_column(nullable=False)
    books_start_month: Mapped[int] = mapped_column(nullable=False, default=1)
    #: opening balances can no longer change once locked (they must balance to lock)
    opening_locked: Mapped[bool] = mapped_column(nullable=False, default=False)
    # 章程 parameters; NULL means "use the county default"
    reserve_rate: Mapped[Decimal | None] = mapped_column(Ratio)
    cadre_reward_cap: Mapped[Decimal | None] = mapped_column(Ratio)
    cash_limit: Mapped[Decimal | None] = mapped_column(Money)
    buyback_limit: Mapped[Decimal | None] = mapped_column(Ratio)
    has_collective_share: Mapped[bool] = mapped_column(nullable=False, default=False)
    collective_share_ratio: Mapped[Decimal | None] = mapped_column(Ratio)
    #: vouchers the county or township writes into these books (飞地抱团, 贴息) post at once instead of waiting
    #: as drafts for the village's reviewer (RULES §3 four eyes; off by default)
    county_may_post: Mapped[bool] = mapped_column(nullable=False, default=False, server_default=sa.false())

    township: Mapped[Township] = relationship(back_populates="organizations")

    @property
    def county(self) -> County:
        return self.township.county

    @property
    def code_scheme(self):
        """The county's account code scheme (coop.ledger.codes.CodeScheme)."""
        from coop.ledger.codes import scheme

        return scheme(self.county.code_scheme)

    @property
    def kind_label(self) -> str:
        return ORG_KINDS.get(self.kind, self.kind)

    def policy(self) -> dict:
        """章程 parameters in force: the organization's own, else the county default."""
        c = self.county
        return {
            "reserve_rate": self.reserve_rate if self.reserve_rate is not None else c.reserve_rate,
            "cadre_reward_cap": self.cadre_reward_cap if self.cadre_reward_cap is not None else c.cadre_reward_cap,
            "cash_limit": self.cash_limit if self.cash_limit is not None else c.cash_limit,
            "buyback_limit": self.buyback_limit if self.buyback_limit is not None else c.buyback_limit,
            "has_collective_share": self.has_collective_share,
            "collective_share_ratio": self.collective_share_ratio,
        }


class BooksVersion(db.Model):
    """The books version of an organization: a number that changes in the same transaction as anything the ledger
    pages and report PDFs show (vouchers and their lines, accounts, opening balances, periods, the organization
    row) or the 待办 counts of every page's layout (questions, disclosure sheets, distribution plans, subsidy
    claims); bumped by coop.models.books at commit, read as `Organization.books_version`; the page and PDF caches are
    keyed by it. A row of its own, not a column of organizations: services lock the organization row FOR UPDATE
    early in their transactions, and a bump waiting for that lock at commit could close a deadlock cycle; this
    row is only ever locked by the last statement before a COMMIT. No row yet means version 0."""

    __tablename__ = "books_versions"
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"),
                                                 primary_key=True)
    version: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")


class DirectoryVersion(db.Model):
    """One number for the directory every page's layout shows: users, role assignments, which organizations
    exist and in which township, townships and counties (names, menus, the organization switcher). Bumped by
    coop.models.books at commit like a books version; the whole-page cache (coop.web.page_cache) checks it. One
    row (id 1); no row yet means version 0."""

    __tablename__ = "directory_versions"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")


#: loaded with the organization (one SELECT), so a page's access check already knows the version
Organization.books_version = column_property(
    sa.func.coalesce(sa.select(BooksVersion.version).where(BooksVersion.organization_id == Organization.id)
                     .correlate_except(BooksVersion).scalar_subquery(), 0))
