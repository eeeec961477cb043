"""三资台账 (RULES §14): contracts with payment schedules, asset cards with monthly depreciation runs, resources
(parcels) and the year-end inventory."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.core.text import N_
from coop.models.base import Money, Ratio, TimestampMixin, Units, status_check


class ContractStatus(StrEnum):
    DRAFT = "draft"
    EFFECTIVE = "effective"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class AssetStatus(StrEnum):
    IN_USE = "in_use"
    IDLE = "idle"
    LEASED = "leased"
    LENT = "lent"
    SCRAPPED = "scrapped"
    DISPOSED = "disposed"


class ParcelStatus(StrEnum):
    HOUSEHOLD = "household"
    COLLECTIVE = "collective"
    CONTRACTED = "contracted"
    LEASED = "leased"
    SHARES = "shares"
    IDLE = "idle"


class InventoryStatus(StrEnum):
    """年度资产清查: counted, its 181 voucher posted, then published."""
    COUNTING = "counting"
    POSTED = "posted"
    PUBLISHED = "published"


CONTRACT_KINDS = {"contracting": N_("发包/承包"), "lease": N_("租赁"), "transfer": N_("出让"), "works": N_("工程"),
                  "sale": N_("购销"), "loan": N_("借款"), "other": N_("其他")}
#: kinds whose schedule is income to the collective (the 发包租赁 sheet; accruals Cr 经营收入—发包及租赁)
INCOME_KINDS = ("contracting", "lease", "transfer")
CONTRACT_STATUSES = {
    ContractStatus.DRAFT: N_("草稿"),
    ContractStatus.EFFECTIVE: N_("生效"),
    ContractStatus.EXPIRED: N_("到期"),
    ContractStatus.TERMINATED: N_("终止"),
}
FREQUENCY_LABELS = {"annual": N_("按年"), "half_yearly": N_("按半年"), "quarterly": N_("按季"), "one_off": N_("一次性")}
DEMOCRATIC_KINDS = {"assembly": N_("成员（代表）大会"), "four_two": N_("四议两公开")}

ASSET_CATEGORIES = {"fixed": N_("固定资产"), "productive_bio": N_("生产性生物资产"), "land": N_("土地"),
                    "consumable_bio": N_("消耗性生物资产"), "public_bio": N_("公益性生物资产")}
#: categories with monthly depreciation (land and the 131/134 registers have none)
DEPRECIABLE = ("fixed", "productive_bio")
ASSET_USES = {"production": N_("生产用（生产成本）"), "operating": N_("经营用（经营支出）"), "admin": N_("管理用（管理费用）")}
#: depreciation methods (RULES §14): 年限平均法 by default, or 工作量法 (units of production)
DEPRECIATION_METHODS = {"straight": N_("年限平均法"), "workload": N_("工作量法")}
ASSET_SOURCES = {"built": N_("购建"), "donated": N_("捐赠"), "fiscal": N_("财政补助形成"), "poverty": N_("扶贫/衔接资金形成")}
ASSET_STATUSES = {
    AssetStatus.IN_USE: N_("在用"),
    AssetStatus.IDLE: N_("闲置"),
    AssetStatus.LEASED: N_("出租"),
    AssetStatus.LENT: N_("出借"),
    AssetStatus.SCRAPPED: N_("报废"),
    AssetStatus.DISPOSED: N_("已处置"),
}

PARCEL_KINDS = {"arable": N_("耕地"), "forest": N_("林地"), "grass": N_("草地"), "wasteland": N_("四荒地"),
                "water": N_("水面"), "construction": N_("集体经营性建设用地"), "homestead": N_("宅基地"),
                "other": N_("其他")}
PARCEL_STATUSES = {
    ParcelStatus.HOUSEHOLD: N_("家庭承包"),
    ParcelStatus.COLLECTIVE: N_("集体统一经营"),
    ParcelStatus.CONTRACTED: N_("发包"),
    ParcelStatus.LEASED: N_("出租"),
    ParcelStatus.SHARES: N_("入股"),
    ParcelStatus.IDLE: N_("闲置"),
}

COUNT_RESULTS = {"present": N_("账实相符"), "missing": N_("盘亏"), "surplus": N_("盘盈")}


def _org_fk():
    return mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)


class Contract(TimestampMixin, db.Model):
    __tablename__ = "contracts"
    __table_args__ = (
        sa.UniqueConstraint("county_id", "number"),
        sa.CheckConstraint("end_date >= start_date", name="term"),
        sa.CheckConstraint("annual_amount >= 0", name="amount"),
        status_check(ContractStatus),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = _org_fk()
    #: 合同编号 is unique in the county
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("counties.id", ondelete="RESTRICT"), nullable=False)
    number: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    counterparty: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: USCC or 身份证号 (masked per RULES §13 outside the organization's accountants)
    counterparty_id_no: Mapped[str | None] = mapped_column(sa.String(30))
    object_desc: Mapped[str | None] = mapped_column(sa.String(200))
    parcel_id: Mapped[int | None] = mapped_column(sa.ForeignKey("parcels.id", ondelete="RESTRICT"))
    asset_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assets.id", ondelete="RESTRICT"))
    #: term: first and last day (inclusive)
    start_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    end_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    #: the rent of the first contract year; the schedule raises it by step_rate every step_years
    annual_amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    frequency: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="annual")
    step_rate: Mapped[Decimal] = mapped_column(Ratio, nullable=False, default=Decimal(0))
    step_years: Mapped[int] = mapped_column(nullable=False, default=0)
    in_advance: Mapped[bool] = mapped_column(nullable=False, default=True)
    deposit: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal(0))
    #: 评估价 (annual) and the recorded reason for pricing below it or at zero (art. 35 低价租赁)
    appraisal: Mapped[Decimal | None] = mapped_column(Money)
    low_price_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: 民主程序: 成员(代表)大会 or 四议两公开, date, votes, 公示 days
    democratic_kind: Mapped[str | None] = mapped_column(sa.String(12))
    democratic_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    votes_for: Mapped[int | None] = mapped_column()
    votes_total: Mapped[int | None] = mapped_column()
    publicity_days: Mapped[int | None] = mapped_column()
    #: the signed contract's scan: stored path and SHA-256
    scan_path: Mapped[str | None] = mapped_column(sa.String(300))
    scan_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    #: the income leaf the accruals credit (None: the 经营收入—发包及租赁 role)
    income_account: Mapped[str | None] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default=ContractStatus.DRAFT)
    terminated_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    instalments: Mapped[list["ContractInstalment"]] = relationship(
        back_populates="contract", order_by="ContractInstalment.seq", cascade="all, delete-orphan")


class ContractInstalment(db.Model):
    """One due amount of a contract's schedule; accrued once (its voucher), cleared by receipts (received)."""

    __tablename__ = "contract_instalments"
    __table_args__ = (sa.UniqueConstraint("contract_id", "seq"), sa.CheckConstraint("amount >= 0", name="amount"))
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False, index=True)
    seq: Mapped[int] = mapped_column(nullable=False)
    due_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False, index=True)
    period_start: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    period_end: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    received: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal(0))
    accrual_voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    contract: Mapped[Contract] = relationship(back_populates="instalments")


