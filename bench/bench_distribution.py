"""Time the year-end distribution over a 10,000-household register.

    .venv/bin/python bench/bench_distribution.py                    # SQLite in a temp file
    .venv/bin/python bench/bench_distribution.py --db URL           # any database (dropped and recreated!)
    .venv/bin/python bench/bench_distribution.py --households 2000  # a quick run

Not a test. Two parts:

1. the pure split, coop.ledger.distribution.split_member_pool, of a member pool over --households households
   (units 2–12.5 each, plus 20% 集体股) — median of --repeat, peak memory by tracemalloc;
2. through the services, as in tests/test_distribution.py: books with a 2025 result, December closed, a share
   register, a plan (member pool + 干部奖励 for two cadres), the 成员大会 approval, approve, then
   distribution.preview (median of --repeat, fresh session) and post_plan (once, with its commit).

The register is NOT built through the services: creating 10,000 households one by one and issuing a plan
(which numbers a certificate per household, each reading the whole register) would take far longer than the
thing measured. Households, members (3 a household, valid 身份证), one 'issue' ShareAction and its ShareEvent
rows are inserted in bulk through the ORM (session.execute(insert(Model), rows)); the timing of that setup is
reported too. The books, the plan and its approval go through the services.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import clock, load, make_app, profile_top, report  # noqa: E402

D = Decimal
BASE = dt.date(2024, 12, 31)


def build_register(org_id: int, user_id: int, n: int, rng: random.Random) -> tuple[int, int]:
    """Bulk ORM insert: n households × 3 members, 人口股 1 each, 农龄股 for heads, 20% 集体股. Returns (members, events)."""
    import sqlalchemy as sa

    from coop.core.extensions import db
    from coop.models import Household, Member, ShareAction, ShareEvent

    db.session.execute(sa.insert(Household), [{"organization_id": org_id, "number": f"{i + 1:05d}", "active": True}
                                              for i in range(n)])
    hh = {num: hid for num, hid in db.session.execute(
        sa.select(Household.number, Household.id).where(Household.organization_id == org_id))}
    people, seq = [], 0
    for i in range(n):
        for k, rel in enumerate(("户主", "配偶", "子")):
            seq += 1
            birth = dt.date(1950 + seq % 60, 1 + seq % 12, 1 + seq % 28)
            people.append({"organization_id": org_id, "household_id": hh[f"{i + 1:05d}"], "name": f"成员{seq}",
                           "birth_date": birth,
                           "sex": "M" if k != 1 else "F", "relation": rel, "status": "member", "_seq": seq})
    # a 3-digit sequence gives 1,000 numbers per birth date: vary the area code instead of the sequence
    for p in people:
        seq = p.pop("_seq")
        body = f"{330100 + seq // 1000:06d}{p['birth_date']:%Y%m%d}{seq % 1000:03d}"
        from stdnum.cn.ric import calc_check_digit

        p["id_number"] = body + calc_check_digit(body + "0")
    db.session.execute(sa.insert(Member), people)
    rows = db.session.execute(sa.select(Member.id, Member.household_id, Member.relation)
                              .where(Member.organization_id == org_id)).all()
    db.session.execute(sa.update(Household), [{"id": h, "head_id": m} for m, h, rel in rows if rel == "户主"])
    action = ShareAction(organization_id=org_id, date=BASE, kind="issue", reference="批量导入（基准测试）",
                         created_by_id=user_id)
    db.session.add(action)
    db.session.flush()
    events, member_units = [], D(0)
    for m, h, rel in rows:
        events.append({"action_id": action.id, "share_class": "population", "member_id": m, "household_id": h,
                       "units": D(1), "income_only": False})
        member_units += 1
        if rel == "户主":
            labour = D(rng.randint(0, 30)) * D("0.25")
            if labour:
                events.append({"action_id": action.id, "share_class": "labour", "member_id": m, "household_id": h,
                               "units": labour, "income_only": False})
                member_units += labour
    events.append({"action_id": action.id, "share_class": "collective", "units": (member_units / 4).quantize(D("0.0001")),
                   "income_only": False})
    db.session.execute(sa.insert(ShareEvent), events)
    db.session.commit()
    return len(rows), len(events)


def build_books():
    """The 2025 year of tests/test_distribution.py ×10 through the services, December closed."""
    from coop.core.extensions import db
    from tests.conftest import Books

    books = Books()
    books.lock_opening({"102": "10000000.00", "32202": "200000.00", "301": "-10200000.00"})
    p = books.post
    p("2025-03-01", ("102", "6000000.00", ""), ("501", "", "6000000.00"), summary="经营收入")
    p("2025-03-02", ("102", "320000.00", ""), ("502", "", "320000.00"), summary="飞地抱团固定收益")
    p("2025-03-03", ("511", "3100000.00", ""), ("102", "", "3100000.00"), summary="经营支出")
    p("2025-03-04", ("512", "20000.00", ""), ("102", "", "20000.00"), summary="税金")
    p("2025-03-05", ("513", "1200000.00", ""), ("102", "", "1200000.00"), summary="管理费用")
    p("2025-04-01", ("102", "580000.00", ""), ("503", "", "580000.00"), summary="补助收入")
    p("2025-04-02", ("102", "20000.00", ""), ("504", "", "20000.00"), summary="其他收入")
    p("2025-04-03", ("514", "300000.00", ""), ("102", "", "300000.00"), summary="公益支出")
    p("2025-04-04", ("515", "200000.00", ""), ("102", "", "200000.00"), summary="利息支出")
    books.close_through(2025, 12)
    db.session.commit()
    return books


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite", help="'sqlite' (a temp file) or a database URL (dropped and recreated)")
    ap.add_argument("--households", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = ap.parse_args()
    url = args.db if args.db != "sqlite" else "sqlite:///" + os.path.join(
        tempfile.mkdtemp(prefix="coop-bench-"), "bench.sqlite3")
    n = args.households
    rng = random.Random(11)
    rows, profiles = [], []

    # ---- 1. the pure split
    from coop.ledger.distribution import split_member_pool

    units = {i: D(rng.randint(8, 50)) * D("0.25") for i in range(n)}
    collective = (sum(units.values(), D(0)) / 4).quantize(D("0.0001"))
    pool = D("900000.00")
    walls, cpus = [], []
    for _ in range(args.repeat):
        w0, c0 = clock()
        split = split_member_pool(pool, units, collective)
        w1, c1 = clock()
        walls.append(w1 - w0)
        cpus.append(c1 - c0)
    assert sum(split.households.values()) + split.collective == pool
    tracemalloc.start()
    split_member_pool(pool, units, collective)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows.append(("ledger.distribution.split_member_pool (pure)", f"{n} 户 + 集体股", statistics.median(walls),
                 statistics.median(cpus), f"{peak / 2**20:.1f} MB peak", load(), "— (part of preview)"))

    # ---- 2. through the services
    import sqlalchemy as sa

    from coop.core.extensions import db
    from coop.models import DistributionPlan, HouseholdDividend, User
    from coop.services import distribution

    app = make_app(url)
    with app.app_context():
        backend = db.engine.dialect.name
        w0, c0 = clock()
        books = build_books()
        org_id, acc_id, rev_id = books.org.id, books.accountant.id, books.reviewer.id
        w1, c1 = clock()
        rows.append(("setup: books 2025 via services, close to 12月", "9 vouchers + 12 closes", w1 - w0, c1 - c0, "",
                     load(), "—"))
        w0, c0 = clock()
        n_members, n_events = build_register(org_id, acc_id, n, rng)
        w1, c1 = clock()
        rows.append(("setup: register by bulk ORM insert (not services)",
                     f"{n} 户, {n_members} people, {n_events} events", w1 - w0, c1 - c0, "", load(), "—"))

        w0, c0 = clock()
        acc, rev = db.session.get(User, acc_id), db.session.get(User, rev_id)
        plan = distribution.create_plan(
            books.org, user=acc, year=2025, name="2025年度收益分配方案", record_date=dt.date(2025, 12, 31),
            member_pool=pool, cadre_reward=D("360000.00"),
            cadres=[{"name": "书记", "start": dt.date(2020, 1, 1), "weight": D("100")},
                    {"name": "主任", "start": dt.date(2021, 1, 1), "weight": D("80")}])
        # the 村党组织 first, then the meeting with materials and notice out in time (as tests/test_distribution.py)
        distribution.record_approval(plan, step="party_proposal", date=dt.date(2025, 12, 26), reference="党支部会议记录",
                                     user=acc)
        distribution.record_approval(plan, step="assembly", date=dt.date(2026, 1, 10), reference="2026年第1号成员大会决议",
                                     entitled=3 * n, present=2 * n + 10, votes_for=2 * n + 5,
                                     materials_date=dt.date(2025, 12, 29), notice_date=dt.date(2025, 12, 31), user=acc)
        distribution.approve_plan(plan, method="assembly", user=rev)
        db.session.commit()
        plan_id = plan.id
        w1, c1 = clock()
        rows.append(("create_plan + record_approval + approve_plan", "approve runs a preview", w1 - w0, c1 - c0, "",
                     load(), "—"))

        def prev():
            p = distribution.preview(db.session.get(DistributionPlan, plan_id))
            assert p.ok, p.issues
            return p

        walls, cpus = [], []
        for _ in range(args.repeat):
            db.session.remove()
            w0, c0 = clock()
            p = prev()
            w1, c1 = clock()
            walls.append(w1 - w0)
            cpus.append(c1 - c0)
        db.session.remove()
        tracemalloc.start()
        prev()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        wall = statistics.median(walls)
        rows.append(("distribution.preview", f"{len(p.member_split.households)} 户", wall, statistics.median(cpus),
                     f"{peak / 2**20:.1f} MB peak", load(), "< 2 s" + ("" if wall < 2 else f" — MISSED by {wall - 2:.2f} s")))
        if wall >= 2:
            db.session.remove()
            profiles.append(("distribution.preview", profile_top(prev)))

        # profile first inside a savepoint that is rolled back (cProfile slows it down), then the timed real post
        def post():
            return distribution.post_plan(db.session.get(DistributionPlan, plan_id), date=dt.date(2026, 1, 15),
                                          user=db.session.get(User, acc_id))

        db.session.remove()
        sp = db.session.begin_nested()
        profiles.append(("distribution.post_plan (in a rolled-back savepoint)", profile_top(post)))
        sp.rollback()
        db.session.rollback()
        db.session.remove()
        w0, c0 = clock()
        v = post()
        db.session.commit()
        w1, c1 = clock()
        wall = w1 - w0
        n_div = db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdDividend))
        rows.append(("distribution.post_plan (+ commit)", f"voucher {v.id}, {len(v.lines)} lines (211 a household), "
                     f"{n_div} 分红清册 rows", wall, c1 - c0, "", load(),
                     "< 10 s" + ("" if wall < 10 else f" — MISSED by {wall - 10:.2f} s")))

        # every household paid at once: a 211 debit a household, one bank credit
        w0, c0 = clock()
        pay = distribution.pay_dividends(db.session.get(DistributionPlan, plan_id), household_ids=None,
                                         date=dt.date(2026, 1, 20), pay_from="102", user=db.session.get(User, acc_id))
        db.session.commit()
        w1, c1 = clock()
        rows.append(("distribution.pay_dividends (+ commit)", f"draft {pay.id}, {len(pay.lines)} lines", w1 - w0,
                     c1 - c0, "", load(), "—"))

    report(rows, profiles, backend, args, f"member pool {pool}, per share {split.per_share:.6f} (pure split)",
           write=not args.no_results)


if __name__ == "__main__":
    main()
