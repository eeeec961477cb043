"""`flask db upgrade` on an empty database gives exactly the models' schema, on both backends."""
import os
import tempfile

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


@pytest.fixture
def empty_db_url(backend, request):
    if backend == "sqlite":
        return "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="coop-mig-"), "m.sqlite3")
    base = request.getfixturevalue("pg_url")
    engine = sa.create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS coop_mig")
        conn.exec_driver_sql("CREATE DATABASE coop_mig")
    engine.dispose()
    return base.rsplit("/", 1)[0] + "/coop_mig"


def test_upgrade_matches_models_and_downgrade_cleans_up(empty_db_url):
    from flask_migrate import downgrade, upgrade

    from coop import create_app
    from coop.core.extensions import db

    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=empty_db_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
            triggers = _trigger_names(conn)
        assert diff == [], diff
        # the guard triggers the tests install with create_all are exactly those the migrations create
        from coop.models.guards import immutability_ddl

        expected = {stmt.split()[2] for stmt in immutability_ddl(conn.dialect.name) if "CREATE TRIGGER" in stmt}
        assert triggers == expected
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def _trigger_names(conn) -> set[str]:
    if conn.dialect.name == "postgresql":
        return {r[0] for r in conn.exec_driver_sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
    return {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'")}


def test_published_sheets_get_the_signature_block_they_showed(empty_db_url):
    """Migration a26c00000001 keeps, for a sheet published before it, the block its page showed until then: the
    preparer, the accountants, the 民主理财小组 reviewer, the 法定代表人, the township and its approver; a draft
    keeps none (it is signed when published)."""
    import json

    from flask_migrate import upgrade

    from coop import create_app
    from coop.core.extensions import db

    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=empty_db_url)
    with app.app_context():
        upgrade(revision="a26b00000001")
        now = "2025-04-10 08:00:00"
        with db.engine.begin() as conn:
            for sql in (
                "INSERT INTO counties (id, name, reserve_rate, cadre_reward_cap, cash_limit, created_at, buyback_limit,"
                " disclosure_due_days, code_scheme) VALUES (1, '青山县', 0.1, 0.2, 500000, :now, 0.2, 15, '2-2-2')",
                "INSERT INTO townships (id, county_id, name, created_at) VALUES (1, 1, '东镇', :now)",
                "INSERT INTO organizations (id, township_id, name, kind, cun_she_he_yi, books_start_year,"
                " books_start_month, opening_locked, has_collective_share, created_at, county_may_post,"
                " legal_representative) VALUES (1, 1, '东村', 'village_shareholding', true, 2025, 1, true, false, :now, false, '李村长')",
                *(f"INSERT INTO users (id, username, display_name, password_hash, active, created_at, session_version,"
                  f" must_change_password) VALUES ({i}, 'u{i}', '{n}', 'x', true, :now, 1, false)"
                  for i, n in ((1, "王会计"), (2, "理财小组长"), (3, "赵审核"), (4, "钱会计"))),
                "INSERT INTO role_assignments (id, user_id, organization_id, role, created_at) VALUES"
                " (1, 1, 1, 'accountant', :now), (2, 4, 1, 'accountant', :now)",
                "INSERT INTO disclosures (id, organization_id, kind, period_start, period_end, version, status, data,"
                " digest, created_at, created_by_id, reviewed_by_id, approved_by_id) VALUES"
                " (1, 1, 'income_expense', '2025-01-01', '2025-03-31', 1, 'published', '{}', 'd1', :now, 1, 2, 3),"
                " (2, 1, 'debts', '2025-01-01', '2025-03-31', 1, 'draft', '{}', 'd2', :now, 1, NULL, NULL)"):
                conn.execute(sa.text(sql), {"now": now})
        upgrade()
        with db.engine.connect() as conn:
            kept = dict(conn.execute(sa.text("SELECT id, signers FROM disclosures")).all())
        db.engine.dispose()
    assert json.loads(kept[1]) == [["制表", "王会计"], ["会计", "王会计、钱会计"], ["民主理财小组", "理财小组长"],
                                   ["村负责人", "李村长"], ["审核单位", "东镇经管站（赵审核）"]]
    assert kept[2] is None


def test_dividends_posted_before_keep_the_one_legacy_211_label(empty_db_url):
    """Migration a26e00000001: a 分红清册 row of a plan posted when 211 took one line for all households gets the
    payee "应付收益", the counterparty of that line, so paying it still nets against it."""
    from flask_migrate import upgrade

    from coop import create_app
    from coop.core.extensions import db

    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=empty_db_url)
    with app.app_context():
        upgrade(revision="a26d00000001")
        now = "2026-01-15 08:00:00"
        with db.engine.begin() as conn:
            for sql in (
                "INSERT INTO counties (id, name, reserve_rate, cadre_reward_cap, cash_limit, created_at, buyback_limit,"
                " disclosure_due_days, code_scheme) VALUES (1, '青山县', 0.1, 0.2, 500000, :now, 0.2, 15, '2-2-2')",
                "INSERT INTO townships (id, county_id, name, created_at) VALUES (1, 1, '东镇', :now)",
                "INSERT INTO organizations (id, township_id, name, kind, cun_she_he_yi, books_start_year,"
                " books_start_month, opening_locked, has_collective_share, created_at, county_may_post)"
                " VALUES (1, 1, '东村', 'village_shareholding', true, 2025, 1, true, false, :now, false)",
                "INSERT INTO households (id, organization_id, number, active, created_at) VALUES"
                " (1, 1, '0001', true, :now), (2, 1, '0002', true, :now)",
                "INSERT INTO distribution_plans (id, organization_id, year, name, record_date, cadre_reward,"
                " member_pool, other, supplementary, status, created_at) VALUES"
                " (1, 1, 2025, '方案', '2025-12-31', 0, 9000000, 0, false, 'posted', :now)",
                "INSERT INTO household_dividends (id, plan_id, household_id, units, amount) VALUES"
                " (1, 1, 1, 3080000, 5544000), (2, 1, 2, 1920000, 3456000)"):
                conn.execute(sa.text(sql), {"now": now})
        upgrade()
        with db.engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT id, payee, amount FROM household_dividends ORDER BY id")).all()
        db.engine.dispose()
    assert [tuple(r) for r in kept] == [(1, "应付收益", 5544000), (2, "应付收益", 3456000)]
