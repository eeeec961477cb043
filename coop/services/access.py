"""Who may see and do what (RULES §12). An organization the user is not assigned to does not exist for them."""
from __future__ import annotations

import sqlalchemy as sa

from coop.core.errors import Forbidden, NotFound
from coop.core.extensions import db
from coop.models import Organization, Township, User

READ_LEDGER = "ledger.read"
PREPARE = "voucher.prepare"
REVIEW = "voucher.review"
POST = "voucher.post"
CLOSE = "period.close"
REOPEN = "period.reopen"
MANAGE_ACCOUNTS = "accounts.manage"
#: roster, membership events, quantification plans and share register events (the village accountant)
MANAGE_MEMBERS = "members.manage"
#: a member's own household, dividends and the published sheets
MEMBER_PORTAL = "member.portal"

PERMISSIONS: dict[str, frozenset[str]] = {
    READ_LEDGER: frozenset({"accountant", "reviewer", "finance_group", "township_auditor", "county_admin"}),
    PREPARE: frozenset({"accountant"}),
    REVIEW: frozenset({"reviewer"}),
    POST: frozenset({"accountant"}),
    CLOSE: frozenset({"accountant"}),
    REOPEN: frozenset({"township_auditor", "county_admin"}),
    MANAGE_ACCOUNTS: frozenset({"accountant"}),
    MANAGE_MEMBERS: frozenset({"accountant"}),
    MEMBER_PORTAL: frozenset({"member"}),
}

# 报账/出纳 (#22): filing a spending request; the 出纳's work (journals, cash counts, bank, 代发). The cashier reads the books.
SPEND_REQUEST = "spending.request"
CASHIER = "cash.cashier"
PERMISSIONS[READ_LEDGER] = PERMISSIONS[READ_LEDGER] | {"cashier"}
PERMISSIONS[SPEND_REQUEST] = frozenset({"accountant", "reviewer", "finance_group", "cashier"})
PERMISSIONS[CASHIER] = frozenset({"cashier", "accountant"})


# a duplicate 身份证号 across organizations is the township's or county's to resolve (RULES §13)
RESOLVE_REGISTRATIONS = "members.resolve"
PERMISSIONS[RESOLVE_REGISTRATIONS] = frozenset({"township_auditor", "county_admin"})


def roles_on(user: User, org: Organization) -> set[str]:
    roles = set()
    for ra in user.roles:
        if (
            ra.organization_id == org.id
            or ra.township_id == org.township_id
            or (ra.county_id is not None and ra.county_id == org.township.county_id)
        ):
            roles.add(ra.role)
    return roles


def can(user: User, permission: str, org: Organization) -> bool:
    return bool(roles_on(user, org) & PERMISSIONS[permission])


def visible_orgs_query(user: User):
    """SELECT of the organizations the user is assigned to, directly or through township/county roles."""
    ras = user.roles
    org_ids = [r.organization_id for r in ras if r.organization_id]
    township_ids = [r.township_id for r in ras if r.township_id]
    county_ids = [r.county_id for r in ras if r.county_id]
    conds = []
    if org_ids:
        conds.append(Organization.id.in_(org_ids))
    if township_ids:
        conds.append(Organization.township_id.in_(township_ids))
    if county_ids:
        conds.append(Organization.township_id.in_(sa.select(Township.id).where(Township.county_id.in_(county_ids))))
    q = sa.select(Organization).order_by(Organization.township_id, Organization.name)
    return q.where(sa.or_(*conds)) if conds else q.where(sa.false())


def visible_orgs(user: User) -> list[Organization]:
    return list(db.session.scalars(visible_orgs_query(user)))


def get_org(user: User, org_id: int, permission: str | None = READ_LEDGER) -> Organization:
    """The organization if the user is assigned to it (else NotFound) and holds `permission` (else Forbidden)."""
    org = db.session.get(Organization, org_id)
    if org is None or not roles_on(user, org):
        raise NotFound("找不到该组织")
    if permission and not can(user, permission, org):
        raise Forbidden("您没有执行此操作的权限")
    return org


def of_org(model, org: Organization, row_id: int, message: str):
    """The `model` row `row_id` if it belongs to `org`, else NotFound(message): a row of another organization is
    not found either (nothing crosses the organization boundary). Each domain's `get_…(org, id)` is this, and the
    web pages and the API both use it (a 404 page or the error envelope)."""
    row = db.session.get(model, row_id)
    if row is None or row.organization_id != org.id:
        raise NotFound(message)
    return row


def require(user: User, permission: str, org: Organization) -> None:
    if not can(user, permission, org):
        raise Forbidden("您没有执行此操作的权限")


def has_role_anywhere(user: User, role: str) -> bool:
    return any(r.role == role for r in user.roles)




def administered_counties(user: User) -> list[int]:
    return [r.county_id for r in user.roles if r.role == "county_admin" and r.county_id]


def require_county_admin(user: User, county_id: int) -> None:
    if county_id not in administered_counties(user):
        raise Forbidden("只有县级管理员可以管理组织和用户")
