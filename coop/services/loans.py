"""Loans and the county 贴息 fund (RULES §9): loan events with their vouchers, claims, review, allocation, payout."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from coop.core.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.ledger import codes, roles as R
from coop.ledger.subsidy import SubsidyCalc, allocate_fund, check_fund, compute_subsidy
from coop.core.money import ZERO, format_plain
from coop.models import (County, Loan, LoanEvent, LprRate, Organization, SubsidyClaim, SubsidyPolicy, Township, User,
                      Voucher)
from coop.models.base import utcnow
from coop.models.loans import ClaimStatus
from coop.ledger.types import Entry, Line
from coop.services import access, accounts as account_service, audit, roles
from coop.services.vouchers import create_draft, write_for

COMMITTED = (ClaimStatus.ALLOCATED, ClaimStatus.DISBURSED)
#: loan term → posting role of the loan account
LOAN_TERMS = {"short": R.SHORT_LOAN, "long": R.LONG_LOAN}


# ---------------------------------------------------------------- loans


def get_loan(org: Organization, loan_id: int) -> Loan:
    return access.of_org(Loan, org, loan_id, "找不到该贷款")


def get_org_claim(org: Organization, claim_id: int) -> SubsidyClaim:
    """A claim of the village's own (the township and county steps find theirs with `get_claim`)."""
    return access.of_org(SubsidyClaim, org, claim_id, "找不到该申报")


def create_loan(org: Organization, *, lender: str, contract_no: str, principal: Decimal, annual_rate: Decimal,
                start_date: dt.date, maturity_date: dt.date, special: bool = False, term: str | None = None,
                account_code: str | None = None, bank_account: str | None = None, user: User) -> Loan:
    """Register a loan. `term` short (201 短期借款) or long (221 长期借款及应付款) picks the posting role; `account_code`
    a leaf under it (else the role's mapping); `bank_account` the cash/bank leaf its money moves through,
    remembered for its events (else the 银行存款 role)."""
    access.require(user, access.PREPARE, org)
    errors: dict = {}
    if not (lender or "").strip():
        errors["lender"] = ["请填写贷款银行"]
    if not (contract_no or "").strip():
        errors["contract_no"] = ["请填写合同编号"]
    elif db.session.scalar(sa.select(Loan.id).where(Loan.organization_id == org.id, Loan.contract_no == contract_no)):
        errors["contract_no"] = [f"合同编号 {contract_no} 已登记"]
    if principal <= 0:
        errors["principal"] = ["贷款金额必须大于零"]
    if not (Decimal(0) < annual_rate < Decimal("0.36")):
        errors["annual_rate"] = [f"年利率 {annual_rate:.4%} 不合理（应大于0且低于36%）"]
    if maturity_date <= start_date:
        errors["maturity_date"] = ["到期日必须晚于起始日"]
    account_code = (account_code or "").strip() or None
    if term is None:  # a leaf given without a term says which one
        term = "long" if account_code and codes.under(account_code, roles.role(R.LONG_LOAN).top) else "short"
    if term not in LOAN_TERMS:
        errors["term"] = ["借款期限应为短期（201）或长期（221）"]
    else:
        try:
            account_code = roles.resolve(org, LOAN_TERMS[term], chosen=account_code, field="account_code")
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if bank_account:
        try:
            bank_account = roles.resolve_money(org, bank_account, field="bank_account")
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    loan = Loan(organization_id=org.id, lender=lender.strip(), contract_no=contract_no.strip(), principal=principal,
                annual_rate=annual_rate, start_date=start_date, maturity_date=maturity_date, special=special,
                account_code=account_code, bank_account=bank_account or None)
    db.session.add(loan)
    db.session.flush()
    audit.log("loan.create", user=user, org=org, target=str(loan.id))
    return loan


def loan_role(loan: Loan) -> str:
    """The posting role of the loan's account: 短期借款 or 长期借款."""
    return R.LONG_LOAN if codes.under(loan.account_code, roles.role(R.LONG_LOAN).top) else R.SHORT_LOAN


