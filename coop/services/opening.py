"""期初余额: opening balances, entered by hand or imported from 2004-system books, locked once balanced."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Mapping

import sqlalchemy as sa

from coop.core.errors import InvalidState, ValidationFailed
from coop.core.extensions import db
from coop.ledger import codes
from coop.ledger.chart import CHART_2004, COUNTERPARTY_ACCOUNTS
from coop.core.money import ZERO, format_plain
from coop.models import OpeningBalance, Organization, User
from coop.services import access, audit
from coop.services.accounts import account_map
from coop.services.balances import opening_balances, opening_lines  # noqa: F401  (opening_lines: for callers)


def set_opening_balances(org: Organization, balances: Mapping, *, user: User) -> None:
    """Replace all opening balances. `balances` maps a leaf code, or (leaf code, counterparty), to a signed amount
    (debit positive); on 112/113/201/211/221 a balance names its counterparty (RULES §2 辅助核算). Errors by
    "balances.<code>"."""
    access.require(user, access.MANAGE_ACCOUNTS, org)
    if org.opening_locked:
        raise InvalidState("期初余额已锁定，不能修改")
    accounts = account_map(org)
    errors: dict = {}
    lines: dict[tuple[str, str | None], Decimal] = {}
    for key, amount in balances.items():
        code, cp = key if isinstance(key, tuple) else (key, None)
        cp = (cp or "").strip() or None
        lines[(code, cp)] = lines.get((code, cp), ZERO) + amount
    for (code, cp), amount in lines.items():
        acc = accounts.get(code)
        if acc is None:
            errors.setdefault(code, []).append(f"科目 {code} 不存在")
        elif not acc.is_leaf and amount != 0:
            errors.setdefault(code, []).append(f"{acc.label} 不是末级科目，请在其下级科目录入余额")
        elif amount != 0 and cp is None and codes.top(code) in COUNTERPARTY_ACCOUNTS:
            errors.setdefault(code, []).append(f"{acc.label} 的期初余额须按往来单位或农户录入（辅助核算）")
        elif cp is not None and len(cp) > 100:
            errors.setdefault(code, []).append("往来单位名称不能超过100个字")
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], {"balances": errors})
    db.session.execute(sa.delete(OpeningBalance).where(OpeningBalance.organization_id == org.id))
    for (code, cp), amount in sorted(lines.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        if amount != 0:
            db.session.add(OpeningBalance(organization_id=org.id, account_id=accounts[code].id, amount=amount,
                                          counterparty=cp))
    db.session.flush()
    audit.log("opening.set", user=user, org=org, count=len(lines))


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


def map_2004_balances(rows: Iterable[tuple], choices: Mapping[str, str] | None = None,
                      scheme: codes.CodeScheme = codes.DEFAULT) -> tuple[dict, dict[str, list[str]]]:
    """Old (2004 system) first-level code and signed balance → new codes, using the 对照表 (research §1.5).
    `choices` picks the target where an old account splits by substance (e.g. {"131": "132"}).
    A row may carry a third item, the counterparty (required for 应收款, 内部往来, 应付款 and loans); the new
    balances are then keyed (code, counterparty). Returns (new balances, errors by old code)."""
    choices = dict(choices or {})
    out: dict[str, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for old, amount, *rest in rows:
        old = str(old).strip()
        cp = (rest[0] or "").strip() if rest and rest[0] else None
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
        key = (target, cp) if cp else target
        out[key] = out.get(key, ZERO) + Decimal(amount)
    return out, errors


def import_2004_opening(org: Organization, rows: Iterable[tuple[str, Decimal]], *, user: User,
                        choices: Mapping[str, str] | None = None, lock: bool = True) -> dict[str, Decimal]:
    """Import a 2004-system 科目余额表 as this organization's opening balances and, if it balances, lock it."""
    mapped, errors = map_2004_balances(rows, choices, org.code_scheme)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], {"rows": errors})
    accounts = account_map(org)
    for key, amount in mapped.items():
        code = key[0] if isinstance(key, tuple) else key
        acc = accounts.get(code)
        if acc is None:
            raise ValidationFailed.field("rows", f"科目 {code} 不存在，请先增设该明细科目")
        if amount != 0 and not acc.is_leaf:  # zero rows of a full 余额表 need no leaf
            raise ValidationFailed.field("rows", f"{acc.label} 有下级科目，请先指定对应的末级科目")
    set_opening_balances(org, mapped, user=user)
    if lock:
        lock_opening_balances(org, user=user)
    return mapped
