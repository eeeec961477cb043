"""A county at month end (issue #24, goal 4): 100 villages on PostgreSQL, gunicorn on 2 cores, 50 clients over HTTP.

    .venv/bin/python bench/bench_month_end.py                               # 100 villages, sync:5, 120 s
    .venv/bin/python bench/bench_month_end.py --servers sync:5,gthread:2x8 --seconds 60   # both models, one run
    .venv/bin/python bench/bench_month_end.py --villages 10 --vouchers 200 --clients 10 --seconds 15 --no-results

Not a test. In a throwaway PostgreSQL (tests/pg.py) it builds the county of bench/county.py by its raw path
(--villages × --vouchers a year × 3 lines, 2025, posted; 10 villages to a township, one 代理会计 for the ten), then
through the services: one member with a portal login in each client's village and API tokens for the accountants
and reviewers. For each --servers entry it starts gunicorn (ProductionConfig) and runs --clients threads, each a
person at month end in one village (client i in village 2i), for --seconds after a --warmup:

  page     科目余额表 2025-12 (with 期初 and 本年累计), 明细账 10201 2025-12, the voucher list of 2025-12, 待办
  portal   the village member's household page, 公开栏, 我的分红
  api      the JSON 科目余额表, the voucher list, one voucher
  posting  制单 → 审核 → 记账 of a 2025-12 voucher through the API (the accountant's token, then the reviewer's)
  pdf      a 记账凭证 PDF of a random voucher of the village: one request in 20

Each client waits an exponential think time (mean --think s) between requests, as people do; with --think 0 it
is a closed loop at full speed (the saturation point). Reports p50/p95/p99 per kind, requests/s, errors (any
status other than the expected one, or a connection error: must be 0), the server's CPU (gunicorn workers and
PostgreSQL backends, from /proc) per request, and /proc/loadavg before, during (max) and after. Afterwards it
checks that every voucher the clients posted is in the books once. Appends a section to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import signal
import datetime as dt
import json
import os
import random
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import county  # noqa: E402
from _common import append_results, command_line  # noqa: E402
from bench_county import free_port, server  # noqa: E402

MONTH = 12
TAG = "MONTHEND"  # in every summary the clients write
TARGET_MS = 300
KINDS = ("page", "portal", "api", "posting", "pdf")
#: what a client does next (weights; a posting is three requests, a PDF comes every 20th request regardless)
MIX = (("tb_page", 12), ("detail_page", 10), ("voucher_page", 10), ("todo_page", 6), ("portal", 12),
       ("api_tb", 10), ("api_vouchers", 10), ("api_voucher", 10), ("posting", 8))


# ------------------------------------------------------------------ data


def fixtures(url: str, villages: list, clients: int) -> dict:
    """Portal members, API tokens and voucher id ranges for the clients' villages (services, untimed)."""
    import sqlalchemy as sa

    from coop import create_app
    from coop.core.extensions import db
    from coop.models import Organization, User, Voucher
    from coop.services import members, users

    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=url, SERVER_NAME="coop.bench")
    out = []
    with app.app_context():
        tokens: dict[int, str] = {}
        for i in range(clients):
            v = villages[(2 * i) % len(villages)]
            org = db.session.get(Organization, v.org_id)
            acc, rev = db.session.get(User, v.accountant_id), db.session.get(User, v.reviewer_id)
            for u in (acc, rev):
                if u.id not in tokens:
                    tokens[u.id] = users.issue_api_token(u, "month-end bench")
            name = f"bench_cy{v.index + 1}"
            member_user = db.session.scalar(sa.select(User).where(User.username == name))
            if member_user is None:
                h = members.create_household(org, number="0001")
                birth = dt.date(1970, 1 + v.index % 12, 1 + v.index % 28)
                m = members.add_member(h, name="张建国", id_number=county.id_number(v.index, birth, 1), relation="户主")
                members.record_membership_event(m, "confirmed", date=dt.date(2024, 6, 1),
                                                evidence="2024年第1号成员大会决议", user=acc, today=county.TODAY)
                member_user = users.create_user(name, "张建国", county.PASSWORD)
                users.assign_role(member_user, "member", org)
                m.user_id = member_user.id
                db.session.flush()
                household_id = h.id
            else:
                household_id = db.session.scalar(sa.text(
                    "SELECT household_id FROM members WHERE user_id = :u"), {"u": member_user.id})
            lo, hi = db.session.execute(sa.select(sa.func.min(Voucher.id), sa.func.max(Voucher.id))
                                        .where(Voucher.organization_id == v.org_id)).one()
            out.append({"org": v.org_id, "accountant": acc.username, "token": tokens[acc.id],
                        "reviewer_token": tokens[rev.id], "member": name, "household": household_id,
                        "vouchers": (lo, hi)})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"clients": out}


