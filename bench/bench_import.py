"""Import throughput: the same village-year of vouchers (bench/county.py's plan) loaded three ways into fresh
databases — one by one through the services (制单 → 审核 → 记账, a commit per village-month, as an accountant's
clicks would), in batches through `vouchers.post_many` (what `coop import-vouchers --post` uses), and by a raw
bulk insert (county.load_raw: the limit). Prints vouchers/s and the ratios, and appends them to RESULTS.md.

    .venv/bin/python bench/bench_import.py [--vouchers 2000] [--backends sqlite,postgresql] [--no-results]
"""
from __future__ import annotations

import argparse
import os
import platform

from _common import append_results, clock, command_line, database, fresh_pg_database, load, temp_sqlite_url

import county


def _entries(plan):
    from coop.core.money import from_fen

    return [({"date": p.date, "attachment_count": 1, "lines": [
        {"summary": p.summary, "account_code": c, "debit": from_fen(d), "credit": from_fen(cr), "counterparty": cp}
        for c, d, cr, cp in p.lines]}, "normal") for p in plan]


def _load(url: str, args, way: str) -> tuple[float, float]:
    from coop.core.extensions import db
    from coop.models import Organization, User
    from coop.services import vouchers

    app = county.fresh_schema(url)
    with app.app_context():
        _, villages = county.setup_county(1)
        v = villages[0]
        plan = county.plan_village(v.index, args.vouchers, args.lines, args.seed)
        if way == "raw":
            t = county.load_raw(villages, {v.index: plan}, progress=False)
            return t["wall"], t["cpu"]
        org = db.session.get(Organization, v.org_id)
        acc, rev = db.session.get(User, v.accountant_id), db.session.get(User, v.reviewer_id)
        entries = _entries(plan)
        w0, c0 = clock()
        for month in range(1, 13):
            batch = [e for e in entries if e[0]["date"].month == month]
            if way == "bulk":
                for start in range(0, len(batch), 50):
                    vouchers.post_many(org, batch[start:start + 50], preparer=acc, reviewer=rev, poster=acc)
            else:
                for data, kind in batch:
                    vch = vouchers.create_draft(org, data, user=acc, kind=kind)
                    vouchers.review_voucher(vch, user=rev)
                    vouchers.post_voucher(vch, user=acc)
            db.session.commit()
            org = db.session.get(Organization, v.org_id)
            acc, rev = db.session.get(User, v.accountant_id), db.session.get(User, v.reviewer_id)
        w1, c1 = clock()
        db.session.remove()
    return w1 - w0, c1 - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vouchers", type=int, default=2000)
    ap.add_argument("--lines", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()
    rows = []
    for backend in args.backends.split(","):
        with database(None, pg=backend == "postgresql") as base:
            got = {}
            for way in ("raw", "services", "bulk"):
                url = fresh_pg_database(base, f"imp_{way}") if backend == "postgresql" else temp_sqlite_url()
                wall, cpu = _load(url, args, way)
                got[way] = args.vouchers / wall
                rows.append([backend, {"services": "one by one (制单+审核+记账)", "bulk": "vouchers.post_many, 50 a batch",
                                       "raw": "raw bulk insert (the limit)"}[way], args.vouchers,
                             f"{wall:.2f} / {cpu:.2f}", f"**{got[way]:.0f}**",
                             "1×" if way == "raw" else f"1/{got['raw'] / got[way]:.1f} of raw",
                             f"{load():.1f}"])
                print(" | ".join(str(c) for c in rows[-1]), flush=True)
    if not args.no_results:
        append_results("bench_import.py", f"`{command_line()}` — python {platform.python_version()}, "
                       f"{os.cpu_count()} cpus; {args.vouchers} vouchers × {args.lines} lines of one village, each "
                       "way into a fresh database", ["backend", "how", "vouchers", "wall / cpu s", "vouchers/s",
                                                     "ratio", "load"], rows)


if __name__ == "__main__":
    main()
