"""财务公开 (RULES §10): sheets built from closed periods, reviewed, approved, published frozen with a digest.

A sheet's data is canonical JSON (sorted keys, amounts as strings); its SHA-256 is the digest printed on the sheet
and its QR code. Published sheets never change; a correction is a new version that supersedes the old one.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

import sqlalchemy as sa

from coop.core.numerals import amount_in_words
from coop.core.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.core.text import N_
from coop.models import (Account, Disclosure, DisclosureComment, DistributionPlan, Organization, OpeningBalance,
                      ProjectReturn, ProjectReturnLine, ProjectParticipant, SubsidyClaim, User, Voucher, VoucherLine,
                      RoleAssignment, VoucherQuestion)
from coop.models.base import utcnow
from coop.models.disclosure import SHEET_KINDS, QuestionStatus, SheetStatus
from coop.models.distribution import PlanStatus
from coop.models.ledger import VoucherStatus
from coop.models.loans import ClaimStatus
from coop.ledger import codes
from coop.ledger.chart import (CAPITAL_SPENDING, CASH_ACCOUNTS, CHART_2023, CLAIMS_AND_DEBTS, LOAN_ACCOUNTS, OTHER_LIABILITIES, PNL,
                            PRODUCTION_COST, RESERVE_FUND, SPECIAL_FUNDS, YISHIYIYI, chart_account)
from coop.ledger.roles import ROLE_BY_KEY, SUBSIDY_INCOME
from coop.core.money import ZERO, from_fen
from coop.services import access, audit, budgets, closing, periods, reports, shares, warnings
from coop.services.distribution import figures_of
from coop.services.sanzi import SHEET_TITLES as _SANZI_TITLES, SHEETS as _SANZI_SHEETS

SIGNATURES = (N_("制表"), N_("会计"), N_("民主理财小组"), N_("村负责人"), N_("审核单位"))


def get_sheet(org: Organization, disclosure_id: int) -> Disclosure:
    return access.of_org(Disclosure, org, disclosure_id, "找不到该公开表")


def get_question(org: Organization, question_id: int) -> VoucherQuestion:
    return access.of_org(VoucherQuestion, org, question_id, "找不到该质询")


def _s(amount: Decimal) -> str:
    return f"{Decimal(amount):.2f}"


def _total(label: str, amount: Decimal) -> dict:
    return {"label": label, "amount": _s(amount), "words": amount_in_words(amount)}


def canonical(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- sheet builders


def _posted_lines(org, start, end, code_prefixes: tuple[str, ...]):
    q = (sa.select(VoucherLine, Voucher, Account)
         .join(Voucher, Voucher.id == VoucherLine.voucher_id).join(Account, Account.id == VoucherLine.account_id)
         .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.kind != "carryover",
                Voucher.date >= start, Voucher.date <= end,
                sa.or_(*[Account.code.startswith(p) for p in code_prefixes]))
         .order_by(Voucher.date, Voucher.number, VoucherLine.seq))
    return db.session.execute(q).all()


PNL_TOPS = tuple(a.code for a in CHART_2023 if a.category == PNL)


def _income_expense(org, start, end) -> dict:
    """收支明细 (RULES §10, 各项收入、各项支出 逐项逐笔): every posted income and expense, and — each with its own
    total — capital spending (132, 151, 153; a transfer between them, such as 在建工程 → 固定资产, is not new
    spending), uses of 专项应付款 and 一事一议资金, and 生产(劳务)成本."""
    found = _posted_lines(org, start, end, PNL_TOPS + CAPITAL_SPENDING + SPECIAL_FUNDS + (PRODUCTION_COST,))
    transfers = {v.id for line, v, acc in found if codes.top(acc.code) in CAPITAL_SPENDING and line.credit}
    rows, income, expense = [], ZERO, ZERO
    extra = {N_("资本性支出合计"): ZERO, N_("专项资金使用合计"): ZERO, N_("生产(劳务)成本合计"): ZERO}
    notes = {N_("资本性支出合计"): "（资本性支出）", N_("专项资金使用合计"): "（专项资金使用）",
             N_("生产(劳务)成本合计"): "（生产成本）"}
    for line, v, acc in found:
        top, ca = codes.top(acc.code), chart_account(acc.code)
        if ca.category == PNL:
            amount = (line.credit - line.debit) if ca.income else (line.debit - line.credit)
            income += amount if ca.income else ZERO
            expense += ZERO if ca.income else amount
            rows.append([v.date.isoformat(), v.display_number, line.summary, f"{acc.code} {acc.name}",
                         _s(amount) if ca.income else "", "" if ca.income else _s(amount)])
            continue
        if not line.debit:
            continue  # raised money and completed assets are not spending
        key = (N_("资本性支出合计") if top in CAPITAL_SPENDING else N_("专项资金使用合计") if top in SPECIAL_FUNDS
               else N_("生产(劳务)成本合计"))
        if key == N_("资本性支出合计") and v.id in transfers:
            continue
        extra[key] += line.debit
        rows.append([v.date.isoformat(), v.display_number, line.summary, f"{acc.code} {acc.name}{notes[key]}",
                     "", _s(line.debit)])
    totals = [_total(N_("收入合计"), income), _total(N_("支出合计"), expense),
              _total(N_("收支相抵"), income - expense)]
    totals += [_total(k, a) for k, a in extra.items() if a]
    return {"columns": [N_("日期"), N_("凭证号"), N_("摘要"), N_("科目"), N_("收入"), N_("支出")], "rows": rows,
            "totals": totals}


def _balance_sheet(org, start, end) -> dict:
    st = reports.balance_sheet(org, end.year, end.month)
    rows = [[r.label, str(r.line_no or ""), _s(r.values[0]) if r.values else "", _s(r.values[1]) if r.values else ""]
            for r in st.rows]
    return {"columns": [N_("项目"), N_("行次"), N_("年初余额"), N_("期末余额")], "rows": rows,
            "totals": [_total(N_("资产总计"), st.value("total_assets")),
                       _total(N_("负债和所有者权益总计"), st.value("total_liabilities_equity"))]}


def _debts(org, start, end) -> dict:
    """债权债务 at the end of the period (RULES §10): 应收款, 内部往来 and 应付款 by counterparty, loans (201, 221) by
    lender, and 应付工资, 应付劳务费, 应交税费 and 专项应付款 — opening balances included, gross: a debit balance
    with one counterparty and a credit balance with another are two rows, never netted."""
    tops = CLAIMS_AND_DEBTS + LOAN_ACCOUNTS + OTHER_LIABILITIES
    balances: dict[tuple[str, str], Decimal] = {}
    names = {a.code: a.name for a in db.session.scalars(sa.select(Account).where(Account.organization_id == org.id))}
    opening_cp = getattr(OpeningBalance, "counterparty", None)
    for ob in db.session.scalars(sa.select(OpeningBalance).where(OpeningBalance.organization_id == org.id)):
        code = ob.account.code
        if codes.top(code) in tops:
            who = (getattr(ob, "counterparty", None) if opening_cp is not None else None) or names.get(code, "")
            balances[(code, who)] = balances.get((code, who), ZERO) + ob.amount
    q = (sa.select(Account.code, VoucherLine.counterparty,
                   sa.func.sum(sa.type_coerce(VoucherLine.debit, sa.BigInteger) - sa.type_coerce(VoucherLine.credit, sa.BigInteger)))
         .join(Voucher, Voucher.id == VoucherLine.voucher_id).join(Account, Account.id == VoucherLine.account_id)
         .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED, Voucher.date <= end,
                sa.or_(*[Account.code.startswith(t) for t in tops]))
         .group_by(Account.code, VoucherLine.counterparty))
    for code, cp, fen in db.session.execute(q):
        key = (code, cp or names.get(code, ""))
        balances[key] = balances.get(key, ZERO) + Decimal(fen) / 100
    rows, claims, debts = [], ZERO, ZERO
    order = {t: i for i, t in enumerate(tops)}
    for (code, who), bal in sorted(balances.items(), key=lambda kv: (order[codes.top(kv[0][0])], kv[0])):
        if bal == 0:
            continue
        if bal > 0:
            claims += bal
            rows.append(["债权", f"{code} {names.get(code, '')}", who, _s(bal)])
        else:
            debts += -bal
            rows.append(["债务", f"{code} {names.get(code, '')}", who, _s(-bal)])
    return {"columns": [N_("类别"), N_("科目"), N_("往来单位/户/贷款银行"), N_("余额")], "rows": rows,
            "totals": [_total(N_("债权合计"), claims), _total(N_("债务合计"), debts)]}


def _distribution(org, start, end) -> dict:
    """收益分配 and 分红清册: the plan's figures as posted and frozen (RULES §10), never a re-computation."""
    posted = db.session.scalars(sa.select(DistributionPlan).where(
        DistributionPlan.organization_id == org.id, DistributionPlan.status == PlanStatus.POSTED)
        .order_by(DistributionPlan.posted_at.desc()))
    plan = next((p for p in posted if start <= _posted_on(p) <= end), None)
    if plan is None:
        raise ValidationFailed.field("kind", "该期间没有已记账的收益分配方案")
    f = figures_of(plan)
    if not f:  # posted before the figures were frozen: the columns the plan kept
        f = {"distributable": plan.distributable, "reserve": plan.reserve, "cadre_reward": plan.cadre_reward,
             "members": sum((d.amount for d in plan.dividends), ZERO), "collective": plan.collective_part or ZERO,
             "other": plan.other}
        f["closing_undistributed"] = f["distributable"] - sum(
            (f[k] for k in ("reserve", "cadre_reward", "members", "collective", "other")), ZERO)
    lines = [("本年收益", "net_profit"), ("年初未分配收益", "opening_undistributed"), ("其他转入/调整", "other_in"),
             ("减：已分配", "distributed_before"), ("可分配收益", "distributable"), ("提取公积公益金", "reserve"),
             ("干部奖励分红", "cadre_reward"), ("其中代扣个人所得税", "cadre_tax"), ("向成员分配", "members"),
             ("集体股分配", "collective"), ("其他分配", "other"), ("每股取整余额", "rounding_rest"),
             ("年末未分配收益", "closing_undistributed")]
    rows = [[label, "", "", _s(f[key])] for label, key in lines
            if key in f and (f[key] or key in ("distributable", "reserve", "members", "closing_undistributed"))]
    if f.get("per_share") is not None:
        rows.append(["每股分红", "", str(f.get("total_units") or ""), _s(f["per_share"])])
    for d in sorted(plan.dividends, key=lambda d: d.household.number):
        head = d.household.head.name if d.household.head else ""
        rows.append([f"分红清册 {d.household.number}", head, f"{d.units}", _s(d.amount)])
    return {"columns": [N_("项目/户号"), N_("户主"), N_("股数"), N_("金额")], "rows": rows,
            "totals": [_total(N_("向成员分配合计"), sum((d.amount for d in plan.dividends), ZERO))],
            "plan": plan.id, "year": plan.year, "supplementary": bool(plan.supplementary)}


