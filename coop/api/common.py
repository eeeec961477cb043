"""What every API module shares: the caller, permissions, the error body, the id converter."""
from __future__ import annotations

import functools
from copy import deepcopy

from flask import current_app, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from coop.core.errors import CoopError
from coop.services import access
from coop.api.envelope import default_message, http_code
from coop.web.idempotency import HEADER, HEADER_PARAMETER, run_once

API_PREFIX = "/api/v1"


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX


def error_response(status: int, message: str, errors: dict | None = None, *, code: str | None = None,
                   headers=None):
    """The error envelope (see coop.api.envelope); `code` defaults to the one of the HTTP status."""
    body = {"status": status, "code": code or http_code(status), "message": message}
    if errors:
        body["errors"] = _string_keys(errors)
    resp = jsonify(body)
    resp.status_code = status
    for name, value in headers or ():
        resp.headers[name] = value
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
    from coop.services.users import user_for_token

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
    code = "unauthorized"


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
    from coop.core.errors import Forbidden

    if not is_api_request() or request.endpoint is None or request.endpoint.startswith("api-docs."):
        return
    if getattr(current_app.view_functions.get(request.endpoint), "coop_public", False):
        return  # e.g. verifying a published sheet's digest: anyone may
    user = current_api_user()
    org_id = (request.view_args or {}).get("org_id")
    if org_id is None:
        return
    org = api_org(org_id, None)
    needed = getattr(current_app.view_functions.get(request.endpoint), "coop_permission", None)
    if needed and not access.can(user, needed[0], org):
        raise Forbidden(needed[1] or "您没有执行此操作的权限")


def api_org(org_id: int, permission: str | None = access.READ_LEDGER):
    """The organization named in the URL, resolved once per request (first by `authenticate_api_request`): 404 if
    it does not exist or the caller is not assigned to it, 403 without `permission`."""
    # per request, not in `g`: an app context may outlive one request (tests push one around many)
    org = request.environ.get("coop.api_org")
    if org is None or org.id != org_id:
        org = access.get_org(current_api_user(), org_id, permission=None)
        request.environ["coop.api_org"] = org
    if permission:
        access.require(current_api_user(), permission, org)
    return org


def handle_http_exception(exc: HTTPException):
    """Errors raised by Flask, werkzeug (routing, 405, 413) and webargs (422 with field paths) as the envelope,
    keeping their headers (Allow on a 405, Retry-After…)."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    headers += list((data.get("headers") or {}).items())
    messages = data.get("messages") or data.get("errors")
    # werkzeug's stock English text (a routing 404, a 405) is replaced; a description given on purpose is kept
    own = exc.description if exc.description and exc.description != type(exc).description else None
    if status >= 500:
        # never show a traceback or an exception's text to the caller; the log has it
        return error_response(status, default_message(status), headers=headers)
    if messages and isinstance(messages, dict):
        # webargs nests errors by location ("json", "query"); the location is not part of the field path, and a
        # list directly under it (e.g. "Invalid JSON body.") is about the whole body
        errors: dict = {}
        for loc_errors in messages.values():
            if isinstance(loc_errors, dict):
                errors.update(loc_errors)
            elif isinstance(loc_errors, list):
                errors.setdefault("_schema", []).extend(_WEBARGS_TEXT.get(str(m), str(m)) for m in loc_errors)
        first = _first_message(errors) or own or default_message(status)
        return error_response(status, first, errors, headers=headers)
    return error_response(status, data.get("message") or own or default_message(status), headers=headers)


_WEBARGS_TEXT = {"Invalid JSON body.": "请求内容不是有效的 JSON"}


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


def idempotent_api(view):
    """For API views: honour the Idempotency-Key header (put it directly under @blp.route)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.method != "POST":
            return view(*args, **kwargs)
        return run_once(current_api_user().id, request.headers.get(HEADER), view, args, kwargs)

    # document the header on the operation (flask-smorest merges "manual_doc" into it)
    wrapper._apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    manual = wrapper._apidoc.setdefault("manual_doc", {})
    manual["parameters"] = list(manual.get("parameters", [])) + [HEADER_PARAMETER]
    return wrapper
