"""Hardening: security headers on every response (CSP without inline scripts, frame denial), no inline event
handlers in base.html, production cookies and secret key, and login throttling with a clear lock-out message."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.auth import sign_in

from coop import create_app
from coop.services import throttle

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
    yield app  # the failures are rows: wiped with the test's database
    app.config.update(LOGIN_THROTTLE_ENABLED=False)


def test_five_failures_back_the_username_off_with_a_clear_message(throttled, client, books, auth):
    for _ in range(4):
        r = auth.login("kuaiji", "wrong-password", ip="10.0.0.1", expect=None)
        assert r.status_code == 422 and "用户名或密码不正确" in r.get_data(as_text=True)
    r = auth.login("kuaiji", "wrong-password", ip="10.0.0.1", expect=None)
    assert r.status_code == 429
    text = r.get_data(as_text=True)
    # the first back-off is 30 s (LOGIN_BACKOFF_SECONDS), not a 15-minute lock-out
    assert "登录失败次数过多" in text and re.search(r"请在 \d\d:\d\d（约 1 分钟后）再试", text)
    assert 25 <= int(r.headers["Retry-After"]) <= 30
    # the right password does not get through while backed off, from another address either
    r = auth.login("kuaiji", "password1", ip="10.0.0.2", expect=None)
    assert r.status_code == 429 and "登录失败次数过多" in r.get_data(as_text=True)
    # another user from another address is not affected
    r = auth.login("shenhe", "password1", ip="10.0.0.3", expect=None)
    assert r.status_code == 302


def test_an_address_gets_twenty_tries_before_backing_off(throttled, client, books, auth):
    """An office shares one address: a few colleagues' typos must not lock everyone out."""
    for i in range(19):
        auth.login(f"a{i}", "wrong-password", ip="10.9.9.9", expect=422)
    auth.login("shenhe", "password1", ip="10.9.9.9")
    client.post("/logout")
    auth.login("a19", "wrong-password", ip="10.9.9.9", expect=429)
    auth.login("shenhe", "password1", ip="10.9.9.9", expect=429)
    auth.login("shenhe", "password1", ip="10.9.9.8")


def test_one_typo_behind_the_proxy_does_not_lock_the_office_out(throttled, client, books):
    """Behind nginx every request comes from 127.0.0.1. With TRUSTED_PROXIES = 1 the client address is the one
    nginx puts in X-Forwarded-For: one user's failures back off that user and that address only."""
    throttled.config.update(TRUSTED_PROXIES=1)
    try:
        def via_proxy(username, password, client_ip):
            return client.post("/login", data={"username": username, "password": password},
                               environ_base={"REMOTE_ADDR": "127.0.0.1"},
                               headers={"X-Forwarded-For": client_ip})

        for _ in range(5):
            via_proxy("kuaiji", "wrong-password", "192.168.1.10")
        assert via_proxy("kuaiji", "wrong-password", "192.168.1.10").status_code == 429
        assert via_proxy("shenhe", "password1", "192.168.1.11").status_code == 302
        counted = throttle.counted_keys()
        assert counted == {"user:kuaiji", "ip:192.168.1.10"}, counted
        # a client cannot pick its address when no proxy is trusted: the header is ignored
        throttled.config.update(TRUSTED_PROXIES=0)
        client.post("/logout")
        assert via_proxy("nobody", "wrong-password", "192.168.1.12").status_code == 422
        assert "ip:127.0.0.1" in throttle.counted_keys()
        assert "ip:192.168.1.12" not in throttle.counted_keys()
    finally:
        throttled.config.update(TRUSTED_PROXIES=0)


def test_back_off_doubles_up_to_the_cap(app):
    t = throttle
    keys = ["user:x"]
    kw = dict(limit=3, window=3600, lockout=100, backoff=10)
    assert t.fail(keys, now=0, **kw) is None
    assert t.fail(keys, now=1, **kw) is None
    assert t.fail(keys, now=2, **kw) == 12  # 3rd failure: 10 s
    assert t.fail(keys, now=13, **kw) == 33  # 4th: 20 s
    assert t.fail(keys, now=34, **kw) == 74  # 5th: 40 s
    assert t.fail(keys, now=75, **kw) == 155  # 6th: 80 s
    assert t.fail(keys, now=156, **kw) == 256  # 7th: 160 s, capped at 100
    assert t.locked_until(keys, now=255) == 256 and t.locked_until(keys, now=256) is None


