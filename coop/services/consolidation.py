"""Consolidated statements and the 经营收益 bands of a township or the county (RULES §16), from posted vouchers.

Everything is summed in SQL over the whole scope at once — one GROUP BY over the lines of every organization,
never a loop of per-village reports — and the pure core (coop.ledger.statements, coop.ledger.consolidation)
turns the sums into lines. Each village's column is the same figure as its own statement.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from coop.core.errors import Forbidden, NotFound, ValidationFailed
from coop.core.extensions import db
from coop.ledger import codes, consolidation as core, roles as R, statements
from coop.ledger.chart import COUNTERPARTY_ACCOUNTS, DISTRIBUTIONS, UNDISTRIBUTED
from coop.models import (Account, County, DistributionPlan, JointProject, OpeningBalance, Organization, Period,
                      ProjectParticipant, ProjectReturn, ProjectReturnLine, Township, User, Voucher, VoucherLine)
from coop.models.county import DEFAULT_DOUBLING_FACTOR, DEFAULT_DOUBLING_YEARS, CountyTarget
from coop.models.ledger import PeriodStatus, VoucherStatus
from coop.core.money import ZERO, from_fen
from coop.services import access, audit, roles
from coop.services.reports import _canonical, month_end

#: organizations counted as villages in the bands (a 联营公司 or a township organization is not a village)
VILLAGE_KINDS = ("village_shareholding", "village_economic")


# ---------------------------------------------------------------- scope


@dataclass
class Scope:
    county: County
    township: Township | None
    orgs: list[Organization]

    @property
    def name(self) -> str:
        return f"{self.county.name}{self.township.name}" if self.township else self.county.name

    @property
    def ids(self) -> list[int]:
        return [o.id for o in self.orgs]

    @property
    def villages(self) -> list[Organization]:
        return [o for o in self.orgs if o.kind in VILLAGE_KINDS]


def scope(county: County, township: Township | None = None) -> Scope:
    q = (sa.select(Organization).join(Township, Township.id == Organization.township_id)
         .where(Township.county_id == county.id).order_by(Township.name, Organization.name, Organization.id))
    if township is not None:
        q = q.where(Organization.township_id == township.id)
    return Scope(county, township, list(db.session.scalars(q)))


def supervised(user: User) -> list[tuple[County, Township | None]]:
    """What the user may consolidate: a county admin the county (and its townships), a township auditor a township."""
    out: list[tuple[County, Township | None]] = []
    for ra in user.roles:
        if ra.role == "county_admin" and ra.county_id:
            out.append((db.session.get(County, ra.county_id), None))
        elif ra.role == "township_auditor" and ra.township_id:
            t = db.session.get(Township, ra.township_id)
            out.append((t.county, t))
    return out


def scope_for(user: User, county_id: int, township_id: int | None = None) -> Scope:
    """The scope asked for if the user supervises it (a county admin any township of the county; a township auditor
    only their township); else NotFound, as for a county one cannot see at all."""
    county = db.session.get(County, county_id)
    if county is None:
        raise NotFound("找不到该县")
    township = None
    if township_id is not None:
        township = db.session.get(Township, township_id)
        if township is None or township.county_id != county.id:
            raise NotFound("找不到该乡镇")
    allowed = supervised(user)
    if not any(c.id == county.id and (t is None or (township is not None and t.id == township.id))
               for c, t in allowed):
        if township is None and any(c.id == county.id for c, _ in allowed):
            raise Forbidden("只能查看本乡镇的汇总")  # another township is outside their organizations: 404
        raise NotFound("找不到该县")
    return scope(county, township)


# ---------------------------------------------------------------- consolidated statements


@dataclass
class Consolidation:
    scope: Scope
    year: int
    month: int
    #: per organization, in scope order: balance-sheet lines at the year's start and at the month's end, and the
    #: 收益及收益分配表 lines for the year to the month's end
    begin: dict[int, dict[str, Decimal]]
    end: dict[int, dict[str, Decimal]]
    income: dict[int, dict[str, Decimal]]
    items: list[core.JointItem]
    income_elimination: tuple[Decimal, Decimal]  # villages' 投资收益 from operators, operators' 向成员分配 to them
    closed: set[int]  # organizations whose books are closed through the month
    names: dict[int, str] = field(default_factory=dict)

    def _summed(self, values: dict[int, dict[str, Decimal]]) -> dict[str, Decimal]:
        return core.sum_values(values[o.id] for o in self.scope.orgs)

    def balance_sheet(self, which: str = "end") -> tuple[dict, dict, dict]:
        """(sum of the villages, eliminations, consolidated) for 'begin' or 'end'."""
        values = self.begin if which == "begin" else self.end
        total = self._summed(values)
        items = self.items if which == "end" else self.begin_items
        elim = core.balance_sheet_eliminations(items, _tops())
        return total, elim, core.minus(total, elim)

    begin_items: list[core.JointItem] = field(default_factory=list)

    def income_statement(self) -> tuple[dict, dict, dict]:
        total = self._summed(self.income)
        inc, dist = self.income_elimination
        elim = core.income_eliminations(inc, dist, roles.role(R.INVESTMENT_INCOME).top,
                                        roles.role(R.DIST_MEMBERS).default)
        return total, elim, core.minus(total, elim)


def _tops() -> dict[str, str]:
    return {"investment": roles.role(R.LONG_INVESTMENT).top, "capital": roles.role(R.CAPITAL).top,
            "receivable": roles.role(R.RECEIVABLE).top, "payable": roles.role(R.PAYABLE).top}


def consolidate(sc: Scope, year: int, month: int = 12) -> Consolidation:
    """Both statements of every organization in scope, from one GROUP BY over their posted lines to the month's end
    (conditional sums split before the year / the year without carry-over entries), one over their opening
    balances, and two small ones for earlier years' distribution plans and the 飞地抱团 returns."""
    ids = sc.ids
    ys, end = dt.date(year, 1, 1), month_end(year, month)
    accounts = {i: (org, code) for i, org, code in db.session.execute(
        sa.select(Account.id, Account.organization_id, Account.code).where(Account.organization_id.in_(ids)))} \
        if ids else {}
    d = sa.type_coerce(VoucherLine.debit, sa.BigInteger)
    c = sa.type_coerce(VoucherLine.credit, sa.BigInteger)
    in_year_nc = sa.and_(Voucher.date >= ys, Voucher.kind != "carryover")
    q = (sa.select(VoucherLine.account_id, VoucherLine.counterparty,
                   sa.func.sum(sa.case((Voucher.date < ys, d - c), else_=0)),
                   sa.func.sum(d - c),
                   sa.func.sum(sa.case((in_year_nc, d), else_=0)),
                   sa.func.sum(sa.case((in_year_nc, c), else_=0)))
         .join(Voucher, Voucher.id == VoucherLine.voucher_id)
         .where(Voucher.organization_id.in_(ids), Voucher.status == VoucherStatus.POSTED, Voucher.date <= end)
         .group_by(VoucherLine.account_id, VoucherLine.counterparty))
    if ids and db.session.get_bind().dialect.name == "postgresql":
        # the (account, counterparty) groups are few (~30 an organization) but the planner expects many and sorts
        # on disk under the default 4MB; with room it hashes in memory (county scale: 0.31 s → 0.25 s). LOCAL:
        # this transaction only.
        db.session.execute(sa.text("SET LOCAL work_mem = '32MB'"))
    rows = list(db.session.execute(q)) if ids else []
    opening = list(db.session.execute(
        sa.select(OpeningBalance.account_id, OpeningBalance.counterparty,
                  sa.func.sum(sa.type_coerce(OpeningBalance.amount, sa.BigInteger)))
        .where(OpeningBalance.organization_id.in_(ids))
        .group_by(OpeningBalance.account_id, OpeningBalance.counterparty))) if ids else []

    begin_fen: dict[int, dict[str, int]] = {i: {} for i in ids}
    end_fen: dict[int, dict[str, int]] = {i: {} for i in ids}
    mov_fen: dict[int, dict[str, list[int]]] = {i: {} for i in ids}
    by_cp: dict[tuple[int, str, str], list[int]] = {}  # (org, top, counterparty) → [begin, end] fen

    def gross_key(code: str, cp: str | None) -> str:
        return f"{code}|{cp}" if cp and codes.top(code) in COUNTERPARTY_ACCOUNTS else code

    def add(m: dict, k: str, x: int) -> None:
        if x:
            m[k] = m.get(k, 0) + x

    for acc, cp, amount in opening:
        org, code = accounts[acc]
        amount = int(amount)
        add(begin_fen[org], gross_key(code, cp), amount)
        add(end_fen[org], gross_key(code, cp), amount)
        if cp:
            v = by_cp.setdefault((org, codes.top(code), cp), [0, 0])
            v[0] += amount
            v[1] += amount
    for acc, cp, before, signed, yd, yc in rows:
        org, code = accounts[acc]
        before, signed, yd, yc = int(before), int(signed), int(yd), int(yc)
        add(begin_fen[org], gross_key(code, cp), before)
        add(end_fen[org], gross_key(code, cp), signed)
        if yd or yc:
            m = mov_fen[org].setdefault(code, [0, 0])
            m[0] += yd
            m[1] += yc
        if cp:
            v = by_cp.setdefault((org, codes.top(code), cp), [0, 0])
            v[0] += before
            v[1] += signed

    earlier = _earlier_plans(ids, ys, end, accounts)
    orgs = {o.id: o for o in sc.orgs}
    begin, end_v, income = {}, {}, {}
    for oid, org in orgs.items():
        b = _canonical(org, {k: from_fen(x) for k, x in begin_fen[oid].items()})
        e = _canonical(org, {k: from_fen(x) for k, x in end_fen[oid].items()})
        begin[oid] = statements.balance_sheet_values(b)
        end_v[oid] = statements.balance_sheet_values(e)
        mov = _canonical(org, {k: (from_fen(x), from_fen(y)) for k, (x, y) in mov_fen[oid].items()})
        income[oid] = _income_values(mov, b, earlier.get(oid, {}))

    items_end, items_begin = _joint_items(sc, by_cp, end)
    return Consolidation(sc, year, month, begin, end_v, income, items_end, _joint_income(sc, ys, end),
                         _closed_through(ids, year, month), {o.id: o.name for o in sc.orgs}, items_begin)


