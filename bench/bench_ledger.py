"""Time the demo build and the ledger reports over a village with ~10,000 posted vouchers.

    .venv/bin/python bench/bench_ledger.py              # SQLite in a temp file
    .venv/bin/python bench/bench_ledger.py --pg         # a throwaway PostgreSQL (tests/pg.py)
    .venv/bin/python bench/bench_ledger.py --db URL     # any database (it is dropped and recreated!)

Not a test: it prints a table of wall and CPU seconds. Report timings are the median of --repeat runs with
tracing off; the peak memory of a report is measured by tracemalloc in one more run. Builds run once: their memory column is the
growth of the process's peak RSS, since tracemalloc would slow a build down several times.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pad as _pad, width as _width  # noqa: E402


def build_busy_village(target: int):
    """A demo-style village whose months also carry many small bank receipts and payments (10201 is busy)."""
    import math

    from coop import demo
    from coop.core.extensions import db
    from coop.services import orgs, users

    class Busy(demo.VillageBooks):
        extra = 0

        def _plan(self, y, m):
            super()._plan(y, m)
            for i in range(self.extra):
                day = dt.date(y, m, 1 + i % 28)
                hh = f"113{1 + i % len(self.spec.households):02d}"
                a = self.amount(50, 3000)
                kind = i % 4
                if kind == 0:
                    self.post(day, "收取村民水费", {"10201": a}, {"50102": a})
                elif kind == 1:
                    self.post(day, "支付保洁及零星劳务费", {"51402": a}, {"10201": a})
                elif kind == 2:
                    self.post(day, "代收代付农户款项", {"10201": a}, {hh: a})
                else:
                    self.post(day, "代收代付农户款项（付出）", {hh: a}, {"10201": a})

    county = orgs.create_county("基准测试县")
    township = orgs.create_township(county, "基准镇")
    spec = demo.VILLAGES[0]
    org = orgs.create_organization(township, name="繁忙村股份经济合作社", books_start_year=2025,
                                   cun_she_he_yi=True)
    acc = users.create_user("bench_kj", "基准会计", "password1")
    rev = users.create_user("bench_sh", "基准审核", "password1")
    users.assign_role(acc, "accountant", org)
    users.assign_role(rev, "reviewer", org)
    keeper = Busy(org, spec, acc, rev)
    keeper.setup()
    months = list(demo.months((2025, 1), demo.LAST_CLOSED))
    keeper.extra = max(0, math.ceil(target / len(months)) - 14)  # the demo's own business is ~14 vouchers a month
    for y, m in months:
        keeper.month(y, m)
        keeper.close(y, m)
    db.session.commit()
    return org.id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="database URL (dropped and recreated)")
    ap.add_argument("--pg", action="store_true", help="start a throwaway PostgreSQL for the run")
    ap.add_argument("--vouchers", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    server = None
    url = args.db
    if args.pg:
        from tests.pg import ThrowawayPostgres, find_pg_bin

        server = ThrowawayPostgres(find_pg_bin())
        url = server.start()
    url = url or "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="coop-bench-"), "bench.sqlite3")
    try:
        run(url, args)
    finally:
        if server:
            server.stop()


def run(url: str, args) -> None:
    import sqlalchemy as sa

    from coop import create_app
    from coop.core.extensions import db
    from coop.models import Organization, Voucher
    from coop.services import reports

    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=url)
    rows: list[tuple] = []  # (what, size, wall seconds, cpu seconds, memory, target)

    def rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def clock() -> tuple[float, float]:
        # wall and this process's CPU: on a loaded machine the CPU time is the steadier figure
        return time.perf_counter(), time.process_time()

    with app.app_context():
        db.drop_all()
        db.create_all()
        backend = db.engine.dialect.name
        sqlite = backend == "sqlite"

        from coop.demo import build_demo

        before, (w0, c0) = rss_mb(), clock()
        build_demo(progress=False)
        db.session.commit()
        (w1, c1) = clock()
        n_demo = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher))
        rows.append(("build demo (4 villages, closed to 2026-10)", f"{n_demo} vouchers", w1 - w0, c1 - c0,
                     f"+{rss_mb() - before:.0f} MB RSS", "< 20 s" if sqlite else "< 30 s"))
        db.session.remove()

        before, (w0, c0) = rss_mb(), clock()
        org_id = build_busy_village(args.vouchers)
        (w1, c1) = clock()
        n = db.session.scalar(sa.select(sa.func.count()).select_from(Voucher).where(
            Voucher.organization_id == org_id, Voucher.status == "posted"))
        rows.append(("build busy village via services", f"{n} vouchers", w1 - w0, c1 - c0,
                     f"+{rss_mb() - before:.0f} MB RSS", f"≥ 100 vouchers/s (got {n / (w1 - w0):.0f}/s)"))
        db.session.remove()

        def org():
            return db.session.get(Organization, org_id)

        lines_10201 = len(reports.detail_ledger(org(), "10201", 2026, 1, 10))
        cases = [
            ("科目余额表 2026-10 (本期 + 本年累计)", "all accounts", lambda: reports.trial_balance(org(), 2026, 10), "< 0.5 s"),
            ("科目余额表 2025 全年", "all accounts", lambda: reports.trial_balance(org(), 2025, 1, 12), "< 0.5 s"),
            ("资产负债表 2026-10", "2 columns", lambda: reports.balance_sheet(org(), 2026, 10), "< 0.5 s"),
            ("收益及收益分配表 2026-01..10", "2 columns", lambda: reports.income_statement(org(), 2026, 1, 10), "< 0.5 s"),
            ("明细账 10201 农业银行 2026-01..10", f"{lines_10201} rows",
             lambda: reports.detail_ledger(org(), "10201", 2026, 1, 10), "< 1.0 s"),
            ("总账 102 银行存款 2026-01..10", "monthly rows", lambda: reports.general_ledger(org(), "102", 2026, 10),
             "< 1.0 s"),
        ]
        for what, size, fn, target in cases:
            walls, cpus = [], []
            for _ in range(args.repeat):
                db.session.remove()  # a fresh session, as in a web request
                w0, c0 = clock()
                fn()
                w1, c1 = clock()
                walls.append(w1 - w0)
                cpus.append(c1 - c0)
            db.session.remove()
            tracemalloc.start()
            fn()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            rows.append((what, size, statistics.median(walls), statistics.median(cpus),
                         f"{peak / 2**20:.1f} MB peak", target))

    print(f"\nbackend: {backend}   python {sys.version.split()[0]}   busy village: {n} posted vouchers   "
          f"load average at the end: {os.getloadavg()[0]:.1f}\n")
    w = max(_width(r[0]) for r in rows)
    print(f"{_pad('step', w)}  {'size':<16} {'wall s':>8} {'cpu s':>8}  {'memory':<17} target")
    for what, size, wall, cpu, mem, target in rows:
        print(f"{_pad(what, w)}  {size:<16} {wall:8.3f} {cpu:8.3f}  {mem:<17} {target}")


if __name__ == "__main__":
    main()
