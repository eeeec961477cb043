"""The full benchmark run of issue #10, on SQLite and PostgreSQL; every script appends its section to RESULTS.md.

    .venv/bin/python bench/run_all.py                                   # 10 villages × 2,000 vouchers
    .venv/bin/python bench/run_all.py --villages 100 --services-villages 2 --peer-repeat 1
    .venv/bin/python bench/run_all.py --only county                     # or: posting,shares,distribution,disclosure,pages,pdf
    .venv/bin/python bench/run_all.py --only month_end,partition        # issue #24: a county at month end, 10 M lines

Runs, one after another (the machine has 2 cores: nothing in parallel):
  bench_county.py        import throughput, 科目余额表 vs bare GROUP BY / hledger / beancount, HTTP vs Fava
  bench_posting.py       posting one by one and post_many, statements a voucher, against the code before #24
  bench_distribution.py  收益分配 for 10,000 households        bench_shares.py  折股量化 for 1,000 members
  bench_disclosure.py    收支明细 PDF of a village-quarter with 500 lines
  bench_pages.py         科目余额表 / 明细账 / voucher list pages and the JSON API vs Fava (bench/requirements.txt)
the last four on a temp SQLite file and on a throwaway PostgreSQL (tests/pg.py) started here; then
  bench_pdf.py           PDFs (ms a page, fixed ms a PDF) and a worker's RSS, this checkout beside the commit
                         before #24 (SQLite; PDFs do not depend on the database)
and
  bench_partition.py     the county-year 科目余额表 on 10 M lines partitioned by year vs the bare GROUP BY (#24)
  bench_month_end.py     100 villages on PostgreSQL, gunicorn sync ×5 and gthread 2×8, 50 HTTP clients (#24)
each in its own throwaway PostgreSQL.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import ROOT, database, fresh_pg_database, temp_sqlite_url  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable  # a worktree has none
SCRIPTS = ("distribution", "shares", "disclosure", "pages")
#: issue #24's benches, each with its own throwaway PostgreSQL: name → arguments
PG_BENCHES = {"partition": [], "month_end": ["--servers", "sync:5,gthread:2x8"]}  # month_end exits 1 on errors


def run(cmd: list[str]) -> float:
    print("$", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(("county", "posting", *SCRIPTS, "pdf", *PG_BENCHES)))
    ap.add_argument("--villages", type=int, default=10)
    ap.add_argument("--vouchers", type=int, default=2000)
    ap.add_argument("--services-villages", type=int)
    ap.add_argument("--peer-repeat", type=int, default=3)
    ap.add_argument("--backends", default="sqlite,postgresql")
    args = ap.parse_args()
    only = set(args.only.split(","))
    took = {}
    if "county" in only:
        cmd = [PY, "bench/bench_county.py", "--villages", str(args.villages), "--vouchers", str(args.vouchers),
               "--backends", args.backends, "--peer-repeat", str(args.peer_repeat)]
        if args.services_villages:
            cmd += ["--services-villages", str(args.services_villages)]
        took["county"] = run(cmd)
    if "posting" in only:
        took["posting"] = run([PY, "bench/bench_posting.py", "--backends", args.backends])
    todo = [s for s in SCRIPTS if s in only]
    for backend in args.backends.split(",") if todo else ():
        # a database of its own for each script: their drop_all trips over the previous one's tables
        with database("sqlite", pg=backend == "postgresql") as url:
            for s in todo:
                db_url = temp_sqlite_url() if backend == "sqlite" else fresh_pg_database(url, f"bench_{s}")
                took[f"{s} ({backend})"] = run([PY, f"bench/bench_{s}.py", "--db", db_url])
    if "pdf" in only:
        took["pdf"] = run([PY, "bench/bench_pdf.py"])
    for name, extra in PG_BENCHES.items():
        if name in only:
            took[name] = run([PY, f"bench/bench_{name}.py", *extra])
    print("\n".join(f"{k}: {v:.0f} s" for k, v in took.items()))


if __name__ == "__main__":
    main()
