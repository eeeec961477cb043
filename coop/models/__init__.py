"""All models, imported here so Alembic autogenerate sees every table."""
from .cash import (BankAccount, BankColumnMapping, BankMatch, BankStatement, BankStatementLine, CashCount,
                   CashierSignature, HouseholdBankAccount, PayoutBatch, PayoutItem, Reconciliation, SpendingApproval,
                   SpendingPolicy, SpendingRequest, SpendingScan)
from .assets import (Asset, Contract, ContractInstalment, ContractReceipt, DepreciationLine, DepreciationRun,
                     Inventory, InventoryItem, Parcel)
from .disclosure import AuditHead, Disclosure, DisclosureComment, VoucherQuestion
from .daily import QuestionAttachment, VoucherTemplate, VoucherTemplateRun
from .distribution import (DistributionApproval, DistributionCadre, DistributionPlan, DividendPayment,
                           HouseholdDividend)
from .ledger import (Account, Attachment, AuditLog, OpeningBalance, Period, PostingRoleMapping, Voucher, VoucherLine,
                     VoucherSequence)
from .joint import JointProject, ProjectContribution, ProjectParticipant, ProjectReturn, ProjectReturnLine
from .loans import Loan, LoanEvent, LprRate, SubsidyClaim, SubsidyPolicy
from .members import (Household, Member, MembershipEvent, PlanMemberInput, QuantificationPlan, ShareAction,
                      ShareCertificate, ShareEvent)
from .org import County, Organization, Township
from .county import (AuditCase, AuditFinding, AuditFindingVoucher, Budget, BudgetLine, CountyTarget,
                     RectificationItem)
from .setup import ImportMapping
from .users import ApiToken, IdempotencyKey, RoleAssignment, User
from . import guards  # noqa: F401  (registers the posted-voucher guard)

__all__ = [
    "AuditCase", "AuditFinding", "AuditFindingVoucher", "Budget", "BudgetLine", "CountyTarget", "RectificationItem",
    "Account", "ApiToken", "IdempotencyKey", "Attachment", "AuditLog", "County", "OpeningBalance", "Organization", "Period",
    "PostingRoleMapping",
    "RoleAssignment", "Township", "User", "Voucher", "VoucherLine", "VoucherSequence",
    "Asset", "Contract", "ContractInstalment", "ContractReceipt", "DepreciationLine", "DepreciationRun", "Inventory",
    "InventoryItem", "Parcel",
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
__all__ += ["ImportMapping"]
