"""Generate a county: N villages × a year of vouchers, with members and an issued share register per village.

    .venv/bin/python bench/county.py --villages 10                     # SQLite in a temp file, via the services
    .venv/bin/python bench/county.py --villages 10 --pg                # a throwaway PostgreSQL (stopped afterwards)
    .venv/bin/python bench/county.py --db URL --villages 100 --raw     # bulk insert instead (the limit)

Not a test. The schema is built by the migrations (`flask db upgrade`, triggers included) in a database that is
emptied first. Every village is an organization with the national chart plus the usual 明细科目, opening
balances locked, and --vouchers vouchers of --lines lines each in 2025 (receipts to 10201 from income accounts,
payments of expenses, 内部往来 with households that carry the household as counterparty (辅助核算), transfers
between cash and banks), dated through the year.

--services (the default) loads them as a village accountant would: 制单 → 审核 (by the village's reviewer) →
记账, one commit per village-month, each month closed (December with its carry-over), then --members members in
households, confirmed, a 折股量化 plan and its issue. --bulk does the same but posts each village-month with
vouchers.post_many, as the xlsx voucher import does. --raw inserts the SAME vouchers and lines (same seed, same
numbers) with executemany on SQLite and COPY on PostgreSQL, as 'reviewed' rows then one UPDATE to 'posted' (the
guard triggers refuse lines added to a posted voucher): the ceiling for an import. Organizations, charts, openings
and users are made through the services in both modes, untimed. Prints vouchers/s.
"""
from __future__ import annotations

import argparse
import calendar
import datetime as dt
import random
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import clock, database  # noqa: E402

YEAR = 2025
TODAY = dt.date(2026, 2, 1)  # every month of YEAR may be closed
PASSWORD = "bench-pass-2026"
VILLAGES_PER_TOWNSHIP = 10
HOUSEHOLDS = 10  # 113xx 内部往来 明细 per village
FIRST = "青石柳溪桃源杏花白沙黄土红旗新民向阳东风永丰太平长乐和平建设光明胜利团结"
LAST = "村湾坪岭庄塘坝寨铺"
INCOME = ("50101", "50102", "50301", "50302", "50401", "50201")
EXPENSE = ("51301", "51302", "51304", "51401", "51402", "51502", "511", "512")
WHAT = {"50101": "承包金", "50102": "租金", "50301": "贴息", "50302": "运转经费", "50401": "存款利息", "50201": "投资收益",
        "51301": "干部报酬", "51302": "办公用品", "51304": "水电费", "51401": "道路维修", "51402": "保洁费",
        "51502": "银行手续费", "511": "经营支出", "512": "税金"}
OPENING = {"10101": 5_000_000, "10201": 300_000_000, "10202": 80_000_000, "151": 500_000_000, "152": -60_000_000}


@dataclass(frozen=True)
class Planned:
    date: dt.date
    summary: str
    lines: tuple[tuple[str, int, int, str | None], ...]  # (account code, debit fen, credit fen, counterparty)


def village_name(i: int) -> str:
    pairs = len(FIRST) // 2
    return f"{FIRST[2 * (i % pairs):2 * (i % pairs) + 2]}{LAST[(i // pairs) % len(LAST)]}{i // (pairs * len(LAST)) or ''}"


def household(h: int) -> str:
    return f"{FIRST[h % len(FIRST)]}家（{h}号户）"


