"""报账, 出纳 and the bank (RULES §15): spending requests and their approval steps, the county's spending policy,
the 出纳's signatures and cash counts, bank accounts, statements with their lines and matches, the monthly
银行存款余额调节表, and 分红代发 batches."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop.core.extensions import db
from coop.core.text import N_
from coop.models.base import Money, TimestampMixin, status_check, utcnow


class RequestStatus(StrEnum):
    """A 支出审批单 (RULES §15)."""
    PENDING = "pending"
    APPROVED = "approved"
    VETOED = "vetoed"
    REJECTED = "rejected"
    VOUCHERED = "vouchered"


class PayoutStatus(StrEnum):
    """A 代发 batch: exported to the bank, then settled from its return file."""
    EXPORTED = "exported"
    SETTLED = "settled"


class PayoutItemStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


#: approval steps in the order they are taken (RULES §15)
STEPS = {"head": N_("村负责人审批"), "finance_group": N_("民主理财小组审核"),
         "meeting": N_("成员（代表）大会/四议两公开"), "township": N_("乡镇代理中心审核")}
REQUEST_STATUSES = {
    RequestStatus.PENDING: N_("审批中"),
    RequestStatus.APPROVED: N_("已批准"),
    RequestStatus.VETOED: N_("民主理财小组否决"),
    RequestStatus.REJECTED: N_("已退回"),
    RequestStatus.VOUCHERED: N_("已生成凭证"),
}
PAYOUT_STATUSES = {
    PayoutStatus.EXPORTED: N_("已导出，待银行回盘"),
    PayoutStatus.SETTLED: N_("已回盘"),
}
ITEM_STATUSES = {
    PayoutItemStatus.PENDING: N_("待回盘"),
    PayoutItemStatus.PAID: N_("成功"),
    PayoutItemStatus.FAILED: N_("失败"),
}


class SpendingPolicy(TimestampMixin, db.Model):
    """The county's 村级财务支出审批 thresholds and cash rules; a county without a row uses the defaults."""

    __tablename__ = "spending_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("counties.id", ondelete="RESTRICT"), nullable=False, unique=True)
    #: above A the 民主理财小组 reviews (and may veto)
    finance_group_above: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("2000.00"))
    #: above B a 成员(代表)大会 or 四议两公开 record is required
    meeting_above: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("50000.00"))
    #: the township's 代理中心 审核 as the last step
    township_review: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: a single cash payment above this is a warning (the rest goes through the bank)
    cash_payment_limit: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("1000.00"))
    #: spending above this needs an approved request (三色预警)
    request_required_above: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("500.00"))


class SpendingRequest(TimestampMixin, db.Model):
    """报账单: who spent what on what, with its scans; the chain of steps is fixed when it is filed."""

    __tablename__ = "spending_requests"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount"),
        status_check(RequestStatus),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    #: 经办人 as written on the form (often the requester)
    handler: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    purpose: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    payee: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: the payee is a person (not a unit)
    payee_personal: Mapped[bool] = mapped_column(nullable=False, default=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    #: the expense posting role (coop.ledger.roles, 报账/出纳 block)
    category: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    spent_on: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    #: comma-separated STEPS keys this request needs, fixed at filing by the county's thresholds
    chain: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default=RequestStatus.PENDING)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"), unique=True)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow, nullable=False)
    scans: Mapped[list["SpendingScan"]] = relationship(back_populates="request", order_by="SpendingScan.id")
    approvals: Mapped[list["SpendingApproval"]] = relationship(back_populates="request", order_by="SpendingApproval.id")

    @property
    def steps(self) -> list[str]:
        return [s for s in self.chain.split(",") if s]


