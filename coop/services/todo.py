"""待办: what is waiting for a user, for every role, counted with a few aggregate queries over all the user's
organizations (one per kind of work, never one per organization). Each item names the page that acts on it.

Roles and their work (RULES §12):
  reviewer          drafts to review (not the ones they prepared themselves: four eyes)
  accountant        reviewed vouchers to post, questions to answer, sheets to publish or fix, quarters to
                    disclose, distribution plans waiting for a step
  finance_group     sheets waiting for the 民主理财小组
  township_auditor  sheets waiting for the 经管站, answered questions to close, subsidy claims to review
  county_admin      answered questions they asked, subsidy claims to approve
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from coop.core import clock
from coop.core.extensions import db
from coop.core.text import N_
from coop.models import (Disclosure, DistributionPlan, Organization, SubsidyClaim, Township, User, Voucher,
                      VoucherQuestion)
from coop.models.disclosure import QuestionStatus, SheetStatus
from coop.models.distribution import PlanStatus
from coop.models.ledger import VoucherStatus
from coop.models.loans import ClaimStatus
from coop.services import access

#: key → (label, endpoint of the page that acts on it, its query args). Organization pages get org_id.
KINDS: dict[str, tuple[str, str, dict]] = {
    "review": (N_("待审核凭证"), "ledger.vouchers", {"status": "draft", "year": ""}),
    "post": (N_("待记账凭证"), "ledger.vouchers", {"status": "reviewed", "year": ""}),
    "answer": (N_("待答复质询"), "auditor.questions", {"status": "open"}),
    "close_question": (N_("待关闭质询"), "auditor.questions", {"status": "answered"}),
    "sheet_group": (N_("待民主理财小组审查的公开表"), "daily.sheets", {}),
    "sheet_township": (N_("待经管站批准的公开表"), "daily.sheets", {}),
    "sheet_publish": (N_("已批准待公开的公开表"), "disclosure.index", {}),
    "sheet_vetoed": (N_("被否决或退回的公开表"), "disclosure.index", {}),
    "disclosure_due": (N_("应公开未公开的季度"), "disclosure.index", {}),
    "claims_review": (N_("待审核的贴息申报"), "loans.review_queue", {}),
    "claims_approve": (N_("待县级审批的贴息申报"), "loans.claims", {"status": "reviewed"}),
    "plan_step": (N_("待审批或待记账的分配方案"), "distribution.index", {}),
}
#: organization menu entry → the to-do kinds its badge counts
MENU_BADGES = {
    "ledger.vouchers": ("review", "post"),
    "disclosure.index": ("sheet_group", "sheet_township", "sheet_publish", "sheet_vetoed", "disclosure_due"),
    "distribution.index": ("plan_step",),
    "auditor.questions": ("answer", "close_question"),
}


@dataclass
class TodoItem:
    key: str
    count: int
    org: Organization | None = None  # None: a queue across organizations (its page is not an organization's)
    args: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return KINDS[self.key][0]

    @property
    def endpoint(self) -> str:
        return KINDS[self.key][1]

    @property
    def url_args(self) -> dict:
        base = {"org_id": self.org.id} if self.org is not None else {}
        return {**base, **KINDS[self.key][2], **self.args}


@dataclass
class Todo:
    items: list[TodoItem]

    @property
    def total(self) -> int:
        return sum(i.count for i in self.items)

    def for_org(self, org_id: int) -> list[TodoItem]:
        return [i for i in self.items if i.org is not None and i.org.id == org_id]

    def badge(self, org_id: int, endpoint: str) -> int:
        keys = MENU_BADGES.get(endpoint, ())
        return sum(i.count for i in self.for_org(org_id) if i.key in keys)

    def by_org(self) -> list[tuple[Organization | None, list[TodoItem]]]:
        groups: dict[int | None, list[TodoItem]] = defaultdict(list)
        for i in self.items:
            groups[i.org.id if i.org else None].append(i)
        orgs = {i.org.id: i.org for i in self.items if i.org}
        keyed = sorted((k for k in groups if k is not None), key=lambda k: (orgs[k].township_id, orgs[k].name))
        return ([(None, groups[None])] if None in groups else []) + [(orgs[k], groups[k]) for k in keyed]


def _orgs_by_role(user: User) -> tuple[dict[int, Organization], dict[str, set[int]]]:
    """The user's organizations (townships loaded with them) and, per role, the ids where they hold it."""
    orgs = {o.id: o for o in db.session.scalars(
        access.visible_orgs_query(user).options(selectinload(Organization.township)))}
    by_role: dict[str, set[int]] = defaultdict(set)
    for ra in user.roles:
        for o in orgs.values():
            if (ra.organization_id == o.id or ra.township_id == o.township_id
                    or (ra.county_id is not None and ra.county_id == o.township.county_id)):
                by_role[ra.role].add(o.id)
    return orgs, by_role


