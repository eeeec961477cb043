"""Repeat views of unchanged books (#24), for the web pages and the API: ETag/304 and bounded in-process caches
keyed by the books version.

Every key holds the organization's books version (coop.services.books.version, read before the data it keys),
the locale, the Beijing day (the period picker's years and the PDFs' 打印日期 depend on it), the code's build
stamp and the request's full path with its query string; pages whose body depends on the user (the voucher list's
tick boxes) add the user. Nothing here decides who may see what: the view checks access first, then asks.

Browsers: pages keep `Cache-Control: no-store` (coop.web.hardening — village offices share computers and the
pages carry people's names), so a browser never stores them and never revalidates; the ETag is still sent and an
If-None-Match honoured (an API client or a script keeping its own copy gets a 304). Where a county runs its own
machines, `PAGE_BROWSER_REVALIDATE = True` lets the ledger pages answer `private, no-cache` instead: the browser
keeps a private copy and asks every time, and unchanged books answer 304. Shared caches never store them.

The server-side caches are per process (a gunicorn worker each), least recently used first out, bounded by entries
and bytes: PAGE_CACHE_ENTRIES / PAGE_CACHE_BYTES for page bodies and the API's report JSON, REPORT_PDF_CACHE_ENTRIES / _BYTES for report
PDFs (beside coop.documents.pdf's cache by the HTML's digest, this one skips building the table and its HTML).
0 entries turns a cache off (the bench measures the uncached page that way). Whole pages, layout included, are
kept per login by coop.web.page_cache, which answers a repeat view before any view runs.
"""
from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from flask import current_app, make_response, request
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from coop.core import clock
from coop.services import access, books

DEFAULTS = {"PAGE_CACHE_ENTRIES": 256, "PAGE_CACHE_BYTES": 32 << 20, "REPORT_PDF_CACHE_ENTRIES": 64,
            "REPORT_PDF_CACHE_BYTES": 32 << 20, "PAGE_BROWSER_REVALIDATE": False}
#: a cached body holds this where the per-request CSRF token goes (a token rendered once would expire in it)
CSRF_SLOT = "\x1bcsrf-slot\x1b"


def _build_stamp() -> str:
    """Changes when the code or the templates do (a deploy): a page of unchanged books may still look different."""
    root = Path(__file__).resolve().parents[2]
    latest = 0.0
    for folder in (root / "coop", root / "templates"):
        for dirpath, _dirs, files in os.walk(folder):
            for f in files:
                if f.endswith((".py", ".html", ".mo")):
                    latest = max(latest, os.stat(os.path.join(dirpath, f)).st_mtime)
    return f"{latest:.0f}"


BUILD = _build_stamp()


_every: list[LRU] = []  # every cache of the process, for clear_all


class LRU:
    """A thread-safe least-recently-used map bounded by entries and by the total length of its values."""

    def __init__(self, entries_key: str, bytes_key: str):
        self.entries_key, self.bytes_key = entries_key, bytes_key
        self._data: OrderedDict = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        _every.append(self)

    def _limits(self, config=None) -> tuple[int, int]:
        cfg = current_app.config if config is None else config
        return (cfg.get(self.entries_key, DEFAULTS[self.entries_key]),
                cfg.get(self.bytes_key, DEFAULTS[self.bytes_key]))

    def enabled(self, config=None) -> bool:
        """`config`: the app's, where there is no app context (coop.web.page_cache's WSGI door)."""
        return self._limits(config)[0] > 0

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    @staticmethod
    def _len(value) -> int:
        """The memory a value's body holds (a tuple's: its first item): a str takes 1, 2 or 4 bytes a character
        (Chinese 2; all of it 4 once one character is outside the BMP), which its length does not say."""
        return sys.getsizeof(value[0] if isinstance(value, tuple) else value)

    def put(self, key, value, config=None) -> None:
        entries, max_bytes = self._limits(config)
        if entries <= 0 or self._len(value) > max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            self._size -= self._len(old) if old is not None else 0
            self._data[key] = value
            self._size += self._len(value)
            while len(self._data) > entries or self._size > max_bytes:
                _k, dropped = self._data.popitem(last=False)
                self._size -= self._len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._size = 0


pages = LRU("PAGE_CACHE_ENTRIES", "PAGE_CACHE_BYTES")
pdfs = LRU("REPORT_PDF_CACHE_ENTRIES", "REPORT_PDF_CACHE_BYTES")


def clear_all() -> None:
    """Forget every cached page and PDF (a database emptied and refilled under a running process: tests)."""
    for cache in _every:
        cache.clear()


