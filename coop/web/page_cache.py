"""Whole pages for a repeat view (#24): a page this login has already been shown, of books and a layout unchanged
since, is answered before any view runs — a 304 when the client has it, else the stored page with this request's
CSRF token. The report pages and the voucher list opt in (`@whole_page`).

A stored page is kept per login (Flask-Login's identity in the session: user, session version, login stamp — never
another user's or another login's page), URL with its query, and the session's choice of language, and is shown
again only while all of these are as they were:
- the Beijing day and the build (coop.reports.caching);
- the user's session version, active flag, and no one-time password to replace;
- the books versions of every organization the user can see: the page's own books, and the layout's 待办 badges
  and organization switcher (coop.models.books bumps them for vouchers, questions, sheets, plans and claims);
- the directory version: users, role assignments, organizations, townships and counties (names, menus, switcher).
One SQL statement reads them all. Versions are read before the data they cover (the directory before the user is
loaded, the books before the page's body and layout), so a change during a render leaves the stored page already
out of date, never wrong. A page with a flash message to show or leave for the next page is never stored or served.
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import sqlalchemy as sa
from flask import Flask, current_app, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from coop.core import clock
from coop.core.extensions import db
from coop.models import BooksVersion, DirectoryVersion, Organization
from coop.reports import caching
from coop.services import access
from coop.web.auth import client_identifier, parse_identity

stored = caching.LRU("PAGE_CACHE_ENTRIES", "PAGE_CACHE_BYTES")  # the same limits as the page bodies; 0 = off

_FILL = "coop.page_fill"  # environ: what a page being rendered may be stored under, read before its data
_DIRECTORY = "coop.directory_version"  # environ: the directory version, read before the user is (the ETag's)


class _Page(NamedTuple):
    html: str  # first: caching.LRU counts its length
    etag: str
    day: object
    build: str
    directory: int
    org_ids: tuple[int, ...]
    books: int  # the sum of the books versions of org_ids (each only ever grows)


def whole_page(view):
    """Mark a page view whose whole answer may be stored for its login (it must call `unchanged` first)."""
    view.whole_page = True
    return view


#: the login's state and the versions, as the driver's SQL (a repeat view costs little more than this statement:
#: built once per dialect and number of organizations, not compiled per request)
_STATE_SQL = (
    "SELECT u.session_version, u.active, u.must_change_password,"
    " COALESCE((SELECT d.version FROM directory_versions d WHERE d.id = 1), 0),"
    " COALESCE((SELECT SUM(b.version) FROM books_versions b WHERE b.organization_id IN ({ids})), 0)"
    " FROM users u WHERE u.id = {mark}")
_state_sql: dict[tuple[str, int], str] = {}


def _sql(paramstyle: str, n: int) -> str:
    sql = _state_sql.get((paramstyle, n))
    if sql is None:
        mark = "?" if paramstyle == "qmark" else "%s"
        sql = _state_sql[(paramstyle, n)] = _STATE_SQL.format(ids=", ".join([mark] * n) or "NULL", mark=mark)
    return sql


_engines_lock = threading.Lock()


def _state_engine() -> sa.Engine:
    """Where the state is read. PostgreSQL: a small engine of the app's own, in autocommit and without the main
    pool's pre-ping — one round trip a read instead of four (ping, BEGIN, the read, ROLLBACK); a connection it
    finds dead only sends that request the usual way. SQLite: the app's engine (no round trips to save)."""
    main = db.engine
    if main.dialect.name != "postgresql":
        return main
    own = current_app.extensions.get("coop_page_state_engine")
    if own is None:
        with _engines_lock:
            own = current_app.extensions.get("coop_page_state_engine")
            if own is None:
                options = current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
                own = current_app.extensions["coop_page_state_engine"] = sa.create_engine(
                    main.url, connect_args=options.get("connect_args", {}), isolation_level="AUTOCOMMIT",
                    pool_reset_on_return=None, pool_timeout=0.05,
                    pool_size=current_app.config.get("PAGE_STATE_POOL_SIZE", 8), max_overflow=8)
    return own


def _state(user_id: int, org_ids: tuple[int, ...]):
    """(session version, active, must change password, directory version, sum of the books versions of org_ids)
    of the user, in one statement; None if there is no such user, or the read failed (the view then runs).
    A pooled driver connection of its own, not the session's: a stored page needs no ORM session at all."""
    engine = _state_engine()
    try:
        raw = engine.raw_connection()
    except sa.exc.TimeoutError:  # more threads than the state pool holds: this request goes the usual way
        return None
    except engine.dialect.loaded_dbapi.Error:  # the pool passes the driver's own error on
        if engine is db.engine:
            raise
        return None  # the server refuses a new connection (max_connections, a restart): the usual way too
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(_sql(engine.dialect.paramstyle, len(org_ids)), (*org_ids, user_id))
            return cursor.fetchone()
        finally:
            cursor.close()
    except engine.dialect.loaded_dbapi.Error:
        if engine is db.engine:
            raise
        raw.invalidate()  # a connection lost (a server restart): dropped, and no shortcut this time
        return None
    finally:
        raw.close()  # back to its pool