def _loan_leaf(org: Organization, loan: Loan) -> str:
    """The loan's account; once it has gained 明细科目, the leaf its role is mapped to (remembered from then on)."""
    info = account_service.chart(org).infos.get(loan.account_code)
    if info is not None and not info.is_leaf:
        leaf = roles.resolve(org, loan_role(loan), field="account_code")
        if codes.under(leaf, loan.account_code):
            loan.account_code = leaf
            return leaf
    return roles.resolve(org, loan_role(loan), chosen=loan.account_code, field="account_code")


def principal_movements(loan: Loan) -> list[tuple[dt.date, Decimal]]:
    return [(e.date, e.amount if e.kind == "drawdown" else -e.amount) for e in loan.events
            if e.kind in ("drawdown", "repayment")]


def outstanding(loan: Loan, on: dt.date | None = None) -> Decimal:
    return sum((a for d, a in principal_movements(loan) if on is None or d <= on), ZERO)


def _loan_voucher(loan: Loan, date: dt.date, summary: str, debit: str, credit: str, amount: Decimal, user: User,
                  attachments: int = 0) -> Voucher:
    org = db.session.get(Organization, loan.organization_id)
    return create_draft(org, {"date": date, "attachment_count": attachments, "lines": [
        {"summary": summary, "account_code": debit, "debit": amount, "credit": ZERO, "counterparty": loan.lender},
        {"summary": summary, "account_code": credit, "debit": ZERO, "credit": amount, "counterparty": loan.lender},
    ]}, user=user)


def record_loan_event(loan: Loan, *, kind: str, date: dt.date, amount: Decimal, user: User,
                      bank_account: str | None = None, expense_account: str | None = None,
                      period_start: dt.date | None = None, period_end: dt.date | None = None,
                      evidence: str | None = None) -> LoanEvent:
    """放款 / 还本 / 付息 with its draft voucher (Dr 银行存款 / Cr 借款; Dr 借款 / Cr 银行存款; Dr 利息支出 / Cr 银行存款).
    `bank_account` is the cash/bank leaf (default: the one remembered on the loan, else the 银行存款 role); a leaf
    given here is remembered for the loan's next events."""
    if kind not in ("drawdown", "repayment", "interest"):
        raise ValidationFailed.field("kind", "类型应为放款、还本或付息")
    if amount <= 0:
        raise ValidationFailed.field("amount", "金额必须大于零")
    if not (loan.start_date <= date):
        raise ValidationFailed.field("date", f"日期早于贷款起始日 {loan.start_date}")
    org = db.session.get(Organization, loan.organization_id)
    money = roles.resolve_money(org, bank_account or loan.bank_account, field="bank_account")
    loan_leaf = _loan_leaf(org, loan)
    label = f"{loan.lender} {loan.contract_no}"
    if kind == "drawdown":
        if outstanding(loan) + amount > loan.principal:
            raise ValidationFailed.field("amount", f"累计放款将超过合同金额 {format_plain(loan.principal)}")
        v = _loan_voucher(loan, date, f"收到贷款 {label}", money, loan_leaf, amount, user)
    elif kind == "repayment":
        have = outstanding(loan, date)
        if amount > have:
            raise ValidationFailed.field("amount", f"还款 {format_plain(amount)} 超过 {date} 的贷款余额 {format_plain(have)}")
        v = _loan_voucher(loan, date, f"归还贷款本金 {label}", loan_leaf, money, amount, user)
    else:
        if not (evidence or "").strip():
            raise ValidationFailed.field("evidence", "付息必须附银行结息单（填写结息单编号并上传附件）")
        if not period_start or not period_end or period_end <= period_start:
            raise ValidationFailed.field("period_end", "请填写结息期间（结束日期晚于开始日期）")
        expense = roles.resolve(org, R.INTEREST_EXPENSE, chosen=expense_account, field="expense_account")
        v = _loan_voucher(loan, date, f"支付贷款利息 {label}", expense, money, amount, user, attachments=1)
    event = LoanEvent(kind=kind, date=date, amount=amount, period_start=period_start, period_end=period_end,
                      evidence=(evidence or "").strip() or None, voucher_id=v.id)
    loan.events.append(event)
    if bank_account:
        loan.bank_account = money
    db.session.flush()
    audit.log(f"loan.{kind}", user=user, target=str(loan.id), amount=format_plain(amount))
    return event