def _grouped(q) -> dict[tuple, int]:
    return {tuple(row[:-1]): row[-1] for row in db.session.execute(q)}


def _quarters_due(orgs: list[Organization], today: dt.date) -> dict[int, int]:
    """Per organization: quarters that have ended without a published 收支明细 covering them (one query for all).
    The same coverage rule as disclosure.quarter_schedule."""
    if not orgs:
        return {}
    sheets: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for org_id, start, end in db.session.execute(
            sa.select(Disclosure.organization_id, Disclosure.period_start, Disclosure.period_end).where(
                Disclosure.organization_id.in_([o.id for o in orgs]), Disclosure.kind == "income_expense",
                Disclosure.status.in_((SheetStatus.PUBLISHED, SheetStatus.SUPERSEDED)),
                Disclosure.published_on.is_not(None))):
        sheets[org_id].append((start, end))
    out = {}
    for org in orgs:
        y, q = org.books_start_year, (org.books_start_month - 1) // 3 + 1
        n = 0
        while True:
            last_month = q * 3
            end = dt.date(y + (last_month == 12), 1 if last_month == 12 else last_month + 1, 1)
            if end > today:  # the quarter has not ended
                break
            for m in range(q * 3 - 2, q * 3 + 1):
                if (y, m) < (org.books_start_year, org.books_start_month):
                    continue
                first = dt.date(y, m, 1)
                last = dt.date(y + (m == 12), 1 if m == 12 else m + 1, 1) - dt.timedelta(days=1)
                if not any(s <= first and e >= last for s, e in sheets[org.id]):
                    n += 1
                    break
            y, q = (y + 1, 1) if q == 4 else (y, q + 1)
        if n:
            out[org.id] = n
    return out


