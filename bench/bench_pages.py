"""Report pages side by side with Fava (issue #24, goal 1): server CPU per page load on the same books.

    .venv/bin/python bench/bench_pages.py                    # SQLite in a temp file, 2,000 vouchers
    .venv/bin/python bench/bench_pages.py --pg               # a throwaway PostgreSQL (tests/pg.py)
    .venv/bin/python bench/bench_pages.py --vouchers 500 --repeat 20 --no-results   # a quick look

Not a test. Fava is a bench-only dependency (bench/requirements.txt: `pip install -r bench/requirements.txt`).

One village of bench/county.py (--vouchers vouchers of 3 lines in 2025, bulk-inserted: `county.py --raw`) is exported with `coop.documents.export.to_beancount`; Fava (in this process, its Flask test client,
read-only) serves that file, coop (its Flask test client, logged in as the village's accountant) serves the
database. Both apps run in this one process, so `time.process_time()` around --repeat loads is the server's CPU
per load (the test clients' own share is small and the same on both sides). The same data is on both pages:

- 科目余额表 of December 2025 — coop's page; Fava's `trial_balance` shell plus its `api/trial_balance` JSON
  (Fava renders the table in the browser).
- 明细账 of 10201 for December 2025 — coop's page; Fava's account page shell plus `api/account_report` (journal).
- the voucher list of December 2025 — coop's page with PAGE_SIZE raised so the whole month is one page; Fava's
  `journal` shell plus `api/journal_page` (1,000 a page).
- the JSON API of the 科目余额表 — coop's `/api/v1/…/reports/trial-balance` vs Fava's `api/trial_balance`.

Each coop figure is measured three ways: "uncached" with the page caches off (PAGE_CACHE_ENTRIES = 0: every
load builds and renders the whole page — what the first view after a change of the books costs), "repeat view"
(the same session again on unchanged books: coop/web/page_cache.py's WSGI door answers in front of Flask, with
the session cookie verified and one SQL statement checking the login and the books and directory versions, then
the stored page as it was answered; the API's JSON is the report JSON kept per books version, sent after the token and access checks), and
"304" (the same with If-None-Match: no body; browsers send it only where PAGE_BROWSER_REVALIDATE is on, see
coop/reports/caching.py). Targets: CPU per load ≤ 1.0× Fava's for a page load, ≥ 5× Fava's loads/s for a repeat view. Last, like for like, "first view after a change": coop with its books
version moved on (every cache misses) against Fava re-reading its file and then serving the page (what its watcher
has it do when the file changes; Fava's cheap page is an answer from the ledger it holds in memory).
Rounds alternate coop and Fava so a change of load hits both;
the median round counts. Appends a section to bench/RESULTS.md (--no-results to skip).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import county  # noqa: E402
from _common import append_results, command_line, database  # noqa: E402

MONTH = 12


def per_load(client, urls, n: int, headers=None, expect=200) -> tuple[float, float]:
    """(CPU seconds, wall seconds) per page load: each load GETs every URL in `urls` (a shell and its JSON)."""
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        for url in urls:
            r = client.get(url, headers=headers or {})
            if r.status_code != expect:
                raise RuntimeError(f"{url}: {r.status_code} {r.get_data(as_text=True)[:300]}")
    return (time.process_time() - c0) / n, (time.perf_counter() - w0) / n


def body_size(client, urls, headers=None) -> int:
    return sum(len(client.get(url, headers=headers or {}).data) for url in urls)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    county.add_arguments(ap)
    ap.set_defaults(villages=1, members=5)
    ap.add_argument("--repeat", type=int, default=50, help="page loads per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--change-repeat", type=int, default=5, help="first views after a change, per page")
    ap.add_argument("--db", help="database URL (emptied first!); default a temp SQLite file")
    ap.add_argument("--pg", action="store_true", help="a throwaway PostgreSQL, stopped at the end")
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()
    with database(args.db, args.pg) as url:
        run(url, args, "postgresql" if url.startswith("postgresql") else "sqlite")


def run(url: str, args, backend: str) -> None:
    from fava.application import create_app as fava_app

    from coop.core.extensions import db
    from coop.documents import export
    from coop.models import Organization, User
    from coop.services import users

    print(f"building {args.vouchers} vouchers ({backend}) …", file=sys.stderr)
    app, _county_id, villages, _t = county.build(url, args, raw=True, villages_n=1, progress=False)
    v = villages[0]
    workdir = Path(tempfile.mkdtemp(prefix="coop-bench-pages-"))
    bean = workdir / "village.beancount"
    with app.app_context():
        org = db.session.get(Organization, v.org_id)
        bean.write_text(export.to_beancount(org, county.YEAR), encoding="utf-8")
        bank = export.account_names(org)["10201"]
        token = users.issue_api_token(db.session.get(User, v.accountant_id), "bench")
        db.session.commit()
        dec = db.session.scalar(db.text("SELECT count(*) FROM vouchers WHERE organization_id = :o AND year = :y "
                                        "AND month = :m"), {"o": v.org_id, "y": county.YEAR, "m": MONTH})
        bank_lines = db.session.scalar(db.text(
            "SELECT count(*) FROM voucher_lines l JOIN vouchers v ON v.id = l.voucher_id JOIN accounts a "
            "ON a.id = l.account_id WHERE v.organization_id = :o AND a.code = '10201' AND v.year = :y AND v.month = :m"),
            {"o": v.org_id, "y": county.YEAR, "m": MONTH})
    app.config["PAGE_SIZE"] = max(app.config["PAGE_SIZE"], dec)  # the whole month on one page, as Fava's journal

    coop = app.test_client()
    r = coop.post("/login", data={"username": "bench_kj1", "password": county.PASSWORD})
    assert r.status_code == 302, r.status_code
    o, y = v.org_id, county.YEAR
    pages = {
        "tb": [f"/o/{o}/reports/trial-balance?year={y}&month={MONTH}"],
        "detail": [f"/o/{o}/reports/detail-ledger?year={y}&month={MONTH}&code=10201"],
        "vouchers": [f"/o/{o}/vouchers?year={y}&month={MONTH}"],
        "api_tb": [f"/api/v1/orgs/{o}/reports/trial-balance?year={y}&month={MONTH}"],
    }
    api_headers = {"Authorization": f"Bearer {token}"}

    fava_flask = fava_app([str(bean)], read_only=True, load=True)
    fava = fava_flask.test_client()
    loc = fava.get("/").headers["Location"]
    slug = [p for p in loc.split("/") if p][-2] if loc.startswith("http") else [p for p in loc.split("/") if p][0]
    tb, yr = f"time={y}-{MONTH:02d}", f"time={y}"
    fpages = {
        "tb": [f"/{slug}/trial_balance/?{tb}", f"/{slug}/api/trial_balance?{tb}"],
        "detail": [f"/{slug}/account/{bank}/?{tb}", f"/{slug}/api/account_report?a={bank}&r=journal&{tb}"],
        "vouchers": [f"/{slug}/journal/?{tb}", f"/{slug}/api/journal_page?page=1&order=desc&{tb}"],
        "api_tb": [f"/{slug}/api/trial_balance?{tb}"],
    }

    def coop_cold(key):
        app.config["PAGE_CACHE_ENTRIES"] = 0
        try:
            return per_load(coop, pages[key], args.repeat, api_headers if key.startswith("api") else None)
        finally:
            app.config.pop("PAGE_CACHE_ENTRIES")

    def coop_repeat(key):
        return per_load(coop, pages[key], args.repeat, api_headers if key.startswith("api") else None)

    def coop_304(key):
        h = dict(api_headers if key.startswith("api") else {})
        etag = coop.get(pages[key][0], headers=h).headers.get("ETag")
        if not etag:
            return None
        return per_load(coop, pages[key], args.repeat, {**h, "If-None-Match": etag}, expect=304)

    def fava_load(key):
        return per_load(fava, fpages[key], args.repeat)

    ways = {"coop uncached": coop_cold, "coop repeat view": coop_repeat, "coop 304": coop_304, "fava": fava_load}
    results: dict[tuple[str, str], list] = {}
    loads = []
    for key in pages:
        for fn in ways.values():  # warm-up: templates compiled, Fava's filtered ledgers built
            fn(key) if fn is not coop_304 else None
        for _ in range(args.rounds):
            for way, fn in ways.items():
                got = fn(key)
                if got:
                    results.setdefault((key, way), []).append(got)
            loads.append(os.getloadavg()[0])
        print(f"  {key}: " + ", ".join(f"{way} {statistics.median(c for c, _ in results[(key, way)]) * 1000:.2f} ms"
                                      for way in ways if (key, way) in results), file=sys.stderr)

    # the first view after a change of the books: coop's caches miss (the books version moved on: here bumped as a
    # posting would, outside the timing), Fava re-reads its ledger file (as its watcher has it do on a change)
    from sqlalchemy.orm import Session

    from coop.models.books import bump_now

    def coop_changed(key):
        spent = []
        for _ in range(args.change_repeat):
            with app.app_context(), Session(db.engine) as other:
                bump_now(other, [v.org_id])
                other.commit()
            spent.append(per_load(coop, pages[key], 1, api_headers if key.startswith("api") else None))
        return tuple(statistics.median(x) for x in zip(*spent))

    def fava_changed(key):
        """What Fava does when its watcher sees the file change (FavaLedger.changed): load_file, then the page."""
        ledger = fava_flask.config["LEDGERS"].ledgers[0]  # the one file
        spent = []
        for _ in range(args.change_repeat):
            c0, w0 = time.process_time(), time.perf_counter()
            ledger.load_file()
            c, w = per_load(fava, fpages[key], 1)
            spent.append((time.process_time() - c0, time.perf_counter() - w0))
        return tuple(statistics.median(x) for x in zip(*spent))

    changed = {}
    for key in ("tb", "detail", "vouchers"):
        changed[key] = (coop_changed(key), fava_changed(key))
        print(f"  {key} after a change: coop {changed[key][0][0] * 1000:.2f} ms, fava {changed[key][1][0] * 1000:.2f} ms",
              file=sys.stderr)

    sizes = {key: (body_size(coop, pages[key], api_headers if key.startswith("api") else None),
                   body_size(fava, fpages[key])) for key in pages}
    labels = {"tb": f"科目余额表 {y}年{MONTH}月 page", "detail": f"明细账 10201 {y}年{MONTH}月 page ({bank_lines} lines)",
              "vouchers": f"voucher list {y}年{MONTH}月 ({dec} vouchers)", "api_tb": "JSON API 科目余额表"}
    rows = []
    for key in pages:
        med = {way: (statistics.median(c for c, _ in results[(key, way)]),
                     statistics.median(w for _, w in results[(key, way)]))
               for way in ways if (key, way) in results}
        fc, fw = med["fava"]
        for way in ("coop uncached", "coop repeat view", "coop 304"):
            if way not in med:
                continue
            c, w = med[way]
            if key == "api_tb":
                target = "—"
            elif way == "coop 304":
                target, ok = "≥ 5× Fava's loads/s", fw / w >= 5
            elif way == "coop repeat view":
                target, ok = "≤ 1.0× Fava's CPU, ≥ 5× its loads/s", c / fc <= 1.0 and fw / w >= 5
            else:
                target, ok = "≤ 1.0× Fava's CPU", c / fc <= 1.0
            rows.append([labels[key], way, f"{c * 1000:.2f}", f"{1 / w:.0f}", f"{fc * 1000:.2f}", f"{1 / fw:.0f}",
                         f"{c / fc:.2f}×", f"{fw / w:.2f}×", f"{sizes[key][0] // 1024} / {sizes[key][1] // 1024}",
                         target + ("" if target == "—" else (": met" if ok else ": NOT met"))])
    for key, ((c, w), (fc, fw)) in changed.items():
        rows.append([labels[key], "first view after a change (Fava: its file re-read)", f"{c * 1000:.2f}",
                     f"{1 / w:.0f}", f"{fc * 1000:.2f}", f"{1 / fw:.0f}", f"{c / fc:.2f}×", f"{fw / w:.2f}×",
                     f"{sizes[key][0] // 1024} / {sizes[key][1] // 1024}", "— (like for like)"])
    header = ["page", "coop path", "coop CPU ms/load", "coop loads/s", "Fava CPU ms/load", "Fava loads/s",
              "CPU coop/Fava", "loads/s coop/Fava", "KB coop / Fava", "target"]
    with open("/proc/loadavg") as f:
        loadavg = f.read().split()[:3]
    intro = (f"`{command_line()}` — backend {backend}, python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
             f"/proc/loadavg at the end {' '.join(loadavg)} (1-minute load during the rounds "
             f"{min(loads):.1f}–{max(loads):.1f}); one village, {args.vouchers} vouchers × {args.lines} lines in "
             f"{y}; both apps in this process through their Flask test clients; median of {args.rounds} rounds × "
             f"{args.repeat} loads, coop and Fava alternating. CPU = time.process_time() per load (a Fava load is "
             f"its page shell + the JSON the shell fetches); loads/s = 1 / wall time per load, one client.")
    for r in rows:
        print(" | ".join(r))
    if not args.no_results:
        append_results(f"bench_pages.py ({backend})", intro, header, rows)


if __name__ == "__main__":
    main()
