"""The one error envelope of the API, and the flask-smorest `Api` that documents it.

Every 4xx/5xx answer under /api/v1 is {"status": 422, "code": "validation_failed", "message": "…",
"errors": {"lines": {"1": {"debit": ["…"]}}}}: `status` repeats the HTTP status, `code` is a stable machine
code (from the CoopError class, or from the HTTP status for errors raised by Flask/werkzeug/webargs), `message` a
sentence for people, `errors` the messages by field path (left out when there are none).

This module imports nothing from the app; `api` below is bound to it in `create_app`.
"""
from __future__ import annotations

import http

from flask_smorest import Api
from marshmallow import Schema, fields

from coop.core.errors import CoopError

#: codes for errors that do not come from a CoopError (routing, webargs, request size, crashes…)
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "validation_failed",
               429: "too_many_requests", 500: "server_error"}


#: for werkzeug's own English descriptions (routing, 405, 413…), which would otherwise reach the caller
_MESSAGES = {400: "请求无效", 401: "需要有效的 API 令牌（Authorization: Bearer …）", 403: "您没有执行此操作的权限",
             404: "找不到该地址", 405: "该地址不支持此请求方法", 406: "无法提供所要求的内容类型",
             413: "请求内容太大", 415: "不支持的请求内容类型", 429: "请求太频繁，请稍后再试"}


def default_message(status: int) -> str:
    return _MESSAGES.get(status, "请求无效" if status < 500 else "系统错误，请稍后再试")


def http_code(status: int) -> str:
    """The machine code for an HTTP status: ours where named, else the reason phrase in snake case
    (415 → "unsupported_media_type"); an unknown status falls back to its class."""
    if status in _HTTP_CODES:
        return _HTTP_CODES[status]
    try:
        return http.HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_").replace("'", "")
    except ValueError:
        return "server_error" if status >= 500 else "bad_request"


def _all_codes() -> list[str]:
    codes = {http_code(s.value) for s in http.HTTPStatus if s.value >= 400}
    stack = [CoopError]
    while stack:
        cls = stack.pop()
        codes.add(cls.code)
        stack.extend(cls.__subclasses__())
    # codes of CoopError subclasses defined later (none today) would still be sent; the enum is documentation
    return sorted(codes | {"unauthorized", "period_closed", "voucher_posted", "invalid_state"})


class ErrorSchema(Schema):
    """Documentation only (the body is built in coop.api.error_response); registered as the `Error` schema."""

    status = fields.Integer(required=True, metadata={"description": "the HTTP status, repeated", "example": 422})
    code = fields.String(required=True, metadata={
        "description": "machine-readable: validation_failed, not_found, forbidden, unauthorized, period_closed, "
                       "voucher_posted, invalid_state, conflict, method_not_allowed, bad_request, too_large, "
                       "server_error…",
        "enum": _all_codes(), "example": "validation_failed"})
    message = fields.String(required=True, metadata={"description": "for people (Chinese)", "example": "借贷不平衡"})
    errors = fields.Dict(keys=fields.String(), metadata={
        "description": "messages by field path, nested like the request body; list indexes are strings "
                       "(\"lines\" → \"1\" → \"debit\"); \"_schema\" holds messages about the whole object",
        "example": {"lines": {"1": {"debit": ["金额必须是文本，例如 \"1234.50\""]}}}})


class CoopApi(Api):
    """flask-smorest documents ERROR_SCHEMA as the `default` response of every operation (and as its 422)."""

    ERROR_SCHEMA = ErrorSchema


api = CoopApi()  # the one flask-smorest Api; documents the error envelope above