def test_a_successful_login_resets_the_counter(throttled, client, books, auth):
    for _ in range(4):
        auth.login("kuaiji", "wrong-password", ip="10.0.0.1", expect=422)
    auth.login("kuaiji", "password1", ip="10.0.0.1")
    client.post("/logout")
    for _ in range(4):
        auth.login("kuaiji", "wrong-password", ip="10.0.0.1", expect=422)
    auth.login("kuaiji", "password1", ip="10.0.0.1")


def test_throttle_is_off_in_testing_by_default(client, books, auth):
    for _ in range(8):
        auth.login("kuaiji", "wrong-password", ip="10.0.0.1", expect=422)
    auth.login("kuaiji", "password1", ip="10.0.0.1")


def test_throttle_window_and_lockout_expire(app):
    t = throttle
    keys = ["user:x"]
    kw = dict(limit=3, window=60, lockout=100)
    assert t.fail(keys, now=0, **kw) is None
    assert t.fail(keys, now=30, **kw) is None
    assert t.fail(keys, now=70, **kw) is None  # the failure at 0 left the window
    assert t.fail(keys, now=75, **kw) == 175
    assert t.locked_until(keys, now=174) == 175
    assert t.locked_until(keys, now=175) is None
    assert t.fail(keys, now=176, **kw) is None  # the failures at 30 … 75 left the window: a fresh count


def test_a_refused_login_is_audited_although_the_page_answers_422(client, books):
    """The request boundary rolls back an answer of 400 or more; the failed login's audit entry is committed on
    purpose before the 422, so the log keeps every refused attempt (who was tried, from where)."""
    import sqlalchemy as sa

    from coop.core.extensions import db
    from coop.models import AuditLog

    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "login.failed"))
    r = sign_in(client, "kuaiji", "wrong-password", ip="10.0.0.9", expect=None)
    assert r.status_code == 422
    db.session.expire_all()
    rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "login.failed")
                              .order_by(AuditLog.id)).all()
    assert len(rows) == before + 1
    assert rows[-1].target == "kuaiji"


def _another_worker(url: str, attempts: int) -> list[int]:
    """A worker process of its own (its own app, memory and connections) trying wrong passwords for kuaiji."""
    import tempfile

    app = create_app("config.TestingConfig", SQLALCHEMY_DATABASE_URI=url, SERVER_NAME="coop.test",
                     LOGIN_THROTTLE_ENABLED=True, ATTACHMENT_DIR=tempfile.mkdtemp(prefix="coop-worker-"))
    client = app.test_client()
    return [client.post("/login", data={"username": "kuaiji", "password": "wrong-password"},
                        environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code for _ in range(attempts)]


def test_every_worker_counts_the_same_failures(throttled, client, books, auth):
    """gunicorn runs several worker processes: three failures here and two in another process are five for the
    account, so the fifth backs it off — there, and here for the right password too."""
    import multiprocessing

    for _ in range(3):
        auth.login("kuaiji", "wrong-password", ip="10.0.0.1", expect=422)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_another_worker, (throttled.config["SQLALCHEMY_DATABASE_URI"], 2)) == [422, 429]
    r = auth.login("kuaiji", "password1", ip="10.0.0.2", expect=None)
    assert r.status_code == 429 and "登录失败次数过多" in r.get_data(as_text=True)
    assert throttle.counted_keys() == {"user:kuaiji", "ip:10.0.0.1"}


def test_failures_past_the_window_leave_no_rows_behind(app):
    """A guesser trying many names leaves nothing for long: any failure clears every key's failures that left the
    window and hold no back-off."""
    kw = dict(limit=3, window=60, lockout=100)
    for i in range(5):
        throttle.fail([f"user:guess{i}"], now=i, **kw)
    throttle.fail(["user:x", "user:x"], now=10, **kw)
    assert throttle.counted_keys() == {f"user:guess{i}" for i in range(5)} | {"user:x"}
    throttle.fail(["user:late"], now=1000, **kw)
    assert throttle.counted_keys() == {"user:late"}


