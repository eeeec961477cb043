"""Time the share register over a 1,000-member village: quantification preview, issue, holdings.

    .venv/bin/python bench/bench_shares.py                     # SQLite in a temp file
    .venv/bin/python bench/bench_shares.py --db URL            # any database (dropped and recreated!)
    .venv/bin/python bench/bench_shares.py --members 300       # a quick run

Not a test. Builds, through the services (members.create_household / add_member / record_membership_event,
shares.create_plan / set_member_input), a village of households of 2–5 people with valid 身份证 numbers, all
confirmed members, and a plan of 人口股 1 + 农龄股 0.05/year capped at 30 years + 20% 集体股. The setup is timed
on its own. Then times preview_plan (median of --repeat, fresh session each), issue_plan (once: it writes),
holdings(org, as_of) and household_units (median). Peak memory of preview by tracemalloc in one extra run.
Prints a table and appends a dated section to bench/RESULTS.md; the 1-minute load average is noted per step.
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

from _common import clock, load, make_app, profile_top, report  # noqa: E402

BASE = dt.date(2024, 12, 31)
TODAY = dt.date(2026, 11, 1)
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "秀英桂兰建华国强志明海燕红梅小军丽娟永刚春生玉珍"


def id_number(birth: dt.date, seq: int) -> str:
    """A valid 18-digit 居民身份证号 (area 330100 杭州市): birth date, a 3-digit sequence, stdnum's check digit."""
    from stdnum.cn.ric import calc_check_digit

    body = f"330100{birth:%Y%m%d}{seq % 1000:03d}"
    return body + calc_check_digit(body + "0")  # stdnum wants the number with a (placeholder) check digit


def build_village(n_members: int, rng: random.Random):
    """Households of 2–5 people through the services; returns (org id, plan id, n households)."""
    from coop.core.extensions import db
    from coop.services import members, shares
    from tests.conftest import Books

    books = Books()
    org, user = books.org, books.accountant
    relations = ["配偶", "子", "女", "父亲", "母亲", "孙子", "孙女"]
    people, n_households, seq = [], 0, 0
    while len(people) < n_members:
        size = min(rng.randint(2, 5), n_members - len(people)) or 1
        n_households += 1
        h = members.create_household(org, number=f"{n_households:04d}")
        surname = rng.choice(SURNAMES)
        for k in range(size):
            seq += 1
            age = rng.randint(30, 80) if k == 0 else rng.randint(1, 85)
            birth = dt.date(2024 - age, 1 + seq % 12, 1 + seq % 28)
            m = members.add_member(h, name=surname + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2]),
                                   id_number=id_number(birth, seq), relation="户主" if k == 0 else rng.choice(relations))
            people.append(m)
    for m in people:
        members.record_membership_event(m, "confirmed", date=dt.date(2024, 6, 1), evidence="2024年第1号成员大会决议",
                                        user=user, today=TODAY)
    plan = shares.create_plan(org, name="2024年折股量化", base_date=BASE, net_assets=Decimal("30000000.00"),
                              rules={"population_units": "1", "labour_units_per_year": "0.05",
                                     "labour_cap_years": 30, "collective_ratio": "0.2"},
                              approval_ref="2024年第2号成员大会决议", user=user)
    for m in people:
        if m.birth_date.year <= 2006:  # adults: 农龄 from age 18
            shares.set_member_input(plan, m, labour_start=dt.date(max(m.birth_date.year + 18, 1956), 1, 1))
    db.session.commit()
    return org.id, plan.id, n_households, books.accountant.id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite", help="'sqlite' (a temp file) or a database URL (dropped and recreated)")
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = ap.parse_args()
    url = args.db if args.db != "sqlite" else "sqlite:///" + os.path.join(
        tempfile.mkdtemp(prefix="coop-bench-"), "bench.sqlite3")

    import sqlalchemy as sa

    from coop.core.extensions import db
    from coop.models import Organization, QuantificationPlan, ShareEvent, User
    from coop.services import shares

    app = make_app(url)
    rows, profiles = [], []
    with app.app_context():
        backend = db.engine.dialect.name
        w0, c0 = clock()
        org_id, plan_id, n_households, user_id = build_village(args.members, random.Random(7))
        w1, c1 = clock()
        rows.append(("setup via services (户, 成员, 确认, 方案, 农龄)",
                     f"{args.members} people / {n_households} 户", w1 - w0, c1 - c0, "", load(),
                     f"— ({args.members / (w1 - w0):.0f} members/s)"))

        def org():
            return db.session.get(Organization, org_id)

        def plan():
            return db.session.get(QuantificationPlan, plan_id)

        def timed(what, size, fn, target, limit=None, repeat=args.repeat, trace=True):
            walls, cpus = [], []
            for _ in range(repeat):
                db.session.remove()
                w0, c0 = clock()
                fn()
                w1, c1 = clock()
                walls.append(w1 - w0)
                cpus.append(c1 - c0)
            mem = ""
            if trace:
                db.session.remove()
                tracemalloc.start()
                fn()
                mem = f"{tracemalloc.get_traced_memory()[1] / 2**20:.1f} MB peak"
                tracemalloc.stop()
            wall = statistics.median(walls)
            rows.append((what, size, wall, statistics.median(cpus), mem, load(), target))
            if limit and wall > limit:
                db.session.remove()
                profiles.append((what, profile_top(fn)))

        result = shares.preview_plan(plan())[0]
        timed("shares.preview_plan", f"{args.members} people", lambda: shares.preview_plan(plan()), "< 1 s", 1.0)

        # profile first inside a savepoint that is rolled back (cProfile slows it ~2×), then the timed real issue
        db.session.remove()
        sp = db.session.begin_nested()
        profiles.append(("shares.issue_plan (in a rolled-back savepoint)",
                         profile_top(lambda: shares.issue_plan(plan(), user=db.session.get(User, user_id)))))
        sp.rollback()
        db.session.rollback()
        db.session.remove()
        w0, c0 = clock()
        certs = shares.issue_plan(plan(), user=db.session.get(User, user_id))
        db.session.commit()
        w1, c1 = clock()
        rows.append(("shares.issue_plan (+ commit)", f"{len(certs)} certificates", w1 - w0, c1 - c0, "", load(),
                     "— (no target; a one-off)"))
        n_events = db.session.scalar(sa.select(sa.func.count()).select_from(ShareEvent))
        timed("shares.holdings(org, as_of=基准日)", f"{n_events} events", lambda: shares.holdings(org(), BASE),
              "< 0.5 s (ours)", 0.5)
        timed("shares.household_units(org)", f"{n_households} 户", lambda: shares.household_units(org()),
              "< 0.5 s (ours)", 0.5)

    report(rows, profiles, backend, args, f"{result.total_units} units, face value {result.face_value}",
           write=not args.no_results)


if __name__ == "__main__":
    main()
