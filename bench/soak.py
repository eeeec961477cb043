"""Soak test: the app under gunicorn with the demo county, driven over HTTP by several processes for a while.

    .venv/bin/python bench/soak.py                       # PostgreSQL (throwaway, tests/pg.py), 120 s
    .venv/bin/python bench/soak.py --backend both        # PostgreSQL, then the embedded SQLite default
    .venv/bin/python bench/soak.py --seconds 30 --clients 4 --no-results   # a quick look

Not a test. For each backend it: creates the database with the migrations (`flask db upgrade`), builds the demo
(`flask coop demo`), issues API tokens, starts `gunicorn -w N wsgi:app` (ProductionConfig) on a free port, and
runs client processes until --seconds are up. Each client plays one role, round robin:

  api     an accountant creating vouchers through the API (Bearer token), a reviewer reviewing them, the
          accountant posting them (青石村, then 柳溪村 for the next api client)
  web     the same through the web pages (login, CSRF, forms) in 石桥村
  reports the accountant's report pages (科目余额表, 资产负债表, 收益表, 明细账, 总账, 序时簿), now and then an xlsx
          or a voucher PDF, and the same reports over the API
  member  a member's portal (/me, the household, 公开栏, 我的分红)
  auditor the township auditor's desk, vouchers and reports of the township's villages, the API warnings

It counts requests, unexpected statuses (by status) and latency percentiles per kind of request, then stops
gunicorn, runs `flask coop verify` on the database, checks that every voucher the clients posted is in the
books, and scans gunicorn's log for tracebacks. Any 5xx is a bug. The figures are printed and appended to
bench/RESULTS.md (--no-results to skip).
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "RESULTS.md"
ROLES = ("api", "web", "reports", "member", "auditor")
TAG = "SOAK"  # in every summary the clients write, to find their vouchers afterwards


# ---------------------------------------------------------------- server side


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(url: str, tmp: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOP_")}
    env.update(COOP_DATABASE_URL=url, COOP_CONFIG="config.ProductionConfig", COOP_SECRET_KEY=secrets.token_hex(32),
               COOP_AUDIT_KEY="soak:" + secrets.token_hex(32), COOP_COOKIE_SECURE="0", COOP_ATTACHMENT_DIR=os.path.join(tmp, "attachments"),
               COOP_INSTANCE_DIR=os.path.join(tmp, "instance"), PYTHONUNBUFFERED="1")
    return env


def _flask(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=check)


def _fixtures(url: str) -> dict:
    """API tokens and the ids the clients need, read from the demo database."""
    import sqlalchemy as sa

    from coop import create_app
    from coop.demo import VILLAGES
    from coop.core.extensions import db
    from coop.models import Organization, User
    from coop.services import users

    app = create_app("config.DevelopmentConfig", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        orgs = {s.key: db.session.scalar(sa.select(Organization.id).where(Organization.name == s.name))
                for s in VILLAGES}
        township = {s.key: s.township for s in VILLAGES}
        tokens = {}
        for name in ("kj_wang", "sh_qingshi", "sh_liuxi", "jg_dongshan", "kj_li"):
            user = db.session.scalar(sa.select(User).where(User.username == name))
            tokens[name] = users.issue_api_token(user, "soak")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"orgs": orgs, "tokens": tokens,
            "dongshan": [orgs[k] for k, t in township.items() if t == "东山镇"]}


def _wait_http(base: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            if requests.get(base + "/login", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer /login in time")


# ---------------------------------------------------------------- clients


class Client:
    """One simulated user (or pair of users) with a requests session; records (kind, status, ms, expected)."""

    def __init__(self, base: str, fx: dict, rng: random.Random):
        import requests

        self.requests = requests
        self.base, self.fx, self.rng = base, fx, rng
        self.records: list[tuple[str, int, float, bool]] = []
        self.problems: list[str] = []
        self.posted: list[str] = []

    def call(self, sess, kind: str, method: str, path: str, ok=(200,), **kw):
        t0 = time.perf_counter()
        try:
            r = sess.request(method, self.base + path, timeout=120, allow_redirects=False, **kw)
            status = r.status_code
        except self.requests.RequestException as exc:
            r, status = None, 0
            self.problems.append(f"{kind} {method} {path}: {type(exc).__name__}: {exc}")
        ms = (time.perf_counter() - t0) * 1000
        good = status in ok
        self.records.append((kind, status, ms, good))
        if not good and status and len(self.problems) < 50:
            body = r.text[:300].replace("\n", " ") if r is not None else ""
            self.problems.append(f"{kind} {method} {path}: {status} {body}")
        return r if good else None

    def session(self, token: str | None = None):
        s = self.requests.Session()
        if token:
            s.headers["Authorization"] = f"Bearer {token}"
        return s

    def login(self, username: str):
        s = self.session()
        r = self.call(s, "web login page", "GET", "/login")
        token = _csrf(r.text) if r is not None else ""
        self.call(s, "web login", "POST", "/login", ok=(302,),
                  data={"username": username, "password": "demo2026", "csrf_token": token})
        return s

    def voucher_body(self, n: int) -> dict:
        amount = f"{self.rng.randint(1, 50000) / 100:.2f}"
        summary = f"{TAG} 提取备用金 {os.getpid()}-{n}"
        return {"date": f"2026-11-{self.rng.randint(1, 20):02d}", "summary": summary, "amount": amount, "lines": [
            {"summary": summary, "account_code": "101", "debit": amount, "credit": "0"},
            {"summary": summary, "account_code": "10201", "debit": "0", "credit": amount}]}


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html)
    return m.group(1) if m else ""


def _api_writer(c: Client, deadline: float, index: int) -> None:
    key, reviewer = (("qingshi", "sh_qingshi"), ("liuxi", "sh_liuxi"))[index % 2]
    org = c.fx["orgs"][key]
    prep, rev = c.session(c.fx["tokens"]["kj_wang"]), c.session(c.fx["tokens"][reviewer])
    base, n = f"/api/v1/orgs/{org}", 0
    while time.monotonic() < deadline:
        n += 1
        body = c.voucher_body(n)
        r = c.call(prep, "api voucher create", "POST", base + "/vouchers", ok=(201,),
                   json={"date": body["date"], "lines": body["lines"]})
        if r is None:
            continue
        vid = r.json()["id"]
        if c.call(rev, "api voucher review", "POST", f"{base}/vouchers/{vid}/review") is None:
            continue
        if c.call(prep, "api voucher post", "POST", f"{base}/vouchers/{vid}/post") is not None:
            c.posted.append(body["summary"])
        if n % 5 == 0:
            c.call(prep, "api voucher list", "GET", base + "/vouchers?year=2026&month=11")
            c.call(prep, "api voucher get", "GET", f"{base}/vouchers/{vid}")


def _web_writer(c: Client, deadline: float, index: int) -> None:
    org = c.fx["orgs"]["shiqiao"]
    prep, rev = c.login("kj_li"), c.login("sh_shiqiao")
    base, n = f"/o/{org}", 0
    while time.monotonic() < deadline:
        n += 1
        page = c.call(prep, "web voucher form", "GET", base + "/vouchers/new")
        if page is None:
            continue
        body = c.voucher_body(n)
        form = {"csrf_token": _csrf(page.text), "date": body["date"], "word": "记", "attachment_count": "1"}
        for i, l in enumerate(body["lines"]):
            form.update({f"lines-{i}-summary": l["summary"], f"lines-{i}-account_code": l["account_code"],
                         f"lines-{i}-debit": l["debit"] if l["debit"] != "0" else "",
                         f"lines-{i}-credit": l["credit"] if l["credit"] != "0" else "",
                         f"lines-{i}-counterparty": ""})
        r = c.call(prep, "web voucher create", "POST", base + "/vouchers/new", ok=(302,), data=form)
        if r is None:
            continue
        path = r.headers["Location"].replace(c.base, "")
        detail = c.call(rev, "web voucher page", "GET", path)
        if detail is None:
            continue
        if c.call(rev, "web voucher review", "POST", path + "/review", ok=(302,),
                  data={"csrf_token": _csrf(detail.text)}) is None:
            continue
        detail = c.call(prep, "web voucher page", "GET", path)
        if detail is not None and c.call(prep, "web voucher post", "POST", path + "/post", ok=(302,),
                                         data={"csrf_token": _csrf(detail.text)}) is not None:
            c.posted.append(body["summary"])
        if n % 5 == 0:
            c.call(prep, "web voucher list", "GET", base + "/vouchers")


REPORT_PAGES = (
    ("trial-balance", "year=2026&month_from=1&month_to=10"),
    ("trial-balance", "year=2026&month_from=11&month_to=11"),
    ("balance-sheet", "year=2026&month_from=10&month_to=10"),
    ("income-statement", "year=2026&month_from=1&month_to=10"),
    ("detail-ledger", "year=2026&month_from=1&month_to=11&code=10201"),
    ("general-ledger", "year=2026&month_from=1&month_to=11&code=102"),
    ("journal", "year=2026&month_from=10&month_to=10"),
)


def _reports(c: Client, deadline: float, index: int) -> None:
    org = c.fx["orgs"]["qingshi"]
    web, api = c.login("kj_wang"), c.session(c.fx["tokens"]["kj_wang"])
    n = 0
    while time.monotonic() < deadline:
        n += 1
        slug, query = REPORT_PAGES[n % len(REPORT_PAGES)]
        c.call(web, "web report", "GET", f"/o/{org}/reports/{slug}?{query}")
        c.call(api, "api report", "GET", f"/api/v1/orgs/{org}/reports/{slug}?{query}")
        if n % 10 == 0:
            c.call(web, "web report xlsx", "GET", f"/o/{org}/reports/{slug}?{query}&format=xlsx")
        if n % 25 == 0:
            r = c.call(api, "api voucher list", "GET", f"/api/v1/orgs/{org}/vouchers?year=2026&month=10")
            items = (r.json().get("items") if r is not None and isinstance(r.json(), dict) else None) or []
            if items:
                c.call(web, "pdf voucher", "GET", f"/o/{org}/reports/vouchers/{items[0]['id']}.pdf")
        if n % 7 == 0:
            c.call(web, "web page", "GET", f"/o/{org}/")
            c.call(web, "web page", "GET", f"/o/{org}/periods")


def _member(c: Client, deadline: float, index: int) -> None:
    org = c.fx["orgs"]["qingshi"]
    s = c.login("cy_qingshi")
    # /me lists the member's households, or redirects to the only one
    me = c.call(s, "portal page", "GET", "/me", ok=(200, 302))
    text = (me.headers.get("Location", "") + '"' + me.text) if me is not None else ""
    households = sorted(set(re.findall(r'/me/households/(\d+)"', text)))
    published = c.call(s, "portal page", "GET", f"/o/{org}/disclosure/published")
    sheets = sorted(set(re.findall(rf'/o/{org}/disclosure/published/(\d+)"', published.text))) if published else []
    n = 0
    while time.monotonic() < deadline:
        n += 1
        c.call(s, "portal page", "GET", "/me", ok=(200, 302))
        for h in households:
            c.call(s, "portal page", "GET", f"/me/households/{h}")
        c.call(s, "portal page", "GET", f"/o/{org}/disclosure/published")
        for d in sheets[:2]:
            c.call(s, "portal page", "GET", f"/o/{org}/disclosure/published/{d}")
        c.call(s, "portal page", "GET", f"/o/{org}/distribution/mine")
        # what a member must not see
        c.call(s, "portal forbidden", "GET", f"/o/{org}/vouchers", ok=(403, 404))
        time.sleep(0.2)  # a person reading, not a crawler


def _auditor(c: Client, deadline: float, index: int) -> None:
    s, api = c.login("jg_dongshan"), c.session(c.fx["tokens"]["jg_dongshan"])
    orgs = c.fx["dongshan"]
    n = 0
    while time.monotonic() < deadline:
        n += 1
        org = orgs[n % len(orgs)]
        c.call(s, "auditor page", "GET", "/auditor/")
        c.call(s, "auditor page", "GET", f"/o/{org}/vouchers")
        c.call(s, "auditor page", "GET", f"/o/{org}/questions")
        c.call(s, "web report", "GET", f"/o/{org}/reports/trial-balance?year=2026&month_from=1&month_to=10")
        c.call(api, "api warnings", "GET", f"/api/v1/orgs/{org}/warnings")
        c.call(api, "api orgs", "GET", "/api/v1/orgs")


def _client_main(role: str, index: int, base: str, fx: dict, seconds: float, queue) -> None:
    c = Client(base, fx, random.Random(index))
    deadline = time.monotonic() + seconds
    try:
        {"api": _api_writer, "web": _web_writer, "reports": _reports, "member": _member,
         "auditor": _auditor}[role](c, deadline, index)
    except Exception as exc:  # noqa: BLE001 - reported, the other clients go on
        c.problems.append(f"client {role}#{index} crashed: {type(exc).__name__}: {exc}")
    queue.put({"role": role, "records": c.records, "problems": c.problems, "posted": c.posted})


# ---------------------------------------------------------------- one backend


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def soak(backend: str, args) -> dict:
    from tests.pg import ThrowawayPostgres, find_pg_bin

    tmp = tempfile.mkdtemp(prefix="coop-soak-")
    server = None
    out: dict = {"backend": backend}
    try:
        if backend == "postgresql":
            server = ThrowawayPostgres(find_pg_bin())
            url = server.start()
        else:
            url = "sqlite:///" + os.path.join(tmp, "coop.sqlite3")
        env = _env(url, tmp)
        t0 = time.perf_counter()
        _flask(env, "db", "upgrade")
        out["upgrade_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        _flask(env, "coop", "demo", "--quiet")
        out["demo_s"] = time.perf_counter() - t0
        print(f"[{backend}] migrations {out['upgrade_s']:.1f} s, demo {out['demo_s']:.1f} s", flush=True)
        fx = _fixtures(url)

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = os.path.join(tmp, "gunicorn.log")
        with open(log_path, "w") as log:
            gunicorn = subprocess.Popen(
                [str(BIN / "gunicorn"), "-w", str(args.gunicorn_workers), "-b", f"127.0.0.1:{port}", "--timeout",
                 "120", "--error-logfile", "-", "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            _wait_http(base, gunicorn)
            roles = [ROLES[i % len(ROLES)] for i in range(args.clients)]
            ctx = mp.get_context("spawn")
            queue = ctx.Queue()
            load_before = os.getloadavg()
            print(f"[{backend}] gunicorn -w {args.gunicorn_workers} on {base}; {args.clients} clients "
                  f"({', '.join(roles)}) for {args.seconds} s", flush=True)
            procs = [ctx.Process(target=_client_main, args=(role, i, base, fx, args.seconds, queue))
                     for i, role in enumerate(roles)]
            t0 = time.perf_counter()
            for p in procs:
                p.start()
            results = [queue.get(timeout=args.seconds + 600) for _ in procs]
            for p in procs:
                p.join(timeout=60)
            out["elapsed_s"] = time.perf_counter() - t0
            out["load"] = (load_before, os.getloadavg())
        finally:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=60)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        log_text = Path(log_path).read_text(errors="replace")
        out["tracebacks"] = log_text.count("Traceback (most recent call last)")
        out["log_errors"] = [l for l in log_text.splitlines() if "Exception on" in l or "Error" in l][:20]

        verify = _flask(env, "coop", "verify", check=False)
        out["verify_rc"] = verify.returncode
        out["verify"] = (verify.stdout + verify.stderr).strip().splitlines()[-3:]
        out["results"] = results
        out["missing"] = _missing_posts(url, [s for r in results for s in r["posted"]])
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _missing_posts(url: str, posted: list[str]) -> dict:
    """Every voucher a client saw posted is in the books exactly once, posted; nothing else carries the tag."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT l.summary, v.status, count(DISTINCT v.id) FROM voucher_lines l JOIN vouchers v "
            "ON v.id = l.voucher_id WHERE l.summary LIKE :tag GROUP BY l.summary, v.status"), {"tag": TAG + " %"}).all()
    engine.dispose()
    in_books = {(s, st): n for s, st, n in rows}
    posted_set = set(posted)
    return {
        "client_posted": len(posted),
        "books_posted": sum(n for (s, st), n in in_books.items() if st == "posted"),
        "not_in_books": sorted(s for s in posted_set if in_books.get((s, "posted")) != 1)[:10],
        "unposted_leftovers": sum(n for (s, st), n in in_books.items() if st != "posted"),
    }


