"""County administration: organizations, their 章程 parameters, users and roles — scoped to the admin's county."""
from __future__ import annotations

import secrets
from decimal import Decimal

import sqlalchemy as sa

from coop.core.errors import InvalidState, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.models import Organization, RoleAssignment, Township, User
from coop.models.users import ROLES
from coop.services import access, audit, orgs, users


def _township(admin: User, township_id: int) -> Township:
    t = db.session.get(Township, township_id)
    if t is None or t.county_id not in access.administered_counties(admin):
        raise ValidationFailed.field("township_id", "乡镇不存在")
    return t


def create_organization(admin: User, data: dict) -> Organization:
    township = _township(admin, data["township_id"])
    fields = {k: v for k, v in data.items() if k != "township_id"}
    org = orgs.create_organization(township, **fields)
    audit.log("org.create", user=admin, org=org)
    return org


def update_charter(admin: User, org: Organization, data: dict) -> Organization:
    access.require_county_admin(admin, org.township.county_id)
    if data.get("has_collective_share") and data.get("collective_share_ratio") and data["collective_share_ratio"] > Decimal("0.30"):
        raise ValidationFailed.field("collective_share_ratio", "集体股不得超过总股本的30%")
    orgs.update_charter(org, **data)
    audit.log("org.charter", user=admin, org=org, **{k: str(v) for k, v in data.items()})
    return org


def create_user_with_role(admin: User, data: dict) -> User:
    """A new account with a one-time password (changed at first login) and one role, by default the least
    powerful."""
    data = {**data, "role": data.get("role") or ROLE_ORDER[0]}
    scope_kind = ROLES[data["role"]][0]
    if scope_kind == "county":
        counties = access.administered_counties(admin)
        if not counties:
            raise NotFound("找不到该县")
        from coop.models import County

        scope = db.session.get(County, counties[0])
    elif scope_kind == "township":
        if not data.get("township_id"):
            raise ValidationFailed.field("township_id", "请选择乡镇")
        scope = _township(admin, data["township_id"])
    else:
        org = db.session.get(Organization, data.get("organization_id") or 0)
        if org is None or org.township.county_id not in access.administered_counties(admin):
            raise ValidationFailed.field("organization_id", "请选择本县的组织")
        scope = org
    user = users.create_user(data["username"], data["display_name"], data["password"], one_time=True)
    users.assign_role(user, data["role"], scope, by=admin)
    audit.log("user.create", user=admin, target=user.username, role=data["role"])
    return user


def set_code_scheme(admin: User, county, key: str):
    """The county's 明细科目 code scheme (coop.ledger.codes: 2-2-2, or a legacy 3-3 …). Set before the county's first
    organization: existing books keep the codes they have."""
    from coop.ledger import codes

    access.require_county_admin(admin, county.id)
    if key not in codes.CHOICES:
        raise ValidationFailed.field("code_scheme", f"科目编码方案应为 {'、'.join(codes.CHOICES)} 之一")
    if key == county.code_scheme:
        return county
    has_orgs = db.session.scalar(sa.select(sa.func.count()).select_from(Organization).join(Township)
                                 .where(Township.county_id == county.id))
    if has_orgs:
        raise ValidationFailed.field("code_scheme", "本县已有组织建账，科目编码方案不能再改")
    before, county.code_scheme = county.code_scheme, key
    db.session.flush()
    audit.log("county.code_scheme", user=admin, target=str(county.id), before=before, after=key)
    return county


# ---------------------------------------------------------------- the account lifecycle (RULES §13)

#: least powerful first: what a new account gets unless told otherwise, and the order of the role menus
ROLE_ORDER = ("member", "finance_group", "cashier", "reviewer", "accountant", "township_auditor", "county_admin")
#: roles a township auditor may grant and remove (on the villages of its township); the 出纳 is one (RULES §15)
VILLAGE_ROLES = frozenset({"member", "finance_group", "cashier", "reviewer", "accountant"})


def _administered_townships(admin: User) -> list[int]:
    return [r.township_id for r in admin.roles if r.role == "township_auditor" and r.township_id]


def _scope_county_township(ra) -> tuple[int | None, int | None]:
    """(county id, township id) of where a role assignment applies (township None for county roles)."""
    if ra.county_id:
        return ra.county_id, None
    if ra.township_id:
        t = db.session.get(Township, ra.township_id)
        return t.county_id, t.id
    org = db.session.get(Organization, ra.organization_id)
    return org.township.county_id, org.township_id


def may_manage_scope(admin: User, ra) -> bool:
    """Whether `admin` may grant or remove this role assignment: a county admin within the county; a township
    auditor for village roles on the villages of its township."""
    county_id, township_id = _scope_county_township(ra)
    if county_id in access.administered_counties(admin):
        return True
    return ra.role in VILLAGE_ROLES and ra.organization_id is not None and township_id in _administered_townships(admin)


def may_manage(admin: User, target: User) -> bool:
    """A user is managed by whoever may manage every one of their roles (a user without roles: by nobody but the
    command line), and never by themselves (they would lock themselves out)."""
    return bool(target.roles) and target.id != admin.id and all(may_manage_scope(admin, ra) for ra in target.roles)