def _posted_on(plan: DistributionPlan) -> dt.date:
    """The date of the plan's voucher (31 December of its year in the year-end sequence)."""
    v = db.session.get(Voucher, plan.voucher_id) if plan.voucher_id else None
    return v.date if v is not None else plan.posted_at.date()


def _joint(org, start, end) -> dict:
    q = (sa.select(ProjectReturnLine, ProjectReturn)
         .join(ProjectReturn, ProjectReturn.id == ProjectReturnLine.return_id)
         .join(ProjectParticipant, ProjectParticipant.id == ProjectReturnLine.participant_id)
         .where(ProjectParticipant.organization_id == org.id, ProjectReturn.declared_on >= start,
                ProjectReturn.declared_on <= end))
    rows, total = [], ZERO
    for line, ret in db.session.execute(q):
        from coop.models import JointProject

        project = db.session.get(JointProject, ret.project_id)
        total += line.total
        rows.append([project.name, str(ret.year), _s(line.fixed), _s(line.profit_part), _s(line.guaranteed),
                     _s(line.total)])
    return {"columns": [N_("项目"), N_("年度"), N_("保底收益"), N_("分红收益"), N_("其中担保方承担"), N_("合计")],
            "rows": rows,
            "totals": [_total(N_("项目收益合计"), total)]}