# ---------------------------------------------------------------- county policy


def _require_county_admin(user: User, county_id: int) -> None:
    if county_id not in access.administered_counties(user):
        raise Forbidden("只有县级管理员可以执行此操作")


#: RULES §9's defaults: a year's policy until the county sets its own
DEFAULT_POLICY = dict(fund=Decimal("5000000.00"), lpr_multiple=Decimal(1), share=Decimal(1), org_cap=None,
                      rule="pro_rata")


def set_policy(county: County, year: int, *, user: User, fund: Decimal = DEFAULT_POLICY["fund"],
               lpr_multiple: Decimal = DEFAULT_POLICY["lpr_multiple"], share: Decimal = DEFAULT_POLICY["share"],
               org_cap: Decimal | None = DEFAULT_POLICY["org_cap"], rule: str = DEFAULT_POLICY["rule"]) -> SubsidyPolicy:
    _require_county_admin(user, county.id)
    errors: dict = {}
    if fund < 0:
        errors["fund"] = ["资金总额不能为负数"]
    if not (Decimal(0) < lpr_multiple <= Decimal(3)):
        errors["lpr_multiple"] = ["LPR 倍数应大于0且不超过3"]
    if not (Decimal(0) < share <= Decimal(1)):
        errors["share"] = ["贴息比例应大于0且不超过100%"]
    if org_cap is not None and org_cap <= 0:
        errors["org_cap"] = ["单个组织年度上限必须大于零"]
    if rule not in ("pro_rata", "first_come"):
        errors["rule"] = ["分配方式应为按比例或先到先得"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    # under the lock approvals and the allocation take, so none runs on the parameters being changed
    policy = db.session.scalar(sa.select(SubsidyPolicy).where(SubsidyPolicy.county_id == county.id,
                                                              SubsidyPolicy.year == year).with_for_update())
    if policy is None:
        policy = SubsidyPolicy(county_id=county.id, year=year)
        db.session.add(policy)
    elif policy.allocated_at:
        raise InvalidState(f"{year}年度贴息资金已分配，不能再修改政策")
    elif (policy.lpr_multiple, policy.share, policy.org_cap, policy.rule) != (lpr_multiple, share, org_cap, rule) and (
            db.session.scalar(sa.select(SubsidyClaim.id).where(SubsidyClaim.policy_id == policy.id, SubsidyClaim.status.in_(
                (ClaimStatus.APPROVED, *COMMITTED))).limit(1))):
        # an approved claim was worked out and funded on them: changed now, the claims would be funded on other
        # terms than the rest, or (first come → pro-rata) the fund split again on top of what is committed
        raise InvalidState(f"{year}年度已有批准的申报，不能再修改LPR倍数、贴息比例、单个组织年度上限和分配方式"
                           "（资金总额仍可修改）")
    if policy.id is not None and fund < (committed := committed_amount(policy)):
        raise ValidationFailed.field("fund", f"资金总额 {format_plain(fund)} 少于已分配的 {format_plain(committed)}，"
                                             f"少 {format_plain(committed - fund)}")
    policy.fund, policy.lpr_multiple, policy.share, policy.org_cap, policy.rule = fund, lpr_multiple, share, org_cap, rule
    db.session.flush()
    audit.log("subsidy.policy", user=user, target=f"{county.id}/{year}", fund=format_plain(fund), rule=rule)
    return policy


def set_lpr(county: County, published_on: dt.date, rate: Decimal, *, user: User) -> LprRate:
    _require_county_admin(user, county.id)
    if not (Decimal(0) < rate < Decimal("0.2")):
        raise ValidationFailed.field("rate", f"LPR {rate:.4%} 不合理")
    row = db.session.scalar(sa.select(LprRate).where(LprRate.county_id == county.id, LprRate.published_on == published_on))
    if row is None:
        row = LprRate(county_id=county.id, published_on=published_on, rate=rate)
        db.session.add(row)
    row.rate = rate
    db.session.flush()
    return row


def lpr_table(county_id: int) -> list[tuple[dt.date, Decimal]]:
    return [(r.published_on, r.rate) for r in db.session.scalars(
        sa.select(LprRate).where(LprRate.county_id == county_id).order_by(LprRate.published_on))]


def policy_for_year(county_id: int, year: int, *, lock: bool = False, save: bool = False) -> SubsidyPolicy:
    """The county's 贴息 policy for the year. Where it has set none, RULES §9's defaults: unsaved for a preview;
    saved (`save`, `lock`) once a claim is filed or approved against it — the county may still change it until
    the fund is allocated."""
    q = sa.select(SubsidyPolicy).where(SubsidyPolicy.county_id == county_id, SubsidyPolicy.year == year)
    policy = db.session.scalar(q)
    if policy is None:
        if not (save or lock):
            return SubsidyPolicy(county_id=county_id, year=year, **DEFAULT_POLICY)
        # another village's claim may save the same year's defaults at once: theirs wins, the same defaults. Not a
        # savepoint: its release fires after_commit, and the audit sealer would run inside this open transaction
        t = SubsidyPolicy.__table__
        ins = (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(t)
        db.session.execute(ins.values(county_id=county_id, year=year, **DEFAULT_POLICY)
                           .on_conflict_do_nothing(index_elements=[t.c.county_id, t.c.year]))
    if lock:  # serialises approvals and allocation against the fund
        return db.session.scalar(q.with_for_update().execution_options(populate_existing=True))
    return policy if policy is not None else db.session.scalar(q)


# ---------------------------------------------------------------- claims


def interest_paid(loan: Loan, start: dt.date, end: dt.date) -> tuple[Decimal, list[LoanEvent]]:
    """Interest paid for interest periods inside [start, end), and those payments."""
    events = [e for e in loan.events if e.kind == "interest" and e.period_start and e.period_end
              and start <= e.period_start and e.period_end <= end]
    return sum((e.amount for e in events), ZERO), events


def compute_claim(loan: Loan, start: dt.date, end: dt.date,
                  claim: SubsidyClaim | None = None) -> tuple[SubsidyCalc, SubsidyPolicy]:
    """The working for [start, end), capped by the interest paid and what is left of the organization's annual
    cap after its other claims (`claim`, when refiling, does not count against itself)."""
    org = db.session.get(Organization, loan.organization_id)
    policy = policy_for_year(org.township.county_id, start.year)
    paid, _ = interest_paid(loan, start, end)
    calc = compute_subsidy(start=start, end=end, annual_rate=loan.annual_rate, movements=principal_movements(loan),
                           lpr_table=lpr_table(org.township.county_id), lpr_multiple=policy.lpr_multiple,
                           share=policy.share, interest_paid=paid)
    if policy.org_cap is not None and not calc.issues:
        used = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(sa.type_coerce(SubsidyClaim.claimed, sa.BigInteger)), 0))
            .where(SubsidyClaim.organization_id == org.id, SubsidyClaim.policy_id == policy.id,
                   SubsidyClaim.status != ClaimStatus.REJECTED, SubsidyClaim.id != (claim.id if claim else 0))) or 0
        room = max(policy.org_cap - Decimal(used) / 100, ZERO)
        calc.eligible = min(calc.eligible, room)
    return calc, policy


