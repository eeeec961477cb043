"""The pure ledger core, without Flask or a database: 大写金额, amount parsing, voucher rules, statements,
year-end carry-over and largest-remainder splits — each with worked numbers."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop.core.numerals import amount_in_words
from coop.ledger.allocation import allocate
from coop.ledger.balances import build_trial_balance, is_balanced, trial_balance_totals
from coop.ledger.closing import year_end_entries
from coop.ledger.statements import balance_sheet_values, income_values
from coop.ledger.types import AccountInfo, Line
from coop.ledger.validate import validate_lines
from coop.core.money import AmountError, parse_amount, to_fen


def D(x) -> Decimal:
    return Decimal(str(x))


# ---------------------------------------------------------------- 大写金额 (RULES §11)


@pytest.mark.parametrize("amount,words", [
    ("1409.50", "壹仟肆佰零玖元伍角整"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("325.04", "叁佰贰拾伍元零肆分"),
    ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
    ("100000.00", "壹拾万元整"),
    ("0", "零元整"),
    # further cases by the same rules: 整 after 元 or 角 only; one 零 for a run of zeros
    ("0.50", "伍角整"),
    ("0.05", "伍分"),
    ("10.00", "壹拾元整"),
    ("100000000.01", "壹亿元零壹分"),
    ("100010000.00", "壹亿零壹万元整"),
    ("1000001.00", "壹佰万零壹元整"),
    ("-3.20", "负叁元贰角整"),
])
def test_amount_in_words(amount, words):
    assert amount_in_words(D(amount)) == words


def test_zheng_never_follows_fen():
    for fen in range(1, 1000, 7):
        words = amount_in_words(Decimal(fen) / 100)
        assert not words.endswith("分整"), words
        assert words.endswith("整") == (fen % 10 == 0), words


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize("text,kw,value", [
    ("1234.50", {}, "1234.50"),
    ("1,234.5", {}, "1234.50"),
    ("  12 ", {}, "12.00"),
    ("¥8,000", {}, "8000.00"),
    ("0.01", {}, "0.01"),
    ("99999999999.99", {}, "99999999999.99"),
    ("-500.00", {"allow_negative": True}, "-500.00"),
    ("0", {"allow_zero": True}, "0.00"),
    ("-0.00", {"allow_zero": True}, "0.00"),
    (Decimal("7.1"), {}, "7.10"),
    (15, {}, "15.00"),
])
def test_parse_amount_accepts(text, kw, value):
    parsed = parse_amount(text, **kw)
    assert parsed == D(value) and str(parsed) == value


@pytest.mark.parametrize("text,kw,message", [
    ("", {}, "请填写金额"),
    ("   ", {}, "请填写金额"),
    ("abc", {}, "金额格式不正确"),
    ("1.2.3", {}, "金额格式不正确"),
    ("NaN", {}, "金额格式不正确"),
    ("Infinity", {}, "金额格式不正确"),
    ("12.345", {}, "金额最多两位小数"),
    ("0.001", {"allow_zero": True}, "金额最多两位小数"),
    ("0", {}, "金额不能为零"),
    ("0.00", {"allow_negative": True}, "金额不能为零"),
    ("-5", {}, "金额不能为负数"),
    ("100000000000.00", {}, "金额超出允许范围"),
    ("-100000000000.00", {"allow_negative": True}, "金额超出允许范围"),
    ("1e30", {}, "金额超出允许范围"),  # too many digits to quantize: once an uncaught InvalidOperation
    ("1" * 40, {}, "金额超出允许范围"),
    (12.5, {}, "金额必须以文本传递"),
    (None, {}, "金额格式不正确"),
    (True, {}, "金额格式不正确"),
])
def test_parse_amount_refuses(text, kw, message):
    with pytest.raises(AmountError) as exc:
        parse_amount(text, **kw)
    assert str(exc.value) == message


def test_to_fen_is_exact():
    assert to_fen(D("1234.56")) == 123456
    assert to_fen(D("-0.01")) == -1
    with pytest.raises(AmountError):
        to_fen(D("0.005"))
    with pytest.raises(TypeError):
        to_fen(0.1)


# ---------------------------------------------------------------- voucher rules

ACCOUNTS = {
    "101": AccountInfo("101", "库存现金"),
    "102": AccountInfo("102", "银行存款", is_leaf=False),
    "10201": AccountInfo("10201", "农商银行"),
    "10202": AccountInfo("10202", "邮储银行", active=False),
    "501": AccountInfo("501", "经营收入"),
}


def issues(lines, red=False):
    return [(i.path, i.code) for i in validate_lines(lines, ACCOUNTS, red=red)]


def test_valid_voucher_has_no_issues():
    assert issues([Line("101", D("500.00"), summary="提现"), Line("10201", credit=D("500.00"), summary="提现")]) == []
    # a red voucher: every amount negative, still balanced
    assert issues([Line("101", D("-500.00"), summary="冲销"), Line("10201", credit=D("-500.00"), summary="冲销")],
                  red=True) == []


def test_every_issue_is_reported_with_its_path():
    lines = [
        Line("101", D("100.00"), summary="提现"),
        Line("102", credit=D("50.00"), summary="提现"),  # not a leaf
        Line("10202", credit=D("30.00"), summary=" "),  # inactive, no summary
        Line("999", D("1.00"), D("1.00"), summary="x"),  # unknown account, both sides
        Line("501", summary="x"),  # neither side
        Line("501", credit=D("-5.00"), summary="x"),  # negative outside a red voucher
    ]
    assert issues(lines) == [
        ("lines.1.account_code", "not_leaf"),
        ("lines.2.summary", "required"),
        ("lines.2.account_code", "inactive"),
        ("lines.3.account_code", "unknown_account"),
        ("lines.3.debit", "both_sides"),
        ("lines.4.debit", "no_amount"),
        ("lines.5.credit", "negative"),
        ("lines", "unbalanced"),  # Σ借 101.00, Σ贷 76.00
    ]
    unbalanced = validate_lines(lines, ACCOUNTS)[-1]
    assert unbalanced.message == "借贷不平衡：借方合计 101.00，贷方合计 76.00，相差 25.00"


def test_too_few_lines_and_red_rules():
    assert issues([Line("101", D("0.00"), summary="x")]) == [
        ("lines", "too_few_lines"), ("lines.0.debit", "no_amount")]
    # a red voucher may not carry a positive amount
    assert issues([Line("101", D("-5.00"), summary="x"), Line("10201", credit=D("5.00"), summary="x"),
                   Line("10201", credit=D("-10.00"), summary="x")], red=True) == [
        ("lines.1.credit", "red_positive")]


def test_balance_is_checked_to_the_fen():
    lines = [Line("101", D("0.01"), summary="x"), Line("10201", credit=D("0.02"), summary="x")]
    assert issues(lines) == [("lines", "unbalanced")]


# ---------------------------------------------------------------- statements (RULES §5)


def test_income_statement_formulas():
    # signed movements, debit positive: revenue is negative
    mov = {
        "50101": D("-6000.00"), "50102": D("-4000.00"),  # 经营收入 10,000.00 over two details
        "502": D("-2000.00"),  # 投资收益
        "511": D("3000.00"), "512": D("500.00"), "513": D("1500.00"),
        "503": D("-4000.00"), "504": D("-500.00"), "514": D("800.00"), "515": D("1200.00"),
        "521": D("250.00"),
    }
    appropriations = {"3220101": D("3075.00"), "3220102": D("1400.00"), "3220103": D("5000.00"),
                      "3220104": D("100.00")}
    v = income_values(mov, opening_undistributed=D("1000.00"), other_in=D("0"), appropriations=appropriations)
    assert v["operating_revenue"] == D("10000.00")
    # 经营收益 = 501 + 502 − 511 − 512 − 513 = 10,000 + 2,000 − 3,000 − 500 − 1,500
    assert v["operating_profit"] == D("7000.00")
    # 收益总额 = 经营收益 + 503 + 504 − 514 − 515 = 7,000 + 4,000 + 500 − 800 − 1,200
    assert v["total_profit"] == D("9500.00")
    # 本年收益 = 收益总额 − 521
    assert v["net_profit"] == D("9250.00")
    # 可分配收益 = 本年收益 + 年初未分配收益
    assert v["distributable"] == D("10250.00")
    # 年末未分配收益 = 10,250 − 3,075 − 1,400 − 5,000 − 100
    assert v["closing_undistributed"] == D("675.00")
    assert (v["reserve_appropriation"], v["cadre_reward"], v["member_distribution"], v["other_distribution"]) == (
        D("3075.00"), D("1400.00"), D("5000.00"), D("100.00"))


def test_balance_sheet_formulas():
    bal = {
        "101": D("1200.00"), "10201": D("30000.00"),  # 货币资金 31,200
        "112": D("5000.00"), "11301": D("2000.00"), "11302": D("-700.00"),  # 113 split by side
        "121": D("3000.00"), "401": D("1000.00"),  # 存货 4,000
        "141": D("3000.00"),
        "151": D("50000.00"), "152": D("-10000.00"),  # 净值 40,000
        "201": D("-8000.00"), "211": D("-4000.00"),
        "301": D("-60000.00"), "311": D("-6000.00"), "32202": D("-3000.00"),
        "501": D("-5000.00"), "513": D("1500.00"),  # before carry-over: the year's result counts as 未分配收益
    }
    assert sum(bal.values()) == 0
    v = balance_sheet_values(bal)
    assert v["cash"] == D("31200.00")
    assert v["receivables"] == D("7000.00")  # 112 + 113 debit balances
    assert v["inventory"] == D("4000.00")
    assert v["current_assets"] == D("42200.00")
    assert (v["fixed_cost"], v["fixed_dep"], v["fixed_net"]) == (D("50000.00"), D("10000.00"), D("40000.00"))
    assert v["total_assets"] == D("85200.00")
    assert v["payables"] == D("4700.00")  # 211 + 113 credit balances
    assert v["total_liabilities"] == D("12700.00")
    assert v["undistributed"] == D("6500.00")  # 3,000 + 5,000 − 1,500
    assert v["total_equity"] == D("72500.00")
    assert v["total_liabilities_equity"] == v["total_assets"]


def test_trial_balance_rolls_up_and_balances():
    accounts = [("102", "银行存款", False), ("10201", "农商银行", True), ("10202", "邮储银行", True),
                ("301", "资本", True)]
    opening = {"10201": D("600.00"), "10202": D("400.00"), "301": D("-1000.00")}
    rows = build_trial_balance(accounts, opening, {"10201": D("50.00")}, {"10202": D("50.00")},
                               {"10201": D("50.00")}, {"10202": D("50.00")})
    by = {r.code: r for r in rows}
    assert (by["102"].opening, by["102"].debit, by["102"].credit, by["102"].closing) == (
        D("1000.00"), D("50.00"), D("50.00"), D("1000.00"))
    totals = trial_balance_totals(rows)
    assert totals["opening_debit"] == totals["opening_credit"] == D("1000.00")  # level-1 rows only
    assert is_balanced(totals)
    rows = build_trial_balance(accounts, {"10201": D("1.00")}, {}, {}, {}, {})
    assert not is_balanced(trial_balance_totals(rows))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["101", "102", "10201", "10202", "1020101", "112", "11201", "301", "501"]),
                       st.decimals(min_value=-10**8, max_value=10**8, places=2, allow_nan=False, allow_infinity=False),
                       min_size=0, max_size=9))
def test_trial_balance_rows_are_the_rollup_of_their_leaves(leaves):
    """Every row, at any level, holds the sum of the leaf values under its code (what `rollup` says)."""
    from coop.ledger.balances import rollup

    codes = ["101", "102", "10201", "10202", "1020101", "112", "11201", "301", "501", "999"]
    accounts = [(c, c, not any(o != c and o.startswith(c) for o in codes)) for c in codes]
    rows = build_trial_balance(accounts, leaves, leaves, {}, leaves, {})
    assert [r.code for r in rows] == sorted(codes)
    for r in rows:
        assert r.opening == r.debit == r.ytd_debit == rollup(leaves, r.code)
        assert r.credit == r.ytd_credit == D("0")


# ---------------------------------------------------------------- year-end carry-over (RULES §4)


LEAVES = {"profit_leaf": "321", "undistributed_leaf": "32202", "distributions": "32201"}


def lines_of(entry):
    return [(l.account_code, l.debit, l.credit) for l in entry.lines]


def test_year_end_entries_for_a_loss_year():
    # revenue 1,000.00, expenses 3,500.00: a loss of 2,500.00; 600.00 was still appropriated to 公积公益金
    balances = {"102": D("4100.00"), "501": D("-1000.00"), "51301": D("2000.00"), "51302": D("1500.00"),
                "3220101": D("600.00"), "311": D("-600.00"), "301": D("-6600.00")}
    profit, result, dist = year_end_entries(2025, balances, **LEAVES)
    assert {e.date for e in (profit, result, dist)} == {dt.date(2025, 12, 31)}
    assert profit.summary == "结转本年损益"
    assert lines_of(profit) == [
        ("501", D("1000.00"), D("0.00")),
        ("51301", D("0.00"), D("2000.00")),
        ("51302", D("0.00"), D("1500.00")),
        ("321", D("2500.00"), D("0.00")),  # a loss: 321 debit
    ]
    assert result.summary == "结转本年收益"
    assert lines_of(result) == [("321", D("0.00"), D("2500.00")), ("32202", D("2500.00"), D("0.00"))]  # → 32202 debit
    assert dist.summary == "结转各项分配"
    assert lines_of(dist) == [("3220101", D("0.00"), D("600.00")), ("32202", D("600.00"), D("0.00"))]
    for e in (profit, result, dist):
        assert sum(l.debit for l in e.lines) == sum(l.credit for l in e.lines)


def test_year_end_entries_profit_and_manual_321():
    # 321 already holds 200.00 credit (booked by hand); the year's 损益 adds 300.00 profit
    balances = {"321": D("-200.00"), "501": D("-300.00")}
    profit, result = year_end_entries(2025, balances, **LEAVES)
    assert lines_of(profit) == [("501", D("300.00"), D("0.00")), ("321", D("0.00"), D("300.00"))]
    assert lines_of(result) == [("321", D("500.00"), D("0.00")), ("32202", D("0.00"), D("500.00"))]


def test_year_end_entries_nothing_to_move():
    assert year_end_entries(2025, {"102": D("100.00"), "301": D("-100.00")}, **LEAVES) == []
    # 损益 accounts that net to zero are still zeroed, without a 321 line and without a 321 → 32202 entry
    (entry,) = year_end_entries(2025, {"501": D("-50.00"), "511": D("50.00")}, **LEAVES)
    assert lines_of(entry) == [("501", D("50.00"), D("0.00")), ("511", D("0.00"), D("50.00"))]


# ---------------------------------------------------------------- largest remainder


def test_allocate_worked_examples():
    # 100.00 over three equal weights: the odd fen goes to the lowest key
    assert allocate(D("100.00"), {"c": 1, "a": 1, "b": 1}) == {"a": D("33.34"), "b": D("33.33"), "c": D("33.33")}
    # 10.00 over 1:2 → 3.333…, 6.666…: the larger remainder (b) gets the fen
    assert allocate(D("10.00"), {"a": 1, "b": 2}) == {"a": D("3.33"), "b": D("6.67")}
    # 2 fen over 1:3 → 0.5 and 1.5 fen: equal remainders, so the larger weight (b) gets the odd fen
    assert allocate(D("0.02"), {"a": 1, "b": 3}) == {"a": D("0.00"), "b": D("0.02")}
    # 5 fen over 1:3 → 1.25 and 3.75 fen; negative totals split the same way
    assert allocate(D("0.05"), {"a": 1, "b": 3}) == {"a": D("0.01"), "b": D("0.04")}
    assert allocate(D("-0.05"), {"a": 1, "b": 3}) == {"a": D("-0.01"), "b": D("-0.04")}
    assert allocate(D("7.00"), {"a": 0, "b": 5}) == {"a": D("0.00"), "b": D("7.00")}
    with pytest.raises(ValueError):
        allocate(D("1.00"), {"a": 0})
    with pytest.raises(ValueError):
        allocate(D("1.005"), {"a": 1})
