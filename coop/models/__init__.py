"""All models, imported here so Alembic autogenerate sees every table."""
from coop.models.cash import (BankAccount, BankColumnMapping, BankMatch, BankStatement, BankStatementLine, CashCount,
                   CashierSignature, HouseholdBankAccount, PayoutBatch, PayoutItem, Reconciliation, SpendingApproval,
                   SpendingPolicy, SpendingRequest, SpendingScan)
from coop.models.assets import (Asset, Contract, ContractInstalment, ContractReceipt, DepreciationLine, DepreciationRun,
                     Inventory, InventoryItem, Parcel)
from coop.models.disclosure import AuditHead, Disclosure, DisclosureComment, VoucherQuestion
from coop.models.daily import QuestionAttachment, VoucherTemplate, VoucherTemplateRun
from coop.models.distribution import (DistributionApproval, DistributionCadre, DistributionPlan, DividendPayment,
                           HouseholdDividend)
from coop.models.ledger import (Account, Attachment, AuditLog, OpeningBalance, Period, PostingRoleMapping, Voucher, VoucherLine,
                     VoucherSequence)
from coop.models.joint import JointProject, ProjectContribution, ProjectParticipant, ProjectReturn, ProjectReturnLine
from coop.models.loans import Loan, LoanEvent, LprRate, SubsidyClaim, SubsidyPolicy
from coop.models.members import (Household, Member, MembershipEvent, PlanMemberInput, QuantificationPlan, ShareAction,
                      ShareCertificate, ShareEvent)
from coop.models.org import BooksVersion, County, Organization, Township
from coop.models.county import (AuditCase, AuditFinding, AuditFindingVoucher, Budget, BudgetLine, CountyTarget,
                     RectificationItem)
from coop.models.setup import ImportMapping
from coop.models.users import ApiToken, IdempotencyKey, RoleAssignment, User
from coop.models import guards  # noqa: F401  (registers the posted-voucher guard)

__all__ = [
    "AuditCase", "AuditFinding", "AuditFindingVoucher", "Budget", "BudgetLine", "CountyTarget", "RectificationItem",
    "Account", "ApiToken", "IdempotencyKey", "Attachment", "AuditLog", "BooksVersion", "County", "OpeningBalance", "Organization", "Period",
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
from coop.models import books  # noqa: F401  (registers the books-version events)
