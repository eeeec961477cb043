"""The books version of an organization: a number that changes, in the same transaction, with anything the ledger
pages and report PDFs show (coop.models.books bumps it). Caches key on it."""
from __future__ import annotations

import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import BooksVersion


def version(org_id: int) -> int:
    """The current books version of organization `org_id` (read it before the data it keys: a change committed
    in between then only makes the cached data newer than its key, never older)."""
    return db.session.scalar(sa.select(BooksVersion.version).where(BooksVersion.organization_id == org_id)) or 0
