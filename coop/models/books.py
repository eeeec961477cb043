"""The books version (`books_versions`, read as `Organization.books_version`): bumped in the same transaction as any write that changes
what the ledger pages and report PDFs show, or the 待办 counts in every page's layout, so a cache keyed by it can never
serve books that changed. Beside it, the directory version (`directory_versions`): bumped by any change to users,
role assignments, townships, counties, or which organizations exist where — what the menus and the switcher show.

Nothing in the services calls this: session events watch the tables, so a new service cannot forget it.
- ORM units of work (before_flush): new, changed or deleted vouchers, voucher lines, accounts, opening balances,
  periods, questions, disclosure sheets, distribution plans, subsidy claims, and the organization row itself (its
  name heads every page); users, role assignments, townships and counties for the directory.
- Bulk statements through the session (do_orm_execute: `sa.insert(VoucherLine)`, `sa.update(Voucher).where(…)`,
  `sa.delete(OpeningBalance)…`): the organizations are read from the rows' organization_id / voucher_id or, for
  UPDATE and DELETE, selected with the statement's own WHERE before it runs.
- The bump itself is one upsert just before COMMIT (before_commit), once per organization and transaction: its
  row is locked only for the commit, after every other lock the transaction takes, so it adds no lock-order
  deadlock; a rollback never bumps (the pending set is dropped with the transaction).
Writes that bypass the session (a raw connection, a restore) must bump themselves (`bump_now`).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from coop.models.disclosure import Disclosure, VoucherQuestion
from coop.models.distribution import DistributionPlan
from coop.models.ledger import Account, OpeningBalance, Period, Voucher, VoucherLine
from coop.models.loans import SubsidyClaim
from coop.models.org import BooksVersion, County, DirectoryVersion, Organization, Township
from coop.models.users import RoleAssignment, User

#: the models whose rows the pages or the layout's 待办 show, by their organization_id
_ORG_MODELS = (Voucher, Account, OpeningBalance, Period, VoucherQuestion, Disclosure, DistributionPlan, SubsidyClaim)
_BY_ORG = {m.__table__.name for m in _ORG_MODELS}
_BY_VOUCHER = {VoucherLine.__table__.name}
#: the directory: any change bumps the one directory version (organizations: see _collect)
_DIRECTORY_MODELS = (User, RoleAssignment, Township, County)
_DIRECTORY = {m.__table__.name for m in _DIRECTORY_MODELS} | {Organization.__table__.name}
#: what a page shows of a user (their name, their language). Not the session version, password or active flag: the
#: page cache checks those per login, and a logout anywhere must not throw away every kept page of everyone
_USER_SHOWN = {"username", "display_name", "locale"}
_PENDING = "coop.books_pending"  # session.info: organization ids to bump at commit
_DIRECTORY_PENDING = "coop.directory_pending"  # session.info: True when the directory changed


def _pending(session: Session) -> set:
    return session.info.setdefault(_PENDING, set())


def _org_of(session: Session, obj) -> int | None:
    if isinstance(obj, Organization):
        return obj.id
    if isinstance(obj, VoucherLine):
        if obj.voucher is not None:
            return _org_of(session, obj.voucher)
        vid = obj.voucher_id or sa.inspect(obj).committed_state.get("voucher_id")
        return session.connection().scalar(
            sa.select(Voucher.__table__.c.organization_id).where(Voucher.__table__.c.id == vid)) if vid else None
    org_id = obj.organization_id
    if org_id is None and getattr(obj, "organization", None) is not None:
        org_id = obj.organization.id
    return org_id


@event.listens_for(Session, "before_flush")
def _collect(session: Session, flush_context, instances) -> None:
    found = _pending(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Organization):
            # its own bump is not a change; a new organization has no cached page yet, but is news to the switcher
            changed = {a.key for a in sa.inspect(obj).attrs if a.history.has_changes()} - {"books_version",
                                                                                           "updated_at"}
            if obj in session.dirty and changed:
                found.add(obj.id)
            if obj not in session.dirty or "township_id" in changed:
                session.info[_DIRECTORY_PENDING] = True
        elif isinstance(obj, User):
            # a new user is on nobody's page until a role is granted (which bumps); a deleted one takes roles along
            if obj in session.deleted or (obj in session.dirty and any(
                    sa.inspect(obj).attrs[k].history.has_changes() for k in _USER_SHOWN)):
                session.info[_DIRECTORY_PENDING] = True
        elif isinstance(obj, _DIRECTORY_MODELS):
            if obj not in session.dirty or session.is_modified(obj):
                session.info[_DIRECTORY_PENDING] = True
        elif isinstance(obj, (VoucherLine, *_ORG_MODELS)):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            org_id = _org_of(session, obj)
            if org_id is not None:
                found.add(org_id)


def _rows(params) -> list[dict]:
    if isinstance(params, dict):
        return [params]
    return [p for p in (params or ()) if isinstance(p, dict)]


@event.listens_for(Session, "do_orm_execute")
def _collect_bulk(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    stmt = state.statement
    table = getattr(stmt, "table", None)
    name = getattr(table, "name", None)
    if name in _DIRECTORY:
        state.session.info[_DIRECTORY_PENDING] = True
    if name not in _BY_ORG and name not in _BY_VOUCHER:
        return
    conn, found = state.session.connection(), _pending(state.session)
    rows = _rows(state.parameters)
    v = Voucher.__table__
    if state.is_insert:
        key = "organization_id" if name in _BY_ORG else "voucher_id"
        if not rows:
            try:  # values given in the statement itself
                rows = [dict(stmt.compile().params)]
            except Exception:  # noqa: BLE001 — then the WHERE path below, which bumps every organization it finds
                rows = []
        ids = {r.get(key) for r in rows} - {None}
        if key == "voucher_id" and ids:
            ids = set(conn.scalars(sa.select(v.c.organization_id).distinct().where(v.c.id.in_(ids))))
        if ids:
            found.update(ids)
            return
    # UPDATE / DELETE (or an INSERT whose rows do not say): the organizations its WHERE reaches, before it runs
    where = getattr(stmt, "whereclause", None)
    q = sa.select((table if name in _BY_ORG else v).c.organization_id).distinct()
    if where is not None:
        q = q.where(where if name in _BY_ORG else
                    v.c.id.in_(sa.select(VoucherLine.__table__.c.voucher_id).where(where)))
    # an executemany UPDATE binds its WHERE row by row; an INSERT that did not say reaches every organization
    for params in (rows or [{}]) if where is not None else [{}]:
        found.update(conn.scalars(q, params))


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    if (session.info.get(_PENDING) is None and _DIRECTORY_PENDING not in session.info
            and not (session.new or session.dirty or session.deleted)):
        return
    session.flush()  # the last flush of the commit, so its changes are collected too
    ids = session.info.pop(_PENDING, None)
    if ids:
        bump_now(session, ids)
    if session.info.pop(_DIRECTORY_PENDING, None):
        bump_directory_now(session)


def bump_now(session: Session, org_ids) -> None:
    """Bump the books version of `org_ids` in the session's transaction (for writes that bypass the session)."""
    conn = session.connection()
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    t = BooksVersion.__table__
    stmt = insert(t).values([{"organization_id": i, "version": 1} for i in sorted(org_ids)])
    conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.organization_id], set_={"version": t.c.version + 1}))
    for org_id in org_ids:  # an Organization already loaded must not keep the old number
        obj = session.identity_map.get(sa.inspect(Organization).identity_key_from_primary_key((org_id,)))
        if obj is not None:
            session.expire(obj, ["books_version"])


def bump_directory_now(session: Session) -> None:
    """Bump the directory version in the session's transaction (for writes that bypass the session)."""
    conn = session.connection()
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    t = DirectoryVersion.__table__
    conn.execute(insert(t).values(id=1, version=1).on_conflict_do_update(index_elements=[t.c.id],
                                                                        set_={"version": t.c.version + 1}))


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_DIRECTORY_PENDING, None)
