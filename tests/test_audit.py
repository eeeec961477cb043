"""The audit log is hash-chained: edits, deletions and insertions are detected."""
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import AuditLog
from coop.services import audit


def test_chain_is_sealed_after_commit_and_detects_tampering(books):
    books.lock_opening()
    books.post("2025-01-05", ("101", "500.00", ""), ("102", "", "500.00"))
    db.session.commit()
    rows = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.seq)).all()
    assert rows and all(r.seq and r.hash for r in rows)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert audit.verify_chain() == []
    target = rows[1]
    db.session.execute(sa.update(AuditLog).where(AuditLog.id == target.id).values(target="999"))
    db.session.commit()
    db.session.expire_all()
    problems = audit.verify_chain()
    assert any("内容与哈希不符" in p and f"第 {target.seq} 条" in p for p in problems)


def test_deleted_entry_is_detected(books):
    books.lock_opening()
    books.post("2025-01-05", ("101", "500.00", ""), ("102", "", "500.00"))
    db.session.commit()
    last = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.seq.desc())).first()
    first = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.seq)).first()
    db.session.execute(sa.delete(AuditLog).where(AuditLog.id == first.id))
    db.session.commit()
    assert any("不连续" in p for p in audit.verify_chain())
    db.session.execute(sa.delete(AuditLog).where(AuditLog.id == last.id))
    db.session.commit()
    assert any("末尾" in p for p in audit.verify_chain())