def todo_for(user: User, today: dt.date | None = None) -> Todo:
    today = today or clock.today()
    orgs, by_role = _orgs_by_role(user)
    items: list[TodoItem] = []

    def add(key: str, counts: dict[int, int]):
        for org_id, n in counts.items():
            if n:
                items.append(TodoItem(key, n, orgs[org_id]))

    reviewer, accountant = by_role.get("reviewer", set()), by_role.get("accountant", set())
    if reviewer | accountant:
        rows = _grouped(
            sa.select(Voucher.organization_id, Voucher.status, Voucher.preparer_id, sa.func.count())
            .where(Voucher.organization_id.in_(reviewer | accountant),
                   Voucher.status.in_((VoucherStatus.DRAFT, VoucherStatus.REVIEWED)))
            .group_by(Voucher.organization_id, Voucher.status, Voucher.preparer_id))
        review, post = defaultdict(int), defaultdict(int)
        for (org_id, status, preparer_id), n in rows.items():
            mine = preparer_id == user.id
            if status == VoucherStatus.DRAFT and org_id in reviewer and not mine:
                review[org_id] += n
            if status == VoucherStatus.REVIEWED and org_id in accountant:
                post[org_id] += n
        add("review", review)
        add("post", post)

    supervisors = by_role.get("township_auditor", set()) | by_role.get("county_admin", set())
    if accountant or supervisors:
        rows = _grouped(
            sa.select(VoucherQuestion.organization_id, VoucherQuestion.status, VoucherQuestion.asked_by_id,
                      sa.func.count())
            .where(VoucherQuestion.organization_id.in_(accountant | supervisors),
                   VoucherQuestion.status.in_((QuestionStatus.OPEN, QuestionStatus.ANSWERED)))
            .group_by(VoucherQuestion.organization_id, VoucherQuestion.status, VoucherQuestion.asked_by_id))
        answer, close = defaultdict(int), defaultdict(int)
        auditor = by_role.get("township_auditor", set())
        for (org_id, status, asked_by_id), n in rows.items():
            mine = asked_by_id == user.id
            if status == QuestionStatus.OPEN and org_id in accountant:
                answer[org_id] += n
            # as disclosure.close_question allows: the township auditor, or whoever asked
            if status == QuestionStatus.ANSWERED and (org_id in auditor or (mine and org_id in supervisors)):
                close[org_id] += n
        add("answer", answer)
        add("close_question", close)

    group, township = by_role.get("finance_group", set()), by_role.get("township_auditor", set())
    if accountant or group or township:
        rows = _grouped(
            sa.select(Disclosure.organization_id, Disclosure.status, sa.func.count())
            .where(Disclosure.organization_id.in_(accountant | group | township),
                   Disclosure.status.in_((SheetStatus.DRAFT, SheetStatus.VETOED, SheetStatus.REVIEWED,
                                          SheetStatus.APPROVED)))
            .group_by(Disclosure.organization_id, Disclosure.status))
        wanted = {"sheet_group": (SheetStatus.DRAFT, group), "sheet_township": (SheetStatus.REVIEWED, township),
                  "sheet_publish": (SheetStatus.APPROVED, accountant), "sheet_vetoed": (SheetStatus.VETOED, accountant)}
        for key, (status, where) in wanted.items():
            add(key, {org_id: n for (org_id, s), n in rows.items() if s == status and org_id in where})
    if accountant:
        add("disclosure_due", _quarters_due([orgs[i] for i in sorted(accountant)], today))
        rows = _grouped(
            sa.select(DistributionPlan.organization_id, sa.func.count())
            .where(DistributionPlan.organization_id.in_(accountant),
                   DistributionPlan.status.in_((PlanStatus.DRAFT, PlanStatus.APPROVED)))
            .group_by(DistributionPlan.organization_id))
        add("plan_step", {org_id: n for (org_id,), n in rows.items()})

    if township:
        n = db.session.scalar(sa.select(sa.func.count()).select_from(SubsidyClaim).where(
            SubsidyClaim.organization_id.in_(township), SubsidyClaim.status == ClaimStatus.FILED))
        if n:
            items.append(TodoItem("claims_review", n))
    counties = access.administered_counties(user)
    if counties:
        n = db.session.scalar(
            sa.select(sa.func.count()).select_from(SubsidyClaim)
            .join(Organization, Organization.id == SubsidyClaim.organization_id)
            .join(Township, Township.id == Organization.township_id)
            .where(Township.county_id.in_(counties), SubsidyClaim.status == ClaimStatus.REVIEWED))
        if n:
            items.append(TodoItem("claims_approve", n))
    order = list(KINDS)
    items.sort(key=lambda i: order.index(i.key))
    return Todo(items)


def sheets_waiting(user: User) -> list[tuple[Disclosure, str]]:
    """The disclosure sheets waiting for this user's step: (sheet, 'group' | 'township'), oldest first."""
    orgs, by_role = _orgs_by_role(user)
    group, township = by_role.get("finance_group", set()), by_role.get("township_auditor", set())
    conds = []
    if group:
        conds.append(sa.and_(Disclosure.organization_id.in_(group), Disclosure.status == SheetStatus.DRAFT))
    if township:
        conds.append(sa.and_(Disclosure.organization_id.in_(township), Disclosure.status == SheetStatus.REVIEWED))
    if not conds:
        return []
    sheets = db.session.scalars(sa.select(Disclosure).where(sa.or_(*conds)).order_by(Disclosure.id))
    return [(d, "group" if d.status == SheetStatus.DRAFT else "township") for d in sheets]
