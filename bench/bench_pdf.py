"""PDF speed and a worker's memory (#24 goal 2), before and after, side by side in one run.

    .venv/bin/python bench/bench_pdf.py                       # this checkout against --before (the commit before #24)
    .venv/bin/python bench/bench_pdf.py --before HEAD~3 --repeat 5
    .venv/bin/python bench/bench_pdf.py --no-before           # this checkout only

Not a test. The --before commit is exported (git archive) into a temp folder; each tree then, in processes of
its own and with its own code, builds the same books in a temp SQLite file (seeded: 青石 style village, a year of
vouchers over ~25 first-level accounts, 500 income/expense lines in 2025-Q1, the quarter's 收支明细 sheet) and:

- times the PDFs (cache off; the first render loads WeasyPrint and fonts and is left out; median of --repeat,
  wall and CPU): a 记账凭证, the whole-year 总账 of every account, the 凭证序时簿 of January, the 500-line 收支明细
  sheet, the 科目余额表; pages counted in the PDF. A least-squares line through (pages, ms) gives ms a page and
  the fixed ms a PDF;
- in a fresh process, makes 200 mixed requests through the app (175 pages and API reads, 25 PDFs spread among
  them) and reports the process's RSS before, after, and its peak (VmHWM).

Prints a table and appends a dated section (with /proc/loadavg) to bench/RESULTS.md (--no-results to skip).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
#: the commit this bench compares against by default: the branch point of #24's PDF work
BEFORE = "cdf326d"
D = Decimal

INCOME = ["501", "502", "503", "504"]
EXPENSE = ["511", "513", "514", "515"]
# pairs (debit, credit) posted every month so the 总账 has ~25 first-level accounts with movements
MONTHLY = [("101", "102"), ("112", "501"), ("113", "102"), ("121", "102"), ("131", "102"), ("141", "102"),
           ("151", "102"), ("153", "102"), ("161", "102"), ("171", "102"), ("511", "121"), ("513", "152"),
           ("102", "201"), ("102", "211"), ("221", "101"), ("231", "102"), ("102", "241"), ("212", "102"),
           ("513", "162"), ("514", "101"), ("102", "503"), ("102", "504"), ("515", "101"), ("102", "301")]


# ---------------------------------------------------------------- inside a tree (sys.path[0] = that tree)


def _app(url: str):
    from coop import create_app

    os.environ.setdefault("COOP_AUDIT_KEY", "bench:" + os.urandom(32).hex())
    return create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=url, SERVER_NAME="coop.bench",
                      ATTACHMENT_DIR=tempfile.mkdtemp(prefix="coop-bench-att-"), PDF_CACHE_BYTES=0)


def do_build(url: str, n_lines: int) -> dict:
    from coop.core.extensions import db
    from coop.models.guards import immutability_ddl
    from coop.models import User
    from coop.services import disclosure
    from tests.conftest import Books

    app = _app(url)
    rng = random.Random(5)
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            for stmt in immutability_ddl(db.engine.dialect.name):
                conn.exec_driver_sql(stmt)
        books = Books()
        books.lock_opening({"101": "1000.00", "102": "5000000.00", "301": "-5001000.00"})
        first = None
        for i in range(-(-n_lines // 5)):  # the quarter's income and expenses, 5 lines a voucher
            day = dt.date(2025, 1 + i % 3, 1 + (i // 3) % 28)
            k = min(5, n_lines - 5 * i)
            amounts = [D(rng.randint(1000, 500000)) / 100 for _ in range(k)]
            total = sum(amounts, D(0))
            if i % 2 == 0:
                codes = [rng.choice(INCOME) for _ in amounts]
                v = books.post(day, ("102", total, ""), *[(c, "", a) for c, a in zip(codes, amounts)],
                               summary=f"收到村集体收入（第{i + 1}笔）")
            else:
                codes = [rng.choice(EXPENSE) for _ in amounts]
                v = books.post(day, *[(c, a, "") for c, a in zip(codes, amounts)], ("102", "", total),
                               summary=f"支付村集体支出（第{i + 1}笔）")
            first = first or v
        for month in range(1, 13):
            for j, (dr, cr) in enumerate(MONTHLY):
                a = D(rng.randint(10000, 900000)) / 100
                books.post(dt.date(2025, month, 1 + j), (dr, a, ""), (cr, "", a), summary=f"{month}月业务{j + 1}")
        books.close_through(2025, 3)
        db.session.commit()
        d = disclosure.create_sheet(books.org, kind="income_expense", start=dt.date(2025, 1, 1),
                                    end=dt.date(2025, 3, 31), user=db.session.get(User, books.accountant.id))
        from coop.services import users

        token = users.issue_api_token(books.accountant, "bench")
        db.session.commit()
        return {"org": books.org.id, "voucher": first.id, "sheet": d.id, "token": token}


def _documents(ids: dict):
    """(name, function → PDF bytes) of the documents timed; call inside an app and request context."""
    from coop.core.extensions import db
    from coop.documents.disclosure import render_sheet_pdf
    from coop.models import Disclosure, Organization, Voucher
    from coop.reports import builders
    from coop.reports.params import ReportQuery
    from coop.reports.pdf import render_pdf, render_voucher_pdf

    def org():
        return db.session.get(Organization, ids["org"])

    return [
        ("记账凭证", lambda: render_voucher_pdf(org(), db.session.get(Voucher, ids["voucher"]))),
        ("科目余额表 2025-03", lambda: render_pdf(builders.trial_balance(org(), ReportQuery(2025, 3, 3)))),
        ("凭证序时簿 2025-01", lambda: render_pdf(builders.journal(org(), ReportQuery(2025, 1, 1)))),
        ("总账 2025 全年, 全部科目", lambda: render_pdf(builders.general_ledger(org(), ReportQuery(2025, 1, 12)))),
        ("收支明细 2025-Q1 (500 行)", lambda: render_sheet_pdf(db.session.get(Disclosure, ids["sheet"]))),
    ]


def pages(pdf: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        info = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _renderers() -> list[int]:
    """Pids of the PDF rendering processes (#24) of this process; none before #24."""
    import coop.documents.pdf as pdf_module

    pool = getattr(pdf_module, "pool", None)
    return [r.proc.pid for r in pool.idle] if pool is not None else []


def _cpu() -> float:
    """CPU seconds of this process and of its rendering processes with their finished children (the forked
    renderings): /proc/<pid>/stat utime, stime, cutime, cstime."""
    total = time.process_time()
    for pid in _renderers():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def do_time(url: str, ids: dict, repeat: int) -> dict:
    from coop.core.extensions import db

    app = _app(url)
    out = {}
    with app.app_context(), app.test_request_context():
        docs = _documents(ids)
        for name, fn in docs:  # the first render of each loads what it needs (WeasyPrint, fonts, templates)
            fn()
            db.session.remove()
        for name, fn in docs:
            walls, cpus = [], []
            for _ in range(repeat):
                w0, c0 = time.perf_counter(), _cpu()
                pdf = fn()
                walls.append(time.perf_counter() - w0)
                cpus.append(_cpu() - c0)
                db.session.remove()
            out[name] = {"pages": pages(pdf), "kb": len(pdf) // 1024, "wall": statistics.median(walls),
                         "cpu": statistics.median(cpus)}
    return out


def _rss() -> dict:
    status = Path("/proc/self/status").read_text()
    get = lambda k: int(re.search(rf"^{k}:\s+(\d+) kB", status, re.M).group(1)) / 1024  # noqa: E731
    return {"rss": get("VmRSS"), "hwm": get("VmHWM")}


def do_rss(url: str, ids: dict, n: int, n_pdf: int) -> dict:
    app = _app(url)
    client = app.test_client()
    r = client.post("/login", data={"username": "kuaiji", "password": "password1"})
    assert r.status_code in (302, 303), r.status_code
    o = ids["org"]
    pages_ = [f"/o/{o}/reports/trial-balance?year=2025&month=3", f"/o/{o}/reports/journal?year=2025&month=2",
              f"/o/{o}/reports/general-ledger?year=2025&period=year&code=102", f"/o/{o}/reports/balance-sheet",
              f"/api/v1/orgs/{o}/vouchers/{ids['voucher']}", f"/o/{o}/reports/income-statement"]
    pdfs = [f"/o/{o}/reports/vouchers/{ids['voucher']}.pdf",
            f"/o/{o}/reports/trial-balance?year=2025&month=3&format=pdf",
            f"/o/{o}/reports/journal?year=2025&month=1&format=pdf",
            f"/o/{o}/disclosure/{ids['sheet']}.pdf",
            f"/o/{o}/reports/general-ledger?year=2025&period=year&format=pdf"]
    start = _rss()
    every = n // n_pdf
    done_pdf = 0
    for i in range(n):
        if i % every == every - 1 and done_pdf < n_pdf:
            url_ = pdfs[done_pdf % len(pdfs)]
            done_pdf += 1
        else:
            url_ = pages_[i % len(pages_)]
        api = url_.startswith("/api/")
        r = client.get(url_, headers={"Authorization": f"Bearer {ids['token']}"} if api else {})
        assert r.status_code == 200, (url_, r.status_code)
    end = _rss()
    helpers = [_rss_of(pid) for pid in _renderers()]
    return {"start": start["rss"], "end": end["rss"], "peak": end["hwm"], "pdfs": done_pdf, "requests": n,
            "renderers": helpers}


def _rss_of(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024


def worker(args) -> None:
    sys.path.insert(0, os.getcwd())  # the tree under test
    ids = json.loads(args.ids) if args.ids else None
    if args.worker == "build":
        res = do_build(args.url, args.lines)
    elif args.worker == "time":
        res = do_time(args.url, ids, args.repeat)
    else:
        res = do_rss(args.url, ids, args.requests, args.pdfs)
    print("RESULT " + json.dumps(res, ensure_ascii=False))


# ---------------------------------------------------------------- orchestration


def run_tree(tree: Path, args) -> dict:
    url = "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="coop-bench-pdf-"), "b.sqlite3")
    py = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable

    def call(*extra) -> dict:
        cmd = [py, str(HERE), "--url", url, "--lines", str(args.lines), "--repeat", str(args.repeat),
               "--requests", str(args.requests), "--pdfs", str(args.pdfs), *extra]
        out = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"{' '.join(extra[:2])} in {tree} failed:\n{out.stderr[-3000:]}")
        line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")][-1]
        return json.loads(line[7:])

    ids = call("--worker", "build")
    return {"time": call("--worker", "time", "--ids", json.dumps(ids)),
            "rss": call("--worker", "rss", "--ids", json.dumps(ids))}


def fit(t: dict) -> tuple[float, float]:
    """Least squares ms = fixed + per_page × pages over the timed documents (CPU time: steadier under load)."""
    xs = [v["pages"] for v in t.values()]
    ys = [v["cpu"] * 1000 for v in t.values()]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return slope, my - slope * mx


def export(rev: str) -> Path:
    dest = Path(tempfile.mkdtemp(prefix="coop-before-"))
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default=BEFORE, help="commit to compare against (default: %(default)s)")
    ap.add_argument("--no-before", action="store_true")
    ap.add_argument("--lines", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--pdfs", type=int, default=25)
    ap.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    ap.add_argument("--worker", choices=("build", "time", "rss"), help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--ids", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)

    loads = [Path("/proc/loadavg").read_text().strip()]
    trees = {} if args.no_before else {f"before ({args.before})": export(args.before)}
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    trees[f"after ({head.strip()}{'+' if _dirty() else ''})"] = ROOT
    results = {}
    for label, tree in trees.items():
        print(f"running {label} in {tree}", flush=True)
        results[label] = run_tree(tree, args)
        loads.append(Path("/proc/loadavg").read_text().strip())
    text = table(results, args, loads)
    print(text)
    if not args.no_results:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write("\n" + text)


def _dirty() -> bool:
    return bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip())


def table(results: dict, args, loads: list[str]) -> str:
    labels = list(results)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    out = [f"## bench_pdf.py (#24 PDFs) — {now} UTC", "",
           f"`bench/bench_pdf.py --repeat {args.repeat}` — {os.cpu_count()} cpus; /proc/loadavg at the start and "
           "after each tree: " + " → ".join(f"`{x}`" for x in loads) + ". Median of the warm renders (cache off); "
           "wall / CPU ms of this process.", "",
           "| document | pages | " + " | ".join(f"{lb} wall / cpu ms" for lb in labels) + " |",
           "|---|---|" + "---|" * len(labels)]
    names = list(next(iter(results.values()))["time"])
    for name in names:
        cells = [results[lb]["time"][name] for lb in labels]
        pg = "/".join(sorted({str(c["pages"]) for c in cells}))
        out.append(f"| {name} | {pg} | " + " | ".join(f"{c['wall'] * 1000:.0f} / {c['cpu'] * 1000:.0f}"
                                                       for c in cells) + " |")
    fits = [fit(results[lb]["time"]) for lb in labels]
    out.append("| *fit: CPU ms a page · fixed ms a PDF* | | " + " | ".join(f"{s:.0f} · {f:.0f}" for s, f in fits)
               + " |")
    out.append(f"| *worker RSS MB: start → after {args.requests} requests incl. {args.pdfs} PDFs (peak)* | | "
               + " | ".join(f"{results[lb]['rss']['start']:.0f} → {results[lb]['rss']['end']:.0f} "
                            f"({results[lb]['rss']['peak']:.0f})" for lb in labels) + " |")
    out.append("| *RSS MB of the worker's rendering processes (outside the worker)* | | "
               + " | ".join(" + ".join(f"{x:.0f}" for x in results[lb]["rss"].get("renderers", [])) or "—"
                            for lb in labels) + " |")
    out.append("")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
