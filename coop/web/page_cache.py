"""Whole pages for a repeat view (#24): a page this login has already been shown, of books and a layout unchanged
since, is answered before any view runs — a 304 when the client has it, else the stored page with a CSRF token for
this session. The report pages and the voucher list opt in (`@whole_page`).

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

Two doors answer a repeat view:
- `PageDoor`, WSGI, in front of Flask: what a repeat view most often is — the same session asking again — from the
  session cookie and the one state read, with the headers and the CSRF token the page was answered with (the token
  signs the session's own; tokens do not expire unless WTF_CSRF_TIME_LIMIT says so). No request context, no URL
  matching, no session saved: a repeat view then costs little more than the state read.
- `serve_stored`, Flask's first before-request function: everything else it may answer (a new token to sign, a
  session that has none yet), with the state the door read if it read one.
"""
from __future__ import annotations

import threading
import time
from typing import NamedTuple

import sqlalchemy as sa
from flask import Flask, current_app, make_response, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature
from werkzeug.http import parse_cookie, parse_etags

from coop.core import clock
from coop.core.extensions import db
from coop.models import BooksVersion, DirectoryVersion, Organization
from coop.reports import caching
from coop.services import access
from coop.web.auth import client_identifier, client_identifier_of, parse_identity

stored = caching.LRU("PAGE_CACHE_ENTRIES", "PAGE_CACHE_BYTES")  # the same limits as the page bodies; 0 = off

_FILL = "coop.page_fill"  # environ: what a page being rendered may be stored under, read before its data
_DIRECTORY = "coop.directory_version"  # environ: the directory version, read before the user is (the ETag's)
_KEEP = "coop.page_keep"  # environ: (key, page) to keep once the door has seen the answer's final headers
_STATE = "coop.page_state"  # environ: (page, the state the door read for it — None: the read failed)
_ENGINE = "coop_page_state_engine"  # app.extensions: where the state is read


class _Page(NamedTuple):
    body: bytes  # first: caching.LRU counts its length
    etag: str
    day: object
    build: str
    directory: int
    org_ids: tuple[int, ...]
    books: int  # the sum of the books versions of org_ids (each only ever grows)
    csrf: str  # the signed CSRF token in body
    csrf_raw: str | None  # the session's token it signs
    csrf_at: float  # when it was signed
    headers: tuple[tuple[str, str], ...] = ()  # the answer's, but Set-Cookie and Content-Length


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
    own = current_app.extensions.get(_ENGINE)
    if own is None:
        with _engines_lock:
            own = current_app.extensions.get(_ENGINE)
            main = db.engine
            if own is None and main.dialect.name != "postgresql":
                own = current_app.extensions[_ENGINE] = main
            elif own is None:
                options = current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
                own = current_app.extensions[_ENGINE] = sa.create_engine(
                    main.url, connect_args=options.get("connect_args", {}), isolation_level="AUTOCOMMIT",
                    pool_reset_on_return=None, pool_timeout=0.05,
                    pool_size=current_app.config.get("PAGE_STATE_POOL_SIZE", 8), max_overflow=8)
    return own


def _state(engine: sa.Engine, user_id: int, org_ids: tuple[int, ...]):
    """(session version, active, must change password, directory version, sum of the books versions of org_ids)
    of the user, in one statement; None if there is no such user, or the read failed (the view then runs).
    A pooled driver connection of its own, not the session's: a stored page needs no ORM session at all."""
    shared = engine.dialect.name != "postgresql"  # SQLite: the app's own engine, whose errors are the app's
    try:
        raw = engine.raw_connection()
    except sa.exc.TimeoutError:  # more threads than the state pool holds: this request goes the usual way
        return None
    except engine.dialect.loaded_dbapi.Error:  # the pool passes the driver's own error on
        if shared:
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
        if shared:
            raise
        raw.invalidate()  # a connection lost (a server restart): dropped, and no shortcut this time
        return None
    finally:
        raw.close()  # back to its pool


def _directory_first() -> None:
    """The directory version for the page's ETag, read before the user is (a page not served or stored here)."""
    request.environ[_DIRECTORY] = db.session.scalar(
        sa.select(DirectoryVersion.__table__.c.version).where(DirectoryVersion.__table__.c.id == 1)) or 0


def _key(environ, identity: str, locale) -> tuple:
    """Where a login's page is kept: the login, the URL as the client sent it, the session's language."""
    return identity, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), locale


def _current(page: _Page, directory: int, books: int) -> bool:
    return (page.directory, page.books, page.day, page.build) == (directory, books, clock.today(), caching.BUILD)


def serve_stored():
    """before_request, first of all: the stored page of this login and URL when nothing it shows has changed
    (what the door left: a token to sign anew); otherwise note what the view's page may be stored under (the
    directory version, read before the user is)."""
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
    key = _key(request.environ, identity, session.get("locale"))
    page = stored.get(key)
    read_for, state = request.environ.get(_STATE, (None, None))
    if read_for is None or read_for is not page:  # the door read none, or for a page since replaced
        state = _state(_state_engine(), login.user_id, page.org_ids if page else ())
    if state is None:
        return _directory_first()
    version, active, must_change, directory, books = state
    request.environ[_DIRECTORY] = directory
    if version != login.version or not active or must_change:
        return None  # the view's usual way: signed out, or sent to choose a password
    if page is not None and _current(page, directory, books):
        request.environ["coop.etag"] = page.etag  # caching.tag_response sends it
        if request.if_none_match.contains(page.etag):
            return make_response("", 304)
        token = generate_csrf()
        if token != page.csrf:  # signed anew for this session: kept so, for the door
            page = page._replace(body=page.body.replace(page.csrf.encode(), token.encode()), csrf=token,
                                 csrf_raw=session.get(_csrf_field()), csrf_at=time.time())
            stored.put(key, page)
        return current_app.response_class(page.body, mimetype="text/html")
    request.environ[_FILL] = {"key": key, "directory": directory, "day": clock.today()}
    return None