def _income_values(mov: dict[str, tuple[Decimal, Decimal]], begin: dict[str, Decimal],
                   earlier: dict[str, Decimal]) -> dict[str, Decimal]:
    """As services.reports._income_values, from sums already made: 本年累计 from the year's start."""
    signed = {k: a - b for k, (a, b) in mov.items()}
    appropriations = {k: a for k, (a, _) in mov.items() if codes.under(k, DISTRIBUTIONS)}
    opening_undistributed = -begin.get(UNDISTRIBUTED, ZERO)
    other_in = -signed.get(UNDISTRIBUTED, ZERO)
    for k, amount in earlier.items():
        appropriations[k] = appropriations.get(k, ZERO) - amount
        other_in -= amount
    return statements.income_values(signed, opening_undistributed, other_in, appropriations)


def _earlier_plans(ids: list[int], ys: dt.date, end: dt.date, accounts: dict) -> dict[int, dict[str, Decimal]]:
    """Per organization, the 32201 debits of distribution vouchers in the year posted for an earlier year."""
    if not ids:
        return {}
    q = (sa.select(VoucherLine.account_id, sa.func.sum(sa.type_coerce(VoucherLine.debit, sa.BigInteger)))
         .join(Voucher, Voucher.id == VoucherLine.voucher_id)
         .join(DistributionPlan, DistributionPlan.voucher_id == Voucher.id)
         .where(Voucher.organization_id.in_(ids), Voucher.status == VoucherStatus.POSTED, Voucher.date >= ys,
                Voucher.date <= end, DistributionPlan.year != ys.year)
         .group_by(VoucherLine.account_id))
    out: dict[int, dict[str, Decimal]] = {}
    raw: dict[int, dict[str, tuple[Decimal, Decimal]]] = {}
    for acc, fen in db.session.execute(q):
        org, code = accounts[acc]
        raw.setdefault(org, {})[code] = (from_fen(fen), ZERO)
    orgs = {o.id: o for o in db.session.scalars(sa.select(Organization).where(Organization.id.in_(list(raw))))}
    for oid, moved in raw.items():
        canon = _canonical(orgs[oid], moved)
        out[oid] = {k: d for k, (d, _) in canon.items() if codes.under(k, DISTRIBUTIONS) and d}
    return out