# ---------------------------------------------------------------- report


def summarize(out: dict) -> tuple[str, list[str]]:
    by_kind: dict[str, list] = defaultdict(list)
    for r in out["results"]:
        for rec in r["records"]:
            by_kind[rec[0]].append(rec)
    lines = ["| request | n | unexpected (status × n) | p50 ms | p90 ms | p99 ms | max ms |",
             "|---|---|---|---|---|---|---|"]
    total = bad = fivexx = 0
    for kind in sorted(by_kind):
        recs = by_kind[kind]
        ms = [r[2] for r in recs]
        wrong = Counter(r[1] for r in recs if not r[3])
        total += len(recs)
        bad += sum(wrong.values())
        fivexx += sum(n for s, n in wrong.items() if s >= 500 or s == 0)
        wrong_text = ", ".join(f"{s or 'conn'} × {n}" for s, n in sorted(wrong.items())) or "—"
        lines.append(f"| {kind} | {len(recs)} | {wrong_text} | {statistics.median(ms):.0f} | {_pct(ms, 90):.0f} | "
                     f"{_pct(ms, 99):.0f} | {max(ms):.0f} |")
    all_ms = [rec[2] for r in out["results"] for rec in r["records"]]
    lines.append(f"| **all** | {total} | {bad} | {statistics.median(all_ms):.0f} | {_pct(all_ms, 90):.0f} | "
                 f"{_pct(all_ms, 99):.0f} | {max(all_ms):.0f} |")
    out.update(total=total, bad=bad, fivexx=fivexx)
    problems = [p for r in out["results"] for p in r["problems"]]
    return "\n".join(lines), problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="postgresql")
    ap.add_argument("--clients", type=int, default=6, help="client processes (roles round robin: %s)" % ", ".join(ROLES))
    ap.add_argument("--gunicorn-workers", type=int, default=4)
    ap.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    args = ap.parse_args()
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    sections = []
    failed = False
    for backend in backends:
        out = soak(backend, args)
        table, problems = summarize(out)
        m = out["missing"]
        rate = out["total"] / out["elapsed_s"]
        head = (f"backend **{backend}**, gunicorn -w {args.gunicorn_workers} (sync), {args.clients} client processes, "
                f"{args.seconds:.0f} s; load average {out['load'][0][0]:.1f} before, {out['load'][1][0]:.1f} "
                f"after (1 min); migrations {out['upgrade_s']:.1f} s, demo build {out['demo_s']:.1f} s")
        facts = [
            f"- {out['total']} requests in {out['elapsed_s']:.0f} s ({rate:.1f}/s); unexpected statuses: {out['bad']}; "
            f"5xx or connection errors: {out['fivexx']}; tracebacks in gunicorn's log: {out['tracebacks']}",
            f"- vouchers posted by the clients: {m['client_posted']}; in the books, posted: {m['books_posted']}; "
            f"missing: {len(m['not_in_books'])}; left unposted (a step failed): {m['unposted_leftovers']}",
            f"- `flask coop verify`: exit {out['verify_rc']} — {' / '.join(out['verify'])}",
        ]
        if problems:
            facts.append("- first problems: " + "; ".join(f"`{p[:200]}`" for p in problems[:5]))
        if out["log_errors"]:
            facts.append("- gunicorn log: " + "; ".join(f"`{l[:200]}`" for l in out["log_errors"][:5]))
        section = "\n".join([head, "", table, "", *facts])
        print("\n" + section + "\n", flush=True)
        sections.append(section)
        failed |= bool(out["fivexx"] or out["tracebacks"] or out["verify_rc"] or m["not_in_books"]
                       or m["books_posted"] != m["client_posted"])
    if not args.no_results:
        machine = (f"{platform.system()} {platform.release()}, {os.cpu_count()} cpus, python "
                   f"{platform.python_version()}")
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write(f"\n## soak.py — {dt.datetime.now():%Y-%m-%d %H:%M}\n\n`bench/soak.py --seconds {args.seconds:.0f} "
                    f"--backend {args.backend} --clients {args.clients}` — {machine}\n\n")
            f.write("\n\n".join(sections) + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