def _directory_first() -> None:
    """The directory version for the page's ETag, read before the user is (a page not served or stored here)."""
    request.environ[_DIRECTORY] = db.session.scalar(
        sa.select(DirectoryVersion.__table__.c.version).where(DirectoryVersion.__table__.c.id == 1)) or 0


def serve_stored():
    """before_request, first of all: the stored page of this login and URL when nothing it shows has changed;
    otherwise note what the view's page may be stored under (the directory version, read before the user is)."""
    if request.method not in ("GET", "HEAD"):
        return None
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "whole_page", False):
        return None
    identity = session.get("_user_id")
    # HEAD, no cache; a flash to show; a session Flask-Login's session protection would look at again (another
    # address/browser): the view's way, with the directory version its ETag needs
    login = parse_identity(identity) if identity else None
    if (request.method != "GET" or not stored.enabled() or login is None or "_flashes" in session
            or session.get("_id") != client_identifier()):
        return _directory_first()
    key = (identity, request.full_path, session.get("locale"))
    page = stored.get(key)
    state = _state(login.user_id, page.org_ids if page else ())
    if state is None:
        return _directory_first()
    version, active, must_change, directory, books = state
    request.environ[_DIRECTORY] = directory
    if version != login.version or not active or must_change:
        return None  # the view's usual way: signed out, or sent to choose a password
    if page is not None and (page.directory, page.books, page.day, page.build) == (
            directory, books, clock.today(), caching.BUILD):
        request.environ["coop.etag"] = page.etag  # caching.tag_response sends it
        if request.if_none_match.contains(page.etag):
            return make_response("", 304)
        return current_app.response_class(page.html.replace(caching.CSRF_SLOT, generate_csrf()),
                                          mimetype="text/html")
    request.environ[_FILL] = {"key": key, "directory": directory, "day": clock.today()}
    return None


def unchanged(org: Organization):
    """A page view's first step after its access check: a 304 for the client's copy of this page — these books,
    and the directory and books versions of every organization its layout shows (caching.not_modified) — else
    None; those versions are read now, before the page reads anything they cover, and a page that may be stored
    is stored under them."""
    o, bv = Organization.__table__, BooksVersion.__table__
    visible = access.visible_orgs_query(current_user).with_only_columns(o.c.id).order_by(None)
    rows = db.session.connection().execute(
        sa.select(o.c.id, sa.func.coalesce(bv.c.version, 0))
        .select_from(o.outerjoin(bv, bv.c.organization_id == o.c.id))
        .where(o.c.id.in_(visible.scalar_subquery()) | (o.c.id == org.id))).all()
    # the page's own organization: the version read with its row (its name is on the page), not a newer one
    books = sum(v for i, v in rows if i != org.id) + caching.books_version(org)
    if _DIRECTORY not in request.environ:  # a view not reached through serve_stored (a test's own request)
        _directory_first()
    # the ETag covers the layout too: a client's copy with another 待办 count or switcher is not "not modified"
    answer = caching.not_modified(org, layout=(request.environ[_DIRECTORY], books))
    fill = request.environ.get(_FILL)
    if answer is None and fill is not None:
        fill["org_ids"] = tuple(sorted(i for i, _v in rows))
        fill["books"] = books
    return answer


def keep_out() -> None:
    """This request's page is not the whole truth (a part of its layout failed): answer it, never keep it."""
    request.environ.pop(_FILL, None)


def store(response):
    """after_request: keep the page a `whole_page` view rendered, its CSRF tokens replaced by the slot."""
    fill = request.environ.get(_FILL)
    if (fill is None or "books" not in fill or response.status_code != 200 or response.mimetype != "text/html"
            or response.direct_passthrough or "_flashes" in session or "coop.etag" not in request.environ):
        return response
    html = response.get_data(as_text=True).replace(generate_csrf(), caching.CSRF_SLOT)
    stored.put(fill["key"], _Page(html, request.environ["coop.etag"], fill["day"], caching.BUILD,
                                  fill["directory"], fill["org_ids"], fill["books"]))
    return response


def init_page_cache(app: Flask) -> None:
    # before every other before-request function (Flask-Login's user, the first-login check): a stored page
    # needs none of them
    app.before_request_funcs.setdefault(None, []).insert(0, serve_stored)
    app.after_request(store)