def check_claim(org: Organization, loan: Loan, *, start: dt.date, end: dt.date,
                claim: SubsidyClaim | None = None) -> tuple[SubsidyCalc, SubsidyPolicy]:
    """Every rule of a claim except the amount asked for: the preview shows the working only when filing could
    go through."""
    if loan.organization_id != org.id:
        raise NotFound("找不到该贷款")
    if not org.cun_she_he_yi:
        raise ValidationFailed.field("loan_id", "贴息只适用于村社合一组织的专项贷款：本组织不是村社合一")
    if not loan.special:
        raise ValidationFailed.field("loan_id", "该贷款未登记为专项贷款，不能申请贴息")
    if start < loan.start_date or end > loan.maturity_date + dt.timedelta(days=1) or end <= start:
        raise ValidationFailed.field("period_start", f"贴息期间应在贷款期限 {loan.start_date} 至 {loan.maturity_date} 之内")
    if start.year != (end - dt.timedelta(days=1)).year:
        raise ValidationFailed.field("period_end", "一次申报不能跨年度")
    overlap = db.session.scalar(sa.select(SubsidyClaim.id).where(
        SubsidyClaim.loan_id == loan.id, SubsidyClaim.status != ClaimStatus.REJECTED,
        SubsidyClaim.id != (claim.id if claim else 0),
        SubsidyClaim.period_start < end, SubsidyClaim.period_end > start))
    if overlap:
        raise ValidationFailed.field("period_start", f"贴息期间与第 {overlap} 号申报重叠（同一贷款的同一天只能申报一次）")
    _, payments = interest_paid(loan, start, end)
    if not payments:
        raise ValidationFailed.field("period_start", "该期间没有已付利息的记录（须附银行结息单）")
    if any(not e.evidence for e in payments):
        raise ValidationFailed.field("period_start", "有付息记录缺少银行结息单")
    calc, policy = compute_claim(loan, start, end, claim=claim)
    if calc.issues:
        fields = {"start": "period_start", "end": "period_end"}
        raise ValidationFailed.from_issues(replace(i, path=fields.get(i.path, i.path)) for i in calc.issues)
    return calc, policy


