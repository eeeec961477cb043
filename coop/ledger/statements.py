"""资产负债表 and 收益及收益分配表 (RULES §5), computed from leaf balances and movements."""
from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from coop.core.text import N_
from coop.core.money import ZERO
from coop.ledger.balances import rollup
from coop.ledger.types import Statement, StatementRow


def _dr(bal: Mapping[str, Decimal], *codes: str) -> Decimal:
    """Debit-side amount of accounts (a credit balance comes out negative)."""
    return sum((rollup(bal, c) for c in codes), ZERO)


def _cr(bal: Mapping[str, Decimal], *codes: str) -> Decimal:
    return -_dr(bal, *codes)


def _side_split(bal: Mapping[str, Decimal], code: str) -> tuple[Decimal, Decimal]:
    """(sum of debit balances, sum of credit balances) over the leaves of a two-sided account like 113."""
    d = sum((v for c, v in bal.items() if c.startswith(code) and v > 0), ZERO)
    c_ = sum((-v for c, v in bal.items() if c.startswith(code) and v < 0), ZERO)
    return d, c_


def balance_sheet_values(bal: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Line values for one column. `bal` maps leaf account codes to signed (debit-positive) balances; the leaves of
    112/113/211 may come split by counterparty (keys "11201|张三", services.reports.gross_balances), and each
    part counts on its own side: 应收 A and 应付 B, never netted (RULES §2, §5)."""
    v: dict[str, Decimal] = {}
    r112_d, r112_c = _side_split(bal, "112")
    r113_d, r113_c = _side_split(bal, "113")
    r211_d, r211_c = _side_split(bal, "211")
    v["cash"] = _dr(bal, "101", "102")
    v["short_investments"] = _dr(bal, "111")
    v["receivables"] = r112_d + r113_d + r211_d
    v["inventory"] = _dr(bal, "121", "401")
    v["consumable_bio"] = _dr(bal, "131")
    v["current_assets"] = sum(
        (v[k] for k in ("cash", "short_investments", "receivables", "inventory", "consumable_bio")), ZERO
    )
    v["long_investments"] = _dr(bal, "141")
    v["productive_bio_cost"] = _dr(bal, "132")
    v["productive_bio_dep"] = _cr(bal, "133")
    v["productive_bio_net"] = v["productive_bio_cost"] - v["productive_bio_dep"]
    v["public_bio"] = _dr(bal, "134")
    v["fixed_cost"] = _dr(bal, "151")
    v["fixed_dep"] = _cr(bal, "152")
    v["fixed_net"] = v["fixed_cost"] - v["fixed_dep"]
    v["fixed_disposal"] = _dr(bal, "154")
    v["construction"] = _dr(bal, "153")
    v["intangible_cost"] = _dr(bal, "161")
    v["intangible_amort"] = _cr(bal, "162")
    v["intangible_net"] = v["intangible_cost"] - v["intangible_amort"]
    v["deferred"] = _dr(bal, "171")
    v["pending"] = _dr(bal, "181")
    v["noncurrent_assets"] = sum(
        (
            v[k]
            for k in (
                "long_investments", "productive_bio_net", "public_bio", "fixed_net", "fixed_disposal",
                "construction", "intangible_net", "deferred", "pending",
            )
        ),
        ZERO,
    )
    v["total_assets"] = v["current_assets"] + v["noncurrent_assets"]
    v["short_loans"] = _cr(bal, "201")
    v["payables"] = r211_c + r113_c + r112_c
    v["wages"] = _cr(bal, "212")
    v["labour"] = _cr(bal, "213")
    v["taxes"] = _cr(bal, "214")
    v["current_liabilities"] = sum((v[k] for k in ("short_loans", "payables", "wages", "labour", "taxes")), ZERO)
    v["long_loans"] = _cr(bal, "221")
    v["yishiyiyi"] = _cr(bal, "231")
    v["special_payables"] = _cr(bal, "241")
    v["noncurrent_liabilities"] = v["long_loans"] + v["yishiyiyi"] + v["special_payables"]
    v["total_liabilities"] = v["current_liabilities"] + v["noncurrent_liabilities"]
    v["capital"] = _cr(bal, "301")
    v["reserve"] = _cr(bal, "311")
    # Before the year-end carry-over the year's result still sits in 321 and the 损益 accounts.
    v["undistributed"] = _cr(bal, "321", "322", "5")
    v["total_equity"] = v["capital"] + v["reserve"] + v["undistributed"]
    v["total_liabilities_equity"] = v["total_liabilities"] + v["total_equity"]
    return v


BALANCE_SHEET_LAYOUT: tuple[tuple[str, str, str, int], ...] = (
    # (key, label, kind, indent)
    ("", N_("流动资产："), "header", 0),
    ("cash", N_("货币资金"), "item", 1),
    ("short_investments", N_("短期投资"), "item", 1),
    ("receivables", N_("应收款项"), "item", 1),
    ("inventory", N_("存货"), "item", 1),
    ("consumable_bio", N_("消耗性生物资产"), "item", 1),
    ("current_assets", N_("流动资产合计"), "subtotal", 0),
    ("", N_("非流动资产："), "header", 0),
    ("long_investments", N_("长期投资"), "item", 1),
    ("productive_bio_cost", N_("生产性生物资产原值"), "item", 1),
    ("productive_bio_dep", N_("减：生产性生物资产累计折旧"), "item", 2),
    ("productive_bio_net", N_("生产性生物资产净值"), "item", 1),
    ("public_bio", N_("公益性生物资产"), "item", 1),
    ("fixed_cost", N_("固定资产原值"), "item", 1),
    ("fixed_dep", N_("减：累计折旧"), "item", 2),
    ("fixed_net", N_("固定资产净值"), "item", 1),
    ("fixed_disposal", N_("固定资产清理"), "item", 1),
    ("construction", N_("在建工程"), "item", 1),
    ("intangible_cost", N_("无形资产原值"), "item", 1),
    ("intangible_amort", N_("减：累计摊销"), "item", 2),
    ("intangible_net", N_("无形资产净值"), "item", 1),
    ("deferred", N_("长期待摊费用"), "item", 1),
    ("pending", N_("待处理财产损溢"), "item", 1),
    ("noncurrent_assets", N_("非流动资产合计"), "subtotal", 0),
    ("total_assets", N_("资产总计"), "total", 0),
    ("", N_("流动负债："), "header", 0),
    ("short_loans", N_("短期借款"), "item", 1),
    ("payables", N_("应付款项"), "item", 1),
    ("wages", N_("应付工资"), "item", 1),
    ("labour", N_("应付劳务费"), "item", 1),
    ("taxes", N_("应交税费"), "item", 1),
    ("current_liabilities", N_("流动负债合计"), "subtotal", 0),
    ("", N_("非流动负债："), "header", 0),
    ("long_loans", N_("长期借款及应付款"), "item", 1),
    ("yishiyiyi", N_("一事一议资金"), "item", 1),
    ("special_payables", N_("专项应付款"), "item", 1),
    ("noncurrent_liabilities", N_("非流动负债合计"), "subtotal", 0),
    ("total_liabilities", N_("负债合计"), "subtotal", 0),
    ("", N_("所有者权益："), "header", 0),
    ("capital", N_("资本"), "item", 1),
    ("reserve", N_("公积公益金"), "item", 1),
    ("undistributed", N_("未分配收益"), "item", 1),
    ("total_equity", N_("所有者权益合计"), "subtotal", 0),
    ("total_liabilities_equity", N_("负债和所有者权益总计"), "total", 0),
)


def balance_sheet(begin: Mapping[str, Decimal], end: Mapping[str, Decimal], title: str = N_("资产负债表")) -> Statement:
    """Columns 年初余额 and 期末余额."""
    vb, ve = balance_sheet_values(begin), balance_sheet_values(end)
    st = Statement(title, (N_("年初余额"), N_("期末余额")))
    n = 0
    for key, label, kind, indent in BALANCE_SHEET_LAYOUT:
        if kind == "header":
            st.rows.append(StatementRow(label, (), None, kind, indent))
            continue
        n += 1
        st.rows.append(StatementRow(label, (vb[key], ve[key]), n, kind, indent, key))
    return st


def income_values(mov: Mapping[str, Decimal], opening_undistributed: Decimal, other_in: Decimal,
                  appropriations: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """`mov` maps leaf codes to the period's signed movement excluding carry-over entries.
    `appropriations` holds the debit movements of the 32201 details by their codes."""
    v: dict[str, Decimal] = {}
    v["operating_revenue"] = _cr(mov, "501")
    v["investment_income"] = _cr(mov, "502")
    v["operating_expense"] = _dr(mov, "511")
    v["taxes"] = _dr(mov, "512")
    v["admin_expense"] = _dr(mov, "513")
    v["operating_profit"] = (
        v["operating_revenue"] + v["investment_income"] - v["operating_expense"] - v["taxes"] - v["admin_expense"]
    )
    v["subsidy_income"] = _cr(mov, "503")
    v["other_income"] = _cr(mov, "504")
    v["welfare_expense"] = _dr(mov, "514")
    v["other_expense"] = _dr(mov, "515")
    v["total_profit"] = (
        v["operating_profit"] + v["subsidy_income"] + v["other_income"] - v["welfare_expense"] - v["other_expense"]
    )
    v["income_tax"] = _dr(mov, "521")
    v["net_profit"] = v["total_profit"] - v["income_tax"]
    v["opening_undistributed"] = opening_undistributed
    v["other_in"] = other_in
    v["distributable"] = v["net_profit"] + opening_undistributed + other_in
    # each detail with the 明细科目 an organization added below it (3220103 → 322010301 按股分红)
    v["reserve_appropriation"] = rollup(appropriations, "3220101")
    v["cadre_reward"] = rollup(appropriations, "3220102")
    v["member_distribution"] = rollup(appropriations, "3220103")
    v["other_distribution"] = sum(appropriations.values(), ZERO) - (
        v["reserve_appropriation"] + v["cadre_reward"] + v["member_distribution"])
    v["closing_undistributed"] = v["distributable"] - sum(
        (v[k] for k in ("reserve_appropriation", "cadre_reward", "member_distribution", "other_distribution")), ZERO
    )
    return v


INCOME_LAYOUT: tuple[tuple[str, str, str, int], ...] = (
    ("operating_revenue", N_("一、经营收入"), "item", 0),
    ("investment_income", N_("加：投资收益"), "item", 1),
    ("operating_expense", N_("减：经营支出"), "item", 1),
    ("taxes", N_("税金及附加"), "item", 2),
    ("admin_expense", N_("管理费用"), "item", 2),
    ("operating_profit", N_("二、经营收益"), "subtotal", 0),
    ("subsidy_income", N_("加：补助收入"), "item", 1),
    ("other_income", N_("其他收入"), "item", 2),
    ("welfare_expense", N_("减：公益支出"), "item", 1),
    ("other_expense", N_("其他支出"), "item", 2),
    ("total_profit", N_("三、收益总额"), "subtotal", 0),
    ("income_tax", N_("减：所得税费用"), "item", 1),
    ("net_profit", N_("四、本年收益"), "subtotal", 0),
    ("opening_undistributed", N_("加：年初未分配收益"), "item", 1),
    ("other_in", N_("其他转入/调整"), "item", 2),
    ("distributable", N_("五、可分配收益"), "subtotal", 0),
    ("reserve_appropriation", N_("减：提取公积公益金"), "item", 1),
    ("cadre_reward", N_("干部奖励分红"), "item", 2),
    ("member_distribution", N_("向成员分配"), "item", 2),
    ("other_distribution", N_("其他"), "item", 2),
    ("closing_undistributed", N_("六、年末未分配收益"), "total", 0),
)


def income_statement(columns: tuple[str, ...], values: list[dict[str, Decimal]],
                     title: str = N_("收益及收益分配表")) -> Statement:
    st = Statement(title, columns)
    for n, (key, label, kind, indent) in enumerate(INCOME_LAYOUT, start=1):
        st.rows.append(StatementRow(label, tuple(v[key] for v in values), n, kind, indent, key))
    return st