def _csrf_field(config=None) -> str:
    """Where Flask-WTF keeps the session's own CSRF token."""
    return (current_app.config if config is None else config).get("WTF_CSRF_FIELD_NAME") or "csrf_token"


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
    """after_request: a page a `whole_page` view rendered, to keep — by the door, once it has seen the answer's
    final headers (every other after-request function, and the session's cookie, come after this one)."""
    fill = request.environ.get(_FILL)
    if (fill is None or "books" not in fill or response.status_code != 200 or response.mimetype != "text/html"
            or response.direct_passthrough or "_flashes" in session or "coop.etag" not in request.environ):
        return response
    token = generate_csrf()
    request.environ[_KEEP] = (fill["key"], _Page(
        response.get_data(), request.environ["coop.etag"], fill["day"], caching.BUILD, fill["directory"],
        fill["org_ids"], fill["books"], token, session.get(_csrf_field()), time.time()))
    return response


#: what a kept answer does not repeat: the session's cookie (a repeat view changes no session), and the length
#: (the door's own)
_NOT_REPEATED = {"set-cookie", "content-length"}


class PageDoor:
    """WSGI, inside the trusted-proxy fix (it sees the client's own address): a repeat view of a kept page from
    the session that was shown it, answered from the session cookie and one state read — no request context. It
    keeps what `store` marked once it has the answer's final headers. Anything it cannot judge, or that goes
    wrong, is Flask's as usual (`serve_stored`, then the view)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        self._signing = (None, None)  # (the keys, the session interface's serializer for them): one read, atomic
        #: paths a page was ever kept under (a few per organization): any other GET — most pages, static files —
        #: goes straight to Flask without its session cookie verified twice
        self._paths: set[str] = set()

    def __call__(self, environ, start_response):
        if (environ.get("REQUEST_METHOD") == "GET" and environ.get("HTTP_COOKIE")
                and environ.get("PATH_INFO", "") in self._paths):
            try:
                answer = self._answer(environ)
            except Exception:  # never worse than the usual way
                self.app.logger.exception("page door")
                answer = None
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        seen = []

        def seeing(status, headers, exc_info=None):
            seen[:] = [status, headers]
            return start_response(status, headers, exc_info)

        answer = self.wsgi_app(environ, seeing)
        keep = environ.get(_KEEP)
        if keep is not None and seen and seen[0].startswith("200 "):
            key, page = keep
            headers = tuple((k, v) for k, v in seen[1] if k.lower() not in _NOT_REPEATED)
            stored.put(key, page._replace(headers=headers), config=self.app.config)
            self._paths.add(key[1])
        return answer

    def _session(self, environ) -> dict | None:
        """The session cookie's contents, verified as Flask's session interface verifies them."""
        app = self.app
        if not isinstance(app.session_interface, SecureCookieSessionInterface):
            return None  # sessions kept elsewhere: Flask's to open
        value = parse_cookie(environ).get(app.config["SESSION_COOKIE_NAME"])
        if not value:
            return None
        # the current key and the fallbacks: a key retired from the fallbacks opens nothing here either (a str or
        # bytes key, as Flask takes)
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        signed_with, serializer = self._signing
        if serializer is None or signed_with != keys:
            serializer = app.session_interface.get_signing_serializer(app)
            self._signing = (keys, serializer)
        if serializer is None:
            return None  # no secret key: Flask has no session either
        try:
            return serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()))
        except BadSignature:
            return None

    def _answer(self, environ):
        config = self.app.config
        engine = self.app.extensions.get(_ENGINE)
        if engine is None or not stored.enabled(config):
            return None  # no page kept yet in this process
        data = self._session(environ)
        identity = data.get("_user_id") if data else None
        # a flash to show, a remember cookie to set, a permanent session's cookie to refresh: Flask's to do
        if not identity or "_flashes" in data or "_remember" in data or data.get("_permanent"):
            return None
        page = stored.get(_key(environ, identity, data.get("locale")))
        if page is None or not page.headers or data.get(_csrf_field(config)) != page.csrf_raw:
            return None
        limit = config.get("WTF_CSRF_TIME_LIMIT")
        if limit and time.time() - page.csrf_at > limit / 10:
            return None  # signed long ago: serve_stored signs it anew
        login = parse_identity(identity, self.app)
        if login is None or data.get("_id") != client_identifier_of(environ):
            return None
        state = _state(engine, login.user_id, page.org_ids)
        environ[_STATE] = (page, state)  # for serve_stored (None: the read failed, no shortcut this time)
        if state is None:
            return None
        version, active, must_change, directory, books = state
        if version != login.version or not active or must_change or not _current(page, directory, books):
            return None
        if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(page.etag):
            return "304 NOT MODIFIED", [*page.headers, ("Content-Length", "0")], b""
        return "200 OK", [*page.headers, ("Content-Length", str(len(page.body)))], page.body


def init_page_door(app: Flask) -> None:
    """Before coop.core.security's trusted-proxy fix wraps the app: the door then sees the client's address."""
    app.wsgi_app = PageDoor(app, app.wsgi_app)


def init_page_cache(app: Flask) -> None:
    # before every other before-request function (Flask-Login's user, the first-login check): a stored page
    # needs none of them
    app.before_request_funcs.setdefault(None, []).insert(0, serve_stored)
    app.after_request(store)