class ContractReceipt(TimestampMixin, db.Model):
    __tablename__ = "contract_receipts"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("contracts.id", ondelete="RESTRICT"), nullable=False, index=True)
    date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))


class Asset(TimestampMixin, db.Model):
    """资产卡片: 151/152 (fixed), 132/133 (productive biological), and 131/134 or land as registers only."""

    __tablename__ = "assets"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "number"),
        sa.CheckConstraint("cost >= 0", name="cost"),
        sa.CheckConstraint("life_months >= 0", name="life"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = _org_fk()
    number: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="fixed")
    #: 经营性 (True) or 非经营性/公益性
    operating: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: which expense its depreciation goes to: production (生产成本), operating (经营支出), admin (管理费用)
    use: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="admin")
    source: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="built")
    #: for fiscal / poverty-fund sources: the 文号 or project that makes it traceable
    source_ref: Mapped[str | None] = mapped_column(sa.String(200))
    acquired_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    cost: Mapped[Decimal] = mapped_column(Money, nullable=False)
    life_months: Mapped[int] = mapped_column(nullable=False, default=0)
    residual_rate: Mapped[Decimal] = mapped_column(Ratio, nullable=False, default=Decimal("0.05"))
    method: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="straight")
    #: 工作量法: 预计总工作量 (4 decimals) and its unit (小时, 公里, 台班…); None for 年限平均法
    total_workload: Mapped[Decimal | None] = mapped_column(Units)
    workload_unit: Mapped[str | None] = mapped_column(sa.String(10))
    #: depreciation before the books took the card over (opening import)
    opening_depreciation: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal(0))
    location: Mapped[str | None] = mapped_column(sa.String(200))
    custodian: Mapped[str | None] = mapped_column(sa.String(60))
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default=AssetStatus.IN_USE)
    # the linked lease contract is the contract whose object is this asset (contracts.asset_id)
    acquisition_voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    disposed_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    disposal_voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))


