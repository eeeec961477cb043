"""The county-year 科目余额表 on 10 million lines in a table partitioned by year (issue #24, goal 5; docs/scaling.md).

    .venv/bin/python bench/bench_partition.py                       # throwaway PostgreSQL, 10 M lines, best of 7
    .venv/bin/python bench/bench_partition.py --lines 1000000 --repeat 3 --no-results   # a quick look
    .venv/bin/python bench/bench_partition.py --db postgresql://user@host/scratch       # its tables are dropped after

Not a test. In a throwaway PostgreSQL (tests/pg.py) — or the database of --db, where it creates and at the end
drops its own `scale_*` tables — it builds, with generate_series in one INSERT … SELECT:

  scale_lines        the posted ledger lines of the layout docs/scaling.md proposes: year, county_id,
                     organization_id, date, voucher_id, seq, account_id, debit, credit (integer fen), PARTITION BY
                     RANGE (year), one partition a year; each with a covering index (county_id, account_id) INCLUDE
                     (debit, credit), vacuumed (closed years are all-visible: index-only scans). --lines lines over
                     --years years × --counties counties × --villages villages, 3 lines a voucher (one debit, two
                     credits, balanced), dated through the year, rows in date order (counties interleaved, as they
                     arrive), 40 accounts a village (10 households' 内部往来 among them, no counterparty column here);
  scale_openings     the opening balances at the start of the books (first year), per account (coop's
                     opening_balances, with the county on the row);
  scale_year_openings  per (year, county, account): the balance brought forward into the year = opening balance +
                     every earlier year's lines — what a year-end close would write once (docs/scaling.md).

Then, for the last year and one county, warm, best of --repeat, alternating:

  bare      SELECT account_id, sum(debit), sum(credit) … WHERE year = Y AND county_id = C GROUP BY account_id
            (the floor: the year's sums alone, over the same partition);
  coop      what reports.county_trial_balance runs for the whole year (_balance_sums with start = year start:
            the year's plain sums, plus the signed sums of every line before the year, plus opening_balances),
            each fetched, as one transaction;
  snapshot  the year's sums plus the brought-forward balances of scale_year_openings, one statement;

checks that coop and snapshot give the same opening/debit/credit for every account (and that the sums balance),
prints EXPLAIN of bare, and appends timings and the ratios to bench/RESULTS.md. Target: ≤ 1.2× the bare GROUP BY.
Parallel query is off for the timed statements (max_parallel_workers_per_gather = 0): on a shared 2-core machine
workers only add noise, and a server with many users gives each query one core.
"""
from __future__ import annotations

import argparse
import signal
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import append_results, command_line, database  # noqa: E402

TARGET = 1.2
ACCOUNTS = 40  # per village

DDL = """
DROP TABLE IF EXISTS scale_lines, scale_openings, scale_year_openings;
CREATE TABLE scale_lines (
    year smallint NOT NULL,
    county_id integer NOT NULL,
    organization_id integer NOT NULL,
    date date NOT NULL,
    voucher_id bigint NOT NULL,
    seq smallint NOT NULL,
    account_id integer NOT NULL,
    debit bigint NOT NULL,
    credit bigint NOT NULL,
    PRIMARY KEY (year, voucher_id, seq)
) PARTITION BY RANGE (year);
CREATE TABLE scale_openings (
    county_id integer NOT NULL,
    organization_id integer NOT NULL,
    account_id integer NOT NULL,
    amount bigint NOT NULL,
    PRIMARY KEY (county_id, account_id)
);
CREATE TABLE scale_year_openings (
    year smallint NOT NULL,
    county_id integer NOT NULL,
    account_id integer NOT NULL,
    amount bigint NOT NULL,
    PRIMARY KEY (year, county_id, account_id)
);
"""