class SpendingScan(TimestampMixin, db.Model):
    """An invoice or receipt scan of a request; attached to the voucher when the request becomes one."""

    __tablename__ = "spending_scans"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("spending_requests.id", ondelete="RESTRICT"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    size: Mapped[int] = mapped_column(nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    stored_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    request: Mapped[SpendingRequest] = relationship(back_populates="scans")


class SpendingApproval(TimestampMixin, db.Model):
    """One step's decision: approve, veto (民主理财小组, with a reason) or reject (back to the requester)."""

    __tablename__ = "spending_approvals"
    __table_args__ = (
        sa.UniqueConstraint("request_id", "step"),
        sa.CheckConstraint("decision IN ('approve','veto','reject')", name="decision"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("spending_requests.id", ondelete="RESTRICT"), nullable=False)
    step: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    decision: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    #: 成员(代表)大会 / 四议两公开: the meeting's date and record
    meeting_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    record: Mapped[str | None] = mapped_column(sa.String(500))
    request: Mapped[SpendingRequest] = relationship(back_populates="approvals")


class CashierSignature(db.Model):
    """The 出纳's signature on a voucher that moves money (the 出纳 slot of the printed form)."""

    __tablename__ = "cashier_signatures"
    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    signed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)


class CashCount(TimestampMixin, db.Model):
    """库存现金盘点: counted against the book balance of one cash leaf at the end of a day."""

    __tablename__ = "cash_counts"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    account_code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    counted: Mapped[Decimal] = mapped_column(Money, nullable=False)
    book: Mapped[Decimal] = mapped_column(Money, nullable=False)
    #: counted − book (盘盈 > 0, 盘亏 < 0)
    difference: Mapped[Decimal] = mapped_column(Money, nullable=False)
    counted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    note: Mapped[str | None] = mapped_column(sa.String(200))


class BankAccount(TimestampMixin, db.Model):
    """A 102 leaf's bank account: which bank (its statement layout), the number, and whether it is a person's."""

    __tablename__ = "bank_accounts"
    __table_args__ = (sa.UniqueConstraint("organization_id", "account_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False)
    account_code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    bank_name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    account_no: Mapped[str | None] = mapped_column(sa.String(40))
    #: 公款私存: collective money in a person's account (农村集体经济组织法 art. 44), always a red warning
    personal: Mapped[bool] = mapped_column(nullable=False, default=False)


class BankColumnMapping(TimestampMixin, db.Model):
    """Which column of a bank's statement file holds what; remembered per organization and bank."""

    __tablename__ = "bank_column_mappings"
    __table_args__ = (sa.UniqueConstraint("organization_id", "bank_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False)
    bank_name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    #: JSON {"date": "交易日期", "amount"|"credit"+"debit": …, "reference": …, "counterparty": …, "summary": …, "balance": …}
    mapping: Mapped[str] = mapped_column(sa.Text, nullable=False)


class BankStatement(TimestampMixin, db.Model):
    """An imported statement file (once per file: its SHA-256 per organization)."""

    __tablename__ = "bank_statements"
    __table_args__ = (sa.UniqueConstraint("organization_id", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    account_code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    bank_name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    date_from: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    date_to: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    #: the bank's balance at the end of date_to
    closing_balance: Mapped[Decimal] = mapped_column(Money, nullable=False)
    imported_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    lines: Mapped[list["BankStatementLine"]] = relationship(back_populates="statement", order_by="BankStatementLine.seq")


class BankStatementLine(db.Model):
    """One line of a statement; amount > 0 is money in (贷方/收入), < 0 money out."""

    __tablename__ = "bank_statement_lines"
    __table_args__ = (sa.CheckConstraint("amount <> 0", name="amount"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(sa.ForeignKey("bank_statements.id", ondelete="RESTRICT"), nullable=False, index=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    account_code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    seq: Mapped[int] = mapped_column(nullable=False)
    date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    reference: Mapped[str | None] = mapped_column(sa.String(60))
    counterparty: Mapped[str | None] = mapped_column(sa.String(100))
    summary: Mapped[str | None] = mapped_column(sa.String(200))
    balance: Mapped[Decimal | None] = mapped_column(Money)
    statement: Mapped[BankStatement] = relationship(back_populates="lines")


class BankMatch(TimestampMixin, db.Model):
    """A statement line matched to a posted voucher line on the same bank leaf; each side matched once."""

    __tablename__ = "bank_matches"
    __table_args__ = (sa.CheckConstraint("kind IN ('auto','manual')", name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    statement_line_id: Mapped[int] = mapped_column(sa.ForeignKey("bank_statement_lines.id", ondelete="RESTRICT"), nullable=False, unique=True)
    voucher_line_id: Mapped[int] = mapped_column(sa.ForeignKey("voucher_lines.id", ondelete="RESTRICT"), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(sa.String(6), nullable=False)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)


class Reconciliation(TimestampMixin, db.Model):
    """银行存款余额调节表 of one bank leaf and month, saved final only when the adjusted balances agree."""

    __tablename__ = "reconciliations"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "account_code", "year", "month"),
        sa.CheckConstraint("adjusted_bank = adjusted_book", name="agree"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False)
    account_code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    year: Mapped[int] = mapped_column(nullable=False)
    month: Mapped[int] = mapped_column(nullable=False)
    bank_balance: Mapped[Decimal] = mapped_column(Money, nullable=False)
    book_balance: Mapped[Decimal] = mapped_column(Money, nullable=False)
    adjusted_bank: Mapped[Decimal] = mapped_column(Money, nullable=False)
    adjusted_book: Mapped[Decimal] = mapped_column(Money, nullable=False)
    #: JSON of the 未达账项 as they stood
    items: Mapped[str] = mapped_column(sa.Text, nullable=False)
    saved_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)


class HouseholdBankAccount(TimestampMixin, db.Model):
    """The card a household's dividends are paid to (分红代发)."""

    __tablename__ = "household_bank_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"), nullable=False, unique=True)
    bank_name: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    account_no: Mapped[str] = mapped_column(sa.String(40), nullable=False)


class PayoutBatch(TimestampMixin, db.Model):
    """分红代发: one bank batch file for a plan's unpaid households, then the bank's result."""

    __tablename__ = "payout_batches"
    __table_args__ = (status_check(PayoutStatus),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("distribution_plans.id", ondelete="RESTRICT"), nullable=False, index=True)
    pay_from: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default=PayoutStatus.EXPORTED)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    #: SHA-256 of the imported result file (once per file)
    #: the bank's result file as imported. Not unique: a batch re-issued after a red reversal (the same household,
    #: card and amount) gets a result identical to the first batch's, byte for byte; a batch takes one result
    result_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="RESTRICT"))
    items: Mapped[list["PayoutItem"]] = relationship(back_populates="batch", order_by="PayoutItem.seq")


class PayoutItem(db.Model):
    """A household in a batch. While the batch is in flight `in_flight` holds the dividend's id, so a second batch
    for the same household hits the unique key; the result clears it."""

    __tablename__ = "payout_items"
    __table_args__ = (
        sa.UniqueConstraint("batch_id", "seq"),
        status_check(PayoutItemStatus),
        sa.CheckConstraint("amount > 0", name="amount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("payout_batches.id", ondelete="RESTRICT"), nullable=False)
    seq: Mapped[int] = mapped_column(nullable=False)
    dividend_id: Mapped[int] = mapped_column(sa.ForeignKey("household_dividends.id", ondelete="RESTRICT"), nullable=False, index=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("households.id", ondelete="RESTRICT"), nullable=False)
    in_flight: Mapped[int | None] = mapped_column(unique=True)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    account_no: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(8), nullable=False, default=PayoutItemStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    batch: Mapped[PayoutBatch] = relationship(back_populates="items")
