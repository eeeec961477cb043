"""Resolve posting roles (科目对照) to an organization's leaf accounts (RULES §2, coop.ledger.roles), and keep
each organization's mapping (posting_roles)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.ledger import codes
from coop.ledger.roles import ROLE_BY_KEY, ROLES, PostingRole
from coop.models import Organization, PostingRoleMapping
from coop.services import audit
from coop.services.accounts import chart, local_code

#: where the accountant fixes a mapping (named in every refusal)
FIX_HINT = "请在「科目 → 科目对照」页面指定末级科目"

# the problems a role can have (RoleStatus.problem)
UNMAPPED, NOT_LEAF, INACTIVE, OUTSIDE = "unmapped", "not_leaf", "inactive", "outside"


def role(key: str) -> PostingRole:
    return ROLE_BY_KEY[key]


def _under(code: str, top: str) -> bool:
    return codes.under(code, top)


def resolve(org: Organization, key: str, *, chosen: str | None = None, field: str | None = None) -> str:
    """The leaf account code that role `key` posts to in `org`'s books.

    `chosen` is a leaf picked on a form (the bank account a loan pays from); it must lie under the role's
    first-level account. A role that resolves to a missing or non-leaf account is a ValidationFailed naming the
    role, at `field` (the form field) or at ``roles.<key>``.
    """
    r = ROLE_BY_KEY[key]
    infos = chart(org).infos
    path = field or f"roles.{key}"
    if chosen:
        chosen = chosen.strip()
        info = infos.get(chosen)
        if info is None or not _under(chosen, r.top):
            raise ValidationFailed.field(path, f"「{r.label}」应选 {r.top} 下的末级科目，{chosen} 不是")
        if not info.is_leaf:
            raise ValidationFailed.field(path, f"{chosen} {info.name} 有下级科目，请选择末级科目")
        if not info.active:
            raise ValidationFailed.field(path, f"{chosen} {info.name} 已停用")
        return chosen
    code = _mapped(org, key) or default_code(org, r)
    info = infos.get(code) if code else None
    if info is None:
        raise ValidationFailed.field(path, f"科目对照「{r.label}」未设置：{FIX_HINT}")
    if not info.is_leaf:
        raise ValidationFailed.field(
            path, f"科目对照「{r.label}」指向 {code} {info.name}，它有下级科目；{FIX_HINT}")
    if not info.active:
        raise ValidationFailed.field(path, f"科目对照「{r.label}」指向已停用的 {code} {info.name}；{FIX_HINT}")
    return code


def default_code(org: Organization, r: PostingRole) -> str | None:
    """The role's default account in this organization's chart: roles.py writes defaults in the canonical scheme
    (3220101), which reads 322001001 in a 3-3 county."""
    return local_code(org, r.default)


def _mappings(org: Organization) -> dict[str, str]:
    """role → account code, as mapped by the organization."""
    from coop.models import Account

    rows = db.session.execute(
        sa.select(PostingRoleMapping.role, Account.code).join(Account, Account.id == PostingRoleMapping.account_id)
        .where(PostingRoleMapping.organization_id == org.id)).all()
    return {role_key: code for role_key, code in rows}


def _mapped(org: Organization, key: str) -> str | None:
    """The organization's own mapping for the role, if any."""
    return _mappings(org).get(key)


@dataclass(frozen=True)
class RoleStatus:
    role: PostingRole
    #: the account the role resolves to (mapped or default), when there is one
    code: str | None
    name: str | None
    mapped: bool
    #: None when the role resolves to an active leaf; else UNMAPPED / NOT_LEAF / INACTIVE
    problem: str | None

    @property
    def key(self) -> str:
        return self.role.key

    @property
    def ok(self) -> bool:
        return self.problem is None


def statuses(org: Organization) -> list[RoleStatus]:
    """Every role with the account it resolves to in this organization, or its problem."""
    infos = chart(org).infos
    mapped = _mappings(org)
    out = []
    for r in ROLES:
        code = mapped.get(r.key) or default_code(org, r)
        info = infos.get(code) if code else None
        if info is None:
            problem = UNMAPPED
        elif not info.is_leaf:
            problem = NOT_LEAF
        elif not info.active:
            problem = INACTIVE
        else:
            problem = None
        out.append(RoleStatus(r, code if info else None, info.name if info else None, r.key in mapped, problem))
    return out


def problems(org: Organization) -> list[RoleStatus]:
    return [s for s in statuses(org) if not s.ok]


def set_mapping(org: Organization, key: str, code: str | None, *, user=None) -> RoleStatus:
    """Map role `key` to leaf `code` (under the role's first-level account); empty `code` clears the mapping,
    so the role falls back to its default. Audit-logged."""
    from coop.models import Account

    r = ROLE_BY_KEY.get(key)
    if r is None:
        raise ValidationFailed.field("role", f"没有名为 {key} 的记账角色")
    code = (code or "").strip()
    # two accountants mapping the same role at once: the second waits here, then updates the first one's row
    db.session.execute(sa.select(Organization.id).where(Organization.id == org.id).with_for_update())
    row = db.session.scalar(sa.select(PostingRoleMapping).where(
        PostingRoleMapping.organization_id == org.id, PostingRoleMapping.role == key).with_for_update())
    before = row.account.code if row is not None else None
    if not code:
        if row is not None:
            db.session.delete(row)
    else:
        acc = db.session.scalar(sa.select(Account).where(Account.organization_id == org.id, Account.code == code))
        if acc is None:
            raise ValidationFailed.field("account_code", f"科目 {code} 不存在")
        if not _under(code, r.top):
            raise ValidationFailed.field("account_code", f"「{r.label}」应指向 {r.top} 下的末级科目，{acc.label} 不是")
        if not acc.is_leaf:
            raise ValidationFailed.field("account_code", f"{acc.label} 有下级科目，请选择末级科目")
        if not acc.active:
            raise ValidationFailed.field("account_code", f"{acc.label} 已停用")
        if row is None:
            row = PostingRoleMapping(organization_id=org.id, role=key, account_id=acc.id)
            db.session.add(row)
        else:
            row.account_id = acc.id
    db.session.flush()
    audit.log("posting_role.set", user=user, org=org, target=key, before=before, after=code or None)
    return next(s for s in statuses(org) if s.key == key)


def resolve_money(org: Organization, chosen: str | None = None, *, field: str = "bank_account") -> str:
    """The cash or bank leaf money moves through: the leaf chosen on the form (under 101 or 102), else the 银行存款
    role's account."""
    from coop.ledger.roles import BANK, CASH

    chosen = (chosen or "").strip() or None
    key = CASH if chosen and codes.under(chosen, ROLE_BY_KEY[CASH].top) else BANK
    if chosen and not codes.under(chosen, ROLE_BY_KEY[BANK].top) and key == BANK:
        raise ValidationFailed.field(field, f"收付款科目应为 101 库存现金或 102 银行存款下的末级科目，{chosen} 不是")
    return resolve(org, key, chosen=chosen, field=field)


def money_leaves(org: Organization) -> list[tuple[str, str]]:
    """(code, name) of the active cash and bank leaves, for the forms that ask which one."""
    from coop.ledger.roles import BANK, CASH

    tops = (ROLE_BY_KEY[CASH].top, ROLE_BY_KEY[BANK].top)
    return sorted((c, i.name) for c, i in chart(org).infos.items()
                  if i.is_leaf and i.active and any(codes.under(c, t) for t in tops))