# ------------------------------------------------------------------ clients


def login(base: str, username: str, password: str):
    import requests

    s = requests.Session()
    page = s.get(f"{base}/login", timeout=60).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = s.post(f"{base}/login", data={"csrf_token": token, "username": username, "password": password},
               allow_redirects=False, timeout=60)
    if r.status_code != 302:
        raise RuntimeError(f"login of {username} failed: {r.status_code}")
    return s


class Client(threading.Thread):
    """One person at month end in one village: logged in on the web as the accountant and as the village's member,
    and holding the accountant's and the reviewer's API tokens. Records (kind, what, ms, ok)."""

    def __init__(self, index: int, base: str, fx: dict, args, start_at: float, stop_at: float, t0_measure: float):
        super().__init__(daemon=True)
        import requests

        self.requests = requests
        self.i, self.base, self.fx, self.args = index, base, fx, args
        self.rng = random.Random(1000 + index)
        self.start_at, self.stop_at, self.t0_measure = start_at, stop_at, t0_measure
        self.records: list[tuple[str, str, float, bool]] = []
        self.problems: list[str] = []
        self.posted: list[str] = []
        self.requests_done = 0
        self.tag = secrets.token_hex(3)  # summaries stay unique across the servers of one run
        self.web = login(base, fx["accountant"], county.PASSWORD)
        self.member = login(base, fx["member"], county.PASSWORD)
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {fx['token']}"
        self.rev = requests.Session()
        self.rev.headers["Authorization"] = f"Bearer {fx['reviewer_token']}"

    def call(self, sess, kind: str, what: str, method: str, path: str, ok=(200,), **kw):
        t0 = time.perf_counter()
        r, status = None, 0
        try:
            r = sess.request(method, self.base + path, timeout=120, allow_redirects=False, **kw)
            status = r.status_code
            _ = r.content
        except self.requests.RequestException as exc:
            self.problems.append(f"{what} {method} {path}: {type(exc).__name__}: {exc}")
        t1 = time.perf_counter()
        good = status in ok
        if not good and status and len(self.problems) < 30:
            self.problems.append(f"{what} {method} {path}: {status} {r.text[:300]!r}")
        if t0 >= self.t0_measure:
            self.records.append((kind, what, (t1 - t0) * 1000, good))
        self.requests_done += 1
        return r if good else None

    def think(self) -> None:
        if self.args.think > 0:
            time.sleep(min(self.rng.expovariate(1 / self.args.think), 10 * self.args.think))

    def run(self) -> None:
        time.sleep(max(0.0, self.start_at - time.perf_counter()))
        names, weights = zip(*MIX)
        pdfs = 0
        try:
            while time.perf_counter() < self.stop_at:
                if (self.requests_done + 1) // 20 > pdfs:  # the 20th, 40th… request
                    pdfs += 1
                    self.pdf()
                else:
                    getattr(self, self.rng.choices(names, weights)[0])()
                self.think()
        except Exception as exc:  # noqa: BLE001 — reported; the others go on
            self.problems.append(f"client {self.i} crashed: {type(exc).__name__}: {exc}")

    # --- what people do
    @property
    def o(self) -> str:
        return f"/o/{self.fx['org']}"

    @property
    def a(self) -> str:
        return f"/api/v1/orgs/{self.fx['org']}"

    def tb_page(self):
        self.call(self.web, "page", "科目余额表", "GET",
                  f"{self.o}/reports/trial-balance?year={county.YEAR}&month_from={MONTH}&month_to={MONTH}")

    def detail_page(self):
        self.call(self.web, "page", "明细账", "GET", f"{self.o}/reports/detail-ledger?year={county.YEAR}"
                                                  f"&month_from={MONTH}&month_to={MONTH}&code=10201")

    def voucher_page(self):
        self.call(self.web, "page", "凭证列表", "GET", f"{self.o}/vouchers?year={county.YEAR}&month={MONTH}")

    def todo_page(self):
        self.call(self.web, "page", "待办", "GET", "/todo")

    def portal(self):
        path = self.rng.choice((f"/me/households/{self.fx['household']}", f"{self.o}/disclosure/published",
                                f"{self.o}/distribution/mine"))
        self.call(self.member, "portal", "成员门户", "GET", path)

    def api_tb(self):
        self.call(self.api, "api", "API 科目余额表", "GET", f"{self.a}/reports/trial-balance?"
                                                         f"year={county.YEAR}&month_from={MONTH}&month_to={MONTH}")

    def api_vouchers(self):
        self.call(self.api, "api", "API 凭证列表", "GET", f"{self.a}/vouchers?year={county.YEAR}&month={MONTH}")

    def api_voucher(self):
        vid = self.rng.randint(*self.fx["vouchers"])
        self.call(self.api, "api", "API 凭证", "GET", f"{self.a}/vouchers/{vid}")

    def posting(self):
        amount = f"{self.rng.randint(100, 500_000) / 100:.2f}"
        summary = f"{TAG} 支付保洁费 {self.tag}-{self.i}-{self.requests_done}"
        body = {"date": f"{county.YEAR}-{MONTH:02d}-{self.rng.randint(1, 31):02d}", "attachment_count": 1, "lines": [
            {"summary": summary, "account_code": "51402", "debit": amount, "credit": "0"},
            {"summary": summary, "account_code": "10201", "debit": "0", "credit": amount}]}
        base = f"{self.a}/vouchers"
        r = self.call(self.api, "posting", "制单", "POST", base, ok=(201,), json=body)
        if r is None:
            return
        vid = r.json()["id"]
        self.think()
        if self.call(self.rev, "posting", "审核", "POST", f"{base}/{vid}/review") is None:
            return
        self.think()
        if self.call(self.api, "posting", "记账", "POST", f"{base}/{vid}/post") is not None:
            self.posted.append(summary)

    def pdf(self):
        vid = self.rng.randint(*self.fx["vouchers"])
        r = self.call(self.web, "pdf", "凭证 PDF", "GET", f"{self.o}/reports/vouchers/{vid}.pdf")
        if r is not None and not r.content.startswith(b"%PDF"):
            self.problems.append(f"voucher {vid}: not a PDF")


