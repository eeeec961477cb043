"""Fixtures. Every test that uses `app` runs on SQLite and on a throwaway PostgreSQL started here.

`--db sqlite|postgresql|both` (default both). Without PostgreSQL binaries the postgresql half is skipped,
except under CI=true, where that is a failure.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.pg import ThrowawayPostgres, find_pg_bin, role_urls

# one audit key for the whole run, in the environment so the app (from_prefixed_env), production-config apps built
# by tests and the CLI subprocesses of the kill tests all sign and verify with it
os.environ.setdefault("COOP_AUDIT_KEY", "test:" + os.urandom(32).hex())


def pytest_addoption(parser):
    parser.addoption("--db", default="both", choices=("sqlite", "postgresql", "both"),
                     help="database backend(s) for tests that use the app")


def _backends(config) -> list[str]:
    choice = config.getoption("--db")
    return ["sqlite", "postgresql"] if choice == "both" else [choice]


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", _backends(metafunc.config), scope="session", indirect=True)


@pytest.fixture(scope="session")
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def pg_url():
    pg_bin = find_pg_bin()
    if pg_bin is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL binaries not found, and CI requires the PostgreSQL run")
        pytest.skip("PostgreSQL binaries not found")
    server = ThrowawayPostgres(pg_bin)
    url = server.start()
    yield url
    server.stop()


_apps: dict = {}
#: per backend, an engine with the powers the app role lacks: the schema owner's for DDL, a superuser's for the
#: row wipe between tests and for tests that play an intruder with full database access (SQLite: the app's own)
_owner_engines: dict = {}
_super_engines: dict = {}


def superuser_engine():
    """PostgreSQL: a superuser's engine on the test database (what an intruder with full access has); SQLite: the
    app's engine."""
    from coop.core.extensions import db

    return _super_engines.get(db.engine.dialect.name, db.engine)


@pytest.fixture(scope="session")
def _session_apps():
    yield _apps
    from coop.core.extensions import db

    for app in _apps.values():
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    for engine in (*_owner_engines.values(), *_super_engines.values()):
        engine.dispose()


def _build_app(url: str):
    """The schema is built by its owner; on PostgreSQL the app connects as coop_app, which may only read and write
    rows (tests/pg.py ROLE_SQL, as the README's deployment)."""
    from coop import create_app
    from coop.core.extensions import db
    from coop.models.guards import immutability_ddl

    tmp = tempfile.mkdtemp(prefix="coop-test-")
    app_url = url
    if url.startswith("postgresql"):
        owner_url, app_url = role_urls(url)
        _owner_engines["postgresql"] = sa.create_engine(owner_url)
        _super_engines["postgresql"] = sa.create_engine(url)
    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=app_url, ATTACHMENT_DIR=os.path.join(tmp, "att"),
                     SERVER_NAME="coop.test")
    with app.app_context():
        owner = _owner_engines.get(db.engine.dialect.name, db.engine)
        db.metadata.drop_all(owner)
        db.metadata.create_all(owner)
        with owner.begin() as conn:
            for stmt in immutability_ddl(db.engine.dialect.name):
                conn.exec_driver_sql(stmt)
    return app


@pytest.fixture
def app(backend, request, _session_apps):
    """A Flask app on a clean database of the current backend; rows are wiped after each test."""
    from coop.core.extensions import db

    if backend not in _apps:
        if backend == "postgresql":
            url = request.getfixturevalue("pg_url")
        else:
            url = "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="coop-sqlite-"), "test.sqlite3")
        _apps[backend] = _build_app(url)
    app = _apps[backend]
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.rollback()
        db.session.remove()
        _wipe(db)
        from coop.reports import caching

        caching.clear_all()  # the next test's books start again at id 1, version 0
        ctx.pop()


