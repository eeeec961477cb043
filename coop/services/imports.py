"""What the file imports (vouchers, the member roster) share: a file goes in whole or not at all, once.

The idempotency key of a file is the SHA-256 of its bytes; a successful import records it as the target of its
audit entry, so a second import of the same file into the same organization is refused with a clear message.
"""
from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import AuditLog, Organization


def file_key(content: bytes) -> str:
    """The idempotency key of an import file: SHA-256 of its bytes."""
    return hashlib.sha256(content).hexdigest()


def imported_at(org: Organization, action: str, key: str) -> dt.datetime | None:
    """When the file with this key was imported into `org` (audit action `action`), or None."""
    return db.session.scalar(
        sa.select(AuditLog.created_at).where(AuditLog.action == action, AuditLog.organization_id == org.id,
                                             AuditLog.target == key).limit(1)
    )


def already_imported(org: Organization, action: str, key: str) -> str | None:
    """The refusal message when this file was imported already, else None."""
    when = imported_at(org, action, key)
    return f"该文件已导入（{when:%Y-%m-%d %H:%M} UTC），不能重复导入" if when else None


def lock_for_import(org: Organization) -> None:
    """Serialize imports into one organization (a row lock on PostgreSQL, the write lock on SQLite), so two runs
    of one file cannot both pass the check above."""
    db.session.execute(sa.select(Organization.id).where(Organization.id == org.id).with_for_update())
