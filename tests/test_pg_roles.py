"""PostgreSQL roles (issue 17): the app connects as coop_app, which reads and writes rows but can neither switch
off nor drop the guard triggers, nor change the schema — so a stolen app password cannot quietly edit a posted
voucher."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import ProgrammingError

from coop.core.extensions import db


@pytest.fixture
def pg_app(app, backend):
    if backend != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    return app


def test_the_app_runs_as_coop_app(pg_app):
    assert db.session.scalar(sa.text("SELECT current_user")) == "coop_app"
    assert db.session.scalar(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) is False


@pytest.mark.parametrize("stmt", [
    "ALTER TABLE vouchers DISABLE TRIGGER ALL",
    "ALTER TABLE voucher_lines DISABLE TRIGGER USER",
    "DROP TRIGGER trg_voucher_lines_posted_immutable ON voucher_lines",
    "DROP TABLE audit_log",
    "SET session_replication_role = replica",
    "CREATE TABLE intruder (id int)",
    "TRUNCATE audit_log",
])
def test_app_role_cannot_touch_triggers_or_schema(pg_app, stmt):
    with db.engine.connect() as conn:
        with pytest.raises(ProgrammingError) as exc:
            conn.exec_driver_sql(stmt)
        assert "permission denied" in str(exc.value) or "must be owner" in str(exc.value)


def test_app_role_reads_and_writes_rows(pg_app, books):
    books.lock_opening()
    books.post("2025-01-05", ("101", "500.00", ""), ("102", "", "500.00"))
    db.session.commit()
    assert db.session.scalar(sa.text("SELECT count(*) FROM vouchers WHERE status = 'posted'")) == 1


def test_the_app_plans_without_parallel_workers(pg_app, pg_url):
    """config.POSTGRES_OPTIONS reaches every connection of the app (a village's sums cost 3× the CPU in a parallel
    plan, bench/RESULTS.md); set to "" it is left to the server, and SQLite ignores it."""
    from coop import create_app

    assert db.session.scalar(sa.text("SHOW max_parallel_workers_per_gather")) == "0"
    plain = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=pg_url, POSTGRES_OPTIONS="")
    with plain.app_context():
        assert db.session.scalar(sa.text("SHOW max_parallel_workers_per_gather")) == "2"  # the server's default
        db.session.remove()
        db.engine.dispose()
