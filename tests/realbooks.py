"""Village books as real villages keep them (issue #14): 101, 102, 112, 141, 201, 211, 212, 311, 502, 503 and 515
all have 明细科目, and the posting roles (科目对照) point at leaves — in the default 2-2-2 code scheme or a
legacy 3-3 county. Shared by the posting-path tests of #14 and #15:

    from tests.realbooks import real_books  # noqa: F401  (fixture: Books, params "2-2-2" and "3-3")
    def test_x(real_books): real_books.org, real_books.leaf("102", 1) …

`with_sub_accounts(org, user)` does the same to any other organization (a second village, a 联营公司).
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from coop.ledger import roles as R

#: first-level code → names of its 明细科目 (child 1, 2, …)
SUB_ACCOUNTS: dict[str, tuple[str, ...]] = {
    "101": ("村部现金", "备用金"),
    "102": ("农商银行基本户", "邮储银行专户"),
    "112": ("单位往来", "个人往来"),
    "141": ("股权投资", "联营项目投资"),
    "201": ("农商银行借款", "其他短期借款"),
    "211": ("应付单位款", "应付收益"),
    "212": ("干部报酬", "干部奖励"),
    "311": ("公积金", "公益金"),
    "502": ("股权投资收益", "联营项目收益"),
    "503": ("贴息", "其他补助"),
    "515": ("利息支出", "其他"),
}
#: posting role → (first-level code, child number) it is mapped to
ROLE_LEAVES: dict[str, tuple[str, int]] = {
    R.CASH: ("101", 1), R.BANK: ("102", 1), R.RECEIVABLE: ("112", 1), R.LONG_INVESTMENT: ("141", 2),
    R.SHORT_LOAN: ("201", 1), R.PAYABLE: ("211", 1), R.DIVIDENDS_PAYABLE: ("211", 2),
    R.CADRE_REWARD_PAYABLE: ("212", 2), R.RESERVE: ("311", 1), R.INVESTMENT_INCOME: ("502", 2),
    R.SUBSIDY_INCOME: ("503", 1), R.INTEREST_EXPENSE: ("515", 1),
}


def leaf(org, top: str, n: int) -> str:
    """The code of the n-th 明细科目 under `top` in the organization's scheme (10201, or 102001 under 3-3)."""
    return org.code_scheme.child(top, n)


def with_sub_accounts(org, user, *, opening: dict[str, str] | None = None) -> None:
    """Add the 明细科目 of SUB_ACCOUNTS, map the roles of ROLE_LEAVES, and lock the opening balances (default:
    5,000,000.00 in the first bank leaf against 301)."""
    from coop.services import accounts, opening as opening_service, roles

    for top, names in SUB_ACCOUNTS.items():
        for n, name in enumerate(names, start=1):
            accounts.add_detail_account(org, top, leaf(org, top, n), name)
    for key, (top, n) in ROLE_LEAVES.items():
        roles.set_mapping(org, key, leaf(org, top, n), user=user)
    balances = opening or {leaf(org, "102", 1): "5000000.00", "301": "-5000000.00"}
    opening_service.set_opening_balances(org, {k: Decimal(v) for k, v in balances.items()}, user=user)
    opening_service.lock_opening_balances(org, user=user)


@pytest.fixture(params=["2-2-2", "3-3"])
def real_books(app, request):
    """tests.conftest.Books in a county of the given code scheme, its village with sub-accounts everywhere."""
    from coop.core.extensions import db
    from tests.conftest import Books

    b = Books(code_scheme=request.param)
    with_sub_accounts(b.org, b.accountant)
    b.leaf = lambda top, n: leaf(b.org, top, n)
    db.session.commit()
    return b
