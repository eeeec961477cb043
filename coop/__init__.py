"""coop: accounting, shareholding and public disclosure for rural collective economic organizations."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from coop.web.boundary import CoopFlask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_object: str | object = "config.DevelopmentConfig", **overrides) -> Flask:
    """Build the app: load config, bind extensions, register blueprints and commands. No database work here."""
    app = CoopFlask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "coop" / "static"),
                instance_path=str(ROOT / "instance"))
    app.config.from_object(config_object)
    app.config.from_prefixed_env("COOP")
    if "COOP_DATABASE_URL" in os.environ and "SQLALCHEMY_DATABASE_URI" not in overrides and not app.testing:
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["COOP_DATABASE_URL"]
    app.config.update(overrides)
    if app.config.get("ENV_NAME") == "production" and app.config["SECRET_KEY"] == "dev-only-not-secret":
        raise RuntimeError("Set COOP_SECRET_KEY before running in production")
    if app.config.get("ENV_NAME") == "production" and not (app.config.get("AUDIT_KEY") or app.config.get("AUDIT_KEY_FILE")):
        raise RuntimeError("Set COOP_AUDIT_KEY or COOP_AUDIT_KEY_FILE before running in production (see README)")
    Path(app.instance_path).mkdir(exist_ok=True)
    _postgres_options(app)

    from coop import models  # noqa: F401  (tables and the posted-voucher guard)
    from coop.api.envelope import api
    from coop.core.extensions import babel, csrf, db, login_manager, migrate
    from coop.core.i18n import init_i18n

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     render_item=models.base.render_migration_type)
    csrf.init_app(app)
    login_manager.init_app(app)
    init_i18n(app, babel)
    api.init_app(app)

    from coop.core.security import init_security
    from coop.web.page_cache import init_page_door

    init_page_door(app)  # before init_security: inside the trusted-proxy fix
    init_security(app)

    from coop.api import IdConverter, register_api
    from coop.web import register_web

    # every <int:…> in a URL (web and API) is a database id or a year: 1 … 2**31−1, else 404 from routing
    app.url_map.converters["int"] = IdConverter
    register_web(app)
    register_api(app, api)

    from coop.reports.caching import init_caching
    from coop.web.hardening import init_hardening

    init_caching(app)  # before hardening: its after-request function then runs after hardening's no-store
    from coop.web.page_cache import init_page_cache

    init_page_cache(app)
    init_hardening(app)  # after the API's token check, so a caller without a token gets its 401 first

    from coop.cli import register_cli

    register_cli(app)
    _sqlite_pragmas(app, db)
    return app


def _postgres_options(app: Flask) -> None:
    """POSTGRES_OPTIONS (config.py) on every connection of the app's engine, when the database is PostgreSQL."""
    options = app.config.get("POSTGRES_OPTIONS")
    if not options or not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    engine = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect = dict(engine.get("connect_args") or {})
    connect["options"] = " ".join(filter(None, (connect.get("options"), options)))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**engine, "connect_args": connect}


def _sqlite_pragmas(app: Flask, db) -> None:
    """SQLite: enforce foreign keys, wait for locks instead of failing, and use WAL for concurrent readers."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        synchronous = app.config.get("SQLITE_SYNCHRONOUS", "NORMAL")

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            if ":memory:" not in str(engine.url) and str(engine.url) != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.close()

        @event.listens_for(engine, "before_execute")
        def _lock_for_update(conn, clause, *_args):
            # SQLite has no row locks and pysqlite begins a transaction only at the first write, so a
            # `SELECT … FOR UPDATE` (how the services say "I am about to change this") would read outside any
            # transaction: two sealers of the audit chain, or two reviewers of one voucher, could both act on what
            # they read. Take the database's write lock first instead (waiting up to busy_timeout).
            if getattr(clause, "_for_update_arg", None) is None:
                return
            dbapi_conn = conn.connection.dbapi_connection
            if not dbapi_conn.in_transaction:
                dbapi_conn.execute("BEGIN IMMEDIATE")