def _subsidy(org, start, end) -> dict:
    rows, total = [], ZERO
    for c in db.session.scalars(sa.select(SubsidyClaim).where(
            SubsidyClaim.organization_id == org.id, SubsidyClaim.status == ClaimStatus.DISBURSED,
            SubsidyClaim.disbursed_on >= start, SubsidyClaim.disbursed_on <= end).order_by(SubsidyClaim.disbursed_on)):
        total += c.allocated
        rows.append([c.loan.lender, c.loan.contract_no, f"{c.period_start}至{c.period_end - dt.timedelta(days=1)}",
                     _s(c.interest_paid), _s(c.claimed), _s(c.allocated), c.disbursed_on.isoformat()])
    for line, v, acc in _posted_lines(org, start, end, (ROLE_BY_KEY[SUBSIDY_INCOME].top,)):
        if line.counterparty == "贴息":
            continue  # already listed from the claim
        amount = line.credit - line.debit
        total += amount
        rows.append([line.summary, v.display_number, v.date.isoformat(), "", "", _s(amount), v.date.isoformat()])
    return {"columns": [N_("贷款银行/来源"), N_("合同号/凭证号"), N_("期间"), N_("已付利息"), N_("申报"),
                        N_("拨付金额"), N_("到账日期")],
            "rows": rows, "totals": [_total(N_("政府拨付资金合计"), total)]}


