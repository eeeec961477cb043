"""Signing in, one way for every test: the `auth` fixture (conftest.py) signs a test client in as a user (web
session) or gives the API headers of a token; `browser_login`/`browser_logout` do the same in a real browser."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient

#: what Books, the fixtures and the CLI tests give every user they create
PASSWORD = "password1"


def _name(user) -> str:
    return user if isinstance(user, str) else user.username


def _forget_cached_user() -> None:
    """A request made from the test's thread shares its app context, where flask-login caches the current user."""
    if has_app_context():
        g.pop("_login_user", None)


class Browser(FlaskClient):
    """One person's browser (or API client). The tests keep one app context around many requests and flask-login
    caches the current user in it (g._login_user): dropped before each request, so each browser is the user its
    session cookie says."""

    def open(self, *args, **kwargs):
        _forget_cached_user()
        return super().open(*args, **kwargs)


def browser(app) -> Browser:
    return Browser(app, app.response_class, use_cookies=True)


def sign_in(client, user, password: str = PASSWORD, *, remember: bool = False, expect: int | None = 302,
            ip: str | None = None):
    """Posts the sign-in form from `client` (from address `ip` if given); asserts the status of a good sign-in
    (302) unless `expect` says another (None: no check, the test reads the response)."""
    _forget_cached_user()
    data = {"username": _name(user), "password": password} | ({"remember": "1"} if remember else {})
    r = client.post("/login", data=data, **({"environ_base": {"REMOTE_ADDR": ip}} if ip else {}))
    if expect is not None:
        assert r.status_code == expect, r.get_data(as_text=True)[:500]
    return r


def signed_in(app, user, password: str = PASSWORD) -> Browser:
    """A new browser, signed in as the user."""
    b = browser(app)
    sign_in(b, user, password)
    return b


class Auth:
    """`auth.login(user)` signs the test's `client` in (or `client=` another); `auth.browser(user)` is a new
    browser already signed in; `auth.headers(user)` the Authorization header of an API token (one per user)."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self._tokens: dict = {}

    def login(self, user, password: str = PASSWORD, *, client=None, **kw):
        """kw: remember, expect, ip (see sign_in)."""
        return sign_in(client or self.client, user, password, **kw)

    def logout(self, client=None):
        _forget_cached_user()
        return (client or self.client).post("/logout")

    def browser(self, user, password: str = PASSWORD) -> Browser:
        return signed_in(self.app, user, password)

    def token(self, user, name: str = "test") -> str:
        """A raw API token of the user, issued once per user and committed (requests run in their own session on
        PostgreSQL)."""
        from coop.core.extensions import db
        from coop.models import User
        from coop.services import users

        key = _name(user)
        if key not in self._tokens:
            if isinstance(user, str):
                user = db.session.scalar(sa.select(User).where(User.username == user))
            self._tokens[key] = users.issue_api_token(user, name)
            db.session.commit()
        return self._tokens[key]

    def headers(self, user, name: str = "test") -> dict:
        return {"Authorization": f"Bearer {self.token(user, name)}"}


def browser_login(page, base: str, username: str, password: str = PASSWORD, *, keyboard: bool = False,
                  landing=re.compile(r".*/$")):
    """Signs in through the real page: the form filled, sent by the button (or Enter, keyboard-first)."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    if keyboard:
        page.keyboard.press("Enter")
    else:
        page.click("button[type=submit].primary")
    page.wait_for_url(landing)


def browser_logout(page):
    toggle = page.locator(".topbar .menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
        toggle.click()  # on a phone the menu is folded
    page.click(".topbar form[action$='/logout'] button")
    page.wait_for_url(re.compile(r".*/login.*"))
