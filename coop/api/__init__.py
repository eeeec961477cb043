"""The JSON API under /api/v1, built with flask-smorest. Bearer tokens authenticate; errors are one envelope:
{"message": "...", "errors": {"lines": {"1": {"debit": ["..."]}}}} with a 4xx status."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from ..errors import CoopError
from ..extensions import csrf

API_PREFIX = "/api/v1"


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX


def error_response(status: int, message: str, errors: dict | None = None):
    body = {"message": message}
    if errors:
        body["errors"] = _string_keys(errors)
    resp = jsonify(body)
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="coop"'
    return resp


def _string_keys(errors):
    """Field paths as JSON object keys: line indexes become "1" (JSON has no int keys, and a dict mixing
    int and str keys, e.g. {0: ..., "_schema": ...}, cannot be serialized with sorted keys)."""
    if isinstance(errors, dict):
        return {str(k): _string_keys(v) for k, v in errors.items()}
    if isinstance(errors, (list, tuple)):
        return [_string_keys(e) for e in errors]
    return errors


def current_api_user():
    """The user behind the Bearer token; raises a 401 response otherwise."""
    from ..services.users import user_for_token

    # cached per request, not in `g`: an app context may outlive one request (tests push one around many)
    cached = request.environ.get("coop.api_user")
    if cached is not None:
        return cached
    header = request.headers.get("Authorization", "")
    user = None
    if header.startswith("Bearer "):
        user = user_for_token(header[7:].strip())
    if user is None:
        raise Unauthorized("需要有效的 API 令牌（Authorization: Bearer …）")
    request.environ["coop.api_user"] = user
    return user


class Unauthorized(CoopError):
    status_code = 401


def requires(permission: str, message: str | None = None):
    """Declare the permission a view needs on the organization in its URL (put it under the flask-smorest
    decorators). `authenticate_api_request` checks it before the body is parsed, so a caller without it gets
    403, not a 422 about a body they may not send anyway."""

    def decorator(view):
        view.coop_permission = (permission, message)
        return view

    return decorator


def authenticate_api_request():
    """Before any API view and before its body is parsed, in this order: a valid Bearer token (else 401); the
    organization named in the URL visible to the caller (else 404, whatever the method or body, so nobody learns
    anything about books they are not assigned to); the view's declared permission (else 403).
    The OpenAPI document stays public."""
    from ..errors import Forbidden
    from ..services import access

    if not is_api_request() or request.endpoint is None or request.endpoint.startswith("api-docs."):
        return
    if getattr(current_app.view_functions.get(request.endpoint), "coop_public", False):
        return  # e.g. verifying a published sheet's digest: anyone may
    user = current_api_user()
    org_id = (request.view_args or {}).get("org_id")
    if org_id is None:
        return
    org = access.get_org(user, org_id, permission=None)
    needed = getattr(current_app.view_functions.get(request.endpoint), "coop_permission", None)
    if needed and not access.can(user, needed[0], org):
        raise Forbidden(needed[1] or "您没有执行此操作的权限")


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


class IdConverter(IntegerConverter):
    """`<int:…>` in API URLs (database ids, years) is 1 … 2**31−1, a positive PostgreSQL INTEGER. A larger number
    answers 404 from routing instead of an OverflowError from SQLite or "integer out of range" from PostgreSQL.
    The bounds also appear in the OpenAPI document, so clients and schemathesis see them."""

    def __init__(self, map, fixed_digits=0, min=1, max=2**31 - 1, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits, min, max, signed)


def register_api(app: Flask, api) -> None:
    from . import admin, disclosure, distribution, joint, ledger, loans, members, orgs, reports

    for module in (orgs, ledger, reports, admin, members, distribution, disclosure, loans, joint):
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
    app.before_request(authenticate_api_request)
