"""Login, logout, language choice, and API tokens of the signed-in user."""
from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login_manager
from ..models import ApiToken, User
from ..services import audit, users

bp = Blueprint("auth", __name__)


def init_login(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id))


def _safe_next(target: str | None) -> str:
    if target and not urlparse(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("orgs.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    errors = {}
    if request.method == "POST":
        user = users.authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            errors["password"] = ["用户名或密码不正确"]
        else:
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
            users.revoke_api_token(current_user, int(request.form["revoke"]))
            flash("令牌已吊销", "success")
        else:
            new_token = users.issue_api_token(current_user, request.form.get("name") or "API")
        db.session.commit()
    mine = db.session.scalars(db.select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id))
    return render_template("auth/tokens.html", tokens=list(mine), new_token=new_token)