# ------------------------------------------------------------------ server-side CPU from /proc


def _descendants(root: int) -> list[int]:
    kids = defaultdict(list)
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                kids[int(p.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])].append(int(p.name))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, ()))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes and their reaped children."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in f[11:15])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def postmaster_pid(url: str) -> int | None:
    import sqlalchemy as sa

    e = sa.create_engine(url)
    with e.connect() as c:
        data = c.exec_driver_sql("SHOW data_directory").scalar()
    e.dispose()
    try:
        return int(Path(data, "postmaster.pid").read_text().split()[0])
    except OSError:
        return None


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ------------------------------------------------------------------ one server configuration


def parse_server(spec: str) -> tuple[str, int, int]:
    """'sync:5' or 'gthread:2x8' → (worker class, workers, threads)."""
    kind, _, rest = spec.partition(":")
    workers, _, threads = rest.partition("x")
    return kind, int(workers or 2), int(threads or 1)


def run_server(spec: str, url: str, fx: dict, args, workdir: Path) -> dict:
    kind, workers, threads = parse_server(spec)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pool = {"pool_pre_ping": True, "pool_size": max(threads, 1), "max_overflow": 2}
    env = {"COOP_DATABASE_URL": url, "COOP_CONFIG": "config.ProductionConfig", "COOP_SECRET_KEY": secrets.token_hex(32),
           "COOP_COOKIE_SECURE": "0", "COOP_AUDIT_KEY": "bench:" + secrets.token_hex(32),
           "COOP_INSTANCE_DIR": str(workdir / "instance"), "COOP_ATTACHMENT_DIR": str(workdir / "att"),
           "COOP_SQLALCHEMY_ENGINE_OPTIONS": json.dumps(pool)}
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "-k", kind, "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "--backlog", "512", "--timeout", "120", "--keep-alive", "75",
           # the control socket's default path is one per user: several gunicorns on a shared machine fight over it
           "--no-control-socket", "--access-logfile", "/dev/null", "wsgi:app"]
    if kind == "gthread":
        cmd += ["--threads", str(threads)]
    log = workdir / f"gunicorn-{spec.replace(':', '-')}.log"
    pm = postmaster_pid(url)
    with server(cmd, env, f"{base}/login", log) as proc:
        print(f"[{spec}] logging in {args.clients} clients …", file=sys.stderr)
        clients = [Client(i, base, c, args, 0, 0, 0) for i, c in enumerate(fx["clients"][:args.clients])]
        start_at = time.perf_counter() + 1
        t_measure = start_at + args.warmup
        stop_at = t_measure + args.seconds
        for c in clients:
            # spread the first requests over a think time, as people do not click in step
            c.start_at = start_at + (c.rng.random() * args.think if args.think else 0)
            c.t0_measure, c.stop_at = t_measure, stop_at
        loads: list[float] = []
        for c in clients:
            c.start()
        time.sleep(max(0.0, t_measure - time.perf_counter()))
        load_before = loadavg()
        server_pids = _descendants(proc.pid) + (_descendants(pm) if pm else [])
        cpu0 = cpu_seconds(server_pids)
        cpu0_app = cpu_seconds(_descendants(proc.pid))
        c0 = os.times()
        while time.perf_counter() < stop_at:
            time.sleep(min(5.0, max(0.0, stop_at - time.perf_counter())))
            loads.append(float(loadavg().split()[0]))
        server_pids = _descendants(proc.pid) + (_descendants(pm) if pm else [])
        cpu1 = cpu_seconds(server_pids)
        cpu1_app = cpu_seconds(_descendants(proc.pid))
        c1 = os.times()
        load_after = loadavg()
        for c in clients:
            c.join(150)
        tracebacks = log.read_text(errors="replace").count("Traceback")
    records = [r for c in clients for r in c.records]
    problems = [p for c in clients for p in c.problems]
    posted = [s for c in clients for s in c.posted]
    out = {"spec": spec, "records": records, "problems": problems, "posted": posted, "tracebacks": tracebacks,
           "load_before": load_before, "load_after": load_after, "load_max": max(loads) if loads else 0.0,
           "server_cpu": cpu1 - cpu0, "app_cpu": cpu1_app - cpu0_app,
           "client_cpu": (c1.user + c1.system) - (c0.user + c0.system), "seconds": args.seconds}
    summarize(out)
    return out


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(p / 100 * (len(v) - 1))))]


