"""PDF load: 20 readers at once — half fetching a 记账凭证 PDF, half a small JSON page — against the app in one
threaded server process, with the PDF bound off (`--unbounded`, as before issue 17) and on (PDF_CONCURRENCY=2).

    .venv/bin/python bench/bench_pdf_load.py [--seconds 20] [--readers 20] [--unbounded]

Prints p50/p95 latency of each kind and requests/s, and the 503s (the bound's excess answer). SQLite in a temp
file; the app runs in this process (werkzeug's threaded server), so the GIL is what the readers contend for, as
in a gthread worker."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def build(app):
    from coop.core.extensions import db
    from coop.models.guards import immutability_ddl
    from coop.services import opening, orgs, users, vouchers

    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            for stmt in immutability_ddl(db.engine.dialect.name):
                conn.exec_driver_sql(stmt)
        county = orgs.create_county("测试县")
        org = orgs.create_organization(orgs.create_township(county, "东镇"), name="东村股份经济合作社",
                                       books_start_year=2025)
        acc = users.create_user("kuaiji", "王会计", "password1")
        rev = users.create_user("shenhe", "李主任", "password1")
        users.assign_role(acc, "accountant", org)
        users.assign_role(rev, "reviewer", org)
        opening.set_opening_balances(org, {"101": Decimal("1000"), "301": Decimal("-1000")}, user=acc)
        opening.lock_opening_balances(org, user=acc)
        v = vouchers.create_draft(org, {"date": dt.date(2025, 1, 5), "lines": [
            {"summary": "收到承包金", "account_code": "101", "debit": Decimal("500"), "credit": Decimal(0)},
            {"summary": "收到承包金", "account_code": "501", "debit": Decimal(0), "credit": Decimal("500")}]},
            user=acc)
        vouchers.review_voucher(v, user=rev)
        vouchers.post_voucher(v, user=acc)
        token = users.issue_api_token(acc, "bench")
        db.session.commit()
        return org.id, v.id, token


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--readers", type=int, default=20)
    ap.add_argument("--unbounded", action="store_true", help="no PDF bound (the behaviour before issue 17)")
    ap.add_argument("--cache", action="store_true", help="with the PDF cache (off by default: it measures the bound)")
    args = ap.parse_args()

    import requests
    from werkzeug.serving import make_server

    from coop import create_app
    tmp = tempfile.mkdtemp(prefix="coop-pdfload-")
    os.environ.setdefault("COOP_AUDIT_KEY", "bench:" + os.urandom(32).hex())
    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/b.sqlite3",
                     ATTACHMENT_DIR=f"{tmp}/att", PDF_CONCURRENCY=1000 if args.unbounded else 2,
                     PDF_QUEUE_SECONDS=10, PDF_CACHE_BYTES=64 * 2**20 if args.cache else 0)
    org_id, vid, token = build(app)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    s = requests.Session()
    s.post(base + "/login", data={"username": "kuaiji", "password": "password1"}, allow_redirects=False)
    cookies = s.cookies.get_dict()
    pdf_url = f"{base}/o/{org_id}/reports/vouchers/{vid}.pdf"
    json_url = f"{base}/api/v1/orgs/{org_id}/vouchers/{vid}"
    assert s.get(pdf_url).content.startswith(b"%PDF")
    times: dict[str, list[float]] = {"pdf": [], "json": []}
    busy = [0]
    stop = time.perf_counter() + args.seconds

    def reader(kind: str) -> None:
        sess = requests.Session()
        sess.cookies.update(cookies)
        headers = {"Authorization": f"Bearer {token}"} if kind == "json" else {}
        url = pdf_url if kind == "pdf" else json_url
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            r = sess.get(url, headers=headers)
            if r.status_code == 503:
                busy[0] += 1
                continue
            assert r.status_code == 200, (kind, r.status_code)
            times[kind].append(time.perf_counter() - t0)

    threads = [threading.Thread(target=reader, args=("pdf" if i % 2 == 0 else "json",))
               for i in range(args.readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    server.shutdown()
    label = ("unbounded" if args.unbounded else "PDF_CONCURRENCY=2") + (" +cache" if args.cache else "")
    for kind, ts in times.items():
        ts.sort()
        p95 = ts[int(len(ts) * 0.95) - 1] if ts else float("nan")
        print(f"{label:24} {kind:4} n={len(ts):4}  p50 {statistics.median(ts) * 1000:7.0f} ms  "
              f"p95 {p95 * 1000:7.0f} ms  {len(ts) / args.seconds:5.1f}/s")
    print(f"{label:24} 503s: {busy[0]}")


if __name__ == "__main__":
    main()
