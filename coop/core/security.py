"""Security headers on every response, the trusted reverse proxies, and login throttling.

Throttling counts failed logins per account and per client address, and answers with a back-off that doubles with
each further failure (30 s, 1 min, 2 min … capped) instead of one long lock-out: one typo costs nothing, a mistyping
colleague behind the same office address costs the others nothing, a guesser gets slower and slower. The client
address is the proxy's X-Forwarded-For once `TRUSTED_PROXIES` (COOP_TRUSTED_PROXIES) says how many proxies stand in
front of the app; without it every client behind nginx would be 127.0.0.1.

Throttling state lives IN MEMORY, per process: a dict of failure timestamps per key, guarded by a lock. It is lost on
restart and not shared between worker processes (each worker counts on its own, so with N workers an attacker gets
at most N × the allowance). That is deliberate: good enough to stop password guessing against one account; put a
shared store behind `LoginThrottle` if that ever matters.
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


class LoginThrottle:
    """Failed logins per key ("user:<name>", "ip:<addr>") within a sliding window; past the free allowance each
    failure locks the key for twice as long as the one before. Thread-safe, in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def _prune(self, key: str, now: float, window: float) -> deque[float]:
        q = self._failures.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - window:
            q.popleft()
        if not q:
            self._failures.pop(key, None)
        return q

    def locked_until(self, keys: list[str], now: float | None = None) -> float | None:
        """The latest time until which any of `keys` is locked out, or None when all may try."""
        now = time.time() if now is None else now
        with self._lock:
            until = None
            for key in keys:
                t = self._locked_until.get(key)
                if t is not None and t <= now:
                    self._locked_until.pop(key, None)
                elif t is not None:
                    until = max(until or t, t)
            return until

    def fail(self, keys: list[str], *, limit: int, window: float, lockout: float, backoff: float | None = None,
             now: float | None = None) -> float | None:
        """Count one failure for each key; from the `limit`-th failure within `window` on, lock the key for
        `backoff` × 2^(failures − limit) seconds, at most `lockout` (without `backoff`: `lockout` at once).
        Returns the lock-out end if this failure set one."""
        now = time.time() if now is None else now
        with self._lock:
            until = None
            for key in keys:
                q = self._prune(key, now, window)
                q.append(now)
                self._failures[key] = q
                if len(q) >= limit:
                    wait = lockout if backoff is None else min(lockout, backoff * 2 ** (len(q) - limit))
                    self._locked_until[key] = now + wait
                    until = max(until or 0, now + wait)
            return until

    def reset(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
                self._locked_until.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
            self._locked_until.clear()


def throttle() -> LoginThrottle:
    return current_app.extensions["coop_login_throttle"]


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
    """Security headers on every response, trusted proxies, and the login throttle (used by auth.login)."""
    app.extensions["coop_login_throttle"] = LoginThrottle()
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
    """At most `limit` events per key within `window` seconds (sliding). Thread-safe, in memory per process, like
    the login throttle."""

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


def roster_gate(user, rows: int) -> None:
    """Row and rate limits on roster checks and imports (web and API): a check says whether an ID number is
    registered anywhere, so it must not become a way to test thousands of numbers (RULES §13)."""
    cfg = current_app.config
    max_rows = int(cfg.get("ROSTER_MAX_ROWS", 3000))
    if rows > max_rows:
        raise ValidationFailed.field("file", f"名册每次最多 {max_rows} 行，本文件有 {rows} 行，请分批上传")
    wait = current_app.extensions["coop_rate_limit"].hit(
        f"roster:{user.id}", limit=int(cfg.get("ROSTER_UPLOADS_PER_HOUR", 20)), window=3600)
    if wait is not None:
        raise TooManyRequests(f"名册检查过于频繁，请约 {max(1, math.ceil(wait / 60))} 分钟后再试")
