"""All models, imported here so Alembic autogenerate sees every table."""
from coop.models import guards  # noqa: F401  (registers the posted-voucher guard)
from coop.models.assets import (Asset, AssetStatus, AssetWorkload, Contract, ContractInstalment, ContractReceipt,
                                ContractStatus, DepreciationLine, DepreciationRun, Inventory, InventoryItem,
                                InventoryStatus, Parcel, ParcelStatus)
from coop.models.audit import AuditHead, AuditLog
from coop.models.cash import (BankAccount, BankColumnMapping, BankMatch, BankStatement, BankStatementLine, CashCount,
                              CashierSignature, HouseholdBankAccount, PayoutBatch, PayoutItem, PayoutItemStatus,
                              PayoutStatus, Reconciliation, RequestStatus, SpendingApproval, SpendingPolicy,
                              SpendingRequest, SpendingScan)
from coop.models.county import (AuditCase, AuditFinding, AuditFindingVoucher, AuditStatus, Budget, BudgetLine,
                                BudgetStatus, CountyTarget, RectificationItem)
from coop.models.daily import QuestionAttachment, VoucherTemplate, VoucherTemplateRun
from coop.models.disclosure import Disclosure, DisclosureComment, QuestionStatus, SheetStatus, VoucherQuestion
from coop.models.distribution import (DistributionApproval, DistributionCadre, DistributionPlan, DividendPayment,
                                      HouseholdDividend, PlanStatus)
from coop.models.joint import JointProject, ProjectContribution, ProjectParticipant, ProjectReturn, ProjectReturnLine
from coop.models.ledger import (Account, Attachment, OpeningBalance, Period, PeriodStatus, PostingRoleMapping, Voucher,
                                VoucherLine, VoucherSequence, VoucherStatus)
from coop.models.loans import ClaimStatus, Loan, LoanEvent, LprRate, SubsidyClaim, SubsidyPolicy
from coop.models.members import Household, Member, MembershipEvent, MemberStatus
from coop.models.org import BooksVersion, County, DirectoryVersion, Organization, Township
from coop.models.setup import ImportMapping
from coop.models.shares import (PlanMemberInput, QuantificationPlan, QuantificationStatus, ShareAction,
                                ShareCertificate, ShareEvent)
from coop.models.users import ApiToken, IdempotencyKey, LoginFailure, RoleAssignment, User

#: every status column's values, one StrEnum per column (the values are what the database and the JSON hold)
STATUS_ENUMS = (VoucherStatus, PeriodStatus, MemberStatus, QuantificationStatus, PlanStatus, SheetStatus,
                QuestionStatus, RequestStatus, PayoutStatus, PayoutItemStatus, ClaimStatus, ContractStatus, AssetStatus,
                ParcelStatus, InventoryStatus, BudgetStatus, AuditStatus)

__all__ = [
    "AuditCase", "AuditFinding", "AuditFindingVoucher", "Budget", "BudgetLine", "CountyTarget", "RectificationItem",
    "Account", "ApiToken", "IdempotencyKey", "Attachment", "AuditLog", "BooksVersion", "County", "DirectoryVersion", "OpeningBalance", "Organization", "Period",
    "PostingRoleMapping",
    "RoleAssignment", "Township", "User", "Voucher", "VoucherLine", "VoucherSequence",
    "Asset", "AssetWorkload", "Contract", "ContractInstalment", "ContractReceipt", "DepreciationLine", "DepreciationRun",
    "Inventory", "InventoryItem", "Parcel",
    "AuditHead", "Disclosure", "DisclosureComment", "VoucherQuestion",
    "DistributionApproval", "DistributionCadre", "DistributionPlan", "DividendPayment", "HouseholdDividend",
    "JointProject", "ProjectContribution", "ProjectParticipant", "ProjectReturn", "ProjectReturnLine",
    "Loan", "LoanEvent", "LprRate", "SubsidyClaim", "SubsidyPolicy",
    "QuestionAttachment", "VoucherTemplate", "VoucherTemplateRun",
    "BankAccount", "BankColumnMapping", "BankMatch", "BankStatement", "BankStatementLine", "CashCount", "CashierSignature",
    "HouseholdBankAccount", "PayoutBatch", "PayoutItem", "Reconciliation", "SpendingApproval", "SpendingPolicy",
    "SpendingRequest", "SpendingScan",
    "Household", "Member", "MembershipEvent", "PlanMemberInput", "QuantificationPlan", "ShareAction", "ShareCertificate", "ShareEvent",
]
__all__ += ["ImportMapping", "LoginFailure"]
__all__ += ["STATUS_ENUMS"] + [e.__name__ for e in STATUS_ENUMS]
from coop.models import books  # noqa: F401  (registers the books-version events)
