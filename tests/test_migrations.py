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
