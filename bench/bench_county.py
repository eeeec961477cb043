"""County scale (issue #10): import throughput, 科目余额表 against its limit and peers, HTTP under load.

    .venv/bin/python bench/bench_county.py --villages 10                        # SQLite and PostgreSQL
    .venv/bin/python bench/bench_county.py --villages 100 --services-villages 10  # reads on raw-loaded data
    .venv/bin/python bench/bench_county.py --villages 2 --vouchers 200 --backends sqlite --no-http --no-results

Not a test. For each backend (a temp SQLite file; a throwaway PostgreSQL from tests/pg.py):

1. import (--paths): bench/county.py loads --services-villages villages through the services one by one
   (制单 → 审核 → 记账, monthly 结账, members and an issued register) into one database, --villages villages
   through the services in bulk (vouchers.post_many a village-month at a time, as the xlsx import; same closes,
   members, register) into another, and --villages villages of the SAME vouchers by raw bulk insert
   (executemany / COPY) into a third: vouchers/s of each, and their ratio to the raw insert.
2. 科目余额表: `reports.trial_balance` (what the page calls) for one village-month (12月, with 期初 and 本年累计)
   and `reports.county_trial_balance` for the county-year, median of --repeat in fresh sessions, against a bare
   `SELECT account_id, sum(debit), sum(credit) … GROUP BY account_id` over the same posted lines (the limit), and
   against `hledger bal` and beancount (`bean-query`, and `beancount.loader.load_file` + a sum per account) on the
   journals `coop.documents.export` writes for the same data (the peers; their time includes parsing, as they have no
   database). The reads run on the one-by-one database when it holds every village, else on the bulk one, else on
   the raw one.
3. HTTP (PostgreSQL only): gunicorn (--workers sync workers, ProductionConfig) on that database, --clients threads
   logged in as the village's accountant, each requesting the page in a loop for --seconds: p50/p90/p99 latency
   and requests/s for the 科目余额表 (12月) and the voucher list (2025, all months); the same for Fava (in its own
   venv, --fava) serving the village's beancount journal: its trial balance (12月) and journal (2025).

Appends one section to bench/RESULTS.md (--no-results to skip).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import county  # noqa: E402
from _common import ROOT, append_results, clock, command_line, fresh_pg_database, load  # noqa: E402

FAVA_VENV = Path(os.environ.get("COOP_BENCH_FAVA_VENV", "/tmp/coop-bench-fava"))
MONTH = 12


def median_time(fn, repeat: int, fresh=None) -> tuple[float, float]:
    """Median wall and CPU seconds of `fn()` over `repeat` runs (after one warm-up), `fresh()` before each."""
    fresh = fresh or (lambda: None)
    fresh()
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        fresh()
        w0, c0 = clock()
        fn()
        w1, c1 = clock()
        walls.append(w1 - w0)
        cpus.append(c1 - c0)
    return statistics.median(walls), statistics.median(cpus)


def run_timed(cmd: list[str], repeat: int) -> tuple[float, str]:
    """Median wall seconds of a command (a subprocess: parse + report), and its last output."""
    walls, out = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        if p.returncode:
            raise RuntimeError(f"{cmd[0]} failed: {p.stderr[-2000:]}")
        out = p.stdout
    return statistics.median(walls), out


# ------------------------------------------------------------------ 2. 科目余额表 against the limit and the peers

BARE_MONTH = ("SELECT l.account_id, sum(l.debit), sum(l.credit) FROM voucher_lines l JOIN vouchers v "
              "ON v.id = l.voucher_id WHERE v.organization_id = :org AND v.status = 'posted' AND v.year = :y "
              "AND v.month = :m GROUP BY l.account_id")
BARE_YTD = ("SELECT l.account_id, sum(l.debit), sum(l.credit) FROM voucher_lines l JOIN vouchers v "
            "ON v.id = l.voucher_id WHERE v.organization_id = :org AND v.status = 'posted' AND v.year = :y "
            "AND v.month <= :m GROUP BY l.account_id")
BARE_COUNTY = ("SELECT l.account_id, sum(l.debit), sum(l.credit) FROM voucher_lines l JOIN vouchers v "
               "ON v.id = l.voucher_id WHERE v.status = 'posted' AND v.year = :y GROUP BY l.account_id")


def read_benchmarks(app, county_id: int, org_id: int, repeat: int) -> dict:
    import sqlalchemy as sa

    from coop.core.extensions import db
    from coop.models import County, Organization
    from coop.services import reports

    y = county.YEAR
    out = {}
    with app.app_context():
        def bare(sql, **kw):
            return lambda: db.session.execute(sa.text(sql), kw).all()

        fresh = db.session.remove
        out["village_month"] = median_time(
            lambda: reports.trial_balance(db.session.get(Organization, org_id), y, MONTH), repeat, fresh)
        out["bare_month"] = median_time(bare(BARE_MONTH, org=org_id, y=y, m=MONTH), repeat, fresh)
        out["bare_ytd"] = median_time(bare(BARE_YTD, org=org_id, y=y, m=MONTH), repeat, fresh)
        out["county_year"] = median_time(
            lambda: reports.county_trial_balance(db.session.get(County, county_id), y, 1, 12), repeat, fresh)
        out["bare_county"] = median_time(bare(BARE_COUNTY, y=y), repeat, fresh)
        # the two must agree: the county's 本期 totals are the bare sums
        tb = reports.county_trial_balance(db.session.get(County, county_id), y, 1, 12)
        d, c = db.session.execute(sa.text(
            "SELECT sum(l.debit), sum(l.credit) FROM voucher_lines l JOIN vouchers v ON v.id = l.voucher_id "
            "WHERE v.status = 'posted' AND v.year = :y"), {"y": y}).one()
        assert tb.totals["debit"] * 100 == d and tb.totals["credit"] * 100 == c and tb.balanced, (tb.totals, d, c)
        out["lines_county"] = db.session.scalar(sa.text("SELECT count(*) FROM voucher_lines"))
        out["lines_month"] = db.session.scalar(sa.text(
            "SELECT count(*) FROM voucher_lines l JOIN vouchers v ON v.id = l.voucher_id WHERE v.organization_id = "
            ":org AND v.year = :y AND v.month = :m"), {"org": org_id, "y": y, "m": MONTH})
        db.session.remove()
    return out


def export_journals(app, org_id: int, workdir: Path) -> dict[str, Path]:
    """The village's and the whole county's year as hledger and beancount journals (coop.documents.export)."""
    import sqlalchemy as sa

    from coop.documents import export
    from coop.core.extensions import db
    from coop.models import Organization

    paths = {k: workdir / n for k, n in (("village_hledger", "village.journal"), ("village_bean", "village.beancount"),
                                         ("county_hledger", "county.journal"), ("county_bean", "county.beancount"))}
    with app.app_context():
        ids = list(db.session.scalars(sa.select(Organization.id).order_by(Organization.id)))
        opens, body = set(), []
        with paths["county_hledger"].open("w") as hl:
            for i in ids:
                org = db.session.get(Organization, i)
                h = export.to_hledger(org, county.YEAR)
                b = export.to_beancount(org, county.YEAR)
                if i == org_id:
                    paths["village_hledger"].write_text(h)
                    paths["village_bean"].write_text(b)
                hl.write(h)
                for line in b.splitlines():
                    if line.startswith("option "):
                        continue
                    if re.match(r"^\d{4}-\d\d-\d\d open ", line):
                        opens.add(line)
                    else:
                        body.append(line)
                db.session.remove()
        head = ['option "title" "基准县（全县合并）"', 'option "operating_currency" "CNY"']
        paths["county_bean"].write_text("\n".join(head + sorted(opens) + body) + "\n")
    return paths


def peer_benchmarks(paths: dict[str, Path], repeat: int) -> dict:
    """hledger and beancount on the exported journals: village-month and county-year."""
    y, out = county.YEAR, {}
    hledger = shutil.which("hledger")
    venv_bin = ROOT / ".venv" / "bin"
    if hledger:
        out["hledger_month"], _ = run_timed([hledger, "-f", str(paths["village_hledger"]), "bal", "-p",
                                             f"{y}-{MONTH:02d}"], repeat)
        out["hledger_county"], _ = run_timed([hledger, "-f", str(paths["county_hledger"]), "bal"], repeat)
    if (venv_bin / "bean-query").exists():
        q_month = f"SELECT account, sum(position) WHERE year = {y} AND month = {MONTH} GROUP BY account"
        out["beanquery_month"], _ = run_timed([str(venv_bin / "bean-query"), str(paths["village_bean"]), q_month],
                                              repeat)
        out["beanquery_county"], _ = run_timed([str(venv_bin / "bean-query"), str(paths["county_bean"]),
                                                "SELECT account, sum(position) GROUP BY account"], repeat)
        # the loader alone, in one process: parse + booking + the plugins, then a sum per account
        code = ("import sys, time; from collections import defaultdict; from beancount import loader\n"
                "t = time.perf_counter(); entries, errors, _ = loader.load_file(sys.argv[1]); s = defaultdict(int)\n"
                "for e in entries:\n"
                "    for p in getattr(e, 'postings', ()): s[p.account] += p.units.number\n"
                "assert not errors, errors[:3]; print(time.perf_counter() - t)")
        for key, f in (("beancount_loader_month", paths["village_bean"]), ("beancount_loader_county",
                                                                           paths["county_bean"])):
            times = []
            for _ in range(repeat):
                p = subprocess.run([str(venv_bin / "python"), "-c", code, str(f)], capture_output=True, text=True)
                if p.returncode:
                    raise RuntimeError(p.stderr[-2000:])
                times.append(float(p.stdout.strip()))
            out[key] = statistics.median(times)
    return out


# ------------------------------------------------------------------ 3. HTTP under concurrent clients


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    import requests

    t0 = time.time()
    while time.time() - t0 < timeout:
        with contextlib.suppress(requests.RequestException):
            requests.get(url, timeout=5, allow_redirects=False)
            return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def login(base: str, username: str, password: str):
    import requests

    s = requests.Session()
    page = s.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = s.post(f"{base}/login", data={"csrf_token": token, "username": username, "password": password},
               allow_redirects=False)
    if r.status_code != 302:
        raise RuntimeError(f"login failed: {r.status_code}")
    return s


def hammer(make_session, urls: list[str], clients: int, seconds: float) -> dict:
    """`clients` threads, each with its own session, load the page (GET each of `urls` in turn: Fava's pages are
    a shell plus a JSON request) in a loop for `seconds`: latencies of whole page loads and pages/s."""
    sessions = [make_session() for _ in range(clients)]
    for s in sessions[:2]:  # warm the workers' caches
        for _ in range(2):
            for url in urls:
                s.get(url).raise_for_status()
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(s):
        mine = []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            for url in urls:
                r = s.get(url)
                if r.status_code != 200:
                    errors[0] += 1
            mine.append(time.perf_counter() - t0)
        with lock:
            lat.extend(mine)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")

    return {"n": len(lat), "errors": errors[0], "rps": len(lat) / elapsed, "p50": pct(50), "p90": pct(90),
            "p99": pct(99), "size": sum(len(sessions[0].get(url).content) for url in urls)}


@contextlib.contextmanager
def server(cmd: list[str], env: dict, url: str, log: Path):
    with log.open("w") as f:
        p = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=f, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        wait_http(url)
        yield p
    finally:
        p.terminate()
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


def http_benchmarks(db_url: str, org_id: int, bean: Path, args, workdir: Path) -> dict:
    import requests

    out = {}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"COOP_DATABASE_URL": db_url, "COOP_CONFIG": "config.ProductionConfig",
           "COOP_SECRET_KEY": secrets.token_hex(32), "COOP_COOKIE_SECURE": "0",
           "COOP_AUDIT_KEY": os.environ.get("COOP_AUDIT_KEY") or "bench:" + secrets.token_hex(32),
           "COOP_INSTANCE_DIR": str(workdir / "instance"), "COOP_ATTACHMENT_DIR": str(workdir / "att")}
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
           "--access-logfile", "-" if args.verbose else "/dev/null", "wsgi:app"]
    pages = {"tb_page": [f"{base}/o/{org_id}/reports/trial-balance?year={county.YEAR}&month={MONTH}"],
             "voucher_list": [f"{base}/o/{org_id}/vouchers?year={county.YEAR}"]}
    with server(cmd, env, f"{base}/login", workdir / "gunicorn.log"):
        for key, url in pages.items():
            out[key] = hammer(lambda: login(base, "bench_kj1", county.PASSWORD), url, args.clients, args.seconds)
            print(f"  {key}: {out[key]}", file=sys.stderr)
    fava = FAVA_VENV / "bin" / "fava"
    if fava.exists():
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with server([str(fava), "--host", "127.0.0.1", "--port", str(port), "--read-only", str(bean)], {},
                    base + "/", workdir / "fava.log"):
            loc = requests.get(base + "/", allow_redirects=False).headers["Location"]
            slug = [p for p in urlsplit(loc).path.split("/") if p][0]  # / redirects to /<slug>/income_statement/
            tb, jn = f"time={county.YEAR}-{MONTH:02d}", f"time={county.YEAR}"
            fpages = {"fava_tb": [f"{base}/{slug}/trial_balance/?{tb}", f"{base}/{slug}/api/trial_balance?{tb}"],
                      "fava_journal": [f"{base}/{slug}/journal/?{jn}",
                                       f"{base}/{slug}/api/journal_page?page=1&order=desc&{jn}"]}
            for key, url in fpages.items():
                out[key] = hammer(requests.Session, url, args.clients, args.seconds)
                print(f"  {key}: {out[key]}", file=sys.stderr)
    return out


# ------------------------------------------------------------------ the run


def run_backend(backend: str, args, workdir: Path, peers: dict) -> dict:
    """Both loads, the reads, and (PostgreSQL) HTTP on one backend. `peers` is filled on the first call."""
    res: dict = {"backend": backend}
    stack = contextlib.ExitStack()
    with stack:
        paths = args.paths.split(",")
        if backend == "postgresql":
            from tests.pg import ThrowawayPostgres, find_pg_bin

            pg = ThrowawayPostgres(find_pg_bin())
            stack.callback(pg.stop)
            base = pg.start()
            urls = {p: fresh_pg_database(base, f"coop_{p}") for p in paths}
        else:
            urls = {p: f"sqlite:///{workdir}/{backend}-{p}.sqlite3" for p in paths}
        m, n = args.services_villages or args.villages, args.villages
        loaded = {}
        for p in paths:
            k = m if p == "services" else n
            print(f"[{backend}] {p}: {k} villages × {args.vouchers}", file=sys.stderr)
            app_p, cid_p, vs_p, res[p] = county.build(urls[p], args, raw=p == "raw", bulk=p == "bulk", villages_n=k)
            loaded[p] = (app_p, cid_p, vs_p, urls[p], k)
        # read the fullest database loaded through the services; the raw one only if none holds every village
        res["read_from"] = next(p for p in ("services", "bulk", "raw") if p in loaded and loaded[p][4] == n)
        app, cid, villages, url, _ = loaded[res["read_from"]]
        org_id = villages[0].org_id
        print(f"[{backend}] reads", file=sys.stderr)
        res["reads"] = read_benchmarks(app, cid, org_id, args.repeat)
        if not peers and not args.no_peers:
            print(f"[{backend}] exports and peers", file=sys.stderr)
            peers["paths"] = export_journals(app, org_id, workdir)
            peers.update(peer_benchmarks(peers["paths"], args.peer_repeat))
            peers["from"] = f"{backend}, {res['read_from']}-loaded"
        if backend == "postgresql" and not args.no_http:
            print(f"[{backend}] http", file=sys.stderr)
            bean = peers.get("paths", {}).get("village_bean")
            if bean is None:
                bean = export_journals(app, org_id, workdir)["village_bean"]
            res["http"] = http_benchmarks(url, org_id, bean, args, workdir)
        for a, *_ in loaded.values():
            with a.app_context():
                from coop.core.extensions import db

                db.engine.dispose()
    res["load"] = load()
    return res


def ms(x: float) -> str:
    return f"{x * 1000:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "—"


def write(results: list[dict], peers: dict, args, note: str) -> list[list]:
    rows = []
    for r in results:
        b, rd = r["backend"], r["reads"]
        w = r.get("raw")
        raw_rate = w["vouchers"] / w["wall"] if w else None
        for p, label in (("services", "import via services one by one (制单, 审核, 记账; 月结)"),
                         ("bulk", "import via services in bulk (vouchers.post_many a village-month; 月结)")):
            if p not in r:
                continue
            s = r[p]
            rate = s["vouchers"] / s["wall"]
            rows.append([b, label, f"{s['villages']} villages, {s['vouchers']} vouchers",
                         f"{s['wall']:.1f} s / {s['cpu']:.1f} s cpu", f"**{rate:.0f} vouchers/s**",
                         f"raw bulk insert {raw_rate:.0f}/s ({w['villages']} villages, {w['wall']:.1f} s)" if w else "",
                         f"{rate / raw_rate:.3f}× of the limit (1/{raw_rate / rate:.0f})" if w else ""])
            rows.append([b, f"members + issued register via services ({p} database)",
                         f"{s['villages']} villages × {args.members}",
                         f"{s['members_wall']:.1f} s / {s['members_cpu']:.1f} s cpu", "", "", ""])
        vm, bm, by = rd["village_month"], rd["bare_month"], rd["bare_ytd"]
        rows.append([b, f"科目余额表 village-month {county.YEAR}-{MONTH} (期初+本期+本年累计), reports.trial_balance",
                     f"{rd['lines_month']} lines in the month", f"{ms(vm[0])} ms / {ms(vm[1])} ms cpu",
                     f"bare GROUP BY of the month {ms(bm[0])} ms; of the year to date {ms(by[0])} ms",
                     _peer_text(peers, "month"),
                     f"{ratio(vm[0], bm[0])} month GROUP BY; {ratio(vm[0], by[0])} YTD GROUP BY" +
                     _peer_ratio(peers, "month", vm[0])])
        cy, bc = rd["county_year"], rd["bare_county"]
        rows.append([b, f"科目余额表 county-year {county.YEAR}, reports.county_trial_balance",
                     f"{rd['lines_county']} lines", f"{ms(cy[0])} ms / {ms(cy[1])} ms cpu",
                     f"bare GROUP BY {ms(bc[0])} ms", _peer_text(peers, "county"),
                     f"**{ratio(cy[0], bc[0])}** bare GROUP BY" + _peer_ratio(peers, "county", cy[0])])
        for key, label, peer, plabel in (("tb_page", "HTTP 科目余额表 page (12月)", "fava_tb", "Fava trial_balance 12月"),
                                         ("voucher_list", f"HTTP voucher list ({county.YEAR}, all months)",
                                          "fava_journal", f"Fava journal {county.YEAR}")):
            h = r.get("http", {})
            if key not in h:
                continue
            x, f = h[key], h.get(peer)
            rows.append([b, label, f"{args.clients} clients, {args.workers} gunicorn workers, {x['size'] // 1024} KB",
                         f"p50 {ms(x['p50'])} / p90 {ms(x['p90'])} / p99 {ms(x['p99'])} ms",
                         f"**{x['rps']:.1f} pages/s** ({x['n']} page loads, {x['errors']} errors)",
                         (f"{plabel}: p50 {ms(f['p50'])} / p90 {ms(f['p90'])} / p99 {ms(f['p99'])} ms, "
                          f"{f['rps']:.1f} pages/s, {f['size'] // 1024} KB") if f else "Fava not installed",
                         f"{x['rps'] / f['rps']:.2f}× Fava's pages/s; p50 {ratio(x['p50'], f['p50'])}" if f else ""])
    if not args.no_results:
        append_results("bench_county.py", f"`{command_line()}` — {note}",
                       ["backend", "what", "size", "ours (median; wall / cpu)", "throughput or limit",
                        "peer", "ratio"], rows)
    return rows


def _peer_text(peers: dict, scope: str) -> str:
    parts = []
    for key, label in (("hledger", "hledger bal"), ("beanquery", "bean-query"), ("beancount_loader", "beancount loader")):
        if f"{key}_{scope}" in peers:
            parts.append(f"{label} {peers[f'{key}_{scope}']:.2f} s")
    return "; ".join(parts)


def _peer_ratio(peers: dict, scope: str, ours: float) -> str:
    parts = [f"1/{peers[f'{k}_{scope}'] / ours:.0f} of {label}" for k, label in
             (("hledger", "hledger"), ("beanquery", "bean-query")) if f"{k}_{scope}" in peers]
    return ("; " + ", ".join(parts)) if parts else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    county.add_arguments(ap)
    ap.set_defaults(villages=10)
    ap.add_argument("--services-villages", type=int, help="villages loaded one by one through the services "
                                                          "(default: all)")
    ap.add_argument("--paths", default="services,bulk,raw",
                    help="loads to measure: services (one by one), bulk (vouchers.post_many), raw (the limit)")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each query (median)")
    ap.add_argument("--peer-repeat", type=int, default=3)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-results", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (SQLite files, journals, logs)")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="coop-bench-county-"))
    results, peers = [], {}
    t0 = time.perf_counter()
    try:
        for backend in args.backends.split(","):
            results.append(run_backend(backend, args, workdir, peers))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"work dir kept: {workdir}", file=sys.stderr)
    hv = subprocess.run(["hledger", "--version"], capture_output=True, text=True).stdout.strip() if shutil.which(
        "hledger") else "no hledger"
    note = (f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average at the end "
            f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())}, whole run {time.perf_counter() - t0:.0f} s; "
            f"{args.vouchers} vouchers × {args.lines} lines a village; reads on the "
            f"{results[0]['read_from']}-loaded database; peers on journals exported from {peers.get('from', '—')} "
            f"({hv}, beancount via .venv's bean-query / loader, Fava {FAVA_VENV})")
    rows = write(results, peers, args, note)
    print(note)
    for r in rows:
        print(" | ".join(str(c) for c in r))


if __name__ == "__main__":
    main()
