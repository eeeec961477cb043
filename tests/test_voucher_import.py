"""Voucher xlsx round trip, dry run and idempotent, all-or-nothing import (coop/services/voucher_import.py)."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from coop.core.errors import InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.models import AuditLog, Voucher
from coop.services import accounts, opening, orgs, reports, users, vouchers
from coop.services import voucher_import as vi

OPENING = {"101": "2000.00", "102": "50000.00", "301": "-52000.00"}


def xlsx(rows, headers=vi.HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def fill_source(books):
    """Books with detail accounts, counterparties, odd amounts and a red reversal, over two months."""
    accounts.add_detail_account(books.org, "501", "50101", "租金收入")
    books.lock_opening(OPENING)
    books.post("2025-01-05", ("102", "1234567.89", ""), ("50101", "", "1234567.89"), summary="收租金")
    books.post("2025-01-09", ("112", "0.10", "", "张三"), ("112", "0.20", "", "张三"), ("101", "", "0.30"),
               summary="借支")
    v = books.post("2025-02-03", ("513", "300.00", ""), ("101", "", "300.00"), summary="办公费")
    red = vouchers.reverse_voucher(v, user=books.accountant, date=dt.date(2025, 2, 4))
    vouchers.review_voucher(red, user=books.reviewer)
    vouchers.post_voucher(red, user=books.accountant)
    line_cp = books.draft("2025-02-10", ("112", "88.00", "", "张三"), ("102", "", "88.00"), summary="代垫")
    vouchers.review_voucher(line_cp, user=books.reviewer)
    vouchers.post_voucher(line_cp, user=books.accountant)
    books.draft("2025-02-11", ("101", "5.00", ""), ("102", "", "5.00"))  # a draft: not exported
    db.session.commit()


def twin(books):
    """Another village of the same township with the same chart and opening balances."""
    org = orgs.create_organization(books.township, name="西村股份经济合作社", books_start_year=2025)
    accounts.add_detail_account(org, "501", "50101", "租金收入")
    users.assign_role(books.accountant, "accountant", org)
    users.assign_role(books.reviewer, "reviewer", org)
    opening.set_opening_balances(org, {k: Decimal(v) for k, v in OPENING.items()}, user=books.accountant)
    opening.lock_opening_balances(org, user=books.accountant)
    db.session.commit()
    return org


def tb(org, month_from=1, month_to=12):
    return [(r.code, r.opening, r.debit, r.credit, r.ytd_debit, r.ytd_credit)
            for r in reports.trial_balance(org, 2025, month_from, month_to).rows]


def test_round_trip_gives_identical_trial_balances(books):
    fill_source(books)
    content = vi.export_vouchers_xlsx(books.org, 2025)
    rows = vi.read_xlsx(content)
    assert len(rows) == 11 and vi.summary_of(rows) == (5, 11)
    assert {r["凭证号"] for r in rows} >= {"2025-01 记-0001", "2025-02 记-0002"}

    target = twin(books)
    assert vi.check_import(target, rows, key=vi.file_key(content)) == []
    created = vi.import_vouchers(target, rows, books.accountant, vi.file_key(content), post=True,
                                 reviewer=books.reviewer, poster=books.accountant)
    db.session.commit()
    assert len(created) == 5 and all(v.status == "posted" for v in created)
    assert [v.kind for v in created].count("red") == 1
    assert [v.display_number for v in created if v.month == 2] == ["记-0001", "记-0002", "记-0003"]
    for months in ((1, 1), (2, 2), (1, 12)):
        assert tb(target, *months) == tb(books.org, *months)
    assert reports.leaf_balances(target) == reports.leaf_balances(books.org)
    counterparties = {l.counterparty for v in created for l in v.lines} - {None}
    assert counterparties == {"张三"}
    # the exported file of the copy is the same file, but for nothing
    again = vi.read_xlsx(vi.export_vouchers_xlsx(target, 2025))
    assert [{k: v for k, v in r.items()} for r in again] == rows


def test_import_as_drafts_by_default(books):
    books.lock_opening(OPENING)
    content = xlsx([("A1", "2025-03-01", "买化肥", "121", "1,000.50", "", "农资站"),
                    ("A1", "2025-03-01", "买化肥", "102", "", "1000.5", None),
                    ("B", dt.datetime(2025, 3, 2), "收款", "102", 20, None, None),
                    ("B", dt.datetime(2025, 3, 2), "收款", "112", None, "20.00", "张三")])
    created = vi.import_vouchers(books.org, vi.read_xlsx(content), books.accountant, vi.file_key(content))
    db.session.commit()
    assert [(v.status, v.number, v.total_debit) for v in created] == [
        ("draft", None, Decimal("1000.50")), ("draft", None, Decimal("20.00"))]
    assert created[0].lines[0].counterparty == "农资站"
    log = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "voucher.import"))
    assert log.target == vi.file_key(content) and log.organization_id == books.org.id and log.seq is not None


def test_dry_run_lists_problems_by_row_and_writes_nothing(books):
    books.lock_opening(OPENING)
    books.post("2025-01-05", ("102", "10.00", ""), ("101", "", "10.00"))
    books.close_through(2025, 1)
    db.session.commit()
    before = (db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)),
              db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)))
    content = xlsx([
        ("1", "2025-02-01", "好的", "102", "100.00", "", None),      # row 2
        ("1", "2025-02-01", "好的", "101", "", "100.00", None),      # row 3
        ("2", "2025-02-02", "未知科目", "999", "5", "", None),       # row 4
        ("2", "2025-02-02", "非末级", "322", "", "5", None),         # row 5
        ("3", "2025-02-03", "金额", "102", "12.345", "", None),      # row 6
        ("3", "2025-02-03", "金额", "101", "", "abc", None),         # row 7
        ("4", "2025-02-04", "不平", "102", "10.00", "", None),       # row 8
        ("4", "2025-02-04", "不平", "101", "", "9.99", None),        # row 9
        ("5", "2025-01-20", "已结账", "102", "1.00", "", None),      # row 10
        ("5", "2025-01-20", "已结账", "101", "", "1.00", None),      # row 11
        ("6", "2025-13-01", "坏日期", "102", "1.00", "", None),      # row 12
        ("6", "2025-02-05", "", "101", "", "1.00", None),            # row 13
        ("7", "2025-02-06", "双方", "102", "1.00", "1.00", None),    # row 14
        ("7", "2025-02-06", "双方", "101", "", "", None),            # row 15
    ])
    rows = vi.read_xlsx(content)
    problems = vi.check_import(books.org, rows)
    by_row = {}
    for p in problems:
        by_row.setdefault(p.row, []).append(p.message)
    assert 2 not in by_row and 3 not in by_row
    assert "科目 999 不存在" in by_row[4][0]
    assert "有下级科目" in by_row[5][0]
    assert "最多两位小数" in by_row[6][0] and "格式不正确" in by_row[7][0]
    assert "借贷不平衡" in by_row[8][0] and "相差 0.01" in by_row[8][0]
    assert "2025年1月已结账" in by_row[10][0]
    assert "日期" in by_row[12][0] and "请填写摘要" in by_row[13][0]
    assert any("只能填写一方" in m for m in by_row[14]) and any("借方或贷方" in m for m in by_row[15])
    assert [p.row for p in problems] == sorted(p.row for p in problems)
    assert str(problems[0]).startswith("第 4 行：凭证 2：")

    with pytest.raises(ValidationFailed) as exc:
        vi.import_vouchers(books.org, rows, books.accountant, vi.file_key(content))
    assert len(exc.value.errors["rows"]) == len(problems)
    db.session.rollback()
    after = (db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)),
             db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)))
    assert after == before


def test_missing_columns_and_not_xlsx(books):
    with pytest.raises(ValidationFailed, match="缺少列：科目编码"):
        vi.read_xlsx(xlsx([], headers=("凭证号", "日期", "摘要", "借方", "贷方")))
    with pytest.raises(ValidationFailed, match="无法读取"):
        vi.read_xlsx(b"not a workbook")


def test_second_import_of_the_same_file_is_refused(books):
    books.lock_opening(OPENING)
    content = xlsx([("X", "2025-01-02", "提现", "101", "50.00", "", None),
                    ("X", "2025-01-02", "提现", "102", "", "50.00", None)])
    key = vi.file_key(content)
    vi.import_vouchers(books.org, vi.read_xlsx(content), books.accountant, key)
    db.session.commit()
    problems = vi.check_import(books.org, vi.read_xlsx(content), key=key)
    assert problems[0].row == 0 and "该文件已导入" in problems[0].message
    with pytest.raises(InvalidState, match="该文件已导入"):
        vi.import_vouchers(books.org, vi.read_xlsx(content), books.accountant, key)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == 1
    # the same file is still welcome in another organization
    other = twin(books)
    vi.import_vouchers(other, vi.read_xlsx(content), books.accountant, key)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == 2


def test_float_cells_are_read_exactly(books):
    books.lock_opening(OPENING)
    content = xlsx([("F", "2025-01-02", "大额", "102", 99999999999.99, None, None),
                    ("F", "2025-01-02", "大额", "301", None, 99999999999.99, None),
                    ("G", "2025-01-03", "浮点", "102", 0.1 + 0.2, None, None),
                    ("G", "2025-01-03", "浮点", "301", None, 0.3, None)])
    rows = vi.read_xlsx(content)
    assert vi.check_import(books.org, rows) == []
    created = vi.import_vouchers(books.org, rows, books.accountant, "k")
    assert [v.total_debit for v in created] == [Decimal("99999999999.99"), Decimal("0.30")]
    # a float that really has more than two decimals is refused, never rounded
    rows[2]["借方"] = 0.305
    problems = vi.check_import(books.org, rows)
    assert [(p.row, "最多两位小数" in p.message) for p in problems][0] == (4, True)