def books_version(org) -> int:
    """The books version of `org` (an Organization, or its id) as this request first saw it, before anything it
    keys. The view's access check loaded the organization row at the start of the request, version included."""
    org_id = getattr(org, "id", org)
    # per request, not in `g`: an app context may outlive one request (tests push one around many)
    cached = request.environ.get("coop.books_version")
    if cached is None or cached[0] != org_id:
        known = getattr(org, "books_version", None) if not isinstance(org, int) else None
        cached = (org_id, known if known is not None else books.version(org_id))
        request.environ["coop.books_version"] = cached
    return cached[1]


def _user_id():
    return current_user.get_id() if current_user and current_user.is_authenticated else None


def etag(org, layout: tuple = ()) -> str:
    """`layout`: the versions of what the page shows around these books (coop.web.page_cache), if any."""
    raw = "\x1f".join(map(str, (getattr(org, "id", org), books_version(org), _user_id(), get_locale(), clock.today(), BUILD,
                                request.full_path, *layout)))
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def not_modified(org, layout: tuple = ()):
    """A 304 when the client's copy is of the same books, user, locale and query (and `layout`); else None (and
    the response gets the ETag). Call after the access check."""
    tag = etag(org, layout)
    request.environ["coop.etag"] = tag
    if request.if_none_match.contains(tag):
        return make_response("", 304)  # tag_response adds the ETag and Cache-Control
    return None


def _tagged(response):
    response.set_etag(request.environ["coop.etag"])
    if current_app.config.get("PAGE_BROWSER_REVALIDATE", DEFAULTS["PAGE_BROWSER_REVALIDATE"]):
        response.headers["Cache-Control"] = "private, no-cache"
    return response


def tag_response(response):
    """after_request: the ETag on the page that asked for one; `private, no-cache` where configured (this runs
    after hardening's no-store, which it replaces only for these pages)."""
    if request.environ.get("coop.etag") and response.status_code in (200, 304):
        _tagged(response)
    return response


def page_body(org, render: Callable[[], str], *, per_user: bool = False) -> Markup:
    """The page's body (everything under the layout) from the cache, or rendered and kept. `render` must not
    depend on anything the key leaves out; for a body with a form, render it with `csrf_token=csrf_slot`."""
    if not pages.enabled():
        body = str(render())
        return Markup(body.replace(CSRF_SLOT, generate_csrf()) if CSRF_SLOT in body else body)
    # per user: the login and its roles here now (a role granted does not end the login, and the body's buttons
    # and tick boxes follow the roles; the books version does not move with them)
    key = ("page", getattr(org, "id", org), books_version(org), str(get_locale()), clock.today(), BUILD, request.full_path,
           (_user_id(), tuple(sorted(access.roles_on(current_user, org)))) if per_user else None)
    body = pages.get(key)
    if body is None:
        body = str(render())
        pages.put(key, body)
    if CSRF_SLOT in body:
        body = body.replace(CSRF_SLOT, generate_csrf())
    return Markup(body)


def _json_key(org) -> tuple:
    return ("json", getattr(org, "id", org), books_version(org), str(get_locale()), clock.today(), BUILD,
            request.full_path)


def stored_json(org):
    """The report JSON of these very books kept by `keep_json` (for the same query and language), as a
    response; None when there is none. Call after the access check."""
    if not pages.enabled():
        return None
    body = pages.get(_json_key(org))
    return None if body is None else current_app.response_class(body, mimetype="application/json")


def keep_json(org, response) -> None:
    if response.status_code == 200 and pages.enabled():
        pages.put(_json_key(org), response.get_data())


def csrf_slot() -> str:
    return CSRF_SLOT


def pdf(org, what: tuple, render: Callable[[], tuple[bytes, str]]) -> tuple[bytes, str]:
    """A report PDF of these books and its file name, from the cache or rendered and kept. `what`: the report
    and its parameters (hashable)."""
    if not pdfs.enabled():
        return render()
    key = ("pdf", getattr(org, "id", org), books_version(org), str(get_locale()), clock.today(), BUILD, what)
    data = pdfs.get(key)
    if data is None:
        data = render()
        pdfs.put(key, data)
    return data


def init_caching(app) -> None:
    """Register before coop.web.hardening: after-request functions run last-registered first, so this one runs
    after hardening's no-store and may relax it for the pages configured to revalidate."""
    for k, v in DEFAULTS.items():
        app.config.setdefault(k, v)
    app.after_request(tag_response)