def _wipe(db) -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    with superuser_engine().begin() as conn:
        if db.engine.dialect.name == "postgresql":
            # DELETE on small tables is much faster than TRUNCATE; replica mode skips the guard triggers and FKs
            conn.exec_driver_sql("SET session_replication_role = replica")
            for t in reversed(tables):
                conn.exec_driver_sql(f'DELETE FROM "{t}"')
            conn.exec_driver_sql("SET session_replication_role = DEFAULT")
        else:
            triggers = [r[0] for r in conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type='trigger'")]
            for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'").all():
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for t in reversed(tables):
                conn.exec_driver_sql(f'DELETE FROM "{t}"')
            conn.exec_driver_sql("DELETE FROM sqlite_sequence") if conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'").first() else None
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            for sql in triggers:
                conn.exec_driver_sql(sql)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(app, client):
    """Signing in: `auth.login(user)` (the `client`), `auth.browser(user)`, `auth.headers(user)` (tests/auth.py)."""
    from tests.auth import Auth

    return Auth(app, client)


# ---------------------------------------------------------------- domain fixtures


#: the counterparty test vouchers name on 112/113/201/211/221 lines when the test does not care which
DEFAULT_COUNTERPARTY = "往来单位"


class Books:
    """A county with one village and users for every role; helpers to write vouchers tersely."""

    def __init__(self, year: int = 2025, code_scheme: str | None = None):
        from coop.services import orgs, users

        self.year = year
        self.county = orgs.create_county("测试县", **({"code_scheme": code_scheme} if code_scheme else {}))
        self.township = orgs.create_township(self.county, "东镇")
        self.org = orgs.create_organization(self.township, name="东村股份经济合作社", books_start_year=year,
                                            cun_she_he_yi=True)
        self.accountant = users.create_user("kuaiji", "王会计", "password1")
        self.reviewer = users.create_user("shenhe", "李主任", "password1")
        self.auditor = users.create_user("jingguan", "赵审核", "password1")
        self.county_admin = users.create_user("xian", "县管理员", "password1")
        users.assign_role(self.accountant, "accountant", self.org)
        users.assign_role(self.reviewer, "reviewer", self.org)
        users.assign_role(self.auditor, "township_auditor", self.township)
        users.assign_role(self.county_admin, "county_admin", self.county)

    def lock_opening(self, balances: dict | None = None):
        from coop.services import opening

        opening.set_opening_balances(self.org, {k: Decimal(v) for k, v in (balances or {}).items()},
                                     user=self.accountant)
        opening.lock_opening_balances(self.org, user=self.accountant)

    def draft(self, date, *lines, kind="normal", summary="测试"):
        """lines: (account_code, debit, credit[, counterparty]) with amounts as strings; '' or 0 for the empty
        side. Lines on 112/113/201/211/221 without a counterparty get DEFAULT_COUNTERPARTY (RULES §2 辅助核算)."""
        from coop.ledger import codes
        from coop.ledger.chart import COUNTERPARTY_ACCOUNTS
        from coop.services import vouchers

        def cp(code, given):
            return given[0] if given else (DEFAULT_COUNTERPARTY if codes.top(code) in COUNTERPARTY_ACCOUNTS else None)

        data = {
            "date": date if isinstance(date, dt.date) else dt.date.fromisoformat(date),
            "lines": [
                {"summary": summary, "account_code": code, "debit": Decimal(d or 0), "credit": Decimal(c or 0),
                 "counterparty": cp(code, rest)}
                for code, d, c, *rest in lines
            ],
        }
        return vouchers.create_draft(self.org, data, user=self.accountant, kind=kind)

    def post(self, date, *lines, summary="测试"):
        from coop.services import vouchers

        v = self.draft(date, *lines, summary=summary)
        vouchers.review_voucher(v, user=self.reviewer)
        vouchers.post_voucher(v, user=self.accountant)
        return v

    def close_through(self, year: int, month: int):
        from coop.services import closing, periods

        generated = []
        while True:
            fy, fm = periods.first_open(self.org)
            if (fy, fm) > (year, month):
                return generated
            generated += closing.close_period(self.org, fy, fm, user=self.accountant, today=dt.date(2100, 1, 1))


@pytest.fixture
def books(app):
    b = Books()
    from coop.core.extensions import db

    db.session.commit()
    return b


def D(x) -> Decimal:
    return Decimal(str(x))


def count(model) -> int:
    from coop.core.extensions import db

    return db.session.scalar(sa.select(sa.func.count()).select_from(model))
