"""Member portal accounts opened in bulk from the roster (RULES §13).

One account per household by default — for its head — or for the members chosen (a member may have their own).
Username scheme (printed on the 开通通知书; no ID number or name in it): ``v<组织编号>-<户号>`` for the head,
``v<组织编号>-<户号>-<n>`` for another member, n being their place in the household (by registration order).
Each account gets a one-time password (returned once, for the letters; changed at first login, #16), the
'member' role on the village, and is linked to the Member row (Member.user_id), so the portal opens on the
household. When membership ends the role goes and sessions end (coop.services.members._end_portal_access).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.models import Household, Member, Organization, User
from coop.models.members import MemberStatus
from coop.services import access, audit, users
from coop.services.admin import one_time_password

#: statuses whose holders may use the portal (a pending person is not yet a member; a former one no longer)
OPEN_STATUSES = (MemberStatus.MEMBER, MemberStatus.BENEFIT)


@dataclass
class Opened:
    member: Member
    household: Household
    username: str
    password: str


def username_for(org: Organization, member: Member) -> str:
    h = member.household
    if h.head_id == member.id:
        return f"v{org.id}-{h.number}"
    place = [m.id for m in h.members].index(member.id) + 1
    return f"v{org.id}-{h.number}-{place}"


def candidates(org: Organization) -> list[Member]:
    """Members who could get an account and have none: the portal-eligible, heads first within a household."""
    q = (sa.select(Member).join(Household, Household.id == Member.household_id)
         .where(Member.organization_id == org.id, Member.user_id.is_(None), Member.status.in_(OPEN_STATUSES))
         .order_by(Household.number, Member.id != Household.head_id, Member.id))
    return list(db.session.scalars(q))


def open_accounts(org: Organization, *, user: User, member_ids: list[int] | None = None) -> list[Opened]:
    """Open portal accounts: for the given members, or (None) for every household head without one. Flushes only;
    the caller commits once (all or nothing) and hands the passwords out on the letters."""
    access.require(user, access.MANAGE_MEMBERS, org)
    db.session.execute(sa.select(Organization.id).where(Organization.id == org.id).with_for_update())
    if member_ids is None:
        chosen = [m for m in candidates(org) if m.household.head_id == m.id]
    else:
        rows = {m.id: m for m in db.session.scalars(sa.select(Member).where(Member.id.in_(member_ids),
                                                                             Member.organization_id == org.id))}
        errors: dict = {}
        for i, mid in enumerate(member_ids):
            m = rows.get(mid)
            if m is None:
                errors[str(i)] = ["找不到该成员"]
            elif m.user_id is not None:
                errors[str(i)] = [f"{m.name} 已开通账户"]
            elif m.status not in OPEN_STATUSES:
                errors[str(i)] = [f"{m.name} 不是本社成员（或尚未确认），不能开通"]
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], {"member_ids": errors})
        chosen = [rows[mid] for mid in dict.fromkeys(member_ids)]
    if not chosen:
        raise ValidationFailed.field("member_ids", "没有需要开通账户的成员（户主都已开通，或尚无已确认的成员）")
    out = []
    for m in chosen:
        password = one_time_password()
        account = users.create_user(username_for(org, m), m.name, password, one_time=True)
        users.assign_role(account, "member", org, by=user)
        m.user_id = account.id
        out.append(Opened(m, m.household, account.username, password))
    db.session.flush()
    audit.log("portal.open", user=user, org=org, count=len(out))
    return out