def _yishiyiyi(org, start, end) -> dict:
    """一事一议 (RULES §10): money raised (一事一议资金 credits) and what it was actually spent on — each use shows the
    accounts it went to; a use that turned the money into an asset (→ 公积公益金) names the asset's voucher."""
    rows, received, used = [], ZERO, ZERO
    for line, v, acc in _posted_lines(org, start, end, (YISHIYIYI,)):
        received += line.credit
        used += line.debit
        spent_on = _spent_on(org, v, line) if line.debit else ""
        rows.append([v.date.isoformat(), v.display_number, line.summary, _s(line.credit) if line.credit else "",
                     _s(line.debit) if line.debit else "", spent_on])
    return {"columns": [N_("日期"), N_("凭证号"), N_("摘要"), N_("筹集"), N_("使用"), N_("用途")], "rows": rows,
            "totals": [_total(N_("筹集合计"), received), _total(N_("使用合计"), used)]}


def _spent_on(org, v: Voucher, use: VoucherLine) -> str:
    """What a 一事一议 use went to: the credit side of its voucher; an asset formed (→ 公积公益金) is traced to the
    latest earlier voucher that put the same amount into 固定资产/生产性生物资产 (the completed project)."""
    parts = []
    for l in v.lines:
        if not l.credit:
            continue
        code = l.account.code
        if codes.top(code) == RESERVE_FUND:
            q = (sa.select(Voucher, VoucherLine).join(VoucherLine, VoucherLine.voucher_id == Voucher.id)
                 .join(Account, Account.id == VoucherLine.account_id)
                 .where(Voucher.organization_id == org.id, Voucher.status == VoucherStatus.POSTED,
                        Voucher.date <= v.date,
                        Voucher.id != v.id, VoucherLine.debit == l.credit,
                        sa.or_(*[Account.code.startswith(t) for t in CAPITAL_SPENDING]))
                 .order_by(Voucher.date.desc(), Voucher.number.desc()).limit(1))
            found = db.session.execute(q).first()
            if found is not None:
                av, al = found
                parts.append(f"形成资产：{al.summary}（{av.date.isoformat()} {av.display_number}，{_s(al.debit)}）")
                continue
        parts.append(f"{code} {l.account.name} {_s(l.credit)}")
    return "；".join(parts)


BUILDERS: dict[str, Callable] = {
    "income_expense": _income_expense, "balance_sheet": _balance_sheet, "debts": _debts,
    "distribution": _distribution, "joint": _joint, "subsidy": _subsidy, "yishiyiyi": _yishiyiyi,
    "financial_plan": lambda org, start, end: budgets.disclosure_sheet(org, start, end),  # 财务计划 (#23)
}


def build_sheet(org: Organization, kind: str, start: dt.date, end: dt.date) -> dict:
    """The sheet's data. Only closed months can be disclosed."""
    if kind not in BUILDERS:
        raise ValidationFailed.field("kind", "公开表类型不正确")
    if end < start:
        raise ValidationFailed.field("period_end", "结束日期早于开始日期")
    closed = periods.closed_months(org)
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        if (y, m) not in closed:
            raise ValidationFailed.field("period_end", f"{y}年{m}月尚未结账，只能公开已结账期间的数据")
        y, m = periods.next_month(y, m)
    data = BUILDERS[kind](org, start, end)
    data.update({
        "kind": kind, "title": SHEET_KINDS[kind], "organization": org.name, "uscc": org.uscc or "",
        "period_start": start.isoformat(), "period_end": end.isoformat(), "signatures": list(SIGNATURES),
    })
    return data


# ---------------------------------------------------------------- workflow