def file_claim(org: Organization, loan: Loan, *, start: dt.date, end: dt.date, claimed: Decimal, user: User,
               claim: SubsidyClaim | None = None) -> SubsidyClaim:
    """申报 (or, with `claim`, correct and refile a rejected claim)."""
    access.require(user, access.PREPARE, org)
    if claim is not None and claim.status != ClaimStatus.REJECTED:
        raise InvalidState("只有被退回的申报可以修改后重新申报")
    calc, policy = check_claim(org, loan, start=start, end=end, claim=claim)
    if claimed <= 0:
        raise ValidationFailed.field("claimed", "申报金额必须大于零")
    if claimed > calc.eligible:
        raise ValidationFailed.field(
            "claimed", f"申报金额 {format_plain(claimed)} 超过可贴息金额 {format_plain(calc.eligible)}，"
                       f"超出 {format_plain(claimed - calc.eligible)}")
    if policy.id is None:  # the year's defaults, saved with the first claim against them
        policy = policy_for_year(policy.county_id, policy.year, save=True)
    if claim is None:
        claim = SubsidyClaim(organization_id=org.id, loan_id=loan.id, policy_id=policy.id)
        db.session.add(claim)
    claim.policy_id = policy.id
    claim.period_start, claim.period_end, claim.interest_paid = start, end, calc.interest_paid
    claim.eligible, claim.claimed, claim.status, claim.reject_reason = calc.eligible, claimed, ClaimStatus.FILED, None
    claim.filed_by_id = user.id
    db.session.flush()
    audit.log("subsidy.file", user=user, org=org, target=str(claim.id), claimed=format_plain(claimed))
    return claim


def _claim_org(claim: SubsidyClaim) -> Organization:
    return db.session.get(Organization, claim.organization_id)


def review_claim(claim: SubsidyClaim, *, user: User, approve: bool, reason: str | None = None) -> SubsidyClaim:
    """乡镇审核: pass to the county, or send back with a reason."""
    org = _claim_org(claim)
    if "township_auditor" not in access.roles_on(user, org):
        raise Forbidden("只有乡镇经管站可以审核贴息申报")
    if claim.status != ClaimStatus.FILED:
        raise InvalidState("只有已申报的贴息可以审核")
    if approve:
        claim.status, claim.reviewed_by_id, claim.reviewed_at = ClaimStatus.REVIEWED, user.id, utcnow()
    else:
        _reject(claim, reason)
    db.session.flush()
    audit.log("subsidy.review", user=user, org=org, target=str(claim.id), approve=approve)
    return claim


def _reject(claim: SubsidyClaim, reason: str | None) -> None:
    if not (reason or "").strip():
        raise ValidationFailed.field("reason", "退回时请填写原因")
    claim.status, claim.reject_reason = ClaimStatus.REJECTED, reason.strip()


def committed_amount(policy: SubsidyPolicy) -> Decimal:
    fen = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(sa.type_coerce(SubsidyClaim.allocated, sa.BigInteger)), 0))
                            .where(SubsidyClaim.policy_id == policy.id, SubsidyClaim.status.in_(COMMITTED)))
    return Decimal(fen or 0) / 100


