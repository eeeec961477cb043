"""Time the 财务公开 收支明细 sheet of a busy quarter: building it and printing it to PDF.

    .venv/bin/python bench/bench_disclosure.py                  # SQLite in a temp file
    .venv/bin/python bench/bench_disclosure.py --db URL         # any database (dropped and recreated!)
    .venv/bin/python bench/bench_disclosure.py --lines 100      # a quick run

Not a test. Through the services (制单 → 审核 → 记账, then 结账 of 2025-01..03), a village-quarter whose vouchers
carry --lines income/expense lines (5 on 5xx accounts per voucher, the other side on 102), then times:
disclosure.build_sheet (median of --repeat, fresh session), disclosure.create_sheet (once: it writes), and
coop.documents.disclosure.render_sheet_pdf (WeasyPrint; the first render, which loads fonts, and the median of
--repeat more). Prints a table and appends a dated section to bench/RESULTS.md.
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
Q1 = (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
INCOME = [("501", "经营收入"), ("502", "发包及上交收入"), ("503", "补助收入"), ("504", "其他收入")]
EXPENSE = [("511", "经营支出"), ("513", "管理费用"), ("514", "公益支出"), ("515", "其他支出")]


def build_quarter(n_lines: int, rng: random.Random):
    from coop.core.extensions import db
    from tests.conftest import Books

    books = Books()
    books.lock_opening({"101": "1000.00", "102": "5000000.00", "301": "-5001000.00"})
    n_vouchers = -(-n_lines // 5)
    for i in range(n_vouchers):
        day = dt.date(2025, 1 + i % 3, 1 + (i // 3) % 28)
        k = min(5, n_lines - 5 * i)
        amounts = [D(rng.randint(1000, 500000)) / 100 for _ in range(k)]
        total = sum(amounts, D(0))
        if i % 2 == 0:
            codes = [rng.choice(INCOME) for _ in amounts]
            lines = [("102", total, "")] + [(c, "", a) for (c, _), a in zip(codes, amounts)]
            books.post(day, *lines, summary=f"收到{codes[0][1]}（第{i + 1}笔）")
        else:
            codes = [rng.choice(EXPENSE) for _ in amounts]
            lines = [(c, a, "") for (c, _), a in zip(codes, amounts)] + [("102", "", total)]
            books.post(day, *lines, summary=f"支付{codes[0][1]}（第{i + 1}笔）")
    books.close_through(2025, 3)
    db.session.commit()
    return books, n_vouchers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="sqlite", help="'sqlite' (a temp file) or a database URL (dropped and recreated)")
    ap.add_argument("--lines", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = ap.parse_args()
    url = args.db if args.db != "sqlite" else "sqlite:///" + os.path.join(
        tempfile.mkdtemp(prefix="coop-bench-"), "bench.sqlite3")

    import json

    from coop.core.extensions import db
    from coop.models import Disclosure, Organization, User
    from coop.services import disclosure

    rows, profiles = [], []
    app = make_app(url)
    with app.app_context():
        backend = db.engine.dialect.name
        w0, c0 = clock()
        books, n_vouchers = build_quarter(args.lines, random.Random(5))
        org_id, acc_id = books.org.id, books.accountant.id
        w1, c1 = clock()
        rows.append(("setup: quarter via services + 结账 2025-01..03", f"{n_vouchers} vouchers", w1 - w0, c1 - c0,
                     "", load(), f"— ({n_vouchers / (w1 - w0):.0f} vouchers/s)"))

        def org():
            return db.session.get(Organization, org_id)

        walls, cpus = [], []
        for _ in range(args.repeat):
            db.session.remove()
            w0, c0 = clock()
            data = disclosure.build_sheet(org(), "income_expense", *Q1)
            w1, c1 = clock()
            walls.append(w1 - w0)
            cpus.append(c1 - c0)
        db.session.remove()
        tracemalloc.start()
        disclosure.build_sheet(org(), "income_expense", *Q1)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append(("disclosure.build_sheet 收支明细 Q1", f"{len(data['rows'])} rows", statistics.median(walls),
                     statistics.median(cpus), f"{peak / 2**20:.1f} MB peak", load(), "— (inside create_sheet)"))

        db.session.remove()
        w0, c0 = clock()
        d = disclosure.create_sheet(org(), kind="income_expense", start=Q1[0], end=Q1[1],
                                    user=db.session.get(User, acc_id))
        db.session.commit()
        w1, c1 = clock()
        d_id = d.id
        rows.append(("disclosure.create_sheet (+ commit)", f"{len(json.loads(d.data)['rows'])} rows", w1 - w0, c1 - c0,
                     "", load(), "< 1 s (ours)"))

        from coop.documents.disclosure import render_sheet_pdf

        def pdf():
            return render_sheet_pdf(db.session.get(Disclosure, d_id))

        db.session.remove()
        w0, c0 = clock()
        first = pdf()
        w1, c1 = clock()
        rows.append(("render_sheet_pdf, first (loads WeasyPrint, fonts)", f"{len(first) // 1024} KB", w1 - w0, c1 - c0,
                     "", load(), "< 5 s" + ("" if w1 - w0 < 5 else f" — MISSED by {w1 - w0 - 5:.1f} s")))
        walls, cpus = [], []
        for _ in range(args.repeat):
            db.session.remove()
            w0, c0 = clock()
            out = pdf()
            w1, c1 = clock()
            walls.append(w1 - w0)
            cpus.append(c1 - c0)
        wall = statistics.median(walls)
        rows.append(("render_sheet_pdf, warm (median)", f"{len(out) // 1024} KB", wall,
                     statistics.median(cpus), "", load(), "< 5 s" + ("" if wall < 5 else f" — MISSED by {wall - 5:.1f} s")))
        db.session.remove()
        profiles.append(("render_sheet_pdf (warm)", profile_top(pdf)))

    report(rows, profiles, backend, args, f"{args.lines} income/expense lines in 2025-Q1", write=not args.no_results)


if __name__ == "__main__":
    main()
