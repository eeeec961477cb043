"""Resolve posting roles (科目对照) to an organization's leaf accounts (RULES §2, coop.ledger.roles)."""
from __future__ import annotations

from ..errors import ValidationFailed
from ..ledger.roles import ROLE_BY_KEY, PostingRole
from ..models import Organization
from .accounts import chart

#: where the accountant fixes a mapping (named in every refusal)
FIX_HINT = "请在「科目设置 → 科目对照」中指定末级科目"


def role(key: str) -> PostingRole:
    return ROLE_BY_KEY[key]


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
        if info is None or not chosen.startswith(r.top):
            raise ValidationFailed.field(path, f"「{r.label}」应选 {r.top} 下的末级科目，{chosen} 不是")
        if not info.is_leaf:
            raise ValidationFailed.field(path, f"{chosen} {info.name} 有下级科目，请选择末级科目")
        return chosen
    code = _mapped(org, key) or r.default
    info = infos.get(code)
    if info is None:
        raise ValidationFailed.field(path, f"科目对照「{r.label}」未设置：{FIX_HINT}")
    if not info.is_leaf:
        raise ValidationFailed.field(
            path, f"科目对照「{r.label}」指向 {code} {info.name}，它有下级科目；{FIX_HINT}")
    return code


def _mapped(org: Organization, key: str) -> str | None:
    """The organization's own mapping for the role (posting_roles table; filled in by the 科目对照 work)."""
    return None