def approve_claim(claim: SubsidyClaim, *, user: User, approve: bool = True, reason: str | None = None) -> SubsidyClaim:
    """县级批准. Under first-come the fund is committed at once (refused beyond the fund); under pro-rata the
    county runs the allocation after approving."""
    org = _claim_org(claim)
    _require_county_admin(user, org.township.county_id)
    policy = policy_for_year(org.township.county_id, claim.period_start.year, lock=True)
    db.session.refresh(claim)
    if claim.status != ClaimStatus.REVIEWED:
        raise InvalidState("只有乡镇审核通过的申报可以批准")
    if not approve:
        _reject(claim, reason)
    else:
        # the claim was worked out on the policy when filed; the county may have changed it since (a year filed on
        # RULES §9's defaults, then set): it is approved only within what the policy now allows
        calc, _ = compute_claim(db.session.get(Loan, claim.loan_id), claim.period_start, claim.period_end, claim=claim)
        if claim.claimed > calc.eligible:
            raise ValidationFailed.field(
                "claimed", f"申报金额 {format_plain(claim.claimed)} 超过按{policy.year}年度现行贴息政策可贴息金额 "
                           f"{format_plain(calc.eligible)}（政策在申报后已修改），请退回后由村重新申报")
        if policy.rule == "first_come":
            issues = check_fund(policy.fund, committed_amount(policy), claim.claimed)
            if issues:
                raise ValidationFailed.from_issues(issues)
            claim.status, claim.allocated = ClaimStatus.ALLOCATED, claim.claimed
        else:
            if policy.allocated_at:
                raise InvalidState(f"{policy.year}年度已按比例分配完毕，不能再批准新的申报")
            claim.status = ClaimStatus.APPROVED
    claim.approved_by_id, claim.approved_at = user.id, utcnow()
    db.session.flush()
    audit.log("subsidy.approve", user=user, org=org, target=str(claim.id), approve=approve)
    return claim


def run_allocation(policy: SubsidyPolicy, *, user: User) -> dict[int, Decimal]:
    """Pro-rata: split the fund over the year's approved claims (largest remainder); each gets at most its claim."""
    _require_county_admin(user, policy.county_id)
    policy = policy_for_year(policy.county_id, policy.year, lock=True)
    if policy.rule != "pro_rata":
        raise InvalidState("先到先得方式在批准时已分配资金")
    if policy.allocated_at:
        raise InvalidState(f"{policy.year}年度已分配")
    claims = list(db.session.scalars(sa.select(SubsidyClaim).where(SubsidyClaim.policy_id == policy.id,
                                                                   SubsidyClaim.status == ClaimStatus.APPROVED)
                                     .order_by(SubsidyClaim.id)))
    if not claims:
        raise InvalidState("没有已批准待分配的申报")
    shares = allocate_fund(policy.fund, {c.id: c.claimed for c in claims})
    for c in claims:
        c.allocated, c.status = shares[c.id], ClaimStatus.ALLOCATED
    policy.allocated_at = utcnow()
    db.session.flush()
    audit.log("subsidy.allocate", user=user, target=f"{policy.county_id}/{policy.year}",
              total=format_plain(sum(shares.values(), ZERO)))
    return shares


def disburse_claim(claim: SubsidyClaim, *, date: dt.date, user: User, bank_account: str | None = None) -> Voucher:
    """拨付: record the payout and write the village's voucher Dr 银行存款 / Cr 补助收入—贴息, prepared in the name of
    the county user who disbursed; it waits for the village's review unless the village lets the county post.
    `bank_account`: the village's leaf the money arrives in (default: the loan's, else the 银行存款 role)."""
    org = _claim_org(claim)
    _require_county_admin(user, org.township.county_id)
    # a second payout of the same claim waits here, then finds it disbursed
    db.session.refresh(claim, with_for_update=True)
    if claim.status != ClaimStatus.ALLOCATED:
        raise InvalidState("只有已分配资金的申报可以拨付")
    if not claim.allocated:
        raise InvalidState("分配金额为零，无需拨付")
    money = roles.resolve_money(org, bank_account or claim.loan.bank_account, field="bank_account")
    income = roles.resolve(org, R.SUBSIDY_INCOME, field="income_account")
    summary = f"收到贷款贴息 {claim.loan.contract_no} {claim.period_start}至{claim.period_end - dt.timedelta(days=1)}"
    v = write_for(org, Entry(date, summary, (
        Line(money, debit=claim.allocated, summary=summary),
        Line(income, credit=claim.allocated, summary=summary, counterparty="贴息"),
    )), user=user, kind="normal", attachments=1)
    claim.status, claim.disbursed_on, claim.voucher_id = ClaimStatus.DISBURSED, date, v.id
    db.session.flush()
    audit.log("subsidy.disburse", user=user, org=org, target=str(claim.id), amount=format_plain(claim.allocated))
    return v


