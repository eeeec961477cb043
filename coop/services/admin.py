"""County administration: organizations, their 章程 parameters, users and roles — scoped to the admin's county."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import Organization, Township, User
from ..models.users import ROLES
from . import access, audit, orgs, users


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
    scope_kind = ROLES[data["role"]][0]
    if scope_kind == "county":
        counties = access.administered_counties(admin)
        if not counties:
            raise NotFound("找不到该县")
        from ..models import County

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
    user = users.create_user(data["username"], data["display_name"], data["password"])
    users.assign_role(user, data["role"], scope, by=admin)
    audit.log("user.create", user=admin, target=user.username, role=data["role"])
    return user


def set_code_scheme(admin: User, county, key: str):
    """The county's 明细科目 code scheme (coop.ledger.codes: 2-2-2, or a legacy 3-3 …). Set before the county's first
    organization: existing books keep the codes they have."""
    from ..ledger import codes

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
