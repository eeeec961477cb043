"""预决算 (RULES §16; 农村集体经济组织法 art. 26): an organization's annual budget per account, approved by the 成员大会
with its record, and budget against actual by month from posted vouchers.

The accountant drafts the lines; the 成员大会's resolution (date, entitled, present, votes) is recorded by the
accountant or the reviewer and fixes the budget: an approved budget is not edited (a change is a new resolution,
not built yet). `disclosure_sheet` is the 财务计划 sheet of the disclosure workflow (kind "financial_plan").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa

from coop.core.errors import InvalidState, ValidationFailed, add_error, flatten_errors
from coop.core.extensions import db
from coop.core.text import N_
from coop.ledger import codes
from coop.models import Account, Organization, User, Voucher, VoucherLine
from coop.models.county import Budget, BudgetLine, BudgetStatus
from coop.models.ledger import VoucherStatus
from coop.core.money import ZERO, from_fen
from coop.services import access, audit

#: 成员大会: at least two thirds of the members present, more than half of all members in favour (法 art. 27)
QUORUM = Fraction(2, 3)
MAJORITY = Fraction(1, 2)


def get_budget(org: Organization, year: int) -> Budget | None:
    return db.session.scalar(sa.select(Budget).where(Budget.organization_id == org.id, Budget.year == year))


def _locked_budget(org: Organization, year: int) -> Budget | None:
    """The budget under a row lock, taken after one on the organization's row: two first drafts of a year at once
    then queue instead of one failing on the (organization, year) unique key."""
    db.session.execute(sa.select(Organization.id).where(Organization.id == org.id).with_for_update())
    return db.session.scalar(sa.select(Budget).where(Budget.organization_id == org.id, Budget.year == year)
                             .with_for_update())


def set_lines(org: Organization, year: int, lines: list[dict], *, user: User) -> Budget:
    """Replace the draft's lines: [{account_code, amount}], each account of the chart once, amount ≥ 0."""
    access.require(user, access.PREPARE, org)
    budget = _locked_budget(org, year)
    if budget is not None and budget.status != BudgetStatus.DRAFT:
        raise InvalidState("预算已经成员大会通过，不能修改")
    known = {a.code: a for a in db.session.scalars(sa.select(Account).where(Account.organization_id == org.id))}
    errors: dict = {}
    seen: set[str] = set()
    for i, line in enumerate(lines):
        code = (line.get("account_code") or "").strip()
        if code not in known:
            add_error(errors, f"lines.{i}.account_code", f"科目 {code} 不在本组织的科目表中")
        elif code in seen:
            add_error(errors, f"lines.{i}.account_code", f"科目 {code} 重复")
        seen.add(code)
        if line.get("amount") is None or line["amount"] < 0:
            add_error(errors, f"lines.{i}.amount", "预算金额不能为负数")
    if not lines:
        add_error(errors, "lines", "请至少填写一个科目的预算")
    if errors:
        raise ValidationFailed("预算有误，请检查标出的行", errors)
    if budget is None:
        budget = Budget(organization_id=org.id, year=year, status=BudgetStatus.DRAFT)
        db.session.add(budget)
    # old lines go first: the unit of work would insert the new ones before deleting, against the unique key
    budget.lines.clear()
    db.session.flush()
    budget.lines = [BudgetLine(account_code=ln["account_code"].strip(), amount=ln["amount"]) for ln in lines]
    db.session.flush()
    audit.log("budget.lines", user=user, org=org, target=str(year))
    return budget


def approve(org: Organization, year: int, *, meeting_date: dt.date, entitled: int, present: int, votes_for: int,
            votes_against: int = 0, abstained: int = 0, reference: str = "", user: User) -> Budget:
    """Record the 成员大会 resolution; refused with the numbers when the quorum or the majority is not there."""
    if not (access.can(user, access.PREPARE, org) or access.can(user, access.REVIEW, org)):
        access.require(user, access.PREPARE, org)
    budget = _locked_budget(org, year)
    if budget is None or not budget.lines:
        raise InvalidState("请先编制预算")
    if budget.status != BudgetStatus.DRAFT:
        raise InvalidState("预算已经成员大会通过")
    errors: dict = {}
    if entitled <= 0:
        add_error(errors, "entitled", "应到人数应大于0")
    elif present > entitled:
        add_error(errors, "present", f"实到 {present} 人多于应到 {entitled} 人")
    elif Fraction(present, entitled) < QUORUM:
        add_error(errors, "present", f"实到 {present} 人，不足应到 {entitled} 人的三分之二，会议不能决议")
    if votes_for + votes_against + abstained > present:
        add_error(errors, "votes_for", f"赞成、反对、弃权合计 {votes_for + votes_against + abstained} 票，多于实到 {present} 人")
    elif entitled > 0 and Fraction(votes_for, entitled) <= MAJORITY:
        add_error(errors, "votes_for", f"赞成 {votes_for} 票，未超过全体成员 {entitled} 人的半数，预算未通过")
    if not (reference or "").strip():
        add_error(errors, "reference", "请填写会议记录（决议文号或记录编号）")
    if meeting_date.year not in (year - 1, year):
        add_error(errors, "meeting_date", f"会议日期应在 {year - 1} 或 {year} 年")
    if errors:
        raise ValidationFailed(next(iter(flatten_errors(errors).values()))[0], errors)
    budget.meeting_date, budget.entitled, budget.present = meeting_date, entitled, present
    budget.votes_for, budget.votes_against, budget.abstained = votes_for, votes_against, abstained
    budget.reference, budget.status, budget.approved_by_id = reference.strip(), BudgetStatus.APPROVED, user.id
    db.session.flush()
    audit.log("budget.approve", user=user, org=org, target=str(year))
    return budget