def create_sheet(org: Organization, *, kind: str, start: dt.date, end: dt.date, user: User,
                 supersedes: Disclosure | None = None) -> Disclosure:
    access.require(user, access.PREPARE, org)
    data = build_sheet(org, kind, start, end)
    version = 1
    if supersedes is not None:
        if supersedes.status != SheetStatus.PUBLISHED:
            raise InvalidState("只能更正已公开的表")
        pending = db.session.scalar(sa.select(Disclosure).where(Disclosure.supersedes_id == supersedes.id))
        if pending is not None:
            raise InvalidState(f"该表已有更正版本（第 {pending.version} 版），请在其上继续办理")
        version = supersedes.version + 1
    else:
        existing = db.session.scalar(sa.select(Disclosure).where(
            Disclosure.organization_id == org.id, Disclosure.kind == kind, Disclosure.period_start == start,
            Disclosure.period_end == end))
        if existing is not None:
            raise InvalidState(f"该期间的{SHEET_KINDS[kind]}已存在（第 {existing.version} 版），如需更正请新建更正版本")
    data["version"] = version
    text = canonical(data)
    d = Disclosure(organization_id=org.id, kind=kind, period_start=start, period_end=end, version=version,
                   supersedes_id=supersedes.id if supersedes else None, data=text, digest=digest_of(text),
                   created_by_id=user.id)
    db.session.add(d)
    db.session.flush()
    audit.log("disclosure.create", user=user, org=org, target=str(d.id), kind=kind, version=version)
    return d


def _org(d: Disclosure) -> Organization:
    return db.session.get(Organization, d.organization_id)


def finance_group_review(d: Disclosure, *, user: User, approve: bool, comment: str | None = None,
                         row: int | None = None, row_comments: dict[int, str] | None = None) -> Disclosure:
    """民主理财小组: approve, or veto with comments (on the whole sheet and/or per row; rows count from 0)."""
    org = _org(d)
    if "finance_group" not in access.roles_on(user, org):
        raise Forbidden("只有民主理财小组成员可以审查公开表")
    if d.status not in (SheetStatus.DRAFT, SheetStatus.VETOED):
        raise InvalidState("只有草稿或被否决的公开表可以审查")
    notes = [(r, (t or "").strip()) for r, t in [(row, comment), *(row_comments or {}).items()]]
    notes = [(r, t) for r, t in notes if t]
    n_rows = len(json.loads(d.data).get("rows", []))
    for r, _ in notes:
        if r is not None and not 0 <= r < n_rows:
            raise ValidationFailed.field("row", f"第 {r + 1} 行不存在")
    if not approve and not notes:
        raise ValidationFailed.field("comment", "否决时必须填写意见")
    for r, t in notes:
        d.comments.append(DisclosureComment(user_id=user.id, row=r, text=t, veto=not approve))
    d.status = SheetStatus.REVIEWED if approve else SheetStatus.VETOED
    d.reviewed_by_id, d.reviewed_at = user.id, utcnow()
    db.session.flush()
    audit.log("disclosure.review", user=user, org=org, target=str(d.id), approve=approve)
    return d


def township_approve(d: Disclosure, *, user: User, approve: bool = True, comment: str | None = None) -> Disclosure:
    org = _org(d)
    if "township_auditor" not in access.roles_on(user, org):
        raise Forbidden("只有乡镇经管站可以批准公开")
    if d.status != SheetStatus.REVIEWED:
        raise InvalidState("公开表须先经民主理财小组审查通过")
    if not approve:
        if not (comment or "").strip():
            raise ValidationFailed.field("comment", "退回时必须填写意见")
        d.comments.append(DisclosureComment(user_id=user.id, text=comment.strip(), veto=True))
        d.status = SheetStatus.VETOED
    else:
        d.status, d.approved_by_id, d.approved_at = SheetStatus.APPROVED, user.id, utcnow()
    db.session.flush()
    audit.log("disclosure.approve", user=user, org=org, target=str(d.id), approve=approve)
    return d


def publish(d: Disclosure, *, user: User, date: dt.date, channel: str,
            render_pdf: Callable[[Disclosure], bytes] | None = None) -> Disclosure:
    """公开: freeze the sheet with its PDF; a correction supersedes the version it corrects."""
    org = _org(d)
    access.require(user, access.PREPARE, org)
    if d.status != SheetStatus.APPROVED:
        raise InvalidState("公开前须经民主理财小组审查和乡镇经管站批准")
    if not (channel or "").strip():
        raise ValidationFailed.field("channel", "请填写公开方式（如 村务公开栏、微信群）")
    if len(channel.strip()) > 100:
        raise ValidationFailed.field("channel", "公开方式不能超过100个字")
    if date < d.period_end:
        raise ValidationFailed.field("date", f"公开日期不能早于公开期间的结束日期 {d.period_end}")
    if digest_of(d.data) != d.digest:
        raise InvalidState("公开表数据与摘要不符，拒绝公开")
    d.status, d.published_on, d.channel = SheetStatus.PUBLISHED, date, channel.strip()
    # the names as they are today, kept: a later 会计 or 村负责人 does not sign an old sheet
    d.signers = json.dumps(signers(d, accountant=user), ensure_ascii=False)
    if render_pdf is not None:
        d.pdf = render_pdf(d)
        d.pdf_sha256 = hashlib.sha256(d.pdf).hexdigest()
    if d.supersedes is not None:
        d.supersedes.status = SheetStatus.SUPERSEDED
    db.session.flush()
    audit.log("disclosure.publish", user=user, org=org, target=str(d.id), digest=d.digest, pdf=d.pdf_sha256)
    return d