def test_a_very_long_user_name_is_counted_not_a_500(throttled, client, books):
    """A guesser posting a name of 10,000 characters gets the ordinary refusal, counted like any other."""
    r = client.post("/login", data={"username": "x" * 10_000, "password": "wrong-password"},
                    environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert r.status_code == 422
    assert throttle.counted_keys() == {"user:" + "x" * 100, "ip:10.7.7.7"}


def test_a_long_username_is_refused_and_counted_not_a_500(throttled, client, books, auth):
    """A name longer than the throttle key holds (String(120)) is a wrong name like any other: the page answers
    422 and the address's failure is counted (on PostgreSQL it was a 500 — the key too long — and the address's
    count rolled back with it, so a guesser's long names were never counted)."""
    r = auth.login("x" * 300, "wrong-password", ip="10.7.7.7", expect=None)
    assert r.status_code == 422 and "用户名或密码不正确" in r.get_data(as_text=True)
    assert "ip:10.7.7.7" in throttle.counted_keys()



def test_guesses_sent_at_once_get_no_more_tries_than_one_after_another(throttled, app, books, backend, monkeypatch):
    """Real threads: twelve wrong passwords for one account, from twelve addresses, all at the same moment. One
    after another, the 5th failure backs the account off and the 6th is not even checked; at once, each request
    looked at the back-off before any failure was counted, so every guess was checked. At most 5 may be."""
    import threading

    from coop.services import users

    real, checked = users.authenticate, []

    def scrypt_speed(username, password):  # what the production hash costs (PASSWORD_HASH_METHOD scrypt)
        checked.append(username)
        threading.Event().wait(0.05)
        return real(username, password)

    monkeypatch.setattr(users, "authenticate", scrypt_speed)
    barrier, statuses = threading.Barrier(12), []

    def guess(n: int):
        client = app.test_client()
        barrier.wait()
        r = client.post("/login", data={"username": "kuaiji", "password": f"guess-{n}"},
                        environ_base={"REMOTE_ADDR": f"10.5.0.{n}"})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [422] * 4 + [429] * 8, statuses
    assert len(checked) == 5


def test_an_ipv6_guesser_cannot_take_a_new_address_for_each_try(throttled, client, books, auth):
    """One IPv6 subscriber gets a whole /64 (2^64 addresses): counted per full address, a guesser spraying one
    password over many names would never reach the address's allowance. The /64 is the address; a neighbour's
    /64 is not affected, and IPv4 addresses are counted one by one as before."""
    for i in range(19):
        auth.login(f"a{i}", "wrong-password", ip=f"2001:db8:1:2::{i + 1:x}", expect=422)
    auth.login("a19", "wrong-password", ip="2001:db8:1:2:ffff::1", expect=429)  # the 20th backs the /64 off
    auth.login("shenhe", "password1", ip="2001:db8:1:2:abcd::1", expect=429)
    auth.login("shenhe", "password1", ip="2001:db8:1:3::1")
    assert {k for k in throttle.counted_keys() if k.startswith("ip:")} == {"ip:2001:db8:1:2::/64"}


def test_the_current_password_on_the_change_form_is_throttled_like_a_login(throttled, client, books, auth):
    """/account/password checks the current password: from a session left open (a shared office computer) it
    would be a guessing oracle beside the throttled login. Its failures count against the account like a login's:
    the 5th backs off, and then not even the right password is checked."""
    auth.login("kuaiji", ip="10.6.6.6")

    def change(current):
        return client.post("/account/password", data={"current_password": current, "new_password": "a-new-pass-2026",
                                                      "confirm_password": "a-new-pass-2026"},
                           environ_base={"REMOTE_ADDR": "10.6.6.6"})

    for n in range(4):
        r = change(f"guess-{n}")
        assert r.status_code == 422 and "当前密码不正确" in r.get_data(as_text=True)
    r = change("guess-4")
    assert r.status_code == 429 and "登录失败次数过多" not in r.get_data(as_text=True)
    assert "当前密码错误次数过多" in r.get_data(as_text=True)
    r = change("password1")
    assert r.status_code == 429
    assert "user:kuaiji" in throttle.counted_keys()