def manageable_users(admin: User) -> list[User]:
    counties, townships = access.administered_counties(admin), _administered_townships(admin)
    conds = []
    if counties:
        tids = sa.select(Township.id).where(Township.county_id.in_(counties))
        conds += [RoleAssignment.county_id.in_(counties), RoleAssignment.township_id.in_(tids),
                  RoleAssignment.organization_id.in_(sa.select(Organization.id).where(Organization.township_id.in_(tids)))]
    if townships:
        conds.append(RoleAssignment.organization_id.in_(
            sa.select(Organization.id).where(Organization.township_id.in_(townships))))
    if not conds:
        return []
    candidates = db.session.scalars(sa.select(User).join(RoleAssignment).where(sa.or_(*conds)).distinct()
                                    .order_by(User.username))
    return [u for u in candidates if may_manage(admin, u)]


def get_managed_user(admin: User, user_id: int) -> User:
    """The user if `admin` may manage them; else NotFound (nothing is learnt about users elsewhere)."""
    target = db.session.get(User, user_id)
    if target is None or not may_manage(admin, target):
        raise NotFound("找不到该用户")
    return target


def one_time_password() -> str:
    """12 characters from an alphabet without look-alikes (0/O, 1/l/I), with letters and digits: it passes the
    password policy and is read out over the phone without mistakes."""
    letters, digits = "abcdefghjkmnpqrstuvwxyz", "23456789"
    while True:
        pw = "".join(secrets.choice(letters + digits) for _ in range(12))
        if any(c in digits for c in pw) and any(c in letters for c in pw):
            return pw


def reset_password(admin: User, target: User) -> str:
    """A new one-time password, to be changed at the next login; every session and API token of the user ends.
    Returns the password (shown once to the admin, never stored in clear)."""
    if not may_manage(admin, target):
        raise NotFound("找不到该用户")
    password = one_time_password()
    users.set_password(target, password)
    target.must_change_password = True
    users.end_sessions(target)
    revoked = users.revoke_all_tokens(target)
    audit.log("user.reset", user=admin, target=target.username, tokens_revoked=revoked)
    return password


def set_active(admin: User, target: User, active: bool) -> User:
    """Deactivate (every session and API token ends; logins refused) or reactivate an account."""
    if not may_manage(admin, target):
        raise NotFound("找不到该用户")
    if target.active == active:
        raise InvalidState("该账户已经停用" if not active else "该账户已经是启用状态")
    target.active = active
    revoked = 0
    if not active:
        users.end_sessions(target)
        revoked = users.revoke_all_tokens(target)
    db.session.flush()
    audit.log("user.deactivate" if not active else "user.reactivate", user=admin, target=target.username,
              tokens_revoked=revoked)
    return target


def revoke_tokens(admin: User, target: User) -> int:
    """Revoke every API token of the user (a leaked token, a laptop lost); returns how many."""
    if not may_manage(admin, target):
        raise NotFound("找不到该用户")
    revoked = users.revoke_all_tokens(target)
    audit.log("user.revoke_tokens", user=admin, target=target.username, tokens_revoked=revoked)
    return revoked


def _scope_for(admin: User, role: str, *, organization_id=None, township_id=None):
    from coop.models import County

    if role not in ROLES:
        raise ValidationFailed.field("role", "角色不正确")
    kind = ROLES[role][0]
    if kind == "county":
        counties = access.administered_counties(admin)
        if not counties:
            raise ValidationFailed.field("role", "只有县级管理员可以授予该角色")
        return db.session.get(County, counties[0])
    if kind == "township":
        if not township_id:
            raise ValidationFailed.field("township_id", "请选择乡镇")
        t = db.session.get(Township, township_id)
        if t is None or t.county_id not in access.administered_counties(admin):
            raise ValidationFailed.field("township_id", "乡镇不存在")
        return t
    org = db.session.get(Organization, organization_id or 0)
    if org is None or not (org.township.county_id in access.administered_counties(admin)
                           or org.township_id in _administered_townships(admin)):
        raise ValidationFailed.field("organization_id", "请选择您管辖的组织")
    return org


def grant_role(admin: User, target: User, role: str, *, organization_id=None, township_id=None):
    if not may_manage(admin, target):
        raise NotFound("找不到该用户")
    scope = _scope_for(admin, role, organization_id=organization_id, township_id=township_id)
    kind = {"county": "county_id", "township": "township_id", "organization": "organization_id"}[ROLES[role][0]]
    if not may_manage_scope(admin, RoleAssignment(role=role, **{kind: scope.id})):
        raise ValidationFailed.field("role", "您不能授予该角色")  # e.g. a township auditor granting 会计 elsewhere
    ra = users.assign_role(target, role, scope, by=admin)
    audit.log("user.grant", user=admin, target=target.username, role=role, scope=getattr(scope, "name", ""))
    return ra


def remove_role(admin: User, target: User, assignment_id: int) -> None:
    """Take a role away; every session of the user ends (they sign in again with what is left). The last role is
    not removed: deactivate the account instead, so it stays in someone's care."""
    if not may_manage(admin, target):
        raise NotFound("找不到该用户")
    ra = next((r for r in target.roles if r.id == assignment_id), None)
    if ra is None:
        raise ValidationFailed.field("assignment_id", "该用户没有这个角色")
    if len(target.roles) == 1:
        raise InvalidState("这是该用户唯一的角色；要取消其全部权限，请停用账户")
    users.revoke_role(target, ra, by=admin)
    users.end_sessions(target)
    audit.log("user.revoke_role", user=admin, target=target.username, role=ra.role)
