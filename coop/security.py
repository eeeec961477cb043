"""Security headers on every response, and login throttling.

Throttling state lives IN MEMORY, per process: a dict of failure timestamps per username and per client IP, guarded
by a lock. It is lost on restart and not shared between worker processes (each worker counts on its own, so with N
workers an attacker gets at most N × the limit). That is deliberate: no model change, and good enough to stop
password guessing against one account; put a shared store behind `LoginThrottle` if that ever matters.
"""
from __future__ import annotations

import threading
import time
from collections import deque

from flask import Flask, current_app

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
    """Failed logins per key ("user:<name>", "ip:<addr>") within a sliding window. Thread-safe, in memory."""

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

    def fail(self, keys: list[str], *, limit: int, window: float, lockout: float,
             now: float | None = None) -> float | None:
        """Count one failure for each key; returns the lock-out end if this failure reached the limit."""
        now = time.time() if now is None else now
        with self._lock:
            until = None
            for key in keys:
                q = self._prune(key, now, window)
                q.append(now)
                self._failures[key] = q
                if len(q) >= limit:
                    self._locked_until[key] = now + lockout
                    self._failures.pop(key, None)
                    until = max(until or 0, now + lockout)
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


def init_security(app: Flask) -> None:
    """Security headers on every response, and the login throttle (used by auth.login)."""
    app.extensions["coop_login_throttle"] = LoginThrottle()
    csp = app.config.get("CONTENT_SECURITY_POLICY")
    csp = DEFAULT_CSP if csp is None else csp

    @app.after_request
    def _security_headers(response):
        if csp:
            response.headers.setdefault("Content-Security-Policy", csp)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
