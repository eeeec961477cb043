"""The county's view at county scale (issue #23): the band page and a consolidated statement, target < 1 s each.

    .venv/bin/python bench/bench_county_view.py --pg                       # 100 villages × 2,000 vouchers, raw load
    .venv/bin/python bench/bench_county_view.py --villages 5 --vouchers 200 --no-results   # a quick look on SQLite

Not a test. bench/county.py builds the county by raw bulk insert (the same vouchers as the services would post);
then, as the county administrator through the Flask test client (page rendering included, no network), the
median of --repeat requests after one warm-up: the band page (/county/), the 汇总资产负债表 and the 汇总收益及收益
分配表 (year 2025, 12月, every village as a column) and the same statement as xlsx; and the service calls alone.
The machine load (1-minute average) is printed beside each figure: other engineers share its two cores.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import county  # noqa: E402
from _common import append_results, clock, command_line, database, load  # noqa: E402


def median(fn, repeat: int) -> tuple[float, float, float]:
    fn()
    walls, cpus, loads = [], [], []
    for _ in range(repeat):
        w0, c0 = clock()
        fn()
        w1, c1 = clock()
        walls.append(w1 - w0)
        cpus.append(c1 - c0)
        loads.append(load())
    return statistics.median(walls), statistics.median(cpus), max(loads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    county.add_arguments(ap)
    ap.add_argument("--db", help="database URL (emptied first!); default a temp SQLite file")
    ap.add_argument("--pg", action="store_true", help="a throwaway PostgreSQL, stopped at the end")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()
    with database(args.db, args.pg) as url:
        app, county_id, villages, t = county.build(url, args, raw=True)
        backend = "postgresql" if url.startswith("postgresql") else "sqlite"
        print(f"{backend}: {t['villages']} villages, {t['vouchers']} vouchers, {t['lines']} lines loaded in "
              f"{t['wall']:.1f} s")
        from coop.core.extensions import db
        from coop.models import County
        from coop.services import consolidation

        rows = []
        with app.app_context():
            if backend == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("ANALYZE")
            client = app.test_client()
            r = client.post("/login", data={"username": "bench_admin", "password": county.PASSWORD})
            assert r.status_code == 302, r.status_code

            def get(path):
                def run():
                    resp = client.get(path)
                    assert resp.status_code == 200, (path, resp.status_code)
                    db.session.remove()
                return run

            q = f"county={county_id}&year={county.YEAR}&month=12"
            for label, fn in (
                ("band page /county/ (HTML, charts)", get(f"/county/?county={county_id}")),
                ("汇总资产负债表 (HTML, every village a column)", get(f"/county/balance-sheet?{q}&by=org")),
                ("汇总收益及收益分配表 (HTML, every village a column)", get(f"/county/income-statement?{q}&by=org")),
                ("汇总资产负债表 (HTML, a column per township: the default)", get(f"/county/balance-sheet?{q}")),
                ("汇总资产负债表 (xlsx, every village a column)", get(f"/county/balance-sheet?{q}&by=org&format=xlsx")),
            ):
                w, c, lo = median(fn, args.repeat)
                rows.append([label, f"{w:.3f}", f"{c:.3f}", f"{lo:.2f}", "< 1 s" if "xlsx" not in label else "—"])
                print(f"{label}: {w:.3f} s wall, {c:.3f} s cpu, load {lo:.2f}")

            def service():
                sc = consolidation.scope(db.session.get(County, county_id))
                consolidation.consolidate(sc, county.YEAR, 12)
                db.session.remove()

            def bands():
                c_ = db.session.get(County, county_id)
                sc = consolidation.scope(c_)
                consolidation.bands(sc, consolidation.Target(county.YEAR - 2, 2, 3, False), upto=county.YEAR)
                db.session.remove()

            for label, fn in (("consolidation.consolidate (service only)", service),
                              ("consolidation.bands (service only)", bands)):
                w, c, lo = median(fn, args.repeat)
                rows.append([label, f"{w:.3f}", f"{c:.3f}", f"{lo:.2f}", "—"])
                print(f"{label}: {w:.3f} s wall, {c:.3f} s cpu, load {lo:.2f}")
        if not args.no_results:
            append_results(
                f"County view (#23), {backend}",
                f"`{command_line()}`: {t['villages']} villages × {args.vouchers} vouchers ({t['lines']} lines), raw "
                f"load; median of {args.repeat} requests after a warm-up, Flask test client, page rendering "
                f"included. Load = the highest 1-minute load average seen (2 cores shared with other engineers).",
                ["step", "wall s", "cpu s", "load", "target"], rows)


if __name__ == "__main__":
    main()
