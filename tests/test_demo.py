"""The demo county, built once per backend, agrees with itself: every closed month of every village balances,
and the statements tell the same story as the ledger."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
import os
import tempfile
import time

import pytest
import sqlalchemy as sa

from coop.core.extensions import db
from coop.models import Organization, RoleAssignment, User, Voucher
from coop.services import closing, periods, reports
from tests import conftest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(backend, request, _session_apps):
    """The demo built once for this module; tests only read it. The rows are wiped afterwards, as `app` does."""
    from coop.demo import build_demo

    if backend not in conftest._apps:
        url = (request.getfixturevalue("pg_url") if backend == "postgresql" else
               "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="coop-sqlite-"), "test.sqlite3"))
        conftest._apps[backend] = conftest._build_app(url)
    app = conftest._apps[backend]
    with app.app_context():
        started = time.perf_counter()
        creds = build_demo(progress=False)
        db.session.commit()
        print(f"\ndemo built on {backend} in {time.perf_counter() - started:.1f} s")
        try:
            yield app, creds
        finally:
            db.session.rollback()
            db.session.remove()
            conftest._wipe(db)


def _villages() -> list[Organization]:
    return list(db.session.scalars(sa.select(Organization).order_by(Organization.id)))


def _closed(org) -> list[tuple[int, int]]:
    return sorted(periods.closed_months(org))


def test_demo_shape(demo):
    _, creds = demo
    orgs = _villages()
    assert len(orgs) >= 4
    assert sum(o.cun_she_he_yi for o in orgs) == 1
    assert {(o.books_start_year, o.books_start_month) for o in orgs} == {(2024, 1), (2025, 1)}
    for org in orgs:
        closed = _closed(org)
        assert closed[0] == (org.books_start_year, 1) and closed[-1] == (2026, 10)
        assert len(closed) == (2026 - org.books_start_year) * 12 + 10  # no gaps
        statuses = set(db.session.scalars(sa.select(Voucher.status).where(
            Voucher.organization_id == org.id, Voucher.year == 2026, Voucher.month == 11)))
        assert statuses == {"draft", "reviewed", "posted"}
        kinds = set(db.session.scalars(sa.select(Voucher.kind).where(Voucher.organization_id == org.id)))
        assert {"normal", "red", "carryover"} <= kinds
    # roles: one accountant keeps two villages' books; every role has a login; one shared password
    roles = {r for _, r, _, _ in creds}
    assert roles == {"county_admin", "township_auditor", "accountant", "reviewer", "finance_group", "member"}
    wang = db.session.scalar(sa.select(User).where(User.username == "kj_wang"))
    assert len([r for r in wang.roles if r.role == "accountant"]) == 2
    assert len({p for *_, p in creds}) == 1 and len(creds[0][3]) >= 8
    auditors = db.session.scalar(sa.select(sa.func.count()).select_from(RoleAssignment)
                                 .where(RoleAssignment.role == "township_auditor"))
    assert auditors == 2


def test_posted_vouchers_were_reviewed_by_someone_else(demo):
    bad = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(
        Voucher.status == "posted", Voucher.kind != "carryover",
        sa.or_(Voucher.reviewer_id.is_(None), Voucher.reviewer_id == Voucher.preparer_id)))
    assert bad == 0


def test_trial_balance_balances_every_month(demo):
    for org in _villages():
        for y, m in _closed(org):
            tb = reports.trial_balance(org, y, m)
            t = tb.totals
            assert t["opening_debit"] == t["opening_credit"], (org.name, y, m)
            assert t["debit"] == t["credit"], (org.name, y, m)
            assert t["ytd_debit"] == t["ytd_credit"], (org.name, y, m)
            assert t["closing_debit"] == t["closing_credit"], (org.name, y, m)
            assert tb.balanced


def test_balance_sheet_and_income_statement_agree(demo):
    for org in _villages():
        previous_end = None
        for y, m in _closed(org):
            bs = reports.balance_sheet(org, y, m)
            for col in (0, 1):
                assert bs.value("total_assets", col) == bs.value("total_liabilities_equity", col), (org.name, y, m, col)
            inc = reports.income_statement(org, y, 1, m)
            v = {row.key: row.values[1] for row in inc.rows}  # 本年累计
            implied = (v["opening_undistributed"] + v["other_in"] + v["net_profit"]
                       - v["reserve_appropriation"] - v["cadre_reward"] - v["member_distribution"]
                       - v["other_distribution"])
            assert implied == v["closing_undistributed"]
            assert bs.value("undistributed", 1) == implied, (org.name, y, m)
            if m == 1 and previous_end is not None:  # 年初 column = last year's year-end column
                assert bs.value("total_assets", 0) == previous_end
            if m == 12:
                previous_end = bs.value("total_assets", 1)


def test_december_close_empties_pnl_and_current_year_profit(demo):
    for org in _villages():
        for y, m in _closed(org):
            if m != 12:
                continue
            bal = reports.leaf_balances(org, until=dt.date(y, 12, 31))
            left = {c: b for c, b in bal.items() if c.startswith(("5", "321", "32201"))}
            assert left == {}, (org.name, y, left)
            inc = reports.income_statement(org, y, 1, 12)
            assert -bal.get("32202", 0) == inc.value("closing_undistributed", 1)
            carry = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(
                Voucher.organization_id == org.id, Voucher.kind == "carryover", Voucher.year == y))
            assert carry >= 2


def test_2004_import_mapped_old_codes(demo):
    org = db.session.scalar(sa.select(Organization).where(Organization.books_start_year == 2024))
    from coop.services.opening import opening_balances

    ob = opening_balances(org)
    assert ob["10201"] > 0  # old 102 into the bank 明细
    assert ob["21101"] < 0 and ob["21201"] < 0 and ob["32202"] < 0  # old 202 / 211 / 322 (to the leaves chosen)
    assert not any(c.startswith("5") for c in ob)
    assert sum(ob.values()) == 0


def test_build_twice_changes_nothing(demo):
    from coop.demo import build_demo

    _, creds = demo
    counts = [db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Voucher, User, Organization)]
    assert build_demo(progress=False) == creds
    db.session.flush()
    assert [db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Voucher, User, Organization)] == counts


def test_cli_prints_credentials(demo):
    app, creds = demo
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher))
    result = app.test_cli_runner().invoke(args=["coop", "demo", "--quiet"])
    assert result.exit_code == 0, result.output
    for username, role, where, password in creds:
        line = next(l for l in result.output.splitlines() if l.split()[:1] == [username] and where in l)
        assert password in line and role in line
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == before


def test_every_module_has_something_to_show_in_real_village_books(demo):
    """Issue #14: the villages keep 明细科目 under every account the system posts to, with their posting roles
    mapped; the loan register, the county's LPR table and 贴息 policy with a paid claim, and a 飞地抱团 project with
    contributions and a declared and received return all went through the services into posted vouchers."""
    from coop.models import JointProject, Loan, LprRate, SubsidyClaim, SubsidyPolicy
    from coop.services import accounts, joint, roles

    for org in _villages():
        chart = accounts.chart(org).infos
        for top in ("101", "102", "112", "141", "201", "211", "212", "311", "502", "503", "515"):
            assert not chart[top].is_leaf, (org.name, top)
        # 内部往来 is kept per household (11301…): a system posting to it names the household's leaf
        assert [s.key for s in roles.problems(org)] in ([], ["internal"]), org.name
    loan = db.session.scalar(sa.select(Loan))
    kinds = [e.kind for e in loan.events]
    assert kinds.count("drawdown") == 2 and kinds.count("interest") == 4 and kinds.count("repayment") == 1
    assert {db.session.get(Voucher, e.voucher_id).status for e in loan.events} == {"posted"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LprRate)) >= 12
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubsidyPolicy)) >= 1
    claim = db.session.scalar(sa.select(SubsidyClaim))
    assert claim.status == "disbursed" and claim.allocated > 0
    v = db.session.get(Voucher, claim.voucher_id)
    assert v.status == "posted" and v.reviewer_id != v.preparer_id
    assert [(l.account.code, l.credit) for l in v.lines if l.credit] == [("50301", claim.allocated)]
    project = db.session.scalar(sa.select(JointProject))
    assert len(project.participants) == 3 and len(joint.contributions(project)) == 3
    rows = joint.reconciliation(project)
    investments, receivables = [r for r in rows if "141" in r.item], [r for r in rows if "112" in r.item]
    assert investments and receivables
    assert all(r.village > 0 for r in investments)
    assert all(r.village == 0 for r in receivables)  # the 2025 return declared and received
    assert all(db.session.get(Voucher, c.village_voucher_id).status == "posted" for c in joint.contributions(project))


def test_qingshi_2025_distribution_is_a_posted_plan_paid_through_its_roll(demo):
    """#15: 青石村's 2025 distribution went through the December sequence as a plan (carry-over, plan posted on
    31 December, 结账) and January paid every household through the 分红清册; nothing more is left for 2025."""
    from coop.models import DistributionPlan
    from coop.services import distribution

    org = next(o for o in _villages() if o.name.startswith("青石村"))
    (plan,) = db.session.scalars(sa.select(DistributionPlan).where(DistributionPlan.organization_id == org.id))
    assert plan.year == 2025 and plan.status == "posted" and not plan.supplementary
    v = db.session.get(Voucher, plan.voucher_id)
    assert v.date == dt.date(2025, 12, 31) and v.kind == "distribution"
    assert [c.kind for c in closing.carryover_vouchers(org, 2025)].count("carryover") >= 2
    status = distribution.dividend_status(plan)
    assert status and all(s.unpaid == 0 and s.paid == s.dividend.amount for s in status)
    figures = distribution.figures_of(plan)
    assert figures["members"] == sum((d.amount for d in plan.dividends), Decimal(0))
    # the money is gone: a second plan for 2025 finds the posted one in the books
    again = distribution.scenario(org, year=2025, record_date=dt.date(2025, 12, 31), member_pool=Decimal("100.00"))
    assert "已有记账的收益分配方案" in {i.path: i.message for i in distribution.preview(again).issues}["supplementary"]
    assert distribution.overdistributed_years(org) == []
