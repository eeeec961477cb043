"""`flask coop verify` re-validates the books: each kind of change made behind the application's back (a posted
line edited, a posted voucher deleted, a published sheet changed, the audit chain broken) is reported precisely."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import AuditLog, Disclosure, Voucher
from coop.ledger.digest import lines_digest
from coop.services import disclosure, integrity, users
from tests.test_members_web import _fast_password_hashing  # noqa: F401

Q1 = (dt.date(2025, 1, 1), dt.date(2025, 3, 31))


def raw_sql(*statements: tuple[str, dict]) -> None:
    """Change the database behind the application: guard triggers bypassed, as someone with database access could."""
    from tests.conftest import superuser_engine

    with superuser_engine().connect() as conn:  # the app's own role may not bypass triggers
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for sql, params in statements:
                conn.execute(sa.text(sql), params)
        else:
            triggers = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all()
            for name, _ in triggers:
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
            for sql, params in statements:
                conn.execute(sa.text(sql), params)
            for _, sql in triggers:
                conn.exec_driver_sql(sql)
        conn.commit()
    db.session.expire_all()


@pytest.fixture
def ledger(books, app):
    """Three January vouchers, one in February, Q1 closed, the Q1 income sheet published."""
    books.lock_opening({"101": "1000.00", "102": "50000.00", "301": "-51000.00"})
    vs = [books.post("2025-01-10", ("102", "12345.67", ""), ("501", "", "12345.67"), summary="收到承包金"),
          books.post("2025-01-20", ("513", "1409.50", ""), ("102", "", "1409.50"), summary="购买办公用品"),
          books.post("2025-01-25", ("514", "600.00", ""), ("101", "", "600.00"), summary="道路维修"),
          books.post("2025-02-10", ("514", "6007.14", ""), ("102", "", "6007.14"), summary="道路维修")]
    books.close_through(2025, 3)
    group = users.create_user("licai", "理财小组长", "password1")
    users.assign_role(group, "finance_group", books.org)
    d = disclosure.create_sheet(books.org, kind="income_expense", start=Q1[0], end=Q1[1], user=books.accountant)
    disclosure.finance_group_review(d, user=group, approve=True)
    disclosure.township_approve(d, user=books.auditor)
    disclosure.publish(d, user=books.accountant, date=dt.date(2025, 4, 10), channel="村务公开栏",
                       render_pdf=lambda d: b"%PDF-1.7 test")
    db.session.commit()
    return books, vs, d


def verify(app):
    return app.test_cli_runner().invoke(args=["coop", "verify"])


def test_clean_books_pass(ledger, app):
    assert integrity.check_books() == []
    r = verify(app)
    assert r.exit_code == 0, r.output
    assert "通过" in r.output


def test_posting_records_the_lines_digest(ledger):
    _, vs, _ = ledger
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "voucher.post",
                                                        AuditLog.target == str(vs[0].id)))
    assert lines_digest(vs[0]) in entry.detail


def test_edited_voucher_line_is_reported(ledger, app):
    _, vs, _ = ledger
    v = vs[3]  # 记-0001 of February: both lines changed, so the voucher and the trial balance still balance
    raw_sql(("UPDATE voucher_lines SET debit = debit + 100 WHERE voucher_id = :v AND debit <> 0", {"v": v.id}),
            ("UPDATE voucher_lines SET credit = credit + 100 WHERE voucher_id = :v AND credit <> 0", {"v": v.id}))
    r = verify(app)
    assert r.exit_code == 1
    assert f"2025-02-10 记-0001（凭证 id {v.id}）：分录与记账时不符（记账后被修改）" in r.stderr
    assert "发现 1 处问题" in r.stderr


def test_one_sided_edit_is_reported_as_unbalanced_too(ledger, app):
    _, vs, _ = ledger
    v = vs[0]
    raw_sql(("UPDATE voucher_lines SET summary = '改过' WHERE voucher_id = :v AND seq = 1", {"v": v.id}),
            ("UPDATE voucher_lines SET debit = 1234500 WHERE voucher_id = :v AND seq = 1", {"v": v.id}))
    r = verify(app)
    assert r.exit_code == 1
    assert f"记-0001（凭证 id {v.id}）：借贷不平衡（借方 12345.00，贷方 12345.67）" in r.stderr
    assert f"记-0001（凭证 id {v.id}）：分录与记账时不符" in r.stderr
    assert "2025年1月（已结账）：试算不平衡" in r.stderr


def test_deleted_posted_voucher_is_reported(ledger, app):
    books, vs, _ = ledger
    vid = vs[1].id  # 记-0002 of January
    raw_sql(("DELETE FROM voucher_lines WHERE voucher_id = :v", {"v": vid}),
            ("DELETE FROM vouchers WHERE id = :v", {"v": vid}))
    r = verify(app)
    assert r.exit_code == 1
    assert f"{books.org.name} 2025年1月 记字：凭证号断号 2（凭证被删除）" in r.stderr
    assert f"凭证 id {vid} 已记账" in r.stderr and "已不存在（被删除）" in r.stderr


def test_deleted_last_voucher_of_a_month_is_reported(ledger, app):
    books, vs, _ = ledger
    vid = vs[3].id  # the only February voucher: no gap among the rest, but the number was issued
    raw_sql(("DELETE FROM voucher_lines WHERE voucher_id = :v", {"v": vid}),
            ("DELETE FROM vouchers WHERE id = :v", {"v": vid}))
    r = verify(app)
    assert r.exit_code == 1
    assert f"{books.org.name} 2025年2月 记字：凭证号断号 1（凭证被删除）" in r.stderr


def test_changed_published_sheet_is_reported(ledger, app):
    _, _, d = ledger
    db.session.execute(sa.update(Disclosure).where(Disclosure.id == d.id)
                       .values(data=d.data.replace("12345.67", "12345.76")))
    db.session.commit()
    r = verify(app)
    assert r.exit_code == 1
    assert f"公开表 {d.id}（收支明细公开表 2025-01-01至2025-03-31 第1版）的数据与公开时的摘要不符" in r.stderr


def test_broken_audit_chain_is_reported(ledger, app):
    middle = db.session.scalar(sa.select(AuditLog.seq).where(AuditLog.seq.is_not(None))
                               .order_by(AuditLog.seq).offset(5).limit(1))
    raw_sql(("DELETE FROM audit_log WHERE seq = :s", {"s": middle}))
    r = verify(app)
    assert r.exit_code == 1
    assert f"审计日志第 {middle + 1} 条：与前一条不连续（记录被删除或插入）" in r.stderr


def test_voucher_posted_without_audit_entry_is_reported(ledger, app):
    _, vs, _ = ledger
    raw_sql(("UPDATE audit_log SET action = 'voucher.other' WHERE action = 'voucher.post' AND target = :t",
             {"t": str(vs[2].id)}))
    problems = integrity.check_ledger()
    assert problems == [f"{ledger[0].org.name} 2025-01-25 记-0003（凭证 id {vs[2].id}）：已记账，但审计日志中没有它的记账记录"]



def test_verify_ledger_runs_the_ledger_checks_of_verify(ledger, app):
    """`verify-ledger` is the ledger part of `verify`: the same checks, the same sentences."""
    books, vs, _ = ledger
    r = app.test_cli_runner().invoke(args=["coop", "verify-ledger"])
    assert r.exit_code == 0, r.output
    assert r.output.rstrip().endswith("ledger OK")
    v = vs[2]  # 记-0003 of January: a line's 摘要 wiped in the database — still balanced, but not as posted
    raw_sql(("UPDATE voucher_lines SET summary = '' WHERE voucher_id = :v AND seq = 1", {"v": v.id}))
    label = f"{books.org.name} 2025-01-25 记-0003（凭证 id {v.id}）"
    expected = [f"{label}：分录与记账时不符（记账后被修改）", f"{label}：请填写摘要"]
    assert integrity.check_ledger() == expected
    r = app.test_cli_runner().invoke(args=["coop", "verify-ledger"])
    assert r.exit_code == 1
    assert all(p in r.output for p in expected) and "2 problem(s) found" in r.output
    r = verify(app)
    assert r.exit_code == 1
    assert all(p in r.stderr for p in expected) and "发现 2 处问题" in r.stderr