@dataclass
class BudgetRow:
    code: str
    name: str
    budget: Decimal
    months: list[Decimal]  # actual, January … December, on the account's normal side

    @property
    def actual(self) -> Decimal:
        return sum(self.months, ZERO)

    @property
    def variance(self) -> Decimal:
        """Actual − budget."""
        return self.actual - self.budget

    @property
    def rate(self) -> Decimal | None:
        """执行率: actual / budget, None for a zero budget."""
        return None if not self.budget else (self.actual / self.budget)


def budget_vs_actual(org: Organization, year: int, until: dt.date | None = None) -> list[BudgetRow]:
    """Each budget line against the posted movements of its account and everything below it, month by month to
    `until` (carry-over entries left out: they move the year's result, not its income or spending)."""
    budget = get_budget(org, year)
    if budget is None:
        return []
    accounts = {a.code: a for a in db.session.scalars(sa.select(Account).where(Account.organization_id == org.id))}
    d = sa.type_coerce(VoucherLine.debit, sa.BigInteger)
    c = sa.type_coerce(VoucherLine.credit, sa.BigInteger)
    q = (sa.select(Account.code, Voucher.month, sa.func.sum(d - c))
         .select_from(VoucherLine).join(Voucher, Voucher.id == VoucherLine.voucher_id)
         .join(Account, Account.id == VoucherLine.account_id)
         .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.year == year,
                Voucher.kind != "carryover", Voucher.date <= (until or dt.date(year, 12, 31)))
         .group_by(Account.code, Voucher.month))
    moved = [(code, month, from_fen(fen)) for code, month, fen in db.session.execute(q)]
    rows = []
    for line in budget.lines:
        acc = accounts.get(line.account_code)
        sign = -1 if acc is not None and acc.normal_side == "credit" else 1
        months = [ZERO] * 12
        for code, month, amount in moved:
            if codes.under(code, line.account_code):
                months[month - 1] += sign * amount
        rows.append(BudgetRow(line.account_code, acc.name if acc else "", line.amount, months))
    return rows


def disclosure_sheet(org: Organization, start: dt.date, end: dt.date) -> dict:
    """财务计划执行公开表 for the disclosure workflow (services.disclosure.BUILDERS): the approved budget of the
    period's year, line by line, with what was actually received or spent in the period and in the year to its end."""
    from coop.core.numerals import amount_in_words

    budget = get_budget(org, start.year)
    if budget is None or budget.status != BudgetStatus.APPROVED:
        raise ValidationFailed.field("kind", f"{start.year} 年的财务计划尚未经成员大会通过，不能公开")
    rows, total_budget = [], ZERO
    for r in budget_vs_actual(org, start.year, until=end):
        period = sum(r.months[start.month - 1:end.month], ZERO) if start.year == end.year else r.actual
        total_budget += r.budget
        rows.append([f"{r.code} {r.name}", f"{r.budget:.2f}", f"{period:.2f}", f"{r.actual:.2f}",
                     "" if r.rate is None else f"{(r.rate * 100).quantize(Decimal('0.1'))}%"])
    note = (f"成员大会 {budget.meeting_date.isoformat()} 通过（应到 {budget.entitled} 人，实到 {budget.present} 人，"
            f"赞成 {budget.votes_for} 票；{budget.reference}）")
    return {"columns": [N_("科目"), N_("全年预算"), N_("本期实际"), N_("本年累计实际"), N_("执行率")],
            "rows": rows + [[note, "", "", "", ""]],
            "totals": [{"label": N_("全年预算合计"), "amount": f"{total_budget:.2f}", "words": amount_in_words(total_budget)}]}