class AssetWorkload(TimestampMixin, db.Model):
    """实际工作量: a 工作量法 asset's workload in one month, recorded before that month's depreciation run."""

    __tablename__ = "asset_workloads"
    __table_args__ = (sa.UniqueConstraint("asset_id", "year", "month"),
                      sa.CheckConstraint("quantity >= 0", name="quantity"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = _org_fk()
    asset_id: Mapped[int] = mapped_column(sa.ForeignKey("assets.id", ondelete="RESTRICT"), nullable=False, index=True)
    year: Mapped[int] = mapped_column(nullable=False)
    month: Mapped[int] = mapped_column(nullable=False)
    #: 4 decimal places, in the asset's workload unit
    quantity: Mapped[Decimal] = mapped_column(Units, nullable=False)


class DepreciationRun(TimestampMixin, db.Model):
    """One month's depreciation of an organization: one voucher, one line per asset charged."""

    __tablename__ = "depreciation_runs"
    __table_args__ = (sa.UniqueConstraint("organization_id", "year", "month"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = _org_fk()
    year: Mapped[int] = mapped_column(nullable=False)
    month: Mapped[int] = mapped_column(nullable=False)
    total: Mapped[Decimal] = mapped_column(Money, nullable=False)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    lines: Mapped[list["DepreciationLine"]] = relationship(back_populates="run", cascade="all, delete-orphan")


class DepreciationLine(db.Model):
    __tablename__ = "depreciation_lines"
    __table_args__ = (sa.UniqueConstraint("run_id", "asset_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("depreciation_runs.id", ondelete="CASCADE"), nullable=False)
    asset_id: Mapped[int] = mapped_column(sa.ForeignKey("assets.id", ondelete="RESTRICT"), nullable=False, index=True)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    run: Mapped[DepreciationRun] = relationship(back_populates="lines")


class Parcel(TimestampMixin, db.Model):
    """资源台账: a parcel of collective land (or water)."""

    __tablename__ = "parcels"
    __table_args__ = (sa.UniqueConstraint("organization_id", "code"), sa.CheckConstraint("area > 0", name="area"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = _org_fk()
    code: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    name: Mapped[str | None] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    #: 亩, 4 decimal places
    area: Mapped[Decimal] = mapped_column(Units, nullable=False)
    location: Mapped[str | None] = mapped_column(sa.String(200))
    east: Mapped[str | None] = mapped_column(sa.String(100))
    south: Mapped[str | None] = mapped_column(sa.String(100))
    west: Mapped[str | None] = mapped_column(sa.String(100))
    north: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default=ParcelStatus.COLLECTIVE)
    # the linked contract is the contract whose object is this parcel (contracts.parcel_id)
    value: Mapped[Decimal | None] = mapped_column(Money)


class Inventory(TimestampMixin, db.Model):
    """年度资产清查 at 31 December: the list, its 181 voucher and its 公示."""

    __tablename__ = "inventories"
    __table_args__ = (sa.UniqueConstraint("organization_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = _org_fk()
    year: Mapped[int] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default=InventoryStatus.COUNTING)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    publish_from: Mapped[dt.date | None] = mapped_column(sa.Date)
    publish_until: Mapped[dt.date | None] = mapped_column(sa.Date)
    items: Mapped[list["InventoryItem"]] = relationship(back_populates="inventory", order_by="InventoryItem.id",
                                                        cascade="all, delete-orphan")


class InventoryItem(db.Model):
    __tablename__ = "inventory_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    inventory_id: Mapped[int] = mapped_column(sa.ForeignKey("inventories.id", ondelete="CASCADE"), nullable=False, index=True)
    asset_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assets.id", ondelete="RESTRICT"))
    parcel_id: Mapped[int | None] = mapped_column(sa.ForeignKey("parcels.id", ondelete="RESTRICT"))
    description: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    book_value: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal(0))
    #: None until counted; present / missing (盘亏) / surplus (盘盈)
    result: Mapped[str | None] = mapped_column(sa.String(10))
    #: 盘盈: the value found (posted Dr 固定资产 / Cr 待处理财产损溢)
    counted_value: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(sa.String(200))
    inventory: Mapped[Inventory] = relationship(back_populates="items")
