"""Login, logout, language choice, and API tokens of the signed-in user."""
from __future__ import annotations

import datetime as dt
import math
import time
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from .. import security
from ..extensions import db, login_manager
from ..i18n import N_
from ..models import ApiToken, User
from ..services import audit, users

bp = Blueprint("auth", __name__)


def init_login(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("请先登录")
    login_manager.localize_callback = gettext  # the message is flashed in the user's language

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id))


def _safe_next(target: str | None) -> str:
    if target and not urlparse(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("orgs.index")


def _throttle_keys(username: str) -> list[str]:
    return [f"user:{username.strip().lower()}", f"ip:{request.remote_addr or '-'}"]


def _locked_out(until: float):
    """The login page with the lock-out message (HTTP 429): when to try again, in the app's time zone."""
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")
    at = dt.datetime.fromtimestamp(until, tz)
    minutes = max(1, math.ceil((until - time.time()) / 60))
    message = gettext("登录失败次数过多，已暂时锁定。请在 %(at)s（约 %(n)s 分钟后）再试。", at=f"{at:%H:%M}", n=minutes)
    errors = {"password": [message]}
    response = current_app.make_response(
        (render_template("auth/login.html", errors=errors, form=request.form), 429))
    response.headers["Retry-After"] = str(max(1, math.ceil(until - time.time())))
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    errors = {}
    if request.method == "POST":
        username = request.form.get("username", "")
        cfg = current_app.config
        throttled = cfg.get("LOGIN_THROTTLE_ENABLED", True)
        keys = _throttle_keys(username)
        if throttled:
            until = security.throttle().locked_until(keys)
            if until:
                return _locked_out(until)  # not even checked: a right password does not get through either
        user = users.authenticate(username, request.form.get("password", ""))
        if user is None:
            users.record_failed_login(username, request.remote_addr)
            db.session.commit()
            if throttled:
                t = security.throttle()
                window, lockout = cfg["LOGIN_WINDOW_SECONDS"], cfg["LOGIN_LOCKOUT_SECONDS"]
                until = max(t.fail(keys[:1], limit=cfg["LOGIN_MAX_FAILURES"], window=window, lockout=lockout) or 0,
                            t.fail(keys[1:], limit=cfg["LOGIN_MAX_FAILURES_PER_IP"], window=window,
                                   lockout=lockout) or 0)
                if until:
                    return _locked_out(until)
            errors["password"] = [gettext("用户名或密码不正确")]
        else:
            if throttled:
                security.throttle().reset(keys)
            login_user(user, remember=bool(request.form.get("remember")))
            audit.log("login", user=user)
            db.session.commit()
            if not request.args.get("next") and {r.role for r in user.roles} == {"member"}:
                return redirect(url_for("portal.me"))  # members come for their own household
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", errors=errors, form=request.form), (422 if errors else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


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
        db.session.commit()
    mine = db.session.scalars(db.select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id))
    return render_template("auth/tokens.html", tokens=list(mine), new_token=new_token)