def published_cover(org: Organization, year: int, month: int) -> Disclosure | None:
    """A published sheet covering the month with no correction under way: the month cannot be reopened."""
    first = dt.date(year, month, 1)
    correction = sa.select(Disclosure.supersedes_id).where(Disclosure.supersedes_id.is_not(None))
    return db.session.scalar(sa.select(Disclosure).where(
        Disclosure.organization_id == org.id, Disclosure.status == SheetStatus.PUBLISHED,
        Disclosure.period_start <= reports.month_end(year, month), Disclosure.period_end >= first,
        Disclosure.id.not_in(correction)).limit(1))


@closing.reopen_blocker
def _published_month(org: Organization, year: int, month: int) -> str | None:
    cover = published_cover(org, year, month)
    if cover is None:
        return None
    return (f"{year}年{month}月已包含在已公开的{SHEET_KINDS[cover.kind]}（第{cover.version}版）中，"
            "请先新建该表的更正版本，再反结账")


def rebuild_sheet(d: Disclosure, *, user: User) -> Disclosure:
    """Recompute a draft (e.g. a correction after the books were fixed); reviews start over."""
    org = _org(d)
    access.require(user, access.PREPARE, org)
    if d.status not in (SheetStatus.DRAFT, SheetStatus.VETOED):
        raise InvalidState("只有草稿或被否决的公开表可以重新生成")
    data = build_sheet(org, d.kind, d.period_start, d.period_end)
    data["version"] = d.version
    d.data = canonical(data)
    d.digest = digest_of(d.data)
    d.status = SheetStatus.DRAFT
    db.session.flush()
    audit.log("disclosure.rebuild", user=user, org=org, target=str(d.id))
    return d


def verify_digest(digest: str) -> Disclosure | None:
    digest = (digest or "").strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValidationFailed.field("digest", "摘要应为64位十六进制字符")
    return db.session.scalar(sa.select(Disclosure).where(Disclosure.digest == digest,
                                                         Disclosure.status.in_((SheetStatus.PUBLISHED,
                                                                                SheetStatus.SUPERSEDED))))


def verify_pdf(data: bytes) -> Disclosure | None:
    if not data.startswith(b"%PDF"):
        raise ValidationFailed.field("file", "上传的不是 PDF 文件")
    sha = hashlib.sha256(data).hexdigest()
    return db.session.scalar(sa.select(Disclosure).where(Disclosure.pdf_sha256 == sha))


def published_sheets():
    """SELECT of every sheet that was ever published (still current or superseded)."""
    return sa.select(Disclosure).where(Disclosure.status.in_((SheetStatus.PUBLISHED,
                                                              SheetStatus.SUPERSEDED))).order_by(Disclosure.id)


def verify_sheet(d: Disclosure) -> list[str]:
    """Recompute one published sheet's digest from its stored data (and its PDF's); describe each mismatch."""
    problems = []
    if digest_of(d.data) != d.digest:
        problems.append(f"公开表 {d.id}（{SHEET_KINDS.get(d.kind, d.kind)} {d.period_start}至{d.period_end} 第{d.version}版）"
                        "的数据与公开时的摘要不符")
    if d.pdf is not None and hashlib.sha256(d.pdf).hexdigest() != d.pdf_sha256:
        problems.append(f"公开表 {d.id} 的 PDF 与公开时不符")
    return problems


def verify_published() -> list[str]:
    """Every mismatch of every published sheet, described."""
    return [p for d in db.session.scalars(published_sheets()) for p in verify_sheet(d)]


def due_date(org: Organization, year: int, quarter: int) -> dt.date:
    end = reports.month_end(year, quarter * 3)
    return end + dt.timedelta(days=org.county.disclosure_due_days)


