"""Independent checks: the books exported to beancount and hledger give the same balance for every account,
to the fen, as coop's own `leaf_balances`."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from coop.documents.export import _component, account_names, code_of, to_beancount, to_hledger
from coop.core.extensions import db
from coop.services import reports, vouchers

CI = os.environ.get("CI") == "true"


def _tool(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found:
        return found
    if CI:
        pytest.fail(f"{name} not found, and CI requires it")
    pytest.skip(f"{name} not found")


def _expected(org) -> dict[str, Decimal]:
    return reports.leaf_balances(org)


def check_beancount(org, tmp_path) -> None:
    text = to_beancount(org)
    path = tmp_path / "books.beancount"
    path.write_text(text, encoding="utf-8")
    r = subprocess.run([_tool("bean-check"), str(path)], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), r.stdout + r.stderr

    from beancount import loader
    from beancount.core import data

    entries, errors, _ = loader.load_file(str(path))
    assert not errors
    got: dict[str, Decimal] = {}
    for e in entries:
        if isinstance(e, data.Transaction):
            for p in e.postings:
                assert p.units.currency == "CNY"
                code = code_of(p.account)
                got[code] = got.get(code, Decimal(0)) + p.units.number
    assert {c: v for c, v in got.items() if v != 0} == _expected(org)


def check_hledger(org) -> None:
    hledger = shutil.which("hledger")
    if hledger is None:
        if CI:
            pytest.fail("hledger not found, and CI requires it")
        pytest.skip("hledger not found")
    r = subprocess.run([hledger, "-f", "-", "bal", "--flat", "-O", "csv"], input=to_hledger(org),
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got: dict[str, Decimal] = {}
    for row in csv.DictReader(io.StringIO(r.stdout)):
        if row["account"] == "total":
            assert row["balance"].replace("CNY", "").strip() in ("0", "0.00")
            continue
        got[code_of(row["account"])] = Decimal(row["balance"].replace("CNY", "").strip())
    assert got == _expected(org)


@pytest.fixture
def village(app):
    """A demo village kept through the 2025 year-end and into 2026, with drafts left in the open month."""
    from coop import demo
    from coop.services import orgs, users

    county = orgs.create_county("导出县")
    township = orgs.create_township(county, "导出镇")
    spec = demo.VILLAGES[0]
    org = orgs.create_organization(township, name=spec.name, kind=spec.kind, books_start_year=2025,
                                   cun_she_he_yi=spec.cun_she_he_yi)
    accountant = users.create_user("kj", "会计", "password1")
    reviewer = users.create_user("sh", "审核", "password1")
    users.assign_role(accountant, "accountant", org)
    users.assign_role(reviewer, "reviewer", org)
    keeper = demo.VillageBooks(org, spec, accountant, reviewer)
    keeper.setup()
    for y, m in demo.months((2025, 1), (2026, 1)):
        keeper.month(y, m)
        keeper.close(y, m)
    keeper.pending_month(2026, 2)
    db.session.commit()
    return org


def test_demo_village_agrees_with_beancount_and_hledger(village, tmp_path):
    from coop.models import Voucher
    import sqlalchemy as sa

    kinds = set(db.session.scalars(sa.select(Voucher.kind).where(Voucher.status == "posted")))
    assert {"normal", "red", "carryover"} <= kinds
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(Voucher.status != "posted"))
    text = to_hledger(village)
    assert "冲销" in text and "-" in text.split("冲销", 1)[1].splitlines()[1]  # red lines stay negative
    check_beancount(village, tmp_path)
    check_hledger(village)


def test_odd_account_names(books, tmp_path):
    """Names with brackets, spaces and leading digits still give valid, unambiguous journal accounts."""
    from coop.services.accounts import add_detail_account

    add_detail_account(books.org, "121", "12101", "1号仓库 (化肥)")
    add_detail_account(books.org, "501", "50101", "A区 \"厂房\" 租金; 一期")
    add_detail_account(books.org, "401", "40101", "育秧工厂")
    books.lock_opening({"12101": "500.00", "102": "1000.00", "301": "-1500.00"})
    books.post("2025-01-05", ("102", "300.00", ""), ("50101", "", "300.00"), summary='收"A区"租金; 1月')
    v = books.post("2025-01-06", ("40101", "200.00", ""), ("12101", "", "200.00"), summary="领用化肥")
    red = vouchers.reverse_voucher(v, user=books.accountant, date=dt.date(2025, 1, 7))
    vouchers.review_voucher(red, user=books.reviewer)
    vouchers.post_voucher(red, user=books.accountant)
    names = account_names(books.org)
    assert names["401"] == "Assets:401生产-劳务-成本"
    assert names["12101"] == "Assets:121库存物资:121011号仓库-化肥"
    assert all(code_of(n) == c for c, n in names.items())
    assert _component("50101", "A区 \"厂房\" 租金; 一期") == "50101A区-厂房-租金-一期"
    check_beancount(books.org, tmp_path)
    check_hledger(books.org)
