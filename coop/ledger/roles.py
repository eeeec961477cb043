"""Posting roles (科目对照, RULES §2): every voucher the system writes names a role, never an account code.

Each organization maps a role to one of its leaf accounts. Without a mapping the role falls back to its
default account while that account is a leaf; once the accountant adds sub-accounts under it, a mapping is
required (the 科目对照 page says which). Money roles (cash, bank) are usually chosen on the form itself.
"""
from __future__ import annotations

from dataclasses import dataclass

from coop.core.text import N_


@dataclass(frozen=True)
class PostingRole:
    key: str
    label: str
    #: the first-level national account the role must resolve under
    top: str
    #: the default account (the first-level account, or one of the required details of 322)
    default: str
    #: cash or bank: forms ask which leaf and remember the choice
    money: bool = False


def _r(key, label, top, default=None, money=False) -> PostingRole:
    return PostingRole(key, label, top, default or top, money)


CASH = "cash"
BANK = "bank"
RECEIVABLE = "receivable"
INTERNAL = "internal"
PAYABLE = "payable"
DIVIDENDS_PAYABLE = "dividends_payable"
CADRE_REWARD_PAYABLE = "cadre_reward_payable"
TAX_PAYABLE = "tax_payable"
SHORT_LOAN = "short_loan"
LONG_LOAN = "long_loan"
SPECIAL_PAYABLE = "special_payable"
LONG_INVESTMENT = "long_investment"
INTANGIBLE = "intangible"
CAPITAL = "capital"
RESERVE = "reserve"
CURRENT_YEAR_PROFIT = "current_year_profit"
UNDISTRIBUTED = "undistributed"
DIST_RESERVE = "dist_reserve"
DIST_CADRE = "dist_cadre"
DIST_MEMBERS = "dist_members"
DIST_OTHER = "dist_other"
INVESTMENT_INCOME = "investment_income"
SUBSIDY_INCOME = "subsidy_income"
INTEREST_EXPENSE = "interest_expense"
# 三资 (#21)
FIXED_ASSETS = "fixed_assets"
ACCUMULATED_DEPRECIATION = "accumulated_depreciation"
BIO_ASSETS = "bio_assets"
BIO_DEPRECIATION = "bio_depreciation"
ASSET_CLEARING = "asset_clearing"
PENDING_GAINS_LOSSES = "pending_gains_losses"
LEASE_INCOME = "lease_income"
PRODUCTION_COST = "production_cost"
OPERATING_EXPENSE = "operating_expense"
ADMIN_EXPENSE = "admin_expense"
OTHER_INCOME = "other_income"
OTHER_EXPENSE = "other_expense"

ROLES: tuple[PostingRole, ...] = (
    _r(CASH, N_("库存现金"), "101", money=True),
    _r(BANK, N_("银行存款"), "102", money=True),
    _r(RECEIVABLE, N_("应收款"), "112"),
    _r(INTERNAL, N_("内部往来"), "113"),
    _r(LONG_INVESTMENT, N_("长期投资"), "141"),
    _r(INTANGIBLE, N_("无形资产（土地出资）"), "161"),
    _r(SHORT_LOAN, N_("短期借款"), "201"),
    _r(PAYABLE, N_("应付款"), "211"),
    _r(DIVIDENDS_PAYABLE, N_("应付款—应付收益"), "211"),
    _r(CADRE_REWARD_PAYABLE, N_("应付工资—干部奖励"), "212"),
    _r(TAX_PAYABLE, N_("应交税费—个人所得税"), "214"),
    _r(LONG_LOAN, N_("长期借款及应付款"), "221"),
    _r(SPECIAL_PAYABLE, N_("专项应付款"), "241"),
    _r(CAPITAL, N_("资本"), "301"),
    _r(RESERVE, N_("公积公益金"), "311"),
    _r(CURRENT_YEAR_PROFIT, N_("本年收益"), "321"),
    _r(DIST_RESERVE, N_("各项分配—提取公积公益金"), "322", "3220101"),
    _r(DIST_CADRE, N_("各项分配—干部奖励分红"), "322", "3220102"),
    _r(DIST_MEMBERS, N_("各项分配—向成员分配"), "322", "3220103"),
    _r(DIST_OTHER, N_("各项分配—其他"), "322", "3220104"),
    _r(UNDISTRIBUTED, N_("未分配收益"), "322", "32202"),
    _r(INVESTMENT_INCOME, N_("投资收益"), "502"),
    _r(SUBSIDY_INCOME, N_("补助收入—贴息"), "503"),
    _r(INTEREST_EXPENSE, N_("其他支出—利息支出"), "515"),
    # 报账/出纳 (#22): the expense a spending request books, by its category
    _r("expense_admin", N_("报账—管理费用"), "513"),
    _r("expense_operating", N_("报账—经营支出"), "511"),
    _r("expense_public", N_("报账—公益支出"), "514"),
    _r("expense_other", N_("报账—其他支出"), "515"),
    _r("expense_production", N_("报账—生产(劳务)成本"), "401"),
    _r("expense_construction", N_("报账—在建工程"), "153"),
    # 三资 (#21)
    _r(FIXED_ASSETS, N_("固定资产"), "151"),
    _r(ACCUMULATED_DEPRECIATION, N_("累计折旧"), "152"),
    _r(BIO_ASSETS, N_("生产性生物资产"), "132"),
    _r(BIO_DEPRECIATION, N_("生产性生物资产累计折旧"), "133"),
    _r(ASSET_CLEARING, N_("固定资产清理"), "154"),
    _r(PENDING_GAINS_LOSSES, N_("待处理财产损溢"), "181"),
    _r(LEASE_INCOME, N_("经营收入—发包及租赁"), "501"),
    _r(PRODUCTION_COST, N_("生产（劳务）成本—折旧"), "401"),
    _r(OPERATING_EXPENSE, N_("经营支出—折旧"), "511"),
    _r(ADMIN_EXPENSE, N_("管理费用—折旧"), "513"),
    _r(OTHER_INCOME, N_("其他收入—资产处置及盘盈"), "504"),
    _r(OTHER_EXPENSE, N_("其他支出—资产处置及盘亏"), "515"),
)
ROLE_BY_KEY = {r.key: r for r in ROLES}

# 报账/出纳 (#22): the role keys of the block above
EXPENSE_ADMIN = "expense_admin"
EXPENSE_OPERATING = "expense_operating"
EXPENSE_PUBLIC = "expense_public"
EXPENSE_OTHER = "expense_other"
EXPENSE_PRODUCTION = "expense_production"
EXPENSE_CONSTRUCTION = "expense_construction"
#: the spending categories of a 报账 request, in the order forms offer them
EXPENSE_ROLES = (EXPENSE_ADMIN, EXPENSE_OPERATING, EXPENSE_PUBLIC, EXPENSE_OTHER, EXPENSE_PRODUCTION,
                 EXPENSE_CONSTRUCTION)
