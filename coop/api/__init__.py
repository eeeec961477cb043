"""The JSON API under /api/v1, built with flask-smorest. Bearer tokens authenticate; errors are one envelope:
{"message": "...", "errors": {"lines": {"1": {"debit": ["..."]}}}} with a 4xx status."""
from __future__ import annotations

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import CoopError
from ..extensions import csrf

API_PREFIX = "/api/v1"


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX


def error_response(status: int, message: str, errors: dict | None = None):
    body = {"message": message}
    if errors:
        body["errors"] = errors
    resp = jsonify(body)
    resp.status_code = status
    return resp


def current_api_user():
    """The user behind the Bearer token; raises a 401 response otherwise."""
    from ..services.users import user_for_token

    if "api_user" in g:
        return g.api_user
    header = request.headers.get("Authorization", "")
    user = None
    if header.startswith("Bearer "):
        user = user_for_token(header[7:].strip())
    if user is None:
        raise Unauthorized("需要有效的 API 令牌（Authorization: Bearer …）")
    g.api_user = user
    return user


class Unauthorized(CoopError):
    status_code = 401


def handle_http_exception(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if messages and isinstance(messages, dict):
        # webargs nests errors by location ("json", "query"); the location is not part of the field path
        errors = {}
        for loc_errors in messages.values():
            if isinstance(loc_errors, dict):
                errors.update(loc_errors)
        first = _first_message(errors) or exc.description
        return error_response(exc.code or 400, first, errors)
    return error_response(exc.code or 500, data.get("message") or exc.description or exc.name)


def _first_message(errors) -> str | None:
    if isinstance(errors, list):
        for e in errors:
            m = _first_message(e)
            if m:
                return m
        return None
    if isinstance(errors, dict):
        for v in errors.values():
            m = _first_message(v)
            if m:
                return m
        return None
    return str(errors)


def register_api(app: Flask, api) -> None:
    from . import admin, ledger, orgs, reports

    for module in (orgs, ledger, reports, admin):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.URL)
        csrf.exempt(module.blp)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]

    # flask-smorest installs a JSON handler for every HTTPException; keep HTML for the web pages.
    from ..web.errors import render_error_page

    def _http(exc: HTTPException):
        if is_api_request():
            return handle_http_exception(exc)
        return render_error_page(exc.code or 500, exc.description)

    def _coop(exc: CoopError):
        from ..extensions import db

        db.session.rollback()
        if is_api_request():
            return error_response(exc.status_code, exc.message or "请求无效", exc.errors)
        return render_error_page(exc.status_code, exc.message)

    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(CoopError, _coop)