def fund_summary(policy: SubsidyPolicy) -> dict[str, Decimal]:
    """Fund used (disbursed), committed (allocated), requested (approved, awaiting allocation) and left."""
    rows = db.session.execute(
        sa.select(SubsidyClaim.status, sa.func.sum(sa.type_coerce(SubsidyClaim.allocated, sa.BigInteger)),
                  sa.func.sum(sa.type_coerce(SubsidyClaim.claimed, sa.BigInteger)))
        .where(SubsidyClaim.policy_id == policy.id).group_by(SubsidyClaim.status))
    by = {s: (Decimal(a or 0) / 100, Decimal(c or 0) / 100) for s, a, c in rows}
    used = by.get(ClaimStatus.DISBURSED, (ZERO, ZERO))[0]
    committed = used + by.get(ClaimStatus.ALLOCATED, (ZERO, ZERO))[0]
    return {"fund": policy.fund, "used": used, "committed": committed, "left": policy.fund - committed,
            "awaiting": by.get(ClaimStatus.APPROVED, (ZERO, ZERO))[1] + by.get(ClaimStatus.REVIEWED, (ZERO, ZERO))[1]
            + by.get(ClaimStatus.FILED, (ZERO, ZERO))[1]}


# ---------------------------------------------------------------- reading (pages and API)


def get_claim(user: User, claim_id: int) -> SubsidyClaim:
    """The claim if the user is assigned to its organization (directly or by township/county), else NotFound."""
    claim = db.session.get(SubsidyClaim, claim_id)
    if claim is None or not access.roles_on(user, _claim_org(claim)):
        raise NotFound("找不到该申报")
    return claim


def township_scope(user: User, county_id: int) -> list[int] | None:
    """Townships of the county whose claims the user sees: None means all (county admin); NotFound when the user
    has no county or township role there."""
    if county_id in access.administered_counties(user):
        return None
    ids = [r.township_id for r in user.roles if r.role == "township_auditor" and r.township_id]
    ids = list(db.session.scalars(sa.select(Township.id).where(Township.id.in_(ids),
                                                               Township.county_id == county_id)))
    if not ids:
        raise NotFound("找不到该县")
    return ids


def list_claims(county_id: int, *, year: int | None = None, status: str | None = None,
                township_ids: list[int] | None = None) -> list[SubsidyClaim]:
    q = (sa.select(SubsidyClaim).join(SubsidyPolicy, SubsidyPolicy.id == SubsidyClaim.policy_id)
         .join(Organization, Organization.id == SubsidyClaim.organization_id)
         .join(Township, Township.id == Organization.township_id)
         .where(SubsidyPolicy.county_id == county_id)
         .order_by(Township.name, Organization.name, SubsidyClaim.period_start, SubsidyClaim.id))
    if year is not None:
        q = q.where(SubsidyPolicy.year == year)
    if status:
        q = q.where(SubsidyClaim.status == status)
    if township_ids is not None:
        q = q.where(Organization.township_id.in_(township_ids))
    return list(db.session.scalars(q))


def claims_by_township(county_id: int, year: int) -> dict[str, dict[str, tuple[int, Decimal]]]:
    """{township name: {status: (number of claims, amount)}}; the amount is what was allocated once allocated,
    else what was claimed."""
    out: dict[str, dict[str, tuple[int, Decimal]]] = {}
    for c in list_claims(county_id, year=year):
        township = _claim_org(c).township.name
        n, amount = out.setdefault(township, {}).get(c.status, (0, ZERO))
        out[township][c.status] = (n + 1, amount + (c.allocated if c.status in COMMITTED else c.claimed))
    return out
