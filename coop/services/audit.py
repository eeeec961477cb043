"""The audit log: one row per significant action, hash-chained so that any edit or deletion is detectable.

Entries are written in the action's own transaction without a hash. Right after that transaction commits they
are sealed, in a short separate transaction that locks the chain head: the chain order (`seq`) is the sealing
order, so concurrent writers never contend for the head while doing their work.
"""
from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import AuditHead, AuditLog
from ..models.base import utcnow

GENESIS = "0" * 64
_PENDING = "coop_audit_pending"


def entry_hash(prev_hash: str, row) -> str:
    content = "|".join([
        prev_hash, str(row.seq), row.action, str(row.user_id or ""), str(row.organization_id or ""),
        row.target or "", row.detail or "", row.created_at.isoformat(),
    ])
    return hashlib.sha256(content.encode()).hexdigest()


def log(action: str, *, user=None, org=None, target: str | None = None, **detail) -> AuditLog:
    entry = AuditLog(
        action=action,
        user_id=getattr(user, "id", None),
        organization_id=getattr(org, "id", None),
        target=target,
        detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True) if detail else None,
        created_at=utcnow(),
    )
    db.session.add(entry)
    db.session.info[_PENDING] = True
    return entry


def log_many(action: str, *, user=None, org=None, targets: list[tuple[str, dict]]) -> None:
    """`log` for many targets at once (bulk imports): one INSERT of every entry, sealed after commit as usual."""
    if not targets:
        return
    now = utcnow()
    db.session.execute(sa.insert(AuditLog), [dict(
        action=action, user_id=getattr(user, "id", None), organization_id=getattr(org, "id", None), target=target,
        detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True) if detail else None,
        created_at=now) for target, detail in targets])
    db.session.info[_PENDING] = True


def seal(connection) -> int:
    """Chain every unsealed entry, in id order, after the current head. Returns how many were sealed."""
    t, h = AuditLog.__table__, AuditHead.__table__
    head = connection.execute(sa.select(h).where(h.c.id == 1).with_for_update()).first()
    if head is None:
        connection.execute(h.insert().values(id=1, last_seq=0, last_hash=GENESIS))
        head = connection.execute(sa.select(h).where(h.c.id == 1).with_for_update()).first()
    seq, prev = head.last_seq, head.last_hash
    rows = connection.execute(sa.select(t).where(t.c.seq.is_(None)).order_by(t.c.id)).all()
    for row in rows:
        seq += 1
        digest = entry_hash(prev, _Row(row, seq))
        connection.execute(t.update().where(t.c.id == row.id).values(seq=seq, prev_hash=prev, hash=digest))
        prev = digest
    if rows:
        connection.execute(h.update().where(h.c.id == 1).values(last_seq=seq, last_hash=prev))
    return len(rows)


class _Row:
    """A row with the seq it is about to get."""

    def __init__(self, row, seq):
        self._row, self.seq = row, seq

    def __getattr__(self, name):
        return getattr(self._row, name)


@event.listens_for(Session, "after_commit")
def _seal_after_commit(session: Session) -> None:
    if not session.info.pop(_PENDING, False):
        return
    bind = session.get_bind()
    engine = bind.engine if hasattr(bind, "engine") else bind
    with engine.begin() as conn:
        seal(conn)


def verify_chain(session=None) -> list[str]:
    """Every break in the chain, described; empty when the log is intact."""
    session = session or db.session
    problems = []
    prev, expected = GENESIS, 1
    for entry in session.scalars(sa.select(AuditLog).where(AuditLog.seq.is_not(None)).order_by(AuditLog.seq)):
        if entry.seq != expected or entry.prev_hash != prev:
            problems.append(f"审计日志第 {entry.seq} 条：与前一条不连续（记录被删除或插入）")
        if entry.hash != entry_hash(entry.prev_hash or "", entry):
            problems.append(f"审计日志第 {entry.seq} 条（id {entry.id}）：内容与哈希不符（记录被修改）")
        prev, expected = entry.hash or "", entry.seq + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev or head.last_seq != expected - 1):
        problems.append("审计日志末尾的记录被删除")
    return problems