def _joint_items(sc: Scope, by_cp: dict, end: dt.date) -> tuple[list[core.JointItem], list[core.JointItem]]:
    """One item per (village, operator) pair inside the scope, at the month's end and at the year's start: the
    village's 长期投资 and 应收 for the operator's projects against the operator's 资本 and 应付 for the village
    (less what the project's guarantor, outside the scope, still owes the village: as joint.reconciliation)."""
    ids = set(sc.ids)
    if not ids:
        return [], []
    pairs: dict[tuple[int, int], list[JointProject]] = {}
    q = (sa.select(ProjectParticipant.organization_id, JointProject)
         .join(JointProject, JointProject.id == ProjectParticipant.project_id)
         .where(JointProject.county_id == sc.county.id, JointProject.operator_org_id.in_(ids),
                ProjectParticipant.organization_id.in_(ids)))
    for village_id, project in db.session.execute(q):
        pairs.setdefault((village_id, project.operator_org_id), []).append(project)
    if not pairs:
        return [], []
    ys = dt.date(end.year, 1, 1)
    guaranteed = {}
    for until, key in ((end, 1), (ys - dt.timedelta(days=1), 0)):
        gq = (sa.select(ProjectParticipant.organization_id, ProjectReturn.project_id,
                        sa.func.sum(sa.type_coerce(ProjectReturnLine.guaranteed, sa.BigInteger)))
              .join(ProjectReturn, ProjectReturn.id == ProjectReturnLine.return_id)
              .join(ProjectParticipant, ProjectParticipant.id == ProjectReturnLine.participant_id)
              .where(ProjectParticipant.organization_id.in_(ids), ProjectReturn.declared_on <= until,
                     sa.or_(ProjectReturnLine.guarantor_paid_on.is_(None), ProjectReturnLine.guarantor_paid_on > until))
              .group_by(ProjectParticipant.organization_id, ProjectReturn.project_id))
        for oid, pid, fen in db.session.execute(gq):
            guaranteed[(key, oid, pid)] = int(fen or 0)
    tops = _tops()
    names = {o.id: o.name for o in sc.orgs}
    out: tuple[list, list] = ([], [])
    for (village_id, operator_id), projects in sorted(pairs.items()):
        for k, lst in ((1, out[0]), (0, out[1])):
            def side(org, top, cps):
                return from_fen(sum(by_cp.get((org, top, cp), [0, 0])[k] for cp in cps))
            pnames = [p.name for p in projects]
            g = from_fen(sum(guaranteed.get((k, village_id, p.id), 0) for p in projects))
            item = core.JointItem(
                village_id, operator_id, "、".join(pnames),
                side(village_id, tops["investment"], pnames), side(operator_id, tops["capital"], [names[village_id]]),
                side(village_id, tops["receivable"], pnames) - g,
                side(operator_id, tops["payable"], [names[village_id]]))
            if any((item.investment, item.capital, item.receivable, item.payable)):
                lst.append(item)
    return out