def plan_village(index: int, n_vouchers: int, n_lines: int, seed: int) -> list[Planned]:
    """A year of one village's vouchers in date order: deterministic from (seed, index)."""
    rng = random.Random(seed * 100_003 + index)
    days = sorted(dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365)) for _ in range(n_vouchers))
    out = []
    for k, day in enumerate(days):
        r = rng.random()
        many = n_lines - 1  # one line on one side, the rest on the other
        if r < 0.4:  # receipt into the bank
            parts = [(rng.choice(INCOME), rng.randint(10_000, 2_000_000)) for _ in range(many)]
            total = sum(a for _, a in parts)
            lines = (("10201", total, 0, None), *((c, 0, a, None) for c, a in parts))
            summary = f"收到{WHAT[parts[0][0]]}（第{k + 1}笔）"
        elif r < 0.8:  # payment of expenses
            parts = [(rng.choice(EXPENSE), rng.randint(5_000, 1_500_000)) for _ in range(many)]
            total = sum(a for _, a in parts)
            bank = "10101" if total < 100_000 else "10201"
            lines = (*((c, a, 0, None) for c, a in parts), (bank, 0, total, None))
            summary = f"支付{WHAT[parts[0][0]]}（第{k + 1}笔）"
        elif r < 0.9:  # 内部往来: households owe 承包金, the household as the counterparty (辅助核算)
            parts = [(f"113{rng.randint(1, HOUSEHOLDS):02d}", rng.randint(50_000, 300_000)) for _ in range(many)]
            total = sum(a for _, a in parts)
            lines = (*((c, a, 0, household(int(c[3:]))) for c, a in parts), ("50101", 0, total, None))
            summary = f"应收农户承包金（第{k + 1}笔）"
        else:  # transfers: cash drawn and money moved to the 信用社 account
            parts = [(code, rng.randint(100_000, 3_000_000)) for code in (["10101", "10202"] * n_lines)[:many]]
            total = sum(a for _, a in parts)
            lines = (*((c, a, 0, None) for c, a in parts), ("10201", 0, total, None))
            summary = f"提取备用金及转存（第{k + 1}笔）"
        out.append(Planned(day, summary, lines))
    return out


@dataclass
class Village:
    index: int
    org_id: int
    accountant_id: int
    reviewer_id: int


# ------------------------------------------------------------------ schema and setup (services, untimed)