@dataclass
class QuarterDue:
    year: int
    quarter: int
    due: dt.date
    #: when the whole quarter was covered by published 收支明细 (one quarterly sheet or monthly ones), else None
    published_on: dt.date | None

    @property
    def late(self) -> bool:
        return self.published_on is not None and self.published_on > self.due


def quarter_schedule(org: Organization, today: dt.date) -> list[QuarterDue]:
    """Every quarter from the start of the books up to today's, with its due date and publication."""
    sheets = db.session.execute(sa.select(Disclosure.period_start, Disclosure.period_end, Disclosure.published_on)
                                .where(Disclosure.organization_id == org.id, Disclosure.kind == "income_expense",
                                       Disclosure.status.in_((SheetStatus.PUBLISHED, SheetStatus.SUPERSEDED)))).all()
    out = []
    y, q = org.books_start_year, (org.books_start_month - 1) // 3 + 1
    while dt.date(y, q * 3 - 2, 1) <= today:
        published: dt.date | None = dt.date.min
        for m in range(q * 3 - 2, q * 3 + 1):
            if (y, m) < (org.books_start_year, org.books_start_month):
                continue  # a quarter the books start in the middle of
            first, last = dt.date(y, m, 1), reports.month_end(y, m)
            dates = [p for s, e, p in sheets if s <= first and e >= last and p is not None]
            published = max(published, min(dates)) if dates and published else None
        out.append(QuarterDue(y, q, due_date(org, y, q), published))
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


def overdue_quarters(org: Organization, today: dt.date) -> list[tuple[int, int]]:
    """Quarters past their due date whose 收支明细 is not published."""
    return [(x.year, x.quarter) for x in quarter_schedule(org, today) if x.due < today and x.published_on is None]


@warnings.rule(50)
def _disclosure_overdue(org: Organization, today: dt.date) -> list[warnings.Warning]:
    late = overdue_quarters(org, today)
    if not late:
        return []
    return [warnings.Warning("disclosure_overdue", "red", N_("财务公开逾期"), [
        N_("%(y)s年第%(q)s季度收支明细应于 %(due)s 前公开", y=y, q=q, due=due_date(org, y, q)) for y, q in late])]


# ---------------------------------------------------------------- questions on vouchers


def ask_question(org: Organization, voucher: Voucher, *, text: str, user: User) -> VoucherQuestion:
    if "township_auditor" not in access.roles_on(user, org) and "county_admin" not in access.roles_on(user, org):
        raise Forbidden("只有乡镇经管站或县级管理员可以提出质询")
    if voucher.organization_id != org.id:
        raise NotFound("找不到该凭证")
    if not (text or "").strip():
        raise ValidationFailed.field("question", "请填写问题")
    q = VoucherQuestion(organization_id=org.id, voucher_id=voucher.id, asked_by_id=user.id, question=text.strip())
    db.session.add(q)
    db.session.flush()
    audit.log("question.ask", user=user, org=org, target=str(voucher.id))
    return q


def check_answer(q: VoucherQuestion, *, text: str, user: User) -> Organization:
    """Refuses an answer `user` may not give, to a closed question, or an empty one; the question's organization."""
    org = db.session.get(Organization, q.organization_id)
    access.require(user, access.PREPARE, org)
    if q.status == QuestionStatus.CLOSED:
        raise InvalidState("该质询已关闭")
    if not (text or "").strip():
        raise ValidationFailed.field("answer", "请填写答复")
    return org


def answer_question(q: VoucherQuestion, *, text: str, user: User) -> VoucherQuestion:
    org = check_answer(q, text=text, user=user)
    q.answer, q.answered_by_id, q.answered_at, q.status = text.strip(), user.id, utcnow(), QuestionStatus.ANSWERED
    db.session.flush()
    audit.log("question.answer", user=user, org=org, target=str(q.id))
    return q


def close_question(q: VoucherQuestion, *, user: User) -> VoucherQuestion:
    org = db.session.get(Organization, q.organization_id)
    if q.asked_by_id != user.id and "township_auditor" not in access.roles_on(user, org):
        raise Forbidden("只有提问的经管站可以关闭质询")
    if q.status != QuestionStatus.ANSWERED:
        raise InvalidState("只有已答复的质询可以关闭")
    q.status = QuestionStatus.CLOSED
    db.session.flush()
    audit.log("question.close", user=user, org=org, target=str(q.id))
    return q




BUILDERS.update(_SANZI_SHEETS), SHEET_KINDS.update(_SANZI_TITLES)  # 三资 sheets (#21)


# ---------------------------------------------------------------- what the printed sheet and its charts show


