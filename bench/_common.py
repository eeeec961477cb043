"""Helpers shared by the bench scripts: clocks, a fresh app and database, profiles, tables and bench/RESULTS.md."""
from __future__ import annotations

import contextlib
import cProfile
import datetime as dt
import io
import os
import pstats
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def clock() -> tuple[float, float]:
    """Wall and this process's CPU: on a loaded machine the CPU time is the steadier figure."""
    return time.perf_counter(), time.process_time()


def load() -> float:
    return os.getloadavg()[0]


def temp_sqlite_url(name: str = "bench.sqlite3") -> str:
    return "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="coop-bench-"), name)


@contextlib.contextmanager
def database(db_arg: str | None, pg: bool = False):
    """Yields a database URL: a throwaway PostgreSQL (tests/pg.py) if `pg`, `db_arg` if a URL, else a temp SQLite
    file. The throwaway server is stopped afterwards."""
    if pg:
        from tests.pg import ThrowawayPostgres, find_pg_bin

        server = ThrowawayPostgres(find_pg_bin())
        try:
            yield server.start()
        finally:
            server.stop()
    else:
        yield db_arg if db_arg and db_arg != "sqlite" else temp_sqlite_url()


def fresh_pg_database(url: str, name: str) -> str:
    """(Re)create database `name` on the server of `url`; returns its URL."""
    import sqlalchemy as sa

    base = url.rsplit("/", 1)[0]
    admin = sa.create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return f"{base}/{name}"


def make_app(url: str):
    """An app on `url` with the models' tables created afresh (create_all, as the tests do)."""
    from coop import create_app
    from coop.core.extensions import db

    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=url, SERVER_NAME="coop.bench",
                     ATTACHMENT_DIR=tempfile.mkdtemp(prefix="coop-bench-att-"))
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def profile_top(fn, n=10) -> str:
    pr = cProfile.Profile()
    pr.enable()
    fn()
    pr.disable()
    out = io.StringIO()
    pstats.Stats(pr, stream=out).sort_stats("cumulative").print_stats(n)
    return out.getvalue()


def width(s: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def pad(s: str, w: int) -> str:
    return s + " " * (w - width(s))


def append_results(title: str, intro: str, header: list[str], rows: list[list], notes: str = "") -> None:
    """Append a dated section with one markdown table to bench/RESULTS.md."""
    lines = [f"\n## {title} — {dt.datetime.now():%Y-%m-%d %H:%M}\n", intro + "\n",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    if notes:
        lines += ["", notes]
    RESULTS.parent.mkdir(exist_ok=True)
    if not RESULTS.exists():
        RESULTS.write_text("# bench results\n\nAppended by the bench scripts, one dated section per run. Wall and CPU "
                           "seconds of this process; load is the 1-minute load average when the step ended.\n")
    with RESULTS.open("a") as f:
        f.write("\n".join(lines) + "\n")


def command_line() -> str:
    return " ".join(["bench/" + Path(sys.argv[0]).name] + sys.argv[1:])


def report(rows, profiles, backend, args, note, *, write=True):
    """Print rows of (step, size, wall, cpu, memory, load, target) and the profiles; append them to RESULTS.md."""
    head = (f"backend {backend}, python {sys.version.split()[0]}, {os.cpu_count()} cpus, "
            f"load average now {'/'.join(f'{x:.1f}' for x in os.getloadavg())}; {note}")
    print("\n" + head + "\n")
    for what, size, wall, cpu, mem, ld, target in rows:
        print(f"{what:<44} {size:<24} wall {wall:8.3f}  cpu {cpu:8.3f}  {mem:<14} load {ld:4.1f}  {target}")
    for what, text in profiles:
        print(f"\n--- cProfile of {what} (top 10 by cumulative time)\n{text}")
    if not write:
        return
    append_results(Path(sys.argv[0]).name, f"`{command_line()}` — {head}",
                   ["step", "size", "wall s", "cpu s", "memory", "load (1 min)", "target"],
                   [[w, s, f"{wall:.3f}", f"{cpu:.3f}", m, f"{ld:.1f}", t] for w, s, wall, cpu, m, ld, t in rows])