# a voucher n of village o in year y: line 1 debits account a of the village with x + z, lines 2 and 3 credit
# accounts b and c with x and z; amounts and accounts from integer hashes of n (deterministic, no random())
FILL = """
INSERT INTO scale_lines (year, county_id, organization_id, date, voucher_id, seq, account_id, debit, credit)
SELECT y, o / %(villages)s::int + 1, o + 1, make_date(y, 1, 1) + (k * 365 / %(per_village)s::int)::int,
       n, s,
       o * {acc} + 1 + (CASE s WHEN 1 THEN h %% 20 WHEN 2 THEN 20 + (h / 20) %% 10 ELSE 30 + (h / 200) %% 10 END),
       CASE s WHEN 1 THEN x + z ELSE 0 END,
       CASE s WHEN 2 THEN x WHEN 3 THEN z ELSE 0 END
FROM generate_series(%(first_year)s::int, %(last_year)s::int) AS y,
     generate_series(0, %(per_village)s::int - 1) AS k,
     generate_series(0, %(orgs)s::int - 1) AS o,
     LATERAL (SELECT ((y - %(first_year)s::int)::bigint * %(per_year)s::bigint + k::bigint * %(orgs)s::int + o) AS n) AS v,
     LATERAL (SELECT (n * 2654435761) %% 4294967291 AS h) AS hh,
     LATERAL (SELECT 1000 + h %% 2000000 AS x, 500 + (h / 7) %% 800000 AS z) AS amounts,
     generate_series(1, 3) AS s
""".format(acc=ACCOUNTS)

BARE = ("SELECT account_id, sum(debit), sum(credit) FROM scale_lines WHERE year = %(y)s AND county_id = %(c)s "
        "GROUP BY account_id")
# coop's _balance_sums for a period that starts the year: the year's plain sums, then every earlier line signed
COOP = (BARE,
        "SELECT account_id, sum(debit - credit) FROM scale_lines WHERE year < %(y)s AND county_id = %(c)s "
        "GROUP BY account_id",
        "SELECT account_id, sum(amount) FROM scale_openings WHERE county_id = %(c)s GROUP BY account_id")
SNAPSHOT = """
SELECT coalesce(s.account_id, b.account_id), coalesce(b.amount, 0), coalesce(s.d, 0), coalesce(s.c, 0)
FROM (SELECT account_id, sum(debit) AS d, sum(credit) AS c FROM scale_lines
      WHERE year = %(y)s AND county_id = %(c)s GROUP BY account_id) AS s
FULL JOIN (SELECT account_id, amount FROM scale_year_openings WHERE year = %(y)s AND county_id = %(c)s) AS b
  ON b.account_id = s.account_id
"""


