"""The chart of accounts of an organization: the national 42, and the 明细科目 it adds."""
from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from coop.core.errors import ValidationFailed
from coop.core.extensions import db
from coop.ledger import codes
from coop.ledger.chart import CHART_2023, CURRENT_YEAR_PROFIT, REQUIRED_DETAILS, UNDISTRIBUTED, chart_account
from coop.ledger.types import AccountInfo
from coop.models import Account, OpeningBalance, Organization, VoucherLine
from coop.services.balances import leaf_balances

#: accounts the carry-over writes to directly: they must stay leaves (canonical codes, coop.ledger.codes)
LOCKED_LEAVES = {CURRENT_YEAR_PROFIT, UNDISTRIBUTED}


def scheme_of(org: Organization) -> codes.CodeScheme:
    return org.code_scheme


def local_code(org: Organization, canonical: str) -> str:
    """A code written in this source (2-2-2: 32202, 3220101) as it reads in the organization's scheme."""
    return codes.CANONICAL.convert(canonical, scheme_of(org))


def locked_leaves(org: Organization) -> set[str]:
    return {local_code(org, c) for c in LOCKED_LEAVES}


def seed_chart(org: Organization) -> None:
    _forget_chart()
    scheme = scheme_of(org)
    by_code: dict[str, Account] = {}
    for a in CHART_2023:
        acc = Account(organization_id=org.id, code=a.code, name=a.name, category=a.category, normal_side=a.normal_side)
        db.session.add(acc)
        by_code[a.code] = acc
    db.session.flush()
    for canonical, name in REQUIRED_DETAILS:
        code = local_code(org, canonical)
        parent = by_code[scheme.parent(code)]
        parent.is_leaf = False
        acc = Account(
            organization_id=org.id, code=code, name=name, category=parent.category,
            normal_side=parent.normal_side, parent_id=parent.id,
        )
        db.session.add(acc)
        by_code[code] = acc
        db.session.flush()


def accounts_of(org: Organization) -> list[Account]:
    return list(db.session.scalars(sa.select(Account).where(Account.organization_id == org.id).order_by(Account.code)))


def account_map(org: Organization) -> dict[str, Account]:
    return {a.code: a for a in accounts_of(org)}


class Chart(NamedTuple):
    infos: dict[str, AccountInfo]  # by code, what validation needs
    ids: dict[str, int]  # account id by code
    codes: dict[int, str]  # code by account id


_CHART = "coop_chart"


def chart(org: Organization) -> Chart:
    """The organization's chart as plain values, read once per transaction: every voucher saved or posted needs
    it, and a bulk import saves thousands in one transaction. Writers below forget it; so do commit and rollback."""
    cache = db.session.info.setdefault(_CHART, {})
    found = cache.get(org.id)
    if found is None:
        rows = db.session.execute(sa.select(Account.id, Account.code, Account.name, Account.is_leaf, Account.active)
                                  .where(Account.organization_id == org.id)).all()
        found = cache[org.id] = Chart(
            {code: AccountInfo(code, name, leaf, active) for _, code, name, leaf, active in rows},
            {code: id_ for id_, code, *_ in rows}, {id_: code for id_, code, *_ in rows})
    return found


def account_infos(org: Organization) -> dict[str, AccountInfo]:
    return chart(org).infos


def _forget_chart(session: Session | None = None) -> None:
    (session or db.session).info.pop(_CHART, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_chart_at_transaction_end(session: Session, *args) -> None:
    _forget_chart(session)


def get_account(org: Organization, code: str) -> Account | None:
    return db.session.scalar(sa.select(Account).where(Account.organization_id == org.id, Account.code == code))


def _has_activity(account: Account) -> bool:
    used = db.session.scalar(sa.select(sa.func.count()).select_from(VoucherLine).where(VoucherLine.account_id == account.id))
    ob = db.session.scalar(
        sa.select(sa.func.count()).select_from(OpeningBalance).where(
            OpeningBalance.account_id == account.id, OpeningBalance.amount != 0
        )
    )
    return bool(used or ob)


def add_detail_account(org: Organization, parent_code: str, code: str, name: str) -> Account:
    """Add a 明细科目: `code` is the parent's code plus one segment of the county's scheme (102 → 10201)."""
    parent_code, code, name = (parent_code or "").strip(), (code or "").strip(), (name or "").strip()
    errors: dict = {}
    parent = get_account(org, parent_code) if parent_code else None
    if parent is None:
        errors["parent_code"] = [f"上级科目 {parent_code} 不存在"]
    elif parent.code in locked_leaves(org):
        errors["parent_code"] = [f"{parent.label} 用于年末结转，不能增设下级科目"]
    elif parent.is_leaf and _has_activity(parent):
        errors["parent_code"] = [f"{parent.label} 已有期初余额或记账数据，不能再增设下级科目"]
    scheme = scheme_of(org)
    if parent is not None and scheme.level(parent.code) >= scheme.max_level:
        errors["parent_code"] = [f"{parent.label} 已是编码方案 {scheme.key} 的最末一级，不能再增设下级科目"]
    elif parent is not None and not scheme.is_valid_child(parent.code, code):
        width = "一两三四"[scheme.segments[scheme.level(parent.code) - 1] - 1]
        errors["code"] = [f"下级科目编码应为上级编码 {parent.code} 加{width}位数字（如 {scheme.child_hint(parent.code)}）"]
    elif get_account(org, code) is not None:
        errors["code"] = [f"科目编码 {code} 已存在"]
    if not name:
        errors["name"] = ["请填写科目名称"]
    elif len(name) > 100:
        errors["name"] = ["科目名称不能超过100个字"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    top = chart_account(code)
    _forget_chart()
    parent.is_leaf = False
    acc = Account(
        organization_id=org.id, code=code, name=name, category=top.category, normal_side=top.normal_side,
        parent_id=parent.id,
    )
    db.session.add(acc)
    db.session.flush()
    return acc


def rename_account(org: Organization, code: str, name: str) -> Account:
    acc = get_account(org, code)
    if acc is None:
        raise ValidationFailed.field("code", f"科目 {code} 不存在")
    if codes.is_top(code):
        raise ValidationFailed.field("name", "一级科目名称由国家统一规定，不能修改")
    if not (name or "").strip():
        raise ValidationFailed.field("name", "请填写科目名称")
    _forget_chart()
    acc.name = name.strip()
    db.session.flush()
    return acc


def set_account_active(org: Organization, code: str, active: bool) -> Account:
    acc = get_account(org, code)
    if acc is None:
        raise ValidationFailed.field("code", f"科目 {code} 不存在")
    if not active:
        if codes.is_top(code):
            raise ValidationFailed.field("code", "一级科目不能停用")
        if any(v != 0 for c, v in leaf_balances(org).items() if c.startswith(code)):
            raise ValidationFailed.field("code", f"{acc.label} 尚有余额，不能停用")
    _forget_chart()
    acc.active = active
    db.session.flush()
    return acc
