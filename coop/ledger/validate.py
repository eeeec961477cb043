"""Voucher rules (RULES §3), as functions that return every issue at once instead of stopping at the first."""
from __future__ import annotations

from decimal import Decimal
from typing import Mapping, Sequence

from coop.core.money import ZERO, format_plain
from coop.ledger import codes
from coop.ledger.chart import COUNTERPARTY_ACCOUNTS
from coop.ledger.types import AccountInfo, LedgerIssue, Line


def validate_lines(
    lines: Sequence[Line], accounts: Mapping[str, AccountInfo], *, red: bool = False,
    require_counterparty: bool = True,
) -> list[LedgerIssue]:
    """Every issue of an entry. `require_counterparty`: lines on 112/113/201/211/221 must name the counterparty
    (off when re-checking what was written before the rule, e.g. posting an old draft)."""
    issues: list[LedgerIssue] = []
    if len(lines) < 2:
        issues.append(LedgerIssue("lines", "凭证至少需要两行分录", "too_few_lines"))
    for i, line in enumerate(lines):
        p = f"lines.{i}"
        if not line.summary.strip():
            issues.append(LedgerIssue(f"{p}.summary", "请填写摘要", "required"))
        acc = accounts.get(line.account_code)
        if acc is None:
            issues.append(LedgerIssue(f"{p}.account_code", f"科目 {line.account_code} 不存在", "unknown_account"))
        elif not acc.is_leaf:
            issues.append(
                LedgerIssue(f"{p}.account_code", f"{acc.code} {acc.name} 有下级科目，只能在末级科目记账", "not_leaf")
            )
        elif not acc.active:
            issues.append(LedgerIssue(f"{p}.account_code", f"{acc.code} {acc.name} 已停用", "inactive"))
        if (acc is not None and require_counterparty and codes.top(acc.code) in COUNTERPARTY_ACCOUNTS
                and not (line.counterparty or "").strip()):
            issues.append(LedgerIssue(f"{p}.counterparty", f"{acc.code} {acc.name} 须填写往来单位或农户（辅助核算）",
                                      "counterparty_required"))
        has_d, has_c = line.debit != 0, line.credit != 0
        if has_d and has_c:
            issues.append(LedgerIssue(f"{p}.debit", "借方和贷方只能填写一方", "both_sides"))
        elif not has_d and not has_c:
            issues.append(LedgerIssue(f"{p}.debit", "请填写借方或贷方金额（不能为零）", "no_amount"))
        for side in ("debit", "credit"):
            amount: Decimal = getattr(line, side)
            if amount == 0:
                continue
            if red and amount > 0:
                issues.append(LedgerIssue(f"{p}.{side}", "红字凭证的金额必须为负数", "red_positive"))
            if not red and amount < 0:
                issues.append(LedgerIssue(f"{p}.{side}", "金额不能为负数（红字冲销凭证除外）", "negative"))
    issues.extend(validate_balanced(lines))
    return issues


def validate_balanced(lines: Sequence[Line]) -> list[LedgerIssue]:
    debit = sum((l.debit for l in lines), ZERO)
    credit = sum((l.credit for l in lines), ZERO)
    if debit != credit:
        return [
            LedgerIssue(
                "lines",
                f"借贷不平衡：借方合计 {format_plain(debit)}，贷方合计 {format_plain(credit)}，"
                f"相差 {format_plain(debit - credit)}",
                "unbalanced",
            )
        ]
    return []
