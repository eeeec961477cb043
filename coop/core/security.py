"""Security headers on every response, the trusted reverse proxies, and the roster checks' rate limit.

The client address is the proxy's X-Forwarded-For once `TRUSTED_PROXIES` (COOP_TRUSTED_PROXIES) says how many
proxies stand in front of the app; without it every client behind nginx would be 127.0.0.1. Login throttling counts
failures by that address and by account, in the database for every worker (coop.services.throttle).
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque

from flask import Flask, current_app
from werkzeug.middleware.proxy_fix import ProxyFix

from coop.core.errors import CoopError, ValidationFailed

#: scripts only from our own origin (no inline scripts or on…= handlers); templates use style="…" attributes, so
#: styles keep 'unsafe-inline'. Reports embed charts as data: images.
DEFAULT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class TrustedProxies:
    """werkzeug's ProxyFix for as many proxies as `TRUSTED_PROXIES` says (read per request, 0 = none): the client
    address and scheme come from X-Forwarded-For / X-Forwarded-Proto set by those proxies. Never more than there
    are: a client could otherwise name any address it likes."""

    def __init__(self, app: Flask):
        self.app, self.wsgi_app, self._fixes = app, app.wsgi_app, {}

    def __call__(self, environ, start_response):
        hops = int(self.app.config.get("TRUSTED_PROXIES") or 0)
        if hops <= 0:
            return self.wsgi_app(environ, start_response)
        fix = self._fixes.get(hops)
        if fix is None:
            fix = self._fixes[hops] = ProxyFix(self.wsgi_app, x_for=hops, x_proto=hops)
        return fix(environ, start_response)


def init_security(app: Flask) -> None:
    """Security headers on every response, trusted proxies, and the roster checks' rate limit."""
    app.extensions["coop_rate_limit"] = RateLimit()
    app.wsgi_app = TrustedProxies(app)
    csp = app.config.get("CONTENT_SECURITY_POLICY")
    csp = DEFAULT_CSP if csp is None else csp

    wanted = ({"Content-Security-Policy": csp} if csp else {}) | HEADERS

    @app.after_request
    def _security_headers(response):
        # a view may have set its own; one pass over the few headers there are (setdefault raises inside per miss)
        present = {k.lower() for k in response.headers.keys()}
        for name, value in wanted.items():
            if name.lower() not in present:
                response.headers[name] = value
        return response


class TooManyRequests(CoopError):
    status_code = 429
    code = "too_many_requests"


class RateLimit:
    """At most `limit` events per key within `window` seconds (sliding). Thread-safe, in memory per process (a
    signed-in user's roster checks: a worker each at most multiplies a generous allowance)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, deque[float]] = {}

    def hit(self, key: str, *, limit: int, window: float, now: float | None = None) -> float | None:
        """Count one event; None when allowed, else the seconds until the next one would be."""
        now = time.time() if now is None else now
        with self._lock:
            q = self._events.setdefault(key, deque())
            while q and q[0] <= now - window:
                q.popleft()
            if len(q) >= limit:
                return q[0] + window - now
            q.append(now)
            return None

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


def lookup_gate(user) -> None:
    """The rate limit on look-ups of a full 身份证号 (township and county, web and API): each says whether the number
    is registered anywhere, in other counties too, so an account must not test numbers by the thousand (RULES §13;
    the roster checks' reason too)."""
    _per_hour(f"lookup:{user.id}", "REGISTRATION_LOOKUPS_PER_HOUR", 60, "查找过于频繁")


def _per_hour(key: str, setting: str, default: int, what: str) -> None:
    """At most `setting` (default `default`) events an hour per key; past it a 429 saying when to try again."""
    wait = current_app.extensions["coop_rate_limit"].hit(
        key, limit=int(current_app.config.get(setting, default)), window=3600)
    if wait is not None:
        raise TooManyRequests(f"{what}，请约 {max(1, math.ceil(wait / 60))} 分钟后再试")


def roster_gate(user, rows: int) -> None:
    """Row and rate limits on roster checks and imports (web and API): a check says whether an ID number is
    registered anywhere, so it must not become a way to test thousands of numbers (RULES §13)."""
    cfg = current_app.config
    max_rows = int(cfg.get("ROSTER_MAX_ROWS", 3000))
    if rows > max_rows:
        raise ValidationFailed.field("file", f"名册每次最多 {max_rows} 行，本文件有 {rows} 行，请分批上传")
    _per_hour(f"roster:{user.id}", "ROSTER_UPLOADS_PER_HOUR", 20, "名册检查过于频繁")
