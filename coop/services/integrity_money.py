"""`coop verify` checks that money and shares never moved twice (issue #16): no holding below zero, no household
paid more dividend than it was allocated. Small functions, each returning the problems it found as sentences; the
verify command runs `check()`."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import DividendPayment, DistributionPlan, Household, HouseholdDividend, Organization, ShareAction, ShareEvent
from coop.services.distribution import reversed_vouchers


def negative_holdings() -> list[str]:
    """Every holding (holder, household, class, beneficiary) whose register sum is below zero."""
    raw = sa.type_coerce(ShareEvent.units, sa.BigInteger)
    total = sa.func.sum(raw)
    q = (sa.select(ShareAction.organization_id, ShareEvent.member_id, ShareEvent.household_id, ShareEvent.share_class,
                   ShareEvent.beneficiary_id, total)
         .join(ShareAction, ShareAction.id == ShareEvent.action_id)
         .group_by(ShareAction.organization_id, ShareEvent.member_id, ShareEvent.household_id,
                   ShareEvent.share_class, ShareEvent.beneficiary_id)
         .having(total < 0)
         .order_by(ShareAction.organization_id, ShareEvent.member_id, ShareEvent.share_class))
    names = dict(db.session.execute(sa.select(Organization.id, Organization.name)).all())
    return [f"{names.get(org_id, org_id)}：股权登记出现负数持股（成员 {member_id or '集体'}，户 {household_id or '-'}，"
            f"{share_class} {Decimal(units) / 10000} 股）"
            for org_id, member_id, household_id, share_class, _ben, units in db.session.execute(q)]


def overpaid_households() -> list[str]:
    """Every household dividend whose payments (posted or drafted, not undone by a posted red reversal) exceed what
    the plan allocated to it."""
    paid = sa.func.sum(sa.type_coerce(DividendPayment.amount, sa.BigInteger))
    q = (sa.select(DistributionPlan.organization_id, DistributionPlan.year, Household.number,
                   sa.type_coerce(HouseholdDividend.amount, sa.BigInteger), paid)
         .where(DividendPayment.voucher_id.not_in(reversed_vouchers()))
         .join(HouseholdDividend, HouseholdDividend.id == DividendPayment.dividend_id)
         .join(DistributionPlan, DistributionPlan.id == HouseholdDividend.plan_id)
         .join(Household, Household.id == HouseholdDividend.household_id)
         .group_by(DistributionPlan.organization_id, DistributionPlan.year, Household.number,
                   HouseholdDividend.id, HouseholdDividend.amount)
         .having(paid > sa.type_coerce(HouseholdDividend.amount, sa.BigInteger))
         .order_by(DistributionPlan.organization_id, DistributionPlan.year, Household.number))
    names = dict(db.session.execute(sa.select(Organization.id, Organization.name)).all())
    return [f"{names.get(org_id, org_id)} {year}年度分红：第 {number} 户应分 {Decimal(amount) / 100:.2f} 元，"
            f"已发放 {Decimal(fen) / 100:.2f} 元，超额发放"
            for org_id, year, number, amount, fen in db.session.execute(q)]


def check() -> list[str]:
    return negative_holdings() + overpaid_households()
