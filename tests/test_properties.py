"""Properties of the ledger over random data (hypothesis).

The database properties run through the services on both backends. Function-scoped fixtures are not reset
between hypothesis examples, so every example keeps its books in a fresh organization of its own.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

import cn2an
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop.core.numerals import amount_in_words
from coop.ledger.allocation import allocate
from coop.ledger.chart import CHART_2023, REQUIRED_DETAILS
from coop.core.money import CENT, MAX_AMOUNT, ZERO
from coop.services import closing, opening, orgs, reports, users, vouchers
from coop.ledger import codes
from coop.ledger.chart import COUNTERPARTY_ACCOUNTS

DB_SETTINGS = settings(max_examples=25, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
PURE_SETTINGS = settings(max_examples=200, deadline=None)

#: the accounts that take postings in a new organization: the national chart, where 322 has given way to its
#: required details (32201 各项分配 is itself a parent)
PARENTS = {"322", "32201"}
LEAVES = sorted(({a.code for a in CHART_2023} | {c for c, _ in REQUIRED_DETAILS}) - PARENTS)
PNL_LEAVES = [c for c in LEAVES if c.startswith("5")]


# ---------------------------------------------------------------- strategies

fen = st.integers(min_value=1, max_value=10**9)  # 0.01 … 10,000,000.00 yuan


@st.composite
def entries(draw, leaves=LEAVES, months=range(1, 13)):
    """A balanced voucher as (date, [(code, debit, credit)]): 1–3 debit/credit pairs, merged into lines."""
    month = draw(st.sampled_from(list(months)))
    date = dt.date(2025, month, draw(st.integers(1, 28)))
    lines = []
    # no random debits to 32201 各项分配: a hand-made distribution beyond 未分配收益 is refused at posting
    # (RULES §7, 禁止举债分配; tests/test_year_end*.py); 32201 balances still come from openings and credits
    debit_leaves = [c for c in leaves if not c.startswith("32201")]
    for _ in range(draw(st.integers(1, 3))):
        amount = Decimal(draw(fen)) / 100
        lines.append((draw(st.sampled_from(debit_leaves)), amount, ZERO))
        lines.append((draw(st.sampled_from(leaves)), ZERO, amount))
    return date, draw(st.permutations(lines))


@st.composite
def openings(draw):
    """Balanced opening balances: a few random leaves, with 301 资本 taking the difference."""
    bal: dict[str, Decimal] = {}
    for code, amount in draw(st.lists(st.tuples(st.sampled_from(LEAVES), st.integers(-10**8, 10**8)), max_size=4)):
        bal[code] = bal.get(code, ZERO) + Decimal(amount) / 100
    bal["301"] = bal.get("301", ZERO) - sum(bal.values(), ZERO)
    return {c: v for c, v in bal.items() if v}


# ---------------------------------------------------------------- helpers

_org_numbers = itertools.count(1)


def fresh_org(books, start_month: int = 1, balances: dict | None = None):
    """A new village in the books' township, kept by the books' accountant and reviewer, opening locked."""
    org = orgs.create_organization(books.township, name=f"随机村{next(_org_numbers)}", books_start_year=2025,
                                   books_start_month=start_month)
    users.assign_role(books.accountant, "accountant", org)
    users.assign_role(books.reviewer, "reviewer", org)
    # 往来 balances name a counterparty (RULES §2); which one does not matter here
    opening.set_opening_balances(org, {((c, "往来单位") if codes.top(c) in COUNTERPARTY_ACCOUNTS else c): a
                                       for c, a in (balances or {}).items()}, user=books.accountant)
    opening.lock_opening_balances(org, user=books.accountant)
    return org


def post(books, org, date, lines, summary="随机凭证"):
    # 112/113/201/211/221 lines name a counterparty (RULES §2); which one does not matter here
    data = {"date": date, "lines": [{"summary": summary, "account_code": c, "debit": d, "credit": cr,
                                     "counterparty": "往来单位" if codes.top(c) in COUNTERPARTY_ACCOUNTS else None}
                                    for c, d, cr in lines]}
    v = vouchers.create_draft(org, data, user=books.accountant)
    vouchers.review_voucher(v, user=books.reviewer)
    return vouchers.post_voucher(v, user=books.accountant)


def expected_balances(opening_balances: dict, posted) -> dict[str, Decimal]:
    """Leaf balances computed here, independently of the reports service: opening + Σ(debit − credit)."""
    bal = dict(opening_balances)
    for _, lines in posted:
        for code, d, c in lines:
            bal[code] = bal.get(code, ZERO) + d - c
    return {k: v for k, v in bal.items() if v}


def assert_books_balance(org):
    tb = reports.trial_balance(org, 2025, 1, 12)
    assert tb.balanced, tb.totals
    assert tb.totals["debit"] == tb.totals["credit"]
    bs = reports.balance_sheet(org, 2025, 12)
    for column in (0, 1):  # 年初余额, 期末余额
        assert bs.value("total_assets", column) == bs.value("total_liabilities_equity", column)


# ---------------------------------------------------------------- posting keeps everything balanced


@DB_SETTINGS
@given(start=openings(), posted=st.lists(entries(), min_size=1, max_size=5))
def test_posted_vouchers_keep_trial_balance_and_balance_sheet_balanced(books, start, posted):
    org = fresh_org(books, balances=start)
    for date, lines in posted:
        post(books, org, date, lines)
    assert reports.leaf_balances(org) == expected_balances(start, posted)
    assert_books_balance(org)
    # every single month balances too
    for month in sorted({d.month for d, _ in posted}):
        assert reports.trial_balance(org, 2025, month).balanced


# ---------------------------------------------------------------- red reversal


@DB_SETTINGS
@given(posted=st.lists(entries(months=range(1, 7)), min_size=1, max_size=4), data=st.data())
def test_red_reversal_restores_every_leaf_balance(books, posted, data):
    org = fresh_org(books)
    posted_vouchers = [post(books, org, date, lines) for date, lines in posted]
    k = data.draw(st.integers(0, len(posted) - 1), label="reversed voucher")
    original = posted_vouchers[k]
    # the reversal is dated on or after the original, in an open month
    red_date = original.date + dt.timedelta(days=data.draw(st.integers(0, 150), label="days later"))
    red = vouchers.reverse_voucher(original, user=books.accountant, date=red_date)
    assert red.kind == "red" and red.corrects_id == original.id and original.reversal is red
    assert [(l.account_id, l.debit, l.credit) for l in red.lines] == [
        (l.account_id, -l.debit, -l.credit) for l in original.lines]
    assert red.lines[0].summary == (
        f"冲销 {original.month}月{original.date.day}日 {original.display_number} 号凭证")
    vouchers.review_voucher(red, user=books.reviewer)
    vouchers.post_voucher(red, user=books.accountant)
    without = posted[:k] + posted[k + 1:]
    assert reports.leaf_balances(org) == expected_balances({}, without)
    assert_books_balance(org)


# ---------------------------------------------------------------- year-end carry-over

CARRIED = ("5", "321", "32201")


@DB_SETTINGS
@given(start=openings(), posted=st.lists(entries(leaves=LEAVES + PNL_LEAVES * 2, months=[12]), min_size=0,
                                         max_size=5))
def test_year_end_carry_over_empties_pnl_and_321(books, start, posted):
    """Books that start in December 2025, so one 结账 is the year end. 损益 leaves are drawn three times as often."""
    org = fresh_org(books, start_month=12, balances=start)
    for date, lines in posted:
        post(books, org, date, lines)
    before = reports.leaf_balances(org)
    generated = closing.close_period(org, 2025, 12, user=books.accountant, today=dt.date(2100, 1, 1))
    after = reports.leaf_balances(org)

    assert all(v.kind == "carryover" and v.status == "posted" for v in generated)
    assert [c for c in after if c.startswith(CARRIED)] == []
    # everything carried lands in 32202 未分配收益; nothing else moves
    carried = sum((v for c, v in before.items() if c.startswith(CARRIED)), ZERO)
    assert after.get("32202", ZERO) == before.get("32202", ZERO) + carried
    assert {c: v for c, v in after.items() if c != "32202"} == {
        c: v for c, v in before.items() if c != "32202" and not c.startswith(CARRIED)}
    # a carry-over is generated exactly when there is something to carry
    assert bool(generated) == any(v for c, v in before.items() if c.startswith(CARRIED))
    assert_books_balance(org)


# ---------------------------------------------------------------- pure: largest remainder

weights = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3),
    st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False, allow_infinity=False),
    min_size=1, max_size=8,
).filter(lambda w: sum(w.values()) > 0)


@PURE_SETTINGS
@given(total_fen=st.integers(-10**11, 10**11), w=weights)
def test_allocate_parts_sum_exactly_and_stay_within_a_fen(total_fen, w):
    total = Decimal(total_fen) / 100
    parts = allocate(total, w)
    assert set(parts) == set(w)
    assert sum(parts.values(), ZERO) == total
    wsum = sum(w.values())
    for key, part in parts.items():
        assert part == part.quantize(CENT)
        exact = total * w[key] / wsum
        assert abs(part - exact) < CENT, (key, part, exact)
        if w[key] == 0:
            assert part == 0


@PURE_SETTINGS
@given(total_fen=st.integers(0, 10**6), n=st.integers(1, 6))
def test_allocate_equal_weights_differ_by_at_most_a_fen(total_fen, n):
    parts = allocate(Decimal(total_fen) / 100, {i: 1 for i in range(n)})
    assert max(parts.values()) - min(parts.values()) <= CENT
    assert list(parts.values()) == sorted(parts.values(), reverse=True)  # odd fen go to the lower keys


# ---------------------------------------------------------------- pure: 大写金额 round trip

DIGIT = "壹贰叁肆伍陆柒捌玖"


def cn2an_form(words: str) -> str:
    """cn2an reads RMB text only with 零角 spelled out and without 整 after 角, and wants 零元 before a bare
    角/分 amount; the PBOC form writes 叁佰贰拾伍元零肆分, 伍角整, 伍分. Only those spellings are changed."""
    sign, body = ("负", words[1:]) if words.startswith("负") else ("", words)
    if body.endswith("角整"):
        body = body[:-1]
    if "元" not in body:
        body = "零元" + ("" if "角" in body else "零角") + body
    body = re.sub(f"元零([{DIGIT}]分)", r"元零角\1", body)
    return sign + body


amounts = st.one_of(
    st.integers(-int(MAX_AMOUNT * 100), int(MAX_AMOUNT * 100)),
    # amounts full of zeros, where the 零 rules matter: digits kept at random places
    st.lists(st.sampled_from("0000000123456789"), min_size=1, max_size=13).map(lambda ds: int("".join(ds))),
).map(lambda f: Decimal(f) / 100)


@PURE_SETTINGS
@given(amount=amounts)
def test_amount_in_words_round_trips_through_cn2an(amount):
    words = amount_in_words(amount)
    assert not words.endswith("分整")
    assert re.fullmatch(r"负?[零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整]+", words), words
    assert "零零" not in words
    back = cn2an.cn2an(cn2an_form(words), "smart")
    assert Decimal(str(back)).quantize(CENT) == amount, (words, back)


def test_cn2an_form_examples():
    assert cn2an_form("叁佰贰拾伍元零肆分") == "叁佰贰拾伍元零角肆分"
    assert cn2an_form("壹仟肆佰零玖元伍角整") == "壹仟肆佰零玖元伍角"
    assert cn2an_form("伍分") == "零元零角伍分"
    assert cn2an_form("负伍角整") == "负零元伍角"
    assert cn2an_form("壹拾万元整") == "壹拾万元整"