def signers(d: Disclosure, accountant: User | None = None) -> list[tuple[str, str]]:
    """(制表, name) … (审核单位, name): whoever did each step, where the system knows it — as published, once
    the sheet is."""
    if d.signers:
        return [(label, name) for label, name in json.loads(d.signers)]
    org = db.session.get(Organization, d.organization_id)

    def name(user_id):
        u = db.session.get(User, user_id) if user_id else None
        return u.display_name if u else ""

    def holders(role):
        return "、".join(db.session.scalars(sa.select(User.display_name).join(RoleAssignment).where(
            RoleAssignment.organization_id == org.id, RoleAssignment.role == role).order_by(User.id)))

    auditor = name(d.approved_by_id)
    return [
        (N_("制表"), name(d.created_by_id)),
        (N_("会计"), accountant.display_name if accountant else holders("accountant")),
        (N_("民主理财小组"), name(d.reviewed_by_id)),
        (N_("村负责人"), org.legal_representative or holders("reviewer")),
        (N_("审核单位"), f"{org.township.name}经管站" + (f"（{auditor}）" if auditor else "")),
    ]


def month_figures(org: Organization, months: list[tuple[int, int]]) -> dict[tuple[int, int], dict]:
    """(year, month) → income, expense and month-end cash (101 + 102), for closed months only."""
    closed = periods.closed_months(org)
    wanted = [ym for ym in months if ym in closed]
    if not wanted:
        return {}
    first = min(wanted)
    start = dt.date(first[0], first[1], 1)
    # opening balances plus everything posted before the first month shown
    cash = sum((v for c, v in reports.leaf_balances(org, until=start - dt.timedelta(days=1)).items()
                if c.startswith(CASH_ACCOUNTS)), ZERO)
    q = (sa.select(Voucher.year, Voucher.month, Account.code, Voucher.kind,
                   sa.func.sum(sa.type_coerce(VoucherLine.debit, sa.BigInteger)),
                   sa.func.sum(sa.type_coerce(VoucherLine.credit, sa.BigInteger)))
         .join(Voucher, Voucher.id == VoucherLine.voucher_id).join(Account, Account.id == VoucherLine.account_id)
         .where(Voucher.organization_id == org.id, Voucher.status == "posted", Voucher.date >= start,
                Voucher.date <= reports.month_end(*max(wanted)),
                sa.or_(*[Account.code.startswith(t) for t in PNL_TOPS + CASH_ACCOUNTS]))
         .group_by(Voucher.year, Voucher.month, Account.code, Voucher.kind))
    moves: dict[tuple[int, int], dict] = {}
    for y, m, code, kind, debit, credit in db.session.execute(q):
        f = moves.setdefault((y, m), {"income": ZERO, "expense": ZERO, "cash": ZERO})
        debit, credit = from_fen(debit or 0), from_fen(credit or 0)
        if code.startswith(CASH_ACCOUNTS):
            f["cash"] += debit - credit
        elif kind != "carryover":  # year-end closing entries are not income or expense
            if chart_account(code).income:
                f["income"] += credit - debit
            else:
                f["expense"] += debit - credit
    out = {}
    ym = first
    while ym <= max(wanted):
        f = moves.get(ym, {"income": ZERO, "expense": ZERO, "cash": ZERO})
        cash += f["cash"]
        if ym in closed:
            out[ym] = {"income": f["income"], "expense": f["expense"], "cash": cash}
        ym = periods.next_month(*ym)
    return out


def dividend_per_share(org: Organization) -> list[tuple[int, Decimal]]:
    """(year, 每股分红) of every posted distribution plan: the per-share amount frozen when it posted (older plans:
    the member pool over all shares on the record date); a 补充分配 adds to its year."""
    out: list[tuple[int, Decimal]] = []
    for plan in db.session.scalars(sa.select(DistributionPlan).where(
            DistributionPlan.organization_id == org.id, DistributionPlan.status == "posted",
            DistributionPlan.member_pool > 0).order_by(DistributionPlan.year, DistributionPlan.id)):
        frozen = figures_of(plan).get("per_share") if plan.figures else None
        if frozen is not None:
            if out and out[-1][0] == plan.year:
                out[-1] = (plan.year, out[-1][1] + frozen)
            else:
                out.append((plan.year, frozen))
            continue
        households, collective = shares.dividend_units(org, plan.record_date)
        total = sum(households.values(), Decimal(0)) + collective
        if total:
            out.append((plan.year, (plan.member_pool / total).quantize(Decimal("0.01"))))
    return out