def step(what: str, t0: float) -> float:
    t1 = time.perf_counter()
    print(f"  {what}: {t1 - t0:.1f} s (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
    return t1


def build(conn, args) -> dict:
    orgs = args.counties * args.villages
    years = list(range(args.last_year - args.years + 1, args.last_year + 1))
    per_village = args.lines // (3 * orgs * len(years))  # vouchers per village-year
    t = time.perf_counter()
    conn.execute(DDL)
    for y in years:
        conn.execute(f"CREATE TABLE scale_lines_{y} PARTITION OF scale_lines FOR VALUES FROM ({y}) TO ({y + 1})")
    conn.commit()
    conn.execute(FILL, {"villages": args.villages, "per_village": per_village, "orgs": orgs, "first_year": years[0],
                        "last_year": years[-1], "per_year": per_village * orgs})
    conn.commit()
    t = step(f"{3 * per_village * orgs * len(years):,} lines by generate_series", t)
    # opening balances at the start of the books: assets debit, the 公积公益金 side credit, balanced per village
    conn.execute(f"""
        INSERT INTO scale_openings (county_id, organization_id, account_id, amount)
        SELECT o / {args.villages} + 1, o + 1, o * {ACCOUNTS} + 1 + a,
               CASE WHEN a < 5 THEN 1000000 * (a + 1) WHEN a = 39 THEN -15000000 ELSE 0 END
        FROM generate_series(0, {orgs} - 1) AS o, generate_series(0, {ACCOUNTS} - 1) AS a
        WHERE a < 5 OR a = 39""")
    for y in years:
        conn.execute(f"CREATE INDEX ON scale_lines_{y} (county_id, account_id) INCLUDE (debit, credit)")
    conn.commit()
    t = step("covering index (county_id, account_id) INCLUDE (debit, credit) on each partition", t)
    # what the close of each year would write once: the balance brought into the next year
    for y in years:
        conn.execute("""
            INSERT INTO scale_year_openings (year, county_id, account_id, amount)
            SELECT %(y)s, county_id, account_id, sum(amount) FROM (
                SELECT county_id, account_id, amount FROM scale_openings
                UNION ALL
                SELECT county_id, account_id, debit - credit FROM scale_lines WHERE year < %(y)s) AS x
            GROUP BY county_id, account_id HAVING sum(amount) <> 0""", {"y": y})
    conn.commit()
    t = step("scale_year_openings (the year-end close's balances brought forward)", t)
    conn.autocommit = True
    conn.execute("VACUUM (FREEZE, ANALYZE) scale_lines")
    conn.execute("VACUUM ANALYZE scale_openings")
    conn.execute("VACUUM ANALYZE scale_year_openings")
    conn.autocommit = False
    step("VACUUM (FREEZE, ANALYZE)", t)
    n = conn.execute("SELECT count(*) FROM scale_lines").fetchone()[0]
    in_part = conn.execute("SELECT count(*) FROM scale_lines WHERE year = %s", (years[-1],)).fetchone()[0]
    in_county = conn.execute("SELECT count(*) FROM scale_lines WHERE year = %s AND county_id = %s",
                             (years[-1], args.county)).fetchone()[0]
    before = conn.execute("SELECT count(*) FROM scale_lines WHERE year < %s AND county_id = %s",
                          (years[-1], args.county)).fetchone()[0]
    size = conn.execute("SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits "
                        "WHERE inhparent = 'scale_lines'::regclass").fetchone()[0]
    conn.commit()
    return {"lines": n, "partition": in_part, "county": in_county, "before": before, "size": size, "years": years,
            "per_village": per_village}


def run_coop(conn, p) -> dict[int, tuple[int, int, int]]:
    """Account → (opening, debit, credit) the way coop's county report sums them."""
    out: dict[int, list[int]] = {}
    cur = conn.cursor()
    cur.execute(COOP[0], p)
    for acc, d, c in cur.fetchall():
        out[acc] = [0, int(d), int(c)]
    cur.execute(COOP[1], p)
    for acc, signed in cur.fetchall():
        out.setdefault(acc, [0, 0, 0])[0] += int(signed)
    cur.execute(COOP[2], p)
    for acc, amount in cur.fetchall():
        out.setdefault(acc, [0, 0, 0])[0] += int(amount)
    conn.commit()
    return {a: tuple(v) for a, v in out.items() if any(v)}


def run_snapshot(conn, p) -> dict[int, tuple[int, int, int]]:
    rows = conn.execute(SNAPSHOT, p).fetchall()
    conn.commit()
    return {a: (int(o), int(d), int(c)) for a, o, d, c in rows if o or d or c}


def run_bare(conn, p) -> list:
    rows = conn.execute(BARE, p).fetchall()
    conn.commit()
    return rows


def best(fns: dict, repeat: int) -> dict[str, float]:
    """Best wall time of each, warm (one untimed run first), alternating so that load hits all alike."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: min(v) for k, v in times.items()} | {k + "_median": sorted(v)[len(v) // 2] for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--years", type=int, default=4)
    ap.add_argument("--last-year", type=int, default=2025)
    ap.add_argument("--counties", type=int, default=4)
    ap.add_argument("--villages", type=int, default=100, help="villages per county")
    ap.add_argument("--county", type=int, default=1, help="the county of the report")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--db", help="a PostgreSQL URL; its scale_* tables are created and dropped at the end")
    ap.add_argument("--keep", action="store_true", help="with --db: keep the tables")
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()
    # a SIGTERM unwinds like Ctrl-C: the server and the throwaway cluster are stopped, not orphaned
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import psycopg

    load0 = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with database(args.db, pg=not args.db) as url:
        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        try:
            conn.execute("SET work_mem = '64MB'")
            conn.execute("SET maintenance_work_mem = '256MB'")
            conn.execute("SET max_parallel_maintenance_workers = 0")
            print(f"building {args.lines:,} lines …", file=sys.stderr)
            t0 = time.perf_counter()
            info = build(conn, args)
            build_s = time.perf_counter() - t0
            conn.execute("SET max_parallel_workers_per_gather = 0")
            conn.commit()
            p = {"y": info["years"][-1], "c": args.county}
            coop, snap, bare = run_coop(conn, p), run_snapshot(conn, p), run_bare(conn, p)
            assert coop == snap, "the snapshot report differs from coop's"
            assert sum(d for _, d, _ in coop.values()) == sum(c for _, _, c in coop.values()) > 0
            assert sum(o for o, _, _ in coop.values()) == 0, "openings do not balance"
            assert {a: (int(d), int(c)) for a, d, c in bare} == {a: (d, c) for a, (_, d, c) in coop.items() if d or c}
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + BARE, p))
            conn.commit()
            print(plan, file=sys.stderr)
            t = best({"bare": lambda: run_bare(conn, p), "coop": lambda: run_coop(conn, p),
                      "snapshot": lambda: run_snapshot(conn, p)}, args.repeat)
            version = conn.execute("SHOW server_version").fetchone()[0]
            conn.commit()
        finally:
            if args.db and not args.keep:
                conn.rollback()
                conn.execute("DROP TABLE IF EXISTS scale_lines, scale_openings, scale_year_openings")
                conn.commit()
            conn.close()
    load1 = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    r_coop, r_snap = t["coop"] / t["bare"], t["snapshot"] / t["bare"]
    rows = [
        ["bare GROUP BY (the floor)", f"{info['county']:,} lines of county {args.county} in {p['y']}",
         f"{1000 * t['bare']:.1f}", f"{1000 * t['bare_median']:.1f}", "1.00×", "—"],
        ["coop's query shape (year sums + every earlier line + opening_balances)",
         f"+ {info['before']:,} lines of the county in the {len(info['years']) - 1} earlier partitions", f"{1000 * t['coop']:.1f}",
         f"{1000 * t['coop_median']:.1f}", f"{r_coop:.2f}×",
         "yes" if r_coop <= TARGET else f"**no** ({r_coop:.2f}× > {TARGET}×)"],
        ["year sums + balances brought forward (scale_year_openings)", f"{len(snap):,} accounts",
         f"{1000 * t['snapshot']:.1f}", f"{1000 * t['snapshot_median']:.1f}", f"{r_snap:.2f}×",
         "yes" if r_snap <= TARGET else f"**no** ({r_snap:.2f}× > {TARGET}×)"],
    ]
    print(f"\nbare {1000 * t['bare']:.1f} ms, coop {1000 * t['coop']:.1f} ms ({r_coop:.2f}×), "
          f"snapshot {1000 * t['snapshot']:.1f} ms ({r_snap:.2f}×); load {load0} → {load1}")
    if not args.no_results:
        intro = (f"`{command_line()}` — PostgreSQL {version} (tests/pg.py throwaway, fsync off, work_mem 64MB, "
                 f"parallel query off), python {sys.version.split()[0]}, {os.cpu_count()} cpus; {info['lines']:,} "
                 f"lines in scale_lines PARTITION BY RANGE (year), {len(info['years'])} partitions "
                 f"{info['years'][0]}–{info['years'][-1]} ({info['size']} with indexes), {args.counties} counties × "
                 f"{args.villages} villages × {info['per_village']} vouchers × 3 lines a year; built in "
                 f"{build_s:.0f} s; the report for county {args.county}, {p['y']}: best (and median) of "
                 f"{args.repeat} warm runs, alternating; every account's opening/debit/credit checked equal between "
                 f"the two report shapes; loadavg {load0} → {load1}")
        append_results("bench_partition.py", intro,
                       ["query", "rows read", "best ms", "median ms", "× bare", f"≤ {TARGET}×?"], rows,
                       "EXPLAIN ANALYZE of the bare GROUP BY:\n\n```\n" + plan + "\n```")


if __name__ == "__main__":
    main()