def _joint_income(sc: Scope, ys: dt.date, end: dt.date) -> tuple[Decimal, Decimal]:
    """The villages' 投资收益 on the return vouchers of in-scope operators' projects (less what the guarantor owes),
    and the operators' 各项分配 debits on their side of those returns, in the year to `end` (posted only)."""
    ids = sc.ids
    if not ids:
        return ZERO, ZERO
    inside = sa.and_(JointProject.operator_org_id.in_(ids), ProjectParticipant.organization_id.in_(ids))
    d = sa.type_coerce(VoucherLine.debit, sa.BigInteger)
    c = sa.type_coerce(VoucherLine.credit, sa.BigInteger)

    def total(voucher_col, top: str, signed):
        q = (sa.select(sa.func.coalesce(sa.func.sum(signed), 0))
             .select_from(ProjectReturnLine)
             .join(ProjectParticipant, ProjectParticipant.id == ProjectReturnLine.participant_id)
             .join(JointProject, JointProject.id == ProjectParticipant.project_id)
             .join(Voucher, Voucher.id == voucher_col)
             .join(VoucherLine, VoucherLine.voucher_id == Voucher.id)
             .join(Account, Account.id == VoucherLine.account_id)
             .where(inside, Voucher.status == VoucherStatus.POSTED, Voucher.date >= ys, Voucher.date <= end,
                    Account.code.startswith(top)))
        return from_fen(db.session.scalar(q))

    income = total(ProjectReturnLine.village_voucher_id, roles.role(R.INVESTMENT_INCOME).top, c - d)
    # the part the guarantor (outside the scope) owes is income from outside: it stays
    income -= from_fen(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(sa.type_coerce(ProjectReturnLine.guaranteed, sa.BigInteger)), 0))
        .join(ProjectParticipant, ProjectParticipant.id == ProjectReturnLine.participant_id)
        .join(JointProject, JointProject.id == ProjectParticipant.project_id)
        .join(Voucher, Voucher.id == ProjectReturnLine.village_voucher_id)
        .where(inside, Voucher.status == VoucherStatus.POSTED, Voucher.date >= ys, Voucher.date <= end)))
    dist = total(ProjectReturnLine.operator_voucher_id,
                 codes.CANONICAL.convert(DISTRIBUTIONS, codes.scheme(sc.county.code_scheme)), d - c)
    return income, dist


