"""Hardening: security headers on every response (CSP without inline scripts, frame denial), no inline event
handlers in base.html, production cookies and secret key, and login throttling with a clear lock-out message."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from coop import create_app
from coop.security import LoginThrottle

ROOT = Path(__file__).resolve().parent.parent


def _csp(r) -> dict[str, list[str]]:
    parts = [p.strip().split() for p in r.headers["Content-Security-Policy"].split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("path", ["/login", "/", "/static/app.js", "/api/v1/openapi.json", "/no-such-page"])
def test_security_headers_on_every_response(client, path):
    r = client.get(path)
    r.close()  # static files are streamed
    csp = _csp(r)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_logged_in_page_has_no_inline_script_and_loads_app_js(client, books):
    client.post("/login", data={"username": "kuaiji", "password": "password1"})
    html = client.get(f"/o/{books.org.id}/").get_data(as_text=True)
    assert 'id="org-switch"' in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handler in the page"
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "inline <script> in the page"
    assert "/static/app.js" in html
    r = client.get("/static/app.js")
    assert r.status_code == 200
    r.close()


def test_base_template_has_no_inline_javascript():
    text = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    assert not re.search(r"\son(click|change|submit|load|input)=", text)
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", text)


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.delenv("COOP_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="COOP_SECRET_KEY"):
        create_app("config.ProductionConfig", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="dev-only-not-secret")
    app = create_app("config.ProductionConfig", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="x" * 40)
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    # development and testing may run with the default key
    create_app("config.DevelopmentConfig", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="dev-only-not-secret")


def test_session_cookie_flags_in_production():
    app = create_app("config.ProductionConfig", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="x" * 40)
    r = app.test_client().get("/login")  # the CSRF token puts something in the session
    cookie = r.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# ---------------------------------------------------------------- login throttling


@pytest.fixture
def throttled(app):
    app.config.update(LOGIN_THROTTLE_ENABLED=True)
    app.extensions["coop_login_throttle"].clear()
    yield app
    app.config.update(LOGIN_THROTTLE_ENABLED=False)
    app.extensions["coop_login_throttle"].clear()


def _login(client, username, password, ip="10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_five_failures_lock_the_username_with_a_clear_message(throttled, client, books):
    for _ in range(4):
        r = _login(client, "kuaiji", "wrong-password")
        assert r.status_code == 422 and "用户名或密码不正确" in r.get_data(as_text=True)
    r = _login(client, "kuaiji", "wrong-password")
    assert r.status_code == 429
    text = r.get_data(as_text=True)
    assert "登录失败次数过多" in text and re.search(r"请在 \d\d:\d\d（约 15 分钟后）再试", text)
    assert 890 <= int(r.headers["Retry-After"]) <= 900
    # the right password does not get through while locked, from another address either
    r = _login(client, "kuaiji", "password1", ip="10.0.0.2")
    assert r.status_code == 429 and "登录失败次数过多" in r.get_data(as_text=True)
    # another user from another address is not affected
    r = _login(client, "shenhe", "password1", ip="10.0.0.3")
    assert r.status_code == 302


def test_five_failures_from_one_address_lock_the_address(throttled, client, books):
    for name in ("a1", "a2", "a3", "a4"):
        assert _login(client, name, "wrong-password", ip="10.9.9.9").status_code == 422
    assert _login(client, "a5", "wrong-password", ip="10.9.9.9").status_code == 429
    assert _login(client, "shenhe", "password1", ip="10.9.9.9").status_code == 429
    assert _login(client, "shenhe", "password1", ip="10.9.9.8").status_code == 302


def test_a_successful_login_resets_the_counter(throttled, client, books):
    for _ in range(4):
        assert _login(client, "kuaiji", "wrong-password").status_code == 422
    assert _login(client, "kuaiji", "password1").status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert _login(client, "kuaiji", "wrong-password").status_code == 422
    assert _login(client, "kuaiji", "password1").status_code == 302


def test_throttle_is_off_in_testing_by_default(client, books):
    for _ in range(8):
        assert _login(client, "kuaiji", "wrong-password").status_code == 422
    assert _login(client, "kuaiji", "password1").status_code == 302


def test_throttle_window_and_lockout_expire():
    t = LoginThrottle()
    keys = ["user:x"]
    kw = dict(limit=3, window=60, lockout=100)
    assert t.fail(keys, now=0, **kw) is None
    assert t.fail(keys, now=30, **kw) is None
    assert t.fail(keys, now=70, **kw) is None  # the failure at 0 left the window
    assert t.fail(keys, now=75, **kw) == 175
    assert t.locked_until(keys, now=174) == 175
    assert t.locked_until(keys, now=175) is None
    assert t.fail(keys, now=176, **kw) is None  # a fresh count after the lock-out
