"""Login, logout, one's own password, language choice, and API tokens of the signed-in user.

A login's identity (User.get_id) is "<user id>.<session version>.<issued at>.<nonce>": the session cookie and the
remember cookie carry it, and the loader refuses it once the user's session version moved on (logout, password
change, reset, deactivation, role removal) or it is older than REMEMBER_COOKIE_DURATION. The nonce makes every
login's remember cookie different.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
import secrets
import time
from typing import NamedTuple
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user, user_loaded_from_cookie

from coop.core.extensions import db, login_manager
from coop.core.text import N_
from coop.models import ApiToken, User
from coop.schemas.orgs import PasswordChangeInSchema
from coop.services import audit, throttle, users
from coop.web.forms import submit

bp = Blueprint("auth", __name__)


def init_login(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("请先登录")
    login_manager.localize_callback = gettext  # the message is flashed in the user's language

    @login_manager.user_loader
    def load_user(identity: str):
        login = parse_identity(identity)
        if login is None:
            return None
        user = db.session.get(User, login.user_id)
        if user is None or user.session_version != login.version:
            return None
        user.login_stamp = login.stamp
        return user

    @user_loaded_from_cookie.connect_via(app)
    def _bind_restored_session(_app, user):
        """A session restored from the remember cookie is bound to this client as a login's is (Flask-Login sets
        `_id` only in login_user): session protection then judges it the same way, and the page cache, which
        serves only a session bound to the asking client, serves it too."""
        session["_id"] = client_identifier()

    @app.before_request
    def _first_login_password():
        """An account with a one-time password can do nothing but choose its own (and sign out)."""
        if (request.endpoint in _OPEN_WHILE_CHANGING or not current_user.is_authenticated
                or not current_user.must_change_password or request.path.startswith("/api/")):
            return None
        return redirect(url_for("auth.password"))


_OPEN_WHILE_CHANGING = {"auth.password", "auth.logout", "auth.login", "auth.set_locale", "static"}


def client_identifier() -> str:
    """What Flask-Login's session protection binds a session to (this client's address and browser): one place
    for its private generator."""
    return login_manager._session_identifier_generator()


def client_identifier_of(environ) -> str:
    """client_identifier() from a WSGI environ, without a request context (coop.web.page_cache's door): Flask-Login
    0.6's formula, held to the real one by a test. Were they ever to differ, the door would only decline to
    answer, never answer another client."""
    address = environ.get("HTTP_X_FORWARDED_FOR", environ.get("REMOTE_ADDR"))
    if address is not None:
        address = address.encode("utf-8").split(b",")[0].strip()
    agent = environ.get("HTTP_USER_AGENT")
    if agent is not None:
        agent = agent.encode("utf-8")
    return hashlib.sha512(f"{address}|{agent}".encode("utf8")).hexdigest()


class Login(NamedTuple):
    user_id: int
    version: int  # the user's session version when they signed in
    stamp: str  # "<issued at>.<nonce>"


def parse_identity(identity: str, app=None) -> Login | None:
    """The login a session's identity names, or None if it is malformed, forged-looking or older than
    REMEMBER_COOKIE_DURATION. Whether its session version is still the user's is the caller's to check.
    `app`: where there is no app context."""
    try:
        user_id, version, issued, nonce = identity.split(".")
        user_id, version, issued = int(user_id), int(version), int(issued)
    except ValueError:
        return None  # a cookie from before session versions, or forged
    if time.time() - issued > _max_age(app or current_app):
        return None
    return Login(user_id, version, f"{issued}.{nonce}")


def _max_age(app) -> float:
    duration = app.config.get("REMEMBER_COOKIE_DURATION") or dt.timedelta(days=14)
    return duration.total_seconds() if isinstance(duration, dt.timedelta) else float(duration)


def start_session(user: User, remember: bool = False) -> None:
    """Log `user` in with a fresh identity (a new nonce, so a new remember cookie)."""
    user.login_stamp = f"{int(time.time())}.{secrets.token_hex(8)}"
    login_user(user, remember=remember)


def _safe_next(target: str | None) -> str:
    if target and not urlparse(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("orgs.index")


def _throttle_keys(username: str) -> list[str]:
    """Per account and per client address (through the trusted proxies, coop.core.security.TrustedProxies).
    Cut to what the key column holds (String(120)): no account's name is that long (String(50)), and a longer
    one must still be counted, not fail the request."""
    return [f"user:{username.strip().lower()[:100]}", f"ip:{_address_key(request.remote_addr)}"]


def _address_key(address: str | None) -> str:
    """The client address as the throttle counts it: an IPv4 address, or the /64 of an IPv6 one (a subscriber's
    whole allocation: one address a try would never be backed off)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return (address or "-")[:100]
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1, a dual-stack server's way to say 192.0.2.1
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def _locked_out(until: float):
    """The login page with the lock-out message (HTTP 429): when to try again, in the app's time zone."""
    at, minutes = _until(until)
    message = gettext("登录失败次数过多，已暂时锁定。请在 %(at)s（约 %(n)s 分钟后）再试。", at=at, n=minutes)
    return _retry_after(until, render_template("auth/login.html", errors={"password": [message]}, form=request.form))


def _until(until: float) -> tuple[str, int]:
    """When a back-off ends, in the app's time zone, and in about how many minutes."""
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")
    return f"{dt.datetime.fromtimestamp(until, tz):%H:%M}", max(1, math.ceil((until - time.time()) / 60))


def _retry_after(until: float, page: str):
    response = current_app.make_response((page, 429))
    response.headers["Retry-After"] = str(max(1, math.ceil(until - time.time())))
    return response


def _throttle_kw() -> dict:
    cfg = current_app.config
    return dict(limit=cfg["LOGIN_MAX_FAILURES"], window=cfg["LOGIN_WINDOW_SECONDS"],
                lockout=cfg["LOGIN_LOCKOUT_SECONDS"], backoff=cfg.get("LOGIN_BACKOFF_SECONDS", 30))


@bp.route("/login", methods=["GET", "POST"])
def login():
    errors = {}
    if request.method == "POST":
        username = request.form.get("username", "")
        cfg = current_app.config
        throttled = cfg.get("LOGIN_THROTTLE_ENABLED", True)
        keys = _throttle_keys(username)
        if throttled:
            throttle.hold(keys)  # until this attempt is counted (the commit below) or let in
            until = throttle.locked_until(keys)
            if until:
                return _locked_out(until)  # not even checked: a right password does not get through either
        user = users.authenticate(username, request.form.get("password", ""))
        if user is None:
            users.record_failed_login(username, request.remote_addr)
            until = None
            if throttled:
                kw = _throttle_kw()
                until = max(throttle.fail(keys[:1], **kw) or 0,
                            throttle.fail(keys[1:], **(kw | {"limit": cfg["LOGIN_MAX_FAILURES_PER_IP"]})) or 0)
            # kept although the page answers 422 or 429 (which the boundary rolls back): the audit log keeps every
            # refused attempt, and the throttle counts it for every worker
            db.session.commit()
            if until:
                return _locked_out(until)
            errors["password"] = [gettext("用户名或密码不正确")]
        else:
            if throttled:
                throttle.reset(keys[:1])  # the account's count; the address keeps its own
            start_session(user, remember=bool(request.form.get("remember")))
            audit.log("login", user=user)
            if user.must_change_password:
                return redirect(url_for("auth.password"))
            if not request.args.get("next") and {r.role for r in user.roles} == {"member"}:
                return redirect(url_for("portal.me"))  # members come for their own household
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", errors=errors, form=request.form), (422 if errors else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends every session and remember cookie of the user, not only this browser's (a copied cookie dies too)."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        users.end_sessions(user)
        audit.log("logout", user=user)
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password; the forced first-login change lands here too."""
    errors: dict = {}
    if request.method == "POST":
        user = current_user._get_current_object()
        # the current password is checked here too: its failures count against the account like a login's (a
        # session left open is no guessing oracle beside the throttled login)
        throttled = current_app.config.get("LOGIN_THROTTLE_ENABLED", True)
        keys = _throttle_keys(user.username)[:1]
        if throttled:
            throttle.hold(keys)
            until = throttle.locked_until(keys)
            if until:
                return _password_locked(until)

        checked = []  # the form was whole: a refusal of the current password is the hash's

        def change(data):
            checked.append(True)
            users.change_own_password(user, current=data["current_password"], new=data["new_password"],
                                      confirm=data["confirm_password"])
            if throttled:
                throttle.reset(keys)  # the right password, as after a login
            start_session(user, remember=False)  # this browser stays signed in, with the new version

        # passwords as typed (not stripped)
        _, errors, _ = submit(PasswordChangeInSchema(), change,
                              {k: v for k, v in request.form.items() if k != "csrf_token"})
        if throttled and checked and errors.get("current_password"):
            until = throttle.fail(keys, **_throttle_kw())
            db.session.commit()  # counted although the page answers 422 (which the boundary rolls back)
            if until:
                return _password_locked(until)
        if not errors:
            flash(gettext("密码已修改，其他设备上的登录已退出"), "success")
            if {r.role for r in user.roles} == {"member"}:
                return redirect(url_for("portal.me"))  # a member's first login ends on their household
            return redirect(_safe_next(None))
    return render_template("auth/password.html", errors=errors,
                           forced=current_user.must_change_password), (422 if errors else 200)


def _password_locked(until: float):
    """The password form with the back-off message beside the current password (HTTP 429)."""
    at, minutes = _until(until)
    message = gettext("当前密码错误次数过多，已暂时锁定。请在 %(at)s（约 %(n)s 分钟后）再试。", at=at, n=minutes)
    return _retry_after(until, render_template("auth/password.html", errors={"current_password": [message]},
                                               forced=current_user.must_change_password))


@bp.route("/locale/<code>", methods=["POST"])
def set_locale(code: str):
    if code in ("zh_CN", "en"):
        session["locale"] = code
    return redirect(_safe_next(request.form.get("next") or request.referrer))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    new_token = None
    if request.method == "POST":
        if request.form.get("revoke"):
            users.revoke_api_token(current_user, request.form["revoke"])
            flash(gettext("令牌已吊销"), "success")
        else:
            new_token = users.issue_api_token(current_user, request.form.get("name") or "API")
    mine = db.session.scalars(db.select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id))
    return render_template("auth/tokens.html", tokens=list(mine), new_token=new_token)