def summarize(out: dict) -> None:
    recs = out["records"]
    n = len(recs)
    out["n"] = n
    out["errors"] = sum(1 for r in recs if not r[3]) + sum(1 for p in out["problems"] if "crashed" in p)
    out["rps"] = n / out["seconds"]
    out["by_kind"] = {}
    for kind in KINDS + ("page+api",):
        ms = [r[2] for r in recs if (r[0] in ("page", "portal", "api") if kind == "page+api" else r[0] == kind)]
        out["by_kind"][kind] = {"n": len(ms), "p50": pct(ms, 50), "p95": pct(ms, 95), "p99": pct(ms, 99),
                                "max": max(ms) if ms else float("nan")}
    out["by_what"] = {}
    for what in dict.fromkeys(r[1] for r in recs):
        ms = [r[2] for r in recs if r[1] == what]
        out["by_what"][what] = {"n": len(ms), "p50": pct(ms, 50), "p95": pct(ms, 95), "p99": pct(ms, 99)}
    print(f"\n[{out['spec']}] {n} requests in {out['seconds']:.0f} s = {out['rps']:.1f}/s, errors {out['errors']}, "
          f"tracebacks {out['tracebacks']}, server cpu {out['server_cpu']:.1f} s "
          f"(gunicorn {out['app_cpu']:.1f} s), client cpu {out['client_cpu']:.1f} s; "
          f"load {out['load_before']} → max {out['load_max']:.2f} → {out['load_after']}", file=sys.stderr)
    for what, s in list(out["by_kind"].items()) + list(out["by_what"].items()):
        print(f"  {what:<16} n={s['n']:6d}  p50 {s['p50']:7.1f}  p95 {s['p95']:7.1f}  p99 {s['p99']:7.1f} ms",
              file=sys.stderr)
    for p in out["problems"][:10]:
        print("  problem:", p, file=sys.stderr)


