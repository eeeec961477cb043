"""The audit log: one row per significant action."""
from __future__ import annotations

import json

from ..extensions import db
from ..models import AuditLog


def log(action: str, *, user=None, org=None, target: str | None = None, **detail) -> None:
    db.session.add(
        AuditLog(
            action=action,
            user_id=getattr(user, "id", None),
            organization_id=getattr(org, "id", None),
            target=target,
            detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
        )
    )