def _closed_through(ids: list[int], year: int, month: int) -> set[int]:
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(Period.organization_id).where(
        Period.organization_id.in_(ids), Period.year == year, Period.month == month,
        Period.status == PeriodStatus.CLOSED)))


# ---------------------------------------------------------------- 经营收益 bands and the doubling


@dataclass
class Target:
    base_year: int
    factor: int
    years: int
    saved: bool  # False: the defaults, nobody has set the county's goal yet

    @property
    def target_year(self) -> int:
        return self.base_year + self.years

    @property
    def window(self) -> list[int]:
        return list(range(self.base_year, self.target_year + 1))


def target_of(county: County, today: dt.date) -> Target:
    t = db.session.scalar(sa.select(CountyTarget).where(CountyTarget.county_id == county.id))
    if t is None:
        return Target(today.year - DEFAULT_DOUBLING_YEARS, DEFAULT_DOUBLING_FACTOR, DEFAULT_DOUBLING_YEARS, False)
    return Target(t.base_year, t.factor, t.years, True)


def set_target(county: County, *, base_year: int, factor: int = DEFAULT_DOUBLING_FACTOR,
               years: int = DEFAULT_DOUBLING_YEARS, user: User) -> CountyTarget:
    if county.id not in access.administered_counties(user):
        raise Forbidden("只有县级管理员可以设定倍增目标")
    errors: dict = {}
    if not 1990 <= base_year <= 2100:
        errors["base_year"] = ["基期年度应在1990至2100之间"]
    if not 1 <= factor <= 10:
        errors["factor"] = ["倍数应在1至10之间"]
    if not 1 <= years <= 10:
        errors["years"] = ["年限应在1至10年之间"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    # the county's row first: two first settings at once queue instead of one failing on the unique key
    db.session.execute(sa.select(County.id).where(County.id == county.id).with_for_update())
    t = db.session.scalar(sa.select(CountyTarget).where(CountyTarget.county_id == county.id).with_for_update())
    if t is None:
        t = CountyTarget(county_id=county.id, base_year=base_year, factor=factor, years=years)
        db.session.add(t)
    else:
        t.base_year, t.factor, t.years = base_year, factor, years
    db.session.flush()
    audit.log("county.target", user=user, target=str(county.id))
    return t


@dataclass
class VillageTrend:
    org: Organization
    profits: dict[int, Decimal]  # year → 经营收益 (a year without posted lines is 0)
    closed: dict[int, bool]  # year → books closed through December
    base: Decimal | None
    target: Decimal | None

    def band(self, year: int) -> str:
        return core.band_of(self.profits.get(year, ZERO))

    def progress(self, year: int) -> Decimal | None:
        return core.progress(self.profits.get(year, ZERO), self.base, self.target)

    @property
    def reached(self) -> bool:
        return self.target is not None and self.profits.get(max(self.profits), ZERO) >= self.target


@dataclass
class BandReport:
    scope: Scope
    target: Target
    years: list[int]
    rows: list[VillageTrend]

    def counts(self, year: int) -> dict[str, int]:
        return core.band_counts(r.profits.get(year, ZERO) for r in self.rows)

    def total(self, year: int) -> Decimal:
        return sum((r.profits.get(year, ZERO) for r in self.rows), ZERO)

    def closed_count(self, year: int) -> int:
        return sum(1 for r in self.rows if r.closed.get(year))


def operating_profits(orgs: list[Organization], years: list[int]) -> dict[int, dict[int, Decimal]]:
    """org id → year → 经营收益 (RULES §5: 501 + 502 − 511 − 512 − 513) of posted vouchers, carry-over entries left
    out, in one GROUP BY over the scope's lines of those accounts."""
    ids = [o.id for o in orgs]
    out: dict[int, dict[int, Decimal]] = {i: {y: ZERO for y in years} for i in ids}
    if not ids or not years:
        return out
    d = sa.type_coerce(VoucherLine.debit, sa.BigInteger)
    c = sa.type_coerce(VoucherLine.credit, sa.BigInteger)
    q = (sa.select(Voucher.organization_id, Voucher.year, Account.code, sa.func.sum(d - c))
         .select_from(VoucherLine).join(Voucher, Voucher.id == VoucherLine.voucher_id)
         .join(Account, Account.id == VoucherLine.account_id)
         .where(Voucher.organization_id.in_(ids), Voucher.status == VoucherStatus.POSTED, Voucher.kind != "carryover",
                Voucher.year >= min(years), Voucher.year <= max(years),
                sa.or_(*(Account.code.startswith(t) for t in core.OPERATING_ACCOUNTS)))
         .group_by(Voucher.organization_id, Voucher.year, Account.code))
    mov: dict[tuple[int, int], dict[str, Decimal]] = {}
    for oid, year, code, fen in db.session.execute(q):
        m = mov.setdefault((oid, year), {})
        top = codes.top(code)
        m[top] = m.get(top, ZERO) + from_fen(fen)
    for (oid, year), m in mov.items():
        if year in out[oid]:
            out[oid][year] = core.operating_profit(m)
    return out


def closed_years(ids: list[int], years: list[int]) -> set[tuple[int, int]]:
    """(org id, year) of every year whose December is closed."""
    if not ids or not years:
        return set()
    return set(tuple(r) for r in db.session.execute(sa.select(Period.organization_id, Period.year).where(
        Period.organization_id.in_(ids), Period.year.in_(years), Period.month == 12,
        Period.status == PeriodStatus.CLOSED)).all())


def bands(sc: Scope, target: Target, upto: int | None = None) -> BandReport:
    """Every village's 经营收益 for the target's window (base year … target year, cut at `upto`)."""
    years = [y for y in target.window if upto is None or y <= upto]
    villages = sc.villages
    profits = operating_profits(villages, years)
    closed = closed_years([v.id for v in villages], years)
    rows = []
    for v in villages:
        p = profits[v.id]
        base = p.get(target.base_year) if target.base_year in p else None
        rows.append(VillageTrend(v, p, {y: (v.id, y) in closed for y in years}, base,
                                 core.doubling_target(base, target.factor)))
    return BandReport(sc, target, years, rows)
