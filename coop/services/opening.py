"""期初余额: opening balances, entered by hand or imported from 2004-system books, locked once balanced."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Mapping

import sqlalchemy as sa

from ..errors import InvalidState, ValidationFailed
from ..extensions import db
from ..ledger import codes
from ..ledger.chart import CHART_2004
from ..money import ZERO, format_plain
from ..models import OpeningBalance, Organization, User
from . import access, audit
from .accounts import account_map


def opening_balances(org: Organization) -> dict[str, Decimal]:
    """Leaf code → signed opening balance (debit positive)."""
    rows = db.session.execute(
        sa.select(OpeningBalance).where(OpeningBalance.organization_id == org.id)
    ).scalars()
    return {ob.account.code: ob.amount for ob in rows if ob.amount != 0}


def set_opening_balances(org: Organization, balances: Mapping[str, Decimal], *, user: User) -> None:
    """Replace all opening balances. `balances` maps leaf codes to signed amounts (debit positive)."""
    access.require(user, access.MANAGE_ACCOUNTS, org)
    if org.opening_locked:
        raise InvalidState("期初余额已锁定，不能修改")
    accounts = account_map(org)
    errors: dict = {}
    for code, amount in balances.items():
        acc = accounts.get(code)
        if acc is None:
            errors.setdefault(code, []).append(f"科目 {code} 不存在")
        elif not acc.is_leaf and amount != 0:
            errors.setdefault(code, []).append(f"{acc.label} 不是末级科目，请在其下级科目录入余额")
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], {"balances": errors})
    db.session.execute(sa.delete(OpeningBalance).where(OpeningBalance.organization_id == org.id))
    for code, amount in sorted(balances.items()):
        if amount != 0:
            db.session.add(OpeningBalance(organization_id=org.id, account_id=accounts[code].id, amount=amount))
    db.session.flush()
    audit.log("opening.set", user=user, org=org, count=len(balances))


def opening_difference(org: Organization) -> Decimal:
    return sum(opening_balances(org).values(), ZERO)


def lock_opening_balances(org: Organization, *, user: User) -> None:
    """Lock the opening balances; refused until they balance (借方合计 = 贷方合计)."""
    access.require(user, access.MANAGE_ACCOUNTS, org)
    diff = opening_difference(org)
    if diff != 0:
        raise ValidationFailed.field(
            "balances", f"期初余额试算不平衡：借方比贷方多 {format_plain(diff)}，不能锁定"
        )
    org.opening_locked = True
    db.session.flush()
    audit.log("opening.lock", user=user, org=org)


def map_2004_balances(rows: Iterable[tuple[str, Decimal]], choices: Mapping[str, str] | None = None,
                      scheme: codes.CodeScheme = codes.DEFAULT) -> tuple[dict[str, Decimal], dict[str, list[str]]]:
    """Old (2004 system) first-level code and signed balance → new codes, using the 对照表 (research §1.5).
    `choices` picks the target where an old account splits by substance (e.g. {"131": "132"}).
    Returns (new balances, errors by old code)."""
    choices = dict(choices or {})
    out: dict[str, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for old, amount in rows:
        old = str(old).strip()
        if old not in CHART_2004:
            errors.setdefault(old, []).append(f"旧制度科目 {old} 不存在")
            continue
        name, targets = CHART_2004[old]
        targets = tuple(codes.CANONICAL.convert(t, scheme) for t in targets)  # 32202 → 322002 under 3-3
        target = choices.get(old, targets[0])
        # a 明细科目 under an allowed target is fine (e.g. 102 → 10201 农业银行)
        if not any(codes.under(target, t) for t in targets):
            errors.setdefault(old, []).append(f"{old} {name} 只能转入 {'/'.join(targets)}")
            continue
        out[target] = out.get(target, ZERO) + Decimal(amount)
    return out, errors


def import_2004_opening(org: Organization, rows: Iterable[tuple[str, Decimal]], *, user: User,
                        choices: Mapping[str, str] | None = None, lock: bool = True) -> dict[str, Decimal]:
    """Import a 2004-system 科目余额表 as this organization's opening balances and, if it balances, lock it."""
    mapped, errors = map_2004_balances(rows, choices, org.code_scheme)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], {"rows": errors})
    accounts = account_map(org)
    for code, amount in mapped.items():
        acc = accounts.get(code)
        if acc is None:
            raise ValidationFailed.field("rows", f"科目 {code} 不存在，请先增设该明细科目")
        if amount != 0 and not acc.is_leaf:  # zero rows of a full 余额表 need no leaf
            raise ValidationFailed.field("rows", f"{acc.label} 有下级科目，请先指定对应的末级科目")
    set_opening_balances(org, mapped, user=user)
    if lock:
        lock_opening_balances(org, user=user)
    return mapped
