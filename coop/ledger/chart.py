"""The national chart of accounts of 《农村集体经济组织会计制度》(财会〔2023〕14号) and the 2004 mapping."""
from __future__ import annotations

from dataclasses import dataclass

from coop.core.text import N_
from coop.ledger import codes

ASSET, LIABILITY, EQUITY, COST, PNL = "asset", "liability", "equity", "cost", "pnl"
DEBIT, CREDIT = "debit", "credit"
CATEGORY_LABELS = {ASSET: N_("资产类"), LIABILITY: N_("负债类"), EQUITY: N_("所有者权益类"), COST: N_("成本类"), PNL: N_("损益类")}


@dataclass(frozen=True)
class ChartAccount:
    code: str
    name: str
    category: str
    normal_side: str  # DEBIT or CREDIT
    income: bool = False  # 损益-收入 (else, for pnl, 损益-费用)


def _a(code, name, category, side=DEBIT, income=False):
    return ChartAccount(code, name, category, side, income)


#: the 42 first-level accounts, fixed nationally (RULES §2)
CHART_2023: tuple[ChartAccount, ...] = (
    _a("101", "库存现金", ASSET),
    _a("102", "银行存款", ASSET),
    _a("111", "短期投资", ASSET),
    _a("112", "应收款", ASSET),
    _a("113", "内部往来", ASSET),
    _a("121", "库存物资", ASSET),
    _a("131", "消耗性生物资产", ASSET),
    _a("132", "生产性生物资产", ASSET),
    _a("133", "生产性生物资产累计折旧", ASSET, CREDIT),
    _a("134", "公益性生物资产", ASSET),
    _a("141", "长期投资", ASSET),
    _a("151", "固定资产", ASSET),
    _a("152", "累计折旧", ASSET, CREDIT),
    _a("153", "在建工程", ASSET),
    _a("154", "固定资产清理", ASSET),
    _a("161", "无形资产", ASSET),
    _a("162", "累计摊销", ASSET, CREDIT),
    _a("171", "长期待摊费用", ASSET),
    _a("181", "待处理财产损溢", ASSET),
    _a("201", "短期借款", LIABILITY, CREDIT),
    _a("211", "应付款", LIABILITY, CREDIT),
    _a("212", "应付工资", LIABILITY, CREDIT),
    _a("213", "应付劳务费", LIABILITY, CREDIT),
    _a("214", "应交税费", LIABILITY, CREDIT),
    _a("221", "长期借款及应付款", LIABILITY, CREDIT),
    _a("231", "一事一议资金", LIABILITY, CREDIT),
    _a("241", "专项应付款", LIABILITY, CREDIT),
    _a("301", "资本", EQUITY, CREDIT),
    _a("311", "公积公益金", EQUITY, CREDIT),
    _a("321", "本年收益", EQUITY, CREDIT),
    _a("322", "收益分配", EQUITY, CREDIT),
    _a("401", "生产(劳务)成本", COST),
    _a("501", "经营收入", PNL, CREDIT, income=True),
    _a("502", "投资收益", PNL, CREDIT, income=True),
    _a("503", "补助收入", PNL, CREDIT, income=True),
    _a("504", "其他收入", PNL, CREDIT, income=True),
    _a("511", "经营支出", PNL),
    _a("512", "税金及附加", PNL),
    _a("513", "管理费用", PNL),
    _a("514", "公益支出", PNL),
    _a("515", "其他支出", PNL),
    _a("521", "所得税费用", PNL),
)
CHART_BY_CODE = {a.code: a for a in CHART_2023}

#: 明细科目 every organization gets (RULES §2: 322 must have 32201 各项分配 with details, and 32202 未分配收益).
#: Codes written in this module and in roles.py are canonical (2-2-2); an organization whose county keeps
#: another scheme reads them through codes.CANONICAL.convert (3220101 → 322001001 under 3-3).
REQUIRED_DETAILS: tuple[tuple[str, str], ...] = (
    ("32201", "各项分配"),
    ("3220101", "提取公积公益金"),
    ("3220102", "干部奖励分红"),
    ("3220103", "向成员分配"),
    ("3220104", "其他"),
    ("32202", "未分配收益"),
)
UNDISTRIBUTED = "32202"
DISTRIBUTIONS = "32201"
CURRENT_YEAR_PROFIT = "321"

#: first-level accounts the 财务公开 sheets name by rule (RULES §10)
CASH_ACCOUNTS = ("101", "102")  # 货币资金
CLAIMS_AND_DEBTS = ("112", "113", "211")  # 应收款, 内部往来 (either side), 应付款 — by counterparty
LOAN_ACCOUNTS = ("201", "221")  # 短期借款, 长期借款及应付款 — by lender
OTHER_LIABILITIES = ("212", "213", "214", "241")  # 应付工资, 应付劳务费, 应交税费, 专项应付款
CAPITAL_SPENDING = ("132", "151", "153")  # 生产性生物资产, 固定资产, 在建工程
SPECIAL_FUNDS = ("231", "241")  # 一事一议资金, 专项应付款: their uses are listed
PRODUCTION_COST = "401"
YISHIYIYI = "231"
RESERVE_FUND = "311"  # 公积公益金: where assets formed from 一事一议 and fiscal funds end up

#: 2004 system (财会〔2004〕12号, 33 accounts) → 2023 code. Where the old account splits by substance the
#: first choice is the default and the import lets the accountant pick another (research notes §1.5).
CHART_2004: dict[str, tuple[str, tuple[str, ...]]] = {
    "101": ("现金", ("101",)),
    "102": ("银行存款", ("102",)),
    "111": ("短期投资", ("111",)),
    "112": ("应收款", ("112",)),
    "113": ("内部往来", ("113",)),
    "121": ("库存物资", ("121",)),
    "131": ("牲畜(禽)资产", ("131", "132")),
    "132": ("林木资产", ("131", "132", "134")),
    "141": ("长期投资", ("141",)),
    "151": ("固定资产", ("151",)),
    "152": ("累计折旧", ("152",)),
    "153": ("固定资产清理", ("154",)),
    "154": ("在建工程", ("153",)),
    "201": ("短期借款", ("201",)),
    "202": ("应付款", ("211",)),
    "211": ("应付工资", ("212",)),
    "212": ("应付福利费", ("311", "211")),
    "221": ("长期借款及应付款", ("221",)),
    "231": ("一事一议资金", ("231",)),
    "301": ("资本", ("301",)),
    "311": ("公积公益金", ("311",)),
    "321": ("本年收益", ("321",)),
    "322": ("收益分配", ("32202",)),
    "401": ("生产(劳务)成本", ("401",)),
    "501": ("经营收入", ("501",)),
    "502": ("经营支出", ("511",)),
    "511": ("发包及上交收入", ("501", "502")),
    "521": ("农业税附加返还收入", ("504",)),
    "522": ("补助收入", ("503",)),
    "531": ("其他收入", ("504",)),
    "541": ("管理费用", ("513",)),
    "551": ("其他支出", ("515",)),
    "561": ("投资收益", ("502",)),
}


def chart_account(code: str) -> ChartAccount:
    return CHART_BY_CODE[codes.top(code)]

#: accounts whose every line and opening balance names a counterparty or household (RULES §2 辅助核算), so that
#: balances can be shown gross by counterparty (应收 A and 应付 B, never netted)
COUNTERPARTY_ACCOUNTS = ("112", "113", "201", "211", "221")