def check_posted(url: str, results: list[dict]) -> tuple[int, int]:
    """Every voucher a client saw posted is in the books exactly once, posted: (seen posted, found)."""
    import sqlalchemy as sa

    seen = [s for r in results for s in r["posted"]]
    e = sa.create_engine(url)
    with e.connect() as c:
        rows = c.execute(sa.text("SELECT l.summary, count(*) FROM voucher_lines l JOIN vouchers v ON v.id = l.voucher_id "
                                 "WHERE l.summary LIKE :tag AND v.status = 'posted' AND l.seq = 1 GROUP BY l.summary"),
                         {"tag": TAG + "%"}).all()
        sizes = {t: c.execute(sa.text(f"SELECT pg_total_relation_size('{t}'), pg_relation_size('{t}'), "
                                      f"(SELECT count(*) FROM {t})")).one()
                 for t in ("vouchers", "voucher_lines", "audit_log")}
    e.dispose()
    print("table sizes (total with indexes, heap, rows): " + "; ".join(
        f"{t} {tot / 2**20:.0f} MB / {heap / 2**20:.0f} MB / {n} rows = {tot / max(n, 1):.0f} B a row"
        for t, (tot, heap, n) in sizes.items()), file=sys.stderr)
    found = dict(rows)
    return len(seen), sum(1 for s in seen if found.get(s) == 1)


# ------------------------------------------------------------------ report


def f(x: float) -> str:
    return "—" if x != x else f"{x:.0f}"


def write(results: list[dict], args, build: dict, check: tuple[int, int], note: str, cost: dict) -> None:
    rows = [["in process", f"· {what}", f"median of {args.cost}", f"wall {w:.1f}", f"cpu {c:.1f}", "", ""]
            for what, (w, c) in cost.items()]
    for r in results:
        for kind in KINDS + ("page+api",):
            s = r["by_kind"][kind]
            target = ""
            if kind in ("page", "portal", "api", "page+api"):
                target = "yes" if s["p95"] <= TARGET_MS else f"**no** (+{s['p95'] - TARGET_MS:.0f} ms)"
            rows.append([r["spec"], kind, s["n"], f(s["p50"]), f(s["p95"]), f(s["p99"]), target])
        for what, s in r["by_what"].items():
            rows.append([r["spec"], f"· {what}", s["n"], f(s["p50"]), f(s["p95"]), f(s["p99"]), ""])
        rows.append([r["spec"], "**all**", r["n"], f"{r['rps']:.1f} req/s", f"errors {r['errors']}",
                     f"server cpu {1000 * r['server_cpu'] / max(r['n'], 1):.1f} ms/req "
                     f"(gunicorn {1000 * r['app_cpu'] / max(r['n'], 1):.1f})",
                     f"loadavg {r['load_before']} → max {r['load_max']:.2f} → {r['load_after']}"])
    intro = (f"`{command_line()}` — python {sys.version.split()[0]}, {os.cpu_count()} cpus; PostgreSQL (tests/pg.py "
             f"throwaway, fsync off); {build['villages']} villages × {args.vouchers} vouchers × {args.lines} lines "
             f"(raw load {build['wall']:.0f} s, setup {build['setup_wall']:.0f} s); {args.clients} clients, think time "
             f"exp. mean {args.think} s, {args.warmup} s warm-up then {args.seconds} s measured per server; "
             f"posted by the clients and found once in the books: {check[1]}/{check[0]}. {note}")
    append_results("bench_month_end.py", intro,
                   ["server", "kind", "requests", "p50 ms", "p95 ms", "p99 ms", f"p95 ≤ {TARGET_MS} ms?"], rows)


def existing_county(url: str) -> tuple[list, dict] | None:
    """The villages of a county an earlier run built in `url` (--reuse), or None."""
    import sqlalchemy as sa

    e = sa.create_engine(url)
    with e.connect() as c:
        if not c.execute(sa.text("SELECT to_regclass('organizations')")).scalar():
            return None
        orgs = c.execute(sa.text("SELECT o.id FROM organizations o ORDER BY o.id")).scalars().all()
        users = dict(c.execute(sa.text("SELECT username, id FROM users WHERE username LIKE 'bench_%'")).all())
        n_v = c.execute(sa.text("SELECT count(*) FROM vouchers")).scalar()
    e.dispose()
    if not orgs or "bench_admin" not in users:
        return None
    villages = [county.Village(i, org, users[f"bench_kj{i // county.VILLAGES_PER_TOWNSHIP + 1}"],
                               users[f"bench_sh{i + 1}"]) for i, org in enumerate(orgs)]
    return villages, {"villages": len(villages), "wall": 0.0, "setup_wall": 0.0, "reused": n_v}


