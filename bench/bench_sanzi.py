"""Time the 三资 month-end jobs (issue #21): monthly depreciation of 1,000 asset cards and the accruals of 1,000
contracts, in one village.

    .venv/bin/python bench/bench_sanzi.py                 # SQLite in a temp file
    .venv/bin/python bench/bench_sanzi.py --pg            # a throwaway PostgreSQL
    .venv/bin/python bench/bench_sanzi.py --n 200         # a quick run

Not a test. The setup (cards registered as an opening import, contracts registered and made effective through
coop.services.sanzi) is not timed. Timed, each with its commit: depreciate_month for one month (one voucher of
1,000 charges), the same month again (idempotent: nothing written), accrue_due on a date where every contract has
one instalment due (1,000 draft vouchers), and accrue_due again (nothing). Target: each under 2 s. Appends a dated
section to bench/RESULTS.md with the 1-minute load average (the machine is shared by other engineers).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import clock, database, load, make_app, profile_top, report  # noqa: E402


def build(n: int):
    from coop.core.extensions import db
    from coop.services import sanzi
    from tests.conftest import Books

    b = Books()
    b.lock_opening()
    for k in range(n):
        sanzi.register_asset(b.org, dict(number=f"GD-{k:05d}", name=f"设备{k}", category="fixed",
                                         use=("production", "operating", "admin")[k % 3],
                                         acquired_date=dt.date(2024, 1 + k % 12, 1 + k % 28),
                                         cost=Decimal(10000 + k) + Decimal("0.37"), life_months=60 + k % 120,
                                         residual_rate=Decimal("0.05")), user=b.accountant)
    for k in range(n):
        c = sanzi.create_contract(b.org, dict(number=f"HT-{k:05d}", kind="lease", counterparty=f"承租人{k % 97}",
                                              start_date=dt.date(2025, 1, 1 + k % 28), end_date=dt.date(2034, 12, 31),
                                              annual_amount=Decimal(3000 + k * 7) + Decimal("0.5"),
                                              frequency="annual", step_rate=Decimal("0.05"), step_years=3,
                                              democratic_date=dt.date(2024, 12, 1)), user=b.accountant)
        sanzi.activate_contract(c, user=b.accountant)
    db.session.commit()
    return b.org.id, b.accountant.id


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--db")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    with database(args.db, args.pg) as url:
        app = make_app(url)
        backend = "postgresql" if url.startswith("postgresql") else "sqlite"
        with app.app_context():
            from coop.core.extensions import db
            from coop.models import Organization, User
            from coop.services import sanzi

            org_id, user_id = build(args.n)
            rows, profiles = [], []

            def step(what, fn, expect):
                db.session.remove()
                org, user = db.session.get(Organization, org_id), db.session.get(User, user_id)
                w0, c0 = clock()
                out = fn(org, user)
                db.session.commit()
                w1, c1 = clock()
                assert expect(out), what
                rows.append((what, f"{args.n:,}", w1 - w0, c1 - c0, "", load(),
                             "< 2 s: " + ("met" if w1 - w0 < 2 else "**missed**")))

            step("depreciate_month (1 voucher)", lambda o, u: sanzi.depreciate_month(o, 2025, 6, u),
                 lambda run: len(run.lines) == args.n)
            step("depreciate_month again (idempotent)", lambda o, u: sanzi.depreciate_month(o, 2025, 6, u),
                 lambda run: run is not None)
            step("accrue_due (1 voucher per contract)", lambda o, u: sanzi.accrue_due(o, on=dt.date(2025, 1, 31), user=u),
                 lambda vs: len(vs) == args.n)
            step("accrue_due again (nothing due)", lambda o, u: sanzi.accrue_due(o, on=dt.date(2025, 1, 31), user=u),
                 lambda vs: vs == [])
            db.session.remove()
            org, user = db.session.get(Organization, org_id), db.session.get(User, user_id)
            profiles.append(("depreciate_month (a fresh month)",
                             profile_top(lambda: sanzi.depreciate_month(org, 2025, 7, user))))
            db.session.rollback()
            org, user = db.session.get(Organization, org_id), db.session.get(User, user_id)
            profiles.append(("accrue_due (the next year's instalments)",
                             profile_top(lambda: sanzi.accrue_due(org, on=dt.date(2026, 1, 31), user=user), 25)))
            db.session.rollback()
            report(rows, profiles, backend, args, f"{args.n} asset cards, {args.n} lease contracts in one village",
                   write=not args.no_write)


if __name__ == "__main__":
    main()
