"""Posting throughput (issue #24 goal 3): vouchers of 3 lines through the services, on SQLite and PostgreSQL, with
the SQL statements each voucher costs — before (the code at --baseline, exported to a temp dir) and after (this
checkout), side by side in one run.

    .venv/bin/python bench/bench_posting.py                       # both databases, baseline and now
    .venv/bin/python bench/bench_posting.py --vouchers 300 --backends postgresql --no-baseline --no-results
    .venv/bin/python bench/bench_posting.py --trace --vouchers 20 --no-baseline --no-results   # print one voucher's SQL
    .venv/bin/python bench/bench_posting.py --profile --backends postgresql --no-baseline --no-results

Each (code, database) pair runs in its own process on a fresh database built by that code's migrations (guard
triggers included), one village from bench/county.py (chart with 明细科目, locked openings, an accountant and a
reviewer) and county.py's plan of --vouchers vouchers in 2025. Three ways, each into its own village:

- **one by one, a commit a month**: 制单 → 审核 → 记账 (`create_draft`, `review_voucher`, `post_voucher`) per voucher,
  one commit per month — how bench_import.py and the issue counted "one by one";
- **one by one, a commit a step**: the same with a commit after each step (three transactions a voucher, as the
  three clicks of the web pages or three API calls make, each sealing its audit entry into the chain; the objects
  expired by each commit are read again, as a request would) — --step-vouchers of them;
- **post_many, 50 a batch**: `vouchers.post_many` (the xlsx import).

Statements are what the database driver was asked to execute (SQLAlchemy's `before_cursor_execute`, on every
connection, the audit sealer's included); an executemany counts once. PostgreSQL is a throwaway cluster (tests/pg.py).
Wall and CPU seconds are this process's; the server's CPU is not in the CPU column.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import ROOT, append_results, clock, command_line, database, fresh_pg_database, temp_sqlite_url  # noqa: E402

#: the code before #24's posting work: the commit this branch started from
BASELINE = "cdf326d"
WAYS = ("month", "step", "bulk")
LABEL = {"month": "one by one (制单+审核+记账), a commit a month",
         "step": "one by one, a commit a step (3 transactions a voucher)",
         "bulk": "vouchers.post_many, 50 a batch"}


# ------------------------------------------------------------------ the measuring process


def _fresh_schema(code: Path, url: str):
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from coop import create_app
    from coop.core.extensions import db

    if url.startswith("postgresql"):
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=url, SERVER_NAME="coop.bench")
    with app.app_context():
        upgrade(directory=str(code / "migrations"))
    return app


class Counter:
    """Counts the statements sent to the database, on every connection of every engine."""

    def __init__(self):
        import sqlalchemy as sa

        self.n, self.checkouts, self.trace = 0, 0, None
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self._seen)
        sa.event.listen(sa.pool.Pool, "checkout", self._checkout)

    def _checkout(self, *_args):
        self.checkouts += 1  # with pool_pre_ping (config.py) each is a round trip of its own

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        self.n += 1
        if self.trace is not None:
            many = executemany and isinstance(parameters, (list, tuple)) and isinstance(parameters[0], (list, tuple, dict))
            self.trace.append(" ".join(statement.split())[:150] + (f"   [executemany ×{len(parameters)}]" if many else ""))


#: county.py's plan names 502, which the demo chart now splits into 明细科目: its first leaf
LEAF = {"502": "50201"}


def _entries(plan):
    from coop.core.money import from_fen

    return [({"date": p.date, "attachment_count": 1, "lines": [
        {"summary": p.summary, "account_code": LEAF.get(c, c), "debit": from_fen(d), "credit": from_fen(cr),
         "counterparty": cp}
        for c, d, cr, cp in p.lines]}, "normal") for p in plan]


def _run_way(way: str, village, entries, counter: Counter, *, trace: bool, profile: bool) -> dict:
    import cProfile
    import io
    import pstats

    from coop.core.extensions import db
    from coop.models import Organization, User
    from coop.services import vouchers

    def users():
        return (db.session.get(Organization, village.org_id), db.session.get(User, village.accountant_id),
                db.session.get(User, village.reviewer_id))

    org, acc, rev = users()
    db.session.commit()
    out: dict = {}
    if trace and way != "bulk":  # one voucher's statements, on warm caches (the second voucher)
        for i, (data, kind) in enumerate(entries[:2]):
            counter.trace = [] if i == 1 else None
            v = vouchers.create_draft(org, data, user=acc, kind=kind)
            if way == "step":
                db.session.commit()
            vouchers.review_voucher(v, user=rev)
            if way == "step":
                db.session.commit()
            vouchers.post_voucher(v, user=acc)
            db.session.commit()
        out["trace"], counter.trace = counter.trace, None
        entries = entries[2:]
        org, acc, rev = users()
    import time

    # BENCH_PROFILE_CPU=1: CPU time of this process only (the waits on the database drop out)
    prof = (cProfile.Profile(time.process_time) if os.environ.get("BENCH_PROFILE_CPU") else cProfile.Profile()) if profile else None
    n0, k0 = counter.n, counter.checkouts
    w0, c0 = clock()
    if prof:
        prof.enable()
    for month in range(1, 13):
        batch = [e for e in entries if e[0]["date"].month == month]
        if way == "bulk":
            for start in range(0, len(batch), 50):
                vouchers.post_many(org, batch[start:start + 50], preparer=acc, reviewer=rev, poster=acc)
            db.session.commit()
        else:
            for data, kind in batch:
                v = vouchers.create_draft(org, data, user=acc, kind=kind)
                if way == "step":
                    db.session.commit()
                vouchers.review_voucher(v, user=rev)
                if way == "step":
                    db.session.commit()
                vouchers.post_voucher(v, user=acc)
                if way == "step":
                    db.session.commit()
            db.session.commit()
        org, acc, rev = users()
    if prof:
        prof.disable()
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(int(os.environ.get("BENCH_TOP", "30")))
        out["profile"] = text.getvalue()
    w1, c1 = clock()
    db.session.remove()
    out.update(vouchers=len(entries), wall=w1 - w0, cpu=c1 - c0, statements=counter.n - n0, checkouts=counter.checkouts - k0,
               load=os.getloadavg()[0])
    return out


def measure(code: Path, url: str, args) -> dict:
    """In this process: the code at `code`, a fresh database at `url`; every way in `args.ways`."""
    sys.path.insert(0, str(code))
    os.chdir(code)
    import county

    import coop

    assert Path(coop.__file__).resolve().is_relative_to(code.resolve()), coop.__file__
    app = _fresh_schema(code, url)
    counter = Counter()
    got = {}
    with app.app_context():
        _, villages = county.setup_county(len(WAYS))
        for village, way in zip(villages, WAYS):
            if way not in args.ways.split(","):
                continue
            n = args.step_vouchers if way == "step" else args.vouchers
            plan = county.plan_village(village.index, n, 3, args.seed)
            got[way] = _run_way(way, village, _entries(plan), counter, trace=args.trace,
                                profile=args.profile and way != "bulk")
    return got


# ------------------------------------------------------------------ the driver


def _export(rev: str) -> Path:
    """The tree of `rev` in a temp dir (git archive: no worktree, nothing written to the repository)."""
    dest = Path(tempfile.mkdtemp(prefix="coop-bench-baseline-"))
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def _child(code: Path, url: str, args) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [sys.executable, str(HERE / "bench_posting.py"), "--child", str(code), "--db", url, "--json", out.name,
               "--vouchers", str(args.vouchers), "--step-vouchers", str(args.step_vouchers), "--seed", str(args.seed),
               "--ways", args.ways]
        cmd += ["--trace"] if args.trace else []
        cmd += ["--profile"] if args.profile else []
        subprocess.run(cmd, check=True)
        return json.loads(Path(out.name).read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vouchers", type=int, default=1000, help="vouchers of 3 lines for each way")
    ap.add_argument("--step-vouchers", type=int, default=300, help="vouchers for the commit-a-step way")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--ways", default=",".join(WAYS))
    ap.add_argument("--baseline", default=BASELINE, help="git revision measured as 'before'")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--trace", action="store_true", help="print the statements of one voucher")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of the one-by-one ways")
    ap.add_argument("--no-results", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        Path(args.json).write_text(json.dumps(measure(Path(args.child), args.db, args)))
        return

    codes = [("now", ROOT)]
    if not args.no_baseline:
        rev = subprocess.run(["git", "rev-parse", "--short", args.baseline], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
        codes.insert(0, (f"before ({rev})", _export(args.baseline)))
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    rows, results = [], {}
    load_at_start = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    for backend in args.backends.split(","):
        with database(None, pg=backend == "postgresql") as base:
            for name, code in codes:
                url = (fresh_pg_database(base, "bench_posting") if backend == "postgresql" else temp_sqlite_url())
                got = results[(backend, name)] = _child(code, url, args)
                for way, r in got.items():
                    for line in r.get("trace") or ():
                        print("   ", line)
                    if r.get("trace"):
                        print(f"    — {len(r['trace'])} statements: {backend}, {name}, {way}\n")
                    if r.get("profile"):
                        print(r["profile"])
                    rate, per = r["vouchers"] / r["wall"], r["statements"] / r["vouchers"]
                    rows.append([backend, name, LABEL[way], r["vouchers"], f"{r['wall']:.2f} / {r['cpu']:.2f}",
                                 f"**{rate:.0f}**", f"{r['vouchers'] / r['cpu']:.0f}", f"{per:.1f}",
                                 f"{r['checkouts'] / r['vouchers']:.2f}",
                                 f"{r['load']:.1f}"])
                    print(" | ".join(str(c) for c in rows[-1]), flush=True)
    for backend in args.backends.split(","):  # after/before of each way
        if len(codes) == 2:
            b, n = results[(backend, codes[0][0])], results[(backend, "now")]
            for way in n:
                if way in b:
                    print(f"{backend} {way}: {n[way]['vouchers'] / n[way]['wall'] / (b[way]['vouchers'] / b[way]['wall']):.2f}× "
                          f"the vouchers/s, statements {b[way]['statements'] / b[way]['vouchers']:.1f} → "
                          f"{n[way]['statements'] / n[way]['vouchers']:.1f} a voucher")
    if not args.no_results:
        loadavg = Path("/proc/loadavg").read_text().split()[:3]
        append_results(
            "bench_posting.py", f"`{command_line()}` — HEAD {head}, python {sys.version.split()[0]}, {os.cpu_count()} "
            f"cpus, /proc/loadavg at the start {load_at_start}, at the end {' '.join(loadavg)}; vouchers of 3 lines, before and after in the same run, "
            "each into a fresh database; statements include the audit sealer's after each commit",
            ["backend", "code", "how", "vouchers", "wall / cpu s", "vouchers/s (wall)", "vouchers/s (cpu)",
             "statements a voucher", "connection checkouts a voucher", "load (1 min)"], rows,
            "Target (#24): one by one on PostgreSQL ≥ 200 vouchers/s with ≤ 12 statements a voucher. Statements are "
            "what the driver was asked to run (the audit sealer's after each commit included; an executemany once); "
            "a connection checkout pings the server once more (pool_pre_ping).")


if __name__ == "__main__":
    main()