def costs(url: str, fx: dict, repeat: int, profile: str | None) -> dict[str, tuple[float, float]]:
    """In this process, through the Flask test client on the same database: median wall and CPU ms of each page
    and API read (no network, no contention between requests), and a cProfile of `profile` (a `what` name)."""
    import statistics

    from coop import create_app
    from _common import profile_top

    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=url)
    c0 = fx["clients"][0]
    o, a = f"/o/{c0['org']}", f"/api/v1/orgs/{c0['org']}"
    y, m = county.YEAR, MONTH
    urls = {"科目余额表": (False, f"{o}/reports/trial-balance?year={y}&month_from={m}&month_to={m}"),
            "明细账": (False, f"{o}/reports/detail-ledger?year={y}&month_from={m}&month_to={m}&code=10201"),
            "凭证列表": (False, f"{o}/vouchers?year={y}&month={m}"),
            "待办": (False, "/todo"),
            "成员门户": ("member", f"/me/households/{c0['household']}"),
            "API 科目余额表": (True, f"{a}/reports/trial-balance?year={y}&month_from={m}&month_to={m}"),
            "API 凭证列表": (True, f"{a}/vouchers?year={y}&month={m}"),
            "API 凭证": (True, f"{a}/vouchers/{c0['vouchers'][0]}"),
            "凭证 PDF": (False, f"{o}/reports/vouchers/{c0['vouchers'][0]}.pdf")}
    out = {}
    web, member = app.test_client(), app.test_client()
    if True:
        for client, user in ((web, c0["accountant"]), (member, c0["member"])):
            r = client.post("/login", data={"username": user, "password": county.PASSWORD})
            assert r.status_code == 302, r.status_code
        for what, (kind, path) in urls.items():
            client = member if kind == "member" else web
            headers = {"Authorization": f"Bearer {c0['token']}"} if kind is True else {}
            walls, cpus = [], []
            for k in range(repeat + 1):
                w, c = time.perf_counter(), time.process_time()
                # a different voucher each time: the same one would come from the PDF cache
                r = client.get(path.replace(f"/{c0['vouchers'][0]}.pdf", f"/{c0['vouchers'][0] + k}.pdf"),
                               headers=headers)
                assert r.status_code == 200, (what, r.status_code)
                if k:
                    walls.append(time.perf_counter() - w)
                    cpus.append(time.process_time() - c)
            out[what] = (1000 * statistics.median(walls), 1000 * statistics.median(cpus))
            print(f"  cost {what:<14} wall {out[what][0]:7.1f} ms  cpu {out[what][1]:7.1f} ms", file=sys.stderr)
            if profile == what:
                print(profile_top(lambda: client.get(path, headers=headers), 25), file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    county.add_arguments(ap)
    ap.add_argument("--servers", default="sync:5", help="comma-separated gunicorn setups: sync:W or gthread:WxT")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--think", type=float, default=1.0, help="mean think time between a client's requests, s")
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--warmup", type=float, default=10)
    ap.add_argument("--db", help="a PostgreSQL URL (EMPTIED first); default a throwaway cluster")
    ap.add_argument("--reuse", action="store_true", help="with --db: use the county an earlier run built there")
    ap.add_argument("--cost", type=int, default=5, help="in-process cost of each kind: median of N (0: skip)")
    ap.add_argument("--profile", help="cProfile one kind in process (its name, e.g. 凭证列表)")
    ap.add_argument("--note", default="")
    ap.add_argument("--no-results", action="store_true")
    args = ap.parse_args()
    # a SIGTERM unwinds like Ctrl-C: the server and the throwaway cluster are stopped, not orphaned
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from _common import database

    workdir = Path(tempfile.mkdtemp(prefix="coop-monthend-"))
    with database(args.db, pg=not args.db) as url:
        found = existing_county(url) if args.reuse else None
        if found:
            villages, build = found
            print(f"reusing the county in {url}: {len(villages)} villages", file=sys.stderr)
        else:
            print(f"building {args.villages} villages (raw) …", file=sys.stderr)
            _, _, villages, build = county.build(url, args, raw=True, progress=sys.stderr.isatty())
        fx = fixtures(url, villages, args.clients)
        cost = costs(url, fx, args.cost, args.profile) if args.cost else {}
        results = []
        for spec in [s for s in args.servers.split(",") if s not in ("", "none")]:
            results.append(run_server(spec, url, fx, args, workdir))
        check = check_posted(url, results)
    print(f"posted by clients and found once: {check[1]}/{check[0]}", file=sys.stderr)
    if not args.no_results and results:
        write(results, args, build, check, args.note, cost)
    bad = sum(r["errors"] + r["tracebacks"] for r in results) + (check[0] - check[1])
    if bad:
        print(f"gunicorn logs kept in {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