def fresh_schema(url: str):
    """Empty the database, apply the migrations; returns the app (TestingConfig: cheap password hashes)."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from coop import create_app
    from coop.core.extensions import db

    if url.startswith("postgresql"):
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=url, SERVER_NAME="coop.bench")
    with app.app_context():
        if url.startswith("sqlite"):
            db.drop_all()
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    return app


def setup_county(n_villages: int) -> tuple[int, list[Village]]:
    """County, townships (10 villages each, one accountant keeping all ten: 村账镇管), villages with their
    charts, locked openings and a reviewer each; a county administrator `bench_admin`."""
    from coop.demo import COMMON_DETAILS
    from coop.core.extensions import db
    from coop.services import accounts, opening, orgs, users
    from coop.core.money import from_fen

    county = orgs.create_county("基准县")
    admin = users.create_user("bench_admin", "县管理员", PASSWORD)
    users.assign_role(admin, "county_admin", county)
    out, township, acc = [], None, None
    for i in range(n_villages):
        if i % VILLAGES_PER_TOWNSHIP == 0:
            t = i // VILLAGES_PER_TOWNSHIP + 1
            township = orgs.create_township(county, f"第{t}镇")
            acc = users.create_user(f"bench_kj{t}", f"第{t}镇代理会计", PASSWORD)
        org = orgs.create_organization(township, name=f"{village_name(i)}股份经济合作社", books_start_year=YEAR,
                                       cun_she_he_yi=True)
        for parent, code, name in COMMON_DETAILS:
            accounts.add_detail_account(org, parent, code, name)
        for h in range(1, HOUSEHOLDS + 1):
            accounts.add_detail_account(org, "113", f"113{h:02d}", f"第{h}户")
        rev = users.create_user(f"bench_sh{i + 1}", f"{village_name(i)}审核", PASSWORD)
        users.assign_role(acc, "accountant", org)
        users.assign_role(rev, "reviewer", org)
        bal = {c: from_fen(a) for c, a in OPENING.items()}
        bal["31101"] = -sum(bal.values(), Decimal(0))
        opening.set_opening_balances(org, bal, user=acc)
        opening.lock_opening_balances(org, user=acc)
        out.append(Village(i, org.id, acc.id, rev.id))
    db.session.commit()
    return county.id, out


class Progress:
    """tqdm when the venv has it, else one line rewritten in place."""

    def __init__(self, total: int, what: str):
        self.total, self.what, self.n, self.t0, self.last = total, what, 0, time.perf_counter(), 0.0
        try:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=" vouchers", desc=what, file=sys.stderr)
        except ImportError:
            self.bar = None

    def update(self, k: int) -> None:
        self.n += k
        if self.bar is not None:
            self.bar.update(k)
            return
        now = time.perf_counter()
        tty = sys.stderr.isatty()  # in a log file: a line every 30 s
        if now - self.last > (1 if tty else 30) or self.n >= self.total:
            self.last = now
            rate = self.n / max(now - self.t0, 1e-9)
            eta = (self.total - self.n) / rate if rate else 0
            bar = "#" * int(30 * self.n / max(self.total, 1))
            start, end = ("\r", "") if tty else ("", "\n")
            sys.stderr.write(f"{start}{self.what} [{bar:<30}] {self.n}/{self.total} {rate:6.0f}/s eta {eta:5.0f} s{end}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            sys.stderr.write("\n")


# ------------------------------------------------------------------ the services path


def load_services(villages: list[Village], plans: dict[int, list[Planned]], *, members: int, seed: int,
                  progress: bool = True, bulk: bool = False) -> dict:
    """Post every planned voucher through the services, closing each month; then members and shares. One by one
    (create_draft, review_voucher, post_voucher), or with `bulk` a village-month at a time through
    vouchers.post_many (what the xlsx import uses). Returns timings: vouchers, seconds for the vouchers (and
    closes), seconds for members."""
    from coop.core.extensions import db
    from coop.models import Organization, User
    from coop.core.money import from_fen
    from coop.services import closing, vouchers

    total = sum(len(p) for p in plans.values())
    bar = Progress(total, "services, bulk" if bulk else "services") if progress else None
    w0, c0 = clock()
    for v in villages:
        org = db.session.get(Organization, v.org_id)
        acc, rev = db.session.get(User, v.accountant_id), db.session.get(User, v.reviewer_id)
        by_month: dict[int, list[Planned]] = {}
        for p in plans[v.index]:
            by_month.setdefault(p.date.month, []).append(p)
        for m in range(1, 13):
            entries = [({"date": p.date, "attachment_count": 1, "lines": [
                {"summary": p.summary, "account_code": c, "debit": from_fen(d), "credit": from_fen(cr),
                 "counterparty": cp} for c, d, cr, cp in p.lines]}, "normal") for p in by_month.get(m, [])]
            if bulk:
                vouchers.post_many(org, entries, preparer=acc, reviewer=rev, poster=acc)
            else:
                for data, _ in entries:
                    vch = vouchers.create_draft(org, data, user=acc)
                    vouchers.review_voucher(vch, user=rev)
                    vouchers.post_voucher(vch, user=acc)
            closing.close_period(org, YEAR, m, user=acc, today=TODAY)
            db.session.commit()
            if bar:
                bar.update(len(by_month.get(m, [])))
            org = db.session.get(Organization, v.org_id)
            acc, rev = db.session.get(User, v.accountant_id), db.session.get(User, v.reviewer_id)
    w1, c1 = clock()
    if bar:
        bar.close()
    for v in villages:
        build_members(v, members, random.Random(seed * 7 + v.index))
    w2, c2 = clock()
    return {"vouchers": total, "wall": w1 - w0, "cpu": c1 - c0, "members_wall": w2 - w1, "members_cpu": c2 - c1}


def build_members(v: Village, n: int, rng: random.Random) -> None:
    """`n` people in households of 2–5, confirmed, a 折股量化 plan (人口股 + 农龄股 + 20% 集体股) and its issue."""
    from bench_shares import GIVEN, SURNAMES

    from coop.core.extensions import db
    from coop.models import Organization, User
    from coop.services import members, shares

    if n <= 0:
        return
    org, acc = db.session.get(Organization, v.org_id), db.session.get(User, v.accountant_id)
    people, seq, hh = [], 0, 0
    while len(people) < n:
        size = min(rng.randint(2, 5), n - len(people))
        hh += 1
        h = members.create_household(org, number=f"{hh:04d}")
        surname = rng.choice(SURNAMES)
        for k in range(size):
            seq += 1
            age = rng.randint(30, 80) if k == 0 else rng.randint(1, 85)
            birth = dt.date(2024 - age, 1 + seq % 12, 1 + seq % 28)
            people.append(members.add_member(h, name=surname + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2]),
                                             id_number=id_number(v.index, birth, seq),
                                             relation="户主" if k == 0 else "子"))
    for m in people:
        members.record_membership_event(m, "confirmed", date=dt.date(2024, 6, 1), evidence="2024年第1号成员大会决议",
                                        user=acc, today=TODAY)
    plan = shares.create_plan(org, name="2024年折股量化", base_date=dt.date(2024, 12, 31),
                              net_assets=Decimal("5000000.00"),
                              rules={"population_units": "1", "labour_units_per_year": "0.05",
                                     "labour_cap_years": 30, "collective_ratio": "0.2"},
                              approval_ref="2024年第2号成员大会决议", user=acc)
    for m in people:
        if m.birth_date.year <= 2006:
            shares.set_member_input(plan, m, labour_start=dt.date(max(m.birth_date.year + 18, 1956), 1, 1))
    shares.issue_plan(plan, user=acc, today=TODAY)
    db.session.commit()


_AREAS: list[int] = []


def id_number(village: int, birth: dt.date, seq: int) -> str:
    """A valid 身份证号 unique in the county (numbers are unique across organizations): the village picks one of
    the area codes stdnum knows, the person the sequence."""
    from stdnum.cn import ric

    a = _AREAS[-1] if _AREAS else 330099
    while len(_AREAS) <= village:
        a += 1
        try:  # a code that stdnum takes for anyone born 1935..2024 (codes come and go)
            if all(ric.is_valid(b + ric.calc_check_digit(b + "0")) for b in (f"{a:06d}19350101001", f"{a:06d}19700101001",
                                                                              f"{a:06d}20241231001")):
                _AREAS.append(a)
        except Exception:  # noqa: BLE001 (stdnum trips over a few incomplete entries)
            pass
    body = f"{_AREAS[village]:06d}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


# ------------------------------------------------------------------ the raw path (the limit)


def load_raw(villages: list[Village], plans: dict[int, list[Planned]], *, progress: bool = True) -> dict:
    """The same rows straight into vouchers and voucher_lines: executemany (SQLite) or COPY (PostgreSQL),
    one transaction per village. Voucher ids are assigned here, numbers as the services would give them."""
    from coop.core.extensions import db

    total = sum(len(p) for p in plans.values())
    bar = Progress(total, "raw insert") if progress else None
    raw = db.engine.raw_connection()
    pg = db.engine.dialect.name == "postgresql"
    try:
        cur = raw.cursor()
        cur.execute("SELECT coalesce(max(id), 0) FROM vouchers")
        next_id = cur.fetchone()[0] + 1
        cur.execute("SELECT coalesce(max(id), 0) FROM voucher_lines")
        next_line = cur.fetchone()[0] + 1
        raw.commit()
        w0, c0 = clock()
        for v in villages:
            cur.execute("SELECT code, id FROM accounts WHERE organization_id = %s" if pg else
                        "SELECT code, id FROM accounts WHERE organization_id = ?", (v.org_id,))
            acc = dict(cur.fetchall())
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            vrows, lrows, numbers = [], [], {}
            first = next_id
            for p in plans[v.index]:
                n = numbers[p.date.month] = numbers.get(p.date.month, 0) + 1
                vrows.append((next_id, v.org_id, p.date, YEAR, p.date.month, "记", n, "reviewed", "normal", 1,
                              v.accountant_id, v.reviewer_id, now, now, now))
                for seq, (code, d, c, cp) in enumerate(p.lines, start=1):
                    lrows.append((next_line, next_id, seq, p.summary, acc[code], d, c, cp))
                    next_line += 1
                next_id += 1
            vcols = ("id, organization_id, date, year, month, word, number, status, kind, attachment_count, "
                     "preparer_id, reviewer_id, reviewed_at, created_at, updated_at")
            lcols = "id, voucher_id, seq, summary, account_id, debit, credit, counterparty"
            if pg:
                with cur.copy(f"COPY vouchers ({vcols}) FROM STDIN") as cp:
                    for r in vrows:
                        cp.write_row(r)
                with cur.copy(f"COPY voucher_lines ({lcols}) FROM STDIN") as cp:
                    for r in lrows:
                        cp.write_row(r)
                cur.execute("UPDATE vouchers SET status = 'posted', poster_id = %s, posted_at = %s "
                            "WHERE id BETWEEN %s AND %s", (v.accountant_id, now, first, next_id - 1))
                cur.execute("INSERT INTO voucher_sequences (organization_id, year, month, word, last_number) "
                            "VALUES " + ", ".join(["(%s, %s, %s, '记', %s)"] * len(numbers)),
                            [x for m, k in numbers.items() for x in (v.org_id, YEAR, m, k)])
            else:
                cur.executemany(f"INSERT INTO vouchers ({vcols}) VALUES ({', '.join('?' * 15)})", vrows)
                cur.executemany(f"INSERT INTO voucher_lines ({lcols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", lrows)
                cur.execute("UPDATE vouchers SET status = 'posted', poster_id = ?, posted_at = ? "
                            "WHERE id BETWEEN ? AND ?", (v.accountant_id, now, first, next_id - 1))
                cur.executemany("INSERT INTO voucher_sequences (organization_id, year, month, word, last_number) "
                                "VALUES (?, ?, ?, '记', ?)", [(v.org_id, YEAR, m, k) for m, k in numbers.items()])
            raw.commit()
            if bar:
                bar.update(len(vrows))
        w1, c1 = clock()
        if pg:  # the serial sequences behind the ids given here
            cur.execute("SELECT setval(pg_get_serial_sequence('vouchers', 'id'), (SELECT max(id) FROM vouchers))")
            cur.execute("SELECT setval(pg_get_serial_sequence('voucher_lines', 'id'), "
                        "(SELECT max(id) FROM voucher_lines))")
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    if bar:
        bar.close()
    return {"vouchers": total, "wall": w1 - w0, "cpu": c1 - c0}


def build(url: str, args, *, raw: bool, villages_n: int | None = None, progress: bool = True, bulk: bool = False):
    """Fresh schema, setup, then the vouchers by the chosen path. Returns (app, county id, villages, timings)."""
    from coop.core.extensions import db

    app = fresh_schema(url)
    n = villages_n or args.villages
    with app.app_context():
        w0, c0 = clock()
        county_id, villages = setup_county(n)
        w1, c1 = clock()
        plans = {v.index: plan_village(v.index, args.vouchers, args.lines, args.seed) for v in villages}
        if raw:
            t = load_raw(villages, plans, progress=progress)
        else:
            t = load_services(villages, plans, members=args.members, seed=args.seed, progress=progress, bulk=bulk)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("ANALYZE")
        t.update(setup_wall=w1 - w0, setup_cpu=c1 - c0, villages=n, lines=sum(len(p.lines) for ps in plans.values()
                                                                                  for p in ps))
        db.session.remove()
    return app, county_id, villages, t


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--villages", type=int, default=100)
    ap.add_argument("--vouchers", type=int, default=2000, help="vouchers per village in the year")
    ap.add_argument("--lines", type=int, default=3, help="lines per voucher (≥ 2)")
    ap.add_argument("--members", type=int, default=20, help="members per village (services path)")
    ap.add_argument("--seed", type=int, default=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    ap.add_argument("--db", help="database URL (emptied first!); default a temp SQLite file")
    ap.add_argument("--pg", action="store_true", help="a throwaway PostgreSQL, stopped at the end")
    ap.add_argument("--raw", action="store_true", help="bulk insert instead of the services")
    ap.add_argument("--bulk", action="store_true", help="services, but vouchers.post_many a village-month at a time")
    args = ap.parse_args()
    if args.lines < 2:
        ap.error("--lines must be at least 2")
    with database(args.db, args.pg) as url:
        _, _, _, t = build(url, args, raw=args.raw, bulk=args.bulk)
    how = "raw insert" if args.raw else "services (post_many)" if args.bulk else "services"
    print(f"{how}: {t['villages']} villages, {t['vouchers']} vouchers, "
          f"{t['lines']} lines in {t['wall']:.1f} s wall / {t['cpu']:.1f} s cpu = {t['vouchers'] / t['wall']:.0f} "
          f"vouchers/s (setup {t['setup_wall']:.1f} s" + (f", members {t['members_wall']:.1f} s)" if 'members_wall'
                                                           in t else ")"))
    if not args.db and not args.pg:
        print(f"database: {url}")


if __name__ == "__main__":
    main()
